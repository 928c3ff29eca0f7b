/**
 * Issue 9's fleet-scale proof: an AMI rollout over 300 accounts with 10% throttling on EC2, Auto
 * Scaling and STS. Every group (one per account and region, plus a second group in eu-west-1 in every
 * tenth account) ends on the new version M through exactly one instance refresh (the proxy's ledger),
 * with M the template's default version and M's image the release's; the report counts every account
 * rolled out. Seeding and campaign times (wall and CPU seconds per process: on a loaded machine the CPU
 * seconds tell what an idle one needs) are printed as `[ami-fleet] {...}`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mapPool } from '../../cli/map-pool';
import { seedLocalStack } from '../../cli/sim/seed-local-stack';
import { SIM_GROUP_NAME, simulatedFleet } from '../../cli/sim/simulated-fleet';
import type { FleetAccount } from '../../fleet/fleet-schema';
import { loadFleetFile, stringifyFleet } from '../../fleet/load-fleet';
import type { FleetCampaignInput } from '../../workflows/campaign/campaign-input';
import { fleetCampaign, type CampaignReport } from '../../workflows/campaign/fleet-campaign';
import { accountCredentials } from '../support/account-access';
import { groupKey, groupState, namedGroupsOf, publishRelease, refreshLedger } from '../support/ami-fleet-checks';
import { cleanUp } from '../support/cleanup';
import { cpuSeconds, cpuSecondsSpent } from '../support/stack-cpu';
import { accountResult } from '../support/rotation-campaigns';
import { proxyStats, setFaultPlan, startTestWorker, testClient, testStack } from '../support/test-stack';

const cfg = testStack();
const TASK_QUEUE = 'ami-fleet-test';
const ACCOUNTS = 300;
const ID_BASE = 982_000_000_000 + (Date.now() % 100_000) * 1000;
const RUN = `amifleet-${Date.now()}`;
const MAX_IN_FLIGHT = 40;
/** Every tenth account also has this group in eu-west-1 (two groups in one region). */
const SECOND_GROUP = 'data-pipeline-loaders';
const dir = path.join(cfg.stateDir, `ami-fleet-${ID_BASE}`);
const fleetFile = path.join(dir, 'fleet.yaml');
/**
 * The worker's Auto Scaling budget per region is 10 calls/s by default (fleet/rate-budgets.ts): with
 * ~5 Auto Scaling calls per group and 330 groups in eu-west-1 that budget alone would take ~3 minutes.
 * The test raises it (the throttling responses still slow it down, AIMD) to stay inside its time budget.
 */
const RATE_BUDGETS = JSON.stringify({
  families: {
    sts: { perSecond: 50, burst: 10 },
    ec2: { perSecond: 40, burst: 10 },
    autoscaling: { perSecond: 40, burst: 10 },
    monitoring: { perSecond: 40, burst: 10 },
  },
});

let accounts: FleetAccount[];
let worker: Awaited<ReturnType<typeof startTestWorker>>;
let temporal: Awaited<ReturnType<typeof testClient>>;
const figures: Record<string, unknown> = {};

/** The simulated fleet without secrets (not needed here: seeding is faster), every tenth account with a second group. */
function fleetWithGroups(): FleetAccount[] {
  return simulatedFleet(ACCOUNTS, { idBase: ID_BASE, secrets: false }).map((a, i) =>
    i % 10 === 3
      ? { ...a, autoScalingGroups: [{ name: SIM_GROUP_NAME }, { name: SECOND_GROUP, region: 'eu-west-1' }] }
      : a,
  );
}

beforeAll(async () => {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const seedStarted = Date.now();
  const cpuBefore = cpuSeconds(cfg.stateDir);
  const fleet = fleetWithGroups();
  await seedLocalStack(cfg, fleet);
  fs.writeFileSync(fleetFile, stringifyFleet(fleet));
  figures.seedSeconds = Math.round((Date.now() - seedStarted) / 100) / 10;
  figures.seedCpuSeconds = cpuSecondsSpent(cpuBefore, cpuSeconds(cfg.stateDir));
  accounts = loadFleetFile(fleetFile);
  worker = await startTestWorker(TASK_QUEUE, { FLEETOPS_RATE_BUDGETS: RATE_BUDGETS });
  temporal = await testClient(cfg);
}, 600_000);

afterAll(async () => {
  process.stderr.write(`[ami-fleet] ${JSON.stringify(figures)}\n`);
  await cleanUp({
    faults: () => setFaultPlan(cfg, null),
    worker: () => worker?.stop(),
    temporal: () => temporal?.close(),
  });
});

describe('ami-rollout at fleet scale', () => {
  it(
    `${ACCOUNTS} accounts, 10% throttling on EC2, Auto Scaling and STS: every group on M through one refresh, M the default`,
    { timeout: 1_800_000 },
    async () => {
      const groups = namedGroupsOf(accounts);
      // 300 in eu-west-1, 60 in us-east-1 (every fifth account), 30 second groups
      expect(accounts).toHaveLength(ACCOUNTS);
      expect(groups).toHaveLength(ACCOUNTS + ACCOUNTS / 5 + ACCOUNTS / 10);
      const image = await publishRelease(dir, fleetFile, `${RUN}-release`);
      expect(Object.keys(image).sort()).toEqual(['eu-west-1', 'us-east-1']);

      const statsBefore = await proxyStats(cfg);
      await setFaultPlan(cfg, {
        seed: 9,
        rules: ['ec2', 'autoscaling', 'sts'].map((service) => ({ service, throttleRate: 0.1 })),
        autoscaling: { refreshDurationMs: 1000, pendingMs: 200 },
      });
      const started = Date.now();
      const cpuBefore = cpuSeconds(cfg.stateDir);
      let report: CampaignReport;
      try {
        report = await temporal.client.workflow.execute(fleetCampaign, {
          taskQueue: TASK_QUEUE,
          workflowId: RUN,
          args: [
            {
              operation: 'ami-rollout',
              fleetFile,
              maxInFlight: MAX_IN_FLIGHT,
              // The budget also caps the window (never more in flight than failures allowed): as large as
              // the window. Any failure fails the test anyway (the counts below).
              failureBudget: { maxFailures: MAX_IN_FLIGHT, onExceeded: 'cancel' },
              ami: { image: 'latest', healthBakeSeconds: 0, healthPollSeconds: 1 },
            } satisfies FleetCampaignInput,
          ],
        });
      } finally {
        figures.campaignSeconds = Math.round((Date.now() - started) / 100) / 10;
        figures.campaignCpuSeconds = cpuSecondsSpent(cpuBefore, cpuSeconds(cfg.stateDir));
      }
      const stats = await proxyStats(cfg);
      await setFaultPlan(cfg, null);
      figures.throttled = stats.injected.throttle - statsBefore.injected.throttle;
      figures.awsRequests = stats.requests - statsBefore.requests;

      expect(report.target).toBe(`${RUN}-release`);
      expect(report.phase).toBe('completed');
      expect(report.problems).toEqual([]);
      expect(report.counts).toEqual({ 'rolled-out': ACCOUNTS });
      expect(stats.injected.throttle - statsBefore.injected.throttle).toBeGreaterThan(0);

      // The proxy's ledger: exactly one refresh started per group, each Successful to the release's image.
      const ours = new Set(accounts.map((a) => a.id));
      const ledger = await refreshLedger(cfg);
      const starts = ledger.starts.filter((s) => ours.has(s.account));
      expect(starts).toHaveLength(groups.length);
      expect(new Set(starts.map((s) => groupKey(s.account, s.region, s.groupName)))).toEqual(
        new Set(groups.map((g) => groupKey(g.account.id, g.region, g.groupName))),
      );
      expect(starts.filter((s) => s.starts !== 1)).toEqual([]);
      const refreshes = ledger.refreshes.filter((r) => ours.has(r.account));
      expect(refreshes).toHaveLength(groups.length);
      expect(
        refreshes.filter(
          (r) => r.startedBy !== 'client' || r.status !== 'Successful' || r.desired?.imageId !== image[r.region],
        ),
      ).toEqual([]);

      // Every group, as its account sees it: on M (version 2: the seed made version 1), M the default, M on the image.
      const wrong = (
        await mapPool(accounts, 16, async (account) => {
          const credentials = await accountCredentials(cfg, account);
          const found: string[] = [];
          for (const g of groups.filter((x) => x.account === account)) {
            const s = await groupState(cfg, account, g.region, {
              groupName: g.groupName,
              withImage: true,
              credentials,
            });
            const want = { version: '2', defaultVersion: 2, imageId: image[g.region] };
            if (JSON.stringify(s) !== JSON.stringify(want))
              found.push(`${groupKey(account.id, g.region, g.groupName)}: ${JSON.stringify(s)}`);
          }
          return found;
        })
      ).flat();
      expect(wrong).toEqual([]);

      // Each account's result names every one of its groups rolled out from 1 to 2.
      const results = await mapPool(accounts, 16, (a) => accountResult(temporal.client, RUN, a.id));
      const lines = results.flatMap((r) => r.regions.map((x) => ({ account: r.accountId, ...x })));
      expect(lines).toHaveLength(groups.length);
      expect(lines.filter((l) => l.outcome !== 'rolled-out' || l.fromVersion !== '1' || l.toVersion !== '2')).toEqual(
        [],
      );
      figures.totalSeconds = Math.round((Date.now() - started) / 100) / 10;
    },
  );
});
