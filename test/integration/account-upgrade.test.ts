/**
 * accountUpgrade on the real local stack (Temporal dev server, moto behind the fleetops AWS proxy,
 * OpenBao): started directly, one simulated account per scenario, with the proxy's `cloudformation`
 * fault plan simulating what moto cannot (rollbacks, replacement details, alarms, busy stacks).
 *
 * The accounts (2100000000xx) are this file's own: the stacks other test files read (2000000000xx)
 * stay at 1.0.0.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CloudWatchClient, SetAlarmStateCommand } from '@aws-sdk/client-cloudwatch';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { WorkflowFailedError } from '@temporalio/client';
import fs from 'node:fs';
import path from 'node:path';
import { seedLocalStack, writeExternalId } from '../../cli/sim/seed-local-stack';
import { externalIdRef, simulatedFleet } from '../../cli/sim/simulated-fleet';
import { stringifyFleet } from '../../fleet/load-fleet';
import type { FleetAccount } from '../../fleet/fleet-schema';
import {
  ACCOUNT_PROGRESS_QUERY,
  APPROVE_ACCOUNT_SIGNAL,
  type AccountOperationInput,
  type AccountOperationResult,
  type AccountProgress,
} from '../../workflows/operation/account-operation';
import type { UpgradeParams } from '../../workflows/upgrade/upgrade-params';
import { createUpgradeActivities } from '../../activities/upgrade/upgrade-activities';
import { upgradeChangeSetName } from '../../workflows/upgrade/change-set-names';
import { setFaultPlan, startTestWorker, testClient, testStack } from '../support/test-stack';
import { cleanUp } from '../support/cleanup';

const cfg = testStack();
const TASK_QUEUE = 'account-upgrade-test';
const STACK = 'data-pipeline';
const id = (i: number) => String(210_000_000_000 + i);

/** One account per scenario. */
const ACCOUNTS = {
  upgrade: id(0), // two regions
  plan: id(1),
  poisoned: id(2),
  rollbackFailed: id(3),
  alarm: id(4),
  replaceSkip: id(5),
  replaceApprove: id(6),
  busy: id(7),
  briefBusy: id(8),
  missingStack: id(9),
  denied: id(10),
  cancelled: id(11),
} as const;
const TWO_REGIONS = ['eu-west-1', 'us-east-1'];

let fleetFile: string;
let worker: Awaited<ReturnType<typeof startTestWorker>>;
let temporal: Awaited<ReturnType<typeof testClient>>;

beforeAll(async () => {
  const accounts: FleetAccount[] = simulatedFleet(Object.keys(ACCOUNTS).length).map((a, i) => ({
    ...a,
    id: id(i),
    roleArn: `arn:aws:iam::${id(i)}:role/FleetOpsExecutionRole`,
    externalIdRef: externalIdRef(id(i)),
    regions: id(i) === ACCOUNTS.upgrade ? TWO_REGIONS : ['eu-west-1'],
    pipeline: { stackName: STACK, version: '1.0.0' },
  }));
  await seedLocalStack(cfg, accounts);
  // The fleet file points one account at a stack that was never created…
  const inFile = accounts.map((a) =>
    a.id === ACCOUNTS.missingStack ? { ...a, pipeline: { ...a.pipeline, stackName: 'never-created' } } : a,
  );
  fleetFile = path.join(cfg.stateDir, 'account-upgrade-fleet.yaml');
  fs.writeFileSync(fleetFile, stringifyFleet(inFile));
  // …and one account's ExternalId in Vault no longer matches its role's trust policy.
  await writeExternalId(cfg, externalIdRef(ACCOUNTS.denied), 'rotated-but-not-applied');
  worker = await startTestWorker(TASK_QUEUE);
  temporal = await testClient(cfg);
});

afterEach(async () => {
  await setFaultPlan(cfg, null);
});

afterAll(() =>
  cleanUp({
    faultPlan: () => setFaultPlan(cfg, null),
    worker: () => worker?.stop(),
    temporal: () => temporal?.close(),
  }),
);

function upgradeInput(
  accountId: string,
  o: { campaignId?: string; plan?: boolean; attempt?: number; upgrade?: Partial<UpgradeParams> } = {},
): AccountOperationInput {
  return {
    campaignId: o.campaignId ?? 'upgrade-it',
    operation: 'upgrade',
    fleetFile,
    accountId,
    wave: 'canary-1',
    plan: o.plan ?? false,
    attempt: o.attempt ?? 1,
    upgrade: {
      targetVersion: '1.1.0',
      statefulResourceTypes: ['AWS::DynamoDB::Table', 'AWS::RDS::DBInstance'],
      onStatefulChange: 'skip',
      healthBakeSeconds: 3,
      healthPollSeconds: 1,
      busyStackWaitSeconds: 5,
      ...o.upgrade,
    },
  };
}

function start(input: AccountOperationInput) {
  const suffix = input.attempt > 1 ? `/retry-${input.attempt}` : '';
  return temporal.client.workflow.start('accountUpgrade', {
    taskQueue: TASK_QUEUE,
    workflowId: `${input.campaignId}/${input.accountId}${suffix}`,
    args: [input],
  });
}

async function runUpgrade(input: AccountOperationInput): Promise<AccountOperationResult> {
  return (await start(input)).result() as Promise<AccountOperationResult>;
}

async function stackOf(accountId: string, region = 'eu-west-1') {
  return createUpgradeActivities(worker.fleet.shared).readPipelineStack({
    fleetFile,
    accountId,
    region,
    runId: 'upgrade-test',
  });
}

async function executionsOf(
  accountId: string,
): Promise<Array<{ region: string; changeSetName: string; version: string | null; count: number }>> {
  const res = await fetch(`${cfg.awsEndpoint}/__fleetops/cloudformation/executions`);
  const body = (await res.json()) as {
    executions: Array<{
      account: string;
      region: string;
      changeSetName: string;
      version: string | null;
      count: number;
    }>;
  };
  return body.executions
    .filter((e) => e.account === accountId)
    .map(({ region, changeSetName, version, count }) => ({ region, changeSetName, version, count }));
}

async function changeSetExists(accountId: string, changeSetName: string, region = 'eu-west-1'): Promise<boolean> {
  const cs = await createUpgradeActivities(worker.fleet.shared).waitForChangeSet({
    fleetFile,
    accountId,
    region,
    runId: 'upgrade-test',
    changeSetName,
  });
  return cs.found;
}

/** Sets an alarm's state straight in moto (as the metric recovering would). */
async function setAlarmOk(accountId: string, alarmName: string): Promise<void> {
  const common = {
    endpoint: cfg.motoUrl,
    region: 'eu-west-1',
    credentials: { accessKeyId: 'fleetops-test', secretAccessKey: 'fleetops-test' },
  };
  const assumed = await new STSClient(common).send(
    new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${accountId}:role/FleetOpsExecutionRole`, RoleSessionName: 'test' }),
  );
  const c = assumed.Credentials!;
  const cw = new CloudWatchClient({
    ...common,
    credentials: { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! },
  });
  await cw.send(new SetAlarmStateCommand({ AlarmName: alarmName, StateValue: 'OK', StateReason: 'test: recovered' }));
}

async function eventually<T>(
  what: string,
  read: () => Promise<T>,
  ok: (v: T) => boolean,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: last ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const CHANGE_SET = upgradeChangeSetName('upgrade-it', '1.1.0');

describe('accountUpgrade on the local stack', () => {
  it('upgrades 1.0.0 → 1.1.0 in every region of the account; a second run finds it already current', async () => {
    const result = await runUpgrade(upgradeInput(ACCOUNTS.upgrade));
    expect(result).toMatchObject({ accountId: ACCOUNTS.upgrade, outcome: 'upgraded' });
    expect(result.regions.map((r) => [r.region, r.outcome, r.fromVersion, r.toVersion])).toEqual(
      TWO_REGIONS.map((r) => [r, 'upgraded', '1.0.0', '1.1.0']),
    );
    expect(result.regions[0].changeSetName).toBe(CHANGE_SET);
    for (const region of TWO_REGIONS) {
      expect(await stackOf(ACCOUNTS.upgrade, region)).toMatchObject({
        found: true,
        status: 'UPDATE_COMPLETE',
        version: '1.1.0',
      });
    }
    // Executed exactly once per region.
    expect(await executionsOf(ACCOUNTS.upgrade)).toEqual(
      TWO_REGIONS.map((region) => ({ region, changeSetName: CHANGE_SET, version: '1.1.0', count: 1 })),
    );

    const again = await runUpgrade(upgradeInput(ACCOUNTS.upgrade, { campaignId: 'upgrade-it-again' }));
    expect(again.outcome).toBe('already-current');
    expect(again.regions.map((r) => r.outcome)).toEqual(['already-current', 'already-current']);
    expect(again.regions.every((r) => r.changeSetName === undefined)).toBe(true);
    expect(await executionsOf(ACCOUNTS.upgrade)).toHaveLength(2); // nothing new executed
  });

  it('plan mode previews the change set, reports counts and executes nothing', async () => {
    await setFaultPlan(cfg, {
      cloudformation: { replacements: [{ resourceType: 'AWS::DynamoDB::Table', accounts: [ACCOUNTS.plan] }] },
    });
    const result = await runUpgrade(upgradeInput(ACCOUNTS.plan, { plan: true }));
    expect(result.outcome).toBe('planned');
    const [region] = result.regions;
    expect(region).toMatchObject({ region: 'eu-west-1', outcome: 'planned', fromVersion: '1.0.0', toVersion: '1.1.0' });
    expect(region.plan).toMatchObject({
      replaced: 1,
      removed: 0,
      needsApproval: ['StateTable (AWS::DynamoDB::Table): replace'],
    });
    const { added, modified, replaced, removed } = region.plan!;
    expect(added + modified + replaced + removed).toBeGreaterThanOrEqual(1);
    expect(await executionsOf(ACCOUNTS.plan)).toEqual([]);
    expect(await stackOf(ACCOUNTS.plan)).toMatchObject({ status: 'CREATE_COMPLETE', version: '1.0.0' });
    expect(await changeSetExists(ACCOUNTS.plan, CHANGE_SET)).toBe(false); // deleted after the preview
  });

  it('an update CloudFormation rolls back (poisoned version) ends rolled-back, the stack at 1.0.0', async () => {
    await setFaultPlan(cfg, {
      cloudformation: {
        updateDurationMs: 1500,
        poisonedVersions: [{ version: '1.1.0', accounts: [ACCOUNTS.poisoned] }],
      },
    });
    const result = await runUpgrade(upgradeInput(ACCOUNTS.poisoned));
    expect(result).toMatchObject({ outcome: 'rolled-back', errorType: 'UpdateRolledBack' });
    expect(result.reason).toContain('rolled it back to 1.0.0');
    expect(result.regions[0]).toMatchObject({ region: 'eu-west-1', outcome: 'rolled-back' });
    expect(await stackOf(ACCOUNTS.poisoned)).toMatchObject({ status: 'UPDATE_ROLLBACK_COMPLETE', version: '1.0.0' });
  });

  it('UPDATE_ROLLBACK_FAILED quarantines the account with its runbook, on the update and on the next attempt', async () => {
    await setFaultPlan(cfg, { cloudformation: { rollbackFailed: [{ accounts: [ACCOUNTS.rollbackFailed] }] } });
    const result = await runUpgrade(upgradeInput(ACCOUNTS.rollbackFailed));
    expect(result).toMatchObject({
      outcome: 'quarantined',
      errorType: 'StackInRollbackFailed',
      runbook: 'docs/runbooks/update-rollback-failed.md',
    });
    expect(await stackOf(ACCOUNTS.rollbackFailed)).toMatchObject({ status: 'UPDATE_ROLLBACK_FAILED' });

    // An operator's retry finds the stack stuck and quarantines before creating anything.
    const retry = await runUpgrade(upgradeInput(ACCOUNTS.rollbackFailed, { attempt: 2 }));
    expect(retry).toMatchObject({
      outcome: 'quarantined',
      errorType: 'StackInRollbackFailed',
      runbook: 'docs/runbooks/update-rollback-failed.md',
    });
    expect(retry.reason).toContain('UPDATE_ROLLBACK_FAILED');
    expect(await executionsOf(ACCOUNTS.rollbackFailed)).toEqual([
      { region: 'eu-west-1', changeSetName: CHANGE_SET, version: '1.1.0', count: 1 },
    ]);
  });

  it('a health alarm during the bake rolls the account back to 1.0.0', async () => {
    await setFaultPlan(cfg, {
      cloudformation: { alarms: [{ version: '1.1.0', accounts: [ACCOUNTS.alarm], afterMs: 1000 }] },
    });
    const result = await runUpgrade(upgradeInput(ACCOUNTS.alarm));
    expect(result).toMatchObject({ outcome: 'rolled-back', errorType: 'HealthAlarm' });
    expect(result.reason).toContain(`alarm ${STACK}-health in ALARM`);
    expect(result.reason).toContain('rolled back eu-west-1');
    expect(result.regions[0]).toMatchObject({ outcome: 'rolled-back', fromVersion: '1.0.0', toVersion: '1.0.0' });
    expect(await stackOf(ACCOUNTS.alarm)).toMatchObject({ status: 'UPDATE_COMPLETE', version: '1.0.0' });

    // The pipeline recovers (alarm back to OK); the operator's retry (attempt 2) replaces the executed
    // change set and upgrades.
    await setFaultPlan(cfg, null);
    await setAlarmOk(ACCOUNTS.alarm, `${STACK}-health`);
    const retry = await runUpgrade(upgradeInput(ACCOUNTS.alarm, { attempt: 2 }));
    expect(retry.outcome).toBe('upgraded');
    expect(await stackOf(ACCOUNTS.alarm)).toMatchObject({ status: 'UPDATE_COMPLETE', version: '1.1.0' });
    expect(await executionsOf(ACCOUNTS.alarm)).toEqual([
      { region: 'eu-west-1', changeSetName: CHANGE_SET, version: '1.1.0', count: 2 },
    ]);
  });

  it('a stateful replacement with policy skip deletes the change set and skips the account, naming the resource', async () => {
    await setFaultPlan(cfg, {
      cloudformation: { replacements: [{ resourceType: 'AWS::DynamoDB::Table', accounts: [ACCOUNTS.replaceSkip] }] },
    });
    const result = await runUpgrade(upgradeInput(ACCOUNTS.replaceSkip, { upgrade: { onStatefulChange: 'skip' } }));
    expect(result.outcome).toBe('skipped');
    expect(result.reason).toContain('StateTable (AWS::DynamoDB::Table): replace');
    expect(result.regions[0].outcome).toBe('skipped');
    expect(await executionsOf(ACCOUNTS.replaceSkip)).toEqual([]);
    expect(await changeSetExists(ACCOUNTS.replaceSkip, CHANGE_SET)).toBe(false);
    expect(await stackOf(ACCOUNTS.replaceSkip)).toMatchObject({ version: '1.0.0' });
  });

  it('a stateful replacement with policy approve waits (FleetState awaiting-approval) until signalled, then upgrades', async () => {
    await setFaultPlan(cfg, {
      cloudformation: { replacements: [{ resourceType: 'AWS::DynamoDB::Table', accounts: [ACCOUNTS.replaceApprove] }] },
    });
    const handle = await start(upgradeInput(ACCOUNTS.replaceApprove, { upgrade: { onStatefulChange: 'approve' } }));
    const progress = await eventually(
      'awaiting-approval',
      () => handle.query<AccountProgress>(ACCOUNT_PROGRESS_QUERY),
      (p) => p.phase === 'awaiting-approval',
    );
    expect(progress.awaitingApproval).toContain('StateTable (AWS::DynamoDB::Table): replace');
    await eventually(
      'FleetState awaiting-approval',
      async () => (await handle.describe()).searchAttributes?.FleetState,
      (s) => Array.isArray(s) && s[0] === 'awaiting-approval',
    );
    // Still waiting a moment later, nothing executed.
    await new Promise((r) => setTimeout(r, 1500));
    expect((await handle.query<AccountProgress>(ACCOUNT_PROGRESS_QUERY)).phase).toBe('awaiting-approval');
    expect(await executionsOf(ACCOUNTS.replaceApprove)).toEqual([]);

    await handle.signal(APPROVE_ACCOUNT_SIGNAL);
    const result = (await handle.result()) as AccountOperationResult;
    expect(result.outcome).toBe('upgraded');
    expect(await stackOf(ACCOUNTS.replaceApprove)).toMatchObject({ status: 'UPDATE_COMPLETE', version: '1.1.0' });
    expect((await handle.describe()).searchAttributes?.FleetState).toEqual(['upgraded']);
  });

  it('cancelled while waiting for approval: the change set is deleted, nothing executed', async () => {
    await setFaultPlan(cfg, {
      cloudformation: { replacements: [{ resourceType: 'AWS::DynamoDB::Table', accounts: [ACCOUNTS.cancelled] }] },
    });
    const handle = await start(upgradeInput(ACCOUNTS.cancelled, { upgrade: { onStatefulChange: 'approve' } }));
    await eventually(
      'awaiting-approval',
      () => handle.query<AccountProgress>(ACCOUNT_PROGRESS_QUERY),
      (p) => p.phase === 'awaiting-approval',
    );
    expect(await changeSetExists(ACCOUNTS.cancelled, CHANGE_SET)).toBe(true);
    await handle.cancel();
    const err = await handle.result().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect((err as WorkflowFailedError).cause?.name).toBe('CancelledFailure');
    expect(await changeSetExists(ACCOUNTS.cancelled, CHANGE_SET)).toBe(false);
    expect(await executionsOf(ACCOUNTS.cancelled)).toEqual([]);
    expect((await handle.describe()).searchAttributes?.FleetState).toEqual(['cancelled']);
  });

  it("a stack busy with someone else's update is waited for, and quarantined StackBusy when it stays busy", async () => {
    await setFaultPlan(cfg, {
      cloudformation: {
        busyStacks: [{ accounts: [ACCOUNTS.busy] }, { accounts: [ACCOUNTS.briefBusy], untilMs: 2000 }],
      },
    });
    const started = Date.now();
    const busyHandle = await start(upgradeInput(ACCOUNTS.busy, { upgrade: { busyStackWaitSeconds: 2 } }));
    const briefHandle = await start(upgradeInput(ACCOUNTS.briefBusy, { upgrade: { busyStackWaitSeconds: 4 } }));
    // Both children are seen waiting for the busy stack (progress query), nothing created meanwhile.
    for (const h of [busyHandle, briefHandle]) {
      await eventually(
        `${h.workflowId} waiting-for-busy-stack`,
        () => h.query<AccountProgress>(ACCOUNT_PROGRESS_QUERY),
        (p) => p.phase === 'waiting-for-busy-stack',
        10_000,
      );
    }
    expect(await executionsOf(ACCOUNTS.briefBusy)).toEqual([]);
    const busy = (await busyHandle.result()) as AccountOperationResult;
    const busyMs = Date.now() - started;
    const brief = (await briefHandle.result()) as AccountOperationResult;
    // The busy one gave up only after its 2 s wait (the brief one was seen waiting above).
    expect(busyMs).toBeGreaterThanOrEqual(2000);
    expect(busy).toMatchObject({
      outcome: 'quarantined',
      errorType: 'StackBusy',
      runbook: 'docs/runbooks/stack-busy.md',
    });
    expect(busy.reason).toContain('UPDATE_IN_PROGRESS');
    expect(await executionsOf(ACCOUNTS.busy)).toEqual([]);
    expect(brief.outcome).toBe('upgraded');
    expect(await executionsOf(ACCOUNTS.briefBusy)).toEqual([
      { region: 'eu-west-1', changeSetName: CHANGE_SET, version: '1.1.0', count: 1 },
    ]);
  });

  it('a missing stack is quarantined StackMissing; access denied is quarantined AccountAccessDenied', async () => {
    const missing = await runUpgrade(upgradeInput(ACCOUNTS.missingStack));
    expect(missing).toMatchObject({
      outcome: 'quarantined',
      errorType: 'StackMissing',
      runbook: 'docs/runbooks/stack-missing.md',
    });
    expect(missing.reason).toContain('never-created');

    const denied = await runUpgrade(upgradeInput(ACCOUNTS.denied));
    expect(denied).toMatchObject({
      outcome: 'quarantined',
      errorType: 'AccountAccessDenied',
      runbook: 'docs/runbooks/account-access-denied.md',
    });
    expect(denied.reason).toContain('AccessDenied');
  });

  it('fails at once, non-retryably, on invalid input', async () => {
    const bad = {
      ...upgradeInput(ACCOUNTS.upgrade, { campaignId: 'upgrade-it-bad' }),
      accountId: '123',
      upgrade: { targetVersion: 'latest' },
    };
    const err = await runUpgrade(bad as unknown as AccountOperationInput).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const cause = (err as WorkflowFailedError).cause;
    expect(cause).toMatchObject({ type: 'InvalidWorkflowInput', nonRetryable: true });
    expect(cause?.message).toContain('accountId');
    expect(cause?.message).toContain('targetVersion');
  });
});
