/**
 * Inventory at scale on the local stack: seeds N simulated accounts (if not yet seeded), runs the
 * fleetInventory workflow with an in-process worker and prints wall time, accounts per minute, the
 * worker's peak RSS and the longest workflow history. `npm run bench:inventory -- 4000`.
 */
import path from 'node:path';
import pino from 'pino';
import { useLocalStackEnv } from '../cli/local-env';
import { runSimSeed } from '../cli/commands/sim-seed';
import { connectTemporalClient } from '../cli/temporal-client';
import { stackUp } from '../stack/local-stack';
import { loadStackConfig } from '../stack/stack-config';
import { createFleetWorker } from '../worker/run-worker';
import { loadWorkerConfig } from '../worker/worker-config';
import { fleetInventory, type FleetInventoryReport } from '../workflows/fleet-inventory';

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 1000);
  const maxInFlight = Number(process.argv[3] ?? 100);
  const cfg = loadStackConfig();
  const up = await stackUp(cfg, () => undefined);
  useLocalStackEnv(cfg);
  const seed = await runSimSeed({ accounts: n, out: path.join(cfg.stateDir, `bench-fleet-${n}.yaml`), quiet: true });
  console.log(`stack up ${up.seconds.toFixed(1)} s; seeded ${n} accounts in ${seed.seconds.toFixed(1)} s`);

  const { worker, close } = await createFleetWorker({ config: loadWorkerConfig(), logger: pino({ level: 'warn' }) });
  const running = worker.run();
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 250);
  const { client, close: closeClient } = await connectTemporalClient();
  try {
    const workflowId = `bench-inventory-${n}-${Date.now()}`;
    const started = Date.now();
    const report: FleetInventoryReport = await client.workflow.execute(fleetInventory, {
      taskQueue: process.env.FLEETOPS_TASK_QUEUE ?? 'fleetops',
      workflowId,
      args: [{ fleetFile: seed.file, maxInFlight }],
    });
    const seconds = (Date.now() - started) / 1000;
    let longest = 0;
    for await (const wf of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) {
      const h = await client.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory();
      longest = Math.max(longest, h.events?.length ?? 0);
    }
    console.log(
      `inventory of ${n} accounts (maxInFlight ${maxInFlight}): ${seconds.toFixed(1)} s, ${((n / seconds) * 60).toFixed(0)} accounts/min`,
    );
    console.log(
      `  ok ${report.succeeded}, failed ${report.failed}, runs ${report.runs}, longest history ${longest} events (limit 10,240)`,
    );
    console.log(`  worker+client process peak RSS ${(peakRss / 2 ** 20).toFixed(0)} MiB`);
  } finally {
    clearInterval(sampler);
    worker.shutdown();
    await running;
    await close();
    await closeClient();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
