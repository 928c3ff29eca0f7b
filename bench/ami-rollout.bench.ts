/**
 * AMI rollouts at scale on the local stack: `npm run bench:ami -- N [MAX_IN_FLIGHT]`.
 *
 * 1. seeds N simulated accounts (the rotation bench's ids and fleet file, so a stack it seeded is
 *    reused; idempotent) and builds + publishes two image releases (`sim image build` → `image publish`),
 *    one per run below, so each run really moves every group;
 * 2. a plain concurrent script (no Temporal) makes the same calls as accountAmiRollout — share, verify,
 *    snapshot, new version, instance refresh, bake, default version — for every account to the first
 *    release, MAX_IN_FLIGHT at once;
 * 3. an ami-rollout fleetCampaign (soft concurrency mode, so each wave runs MAX_IN_FLIGHT at once like
 *    the script) moves the same groups to the second release through a worker in its own process.
 * The proxy's refreshes and the health bake are kept short (printed). Prints wall time, accounts per
 * minute, the worker's peak RSS (VmHWM), the longest workflow history and the Temporal/plain ratio, and
 * per phase the AWS calls made and each stack process's CPU seconds (bench/phase-load.ts).
 */
import path from 'node:path';
import pino from 'pino';
import { createAmiActivities } from '../activities/ami/ami-activities';
import { MAX_ACCOUNT_SHARES_PER_IMAGE } from '../activities/ami/image-sharing';
import { runImagePublish } from '../cli/commands/image';
import { mapPool } from '../cli/map-pool';
import { runSimImageBuild } from '../cli/sim/sim-image-build';
import { connectTemporalClient } from '../cli/temporal-client';
import type { StackConfig } from '../stack/stack-config';
import { createFleetActivities } from '../worker/fleet-activities';
import { loadWorkerConfig } from '../worker/worker-config';
import { AmiParamsSchema } from '../workflows/ami/ami-params';
import { fleetCampaign, type CampaignReport } from '../workflows/campaign/fleet-campaign';
import { campaignHistories, seedBenchFleet, startBenchWorker } from './bench-worker';
import { PhaseLoad } from './phase-load';
import { PlainAmiRollout } from './plain-ami-rollout';

/** The proxy's instance refreshes (Pending, then 0 → 100 %) and the health bake: short, so the bench measures the engine. */
const REFRESH = { pendingMs: 200, refreshDurationMs: 1000 };
const BAKE = { healthBakeSeconds: 1, healthPollSeconds: 1 };

async function main(): Promise<void> {
  const [nArg, inFlightArg] = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  const n = Number(nArg ?? 1000);
  const maxInFlight = Number(inFlightArg ?? 50);
  for (const [name, v] of [
    ['N', n],
    ['MAX_IN_FLIGHT', maxInFlight],
  ] as const)
    if (!Number.isInteger(v) || v < 1) throw new Error(`${name}: expected a positive whole number, got ${v}`);
  // AWS shares an image with at most 1,000 accounts per region: past that the fleet shares with its OU
  const organization = n > MAX_ACCOUNT_SHARES_PER_IMAGE;
  const { cfg, file, accounts, seedSeconds } = await seedBenchFleet(n, 600_000_000_000, 'bench-rotation', {
    organization,
  });
  console.log(
    `seeded ${n} accounts in ${seedSeconds.toFixed(1)} s; images shared ${organization ? "with the accounts' OU (more accounts than AWS shares an image with)" : 'account by account'}`,
  );
  const stamp = Date.now().toString(36);
  const imageStarted = Date.now();
  const [plainImage, campaignImage] = [`bench-ami-${stamp}-plain`, `bench-ami-${stamp}-campaign`];
  for (const name of [plainImage, campaignImage]) await release(cfg, file, name);
  console.log(
    `built and published ${plainImage} and ${campaignImage} in ${((Date.now() - imageStarted) / 1000).toFixed(1)} s`,
  );
  await setRefreshTiming(cfg);
  console.log(
    `proxy refreshes: pending ${REFRESH.pendingMs} ms, 0 → 100 % in ${REFRESH.refreshDurationMs} ms; health bake ${BAKE.healthBakeSeconds} s (poll ${BAKE.healthPollSeconds} s); refresh wait polls every 2 s`,
  );

  // ---- plain script: the same calls, no Temporal ----
  const { shared, close } = createFleetActivities(loadWorkerConfig(), pino({ level: 'silent' }));
  const plain = new PlainAmiRollout(
    createAmiActivities(shared),
    AmiParamsSchema.parse({ image: plainImage, ...BAKE }),
    file,
    `plain-ami-${stamp}`,
  );
  const load = new PhaseLoad(cfg);
  const plainFrom = await load.sample();
  const plainStarted = Date.now();
  let plainGroups = 0;
  let plainAccounts = 0;
  try {
    await mapPool(accounts, maxInFlight, async (account) => {
      const moved = await plain.account(account.id);
      plainGroups += moved;
      plainAccounts++;
    });
  } finally {
    close();
  }
  const plainSeconds = (Date.now() - plainStarted) / 1000;
  const plainTo = await load.sample();
  console.log(
    `plain script:  ${plainAccounts} accounts (${plainGroups} groups moved) in ${plainSeconds.toFixed(1)} s (${((n / plainSeconds) * 60).toFixed(0)} accounts/min)`,
  );

  // ---- the campaign, with a worker in its own process ----
  const worker = await startBenchWorker(cfg, 'bench-ami', 'bench-ami-worker');
  const { client, close: closeClient } = await connectTemporalClient();
  try {
    const workflowId = `bench-ami-${n}-${stamp}`;
    load.watch('worker', worker.pid);
    const campaignFrom = await load.sample();
    const startedAt = Date.now();
    const report: CampaignReport = await client.workflow.execute(fleetCampaign, {
      taskQueue: 'bench-ami',
      workflowId,
      args: [
        {
          operation: 'ami-rollout',
          fleetFile: file,
          maxInFlight,
          // soft: every wave runs MAX_IN_FLIGHT accounts at once, as the plain script does (strict would
          // cap each wave's window at its failure budget: 5 of 50 in a 20-account canary wave)
          concurrencyMode: 'soft',
          failureBudget: { maxFailurePercent: 25 },
          ami: { image: campaignImage, ...BAKE },
        },
      ],
    });
    const seconds = (Date.now() - startedAt) / 1000;
    const campaignTo = await load.sample();
    const peak = worker.peakRssMiB();
    const { runs, longest } = await campaignHistories(client, workflowId, 'accountAmiRollout');
    console.log(
      `campaign:      ${n} accounts in ${seconds.toFixed(1)} s (${((n / seconds) * 60).toFixed(0)} accounts/min), phase ${report.phase}, rolled out ${report.counts['rolled-out'] ?? 0}, problems ${report.problems.length}`,
    );
    // The plain script runs every account MAX_IN_FLIGHT at once; the campaign runs the waves one after
    // another (soft mode: MAX_IN_FLIGHT at once in each, campaign-budget.ts).
    console.log(
      `  waves (size): ${(report.waves ?? []).map((w) => `${w.name} ${w.size}`).join(', ')}; soft mode, ${maxInFlight} in flight`,
    );
    console.log(`  campaign runs (continue-as-new): ${runs}; longest history ${longest} events (limit 10,240)`);
    console.log(`  worker peak RSS ${peak?.toFixed(0) ?? '?'} MiB, V8 heap limit ${worker.heapLimitMiB} MiB`);
    console.log(`  Temporal / plain wall time: ${(seconds / plainSeconds).toFixed(2)}×`);
    console.log("where the time went (the AWS proxy's call counter, CPU seconds per process from /proc):");
    console.log(load.describe('plain   ', plainFrom, plainTo, n));
    console.log(load.describe('campaign', campaignFrom, campaignTo, n));
    console.log(`  plain calls:    ${load.callsByAction(plainFrom, plainTo)}`);
    console.log(`  campaign calls: ${load.callsByAction(campaignFrom, campaignTo)}`);
  } finally {
    worker.proc.kill('SIGTERM');
    await closeClient();
    await fetch(`${cfg.awsEndpoint}/__fleetops/faults`, { method: 'DELETE' });
  }
}

/** `sim image build` + `image publish` of one release for the fleet (publish's own output silenced). */
async function release(cfg: StackConfig, fleet: string, name: string): Promise<void> {
  const built = await runSimImageBuild({
    name,
    fleet,
    manifest: path.join(cfg.stateDir, `bench-ami-${name}.json`),
    quiet: true,
  });
  await runImagePublish({ manifest: built.manifest, name, fleet, quiet: true });
}

async function setRefreshTiming(cfg: StackConfig): Promise<void> {
  const res = await fetch(`${cfg.awsEndpoint}/__fleetops/faults`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ rules: [], autoscaling: REFRESH }),
  });
  if (!res.ok) throw new Error(`AWS proxy refused the bench's refresh timing: HTTP ${res.status} ${await res.text()}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
