import fs from 'node:fs';
import path from 'node:path';
import { GetRoleCommand, IAMClient, UpdateAssumeRolePolicyCommand } from '@aws-sdk/client-iam';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { createRotationActivities } from '../../activities/rotation/rotation-activities';
import { TrustPolicyExternalIds } from '../../activities/rotation/trust-policy-external-ids';
import { runSimSeed } from '../../cli/commands/sim-seed';
import { kvWrite } from '../../cli/sim/vault-kv';
import { secretLiveRecordPath, type FleetAccount } from '../../fleet';
import { ErrorType } from '../../fleet/error-types';
import { loadFleetFile } from '../../fleet/load-fleet';
import { externalIdCleanupId } from '../../workflows/rotation/external-id-cleanup';
import { rotationToken } from '../../workflows/rotation/uuid-v5';
import { accountCredentials, setHealthAlarm, vaultEntry } from '../support/account-access';
import { cleanUp } from '../support/cleanup';
import { allWorkflowHistories, decodedHistoryText, secretsIn } from '../support/history-scan';
import { accountResult, runRotationCampaign } from '../support/rotation-campaigns';
import { alarmDuringBake } from '../support/alarm-during-bake';
import { setFaultPlan, startTestWorker, testClient, testStack } from '../support/test-stack';

// Rotation of fleetops' own ExternalId (kind external-id) on the real local stack: the proxy enforces
// each role's actual trust policy on AssumeRole, Vault (OpenBao) holds the ids. Assertions compare ids
// inside the test and print booleans and counts only.
const cfg = testStack();
const TASK_QUEUE = 'external-id-rotation-test';
const ID_BASE = 977_000_000_000 + (Date.now() % 100_000) * 10;
const SECRET = 'external-id';
const REGION = 'eu-west-1';
const GRACE_SECONDS = 25;
const RUN = `xid-${Date.now()}`;

let fleetFile: string;
let accounts: FleetAccount[];
let worker: Awaited<ReturnType<typeof startTestWorker>>;
let temporal: Awaited<ReturnType<typeof testClient>>;

beforeAll(async () => {
  ({ file: fleetFile } = await runSimSeed({
    accounts: 5,
    idBase: ID_BASE,
    out: path.join(cfg.stateDir, `external-id-rotation-${ID_BASE}.yaml`),
    quiet: true,
  }));
  // A short grace, so the test sees the old id removed.
  const doc = YAML.parse(fs.readFileSync(fleetFile, 'utf8'));
  doc.defaults.secrets[SECRET] = { kind: 'external-id', graceSeconds: GRACE_SECONDS };
  fs.writeFileSync(fleetFile, YAML.stringify(doc));
  accounts = loadFleetFile(fleetFile);
  worker = await startTestWorker(TASK_QUEUE);
  temporal = await testClient(cfg);
}, 120_000);

afterAll(() =>
  cleanUp({
    faults: () => setFaultPlan(cfg, null),
    alarm: () => setHealthAlarm(cfg, accounts[4], REGION, 'OK', 'set by the external-id rotation test'),
    worker: () => worker?.stop(),
    temporal: () => temporal?.close(),
  }),
);

/** Whether AssumeRole of the account's role is accepted with `externalId` (fleetops' own identity). */
async function accepted(account: FleetAccount, externalId: string): Promise<boolean> {
  const sts = new STSClient({ endpoint: cfg.awsEndpoint, region: 'us-east-1' });
  try {
    await sts.send(
      new AssumeRoleCommand({ RoleArn: account.roleArn, RoleSessionName: 'xid-test', ExternalId: externalId }),
    );
    return true;
  } catch (err) {
    if ((err as Error).name === 'AccessDenied') return false;
    throw err;
  }
}

async function iamOf(account: FleetAccount): Promise<IAMClient> {
  return new IAMClient({
    endpoint: cfg.awsEndpoint,
    region: 'us-east-1',
    credentials: await accountCredentials(cfg, account),
  });
}

/** The ExternalIds the role's trust policy accepts now. */
async function trustedIds(account: FleetAccount): Promise<string[]> {
  const iam = await iamOf(account);
  const role = await iam.send(new GetRoleCommand({ RoleName: account.roleArn.split('/').pop()! }));
  const doc = decodeURIComponent(role.Role!.AssumeRolePolicyDocument!);
  return new TrustPolicyExternalIds(doc, account.roleArn).accepted();
}

/** Vault's entry at the account's externalIdRef (latest or a version). */
async function idEntry(account: FleetAccount, version?: number) {
  const entry = await vaultEntry(cfg, account.externalIdRef, version);
  return {
    version: entry.version,
    externalId: entry.data.externalId as string,
    pendingExternalId: entry.data.pendingExternalId as string | undefined,
    rotationToken: entry.data.rotationToken as string | undefined,
  };
}

const run = () => ({
  client: temporal.client,
  taskQueue: TASK_QUEUE,
  fleetFile,
  secret: SECRET,
  maxInFlight: 5,
  maxFailures: 2,
});

type Before = { version: number; externalId: string };
const before: Record<string, Before> = {};

describe('rotate-secret (kind external-id) on the local stack', () => {
  it('plan mode reports the trust policy and what would run, and writes nothing', { timeout: 120_000 }, async () => {
    for (const a of accounts) {
      const e = await idEntry(a);
      before[a.id] = { version: e.version, externalId: e.externalId };
    }
    const campaignId = `${RUN}-plan`;
    const report = await runRotationCampaign(run(), campaignId, { plan: true });
    expect(report.counts).toEqual({ planned: 5 });
    const line = (await accountResult(temporal.client, campaignId, accounts[0].id)).regions[0];
    expect(line.region).toBe(REGION);
    expect(line.reason).toContain("trust policy accepts 1 ExternalId(s), Vault's current one among them");
    expect(line.reason).toContain(
      'due: would run create (pending id in Vault), set (trust policy accepts old and new)',
    );
    for (const a of accounts) expect((await idEntry(a)).version).toBe(before[a.id].version);
  });

  it(
    'rotates with no lockout: old and new accepted until the grace ends; a failed test and an alarm roll back',
    { timeout: 240_000 },
    async () => {
      const [, , , untouchable, alarmed] = accounts;
      await setFaultPlan(cfg, { rules: [], iam: { trustPolicyUpdatesIgnoredFor: [untouchable.id] } });
      const campaignId = `${RUN}-1`;
      // the alarm fires in the bake, after the rotation (already in ALARM before, it would be left alone)
      const [report] = await Promise.all([
        runRotationCampaign(run(), campaignId, {
          rotation: { secret: SECRET, healthBakeSeconds: 8, healthPollSeconds: 1 },
        }),
        alarmDuringBake(temporal.client, `${campaignId}/${alarmed.id}`, () =>
          setHealthAlarm(cfg, alarmed, REGION, 'ALARM', 'the external-id rotation test'),
        ),
      ]);
      await setHealthAlarm(cfg, alarmed, REGION, 'OK', 'the external-id rotation test');
      await setFaultPlan(cfg, null);
      expect(report.counts).toEqual({ rotated: 3, 'rolled-back': 2 });

      const rotated = accounts.slice(0, 3);
      for (const a of rotated) {
        const token = rotationToken(campaignId, a.id, SECRET, 1);
        const live = await idEntry(a);
        const pending = await idEntry(a, live.version - 1);
        // pending version: old id still handed out, new id beside it; then the live version: the new id
        expect(pending).toMatchObject({ version: before[a.id].version + 1, rotationToken: token });
        expect(pending.externalId === before[a.id].externalId).toBe(true);
        expect(live.pendingExternalId).toBeUndefined();
        expect(live.rotationToken).toBe(token);
        expect(live.externalId === pending.pendingExternalId).toBe(true);
        expect(live.externalId === before[a.id].externalId).toBe(false);
        expect((await vaultEntry(cfg, secretLiveRecordPath(a.id, SECRET))).data).toMatchObject({
          kind: 'external-id',
          vaultVersion: live.version,
          campaignId,
        });
        // the grace: both ids work
        expect(await accepted(a, live.externalId)).toBe(true);
        expect(await accepted(a, before[a.id].externalId)).toBe(true);
        expect((await trustedIds(a)).length).toBe(2);
      }

      const failedTest = await accountResult(temporal.client, campaignId, untouchable.id);
      expect(failedTest).toMatchObject({ outcome: 'rolled-back', errorType: ErrorType.SecretTestFailed });
      expect(failedTest.reason).toContain('with the new ExternalId is denied, with the old one works');
      const alarm = await accountResult(temporal.client, campaignId, alarmed.id);
      expect(alarm).toMatchObject({ outcome: 'rolled-back', errorType: ErrorType.HealthAlarm });
      expect(alarm.reason).toContain('Vault hands out the old ExternalId again');
      for (const a of [untouchable, alarmed]) {
        const now = await idEntry(a);
        const pending = await idEntry(a, before[a.id].version + 1);
        expect(pending.pendingExternalId).toBeDefined();
        expect(now.externalId === before[a.id].externalId).toBe(true);
        expect(now.pendingExternalId).toBeUndefined();
        expect(await accepted(a, before[a.id].externalId)).toBe(true);
        expect(await accepted(a, pending.pendingExternalId!)).toBe(false);
        const trusted = await trustedIds(a);
        expect(trusted.length === 1 && trusted[0] === before[a.id].externalId).toBe(true);
        expect((await vaultEntry(cfg, secretLiveRecordPath(a.id, SECRET))).data).toMatchObject({ vaultVersion: 1 });
      }
      // the alarmed account's new id was accepted (it was live) before the rollback took it out again
      await expect(
        temporal.client.workflow
          .getHandle(externalIdCleanupId(campaignId, alarmed.id, rotationToken(campaignId, alarmed.id, SECRET, 1)))
          .describe(),
      ).rejects.toThrow(/not found/i);

      // after the grace, each cleanup removes the old id: only the new one works
      for (const a of rotated) {
        const token = rotationToken(campaignId, a.id, SECRET, 1);
        const cleanup = await temporal.client.workflow.getHandle(externalIdCleanupId(campaignId, a.id, token)).result();
        expect(cleanup).toEqual({ action: 'removed' });
        const live = await idEntry(a);
        expect(await accepted(a, before[a.id].externalId)).toBe(false);
        expect(await accepted(a, live.externalId)).toBe(true);
        expect((await trustedIds(a)).length).toBe(1);
      }

      // the worker follows the new ids (its ExternalId cache was refreshed): a plan of every account works
      const plan = await runRotationCampaign(run(), `${RUN}-plan-after`, { plan: true });
      expect(plan.counts).toEqual({ planned: 5 });
    },
  );

  it('each step run twice does its work once; retire runs after it are no-ops', { timeout: 120_000 }, async () => {
    const acts = createRotationActivities(worker.fleet.shared);
    const a = accounts[0];
    const campaignId = `${RUN}-direct`;
    const step = {
      fleetFile,
      accountId: a.id,
      secret: SECRET,
      campaignId,
      token: rotationToken(campaignId, a.id, SECRET, 1),
    };
    const start = await idEntry(a);
    expect((await acts.rotationPreflight(step)).status).toBe('due');
    const c1 = await acts.externalIdCreate(step);
    const c2 = await acts.externalIdCreate(step);
    expect(c1).toEqual({ vaultVersion: start.version + 1, reused: false });
    expect(c2).toEqual({ vaultVersion: start.version + 1, reused: true });
    const at = { ...step, vaultVersion: c1.vaultVersion };
    expect(await acts.externalIdSet(at)).toEqual({ changed: true, acceptedIds: 2 });
    expect(await acts.externalIdSet(at)).toEqual({ changed: false, acceptedIds: 2 });
    expect(await acts.externalIdTest(at)).toEqual({ matches: true, newAccepted: true, oldAccepted: true });
    const f1 = await acts.externalIdFinish(at);
    const f2 = await acts.externalIdFinish(at);
    expect(f1).toEqual({
      liveVersion: start.version + 2,
      previousVersion: start.version + 1,
      graceSeconds: GRACE_SECONDS,
    });
    expect(f2).toEqual(f1);
    expect((await idEntry(a)).version).toBe(start.version + 2);
    expect((await acts.rotationPreflight(step)).status).toBe('already-current');
    expect(await acts.externalIdRetire(at)).toEqual({ action: 'removed' });
    expect(await acts.externalIdRetire(at)).toEqual({ action: 'already-done' });
    expect(await accepted(a, start.externalId)).toBe(false);
    expect(await accepted(a, (await idEntry(a)).externalId)).toBe(true);
  });

  it('refuses what it cannot rotate safely: an unsupported trust policy, a pending id of another rotation', async () => {
    const acts = createRotationActivities(worker.fleet.shared);
    const a = accounts[1];
    const campaignId = `${RUN}-refused`;
    const step = {
      fleetFile,
      accountId: a.id,
      secret: SECRET,
      campaignId,
      token: rotationToken(campaignId, a.id, SECRET, 1),
    };
    const current = await idEntry(a);
    const iam = await iamOf(a);
    const roleName = a.roleArn.split('/').pop()!;
    const original = decodeURIComponent(
      (await iam.send(new GetRoleCommand({ RoleName: roleName }))).Role!.AssumeRolePolicyDocument!,
    );
    const like = original.replace('"StringEquals"', '"StringLike"');
    expect(like).not.toBe(original);
    await iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: roleName, PolicyDocument: like }));
    try {
      const err = await acts.rotationPreflight(step).then(
        () => undefined,
        (e: Error & { type?: string }) => e,
      );
      expect(err?.type).toBe(ErrorType.TrustPolicyUnsupported);
      expect(err?.message).toContain(
        `trust policy of ${a.roleArn}: a statement (Effect Allow) tests sts:ExternalId with StringLike`,
      );
      expect(err?.message).not.toContain(current.externalId);
    } finally {
      await iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: roleName, PolicyDocument: original }));
    }

    // someone else's rotation left a pending id in Vault
    const written = await kvWrite(
      cfg,
      a.externalIdRef,
      { externalId: current.externalId, pendingExternalId: 'someone-elses-pending-id', rotationToken: 'other-token' },
      current.version,
    );
    expect(written).not.toBe('cas-mismatch');
    const found = await acts.rotationPreflight(step);
    expect(found.status).toBe('pending-left-behind');
    expect(found.reason).toContain('holds a pending ExternalId of another rotation (token other-token)');
    expect(JSON.stringify(found)).not.toContain('someone-elses-pending-id');
  });

  it('no ExternalId appears in any history of these workflows or in the worker log', { timeout: 120_000 }, async () => {
    const ids = new Set<string>();
    for (const a of accounts) {
      const latest = await idEntry(a);
      for (let v = 1; v <= latest.version; v++) {
        const e = await idEntry(a, v);
        ids.add(e.externalId);
        if (e.pendingExternalId) ids.add(e.pendingExternalId);
      }
    }
    expect(ids.size).toBeGreaterThanOrEqual(accounts.length * 2);
    const histories = await allWorkflowHistories(temporal.client, `WorkflowId STARTS_WITH '${RUN}'`);
    // 3 campaigns, their children, 3 cleanups
    expect(histories.length).toBeGreaterThanOrEqual(3 + 3 * accounts.length + 3);
    const leaks = histories.flatMap((h) =>
      secretsIn(decodedHistoryText(h.json), [...ids]).map((w) => `${h.workflowId}: ${w}`),
    );
    expect(leaks).toEqual([]);
    expect(secretsIn(worker.logLines.join('\n'), [...ids])).toEqual([]);
  });
});
