import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { runSimSeed } from '../../cli/commands/sim-seed';
import { loadFleetFile } from '../../fleet/load-fleet';
import type { FleetCampaignInput } from '../../workflows/campaign/campaign-input';
import { statusQuery, type CampaignStatus } from '../../workflows/campaign/campaign-messages';
import type { CampaignReport } from '../../workflows/campaign/fleet-campaign';
import type { FleetInventoryReport } from '../../workflows/fleet-inventory';
import { temporal as proto } from '@temporalio/proto';
import { executions, setFaultPlan, testClient, testStack } from '../support/test-stack';
import { campaignChildIds } from '../support/campaign-children';
import { cleanUp } from '../support/cleanup';

// Chaos: the worker process is killed with SIGKILL twice in the middle of a campaign and restarted.
const cfg = testStack();
const TASK_QUEUE = 'campaign-chaos';
const ROOT = path.resolve(__dirname, '../..');
let fleetFile: string;
let temporal: Awaited<ReturnType<typeof testClient>>;
let workerProc: ChildProcess | undefined;
const workerLog = path.join(cfg.stateDir, 'logs', 'chaos-worker.log');

/** Starts `fleetops worker --local` as its own process; resolves once it polls. */
async function startWorkerProcess(): Promise<ChildProcess> {
  const out = fs.openSync(workerLog, 'a');
  const proc = spawn(process.execPath, [path.join(ROOT, 'bin/fleetops.js'), 'worker', '--local'], {
    cwd: ROOT,
    env: { ...process.env, FLEETOPS_TASK_QUEUE: TASK_QUEUE, LOG_LEVEL: 'info' },
    stdio: ['ignore', out, out],
  });
  fs.closeSync(out);
  await until(`worker process ${starts + 1} logs "worker started"`, () => workerStarts().length > starts, 30_000);
  starts++;
  return proc;
}
let starts = 0;

/** Polls `ok` every 50 ms; throws naming `what` if it is still false after `timeoutMs`. */
async function until(what: string, ok: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function kill9(proc: ChildProcess): Promise<void> {
  const exited = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGKILL');
  await exited;
}

/** The "worker started" log lines: the launcher re-executes node, so these name the worker process. */
function workerStarts(): { pid: number; heapLimitMiB: number }[] {
  return fs
    .readFileSync(workerLog, 'utf8')
    .split('\n')
    .filter((l) => l.includes('"worker started"'))
    .map((l) => JSON.parse(l));
}

/** Running, as opposed to gone or a zombie waiting for init to reap it. */
function running(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** The campaign's report, or an error with its last status if it has not finished within `ms`. */
async function resultWithin(
  handle: { result(): Promise<CampaignReport>; query: (q: typeof statusQuery) => Promise<CampaignStatus> },
  ms: number,
): Promise<CampaignReport> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      void handle
        .query(statusQuery)
        .catch((e: Error) => e.message)
        .then((status) => reject(new Error(`campaign not finished after ${ms} ms; status: ${JSON.stringify(status)}`)));
    }, ms);
  });
  try {
    return await Promise.race([handle.result(), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** How the retried activity attempts of a campaign's children had timed out, counted by timeout type. */
async function retriedAttemptTimeouts(campaignId: string): Promise<Record<string, number>> {
  const children = await campaignChildIds(temporal.client, campaignId);
  expect(children.length).toBeGreaterThanOrEqual(60);
  const byType: Record<string, number> = {};
  for (const child of children) {
    for (const e of (await temporal.client.workflow.getHandle(child).fetchHistory()).events ?? []) {
      const type = e.activityTaskStartedEventAttributes?.lastFailure?.timeoutFailureInfo?.timeoutType;
      if (type == null) continue;
      const name = proto.api.enums.v1.TimeoutType[type].replace('TIMEOUT_TYPE_', '');
      byType[name] = (byType[name] ?? 0) + 1;
    }
  }
  return byType;
}

beforeAll(async () => {
  fs.mkdirSync(path.dirname(workerLog), { recursive: true });
  fs.writeFileSync(workerLog, '');
  ({ file: fleetFile } = await runSimSeed({
    accounts: 60,
    idBase: 400_000_000_000,
    out: path.join(cfg.stateDir, 'chaos-fleet.yaml'),
    quiet: true,
  }));
  temporal = await testClient(cfg);
});

afterAll(() =>
  cleanUp({
    worker: () => workerProc && workerProc.exitCode === null && kill9(workerProc),
    faultPlan: () => setFaultPlan(cfg, null),
    temporal: () => temporal?.close(),
  }),
);

describe('chaos', () => {
  it('survives two SIGKILLs of the worker: the campaign completes, every account at the target, no change set executed twice', async () => {
    // Updates take 2 s, so kills land while stacks are mid-update and activities mid-flight.
    await setFaultPlan(cfg, { rules: [], cloudformation: { updateDurationMs: 2000 } });
    workerProc = await startWorkerProcess();
    const handle = await temporal.client.workflow.start('fleetCampaign', {
      taskQueue: TASK_QUEUE,
      workflowId: 'campaign-chaos',
      args: [
        {
          operation: 'upgrade',
          fleetFile,
          maxInFlight: 15,
          failureBudget: { maxFailurePercent: 50 },
          upgrade: { targetVersion: '1.1.0', healthBakeSeconds: 2, healthPollSeconds: 1 },
        } as FleetCampaignInput,
      ],
    });
    const atKill: CampaignStatus[] = [];
    for (const threshold of [10, 30]) {
      let status: CampaignStatus | undefined;
      await until(
        `${threshold} accounts upgraded`,
        async () => {
          status = await handle.query(statusQuery).catch(() => undefined);
          return (status?.counts.upgraded ?? 0) >= threshold;
        },
        120_000,
      );
      const killed = workerStarts().at(-1)!;
      await kill9(workerProc);
      atKill.push(status!);
      // The worker process (the launcher's child) checks for its launcher every 250 ms and ends itself.
      await until(
        `worker process ${killed.pid} to end after its launcher's SIGKILL`,
        () => !running(killed.pid),
        5_000,
      );
      workerProc = await startWorkerProcess();
    }
    // Both kills landed mid-campaign: accounts still running and still to start when the worker died.
    for (const s of atKill) {
      expect(s.phase).toBe('running');
      expect(s.inFlight).toBeGreaterThan(0);
      expect(s.counts.upgraded).toBeLessThan(60);
      expect(s.counts.pending ?? 0).toBeGreaterThan(0);
    }
    expect(atKill[1].counts.upgraded).toBeGreaterThan(atKill[0].counts.upgraded!);
    const report = await resultWithin(handle, 300_000);
    expect(report.phase).toBe('completed');
    expect(report.problems).toEqual([]);
    expect(report.counts.upgraded).toBe(60);
    // Three worker processes, each under the default bounded heap (bin/worker-heap.js: 256 MiB old space).
    const launches = workerStarts();
    expect(launches).toHaveLength(3);
    expect(new Set(launches.map((l) => l.pid)).size).toBe(3);
    for (const l of launches) expect(l.heapLimitMiB).toBeLessThan(400);

    const accounts = loadFleetFile(fleetFile);
    const inv: FleetInventoryReport = await temporal.client.workflow.execute('fleetInventory', {
      taskQueue: TASK_QUEUE,
      workflowId: 'campaign-chaos-inventory',
      args: [{ fleetFile }],
    });
    expect(inv.byVersion).toEqual({ '1.1.0': accounts.reduce((n, a) => n + a.regions.length, 0) });
    const mine = new Set(accounts.map((a) => a.id)); // other tests on the stack change other accounts
    const ledger = (await executions(cfg)).filter((e) => mine.has(e.account));
    expect(ledger.length).toBe(accounts.reduce((n, a) => n + a.regions.length, 0));
    expect(ledger.filter((e) => e.count !== 1)).toEqual([]);

    // The attempts the kills cut short were retried once their heartbeat timeout passed (the worker's
    // keep-alive, worker/activity-keepalive.ts), none after waiting out a start-to-close timeout.
    const retried = await retriedAttemptTimeouts('campaign-chaos');
    process.stderr.write(`[chaos] attempts retried after a timeout: ${JSON.stringify(retried)}\n`);
    expect(retried.HEARTBEAT ?? 0).toBeGreaterThan(0);
    expect(retried.START_TO_CLOSE ?? 0).toBe(0);
  }, 600_000);
});
