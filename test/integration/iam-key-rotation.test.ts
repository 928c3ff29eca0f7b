import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { CreateAccessKeyCommand, IAMClient, ListAccessKeysCommand } from '@aws-sdk/client-iam';
import { DescribeSecretCommand, GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { createRotationActivities, type IamKeyCreated } from '../../activities/rotation/rotation-activities';
import { runSimSeed } from '../../cli/commands/sim-seed';
import { secretLiveRecordPath, secretVaultPath, type FleetAccount } from '../../fleet';
import { loadFleetFile } from '../../fleet/load-fleet';
import type { FleetCampaignInput } from '../../workflows/campaign/campaign-input';
import type { CampaignReport } from '../../workflows/campaign/fleet-campaign';
import type { AccountOperationResult } from '../../workflows/operation/account-operation';
import { secretKeyCleanupId, type SecretKeyCleanupResult } from '../../workflows/rotation/secret-key-cleanup';
import { rotationToken } from '../../workflows/rotation/uuid-v5';
import { accountCredentials, setHealthAlarm, vaultEntry } from '../support/account-access';
import { cleanUp } from '../support/cleanup';
import { accountResult, runRotationCampaign } from '../support/rotation-campaigns';
import { alarmDuringBake } from '../support/alarm-during-bake';
import { allWorkflowHistories, decodedHistoryText, secretsIn } from '../support/history-scan';
import { setFaultPlan, startTestWorker, testClient, testStack } from '../support/test-stack';

// Rotation of `loader-access-key` (kind iam-access-key) on the local stack: Temporal dev server, moto
// behind the AWS proxy (which refuses inactive keys and, under `iam.newKeyDelayMs`, new ones for a while),
// OpenBao. Assertions compare hashes, key ids and booleans: no key secret can end up in a message.
const cfg = testStack();
const TASK_QUEUE = 'iam-key-rotation-test';
/** Fresh accounts per run (a failed run leaves keys behind on the reused stack). */
const ID_BASE = 976_000_000_000 + (Date.now() % 100_000) * 10;
const SECRET = 'loader-access-key';
const USER = 'data-pipeline-loader';
const DELIVER_TO = 'data-pipeline/loader-credentials';
const REGION = 'eu-west-1';
const RUN = `iamrot-${Date.now()}`;
const sha256 = (text: unknown) => createHash('sha256').update(String(text), 'utf8').digest('hex');
const pairJson = (d: Record<string, unknown>) =>
  JSON.stringify({ accessKeyId: d.accessKeyId, secretAccessKey: d.secretAccessKey });

let fleetFile: string;
let accounts: FleetAccount[];
let worker: Awaited<ReturnType<typeof startTestWorker>>;
let temporal: Awaited<ReturnType<typeof testClient>>;

beforeAll(async () => {
  const { file: seeded } = await runSimSeed({
    accounts: 4,
    idBase: ID_BASE,
    out: path.join(cfg.stateDir, 'iam-key-rotation-seed.yaml'),
    quiet: true,
  });
  // The seeded fleet file, with a short grace and delete time per account.
  const doc = parse(fs.readFileSync(seeded, 'utf8')) as { accounts: Array<Record<string, unknown>> };
  for (const a of doc.accounts) a.secrets = { [SECRET]: { graceSeconds: 2, deleteAfterSeconds: 4 } };
  fleetFile = path.join(cfg.stateDir, 'iam-key-rotation-fleet.yaml');
  fs.writeFileSync(fleetFile, stringify(doc));
  accounts = loadFleetFile(fleetFile);
  await setFaultPlan(cfg, { iam: { newKeyDelayMs: 3000, accounts: accounts.map((a) => a.id) } });
  worker = await startTestWorker(TASK_QUEUE);
  temporal = await testClient(cfg);
}, 120_000);

afterAll(() =>
  cleanUp({
    alarm: () => setHealthAlarm(cfg, accounts[1], REGION, 'OK', 'set by the IAM key rotation test'),
    faults: () => setFaultPlan(cfg, null),
    worker: () => worker?.stop(),
    temporal: () => temporal?.close(),
  }),
);

async function iamOf(account: FleetAccount): Promise<IAMClient> {
  return new IAMClient({
    endpoint: cfg.awsEndpoint,
    region: 'us-east-1',
    credentials: await accountCredentials(cfg, account, 'iam-rotation-test'),
  });
}

/** The user's keys: id → status. */
async function keysOf(account: FleetAccount): Promise<Record<string, string>> {
  const out = await (await iamOf(account)).send(new ListAccessKeysCommand({ UserName: USER }));
  return Object.fromEntries((out.AccessKeyMetadata ?? []).map((k) => [k.AccessKeyId!, k.Status!]));
}

/** SHA-256 of the deliverTo secret's AWSCURRENT (and whether an AWSPENDING label is left). */
async function delivered(account: FleetAccount): Promise<{ currentHash: string; pending: boolean }> {
  const sm = new SecretsManagerClient({
    endpoint: cfg.awsEndpoint,
    region: REGION,
    credentials: await accountCredentials(cfg, account, 'iam-rotation-test'),
  });
  const out = await sm.send(new GetSecretValueCommand({ SecretId: DELIVER_TO, VersionStage: 'AWSCURRENT' }));
  const stages = (await sm.send(new DescribeSecretCommand({ SecretId: DELIVER_TO }))).VersionIdsToStages ?? {};
  return {
    currentHash: sha256(out.SecretString),
    pending: Object.values(stages).some((s) => s.includes('AWSPENDING')),
  };
}

/** GetCallerIdentity signed with the key at Vault `version`: its ARN, or the error's name. */
async function callerWith(account: FleetAccount, version: number): Promise<string> {
  const { data } = await vaultEntry(cfg, secretVaultPath(account.id, SECRET), version);
  const sts = new STSClient({
    endpoint: cfg.awsEndpoint,
    region: 'us-east-1',
    maxAttempts: 1,
    credentials: { accessKeyId: String(data.accessKeyId), secretAccessKey: String(data.secretAccessKey) },
  });
  try {
    return (await sts.send(new GetCallerIdentityCommand({}))).Arn ?? '?';
  } catch (err) {
    return (err as Error).name;
  }
}

function rotationCampaign(campaignId: string, input: Partial<FleetCampaignInput> = {}): Promise<CampaignReport> {
  const run = {
    client: temporal.client,
    taskQueue: TASK_QUEUE,
    fleetFile,
    secret: SECRET,
    maxInFlight: 4,
    maxFailures: 3,
  };
  return runRotationCampaign(run, campaignId, input);
}

function childResult(campaignId: string, accountId: string): Promise<AccountOperationResult> {
  return accountResult(temporal.client, campaignId, accountId);
}

/** Keys the test made itself (ids may appear in histories; their secrets may not). */
const foreignKeyIds: string[] = [];
const foreignSecrets: string[] = [];
function noteForeignKey(out: { AccessKey?: { AccessKeyId?: string; SecretAccessKey?: string } }): void {
  foreignKeyIds.push(out.AccessKey!.AccessKeyId!);
  foreignSecrets.push(out.AccessKey!.SecretAccessKey!);
}

const userArn = (a: FleetAccount) => `arn:aws:iam::${a.id}:user/${USER}`;

describe('rotate-secret (kind iam-access-key) on the local stack', () => {
  it('plan mode reports the keys and what would run, and changes nothing', { timeout: 120_000 }, async () => {
    const keys = await Promise.all(accounts.map((a) => keysOf(a)));
    const campaignId = `${RUN}-plan`;
    const report = await rotationCampaign(campaignId, { plan: true });
    expect(report.counts).toEqual({ planned: 4 });
    const line = (await childResult(campaignId, accounts[0].id)).regions[0];
    const [keyId] = Object.keys(keys[0]);
    expect(line.reason).toContain(`${SECRET} (${DELIVER_TO}): live Vault v1`);
    expect(line.reason).toContain(`keys ${keyId}[Active,live]`);
    expect(line.reason).toContain('due: would run create key');
    expect(await Promise.all(accounts.map((a) => keysOf(a)))).toEqual(keys);
  });

  it(
    'rotates every account: new key in Vault, delivered, working; old key deactivated after the grace, deleted later',
    { timeout: 180_000 },
    async () => {
      const before: Record<string, { vault: number; keyId: string; hash: string }> = {};
      for (const a of accounts) {
        const v = await vaultEntry(cfg, secretVaultPath(a.id, SECRET));
        before[a.id] = { vault: v.version, keyId: String(v.data.accessKeyId), hash: sha256(pairJson(v.data)) };
        expect(Object.keys(await keysOf(a))).toEqual([before[a.id].keyId]);
        expect((await delivered(a)).currentHash === before[a.id].hash).toBe(true);
      }
      const campaignId = `${RUN}-1`;
      const report = await rotationCampaign(campaignId);
      expect(report.problems).toEqual([]);
      expect(report.counts).toEqual({ rotated: 4 });

      // Watch the old keys while the cleanups run: at most two keys, inactive before gone.
      const seenInactive = new Set<string>();
      const cleanups = accounts.map((a) =>
        temporal.client.workflow
          .getHandle<() => Promise<SecretKeyCleanupResult>>(secretKeyCleanupId(campaignId, a.id, before[a.id].keyId))
          .result(),
      );
      let settled = false;
      const all = Promise.all(cleanups).finally(() => (settled = true));
      for (const a of accounts) {
        const token = rotationToken(campaignId, a.id, SECRET, 1);
        const vault = await vaultEntry(cfg, secretVaultPath(a.id, SECRET));
        const live = await vaultEntry(cfg, secretLiveRecordPath(a.id, SECRET));
        expect(vault.version).toBe(before[a.id].vault + 1);
        expect(vault.data.rotationToken).toBe(token);
        expect(vault.data.accessKeyId).not.toBe(before[a.id].keyId);
        expect(live.data).toMatchObject({
          kind: 'iam-access-key',
          vaultVersion: vault.version,
          accessKeyId: vault.data.accessKeyId,
          awsVersionId: token,
          campaignId,
        });
        const now = await delivered(a);
        expect(now.currentHash === sha256(pairJson(vault.data)), 'deliverTo AWSCURRENT = the new pair').toBe(true);
        expect(now.pending).toBe(false);
        expect(await callerWith(a, vault.version)).toBe(userArn(a));
        expect((await childResult(campaignId, a.id)).outcome).toBe('rotated');
      }
      while (!settled) {
        for (const a of accounts) {
          const keys = await keysOf(a);
          expect(Object.keys(keys).length).toBeLessThanOrEqual(2);
          if (keys[before[a.id].keyId] === 'Inactive') seenInactive.add(a.id);
        }
        await new Promise((r) => setTimeout(r, 200));
      }
      const results = await all;
      for (const [i, a] of accounts.entries()) {
        expect(results[i]).toEqual({ accessKeyId: before[a.id].keyId, deactivate: 'deactivated', delete: 'deleted' });
        const vault = await vaultEntry(cfg, secretVaultPath(a.id, SECRET));
        expect(await keysOf(a)).toEqual({ [String(vault.data.accessKeyId)]: 'Active' });
        expect(await callerWith(a, before[a.id].vault)).toBe('InvalidClientTokenId'); // the old key is gone
      }
      expect(seenInactive.size, 'old keys seen inactive before deletion').toBeGreaterThan(0);

      // iam.newKeyDelayMs: 3000 made the test step wait for the new key.
      const [child] = await allWorkflowHistories(temporal.client, `WorkflowId = '${campaignId}/${accounts[0].id}'`);
      const waited = /"waitedMs":(\d+)/.exec(decodedHistoryText(child.json));
      expect(Number(waited?.[1])).toBeGreaterThanOrEqual(2000);
    },
  );

  it(
    'a health alarm rolls the account back: old pair delivered and live, new key inactive, old key active',
    { timeout: 120_000 },
    async () => {
      const a = accounts[1];
      const live = await vaultEntry(cfg, secretLiveRecordPath(a.id, SECRET));
      const oldKey = String(live.data.accessKeyId);
      const oldHash = (await delivered(a)).currentHash;
      try {
        const campaignId = `${RUN}-alarm`;
        // the alarm fires in the bake, after the rotation (already in ALARM before, it would be left alone)
        const [report] = await Promise.all([
          rotationCampaign(campaignId, {
            select: { ids: [a.id] },
            rotation: { secret: SECRET, healthBakeSeconds: 8, healthPollSeconds: 1 },
          }),
          alarmDuringBake(temporal.client, `${campaignId}/${a.id}`, () =>
            setHealthAlarm(cfg, a, REGION, 'ALARM', 'set by the IAM key rotation test'),
          ),
        ]);
        expect(report.counts).toEqual({ 'rolled-back': 1 });
        const result = await childResult(campaignId, a.id);
        expect(result.errorType).toBe('HealthAlarm');
        const vault = await vaultEntry(cfg, secretVaultPath(a.id, SECRET));
        const newKey = String(vault.data.accessKeyId);
        expect(newKey).not.toBe(oldKey);
        expect(await keysOf(a)).toEqual({ [oldKey]: 'Active', [newKey]: 'Inactive' });
        expect((await delivered(a)).currentHash === oldHash, 'deliverTo AWSCURRENT back on the old pair').toBe(true);
        expect((await vaultEntry(cfg, secretLiveRecordPath(a.id, SECRET))).data).toMatchObject({ accessKeyId: oldKey });
        expect(await callerWith(a, vault.version)).toBe('InvalidClientTokenId');
        expect(await callerWith(a, live.data.vaultVersion as number)).toBe(userArn(a));
      } finally {
        await setHealthAlarm(cfg, a, REGION, 'OK', 'set by the IAM key rotation test');
      }
    },
  );

  it(
    'create twice with one token makes one key; a key left by a crashed attempt is deleted, not orphaned',
    { timeout: 120_000 },
    async () => {
      const a = accounts[2];
      const acts = createRotationActivities(worker.fleet.shared);
      const step = { fleetFile, accountId: a.id, campaignId: `${RUN}-twice`, secret: SECRET };
      const token = rotationToken(step.campaignId, a.id, SECRET, 1);
      const where = { ...step, token };
      const liveKey = Object.keys(await keysOf(a))[0];
      const versionBefore = (await vaultEntry(cfg, secretVaultPath(a.id, SECRET))).version;
      const startedAt = Date.now();
      // A crashed first attempt: the key was created, Vault never heard of it.
      noteForeignKey(await (await iamOf(a)).send(new CreateAccessKeyCommand({ UserName: USER })));
      expect(Object.keys(await keysOf(a))).toHaveLength(2);
      const env = new MockActivityEnvironment({ scheduledTimestampMs: startedAt - 500, attempt: 2 });
      const first = (await env.run(acts.iamKeyCreate, where)) as IamKeyCreated;
      const second = (await env.run(acts.iamKeyCreate, where)) as IamKeyCreated;
      expect(first.deletedKeyIds).toHaveLength(1);
      expect(first.keyReused).toBe(false);
      expect(second).toMatchObject({
        keyReused: true,
        awsReused: true,
        accessKeyId: first.accessKeyId,
        deletedKeyIds: [],
      });
      expect(first.vaultVersion).toBe(versionBefore + 1);
      expect(second.vaultVersion).toBe(first.vaultVersion);
      expect(await keysOf(a)).toEqual({ [liveKey]: 'Active', [first.accessKeyId]: 'Active' });
      await env.run(acts.iamKeyRollBack, { ...where, vaultVersion: first.vaultVersion });
      expect(await keysOf(a)).toEqual({ [liveKey]: 'Active', [first.accessKeyId]: 'Inactive' });
      expect((await delivered(a)).pending).toBe(false);
    },
  );

  it(
    'two active keys that are not ours quarantine the account with the two-key runbook',
    { timeout: 120_000 },
    async () => {
      const a = accounts[3];
      await (await iamOf(a)).send(new CreateAccessKeyCommand({ UserName: USER }));
      const keys = await keysOf(a);
      const campaignId = `${RUN}-two-keys`;
      const report = await rotationCampaign(campaignId, { select: { ids: [a.id] } });
      expect(report.counts).toEqual({ quarantined: 1 });
      const result = await childResult(campaignId, a.id);
      expect(result).toMatchObject({ errorType: 'IamTwoKeyLimit', runbook: 'docs/runbooks/iam-two-key-limit.md' });
      expect(await keysOf(a)).toEqual(keys);
    },
  );

  it('no key secret appears in any history of these workflows or in the worker log', { timeout: 120_000 }, async () => {
    const secrets: string[] = [];
    const keyIds: string[] = [];
    for (const a of accounts) {
      const latest = await vaultEntry(cfg, secretVaultPath(a.id, SECRET));
      for (let v = 1; v <= latest.version; v++) {
        const { data } = await vaultEntry(cfg, secretVaultPath(a.id, SECRET), v);
        if (typeof data.secretAccessKey === 'string') secrets.push(data.secretAccessKey);
        if (typeof data.accessKeyId === 'string') keyIds.push(data.accessKeyId);
      }
    }
    // Keys made outside fleetops in these tests (the "crashed attempt" and the foreign second key) by id.
    for (const a of accounts) keyIds.push(...Object.keys(await keysOf(a)));
    keyIds.push(...foreignKeyIds);
    secrets.push(...foreignSecrets);
    expect(secrets.length).toBeGreaterThanOrEqual(accounts.length * 2);
    const histories = await allWorkflowHistories(temporal.client, `WorkflowId STARTS_WITH '${RUN}'`);
    expect(histories.length).toBeGreaterThanOrEqual(2 * accounts.length + 1);
    const leaks = histories.flatMap((h) =>
      secretsIn(decodedHistoryText(h.json), secrets, keyIds).map((w) => `${h.workflowId}: ${w}`),
    );
    expect(leaks).toEqual([]);
    expect(secretsIn(worker.logLines.join('\n'), secrets, keyIds)).toEqual([]);
  });
});
