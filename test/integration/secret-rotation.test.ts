import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRotationActivities } from '../../activities/rotation/rotation-activities';
import { runSimSeed } from '../../cli/commands/sim-seed';
import { secretLiveRecordPath, secretVaultPath, type FleetAccount } from '../../fleet';
import { loadFleetFile } from '../../fleet/load-fleet';
import type { FleetCampaignInput } from '../../workflows/campaign/campaign-input';
import type { CampaignReport } from '../../workflows/campaign/fleet-campaign';
import type { AccountOperationResult } from '../../workflows/operation/account-operation';
import { rotationToken } from '../../workflows/rotation/uuid-v5';
import { FLEET_STATE } from '../../workflows/search-attributes';
import { accountCredentials, setHealthAlarm, vaultEntry, vaultValueVersions } from '../support/account-access';
import { cleanUp } from '../support/cleanup';
import { accountResult, runRotationCampaign } from '../support/rotation-campaigns';
import { alarmDuringBake } from '../support/alarm-during-bake';
import { allWorkflowHistories, decodedHistoryText, secretsIn } from '../support/history-scan';
import { startTestWorker, testClient, testStack } from '../support/test-stack';

// Rotation of `collector-api-key` (kind secretsmanager) on the real local stack: Temporal dev server,
// moto behind the AWS proxy, OpenBao. No assertion here could print a value: hashes and booleans only.
const cfg = testStack();
const TASK_QUEUE = 'secret-rotation-test';
const ID_BASE = 975_000_000_000;
const SECRET = 'collector-api-key';
const SECRET_ID = 'data-pipeline/collector-api-key';
const REGION = 'eu-west-1';
const RUN = `rot-${Date.now()}`;
const sha256 = (text: unknown) => createHash('sha256').update(String(text), 'utf8').digest('hex');

let fleetFile: string;
let accounts: FleetAccount[];
let worker: Awaited<ReturnType<typeof startTestWorker>>;
let temporal: Awaited<ReturnType<typeof testClient>>;

beforeAll(async () => {
  ({ file: fleetFile } = await runSimSeed({
    accounts: 6,
    idBase: ID_BASE,
    out: path.join(cfg.stateDir, 'secret-rotation-fleet.yaml'),
    quiet: true,
  }));
  accounts = loadFleetFile(fleetFile);
  worker = await startTestWorker(TASK_QUEUE);
  temporal = await testClient(cfg);
}, 120_000);

afterAll(() =>
  cleanUp({
    alarm: () => setHealthAlarm(cfg, accounts[2], REGION, 'OK', 'set by the rotation test'),
    worker: () => worker?.stop(),
    temporal: () => temporal?.close(),
  }),
);

/** A Secrets Manager client acting in the account (through the AWS proxy). */
async function secretsManagerOf(account: FleetAccount): Promise<SecretsManagerClient> {
  return new SecretsManagerClient({
    endpoint: cfg.awsEndpoint,
    region: REGION,
    credentials: await accountCredentials(cfg, account, 'rotation-test'),
  });
}

/** What AWS holds for the account's secret: the version ids per stage, hashes of AWSCURRENT and AWSPREVIOUS, every version id. */
async function awsSecret(account: FleetAccount) {
  const sm = await secretsManagerOf(account);
  const described = await sm.send(new DescribeSecretCommand({ SecretId: SECRET_ID }));
  const stages = described.VersionIdsToStages ?? {};
  const holder = (stage: string) => Object.keys(stages).find((id) => stages[id].includes(stage));
  const hashOf = async (stage: string) => {
    const out = await sm.send(new GetSecretValueCommand({ SecretId: SECRET_ID, VersionStage: stage }));
    return sha256(out.SecretString);
  };
  const listed = await sm.send(new ListSecretVersionIdsCommand({ SecretId: SECRET_ID, IncludeDeprecated: true }));
  const allIds = (listed.Versions ?? []).map((v) => v.VersionId!);
  return {
    current: holder('AWSCURRENT'),
    previous: holder('AWSPREVIOUS'),
    pending: holder('AWSPENDING'),
    currentHash: await hashOf('AWSCURRENT'),
    previousHash: holder('AWSPREVIOUS') ? await hashOf('AWSPREVIOUS') : undefined,
    versionCount: new Set([...allIds, ...Object.keys(stages)]).size,
  };
}

function rotationCampaign(campaignId: string, input: Partial<FleetCampaignInput> = {}): Promise<CampaignReport> {
  const run = {
    client: temporal.client,
    taskQueue: TASK_QUEUE,
    fleetFile,
    secret: SECRET,
    maxInFlight: 6,
    maxFailures: 5,
  };
  return runRotationCampaign(run, campaignId, input);
}

function childResult(campaignId: string, accountId: string): Promise<AccountOperationResult> {
  return accountResult(temporal.client, campaignId, accountId);
}

type Snapshot = Awaited<ReturnType<typeof awsSecret>>;
const before: Record<string, Snapshot> = {};

describe('rotate-secret (kind secretsmanager) on the local stack', () => {
  it('plan mode reports every account without writing anything', { timeout: 120_000 }, async () => {
    for (const a of accounts) before[a.id] = await awsSecret(a);
    const report = await rotationCampaign(`${RUN}-plan`, { plan: true });
    expect(report.phase).toBe('completed');
    expect(report.counts).toEqual({ planned: 6 });
    const line = (await childResult(`${RUN}-plan`, accounts[0].id)).regions[0];
    expect(line.region).toBe(REGION);
    expect(line.reason).toContain(`${SECRET} (${SECRET_ID}): live Vault v1`);
    expect(line.reason).toContain(`${before[accounts[0].id].current}[AWSCURRENT]`);
    expect(line.reason).toContain('due: would run create');
    for (const a of accounts) expect(await awsSecret(a)).toEqual(before[a.id]);
  });

  it(
    'rotates every account: AWSCURRENT = Vault latest, AWSPREVIOUS = the old value, live record updated',
    { timeout: 180_000 },
    async () => {
      const campaignId = `${RUN}-1`;
      const report = await rotationCampaign(campaignId);
      expect(report.phase).toBe('completed');
      expect(report.problems).toEqual([]);
      expect(report.counts).toEqual({ rotated: 6 });
      for (const a of accounts) {
        const token = rotationToken(campaignId, a.id, SECRET, 1);
        const now = await awsSecret(a);
        const vault = await vaultEntry(cfg, secretVaultPath(a.id, SECRET));
        const live = await vaultEntry(cfg, secretLiveRecordPath(a.id, SECRET));
        expect(now.current).toBe(token);
        expect(now.pending).toBeUndefined();
        expect(now.currentHash === sha256(vault.data.value), 'AWSCURRENT equals Vault latest').toBe(true);
        expect(now.previous).toBe(before[a.id].current);
        expect(now.previousHash === before[a.id].currentHash, 'AWSPREVIOUS holds the old value').toBe(true);
        expect(live.data).toMatchObject({ vaultVersion: vault.version, awsVersionId: token, campaignId });
        expect((await childResult(campaignId, a.id)).outcome).toBe('rotated');
      }
      const child = await temporal.client.workflow.getHandle(`${campaignId}/${accounts[0].id}`).describe();
      expect(child.typedSearchAttributes.get(FLEET_STATE)).toBe('rotated');
    },
  );

  it(
    'a second campaign rotates again (a new version); the same token twice adds one Vault and one AWS version',
    { timeout: 180_000 },
    async () => {
      const first = Object.fromEntries(
        await Promise.all(accounts.map(async (a) => [a.id, await awsSecret(a)] as const)),
      );
      const campaignId = `${RUN}-2`;
      const report = await rotationCampaign(campaignId);
      expect(report.counts).toEqual({ rotated: 6 });
      for (const a of accounts) {
        const now = await awsSecret(a);
        expect(now.current).toBe(rotationToken(campaignId, a.id, SECRET, 1));
        expect(now.previous).toBe(first[a.id].current);
        expect(now.currentHash === first[a.id].currentHash).toBe(false);
      }

      // The activities called directly, each step twice: one new Vault version, one new AWS version.
      const acts = createRotationActivities(worker.fleet.shared);
      const a = accounts[1];
      const target = { fleetFile, accountId: a.id, secret: SECRET, campaignId: `${RUN}-direct` };
      const step = { ...target, token: rotationToken(target.campaignId, a.id, SECRET, 1) };
      const vaultBefore = (await vaultEntry(cfg, secretVaultPath(a.id, SECRET))).version;
      const awsBefore = (await awsSecret(a)).versionCount;
      expect((await acts.rotationPreflight(step)).status).toBe('due');
      const c1 = await acts.rotationCreatePending(step);
      const c2 = await acts.rotationCreatePending(step);
      expect(c1).toMatchObject({ vaultReused: false, awsReused: false, vaultVersion: vaultBefore + 1 });
      expect(c2).toMatchObject({ vaultReused: true, awsReused: true, vaultVersion: vaultBefore + 1 });
      expect(await acts.rotationTestPending({ ...step, vaultVersion: c1.vaultVersion })).toEqual({
        matches: true,
        found: true,
      });
      const f1 = await acts.rotationFinish({ ...step, vaultVersion: c1.vaultVersion });
      const f2 = await acts.rotationFinish({ ...step, vaultVersion: c1.vaultVersion });
      expect(f1.moved).toBe(true);
      expect(f2).toEqual({ moved: false, previousVersionId: f1.previousVersionId });
      expect((await vaultEntry(cfg, secretVaultPath(a.id, SECRET))).version).toBe(vaultBefore + 1);
      const after = await awsSecret(a);
      expect(after.versionCount).toBe(awsBefore + 1);
      expect(after.current).toBe(step.token);
      expect((await acts.rotationPreflight(step)).status).toBe('already-current');
    },
  );

  it(
    'a health alarm after the rotation rolls that account back: AWSCURRENT on the old version again',
    { timeout: 180_000 },
    async () => {
      const poisoned = accounts[2];
      const old = await awsSecret(poisoned);
      const liveBefore = await vaultEntry(cfg, secretLiveRecordPath(poisoned.id, SECRET));
      const campaignId = `${RUN}-3`;
      // the alarm fires in the bake, after the rotation (already in ALARM before, it would be left alone)
      const [report] = await Promise.all([
        rotationCampaign(campaignId, { rotation: { secret: SECRET, healthBakeSeconds: 8, healthPollSeconds: 1 } }),
        alarmDuringBake(temporal.client, `${campaignId}/${poisoned.id}`, () =>
          setHealthAlarm(cfg, poisoned, REGION, 'ALARM', 'set by the rotation test'),
        ),
      ]);
      await setHealthAlarm(cfg, poisoned, REGION, 'OK', 'set by the rotation test');
      expect(report.counts).toEqual({ rotated: 5, 'rolled-back': 1 });
      const result = await childResult(campaignId, poisoned.id);
      expect(result).toMatchObject({ outcome: 'rolled-back', errorType: 'HealthAlarm' });
      expect(result.runbook).toBe('docs/runbooks/secret-test-failed-rolled-back.md');
      const now = await awsSecret(poisoned);
      expect(now.current).toBe(old.current);
      expect(now.currentHash === old.currentHash, 'the old value is current again').toBe(true);
      expect(now.previous).toBe(rotationToken(campaignId, poisoned.id, SECRET, 1));
      expect(now.pending).toBeUndefined();
      const liveAfter = await vaultEntry(cfg, secretLiveRecordPath(poisoned.id, SECRET));
      expect(liveAfter.data).toEqual(liveBefore.data);
    },
  );

  it(
    'skips accounts not due (of every kind), and secrets an account does not have; nothing written',
    { timeout: 120_000 },
    async () => {
      const snapshot = await Promise.all(accounts.map((a) => awsSecret(a)));
      const notDue = await rotationCampaign(`${RUN}-not-due`, {
        rotation: { secret: SECRET, olderThanDays: 30, healthBakeSeconds: 0 },
      });
      expect(notDue.counts).toEqual({ skipped: 6 });
      expect((await childResult(`${RUN}-not-due`, accounts[0].id)).reason).toMatch(
        /^not due: rotated 0 d ago .*younger than 30 d$/,
      );
      const externalIdRefs = await Promise.all(accounts.map((a) => vaultEntry(cfg, a.externalIdRef)));
      const otherKind = await rotationCampaign(`${RUN}-other-kind`, {
        rotation: { secret: 'external-id', olderThanDays: 30, healthBakeSeconds: 0 },
      });
      expect(otherKind.counts).toEqual({ skipped: 6 });
      expect((await childResult(`${RUN}-other-kind`, accounts[0].id)).reason).toMatch(
        /^not due: rotated 0 d ago .*younger than 30 d$/,
      );
      const unknown = await rotationCampaign(`${RUN}-unknown`, {
        rotation: { secret: 'no-such-secret', healthBakeSeconds: 0 },
      });
      expect(unknown.counts).toEqual({ skipped: 6 });
      expect((await childResult(`${RUN}-unknown`, accounts[0].id)).reason).toBe(
        `the fleet file gives account ${accounts[0].id} no secret no-such-secret`,
      );
      const refsAfter = await Promise.all(accounts.map((a) => vaultEntry(cfg, a.externalIdRef)));
      expect(refsAfter.map((e) => e.version)).toEqual(externalIdRefs.map((e) => e.version));
      expect(await Promise.all(accounts.map((a) => awsSecret(a)))).toEqual(snapshot);
    },
  );

  it(
    "someone else's AWSPENDING quarantines the account with its runbook, before anything is written",
    { timeout: 120_000 },
    async () => {
      const a = accounts[4];
      const sm = await secretsManagerOf(a);
      const foreign = 'someone-elses-rotation-0000000000000001';
      await sm.send(
        new PutSecretValueCommand({
          SecretId: SECRET_ID,
          SecretString: 'not-from-fleetops',
          ClientRequestToken: foreign,
          VersionStages: ['AWSPENDING'],
        }),
      );
      const vaultBefore = (await vaultEntry(cfg, secretVaultPath(a.id, SECRET))).version;
      const awsBefore = await awsSecret(a);
      try {
        const campaignId = `${RUN}-left-behind`;
        const report = await rotationCampaign(campaignId, { select: { ids: [a.id] } });
        expect(report.counts).toEqual({ quarantined: 1 });
        const result = await childResult(campaignId, a.id);
        expect(result).toMatchObject({
          outcome: 'quarantined',
          errorType: 'SecretPendingLeftBehind',
          runbook: 'docs/runbooks/secret-awspending-left-behind.md',
        });
        expect(result.reason).toContain(`AWSPENDING is on version ${foreign}`);
        expect((await vaultEntry(cfg, secretVaultPath(a.id, SECRET))).version).toBe(vaultBefore);
        expect(await awsSecret(a)).toEqual(awsBefore);
      } finally {
        await sm.send(
          new UpdateSecretVersionStageCommand({
            SecretId: SECRET_ID,
            VersionStage: 'AWSPENDING',
            RemoveFromVersionId: foreign,
          }),
        );
      }
    },
  );

  it(
    'a failed test rolls back: AWSPENDING removed, AWSCURRENT untouched (activities called directly)',
    { timeout: 60_000 },
    async () => {
      const acts = createRotationActivities(worker.fleet.shared);
      const a = accounts[5];
      const campaignId = `${RUN}-test-fails`;
      const step = {
        fleetFile,
        accountId: a.id,
        secret: SECRET,
        campaignId,
        token: rotationToken(campaignId, a.id, SECRET, 1),
      };
      const old = await awsSecret(a);
      const created = await acts.rotationCreatePending(step);
      expect((await awsSecret(a)).pending).toBe(step.token);
      // compared against another Vault version than the one written: the hashes differ
      expect(await acts.rotationTestPending({ ...step, vaultVersion: created.vaultVersion - 1 })).toEqual({
        matches: false,
        found: true,
      });
      expect(await acts.rotationRollBack(step)).toEqual({ restoredCurrent: false });
      const after = await awsSecret(a);
      expect(after.pending).toBeUndefined();
      expect(after.current).toBe(old.current);
      expect(after.currentHash === old.currentHash).toBe(true);
    },
  );

  it('rotates with an AppRole login under docs/vault-policy.hcl (least privilege)', { timeout: 120_000 }, async () => {
    const asRoot = async (method: string, apiPath: string, body?: unknown) => {
      const res = await fetch(`${cfg.vaultAddr}/v1/${apiPath}`, {
        method,
        headers: { 'X-Vault-Token': cfg.vaultDevToken, 'Content-Type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      if (!res.ok) throw new Error(`root ${method} ${apiPath}: HTTP ${res.status}`);
      return text ? (JSON.parse(text) as { data?: Record<string, unknown> }) : {};
    };
    const auths = await asRoot('GET', 'sys/auth');
    if (!auths.data?.['approle/']) await asRoot('POST', 'sys/auth/approle', { type: 'approle' });
    await asRoot('PUT', 'sys/policies/acl/fleetops-rotation-test', {
      policy: fs.readFileSync(path.resolve(__dirname, '../../docs/vault-policy.hcl'), 'utf8'),
    });
    await asRoot('POST', 'auth/approle/role/fleetops-rotation-test', {
      token_policies: ['fleetops-rotation-test'],
      token_no_default_policy: true,
    });
    const roleId = String((await asRoot('GET', 'auth/approle/role/fleetops-rotation-test/role-id')).data?.role_id);
    const secretId = String(
      (await asRoot('POST', 'auth/approle/role/fleetops-rotation-test/secret-id')).data?.secret_id,
    );
    const appRoleWorker = await startTestWorker(`${TASK_QUEUE}-approle`, {
      VAULT_TOKEN: '',
      VAULT_ROLE_ID: roleId,
      VAULT_SECRET_ID: secretId,
    });
    try {
      const a = accounts[0];
      const campaignId = `${RUN}-approle`;
      const report = (await temporal.client.workflow.execute('fleetCampaign', {
        taskQueue: `${TASK_QUEUE}-approle`,
        workflowId: campaignId,
        args: [
          {
            operation: 'rotate-secret',
            fleetFile,
            select: { ids: [a.id] },
            rotation: { secret: SECRET, healthBakeSeconds: 0 },
          } as unknown as FleetCampaignInput,
        ],
      })) as CampaignReport;
      expect(report.problems).toEqual([]);
      expect(report.counts).toEqual({ rotated: 1 });
      const now = await awsSecret(a);
      expect(now.current).toBe(rotationToken(campaignId, a.id, SECRET, 1));
      expect(now.currentHash === sha256((await vaultEntry(cfg, secretVaultPath(a.id, SECRET))).data.value)).toBe(true);
      expect(appRoleWorker.logLines.join('\n')).not.toContain(secretId);
    } finally {
      await appRoleWorker.stop();
    }
  });

  it('no value appears in any history of these workflows or in the worker log', { timeout: 120_000 }, async () => {
    const values: string[] = [];
    for (const a of accounts) values.push(...(await vaultValueVersions(cfg, secretVaultPath(a.id, SECRET))));
    expect(values.length).toBeGreaterThanOrEqual(accounts.length * 4);
    const histories = await allWorkflowHistories(temporal.client, `WorkflowId STARTS_WITH '${RUN}'`);
    expect(histories.length).toBeGreaterThanOrEqual(4 * (accounts.length + 1));
    const leaks = histories.flatMap((h) =>
      secretsIn(decodedHistoryText(h.json), values).map((w) => `${h.workflowId}: ${w}`),
    );
    expect(leaks).toEqual([]);
    expect(secretsIn(worker.logLines.join('\n'), values)).toEqual([]);
  });
});
