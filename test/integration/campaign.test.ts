import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { runSimSeed } from '../../cli/commands/sim-seed';
import { loadFleetFile } from '../../fleet/load-fleet';
import type { FleetAccount } from '../../fleet/fleet-schema';
import type { FleetCampaignInput } from '../../workflows/campaign/campaign-input';
import { cancelUpdate, statusQuery } from '../../workflows/campaign/campaign-messages';
import type { CampaignReport } from '../../workflows/campaign/fleet-campaign';
import type { FleetInventoryReport } from '../../workflows/fleet-inventory';
import { allWorkflowHistories, decodedHistoryText } from '../support/history-scan';
import {
  executions,
  setFaultPlan,
  startTestWorker,
  testClient,
  testStack,
  workflowBundle,
} from '../support/test-stack';

// Upgrade campaigns on the real local stack: Temporal dev server, moto behind the AWS proxy, OpenBao.
const cfg = testStack();
const TASK_QUEUE = 'campaign-test';
const ID_BASE = 300_000_000_000;
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

afterAll(async () => {
  await setFaultPlan(cfg, null);
  await worker?.stop();
  await temporal?.close();
});

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

async function inventory(workflowId: string, ids?: string[]): Promise<FleetInventoryReport> {
  return temporal.client.workflow.execute('fleetInventory', {
    taskQueue: TASK_QUEUE,
    workflowId,
    args: [{ fleetFile, maxInFlight: 40, ...(ids ? { select: { ids } } : {}) }],
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
    // 20% per wave: the window is bounded by the failures still allowed (canary 2, general 40).
    const handle = await campaign('campaign-300', { failureBudget: { maxFailurePercent: 20 } });
    const report: CampaignReport = await handle.result();
    await setFaultPlan(cfg, null);
    expect(report.phase).toBe('completed');
    expect(report.problems).toEqual([]);
    expect(report.counts.upgraded).toBe(300);
    const inv = await inventory('campaign-300-inventory');
    const regions = accounts.reduce((n, a) => n + a.regions.length, 0);
    expect(inv.byVersion).toEqual({ '1.1.0': regions });
    // no change set was executed twice
    const ledger = await executions(cfg);
    expect(ledger.filter((e) => e.account.startsWith('3')).every((e) => e.count === 1)).toBe(true);
  }, 600_000);

  it('a poisoned release stops inside the canary wave within the budget, failed accounts rolled back, later waves untouched', async () => {
    await setFaultPlan(cfg, { rules: [], cloudformation: { poisonedVersions: [{ version: '1.2.0' }] } });
    const handle = await campaign('campaign-poisoned', {
      upgrade: { targetVersion: '1.2.0', healthBakeSeconds: 2, healthPollSeconds: 1 },
      failureBudget: { maxFailures: 2 },
    });
    let status = await handle.query(statusQuery);
    for (let i = 0; i < 120 && status.phase !== 'paused'; i++) {
      await new Promise((r) => setTimeout(r, 500));
      status = await handle.query(statusQuery);
    }
    expect(status.phase).toBe('paused');
    expect(status.currentWave).toBe('canary-1');
    const failed = status.problems.filter((p) => p.state === 'rolled-back');
    expect(failed).toHaveLength(2);
    expect(status.waves[0].failures).toBe(2);
    // every failed account is back at its old version
    const inv = await inventory(
      'campaign-poisoned-inventory',
      failed.map((f) => f.accountId),
    );
    expect(inv.byVersion).toEqual({ '1.1.0': expect.any(Number) });
    // no account of a later wave was touched
    const canary = new Set(accounts.filter((a) => a.ring === 'canary').map((a) => a.id));
    const touched = (await executions(cfg)).filter((e) => e.version === '1.2.0').map((e) => e.account);
    expect(touched.every((id) => canary.has(id))).toBe(true);
    const cancelled = await handle.executeUpdate(cancelUpdate, { args: [{ reason: 'bad release' }] });
    expect(cancelled.phase).toBe('cancelling');
    expect((await handle.result()).phase).toBe('cancelled');
    await setFaultPlan(cfg, null);
  }, 300_000);

  it('histories replay without determinism errors, stay bounded, and carry no credential or ExternalId', async () => {
    const histories = await allWorkflowHistories(
      temporal.client,
      "WorkflowType = 'fleetCampaign' OR WorkflowType = 'accountUpgrade'",
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
