import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { runSimSeed } from '../../cli/commands/sim-seed';
import type { FleetAccount } from '../../fleet';
import { loadFleetFile } from '../../fleet/load-fleet';
import { isAlive } from '../../stack/processes';
import { killStackPart, startStackPart } from '../../stack/local-stack';
import type { FleetCampaignInput } from '../../workflows/campaign/campaign-input';
import { statusQuery, type CampaignStatus } from '../../workflows/campaign/campaign-messages';
import type { CampaignReport } from '../../workflows/campaign/fleet-campaign';
import { cleanUp } from '../support/cleanup';
import { timeOutLostAttempts } from '../support/lost-attempts';
import { runChain } from '../support/run-chain';
import { startedActivitiesByWorkerPid } from '../support/started-activities';
import { executions, setFaultPlan, testClient, testStack } from '../support/test-stack';
import { WorkerProcess, running, until } from '../support/worker-process';

// Crashes of everything, in one campaign: three `fleetops worker --local` processes poll one task queue;
// the campaign sees one worker SIGKILLed and restarted (the one running the most activities, never the
// same twice in a row), then the Temporal dev server SIGKILLed and started again on the same SQLite file
// while the workers keep running (no supervisor: they must reconnect by themselves), then two more worker
// kills. The campaign must complete with every account upgraded exactly once (the AWS proxy's change set
// ledger), every account in the report and its continue-as-new chain intact.
const cfg = testStack();
const TASK_QUEUE = 'crash-chaos';
const CAMPAIGN = `crash-chaos-${Date.now()}`;
const ID_BASE = 472_000_000_000 + (Date.now() % 10_000) * 100;
const ACCOUNTS = 45;
/** The server stays down this long: activities finishing meanwhile must still reach it. */
const OUTAGE_MS = 5_000;

/** Worker 1 serves its health probes (on a free port), read while the server is down. */
const HEALTH = '127.0.0.1:0';
const workers = [1, 2, 3].map(
  (n) =>
    new WorkerProcess(
      TASK_QUEUE,
      path.join(cfg.stateDir, 'logs', `crash-chaos-worker-${n}-${ID_BASE}.log`),
      n === 1 ? { FLEETOPS_HEALTH_ADDRESS: HEALTH } : {},
    ),
);
let accounts: FleetAccount[];
let fleetFile: string;
let temporal: Awaited<ReturnType<typeof testClient>>;
let serverDown = false;
const figures: Record<string, unknown> = {};

beforeAll(async () => {
  ({ file: fleetFile } = await runSimSeed({
    accounts: ACCOUNTS,
    idBase: ID_BASE,
    out: path.join(cfg.stateDir, `crash-chaos-${ID_BASE}.yaml`),
    quiet: true,
  }));
  accounts = loadFleetFile(fleetFile);
  temporal = await testClient(cfg);
  // Updates take 2 s, so kills land while stacks are mid-update and activities mid-flight.
  await setFaultPlan(cfg, { rules: [], cloudformation: { updateDurationMs: 2000 } });
  // The first start bundles the workflows; the other two reuse that bundle.
  await workers[0].start();
  await Promise.all(workers.slice(1).map((w) => w.start()));
}, 300_000);

afterAll(async () => {
  process.stderr.write(`[crash-chaos] ${JSON.stringify(figures)}\n`);
  await cleanUp({
    // a failed test must not leave the shared test stack without its Temporal server
    temporalServer: () => serverDown && startStackPart(cfg, 'temporal'),
    ...Object.fromEntries(workers.map((w, i) => [`worker${i + 1}`, () => w.kill9()])),
    faultPlan: () => setFaultPlan(cfg, null),
    temporal: () => temporal?.close(),
  });
});

const workerPid = (w: WorkerProcess) => w.starts().at(-1)!.pid;

/** True when nothing listens on the loopback `port` (the connection is refused). */
function portClosed(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: cfg.host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
    socket.setTimeout(2000, () => {
      socket.destroy();
      resolve(false);
    });
  });
}

type Handle = WorkflowHandleWithFirstExecutionRunId<(i: FleetCampaignInput) => Promise<CampaignReport>>;

/** Waits (the server may be down: failed queries count as not yet) until `upgraded` accounts are done. */
async function upgradedAtLeast(handle: Handle, upgraded: number): Promise<CampaignStatus> {
  let status: CampaignStatus | undefined;
  await until(
    `${upgraded} accounts upgraded`,
    async () => {
      status = await handle.query(statusQuery).catch(() => undefined);
      return (status?.counts.upgraded ?? 0) >= upgraded;
    },
    180_000,
  );
  return status!;
}

type WorkerKill = {
  worker: number;
  pid: number;
  runningActivities: number;
  lostAttempts: number;
  restartSeconds: number;
};

/**
 * SIGKILLs the worker running the most activities (not `avoid`, the one killed last), times out the
 * attempts it was running as a real crash would after its timeouts, and starts it again.
 */
async function killBusiestWorker(
  avoid: WorkerProcess | undefined,
): Promise<{ victim: WorkerProcess; kill: WorkerKill }> {
  let victim: WorkerProcess | undefined;
  let runningActivities = 0;
  await until(
    'a worker (not the one killed last) running activities',
    async () => {
      const byPid = await startedActivitiesByWorkerPid(temporal.client, CAMPAIGN);
      const candidates = workers
        .filter((w) => w !== avoid)
        .map((w) => ({ w, n: byPid.get(workerPid(w)) ?? 0 }))
        .sort((a, b) => b.n - a.n);
      [victim, runningActivities] = [candidates[0].w, candidates[0].n];
      return runningActivities > 0;
    },
    60_000,
  );
  const pid = workerPid(victim!);
  expect(await victim!.kill9()).toBe('SIGKILL');
  expect(running(pid)).toBe(false);
  const lost = await timeOutLostAttempts(temporal.client, {
    workflowIdPrefix: CAMPAIGN,
    workerPid: pid,
    identity: 'crash-chaos-test',
  });
  const restarted = await victim!.start();
  return {
    victim: victim!,
    kill: {
      worker: workers.indexOf(victim!) + 1,
      pid,
      runningActivities,
      lostAttempts: lost.length,
      restartSeconds: restarted.seconds,
    },
  };
}

/** SIGKILLs the Temporal dev server, checks it is gone, waits OUTAGE_MS and starts it on the same SQLite file. */
async function crashTemporalServer(): Promise<Record<string, unknown>> {
  const workerPids = workers.map(workerPid);
  const killed = await killStackPart(cfg, 'temporal');
  serverDown = true;
  expect(isAlive(killed.pid)).toBe(false);
  // A killed multi-threaded process can be a zombie a moment before its last thread closed its sockets.
  await until(
    'the Temporal gRPC and UI ports to refuse connections',
    async () => {
      return (await portClosed(cfg.temporalPort)) && (await portClosed(cfg.temporalUiPort));
    },
    10_000,
  );
  await new Promise((r) => setTimeout(r, OUTAGE_MS));
  // no supervisor: every worker process rode out the outage, and a supervisor would not restart one
  expect(workerPids.filter(running)).toEqual(workerPids);
  const probes = { healthz: await probe('/healthz'), readyz: await probe('/readyz') };
  expect(probes.healthz.status).toBe(200);
  const restarted = await startStackPart(cfg, 'temporal');
  serverDown = false;
  expect(restarted.pid).not.toBe(killed.pid);
  // The same worker processes (none restarted) poll again: each runs activities for the campaign.
  const back = Date.now();
  const seen = new Set<number>();
  await until(
    'every worker that lived through the outage to run activities again',
    async () => {
      const byPid = await startedActivitiesByWorkerPid(temporal.client, CAMPAIGN);
      for (const pid of byPid.keys()) seen.add(pid);
      return workerPids.every((pid) => seen.has(pid));
    },
    90_000,
  );
  expect(workers.map(workerPid)).toEqual(workerPids);
  // What the SDK logged as retried meanwhile (a retried poll is logged once it returns, maybe much later).
  const workerRetries = [...new Set(workers.flatMap((w) => retriedCalls(w.log())))];
  return {
    probesWhileDown: probes,
    workerRetries,
    killedPid: killed.pid,
    outageSeconds: OUTAGE_MS / 1000 + restarted.seconds,
    serverStartSeconds: restarted.seconds,
    workersBackSeconds: (Date.now() - back) / 1000,
  };
}

/** Worker 1's answer to a health probe (at the address its last start logged): HTTP status and body. */
async function probe(probePath: string): Promise<{ status: number; body: unknown }> {
  const listening = [...workers[0].log().matchAll(/"healthAddress":"([^"]+)"/g)].at(-1);
  if (!listening) throw new Error('worker 1 logged no health address');
  const res = await fetch(`http://${listening[1]}${probePath}`, { signal: AbortSignal.timeout(5000) });
  return { status: res.status, body: await res.json() };
}

/** The Temporal calls a worker log says the SDK retried, e.g. `poll_activity_task_queue`. */
function retriedCalls(log: string): string[] {
  return [...log.matchAll(/"msg":"gRPC call (\w+) retried/g)].map((m) => m[1]);
}

describe('crashes of everything', () => {
  it('a campaign survives a SIGKILLed Temporal server and three SIGKILLs among three workers: nothing run twice, nothing lost', async () => {
    const started = Date.now();
    const handle: Handle = await temporal.client.workflow.start('fleetCampaign', {
      taskQueue: TASK_QUEUE,
      workflowId: CAMPAIGN,
      args: [
        {
          operation: 'upgrade',
          fleetFile,
          maxInFlight: 15,
          failureBudget: { maxFailurePercent: 50 },
          // three runs: the chain crosses the crashes
          accountsPerRun: 18,
          upgrade: { targetVersion: '1.1.0', healthBakeSeconds: 2, healthPollSeconds: 1 },
        } as FleetCampaignInput,
      ],
    });
    const atCrash: CampaignStatus[] = [];
    const kills: WorkerKill[] = [];
    let lastVictim: WorkerProcess | undefined;
    const killWorker = async () => {
      const { victim, kill } = await killBusiestWorker(lastVictim);
      lastVictim = victim;
      kills.push(kill);
    };

    atCrash.push(await upgradedAtLeast(handle, 6));
    await killWorker();
    atCrash.push(await upgradedAtLeast(handle, 15));
    figures.server = await crashTemporalServer();
    atCrash.push(await upgradedAtLeast(handle, 24));
    await killWorker();
    atCrash.push(await upgradedAtLeast(handle, 33));
    await killWorker();
    figures.workerKills = kills;

    // Every crash landed mid-campaign: accounts running and accounts still to start.
    expect(atCrash).toHaveLength(4);
    for (const s of atCrash) {
      expect(s.phase).toBe('running');
      expect(s.inFlight).toBeGreaterThan(0);
      expect(s.counts.pending ?? 0).toBeGreaterThan(0);
    }
    // Three worker kills, each of a worker running activities, not always the same worker.
    expect(kills).toHaveLength(3);
    for (const k of kills) expect(k.runningActivities).toBeGreaterThan(0);
    expect(new Set(kills.map((k) => k.worker)).size).toBeGreaterThanOrEqual(2);

    const report = await handle.result();
    figures.campaignSeconds = (Date.now() - started) / 1000;
    // Nothing lost: every account in the report, upgraded.
    expect(report.phase).toBe('completed');
    expect(report.problems).toEqual([]);
    expect(report.total).toBe(ACCOUNTS);
    expect(report.counts).toEqual({ upgraded: ACCOUNTS });
    expect(report.waves.reduce((n, w) => n + w.size, 0)).toBe(ACCOUNTS);
    // … and the campaign's runs one unbroken continue-as-new chain, the last the one that reported.
    const chain = await runChain(temporal.client, CAMPAIGN, handle.firstExecutionRunId);
    figures.runs = chain.map((r) => `${r.closedBy} (${r.events} events)`);
    expect(chain.length).toBeGreaterThanOrEqual(3);
    expect(chain.length).toBe(report.run);
    expect(chain.at(-1)!.closedBy).toBe('completed');
    // One child workflow per account, completed, started once (a second start would be a retry child).
    const children = [];
    for await (const wf of temporal.client.workflow.list({ query: `WorkflowId STARTS_WITH '${CAMPAIGN}/'` }))
      children.push(wf);
    expect(children.map((c) => c.workflowId).sort()).toEqual(accounts.map((a) => `${CAMPAIGN}/${a.id}`).sort());
    expect(children.filter((c) => c.status.name !== 'COMPLETED')).toEqual([]);
    // Nothing run twice: exactly one change set executed per account and region, once, to 1.1.0.
    const ids = new Set(accounts.map((a) => a.id));
    const ledger = (await executions(cfg)).filter((e) => ids.has(e.account));
    const regions = accounts.flatMap((a) => a.regions.map((r) => `${a.id}/${r}`)).sort();
    expect(ledger.map((e) => `${e.account}/${e.region}`).sort()).toEqual(regions);
    expect(ledger.filter((e) => e.count !== 1 || e.version !== '1.1.0')).toEqual([]);
    // The workers lived through the server crash: each was started once plus once per kill of it.
    for (const [i, w] of workers.entries())
      expect(w.starts()).toHaveLength(1 + kills.filter((k) => k.worker === i + 1).length);
  }, 600_000);
});
