import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { runSimSeed } from '../../cli/commands/sim-seed';
import { seedLocalStack } from '../../cli/sim/seed-local-stack';
import { simulatedFleet } from '../../cli/sim/simulated-fleet';
import { loadFleetFile, stringifyFleet } from '../../fleet/load-fleet';
import type { FleetAccount } from '../../fleet/fleet-schema';
import type { FleetCampaignInput } from '../../workflows/campaign/campaign-input';
import { cancelUpdate, statusQuery } from '../../workflows/campaign/campaign-messages';
import type { CampaignReport } from '../../workflows/campaign/fleet-campaign';
import type { FleetInventoryReport } from '../../workflows/fleet-inventory';
import { allWorkflowHistories, decodedHistoryText } from '../support/history-scan';
import {
  executions,
  proxyStats,
  setFaultPlan,
  startTestWorker,
  testClient,
  testStack,
  workflowBundle,
} from '../support/test-stack';
import { cleanUp } from '../support/cleanup';
import { setHealthAlarm } from '../support/account-access';
import { formatProblems } from '../../cli/commands/campaign-status-view';

// Upgrade campaigns on the real local stack: Temporal dev server, moto behind the AWS proxy, OpenBao.
const cfg = testStack();
const TASK_QUEUE = 'campaign-test';
const ID_BASE = 300_000_000_000;
const POISONED_ID_BASE = 310_000_000_000;
const HEALTH_ID_BASE = 320_000_000_000;
let fleetFile: string;
let accounts: FleetAccount[];
let worker: Awaited<ReturnType<typeof startTestWorker>>;
let temporal: Awaited<ReturnType<typeof testClient>>;

beforeAll(async () => {
  ({ file: fleetFile } = await runSimSeed({
    accounts: 300,
    idBase: ID_BASE,
    out: path.join(cfg.stateDir, 'campaign-fleet.yaml'),
    quiet: true,
  }));
  accounts = loadFleetFile(fleetFile);
  worker = await startTestWorker(TASK_QUEUE);
  temporal = await testClient(cfg);
});

afterAll(() =>
  cleanUp({
    faultPlan: () => setFaultPlan(cfg, null),
    worker: () => worker?.stop(),
    temporal: () => temporal?.close(),
  }),
);

const campaign = (workflowId: string, input: Partial<FleetCampaignInput>) =>
  temporal.client.workflow.start('fleetCampaign', {
    taskQueue: TASK_QUEUE,
    workflowId,
    args: [
      {
        operation: 'upgrade',
        fleetFile,
        maxInFlight: 40,
        upgrade: { targetVersion: '1.1.0', healthBakeSeconds: 2, healthPollSeconds: 1 },
        ...input,
      } as FleetCampaignInput,
    ],
  });

async function inventory(workflowId: string, ids?: string[], file = fleetFile): Promise<FleetInventoryReport> {
  return temporal.client.workflow.execute('fleetInventory', {
    taskQueue: TASK_QUEUE,
    workflowId,
    args: [{ fleetFile: file, maxInFlight: 40, ...(ids ? { select: { ids } } : {}) }],
  });
}

describe('upgrade campaigns on the local stack', () => {
  it('300 accounts with 5% throttling and 1% 5xx injected: every account upgraded', async () => {
    await setFaultPlan(cfg, {
      seed: 11,
      rules: [
        { service: 'cloudformation', throttleRate: 0.05, serverErrorRate: 0.01 },
        { service: 'sts', throttleRate: 0.05, serverErrorRate: 0.01 },
        { service: 'monitoring', throttleRate: 0.05 },
      ],
    });
    const before = await proxyStats(cfg);
    // 20% per wave: the window is bounded by the failures still allowed (canary 2, general 40).
    const handle = await campaign('campaign-300', { failureBudget: { maxFailurePercent: 20 } });
    const report: CampaignReport = await handle.result();
    const after = await proxyStats(cfg);
    await setFaultPlan(cfg, null);
    // The faults were really injected (and retried through): thousands of calls at 5% and 1%.
    expect(after.injected.throttle - before.injected.throttle).toBeGreaterThanOrEqual(50);
    expect(after.injected.serverError - before.injected.serverError).toBeGreaterThanOrEqual(5);
    expect(report.phase).toBe('completed');
    expect(report.problems).toEqual([]);
    expect(report.counts.upgraded).toBe(300);
    const inv = await inventory('campaign-300-inventory');
    const regions = accounts.reduce((n, a) => n + a.regions.length, 0);
    expect(inv.byVersion).toEqual({ '1.1.0': regions });
    // one change set executed per account and region, none twice
    const ids = new Set(accounts.map((a) => a.id));
    const ledger = (await executions(cfg)).filter((e) => ids.has(e.account));
    expect(ledger).toHaveLength(regions);
    expect(ledger.filter((e) => e.count !== 1 || e.version !== '1.1.0')).toEqual([]);
    expect(new Set(ledger.map((e) => `${e.account}/${e.region}`)).size).toBe(regions);
  }, 600_000);

  it('a poisoned release stops inside the canary wave within the budget, failed accounts rolled back, every other account untouched', async () => {
    // Its own 20 accounts (4 canary, 4 early, 10 general, 2 late), all at 1.0.0: nothing from the test above.
    const rings = (i: number): FleetAccount['ring'] =>
      i < 4 ? 'canary' : i < 8 ? 'early' : i < 18 ? 'general' : 'late';
    const fleet = simulatedFleet(20, { idBase: POISONED_ID_BASE }).map((a, i) => ({ ...a, ring: rings(i) }));
    await seedLocalStack(cfg, fleet);
    const file = path.join(cfg.stateDir, 'campaign-poisoned-fleet.yaml');
    fs.writeFileSync(file, stringifyFleet(fleet));
    const ids = new Set(fleet.map((a) => a.id));
    const regionsOf = (list: FleetAccount[]) => list.reduce((n, a) => n + a.regions.length, 0);

    await setFaultPlan(cfg, { rules: [], cloudformation: { poisonedVersions: [{ version: '1.2.0' }] } });
    const handle = await campaign('campaign-poisoned', {
      fleetFile: file,
      upgrade: { targetVersion: '1.2.0', healthBakeSeconds: 2, healthPollSeconds: 1 },
      failureBudget: { maxFailures: 2 },
    });
    let status = await handle.query(statusQuery);
    for (let i = 0; i < 120 && !(status.phase === 'paused' && status.inFlight === 0); i++) {
      await new Promise((r) => setTimeout(r, 500));
      status = await handle.query(statusQuery);
    }
    expect(status.phase).toBe('paused');
    expect(status.inFlight).toBe(0);
    expect(status.currentWave).toBe('canary-1');
    expect(status.phaseReason).toMatch(/failure budget of wave canary-1 used up \(2 of 2/);
    const failed = status.problems.filter((p) => p.state === 'rolled-back');
    expect(failed).toHaveLength(2);
    expect(status.waves[0].failures).toBe(2);
    // the window never exceeded the budget: exactly the 2 failed accounts ran, the other 18 are pending
    expect(status.counts).toEqual({ 'rolled-back': 2, pending: 18 });

    // Every account of the fleet is at 1.0.0: the failed ones rolled back, all others never updated.
    const failedIds = new Set(failed.map((f) => f.accountId));
    const failedRegions = regionsOf(fleet.filter((a) => failedIds.has(a.id)));
    const inv = await inventory('campaign-poisoned-inventory', undefined, file);
    expect(inv.failures).toEqual([]);
    expect(inv.byVersion).toEqual({ '1.0.0': regionsOf(fleet) });
    expect(inv.byStackStatus).toEqual({
      UPDATE_ROLLBACK_COMPLETE: failedRegions,
      CREATE_COMPLETE: regionsOf(fleet) - failedRegions,
    });
    // Only the failed accounts executed a change set (once per region); no other account, any version.
    const touched = (await executions(cfg)).filter((e) => ids.has(e.account));
    expect(new Set(touched.map((e) => e.account))).toEqual(failedIds);
    expect(touched).toHaveLength(failedRegions);
    expect(touched.filter((e) => e.version !== '1.2.0' || e.count !== 1)).toEqual([]);

    const cancelled = await handle.executeUpdate(cancelUpdate, { args: [{ reason: 'bad release' }] });
    expect(cancelled.phase).toBe('cancelling');
    expect((await handle.result()).phase).toBe('cancelled');
    expect((await executions(cfg)).filter((e) => ids.has(e.account))).toHaveLength(failedRegions);
  }, 300_000);

  it('accounts whose health alarm is already in ALARM are left alone (unhealthy-before), not counted against the budget; the others are upgraded', async () => {
    // Its own 8 accounts (canary 1, early 1, general 5, late 1; one of them in two regions), all at 1.0.0.
    const fleet = simulatedFleet(8, { idBase: HEALTH_ID_BASE });
    await seedLocalStack(cfg, fleet);
    const file = path.join(cfg.stateDir, 'campaign-health-fleet.yaml');
    fs.writeFileSync(file, stringifyFleet(fleet));
    const general = fleet.filter((a) => a.ring === 'general');
    const sick = [
      general.find((a) => a.regions.length > 1) ?? general[0],
      general.find((a) => a.regions.length === 1)!,
    ];
    expect(new Set(sick.map((a) => a.id)).size).toBe(2);
    const sickIds = new Set(sick.map((a) => a.id));
    const regionsOf = (list: FleetAccount[]) => list.reduce((n, a) => n + a.regions.length, 0);
    // only the first region's alarm: the account's other region is left alone too
    for (const a of sick) await setHealthAlarm(cfg, a, a.regions[0], 'ALARM', 'test: broken before the campaign');
    let report: CampaignReport;
    try {
      // a budget of one failure per wave: two unhealthy accounts in one wave would pause it if they counted
      const handle = await campaign('campaign-health-before', {
        fleetFile: file,
        failureBudget: { maxFailures: 1, onExceeded: 'pause' },
      });
      report = await handle.result();
    } finally {
      for (const a of sick) await setHealthAlarm(cfg, a, a.regions[0], 'OK', 'test: recovered');
    }
    expect(report.phase).toBe('completed');
    expect(report.counts).toEqual({ upgraded: 6, 'unhealthy-before': 2 });
    expect(report.waves.every((w) => w.failures === 0)).toBe(true);
    // listed with the alarm, its region and its state reason, and the runbook
    expect(report.problems.map((p) => [p.accountId, p.state]).sort()).toEqual(
      sick.map((a) => [a.id, 'unhealthy-before']).sort(),
    );
    for (const p of report.problems) {
      const a = sick.find((x) => x.id === p.accountId)!;
      expect(p.reason).toContain(`alarm ${a.pipeline.stackName}-health in ALARM in ${a.regions[0]}`);
      expect(p.reason).toContain('test: broken before the campaign (ALARM)');
      expect(p.runbook).toBe('docs/runbooks/unhealthy-before.md');
    }
    expect(formatProblems(report).join('\n')).toMatch(
      /– \d{12} {2}general-1 {2}unhealthy-before: alarm \S+-health in ALARM/,
    );
    // Through AWS: the unhealthy accounts' stacks still at 1.0.0, never updated; the others at 1.1.0.
    const inv = await inventory('campaign-health-before-inventory', undefined, file);
    expect(regionsOf(sick)).toBeGreaterThanOrEqual(3);
    expect(inv.byVersion).toEqual({ '1.1.0': regionsOf(fleet) - regionsOf(sick), '1.0.0': regionsOf(sick) });
    const sickStacks = inv.accounts.filter((r) => sickIds.has(r.accountId)).flatMap((r) => r.stacks);
    expect(sickStacks.map((st) => (st.found ? `${st.version} ${st.status}` : 'missing'))).toEqual(
      sickStacks.map(() => '1.0.0 CREATE_COMPLETE'),
    );
    // The proxy ledger: a change set executed once per healthy account and region, none in the unhealthy ones.
    const ids = new Set(fleet.map((a) => a.id));
    const ledger = (await executions(cfg)).filter((e) => ids.has(e.account));
    expect(ledger.filter((e) => sickIds.has(e.account))).toEqual([]);
    expect(ledger).toHaveLength(regionsOf(fleet) - regionsOf(sick));
  }, 300_000);

  it('histories replay without determinism errors, stay bounded, and carry no credential or ExternalId', async () => {
    const histories = await allWorkflowHistories(
      temporal.client,
      "WorkflowType = 'fleetCampaign' OR WorkflowType = 'accountUpgrade' OR WorkflowType = 'accountLease'",
    );
    expect(histories.length).toBeGreaterThan(300);
    expect(Math.max(...histories.map((h) => h.events))).toBeLessThan(10_240);
    const sample = histories.filter(
      (h, i) => h.workflowId.startsWith('campaign-') && (!h.workflowId.includes('/') || i % 25 === 0),
    );
    const replay = await Worker.runReplayHistories(
      { workflowBundle: await workflowBundle() },
      sample.map((h) => ({ workflowId: h.workflowId, history: h.history })),
    );
    let replayed = 0;
    for await (const r of replay) {
      expect(r.error, `${r.workflowId} replay`).toBeUndefined();
      replayed++;
    }
    expect(replayed).toBe(sample.length);

    const credentials = worker.fleet.credentials as unknown as {
      cache: Map<string, { accessKeyId: string; secretAccessKey: string; sessionToken: string }>;
    };
    const secrets = [...credentials.cache.values()].flatMap((c) => [c.accessKeyId, c.secretAccessKey, c.sessionToken]);
    expect(secrets.length).toBeGreaterThan(300);
    const all = histories.map((h) => decodedHistoryText(h.json)).join('\n');
    for (const s of secrets) expect(all.includes(s)).toBe(false);
    expect(all).not.toMatch(/ASIA[A-Z0-9]{16}/);
  }, 300_000);
});
