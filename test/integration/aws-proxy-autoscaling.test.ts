/**
 * The proxy's Auto Scaling layer against a real moto_server, driven by the AWS SDK v3: instance
 * refresh (moto: HTTP 500) as a state machine — progress, Successful with the group on the desired
 * launch template, AWS's errors, cancel, rollback — and the fault plan's `autoscaling` section
 * (poisoned images, RollbackFailed, someone else's refresh, slow refreshes, alarms after an image,
 * AlarmSpecification). The refresh ledger proves how often each group was refreshed.
 * Run: FLEETOPS_TEST_PORT_OFFSET=300 npx vitest run test/integration/aws-proxy-autoscaling.test.ts
 */
import { describe, it, expect, beforeAll, afterAll, beforeEach } from 'vitest';
import {
  AutoScalingClient,
  CancelInstanceRefreshCommand,
  CreateAutoScalingGroupCommand,
  DescribeAutoScalingGroupsCommand,
  DescribeInstanceRefreshesCommand,
  RollbackInstanceRefreshCommand,
  StartInstanceRefreshCommand,
  type InstanceRefresh,
  type StartInstanceRefreshCommandInput,
} from '@aws-sdk/client-auto-scaling';
import { CreateLaunchTemplateCommand, CreateLaunchTemplateVersionCommand, EC2Client } from '@aws-sdk/client-ec2';
import {
  CloudWatchClient,
  DescribeAlarmsCommand,
  PutMetricAlarmCommand,
  SetAlarmStateCommand,
} from '@aws-sdk/client-cloudwatch';
import { startMotoServer } from '../support/moto-server';
import { proxyAdmin } from '../support/proxy-admin';
import { caught, credentialsIn, type Credentials } from '../support/aws-accounts';
import { createAwsProxy, type AwsProxy } from '../../stack/aws-proxy/server';
import type { RefreshLedgerEntry, RefreshStartCount } from '../../stack/aws-proxy/autoscaling/instance-refreshes';
import { percentAt, refreshStateAt, type RefreshTimes } from '../../stack/aws-proxy/autoscaling/refresh-timeline';

const REGION = 'eu-west-1';
const OLD_IMAGE = 'ami-00000000000000001';
const NEW_IMAGE = 'ami-00000000000000002';
const BAD_IMAGE = 'ami-0000000000000dead';
const FAST = { refreshDurationMs: 1200, pendingMs: 200 };

let moto: Awaited<ReturnType<typeof startMotoServer>> | undefined;
let motoUrl = '';
let proxy: AwsProxy;
let proxyUrl = '';
let accountCounter = 0;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const admin = <T = { message?: string }>(method: string, route: string, body?: unknown) =>
  proxyAdmin<T>(proxyUrl, method, route, body);

async function putPlan(autoscaling: unknown): Promise<void> {
  const res = await admin('PUT', 'faults', { rules: [], autoscaling });
  if (res.status !== 200) throw new Error(`plan rejected: ${res.text}`);
}

interface Fleet {
  account: string;
  asg: AutoScalingClient;
  cw: CloudWatchClient;
  templateId: string;
  group: string;
}

/** A fresh account with launch template versions 1 (old image), 2 (new image), 3 (bad image) and a group on version 1. */
async function fleetAccount(endpoint = proxyUrl): Promise<Fleet> {
  const account = `33000000${String(++accountCounter).padStart(4, '0')}`;
  const credentials: Credentials = await credentialsIn(endpoint, account, REGION);
  const opts = { endpoint, region: REGION, credentials, maxAttempts: 1 };
  const ec2 = new EC2Client(opts);
  const lt = await ec2.send(
    new CreateLaunchTemplateCommand({
      LaunchTemplateName: 'pipeline',
      LaunchTemplateData: { ImageId: OLD_IMAGE, InstanceType: 't3.micro' },
    }),
  );
  const templateId = lt.LaunchTemplate!.LaunchTemplateId!;
  for (const imageId of [NEW_IMAGE, BAD_IMAGE])
    await ec2.send(
      new CreateLaunchTemplateVersionCommand({
        LaunchTemplateId: templateId,
        SourceVersion: '1',
        LaunchTemplateData: { ImageId: imageId },
      }),
    );
  const asg = new AutoScalingClient(opts);
  await asg.send(
    new CreateAutoScalingGroupCommand({
      AutoScalingGroupName: 'pipeline-workers',
      LaunchTemplate: { LaunchTemplateId: templateId, Version: '1' },
      MinSize: 2,
      MaxSize: 2,
      DesiredCapacity: 2,
      AvailabilityZones: [`${REGION}a`],
    }),
  );
  return { account, asg, cw: new CloudWatchClient(opts), templateId, group: 'pipeline-workers' };
}

function start(f: Fleet, version: string, preferences: StartInstanceRefreshCommandInput['Preferences'] = {}) {
  return f.asg.send(
    new StartInstanceRefreshCommand({
      AutoScalingGroupName: f.group,
      DesiredConfiguration: { LaunchTemplate: { LaunchTemplateId: f.templateId, Version: version } },
      Preferences: { MinHealthyPercentage: 90, SkipMatching: true, ...preferences },
    }),
  );
}

async function refreshes(f: Fleet): Promise<InstanceRefresh[]> {
  return (
    (await f.asg.send(new DescribeInstanceRefreshesCommand({ AutoScalingGroupName: f.group }))).InstanceRefreshes ?? []
  );
}

/** Polls the newest refresh until `done` says so; returns every status seen, in order. */
async function follow(f: Fleet, done: (r: InstanceRefresh) => boolean, timeoutMs = 15_000) {
  const seen: string[] = [];
  const percentages: number[] = [];
  const until = Date.now() + timeoutMs;
  for (;;) {
    const [r] = await refreshes(f);
    if (seen[seen.length - 1] !== r.Status) seen.push(r.Status!);
    percentages.push(r.PercentageComplete ?? 0);
    if (done(r)) return { refresh: r, seen, percentages };
    if (Date.now() > until)
      throw new Error(`refresh still ${r.Status} after ${timeoutMs} ms (seen ${seen.join(' → ')})`);
    await sleep(100);
  }
}

async function groupVersion(f: Fleet): Promise<string | undefined> {
  const out = await f.asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [f.group] }));
  return out.AutoScalingGroups?.[0].LaunchTemplate?.Version;
}

/** The SDK names Auto Scaling's modelled errors `<Code>Fault`; the wire code is AWS's. */
async function refusedWith(promise: Promise<unknown>, code: string): Promise<void> {
  const err = (await caught(promise)) as Error & { Code?: string };
  expect(err.name).toBe(`${code}Fault`);
  expect(err.Code).toBe(code);
}

const terminal = (r: InstanceRefresh) =>
  ['Successful', 'Failed', 'Cancelled', 'RollbackSuccessful', 'RollbackFailed'].includes(r.Status!);

beforeAll(async () => {
  moto = await startMotoServer();
  motoUrl = moto.url;
  proxy = createAwsProxy({ upstream: motoUrl });
  proxyUrl = `http://127.0.0.1:${await proxy.listen(0)}`;
}, 60_000);

afterAll(async () => {
  await proxy?.close();
  await moto?.stop();
});

beforeEach(async () => {
  await admin('DELETE', 'faults');
  await admin('DELETE', 'autoscaling/refreshes');
});

describe('instance refresh', () => {
  it('moto does not implement it (HTTP 500)', async () => {
    const f = await fleetAccount(motoUrl);
    const err = await caught(start(f, '2'));
    expect(err.$metadata?.httpStatusCode).toBe(500);
  });

  it('runs Pending → InProgress (advancing) → Successful, refuses a second start meanwhile, then the group is on the desired version', async () => {
    await putPlan(FAST);
    const f = await fleetAccount();
    const { InstanceRefreshId } = await start(f, '2', { CheckpointPercentages: [50, 100], CheckpointDelay: 300 });
    expect(InstanceRefreshId).toMatch(/^[0-9a-f-]{36}$/);
    await refusedWith(start(f, '2'), 'InstanceRefreshInProgress');
    expect(await groupVersion(f)).toBe('1');

    const { refresh, seen, percentages } = await follow(f, terminal);
    expect(seen[0]).toBe('Pending');
    expect(seen).toContain('InProgress');
    expect(seen[seen.length - 1]).toBe('Successful');
    expect(percentages.some((p) => p > 0 && p < 100)).toBe(true);
    expect(percentages).toContain(50); // held at the checkpoint (300 AWS seconds = 300 ms)
    expect(percentages).toEqual([...percentages].sort((a, b) => a - b));
    expect(refresh).toMatchObject({
      InstanceRefreshId,
      PercentageComplete: 100,
      DesiredConfiguration: { LaunchTemplate: { LaunchTemplateId: f.templateId, Version: '2' } },
      Preferences: { MinHealthyPercentage: 90, SkipMatching: true, CheckpointPercentages: [50, 100] },
    });
    expect(refresh.EndTime).toBeInstanceOf(Date);
    expect(await groupVersion(f)).toBe('2');

    const ledger = await admin<{ refreshes: RefreshLedgerEntry[]; starts: RefreshStartCount[] }>(
      'GET',
      'autoscaling/refreshes',
    );
    expect(ledger.json.starts).toEqual([{ account: f.account, region: REGION, groupName: f.group, starts: 1 }]);
    expect(ledger.json.refreshes[0]).toMatchObject({
      instanceRefreshId: InstanceRefreshId,
      startedBy: 'client',
      status: 'Successful',
      applied: true,
      desired: { version: '2', imageId: NEW_IMAGE },
      previous: { version: '1' },
    });
  });

  it('SkipMatching to the version the group is on finishes at once', async () => {
    await putPlan({ ...FAST, refreshDurationMs: 60_000 });
    const f = await fleetAccount();
    await start(f, '1');
    const { seen } = await follow(f, terminal, 5000);
    expect(seen[seen.length - 1]).toBe('Successful');
  });

  it('cancel: Cancelling → Cancelled, the group stays on its version; cancel or rollback without a running refresh → ActiveInstanceRefreshNotFound', async () => {
    await putPlan({ ...FAST, refreshDurationMs: 60_000 });
    const f = await fleetAccount();
    const { InstanceRefreshId } = await start(f, '2');
    const cancelled = await f.asg.send(new CancelInstanceRefreshCommand({ AutoScalingGroupName: f.group }));
    expect(cancelled.InstanceRefreshId).toBe(InstanceRefreshId);
    const { seen } = await follow(f, terminal);
    expect(seen).toEqual(['Cancelling', 'Cancelled']);
    expect(await groupVersion(f)).toBe('1');
    await refusedWith(
      f.asg.send(new CancelInstanceRefreshCommand({ AutoScalingGroupName: f.group })),
      'ActiveInstanceRefreshNotFound',
    );
    await refusedWith(
      f.asg.send(new RollbackInstanceRefreshCommand({ AutoScalingGroupName: f.group })),
      'ActiveInstanceRefreshNotFound',
    );
  });

  it('rollback while it runs: RollbackInProgress → RollbackSuccessful, group on the previous version; $Latest cannot be rolled back', async () => {
    await putPlan({ ...FAST, refreshDurationMs: 2000 });
    const f = await fleetAccount();
    await start(f, '2');
    await follow(f, (r) => (r.PercentageComplete ?? 0) >= 20);
    await f.asg.send(new RollbackInstanceRefreshCommand({ AutoScalingGroupName: f.group }));
    const { refresh, seen } = await follow(f, terminal);
    expect(seen).toEqual(['RollbackInProgress', 'RollbackSuccessful']);
    expect(refresh.RollbackDetails?.PercentageCompleteOnRollback).toBe(100);
    expect(await groupVersion(f)).toBe('1');

    await start(f, '$Latest');
    await refusedWith(
      f.asg.send(new RollbackInstanceRefreshCommand({ AutoScalingGroupName: f.group })),
      'IrreversibleInstanceRefresh',
    );
  });

  it('invalid input is refused with ValidationError', async () => {
    const f = await fleetAccount();
    const bad = await caught(start(f, '2', { MinHealthyPercentage: 150 }));
    expect(bad.name).toBe('ValidationError');
    expect(bad.message).toContain('MinHealthyPercentage');
    expect((await caught(start(f, '9'))).name).toBe('ValidationError');
    const noGroup = await caught(
      f.asg.send(new StartInstanceRefreshCommand({ AutoScalingGroupName: 'no-such-group' })),
    );
    expect(noGroup.name).toBe('ValidationError');
  });
});

describe('fault plan: autoscaling', () => {
  it('a poisoned image fails the refresh and rolls it back (AutoRollback) or ends Failed', async () => {
    await putPlan({ ...FAST, poisonedImages: [{ imageId: BAD_IMAGE, failAtPercent: 30 }] });
    const rolled = await fleetAccount();
    await start(rolled, '3', { AutoRollback: true });
    const r1 = await follow(rolled, terminal);
    expect(r1.seen).toContain('RollbackInProgress');
    expect(r1.refresh.Status).toBe('RollbackSuccessful');
    expect(r1.refresh.StatusReason).toContain(BAD_IMAGE);
    expect(Math.max(...r1.percentages)).toBeLessThanOrEqual(30);
    expect(await groupVersion(rolled)).toBe('1');

    const failed = await fleetAccount();
    await start(failed, '3', { AutoRollback: false });
    const r2 = await follow(failed, terminal);
    expect(r2.refresh.Status).toBe('Failed');
    expect(r2.seen).not.toContain('RollbackInProgress');
    expect(await groupVersion(failed)).toBe('1');

    // the same image is fine in an account the entry does not name
    await putPlan({ ...FAST, poisonedImages: [{ imageId: BAD_IMAGE, accounts: [failed.account] }] });
    const other = await fleetAccount();
    await start(other, '3', { AutoRollback: true });
    expect((await follow(other, terminal)).refresh.Status).toBe('Successful');
  });

  it('rollbackFailed: the rollback in the chosen account ends RollbackFailed', async () => {
    const f = await fleetAccount();
    await putPlan({ ...FAST, poisonedImages: [{ imageId: BAD_IMAGE }], rollbackFailed: [{ accounts: [f.account] }] });
    await start(f, '3', { AutoRollback: true });
    const { refresh, seen } = await follow(f, terminal);
    expect(seen).toContain('RollbackInProgress');
    expect(refresh.Status).toBe('RollbackFailed');
  });

  it("someone else's refresh is InProgress on the group: a start is refused, the ledger shows it was not ours", async () => {
    const f = await fleetAccount();
    await putPlan({ ...FAST, foreignRefreshes: [{ accounts: [f.account], durationMs: 1500 }] });
    const [foreign] = await refreshes(f);
    expect(foreign.Status).toBe('InProgress');
    await refusedWith(start(f, '2'), 'InstanceRefreshInProgress');
    await follow(f, terminal);
    await start(f, '2');
    expect((await follow(f, terminal)).refresh.Status).toBe('Successful');
    const ledger = await admin<{ refreshes: RefreshLedgerEntry[]; starts: RefreshStartCount[] }>(
      'GET',
      'autoscaling/refreshes',
    );
    expect(ledger.json.refreshes.map((r) => r.startedBy)).toEqual(['someone-else', 'client']);
    expect(ledger.json.starts).toEqual([{ account: f.account, region: REGION, groupName: f.group, starts: 1 }]);
  });

  it('slow refreshes take their own duration in the chosen account', async () => {
    const slow = await fleetAccount();
    const quick = await fleetAccount();
    await putPlan({ ...FAST, slowRefreshes: [{ accounts: [slow.account], durationMs: 60_000 }] });
    await start(slow, '2');
    await start(quick, '2');
    await follow(quick, terminal);
    const [r] = await refreshes(slow);
    expect(r.Status).toBe('InProgress');
    expect(r.PercentageComplete).toBeLessThan(10);
  });

  it('alarms after an image: the group health alarm goes to ALARM once the refresh is Successful', async () => {
    const f = await fleetAccount();
    await putPlan({ ...FAST, alarms: [{ imageId: NEW_IMAGE, afterMs: 200 }] });
    await start(f, '2');
    await follow(f, terminal);
    const until = Date.now() + 5000;
    let state: string | undefined;
    while (Date.now() < until) {
      const out = await f.cw.send(new DescribeAlarmsCommand({ AlarmNames: [`${f.group}-health`] }));
      state = out.MetricAlarms?.[0]?.StateValue;
      if (state === 'ALARM') break;
      await sleep(100);
    }
    expect(state).toBe('ALARM');
    const view = await admin<{ alarms: Array<{ alarmName: string; result: string; account: string }> }>(
      'GET',
      'autoscaling',
    );
    expect(view.json.alarms).toEqual([
      expect.objectContaining({ alarmName: `${f.group}-health`, result: 'ALARM', account: f.account }),
    ]);
  });

  it('an AlarmSpecification alarm in ALARM while the refresh runs rolls it back', async () => {
    const f = await fleetAccount();
    await putPlan({ ...FAST, refreshDurationMs: 60_000 });
    await f.cw.send(
      new PutMetricAlarmCommand({
        AlarmName: 'pipeline-errors',
        Namespace: 'Pipeline',
        MetricName: 'Errors',
        Statistic: 'Sum',
        Period: 60,
        EvaluationPeriods: 1,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      }),
    );
    await start(f, '2', { AutoRollback: true, AlarmSpecification: { Alarms: ['pipeline-errors'] } });
    await follow(f, (r) => r.Status === 'InProgress');
    await f.cw.send(
      new SetAlarmStateCommand({ AlarmName: 'pipeline-errors', StateValue: 'ALARM', StateReason: 'test' }),
    );
    const { refresh } = await follow(f, terminal);
    expect(refresh.Status).toBe('RollbackSuccessful');
    expect(refresh.StatusReason).toContain('alarm');
    expect(await groupVersion(f)).toBe('1');
  });

  it('the plan section is validated, naming the bad field', async () => {
    const res = await admin('PUT', 'faults', {
      rules: [],
      autoscaling: { poisonedImages: [{ imageId: 'not-an-ami' }] },
    });
    expect(res.status).toBe(400);
    expect(res.json.message).toContain('autoscaling.poisonedImages[0].imageId');
  });
});

describe('refresh timeline (pure)', () => {
  const times: RefreshTimes = {
    startedAt: 0,
    pendingMs: 100,
    durationMs: 1000,
    checkpoints: [50],
    checkpointDelayMs: 500,
    bakeMs: 200,
    autoRollback: true,
    rollbackFails: false,
  };
  it('pauses at checkpoints, bakes, then succeeds', () => {
    expect(percentAt(times, 250)).toBe(25);
    expect(percentAt(times, 700)).toBe(50);
    expect(percentAt(times, 1250)).toBe(75);
    expect(refreshStateAt(times, 50).status).toBe('Pending');
    expect(refreshStateAt(times, 700).status).toBe('InProgress');
    expect(refreshStateAt(times, 1700).status).toBe('Baking');
    expect(refreshStateAt(times, 1800)).toMatchObject({ status: 'Successful', endedAt: 1800 });
  });
  it('a poisoned refresh rolls back in the time it took to get there', () => {
    const poisoned = { ...times, failAtPercent: 20 };
    expect(refreshStateAt(poisoned, 350)).toMatchObject({ status: 'RollbackInProgress', percentageComplete: 20 });
    expect(refreshStateAt(poisoned, 600)).toMatchObject({ status: 'RollbackSuccessful', endedAt: 500 });
    expect(refreshStateAt({ ...poisoned, autoRollback: false }, 600).status).toBe('Failed');
  });
});
