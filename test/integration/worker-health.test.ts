import path from 'node:path';
import { temporal as proto } from '@temporalio/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSimSeed } from '../../cli/commands/sim-seed';
import { loadFleetFile } from '../../fleet/load-fleet';
import { ProbeBody } from '../../worker/health-server';
import type { FleetInventoryInput, FleetInventoryReport } from '../../workflows/fleet-inventory';
import { cleanUp } from '../support/cleanup';
import { port } from '../support/test-env';
import { proxyStats, setFaultPlan, testClient, testStack } from '../support/test-stack';
import { until, WorkerProcess } from '../support/worker-process';
import type { WorkflowHandle } from '@temporalio/client';

// The worker's liveness and readiness probes (worker/health-server.ts) on a real `fleetops worker`
// process: not ready before it polls, ready while it polls, not ready (but live) while it drains an
// in-flight activity after SIGTERM, then exit 0 with that activity completed on its first attempt.
const cfg = testStack();
const TASK_QUEUE = `worker-health-${Date.now()}`;
const HEALTH = `127.0.0.1:${port(19465)}`;
const GRACE_SECONDS = 60;
const SLOW_MS = 10_000; // each DescribeStacks of the slow account, per region
// Starting bundles the workflows and connects: seconds on an idle host, over a minute on a loaded one.
const START_TIMEOUT_MS = 180_000;
const logDir = path.join(cfg.stateDir, 'logs');
let fleetFile: string;
let accountIds: string[];
let temporal: Awaited<ReturnType<typeof testClient>>;
const workers: WorkerProcess[] = [];

type Probe = (ProbeBody & { code: number }) | { code: 'refused' };

async function probe(route: 'healthz' | 'readyz'): Promise<Probe> {
  let res: Response;
  try {
    res = await fetch(`http://${HEALTH}/${route}`, { signal: AbortSignal.timeout(5000) });
  } catch {
    return { code: 'refused' };
  }
  return { code: res.status, ...ProbeBody.parse(await res.json()) };
}

/** Pollers the server saw on the task queue (workflow tasks) in the last minutes. */
async function workflowPollers(): Promise<number> {
  const res = await temporal.client.workflowService.describeTaskQueue({
    namespace: 'default',
    taskQueue: { name: TASK_QUEUE, kind: proto.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
    taskQueueType: proto.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
  });
  return res.pollers?.length ?? 0;
}

/** The server's approximate backlog of workflow tasks: what KEDA's Temporal scaler scales on (docs/deployment.md). */
async function workflowBacklog(): Promise<number> {
  const res = await temporal.client.workflowService.describeTaskQueue({
    namespace: 'default',
    taskQueue: { name: TASK_QUEUE, kind: proto.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
    taskQueueType: proto.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    reportStats: true,
  });
  return Number(res.stats?.approximateBacklogCount ?? 0);
}

/** The `inspectAccount` activity of one account in the workflow's history: its started attempts, completion, failures. */
async function activityOf(handle: WorkflowHandle, accountId: string) {
  const { events } = await handle.fetchHistory();
  const all = events ?? [];
  const ids = all
    .filter((e) => {
      const a = e.activityTaskScheduledEventAttributes;
      if (a?.activityType?.name !== 'inspectAccount') return false;
      const input = JSON.parse(Buffer.from(a.input!.payloads![0].data!).toString('utf8')) as { accountId: string };
      return input.accountId === accountId;
    })
    .map((e) => String(e.eventId));
  expect(ids.length).toBe(1);
  const of = (id: unknown) => ids.includes(String(id));
  const started = all.filter((e) => of(e.activityTaskStartedEventAttributes?.scheduledEventId));
  return {
    started: started.length,
    attempts: started.map((e) => e.activityTaskStartedEventAttributes!.attempt),
    completed: all.filter((e) => of(e.activityTaskCompletedEventAttributes?.scheduledEventId)).length,
    failed: all.filter(
      (e) =>
        of(e.activityTaskFailedEventAttributes?.scheduledEventId) ||
        of(e.activityTaskTimedOutEventAttributes?.scheduledEventId),
    ).length,
  };
}

function startWorker(name: string, env: Record<string, string> = {}): WorkerProcess {
  const worker = new WorkerProcess(TASK_QUEUE, path.join(logDir, `${name}.log`), env);
  workers.push(worker);
  return worker;
}

beforeAll(async () => {
  ({ file: fleetFile } = await runSimSeed({
    accounts: 3,
    idBase: 985_000_000_000,
    out: path.join(cfg.stateDir, 'worker-health-fleet.yaml'),
    quiet: true,
  }));
  accountIds = loadFleetFile(fleetFile)
    .filter((a) => a.state === 'active')
    .map((a) => a.id);
  expect(accountIds.length).toBeGreaterThanOrEqual(2);
  temporal = await testClient(cfg);
});

afterAll(() =>
  cleanUp({
    faults: () => setFaultPlan(cfg, null),
    workers: async () => {
      for (const w of workers) await w.kill9();
    },
    temporal: () => temporal?.close(),
  }),
);

describe('worker health probes', () => {
  it(
    'not ready until it polls; ready; after SIGTERM not ready but live while it drains a slow activity; exits 0 with the activity completed once',
    { timeout: 600_000 },
    async () => {
      const worker = startWorker('health-worker', {
        FLEETOPS_HEALTH_ADDRESS: HEALTH,
        FLEETOPS_SHUTDOWN_GRACE_SECONDS: String(GRACE_SECONDS),
      });
      const startedAt = Date.now();
      const starting = worker.start(START_TIMEOUT_MS);

      // Starting: the probes answer before the worker bundles its workflows and connects. The pollers the
      // server lists are read before each readiness answer: a worker that polled then is RUNNING by then.
      const beforeReady: Array<{ pollersBefore: number; ready: Probe; live: Probe }> = [];
      let ready: Probe = { code: 'refused' };
      await until(
        'the worker to report ready',
        async () => {
          const pollersBefore = await workflowPollers();
          ready = await probe('readyz');
          if (ready.code === 503) beforeReady.push({ pollersBefore, ready, live: await probe('healthz') });
          return ready.code === 200;
        },
        START_TIMEOUT_MS,
      );
      const readySeconds = (Date.now() - startedAt) / 1000;
      const { pid } = await starting;
      expect(beforeReady.length).toBeGreaterThan(0);
      for (const p of beforeReady) {
        expect(p.pollersBefore).toBe(0); // nothing polled the (fresh) task queue while it answered not ready
        expect(p.ready).toMatchObject({ code: 503, status: 'not ready' });
        expect(['STARTING', 'INITIALIZED']).toContain((p.ready as ProbeBody).state);
        expect(p.live).toMatchObject({ code: 200, status: 'ok' });
      }
      expect(ready).toMatchObject({ code: 200, status: 'ok', state: 'RUNNING' });
      expect(await probe('healthz')).toMatchObject({ code: 200, status: 'ok', state: 'RUNNING' });
      await until('the server to list the worker as a poller', async () => (await workflowPollers()) > 0, 15_000);

      // One account's DescribeStacks answers after SLOW_MS: its inspectAccount activity is in flight at SIGTERM.
      const slow = accountIds[1];
      await setFaultPlan(cfg, {
        rules: [{ service: 'cloudformation', actions: ['DescribeStacks'], accounts: [slow], latencyMs: SLOW_MS }],
      });
      const workflowId = `worker-health-${Date.now()}`;
      const handle = await temporal.client.workflow.start('fleetInventory', {
        taskQueue: TASK_QUEUE,
        workflowId,
        args: [{ fleetFile } satisfies FleetInventoryInput],
      });
      const slowCallInFlight = async () =>
        (await proxyStats(cfg)).inFlight.some(
          (r) => r.service === 'cloudformation' && r.action === 'DescribeStacks' && r.account === slow,
        );
      await until(`a DescribeStacks of ${slow} in flight`, slowCallInFlight, 60_000);

      const signalledAt = Date.now();
      worker.signal('SIGTERM');
      const exited = worker.exited();
      let gone = false;
      void exited.then(() => (gone = true));
      const draining: Array<{ at: number; ready: Probe; live: Probe; slowInFlight: boolean }> = [];
      while (!gone) {
        const at = Date.now();
        const [readyNow, live, slowInFlight] = await Promise.all([
          probe('readyz'),
          probe('healthz'),
          slowCallInFlight(),
        ]);
        if (!gone) draining.push({ at, ready: readyNow, live, slowInFlight });
        await new Promise((r) => setTimeout(r, 200));
      }
      const { code, signal } = await exited;
      const drainSeconds = (Date.now() - signalledAt) / 1000;
      expect({ code, signal }).toEqual({ code: 0, signal: null });
      expect(worker.log()).toContain('"worker stopped"');

      // The signal reaches the worker through its launcher: from the first not-ready answer on (within
      // seconds of SIGTERM), every answer while the slow call was still in flight was: not ready, but live.
      const firstNotReady = draining.findIndex((d) => d.ready.code === 503);
      expect(firstNotReady).toBeGreaterThanOrEqual(0);
      expect(draining[firstNotReady].at - signalledAt).toBeLessThan(10_000);
      const whileDraining = draining.slice(firstNotReady).filter((d) => d.slowInFlight && d.ready.code !== 'refused');
      expect(whileDraining.length).toBeGreaterThan(0);
      for (const d of whileDraining) {
        expect(d.ready).toMatchObject({ code: 503, status: 'not ready' });
        expect(['STOPPING', 'DRAINING', 'DRAINED']).toContain((d.ready as ProbeBody).state);
        expect(d.live).toMatchObject({ code: 200, status: 'ok' });
      }
      expect(whileDraining.some((d) => (d.ready as ProbeBody).inFlightActivities === 1)).toBe(true);
      // It waited for the activity (well inside the grace) instead of cancelling it.
      expect(drainSeconds).toBeGreaterThan(1);
      expect(drainSeconds).toBeLessThan(GRACE_SECONDS);

      // The slow account's activity completed on the draining worker, on its first attempt.
      const slowActivity = await activityOf(handle, slow);
      expect(slowActivity).toEqual({ started: 1, attempts: [1], completed: 1, failed: 0 });

      // With no worker left, the workflow task the completed activity scheduled waits on the queue: the
      // backlog a scaler starts a worker for. A second worker finishes the workflow.
      await until('a workflow task in the backlog', async () => (await workflowBacklog()) >= 1, 30_000);
      await setFaultPlan(cfg, null);
      const next = startWorker('health-worker-2');
      await next.start(START_TIMEOUT_MS);
      const report: FleetInventoryReport = await handle.result();
      expect(report).toMatchObject({ total: accountIds.length, succeeded: accountIds.length, failed: 0 });
      const slowReport = report.accounts.find((a) => a.accountId === slow);
      expect(slowReport?.stacks.length).toBeGreaterThan(0);
      expect(slowReport!.stacks.every((s) => s.found && s.version === '1.0.0')).toBe(true);
      // The whole history: every activity ran once and completed; none failed, timed out or was cancelled.
      const { events } = await handle.fetchHistory();
      const scheduled = (events ?? []).filter((e) => e.activityTaskScheduledEventAttributes);
      const completed = (events ?? []).filter((e) => e.activityTaskCompletedEventAttributes);
      const started = (events ?? []).filter((e) => e.activityTaskStartedEventAttributes);
      expect(scheduled.length).toBe(1 + accountIds.length); // selectInventoryAccounts + one per account
      expect(completed.length).toBe(scheduled.length);
      expect(started.map((e) => e.activityTaskStartedEventAttributes!.attempt)).toEqual(scheduled.map(() => 1));
      expect(
        (events ?? []).filter(
          (e) =>
            e.activityTaskFailedEventAttributes ??
            e.activityTaskTimedOutEventAttributes ??
            e.activityTaskCanceledEventAttributes,
        ),
      ).toEqual([]);
      next.signal('SIGTERM');
      expect(await next.exited()).toEqual({ code: 0, signal: null });

      process.stderr.write(
        `[worker-health] worker ${pid}: ready ${readySeconds.toFixed(1)} s after spawn (${beforeReady.length} not-ready answers first); ` +
          `drained in ${drainSeconds.toFixed(1)} s after SIGTERM (${whileDraining.length} not-ready answers with the slow call in flight)\n`,
      );
    },
  );
});
