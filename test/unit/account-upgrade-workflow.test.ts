import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, bundleWorkflowCode } from '@temporalio/worker';
import type { ChangeSetState, PipelineStackState } from '../../activities/aws/cloudformation';
import type { UpgradeActivities, UpgradeTarget } from '../../activities/upgrade/upgrade-activities';
import { createLeaseActivities } from '../../activities/lease/lease-activities';
import type { AccountOperationInput, AccountOperationResult } from '../../workflows/operation/account-operation';
import type { UpgradeParams } from '../../workflows/upgrade/upgrade-params';
import { timeSkippingEnv } from '../support/time-skipping';

// The real accountUpgrade on Temporal's time-skipping test server, against an in-memory stand-in of
// CloudFormation and CloudWatch (the activities' contract), so default bakes (300 s) and busy waits
// (30 min) pass in seconds and multi-region rollbacks can be staged exactly. The real AWS path runs
// in test/integration/account-upgrade.test.ts.

type Stack = { status: string; version: string; changeSets: Map<string, { version: string; executed: boolean }> };
type Scenario = {
  regions: string[];
  /** Executing in these regions ends UPDATE_ROLLBACK_COMPLETE. */
  poisoned?: string[];
  /** The health alarm of these regions goes to ALARM once the region runs the new version. */
  alarmIn?: string[];
  /** The health alarm of these regions is in ALARM already, before any change. */
  alarmBeforeIn?: string[];
  /** Rolling back (UpdateStack) in these regions ends UPDATE_ROLLBACK_FAILED. */
  rollbackFailsIn?: string[];
  /** The stack reports UPDATE_IN_PROGRESS for this many reads. */
  busyReads?: number;
  /** Every call into the account is refused. */
  accessDenied?: boolean;
  /** No pipeline stack in these regions. */
  missingIn?: string[];
  /** The version a region's stack runs at the start (default 1.0.0). */
  startAt?: Record<string, string>;
};

let env: TestWorkflowEnvironment;
let worker: Worker;
let running: Promise<void>;
let scenario: Scenario;
const stacks = new Map<string, Stack>();
const calls: Array<{ activity: string; region?: string }> = [];
let seq = 0;

const key = (t: UpgradeTarget) => `${t.accountId}/${t.region}`;
function stackOf(t: UpgradeTarget): Stack {
  let s = stacks.get(key(t));
  if (!s)
    stacks.set(
      key(t),
      (s = { status: 'CREATE_COMPLETE', version: scenario.startAt?.[t.region] ?? '1.0.0', changeSets: new Map() }),
    );
  return s;
}
function enter(activity: string, t?: UpgradeTarget): void {
  calls.push({ activity, region: t?.region });
  if (scenario.accessDenied && t)
    throw ApplicationFailure.create({
      type: 'AccountAccessDenied',
      message: `sts:AssumeRole in account ${t.accountId}: access denied (AccessDenied)`,
      nonRetryable: true,
    });
}
const snapshot = (t: UpgradeTarget, s: Stack): PipelineStackState => ({
  region: t.region,
  stackName: 'pipe',
  found: true,
  status: s.status,
  version: s.version,
});
let busyReadsLeft = 0;

const fakeActivities: UpgradeActivities = {
  async upgradeAccountInfo(i) {
    enter('upgradeAccountInfo');
    return { accountId: i.accountId, regions: scenario.regions, stackName: 'pipe' };
  },
  async readPipelineStack(t) {
    enter('readPipelineStack', t);
    if (scenario.missingIn?.includes(t.region)) return { region: t.region, stackName: 'pipe', found: false };
    const s = stackOf(t);
    if (busyReadsLeft > 0) {
      busyReadsLeft--;
      return { ...snapshot(t, s), status: 'UPDATE_IN_PROGRESS' };
    }
    return snapshot(t, s);
  },
  async createChangeSet(i) {
    enter('createChangeSet', i);
    stackOf(i).changeSets.set(i.changeSetName, { version: i.targetVersion, executed: false });
    return { changeSetName: i.changeSetName, reused: false };
  },
  async describeChangeSet(i) {
    enter('describeChangeSet (old name)', i);
    throw new Error('new workflows call waitForChangeSet (patched)');
  },
  async waitForChangeSet(i): Promise<ChangeSetState> {
    enter('waitForChangeSet', i);
    const cs = stackOf(i).changeSets.get(i.changeSetName);
    if (!cs) return { name: i.changeSetName, found: false };
    return {
      name: i.changeSetName,
      found: true,
      status: 'CREATE_COMPLETE',
      executionStatus: 'AVAILABLE',
      version: cs.version,
      changes: [{ action: 'Modify', logicalId: 'Param', resourceType: 'AWS::SSM::Parameter', replacement: 'False' }],
    };
  },
  async executeChangeSet(i) {
    enter('executeChangeSet', i);
    const s = stackOf(i);
    const cs = s.changeSets.get(i.changeSetName)!;
    cs.executed = true;
    if (scenario.poisoned?.includes(i.region)) s.status = 'UPDATE_ROLLBACK_COMPLETE';
    else Object.assign(s, { status: 'UPDATE_COMPLETE', version: cs.version });
    return { alreadyExecuted: false };
  },
  async deleteChangeSet(i) {
    enter('deleteChangeSet', i);
    return { deleted: stackOf(i).changeSets.delete(i.changeSetName) };
  },
  async waitForStackStatus(t) {
    enter('waitForStackStatus', t);
    return snapshot(t, stackOf(t));
  },
  async rollbackStack(i) {
    enter('rollbackStack', i);
    const s = stackOf(i);
    if (s.version === i.toVersion) return { started: false };
    if (scenario.rollbackFailsIn?.includes(i.region)) s.status = 'UPDATE_ROLLBACK_FAILED';
    else Object.assign(s, { status: 'UPDATE_COMPLETE', version: i.toVersion });
    return { started: true };
  },
  async readAlarmStates(i) {
    enter('readAlarmStates', i);
    const before = scenario.alarmBeforeIn?.includes(i.region);
    const firing = before || (scenario.alarmIn?.includes(i.region) && stackOf(i).version !== '1.0.0');
    return {
      alarms: i.alarmNames.map((name) => ({
        name,
        state: firing ? 'ALARM' : 'OK',
        ...(before ? { reason: 'Threshold Crossed: errors > 5' } : {}),
      })),
      missing: [],
    };
  },
};

beforeAll(async () => {
  env = await timeSkippingEnv();
  worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue: 'upgrade',
    workflowBundle: await bundleWorkflowCode({
      workflowsPath: path.resolve(__dirname, '../../workflows'),
      logger: quiet,
    }),
    // the real lease activity: children take their account's lease from the real lock workflow
    activities: { ...fakeActivities, ...createLeaseActivities(env.client) },
  });
  running = worker.run();
}, 120_000);

afterAll(async () => {
  worker?.shutdown();
  await running;
  await env?.teardown();
});

beforeEach(() => {
  stacks.clear();
  calls.length = 0;
  busyReadsLeft = 0;
});

const quiet = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} };

async function upgrade(
  s: Scenario,
  upgradeParams: Partial<UpgradeParams> = {},
  o: Partial<AccountOperationInput> = {},
) {
  scenario = s;
  busyReadsLeft = s.busyReads ?? 0;
  calls.length = 0;
  const accountId = String(300_000_000_000 + ++seq);
  const input: AccountOperationInput = {
    campaignId: 'wf-test',
    operation: 'upgrade',
    fleetFile: '/nowhere/fleet.yaml',
    accountId,
    wave: 'canary-1',
    plan: false,
    attempt: 1,
    upgrade: {
      targetVersion: '1.1.0',
      statefulResourceTypes: ['AWS::DynamoDB::Table'],
      onStatefulChange: 'skip',
      healthBakeSeconds: 300,
      healthPollSeconds: 30,
      busyStackWaitSeconds: 1800,
      ...upgradeParams,
    },
    ...o,
  };
  const handle = await env.client.workflow.start('accountUpgrade', {
    taskQueue: 'upgrade',
    workflowId: `wf-test/${accountId}`,
    args: [input],
  });
  const result = (await handle.result()) as AccountOperationResult;
  const stackIn = (region: string) => stacks.get(`${accountId}/${region}`);
  return { result, handle, stackIn, count: (activity: string) => calls.filter((c) => c.activity === activity).length };
}

describe('accountUpgrade (time-skipping, stand-in AWS)', () => {
  it('bakes each region for healthBakeSeconds, checking every healthPollSeconds (300 s / 30 s → 11 checks per region, after one before the change)', async () => {
    const { result, count, stackIn } = await upgrade({ regions: ['eu-west-1', 'us-east-1'] });
    expect(result.outcome).toBe('upgraded');
    expect(count('readAlarmStates')).toBe(24);
    expect(stackIn('us-east-1')).toMatchObject({ version: '1.1.0', status: 'UPDATE_COMPLETE' });
  });

  it('an alarm in the second region rolls back both regions, latest first', async () => {
    const { result, stackIn } = await upgrade({ regions: ['eu-west-1', 'us-east-1'], alarmIn: ['us-east-1'] });
    expect(result).toMatchObject({ outcome: 'rolled-back', errorType: 'HealthAlarm' });
    expect(result.reason).toContain('rolled back us-east-1, eu-west-1 to the previous version');
    expect(result.regions.map((r) => [r.region, r.outcome])).toEqual([
      ['eu-west-1', 'rolled-back'],
      ['us-east-1', 'rolled-back'],
    ]);
    expect(stackIn('eu-west-1')).toMatchObject({ version: '1.0.0', status: 'UPDATE_COMPLETE' });
    expect(stackIn('us-east-1')).toMatchObject({ version: '1.0.0', status: 'UPDATE_COMPLETE' });
    expect(calls.filter((c) => c.activity === 'rollbackStack').map((c) => c.region)).toEqual([
      'us-east-1',
      'eu-west-1',
    ]);
  });

  it('CloudFormation rolling back the second region rolls back the first too; the second is left to CloudFormation', async () => {
    const { result, stackIn } = await upgrade(
      { regions: ['eu-west-1', 'us-east-1'], poisoned: ['us-east-1'] },
      { healthBakeSeconds: 0 },
    );
    expect(result).toMatchObject({ outcome: 'rolled-back', errorType: 'UpdateRolledBack' });
    expect(stackIn('eu-west-1')).toMatchObject({ version: '1.0.0' });
    expect(calls.filter((c) => c.activity === 'rollbackStack').map((c) => c.region)).toEqual(['eu-west-1']);
  });

  it('a failed rollback of an earlier region quarantines the account (StackInRollbackFailed)', async () => {
    const { result } = await upgrade(
      { regions: ['eu-west-1', 'us-east-1'], alarmIn: ['us-east-1'], rollbackFailsIn: ['eu-west-1'] },
      { healthBakeSeconds: 60, healthPollSeconds: 30 },
    );
    expect(result).toMatchObject({
      outcome: 'quarantined',
      errorType: 'StackInRollbackFailed',
      runbook: 'docs/runbooks/update-rollback-failed.md',
    });
    expect(result.reason).toContain('rolling eu-west-1 back to 1.0.0 failed');
    expect(result.regions.map((r) => r.outcome)).toEqual(['quarantined', 'rolled-back']);
  });

  it('waits out a busy stack with 30 s polls; quarantines StackBusy after busyStackWaitSeconds', async () => {
    const waited = await upgrade({ regions: ['eu-west-1'], busyReads: 10 }, { healthBakeSeconds: 0 });
    expect(waited.result.outcome).toBe('upgraded');

    const stuck = await upgrade({ regions: ['eu-west-1'], busyReads: 1_000 }, { healthBakeSeconds: 0 });
    expect(stuck.result).toMatchObject({
      outcome: 'quarantined',
      errorType: 'StackBusy',
      runbook: 'docs/runbooks/stack-busy.md',
    });
    expect(stuck.count('readPipelineStack')).toBe(1800 / 30 + 1);
    expect(stuck.count('createChangeSet')).toBe(0);
  });

  it('a stop in the second region, found while reading every stack first, creates no change set and runs nothing', async () => {
    const { result, count, stackIn } = await upgrade({ regions: ['eu-west-1', 'us-east-1'], missingIn: ['us-east-1'] });
    expect(result).toMatchObject({
      outcome: 'quarantined',
      errorType: 'StackMissing',
      runbook: 'docs/runbooks/stack-missing.md',
    });
    expect(result.regions.map((r) => [r.region, r.outcome])).toEqual([['us-east-1', 'quarantined']]);
    expect(count('createChangeSet')).toBe(0);
    expect(count('executeChangeSet')).toBe(0);
    expect(count('readAlarmStates')).toBe(0);
    expect(stackIn('eu-west-1')?.changeSets.size).toBe(0);
  });

  it('refuses a downgrade in any region before anything runs (skipped, DowngradeRefused, both versions named)', async () => {
    const { result, count, stackIn } = await upgrade(
      { regions: ['eu-west-1', 'us-east-1'], startAt: { 'us-east-1': '1.2.0' } },
      { healthBakeSeconds: 0 },
    );
    expect(result).toMatchObject({ outcome: 'skipped', errorType: 'DowngradeRefused' });
    expect(result.reason).toContain('runs 1.2.0, newer than the target 1.1.0');
    expect(result.reason).toContain('allowDowngrade');
    // every stack is read before any change set is made (health-check-before-change): the refusal in
    // us-east-1 comes before eu-west-1 has a change set
    expect(result.regions.map((r) => [r.region, r.outcome])).toEqual([['us-east-1', 'skipped']]);
    expect(count('readPipelineStack')).toBe(2);
    expect(count('executeChangeSet')).toBe(0);
    expect(count('createChangeSet')).toBe(0);
    expect(stackIn('eu-west-1')?.changeSets.size).toBe(0);
    expect(stackIn('us-east-1')).toMatchObject({ version: '1.2.0', status: 'CREATE_COMPLETE' });
  });

  it('allowDowngrade moves a newer stack back to the target', async () => {
    const { result, stackIn } = await upgrade(
      { regions: ['eu-west-1', 'us-east-1'], startAt: { 'us-east-1': '1.2.0' } },
      { healthBakeSeconds: 0 },
      { allowDowngrade: true },
    );
    expect(result.outcome).toBe('upgraded');
    expect(result.regions.map((r) => [r.region, r.fromVersion, r.toVersion])).toEqual([
      ['eu-west-1', '1.0.0', '1.1.0'],
      ['us-east-1', '1.2.0', '1.1.0'],
    ]);
    expect(stackIn('us-east-1')).toMatchObject({ version: '1.1.0', status: 'UPDATE_COMPLETE' });
  });

  it('regionVersions: only the regions named, each to its own version; the others are not touched', async () => {
    const { result, count, stackIn } = await upgrade(
      { regions: ['eu-west-1', 'us-east-1', 'ap-south-1'], startAt: { 'us-east-1': '1.2.0', 'ap-south-1': '1.2.0' } },
      { healthBakeSeconds: 0, regionVersions: { 'us-east-1': '1.0.3', 'ap-south-1': '1.0.4' } },
      { allowDowngrade: true },
    );
    expect(result.outcome).toBe('upgraded');
    expect(result.regions.map((r) => [r.region, r.outcome, r.toVersion])).toEqual([
      ['us-east-1', 'upgraded', '1.0.3'],
      ['ap-south-1', 'upgraded', '1.0.4'],
    ]);
    expect(stackIn('eu-west-1')).toBeUndefined();
    expect(stackIn('ap-south-1')).toMatchObject({ version: '1.0.4' });
    expect(count('executeChangeSet')).toBe(2);

    const wrong = await upgrade({ regions: ['eu-west-1'] }, { regionVersions: { 'us-west-2': '1.0.0' } });
    expect(wrong.result).toMatchObject({ outcome: 'failed', errorType: 'InvalidWorkflowInput' });
    expect(wrong.result.reason).toContain('us-west-2 not among the regions');
    expect(wrong.count('readPipelineStack')).toBe(0);
  });

  it('an alarm already in ALARM before the change leaves the account alone (unhealthy-before): no change set, nothing executed', async () => {
    const { result, count, stackIn } = await upgrade({
      regions: ['eu-west-1', 'us-east-1'],
      alarmBeforeIn: ['us-east-1'],
    });
    expect(result).toMatchObject({ outcome: 'unhealthy-before', runbook: 'docs/runbooks/unhealthy-before.md' });
    expect(result.reason).toBe(
      'alarm pipe-health in ALARM in us-east-1 (Threshold Crossed: errors > 5) before the change; not touched',
    );
    expect(result.regions.map((r) => [r.region, r.outcome])).toEqual([
      ['eu-west-1', 'unhealthy-before'],
      ['us-east-1', 'unhealthy-before'],
    ]);
    expect(result.regions[0].reason).toBe('not touched: the account is unhealthy');
    expect(count('readAlarmStates')).toBe(2);
    expect(count('createChangeSet')).toBe(0);
    expect(count('executeChangeSet')).toBe(0);
    expect(stackIn('eu-west-1')).toMatchObject({ version: '1.0.0' });
    expect(stackIn('us-east-1')?.changeSets.size).toBe(0);
  });

  it('plan mode: an unhealthy account is reported as would skip, with no change set previewed', async () => {
    const { result, count } = await upgrade(
      { regions: ['eu-west-1'], alarmBeforeIn: ['eu-west-1'] },
      {},
      { plan: true },
    );
    expect(result.outcome).toBe('unhealthy-before');
    expect(result.regions[0].reason).toMatch(/^would skip: unhealthy — alarm pipe-health in ALARM in eu-west-1/);
    expect(count('createChangeSet')).toBe(0);
  });

  it('access denied is quarantined with its runbook, before anything is created', async () => {
    const { result, count } = await upgrade({ regions: ['eu-west-1', 'us-east-1'], accessDenied: true });
    expect(result).toMatchObject({
      outcome: 'quarantined',
      errorType: 'AccountAccessDenied',
      runbook: 'docs/runbooks/account-access-denied.md',
    });
    expect(result.reason).toContain('AccessDenied');
    expect(count('createChangeSet')).toBe(0);
  });

  it('plan mode with several regions: one plan per region, change sets deleted, nothing executed', async () => {
    const { result, count } = await upgrade({ regions: ['eu-west-1', 'us-east-1'] }, {}, { plan: true });
    expect(result.outcome).toBe('planned');
    expect(result.regions.map((r) => [r.region, r.outcome, r.plan])).toEqual(
      ['eu-west-1', 'us-east-1'].map((r) => [
        r,
        'planned',
        { added: 0, modified: 1, replaced: 0, removed: 0, needsApproval: [] },
      ]),
    );
    expect(count('executeChangeSet')).toBe(0);
    expect(count('deleteChangeSet')).toBe(2);
  });

  it("every activity task runs with a heartbeat timeout (a dead worker's attempt is retried elsewhere within 30 s)", async () => {
    const { handle } = await upgrade({ regions: ['eu-west-1'] }, { healthBakeSeconds: 0 });
    const history = await handle.fetchHistory();
    const scheduled = (history.events ?? []).flatMap((e) =>
      e.activityTaskScheduledEventAttributes ? [e.activityTaskScheduledEventAttributes] : [],
    );
    const byType = new Map(scheduled.map((a) => [a.activityType?.name, a]));
    expect(scheduled.length).toBeGreaterThanOrEqual(4);
    for (const a of scheduled) {
      expect(Number(a.heartbeatTimeout?.seconds ?? 0), a.activityType?.name ?? '?').toBeGreaterThan(0);
    }
    for (const name of ['waitForStackStatus', 'waitForChangeSet']) {
      expect(Number(byType.get(name)?.heartbeatTimeout?.seconds ?? 0), name).toBe(30);
    }
    // the single calls heartbeat through the worker's keep-alive (worker/activity-keepalive.ts)
    for (const name of ['createChangeSet', 'executeChangeSet']) {
      expect(Number(byType.get(name)?.heartbeatTimeout?.seconds ?? 0), name).toBe(20);
    }
  });

  it('the read-only steps and the lease run as local activities: only the four changes and waits are activity tasks; a fresh stack is read once', async () => {
    const { result, handle, count } = await upgrade({ regions: ['eu-west-1'] }, { healthBakeSeconds: 0 });
    expect(result.outcome).toBe('upgraded');
    // they did run (the stand-ins counted them)…
    expect(count('readPipelineStack')).toBe(1); // read once: nothing waited between the read and the execute
    expect(count('readAlarmStates')).toBe(2); // before the change, and the bake
    const events = (await handle.fetchHistory()).events ?? [];
    const scheduled = events.flatMap((e) =>
      e.activityTaskScheduledEventAttributes ? [e.activityTaskScheduledEventAttributes.activityType?.name] : [],
    );
    // …but not as activity tasks
    expect(scheduled).toEqual(['createChangeSet', 'waitForChangeSet', 'executeChangeSet', 'waitForStackStatus']);
    expect(events.filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity').length).toBe(
      6, // the lease asked for, the account, the stack, the alarm before, the alarm after, the lease back
    );
  });

  it('a second region is read again before its change set executes (the first region ran in between)', async () => {
    const { result, count } = await upgrade({ regions: ['eu-west-1', 'us-east-1'] }, { healthBakeSeconds: 0 });
    expect(result.outcome).toBe('upgraded');
    expect(count('executeChangeSet')).toBe(2);
    expect(count('readPipelineStack')).toBe(3); // both before the change sets, the second region again
  });
});
