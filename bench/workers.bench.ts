/**
 * Throughput with 1, 2 and 3 workers sharing the rate budgets:
 * `npm run bench:workers -- N [MAX_IN_FLIGHT] [--workers 1,3] [--no-plain] [--fleet rotation]`.
 *
 * Seeds N simulated accounts (ids 540000000000 + i; `--fleet rotation`: the rotation and AMI benches'
 * accounts, 600000000000 + i, so one seeded stack serves all three), runs the plain script (the same
 * AWS calls as accountUpgrade, no Temporal, same budgets; `--no-plain` skips it), then for each worker
 * count (default 1, 2 and 3) worker processes on one task queue (budgets shared through the local
 * stack's Valkey) run an upgrade campaign over all of them. Prints wall time, accounts per minute, the
 * ratio to the plain script, each worker's peak RSS, the longest history, and the rate of each AWS API
 * family at the proxy against its budget (middle 60% of the run). Then it says what limits the run:
 * a budget (a family at ≥ 90% of its budget), moto (its one Python process near a full core), or CPU
 * (load above the cores). More workers add throughput only while none of those is reached.
 */
import os from 'node:os';
import { connectTemporalClient } from '../cli/temporal-client';
import { DEFAULT_RATE_BUDGETS } from '../fleet/rate-budgets';
import { readProcessRecord } from '../stack/processes';
import { callsSince } from '../test/support/call-rates';
import { fleetCampaign, type CampaignReport } from '../workflows/campaign/fleet-campaign';
import { campaignHistories, seedBenchFleet, startBenchWorker, type BenchWorker } from './bench-worker';
import { cpuSeconds, PhaseLoad } from './phase-load';
import { runPlainUpgrade } from './plain-upgrade';

/** Worker i of a phase serves metrics on FIRST_PORT + 2(i - 1) and its probes on the port after. */
const FIRST_PORT = 9464;

/** The seeded fleets this bench can run on: its own, or the one the rotation and AMI benches seed. */
const FLEETS = {
  workers: { idBase: 540_000_000_000, name: 'bench-workers' },
  rotation: { idBase: 600_000_000_000, name: 'bench-rotation' },
} as const;

/** `--name value` of the command line, if given. */
function flag(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** Worker counts from `--workers 1,3`: whole numbers from 1 to 8. */
function workerCounts(): number[] {
  const text = flag('--workers') ?? '1,2,3';
  const counts = text.split(',').map(Number);
  if (!counts.length || counts.some((c) => !Number.isInteger(c) || c < 1 || c > 8))
    throw new Error(`--workers: expected comma-separated worker counts from 1 to 8, got "${text}"`);
  return counts;
}

async function main(): Promise<void> {
  const flagValues = new Set([flag('--workers'), flag('--fleet')]);
  const positional = process.argv.slice(2).filter((a) => !a.startsWith('--') && !flagValues.has(a));
  const n = Number(positional[0] ?? 200);
  const maxInFlight = Number(positional[1] ?? 50);
  const counts = workerCounts();
  const fleetName = flag('--fleet') ?? 'workers';
  if (!(fleetName in FLEETS)) throw new Error(`--fleet: expected workers or rotation, got "${fleetName}"`);
  const { idBase, name } = FLEETS[fleetName as keyof typeof FLEETS];
  const { cfg, file, accounts, seedSeconds } = await seedBenchFleet(n, idBase, name);
  console.log(`seeded ${n} accounts in ${seedSeconds.toFixed(1)} s; budgets shared through ${cfg.valkeyUrl}`);
  const motoPid = readProcessRecord(cfg.stateDir, 'moto')?.pid;
  const stamp = Date.now().toString(36);
  // versions that only go up, run after run (an upgrade to a lower version than a stack runs is refused)
  const minor = Math.floor(Date.now() / 1000);
  let plainSeconds: number | undefined;
  if (!process.argv.includes('--no-plain')) {
    const plain = new PhaseLoad(cfg);
    const from = await plain.sample();
    plainSeconds = await runPlainUpgrade({ accounts, fleetFile: file, maxInFlight, stamp, version: `1.${minor}.0` });
    const to = await plain.sample();
    console.log(plain.describe('plain script', from, to, n));
    console.log(`  calls: ${plain.callsByAction(from, to)}`);
  }
  const { client, close } = await connectTemporalClient();
  const idPrefix = String(idBase).slice(0, 2);
  console.log(
    'workers  seconds  accounts/min  / plain  peak RSS MiB (each)  longest history  family rates vs budget              limit',
  );
  try {
    for (const [i, count] of counts.entries()) {
      const taskQueue = `bench-workers-${count}-${stamp}`;
      const workers: BenchWorker[] = [];
      try {
        // inside the try: a worker that fails to start leaves none of the started ones behind
        for (let i = 1; i <= count; i++)
          workers.push(
            await startBenchWorker(cfg, taskQueue, `bench-workers-${count}-${i}`, {
              // ports of their own: worker 1 the defaults (9464, 9465), worker 2 9466 and 9467, …
              FLEETOPS_METRICS_ADDRESS: `127.0.0.1:${FIRST_PORT + 2 * (i - 1)}`,
              FLEETOPS_HEALTH_ADDRESS: `127.0.0.1:${FIRST_PORT + 2 * (i - 1) + 1}`,
            }),
          );
        const phase = new PhaseLoad(cfg);
        workers.forEach((w, k) => phase.watch(`worker-${k + 1}`, w.pid));
        const phaseFrom = await phase.sample();
        const startedAt = Date.now();
        const motoCpuBefore = motoPid ? cpuSeconds(motoPid) : undefined;
        const workflowId = `bench-workers-${count}-${stamp}`;
        const report: CampaignReport = await client.workflow.execute(fleetCampaign, {
          taskQueue,
          workflowId,
          args: [
            {
              operation: 'upgrade',
              fleetFile: file,
              maxInFlight,
              failureBudget: { maxFailurePercent: 25 },
              upgrade: { targetVersion: `1.${minor}.${i + 1}`, healthBakeSeconds: 0, healthPollSeconds: 1 },
            },
          ],
        });
        const seconds = (Date.now() - startedAt) / 1000;
        const phaseTo = await phase.sample();
        const motoCpuAfter = motoPid ? cpuSeconds(motoPid) : undefined;
        const motoCore =
          motoCpuAfter !== undefined && motoCpuBefore !== undefined ? (motoCpuAfter - motoCpuBefore) / seconds : 0;
        const load = os.loadavg()[0] / os.cpus().length;
        const calls = (await callsSince(cfg.awsEndpoint, startedAt)).filter((c) => c.account.startsWith(idPrefix));
        const { longest } = await campaignHistories(client, workflowId, 'accountUpgrade');
        const from = startedAt + 0.2 * seconds * 1000;
        const to = startedAt + 0.8 * seconds * 1000;
        const rates = new Map<string, { rate: number; budget: number }>();
        for (const c of calls) {
          if (c.t < from || c.t >= to) continue;
          const key = `${c.service}/${c.region}`;
          const budget = (DEFAULT_RATE_BUDGETS.families[c.service] ?? DEFAULT_RATE_BUDGETS.default).perSecond;
          const r = rates.get(key) ?? { rate: 0, budget };
          r.rate += 1 / ((to - from) / 1000);
          rates.set(key, r);
        }
        const atBudget = [...rates].filter(([, r]) => r.rate >= 0.9 * r.budget).map(([k]) => k);
        const limit = atBudget.length
          ? `budget (${atBudget.join(', ')})`
          : motoCore >= 0.85
            ? `moto (${(motoCore * 100).toFixed(0)}% of a core)`
            : load >= 1
              ? `CPU (load ${(load * 100).toFixed(0)}% of ${os.cpus().length} cores)`
              : 'latency of the workflow steps (no budget, moto or CPU saturated)';
        const rateText = [...rates].map(([k, r]) => `${k} ${r.rate.toFixed(1)}/${r.budget}`).join(', ');
        const ratio = plainSeconds ? `${(seconds / plainSeconds).toFixed(2)}×` : '—';
        console.log(
          `${String(count).padStart(7)}  ${seconds.toFixed(1).padStart(7)}  ${((n / seconds) * 60).toFixed(0).padStart(12)}  ${ratio.padStart(7)}  ${workers
            .map((w) => w.peakRssMiB()?.toFixed(0) ?? '?')
            .join(', ')
            .padEnd(19)}  ${String(longest).padStart(15)}  ${rateText.padEnd(34)}  ${limit}` +
            (report.phase === 'completed' ? '' : `  (campaign ${report.phase}, ${report.problems.length} problems)`),
        );
        console.log(phase.describe(`${count} worker(s)`, phaseFrom, phaseTo, n));
        console.log(`  calls: ${phase.callsByAction(phaseFrom, phaseTo)}`);
      } finally {
        for (const w of workers) w.proc.kill('SIGTERM');
        await Promise.all(
          workers.map((w) => (w.proc.exitCode === null ? new Promise((r) => w.proc.once('exit', r)) : undefined)),
        );
      }
    }
  } finally {
    await close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
