/**
 * Secret rotation at scale on the local stack:
 * `npm run bench:rotation -- N [MAX_IN_FLIGHT] [--secret collector-api-key|external-id]`.
 *
 * 1. seeds N simulated accounts with their secrets (idempotent; ids 600000000000 + i) and reports the
 *    seed time;
 * 2. a plain concurrent script (no Temporal) makes the same calls as accountSecretRotation — preflight,
 *    create (Vault + AWS), [set,] test, finish, health alarm — for every account, MAX_IN_FLIGHT at once;
 * 3. a rotate-secret fleetCampaign rotates the same secret again through a worker in its own process.
 * Prints wall time, accounts per minute, the worker's peak RSS (VmHWM), the longest workflow history
 * and the Temporal/plain ratio. (`iam-access-key` is left out: two rotations back to back hit AWS's
 * two-key limit until the first one's grace ends.)
 */
import pino from 'pino';
import { ExternalIdRotation } from '../activities/rotation/external-id-rotation';
import { SecretRotation } from '../activities/rotation/secret-rotation';
import { mapPool } from '../cli/map-pool';
import { connectTemporalClient } from '../cli/temporal-client';
import { createFleetActivities } from '../worker/fleet-activities';
import { loadWorkerConfig } from '../worker/worker-config';
import { fleetCampaign, type CampaignReport } from '../workflows/campaign/fleet-campaign';
import { rotationToken } from '../workflows/rotation/uuid-v5';
import { campaignHistories, seedBenchFleet, startBenchWorker } from './bench-worker';

const KINDS = ['collector-api-key', 'external-id'] as const;

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const secretAt = args.indexOf('--secret');
  const secret = secretAt >= 0 ? args[secretAt + 1] : 'collector-api-key';
  if (!(KINDS as readonly string[]).includes(secret)) throw new Error(`--secret: expected one of ${KINDS.join(', ')}`);
  const positional = args.filter((a, i) => !a.startsWith('--') && (secretAt < 0 || i !== secretAt + 1));
  const n = Number(positional[0] ?? 1000);
  const maxInFlight = Number(positional[1] ?? 50);
  const { cfg, file, accounts, seedSeconds } = await seedBenchFleet(n, 600_000_000_000, 'bench-rotation');
  console.log(`seeded ${n} accounts with their secrets in ${seedSeconds.toFixed(1)} s`);
  const stamp = Date.now().toString(36);

  // ---- plain script: the same calls, no Temporal ----
  const { shared, close } = createFleetActivities(loadWorkerConfig(), pino({ level: 'silent' }));
  const rotation = new SecretRotation(shared);
  const externalIds = new ExternalIdRotation(shared);
  const campaignId = `plain-rotation-${stamp}`;
  const plainStarted = Date.now();
  let plainRotated = 0;
  await mapPool(accounts, maxInFlight, async (account) => {
    const step = {
      fleetFile: file,
      accountId: account.id,
      secret,
      campaignId,
      token: rotationToken(campaignId, account.id, secret, 1),
    };
    const found = await rotation.preflight(step);
    if (found.status !== 'due') throw new Error(`plain: account ${account.id} is ${found.status}: ${found.reason}`);
    if (secret === 'external-id') {
      const { vaultVersion } = await externalIds.create(step);
      await externalIds.set({ ...step, vaultVersion });
      if (!(await externalIds.test({ ...step, vaultVersion })).matches)
        throw new Error(`plain: ${account.id} test failed`);
      await externalIds.finish({ ...step, vaultVersion });
    } else {
      const { vaultVersion } = await rotation.create(step);
      if (!(await rotation.test({ ...step, vaultVersion })).matches)
        throw new Error(`plain: ${account.id} test failed`);
      await rotation.finish({ ...step, vaultVersion });
    }
    await rotation.healthAlarm(step);
    plainRotated++;
  });
  const plainSeconds = (Date.now() - plainStarted) / 1000;
  close();
  console.log(
    `plain script:  ${plainRotated} accounts in ${plainSeconds.toFixed(1)} s (${((n / plainSeconds) * 60).toFixed(0)} accounts/min)`,
  );

  // ---- the campaign, with a worker in its own process ----
  const worker = await startBenchWorker(cfg, 'bench-rotation', 'bench-rotation-worker');
  const { client, close: closeClient } = await connectTemporalClient();
  try {
    const workflowId = `bench-rotation-${n}-${stamp}`;
    const startedAt = Date.now();
    const report: CampaignReport = await client.workflow.execute(fleetCampaign, {
      taskQueue: 'bench-rotation',
      workflowId,
      args: [
        {
          operation: 'rotate-secret',
          fleetFile: file,
          maxInFlight,
          failureBudget: { maxFailurePercent: 25 },
          rotation: { secret, healthBakeSeconds: 0 },
        },
      ],
    });
    const seconds = (Date.now() - startedAt) / 1000;
    const peak = worker.peakRssMiB();
    const { runs, longest } = await campaignHistories(client, workflowId, 'accountSecretRotation');
    console.log(
      `campaign:      ${n} accounts in ${seconds.toFixed(1)} s (${((n / seconds) * 60).toFixed(0)} accounts/min), phase ${report.phase}, rotated ${report.counts.rotated ?? 0}, problems ${report.problems.length}`,
    );
    console.log(`  campaign runs (continue-as-new): ${runs}; longest history ${longest} events (limit 10,240)`);
    console.log(`  worker peak RSS ${peak?.toFixed(0) ?? '?'} MiB, V8 heap limit ${worker.heapLimitMiB} MiB`);
    console.log(`  Temporal / plain wall time: ${(seconds / plainSeconds).toFixed(2)}×`);
  } finally {
    worker.proc.kill('SIGTERM');
    await closeClient();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
