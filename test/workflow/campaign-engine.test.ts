import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { WorkflowFailedError, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, bundleWorkflowCode } from '@temporalio/worker';
import { createCampaignActivities } from '../../activities/campaign/campaign-activities';
import { simulatedFleet } from '../../cli/sim/simulated-fleet';
import type { FleetAccount } from '../../fleet/fleet-schema';
import { stringifyFleet } from '../../fleet/load-fleet';
import type { FleetCampaignInput } from '../../workflows/campaign/campaign-input';
import {
  approveUpdate,
  cancelUpdate,
  pauseUpdate,
  resumeUpdate,
  retryAccountUpdate,
  skipAccountUpdate,
  statusQuery,
  type CampaignStatus,
} from '../../workflows/campaign/campaign-messages';
import type { CampaignReport } from '../../workflows/campaign/fleet-campaign';
import { worstCaseFailures } from '../../workflows/campaign/campaign-budget';
import {
  SNAPSHOT_LIST_LIMIT,
  STATUS_MEMO_KEY,
  snapshotFromMemo,
  type CampaignSnapshot,
} from '../../workflows/campaign/campaign-snapshot';
import { SNAPSHOT_EVERY_MS } from '../../workflows/campaign/status-memo';
import { formatProblems } from '../../cli/commands/campaign-status-view';
import { createFakeAccountActivities, maxConcurrent, type FakeBehaviour } from '../support/fake-account-activities';
import { timeSkippingEnv } from '../support/time-skipping';
import { cleanUp } from '../support/cleanup';
import { decodedHistoryText } from '../support/history-scan';
import { historyToJSON } from '../support/history-json';

// The engine on Temporal's time-skipping test server, with a stand-in per-account child (see
// test/support/fake-workflows) so hours of bake and maintenance windows pass in seconds.

let env: TestWorkflowEnvironment;
let worker: Worker;
let workflowBundle: Awaited<ReturnType<typeof bundleWorkflowCode>>;
let running: Promise<void>;
let behave: (accountId: string, attempt: number) => FakeBehaviour;
const fake = createFakeAccountActivities((id, attempt) => behave(id, attempt));
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetops-engine-'));
const fleet = simulatedFleet(30); // canary 1, early 3, general 22, late 4
const fleetFile = path.join(dir, 'fleet.yaml');
let seq = 0;

beforeAll(async () => {
  fs.writeFileSync(fleetFile, stringifyFleet(fleet));
  env = await timeSkippingEnv();
  workflowBundle = await bundleWorkflowCode({
    workflowsPath: path.resolve(__dirname, '../support/fake-workflows'),
    logger: quiet,
  });
  worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue: 'engine',
    workflowBundle,
    activities: { ...createCampaignActivities({ fleetDirs: [dir] }), ...fake.activities },
  });
  running = worker.run();
}, 120_000);

afterAll(() =>
  cleanUp({
    worker: async () => {
      worker?.shutdown();
      await running;
    },
    env: () => env?.teardown(),
    dir: () => fs.rmSync(dir, { recursive: true, force: true }),
  }),
);

beforeEach(() => {
  fake.log.length = 0;
  behave = () => ({ outcome: 'upgraded', durationMs: 60_000 });
});

const quiet = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} };
const base = (o: Partial<FleetCampaignInput> = {}): FleetCampaignInput => ({
  operation: 'upgrade',
  fleetFile,
  upgrade: { targetVersion: '1.1.0' },
  maxInFlight: 5,
  maxWaveSize: 10,
  ...o,
});
const start = (o: Partial<FleetCampaignInput> = {}) =>
  env.client.workflow.start('fleetCampaign', {
    taskQueue: 'engine',
    workflowId: `campaign-${++seq}`,
    args: [base(o)],
  }) as Promise<WorkflowHandle<(i: FleetCampaignInput) => Promise<CampaignReport>>>;
const run = async (o: Partial<FleetCampaignInput> = {}) => {
  const h = await start(o);
  return { report: await h.result(), ev: fake.eventsOf(h.workflowId) };
};

/** An update the workflow's validator must reject, with a message matching `why`. */
async function rejected(p: Promise<unknown>, why: RegExp): Promise<void> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WorkflowUpdateFailedError);
  expect((err as WorkflowUpdateFailedError).cause?.message).toMatch(why);
}

/** Advances test-server time until the campaign's status satisfies `ok`. */
async function waitFor(
  handle: WorkflowHandle,
  ok: (s: CampaignStatus) => boolean,
  what: string,
): Promise<CampaignStatus> {
  for (let i = 0; i < 400; i++) {
    const s = await handle.query(statusQuery);
    if (ok(s)) return s;
    await env.sleep('10 seconds');
  }
  throw new Error(`campaign never reached: ${what}`);
}

type Ev = typeof fake.log;
const startsOf = (ev: Ev, ids: string[]) => ev.filter((e) => e.event === 'start' && ids.includes(e.accountId));
const finishesOf = (ev: Ev, ids: string[]) => ev.filter((e) => e.event === 'finish' && ids.includes(e.accountId));
const evOf = (h: WorkflowHandle) => fake.eventsOf(h.workflowId);
const ring = (r: FleetAccount['ring']) => fleet.filter((a) => a.ring === r).map((a) => a.id);

describe('fleetCampaign engine (time-skipping)', () => {
  const roomy = { failureBudget: { maxFailures: 10 } };

  it('runs waves in ring order, each wave only after the previous one finished, never above maxInFlight', async () => {
    const { report, ev } = await run(roomy);
    expect(report.phase).toBe('completed');
    expect(report.counts.upgraded).toBe(30);
    expect(report.waves.map((w) => w.name)).toEqual([
      'canary-1',
      'early-1',
      'general-1',
      'general-2',
      'general-3',
      'late-1',
    ]);
    // Waves in order, general split in fleet order into waves of at most maxWaveSize (10); each wave
    // starts when the one before it has finished (no bake: at once), within a ring as between rings.
    const general = ring('general');
    const waves = [
      ring('canary'),
      ring('early'),
      general.slice(0, 10),
      general.slice(10, 20),
      general.slice(20),
      ring('late'),
    ];
    expect(report.waves.map((w) => w.size)).toEqual(waves.map((w) => w.length));
    for (const [i, ids] of waves.entries()) {
      const started = startsOf(ev, ids).map((e) => e.accountId);
      expect(started.sort(), report.waves[i].name).toEqual([...ids].sort());
      expect(finishesOf(ev, ids), report.waves[i].name).toHaveLength(ids.length);
    }
    for (let w = 1; w < waves.length; w++) {
      const lastFinish = Math.max(...finishesOf(ev, waves[w - 1]).map((e) => e.at));
      const firstStart = Math.min(...startsOf(ev, waves[w]).map((e) => e.at));
      const gap = firstStart - lastFinish;
      expect(gap, `${report.waves[w - 1].name} → ${report.waves[w].name}`).toBeGreaterThanOrEqual(0);
      expect(gap, `${report.waves[w - 1].name} → ${report.waves[w].name}`).toBeLessThan(5_000);
      // every start of a wave comes after every finish of the wave before it
      const lastFinishSeq = Math.max(
        ...ev.flatMap((e, i) => (e.event === 'finish' && waves[w - 1].includes(e.accountId) ? [i] : [])),
      );
      const firstStartSeq = Math.min(
        ...ev.flatMap((e, i) => (e.event === 'start' && waves[w].includes(e.accountId) ? [i] : [])),
      );
      expect(firstStartSeq).toBeGreaterThan(lastFinishSeq);
    }
    expect(maxConcurrent(ev)).toBe(5);
    // every account started exactly once, as child `${campaignId}/${accountId}`
    const starts = ev.filter((e) => e.event === 'start');
    expect(starts).toHaveLength(30);
    expect(new Set(starts.map((e) => e.workflowId)).size).toBe(30);
    expect(starts[0].workflowId).toMatch(/^campaign-\d+\/\d{12}$/);
  });

  it('failure budget: the window shrinks as failures accumulate, the campaign pauses at the budget, resume continues', async () => {
    const general = ring('general');
    const bad = new Set(general.slice(0, 6));
    behave = (id) =>
      bad.has(id)
        ? { outcome: 'rolled-back', durationMs: 60_000, reason: 'alarm pipeline-health' }
        : { outcome: 'upgraded', durationMs: 60_000 };
    const handle = await start({ maxWaveSize: 30, failureBudget: { maxFailures: 3, onExceeded: 'pause' } });
    const paused = await waitFor(handle, (s) => s.phase === 'paused', 'paused by the budget');
    expect(paused.phaseReason).toMatch(/failure budget of wave general-1 used up \(3 of 3/);
    expect(paused.waves.find((w) => w.name === 'general-1')!.failures).toBe(3); // never more failures than the budget
    expect(paused.problems.filter((p) => p.state === 'rolled-back')).toHaveLength(3);
    expect(paused.problems[0].reason).toBe('alarm pipeline-health');
    expect(paused.window).toBe(0);
    // The window is the failures still allowed (3 < maxInFlight 5): exactly 3 ran at once, all failed,
    // and nothing more started.
    expect(maxConcurrent(evOf(handle).filter((e) => general.includes(e.accountId)))).toBe(3);
    const startedBeforeResume = startsOf(evOf(handle), general).length;
    expect(startedBeforeResume).toBe(3);
    await env.sleep('30 minutes');
    expect(startsOf(evOf(handle), general).length).toBe(startedBeforeResume); // paused: nothing new starts
    await handle.executeUpdate(resumeUpdate);
    const paused2 = await waitFor(
      handle,
      (s) => s.phase === 'paused' || s.phase === 'completed',
      'resumed and paused again',
    );
    expect(paused2.phase).toBe('paused'); // the other 3 bad accounts use up a fresh budget
    expect(
      startsOf(evOf(handle), general)
        .map((e) => e.accountId)
        .sort(),
    ).toEqual(general.slice(0, 6).sort());
    await handle.executeUpdate(resumeUpdate);
    const report = await handle.result();
    expect(report.phase).toBe('completed');
    expect(report.counts['rolled-back']).toBe(6);
    expect(report.counts.upgraded).toBe(24);
  });

  it('unhealthy-before accounts (alarm already in ALARM) do not consume the failure budget and are listed with their alarm', async () => {
    const general = ring('general');
    const unhealthy = general.slice(0, 5);
    const rolledBack = general[5];
    behave = (id) =>
      unhealthy.includes(id)
        ? {
            outcome: 'unhealthy-before',
            durationMs: 1000,
            reason: 'alarm data-pipeline-health in ALARM in eu-west-1 (fixture) before the change; not touched',
          }
        : id === rolledBack
          ? { outcome: 'rolled-back', durationMs: 60_000, reason: 'alarm data-pipeline-health' }
          : { outcome: 'upgraded', durationMs: 60_000 };
    // a budget of 2: five unhealthy accounts would spend it twice over if they counted
    const handle = await start({ maxWaveSize: 30, failureBudget: { maxFailures: 2, onExceeded: 'pause' } });
    const report = await handle.result();
    expect(report.phase).toBe('completed');
    expect(report.counts['unhealthy-before']).toBe(5);
    expect(report.counts['rolled-back']).toBe(1);
    expect(report.counts.upgraded).toBe(fleet.length - 6);
    const wave = report.waves.find((w) => w.name === 'general-1')!;
    expect(wave.failures).toBe(1); // only the rolled-back account
    const listed = report.problems.filter((p) => p.state === 'unhealthy-before');
    expect(listed.map((p) => p.accountId).sort()).toEqual([...unhealthy].sort());
    expect(listed[0].reason).toMatch(/alarm data-pipeline-health in ALARM in eu-west-1/);
    // strict with 2 failures allowed: two at once all along (no unhealthy account shrank the window)
    expect(maxConcurrent(evOf(handle).filter((e) => general.includes(e.accountId)))).toBe(2);
  });

  it('budget with onExceeded cancel: the campaign ends cancelled and later waves are never touched', async () => {
    const canaryAndEarly = [...ring('canary'), ...ring('early')];
    behave = (id) =>
      canaryAndEarly.includes(id)
        ? { outcome: 'quarantined', durationMs: 1000, reason: 'UPDATE_ROLLBACK_FAILED' }
        : { outcome: 'upgraded', durationMs: 1000 };
    const { report, ev } = await run({ failureBudget: { maxFailures: 1, onExceeded: 'cancel' } });
    expect(report.phase).toBe('cancelled');
    expect(report.phaseReason).toMatch(/failure budget of wave canary-1/);
    expect(ev.filter((e) => e.event === 'start').map((e) => e.accountId)).toEqual(ring('canary'));
  });

  it('bakes between waves', async () => {
    const { report, ev } = await run({ ...roomy, waveBakeSeconds: 3600, select: { rings: ['canary', 'early'] } });
    expect(report.counts.upgraded).toBe(4);
    expect(finishesOf(ev, ring('canary'))).toHaveLength(1);
    expect(startsOf(ev, ring('early'))).toHaveLength(3);
    const canaryEnd = Math.max(...finishesOf(ev, ring('canary')).map((e) => e.at));
    const earlyStart = Math.min(...startsOf(ev, ring('early')).map((e) => e.at));
    // the bake, and not more: the early wave starts when the hour is over
    expect(earlyStart - canaryEnd).toBeGreaterThanOrEqual(3600_000);
    expect(earlyStart - canaryEnd).toBeLessThan(3600_000 + 5_000);
  });

  it('waits at an approval gate until approved (a wrong wave is rejected)', async () => {
    const handle = await start({ ...roomy, approvalBefore: ['early'], select: { rings: ['canary', 'early'] } });
    const waiting = await waitFor(handle, (s) => s.phase === 'awaiting-approval', 'approval gate');
    expect(waiting.currentWave).toBe('early-1');
    await env.sleep('2 hours');
    expect(startsOf(evOf(handle), ring('early'))).toHaveLength(0);
    await rejected(
      handle.executeUpdate(approveUpdate, { args: [{ wave: 'general-1' }] }),
      /not the wave waiting for approval \(early-1\)/,
    );
    await handle.executeUpdate(approveUpdate, { args: [{ wave: 'early-1' }] });
    const report = await handle.result();
    expect(report.counts.upgraded).toBe(4);
  });

  it('starts an account only inside its maintenance window', async () => {
    const now = new Date(await env.currentTimeMs());
    const opens = new Date(now.getTime() + 3 * 3600_000);
    const hhmm = `${String(opens.getUTCHours()).padStart(2, '0')}:${String(opens.getUTCMinutes()).padStart(2, '0')}`;
    const everyDay = [
      'mon',
      'tue',
      'wed',
      'thu',
      'fri',
      'sat',
      'sun',
    ] as FleetAccount['maintenanceWindow'] extends infer W ? (W extends { days: infer D } ? D : never) : never;
    const windowed: FleetAccount[] = fleet.map((a) =>
      a.ring === 'early'
        ? { ...a, maintenanceWindow: { days: everyDay, start: hhmm, durationMinutes: 120, timezone: 'UTC' } }
        : a,
    );
    const file = path.join(dir, 'windows.yaml');
    fs.writeFileSync(file, stringifyFleet(windowed));
    const { report, ev } = await run({ ...roomy, fleetFile: file, select: { rings: ['canary', 'early'] } });
    expect(report.counts.upgraded).toBe(4);
    const earlyStarts = startsOf(ev, ring('early'));
    expect(earlyStarts).toHaveLength(3);
    // The window opens at hh:mm (seconds dropped) and lasts 120 minutes: every early account starts
    // as it opens (within its first minute) and finishes before it ends.
    const windowStart = Math.floor(opens.getTime() / 60_000) * 60_000;
    const windowEnd = windowStart + 120 * 60_000;
    for (const s of earlyStarts) {
      expect(s.at).toBeGreaterThanOrEqual(windowStart);
      expect(s.at).toBeLessThan(windowStart + 60_000);
    }
    for (const f of finishesOf(ev, ring('early'))) expect(f.at).toBeLessThan(windowEnd);
    for (const s of startsOf(ev, ring('canary'))) expect(s.at).toBeLessThan(opens.getTime() - 3600_000); // no window: at once
  });

  it('pause stops new starts, resume continues, cancel ends with the rest untouched', async () => {
    const handle = await start({ ...roomy, maxWaveSize: 30, maxInFlight: 2 });
    await waitFor(handle, (s) => (s.counts.upgraded ?? 0) >= 6, 'some progress');
    await handle.executeUpdate(pauseUpdate, { args: [{ reason: 'investigating' }] });
    await rejected(handle.executeUpdate(pauseUpdate, { args: [{}] }), /already paused/);
    const before = evOf(handle).filter((e) => e.event === 'start').length;
    await env.sleep('1 hour');
    const paused = await handle.query(statusQuery);
    expect(paused.phase).toBe('paused');
    expect(paused.phaseReason).toBe('investigating');
    expect(evOf(handle).filter((e) => e.event === 'start').length).toBe(before);
    await handle.executeUpdate(resumeUpdate);
    await waitFor(handle, (s) => (s.counts.upgraded ?? 0) >= before + 4, 'more progress');
    await handle.executeUpdate(cancelUpdate, { args: [{ reason: 'change freeze' }] });
    const report = await handle.result();
    expect(report.phase).toBe('cancelled');
    expect(report.phaseReason).toBe('change freeze');
    expect(report.counts.pending).toBeGreaterThan(0);
    expect(report.counts.running ?? 0).toBe(0);
    await expect(handle.executeUpdate(resumeUpdate)).rejects.toThrow();
  });

  it('retry re-runs a failed account as a new child; skip leaves a pending account untouched; bad requests are rejected', async () => {
    const [canary] = ring('canary');
    const early = ring('early');
    behave = (id, attempt) =>
      id === canary && attempt === 1
        ? { outcome: 'rolled-back', durationMs: 60_000, reason: 'poisoned' }
        : { outcome: 'upgraded', durationMs: 60_000 };
    const handle = await start({
      approvalBefore: ['early'],
      select: { rings: ['canary', 'early'] },
      failureBudget: { maxFailures: 5 },
    });
    await waitFor(handle, (s) => s.phase === 'awaiting-approval', 'gate');
    await rejected(
      handle.executeUpdate(retryAccountUpdate, { args: [{ accountId: '999999999999' }] }),
      /account 999999999999 is not in campaign/,
    );
    await rejected(
      handle.executeUpdate(retryAccountUpdate, { args: [{ accountId: early[0] }] }),
      /only failed, rolled-back, quarantined, skipped \(also skipped-busy\) or unhealthy-before/,
    );
    await handle.executeUpdate(skipAccountUpdate, { args: [{ accountId: early[1] }] });
    const retried = await handle.executeUpdate(retryAccountUpdate, { args: [{ accountId: canary }] });
    expect(retried.counts.pending).toBeGreaterThan(0);
    await handle.executeUpdate(approveUpdate, { args: [{}] });
    const report = await handle.result();
    const ev = evOf(handle);
    expect(startsOf(ev, [canary]).map((e) => e.workflowId)).toEqual([
      `${handle.workflowId}/${canary}`,
      `${handle.workflowId}/${canary}/retry-1`,
    ]);
    expect(startsOf(ev, [early[1]])).toHaveLength(0);
    expect(report.counts.upgraded).toBe(3);
    expect(report.counts.skipped).toBe(1);
    expect(report.problems).toEqual([
      expect.objectContaining({ accountId: early[1], state: 'skipped', reason: 'skipped by operator' }),
    ]);
  });

  it("a retry that arrives after the run's last start runs in the next run (the campaign does not hang)", async () => {
    const general = ring('general').slice(0, 3);
    behave = (id, attempt) =>
      id === general[0] && attempt === 1
        ? { outcome: 'failed', reason: 'boom', durationMs: 1_000 }
        : { outcome: 'upgraded', durationMs: 600_000 };
    const handle = await start({
      ...roomy,
      select: { ids: general },
      accountsPerRun: 3,
      maxInFlight: 3,
      failureBudget: { maxFailures: 5 },
    });
    await waitFor(handle, (s) => s.counts.failed === 1 && s.inFlight === 2, 'first account failed, two running');
    const queued = await handle.executeUpdate(retryAccountUpdate, { args: [{ accountId: general[0] }] });
    expect(queued.run).toBe(1);
    const report = await handle.result();
    expect(report.counts).toEqual({ upgraded: 3 });
    expect(report.run).toBe(2);
    expect(startsOf(evOf(handle), [general[0]]).map((e) => e.workflowId)).toEqual([
      `${handle.workflowId}/${general[0]}`,
      `${handle.workflowId}/${general[0]}/retry-1`,
    ]);
  });

  it('continues as new with exact state: every account run exactly once across runs', async () => {
    const { report, ev } = await run({ ...roomy, accountsPerRun: 7, maxWaveSize: 30 });
    expect(report.run).toBeGreaterThanOrEqual(5);
    expect(report.counts.upgraded).toBe(30);
    const starts = ev.filter((e) => e.event === 'start').map((e) => e.accountId);
    expect(starts.sort()).toEqual(fleet.map((a) => a.id).sort());
  });

  it('plan mode reports per account', async () => {
    behave = () => ({ outcome: 'planned', durationMs: 1000 });
    const { report } = await run({ plan: true, select: { rings: ['canary'] } });
    expect(report.plan).toBe(true);
    expect(report.counts.planned).toBe(1);
    expect(report.planReport).toEqual([{ accountId: ring('canary')[0], regions: [] }]);
  });

  it('invalid input (one JSON object, as the Temporal UI sends it) fails at once naming each bad field', async () => {
    const workflowId = `campaign-bad-${++seq}`;
    const err = await env.client.workflow
      .execute('fleetCampaign', {
        taskQueue: 'engine',
        workflowId,
        args: [
          {
            operation: 'upgrade',
            fleetFile,
            maxInFlight: 0,
            upgrade: { targetVersion: '1.1' },
            failureBudget: { maxFailurePercent: 150 },
            extra: 1,
          },
        ],
      })
      .catch((e) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const message = (err as WorkflowFailedError).cause?.message ?? '';
    for (const field of ['maxInFlight', 'upgrade.targetVersion', 'failureBudget.maxFailurePercent', 'extra'])
      expect(message).toContain(field);
    expect(fake.eventsOf(workflowId)).toHaveLength(0);
  });

  it('an unknown account id in the selection fails the campaign before anything runs', async () => {
    const err = await run({ select: { ids: ['999999999999'] } }).catch((e) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const cause = (err as WorkflowFailedError).cause as Error & { cause?: Error };
    expect(cause.cause?.message ?? cause.message).toContain('999999999999');
  });
});

describe('concurrency mode: strict shrinks the window to the failures left, soft keeps maxInFlight (time-skipping)', () => {
  const general = ring('general'); // 22 accounts, one wave with maxWaveSize 30
  const onlyGeneral = { select: { rings: ['general' as const] }, maxWaveSize: 30 };
  /** The UI's live details (Temporal user metadata) of a campaign. */
  const currentDetails = async (h: WorkflowHandle) =>
    (await h.query<{ currentDetails?: string }>('__temporal_workflow_metadata')).currentDetails ?? '';
  const startsAfter = (ev: Ev, at: number) => ev.filter((e) => e.event === 'start' && e.at >= at);

  it('a budget of one failure: strict runs the wave one account at a time, soft runs maxInFlight at once', async () => {
    const strict = await run({ ...onlyGeneral, maxInFlight: 10, failureBudget: { maxFailures: 1 } });
    const soft = await run({
      ...onlyGeneral,
      maxInFlight: 10,
      failureBudget: { maxFailures: 1 },
      concurrencyMode: 'soft',
    });
    for (const { report, ev } of [strict, soft]) {
      expect(report.phase).toBe('completed');
      expect(report.counts.upgraded).toBe(22);
      expect(ev.filter((e) => e.event === 'start')).toHaveLength(22);
    }
    expect(strict.report.concurrencyMode).toBe('strict');
    expect(soft.report.concurrencyMode).toBe('soft');
    expect(maxConcurrent(strict.ev)).toBe(1);
    expect(maxConcurrent(soft.ev)).toBe(10);
    const span = (ev: Ev) => Math.max(...ev.map((e) => e.at)) - Math.min(...ev.map((e) => e.at));
    // 22 accounts of a minute each: one after the other vs. three batches of at most 10
    expect(span(strict.ev)).toBeGreaterThanOrEqual(22 * 60_000);
    expect(span(soft.ev)).toBeLessThan(4 * 60_000);
  });

  // Every account fails, the k-th after k minutes; budget 3, maxInFlight 5.
  const allFail = () => {
    behave = (id) => ({
      outcome: 'rolled-back',
      durationMs: (general.indexOf(id) + 1) * 60_000,
      reason: 'alarm pipeline-health',
    });
  };
  const spent = (s: CampaignStatus) => s.phase === 'paused' && s.inFlight === 0;

  it('strict: never more accounts at once than failures left, never past the budget; status says why the window is small', async () => {
    allFail();
    const handle = await start({ ...onlyGeneral, failureBudget: { maxFailures: 3 } });
    const first = await waitFor(handle, (s) => s.inFlight > 0, 'accounts running');
    expect(first.concurrencyMode).toBe('strict');
    expect(first.maxInFlight).toBe(5);
    expect(first.window).toBe(3);
    expect(first.windowReason).toBe('window 3 of 5: 3 failures left in the budget');
    const afterOne = await waitFor(handle, (s) => s.counts['rolled-back'] === 1, 'one failure');
    expect(afterOne.windowReason).toBe('window 2 of 5: 2 failures left in the budget');
    expect(await currentDetails(handle)).toContain('Concurrency mode: strict');
    const paused = await waitFor(handle, spent, 'budget spent, nothing in flight');
    await env.sleep('1 hour');
    const ev = evOf(handle);
    expect(ev.filter((e) => e.event === 'start')).toHaveLength(3);
    expect(maxConcurrent(ev)).toBe(3);
    const failures = paused.waves[0].failures;
    expect(failures).toBe(3);
    expect(failures).toBeLessThanOrEqual(worstCaseFailures(22, 3, 5, 'strict'));
    expect(paused.window).toBe(0);
    expect(paused.windowReason).toBe('window 0 of 5: the failure budget is spent');
    expect(paused.phaseReason).toMatch(/failure budget of wave general-1 used up \(3 of 3/);
    await handle.executeUpdate(cancelUpdate, { args: [{ reason: 'test over' }] });
    expect((await handle.result()).phase).toBe('cancelled');
  });

  it('soft: maxInFlight at once until the budget is spent, then no new start; the overshoot is at most the accounts in flight', async () => {
    allFail();
    const handle = await start({ ...onlyGeneral, failureBudget: { maxFailures: 3 }, concurrencyMode: 'soft' });
    const first = await waitFor(handle, (s) => s.inFlight > 0, 'accounts running');
    expect(first.concurrencyMode).toBe('soft');
    expect(first.window).toBe(5);
    expect(first.windowReason).toBeUndefined();
    const afterTwo = await waitFor(handle, (s) => s.counts['rolled-back'] === 2, 'two failures');
    expect(afterTwo.window).toBe(5); // soft: failures do not shrink the window while the budget lasts
    const paused = await waitFor(handle, spent, 'budget spent, in-flight accounts finished');
    await env.sleep('1 hour');
    const ev = evOf(handle);
    expect(maxConcurrent(ev)).toBe(5);
    // The budget was spent when the third account failed (after 3 minutes): nothing started from then on.
    const finishes = ev.filter((e) => e.event === 'finish').sort((a, b) => a.at - b.at);
    expect(finishes).toHaveLength(7);
    const budgetSpentAt = finishes[2].at;
    expect(startsAfter(ev, budgetSpentAt)).toEqual([]);
    // In flight at that moment: everything started and not yet finished (accounts 4-7 of the wave).
    const inFlightWhenSpent = ev.filter((e) => e.event === 'start').length - 3;
    expect(inFlightWhenSpent).toBe(4);
    const failures = paused.waves[0].failures;
    expect(failures).toBe(3 + inFlightWhenSpent); // the budget overshot by exactly the accounts in flight
    expect(failures).toBeLessThanOrEqual(worstCaseFailures(22, 3, 5, 'soft'));
    expect(failures - 3).toBeLessThanOrEqual(5 - 1);
    expect(paused.window).toBe(0);
    expect(paused.windowReason).toBe('window 0 of 5: the failure budget is spent');
    const details = await currentDetails(handle);
    expect(details).toContain('Concurrency mode: soft');
    expect(details).toContain('(window 0 of 5: the failure budget is spent)');
    await handle.executeUpdate(cancelUpdate, { args: [{ reason: 'test over' }] });
    expect((await handle.result()).phase).toBe('cancelled');
    // Soft mode is gated by a patch: its history carries the marker and replays against this code.
    const history = await handle.fetchHistory();
    const markers = (history.events ?? []).filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_patch');
    const patchIds = markers.map((e) =>
      Buffer.from(e.markerRecordedEventAttributes?.details?.['patch-data']?.payloads?.[0]?.data ?? []).toString(),
    );
    expect(patchIds.filter((d) => d.includes('"soft-concurrency-mode"'))).toHaveLength(1);
    const text = decodedHistoryText(historyToJSON(history));
    expect(text).toContain('campaign-lease-wait-limit');
    await Worker.runReplayHistory({ workflowBundle, replayName: 'soft-mode-replay' }, history, handle.workflowId);
  });
});

describe('status snapshot in the memo: what `campaign status` reads without asking the worker (time-skipping)', () => {
  type Write = { at: number; snapshot: CampaignSnapshot };
  /** Every memo write in the campaign's history, with the workflow time it was taken at. */
  async function memoWrites(handle: WorkflowHandle): Promise<Write[]> {
    const { events } = await handle.fetchHistory();
    return (events ?? []).flatMap((e) => {
      const field = e.workflowPropertiesModifiedEventAttributes?.upsertedMemo?.fields?.[STATUS_MEMO_KEY];
      if (!field?.data) return [];
      const snapshot = JSON.parse(Buffer.from(field.data).toString('utf8')) as CampaignSnapshot;
      return [{ at: Date.parse(snapshot.asOf), snapshot }];
    });
  }
  const memoOf = async (handle: WorkflowHandle) => snapshotFromMemo((await handle.describe()).memo);

  it('a pause is in the memo at once, finished accounts within 5 s, at most one write per 5 s between phase changes; lists cut to 20 with every problem tallied', async () => {
    const general = ring('general');
    const bad = new Set(general); // 22 accounts fail: more problems than the snapshot lists
    behave = (id) =>
      bad.has(id)
        ? { outcome: 'failed', durationMs: 30_000, reason: 'stack update failed' }
        : { outcome: 'upgraded', durationMs: 2_000 };
    const handle = await start({ maxWaveSize: 30, maxInFlight: 6, failureBudget: { maxFailurePercent: 100 } });
    await waitFor(handle, (s) => (s.counts.failed ?? 0) >= 10, 'ten failures');
    await handle.executeUpdate(pauseUpdate, { args: [{ reason: 'snapshot check' }] });
    const paused = await memoOf(handle);
    expect(paused?.phase).toBe('paused'); // written with the pause, before anything else ran
    await env.sleep('10 minutes'); // the accounts in flight finish while paused
    const settled = await handle.query(statusQuery);
    expect(settled.counts.running ?? 0).toBe(0);
    const trailing = await memoOf(handle);
    expect(trailing?.counts).toEqual(settled.counts); // the trailing write caught the last finishes
    await handle.executeUpdate(resumeUpdate);
    const report = await handle.result();

    const final = await memoOf(handle);
    expect(final?.phase).toBe('completed');
    expect(final?.counts).toEqual(report.counts);
    expect(report.problems).toHaveLength(22);
    expect(final?.problems).toHaveLength(SNAPSHOT_LIST_LIMIT);
    expect(final?.omitted.problems).toBe(22 - SNAPSHOT_LIST_LIMIT);
    expect(final?.omitted.problemTypes).toEqual({ failed: 22 });
    expect(formatProblems(final!)[0]).toBe('problems (22): failed × 22');

    const writes = await memoWrites(handle);
    expect(writes.length).toBeGreaterThan(3);
    for (let i = 1; i < writes.length; i++) {
      const phaseChanged = writes[i].snapshot.phase !== writes[i - 1].snapshot.phase;
      if (!phaseChanged) expect(writes[i].at - writes[i - 1].at).toBeGreaterThanOrEqual(SNAPSHOT_EVERY_MS);
    }
  });
});
