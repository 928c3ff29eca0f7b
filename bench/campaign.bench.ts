/**
 * Upgrade campaign at scale on the local stack: `npm run bench:campaign -- N [MAX_IN_FLIGHT] [--campaign-only]`.
 *
 * 1. seeds N simulated accounts (idempotent; ids 500000000000 + i, stacks at 1.0.0);
 * 2. a plain concurrent script (no Temporal) makes the same AWS calls as accountUpgrade — read the
 *    stack, create + describe the change set, execute, wait, check the health alarm — moving every
 *    account to 1.1.0-p<run> with MAX_IN_FLIGHT at once;
 * 3. a fleetCampaign moves the same accounts to 1.2.0-c<run> through a worker in its own process.
 * Prints wall time, accounts per minute, the worker's peak RSS (VmHWM), the longest workflow history
 * and the Temporal/plain ratio. `--campaign-only` skips step 2 (for memory experiments; no ratio).
 */
import { connectTemporalClient } from '../cli/temporal-client';
import { fleetCampaign, type CampaignReport } from '../workflows/campaign/fleet-campaign';
import { campaignHistories, seedBenchFleet, startBenchWorker } from './bench-worker';
import { runPlainUpgrade } from './plain-upgrade';

async function main(): Promise<void> {
  const positional = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  const campaignOnly = process.argv.includes('--campaign-only');
  const n = Number(positional[0] ?? 1000);
  const maxInFlight = Number(positional[1] ?? 50);
  const { cfg, file, accounts, seedSeconds } = await seedBenchFleet(n, 500_000_000_000, 'bench-campaign');
  const regions = accounts.reduce((k, a) => k + a.regions.length, 0);
  console.log(`seeded ${n} accounts (${regions} stacks) in ${seedSeconds.toFixed(1)} s`);

  // Versions and names unique to this run, so the bench can be run again on the same stacks.
  const stamp = Date.now().toString(36);
  const plainVersion = `1.1.0-p${stamp}`;
  const campaignVersion = `1.2.0-c${stamp}`;

  // ---- plain script: the same AWS calls, no Temporal ----
  const plainSeconds = campaignOnly
    ? undefined
    : await runPlainUpgrade({ accounts, fleetFile: file, maxInFlight, stamp, version: plainVersion });

  // ---- the campaign, with a worker in its own process ----
  const worker = await startBenchWorker(cfg, 'bench', 'bench-worker');
  const { client, close: closeClient } = await connectTemporalClient();
  try {
    const workflowId = `bench-campaign-${n}-${Date.now()}`;
    const startedAt = Date.now();
    const report: CampaignReport = await client.workflow.execute(fleetCampaign, {
      taskQueue: 'bench',
      workflowId,
      args: [
        {
          operation: 'upgrade',
          fleetFile: file,
          maxInFlight,
          failureBudget: { maxFailurePercent: 25 },
          upgrade: { targetVersion: campaignVersion, healthBakeSeconds: 0, healthPollSeconds: 1 },
        },
      ],
    });
    const seconds = (Date.now() - startedAt) / 1000;
    const peak = worker.peakRssMiB();
    const { runs, longest } = await campaignHistories(client, workflowId, 'accountUpgrade');
    console.log(
      `campaign:      ${n} accounts in ${seconds.toFixed(1)} s (${((n / seconds) * 60).toFixed(0)} accounts/min), phase ${report.phase}, upgraded ${report.counts.upgraded ?? 0}, problems ${report.problems.length}`,
    );
    console.log(`  campaign runs (continue-as-new): ${runs}; longest history ${longest} events (limit 10,240)`);
    console.log(
      `  worker peak RSS ${peak?.toFixed(0) ?? '?'} MiB (target < 500), V8 heap limit ${worker.heapLimitMiB} MiB`,
    );
    if (plainSeconds)
      console.log(`  Temporal / plain wall time: ${(seconds / plainSeconds).toFixed(2)}× (target ≤ 1.5×)`);
  } finally {
    worker.proc.kill('SIGTERM');
    await closeClient();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
