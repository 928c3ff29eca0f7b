import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { seedLocalStack } from '../../cli/sim/seed-local-stack';
import { simulatedFleet } from '../../cli/sim/simulated-fleet';
import type { FleetAccount } from '../../fleet/fleet-schema';
import { stringifyFleet } from '../../fleet/load-fleet';
import type { FleetCampaignInput } from '../../workflows/campaign/campaign-input';
import { statusQuery, type CampaignStatus } from '../../workflows/campaign/campaign-messages';
import type { CampaignReport, fleetCampaign } from '../../workflows/campaign/fleet-campaign';
import { accountLeaseId, leaseStateQuery } from '../../workflows/lease/lease-messages';
import { allWorkflowHistories, decodedHistoryText, secretsIn } from '../support/history-scan';
import { executions, setFaultPlan, startTestWorker, testClient, testStack } from '../support/test-stack';
import { cleanUp } from '../support/cleanup';

// One change per account at a time across campaigns (workflows/lease/), on the real local stack: two
// overlapping upgrade campaigns on the same accounts, shown apart by the AWS proxy's change-set ledger
// (when each change set was created, executed and its update ended); a campaign that gives up on a busy
// account (skipped-busy); and the lease released when the holding campaign is cancelled.

const cfg = testStack();
const TASK_QUEUE = 'account-lease-test';
const RUN = `lease-${Date.now().toString(36)}`;
const ID_BASE = 330_000_000_000;
const UPDATE_MS = 1_500;
const BAKE_S = 2;
/** Four single-region accounts for the overlap, one more for skip and cancel. */
let fleet: FleetAccount[];
let fleetFile: string;
let worker: Awaited<ReturnType<typeof startTestWorker>>;
let temporal: Awaited<ReturnType<typeof testClient>>;

beforeAll(async () => {
  // one ring: the four overlap accounts run in one wave, all at once
  fleet = simulatedFleet(4, { idBase: ID_BASE, secrets: false })
    .map((f): FleetAccount => ({ ...f, ring: 'general' }))
    .concat(simulatedFleet(1, { idBase: ID_BASE + 10, secrets: false }));
  await seedLocalStack(cfg, fleet);
  fleetFile = path.join(cfg.stateDir, `${RUN}-fleet.yaml`);
  fs.writeFileSync(fleetFile, stringifyFleet(fleet));
  await setFaultPlan(cfg, { rules: [], cloudformation: { updateDurationMs: UPDATE_MS } });
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

type Campaign = WorkflowHandle<typeof fleetCampaign>;

const upgrade = (id: string, version: string, input: Partial<FleetCampaignInput> = {}): Promise<Campaign> =>
  temporal.client.workflow.start<typeof fleetCampaign>('fleetCampaign', {
    taskQueue: TASK_QUEUE,
    workflowId: `${RUN}-${id}`,
    args: [
      {
        operation: 'upgrade',
        fleetFile,
        maxInFlight: 4,
        failureBudget: { maxFailures: 4 }, // window 4 (strict mode shrinks it to the failures left)
        respectMaintenanceWindows: false,
        upgrade: { targetVersion: version, healthBakeSeconds: BAKE_S, healthPollSeconds: 1 },
        ...input,
      } as FleetCampaignInput,
    ],
  });

const status = (c: Campaign) => c.query(statusQuery).catch(() => undefined);

async function until<T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean, ms = 30_000): Promise<T> {
  for (const end = Date.now() + ms; Date.now() < end;) {
    const v = await read();
    if (ok(v)) return v;
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`never: ${what}`);
}

describe('per-account lease across campaigns (local stack)', () => {
  it(
    'two overlapping upgrade campaigns never change one account at the same time; one waits, both complete',
    {
      timeout: 80_000,
    },
    async () => {
      const ids = fleet.slice(0, 4).map((a) => a.id);
      const select = { ids };
      // which campaign reaches an account first is a race: whichever comes second may move it back a
      // version, which the downgrade guard would refuse without allowDowngrade
      const both = { select, allowDowngrade: true };
      const [a, b] = await Promise.all([upgrade('a', '1.1.0', both), upgrade('b', '1.2.0', both)]);
      // watch both statuses while they run: some account shows "waiting for <the other campaign>"
      const seen: Array<{ campaign: string; accountId: string; reason: string }> = [];
      let done = false;
      const watching = (async () => {
        while (!done) {
          for (const c of [a, b]) {
            const s: CampaignStatus | undefined = await status(c);
            for (const w of s?.waitingForLease ?? []) seen.push({ campaign: c.workflowId, ...w });
          }
          await new Promise((r) => setTimeout(r, 200));
        }
      })();
      const [ra, rb]: CampaignReport[] = await Promise.all([a.result(), b.result()]);
      done = true;
      await watching;
      for (const r of [ra, rb]) {
        expect(r.phase).toBe('completed');
        expect(r.counts.upgraded).toBe(4);
        expect(r.problems).toEqual([]);
      }
      // the waiting was observed, and it named the other campaign
      expect(seen.length).toBeGreaterThan(0);
      for (const w of seen) {
        const other = w.campaign === a.workflowId ? b.workflowId : a.workflowId;
        expect(w.reason).toBe(`waiting for ${other}`);
        expect(ids).toContain(w.accountId);
      }

      // the proxy's ledger: per account one execution per campaign, and the later campaign created its
      // change set only after the earlier one's update ended and its health bake was over
      const ledger = (await executions(cfg)).filter((e) => ids.includes(e.account));
      expect(ledger).toHaveLength(8);
      const gaps: number[] = [];
      for (const id of ids) {
        const mine = ledger.filter((e) => e.account === id).sort((x, y) => x.executedAt - y.executedAt);
        expect(mine.map((e) => e.count)).toEqual([1, 1]);
        expect(mine.map((e) => e.version).sort()).toEqual(['1.1.0', '1.2.0']);
        const [first, second] = mine;
        expect(first.createdAt).not.toBeNull();
        expect(second.createdAt).not.toBeNull();
        expect(first.createdAt!).toBeLessThanOrEqual(first.executedAt);
        expect(first.updateEndsAt - first.executedAt).toBe(UPDATE_MS);
        // no overlap: [created, update ended] of one campaign ends before the other's begins …
        expect(second.createdAt!).toBeGreaterThan(first.updateEndsAt);
        // … and the first one's health bake (BAKE_S) lies in between too (it held the lease through it)
        gaps.push(second.createdAt! - first.updateEndsAt);
      }
      expect(gaps).toHaveLength(4);
      for (const g of gaps) expect(g).toBeGreaterThanOrEqual(BAKE_S * 1000 - 100);
      console.log(
        `[account-lease] gap between campaigns per account (ms): ${gaps.join(', ')}; waits seen: ${seen.length}`,
      );
    },
  );

  it(
    'past leaseWaitSeconds an account is skipped-busy (listed, not a failure); cancelling the holder releases it',
    {
      timeout: 60_000,
    },
    async () => {
      const x = fleet[4].id;
      const select = { ids: [x] };
      // the holder bakes for a minute: it holds the account's lease all that time
      const holder = await upgrade('holder', '1.3.0', {
        select,
        upgrade: { targetVersion: '1.3.0', healthBakeSeconds: 60, healthPollSeconds: 1 },
      });
      const lock = temporal.client.workflow.getHandle(accountLeaseId(x));
      await until(
        'the holder holds the lease',
        () => lock.query(leaseStateQuery).catch(() => undefined),
        (s) => s?.holder?.campaignId === holder.workflowId,
      );

      const skipper = await upgrade('skipper', '1.4.0', { select, leaseWaitSeconds: 2 });
      const skipped = await skipper.result();
      expect(skipped.phase).toBe('completed');
      expect(skipped.counts['skipped-busy']).toBe(1);
      expect(skipped.counts.failed ?? 0).toBe(0);
      expect(skipped.waves.reduce((n, w) => n + w.failures, 0)).toBe(0);
      expect(skipped.problems).toHaveLength(1);
      expect(skipped.problems[0]).toMatchObject({ accountId: x, state: 'skipped-busy' });
      expect(skipped.problems[0].reason).toMatch(
        new RegExp(`^waiting for ${holder.workflowId}: .*leaseWaitSeconds \\(2 s\\)`),
      );

      const waiter = await upgrade('waiter', '1.4.0', { select, leaseWaitSeconds: 600 });
      const waiting = await until(
        'the waiter shows its wait',
        () => status(waiter),
        (s) => !!s?.waitingForLease?.length,
      );
      expect(waiting?.waitingForLease).toEqual([
        { accountId: x, waitingFor: holder.workflowId, reason: `waiting for ${holder.workflowId}` },
      ]);
      const cancelledAt = Date.now();
      await holder.cancel();
      await expect(holder.result()).rejects.toThrow();
      const child = temporal.client.workflow.getHandle(`${holder.workflowId}/${x}`);
      await until(
        'the holding child is cancelled',
        () => child.describe(),
        (d) => d.status.name === 'CANCELLED',
      );
      const done = await waiter.result();
      const waitedMs = Date.now() - cancelledAt;
      expect(done.phase).toBe('completed');
      expect(done.counts.upgraded).toBe(1);
      // released at the cancel, long before the holder's bake would have ended (a minute)
      expect(waitedMs).toBeLessThan(30_000);
      const ledger = (await executions(cfg)).filter((e) => e.account === x);
      const byVersion = Object.fromEntries(ledger.map((e) => [e.version, e]));
      expect(Object.keys(byVersion).sort()).toEqual(['1.3.0', '1.4.0']); // the skipper changed nothing
      expect(byVersion['1.4.0'].createdAt!).toBeGreaterThanOrEqual(cancelledAt - 50);
      console.log(`[account-lease] waiter done ${waitedMs} ms after the holder was cancelled`);
    },
  );

  it('no credential in the lock or campaign histories', { timeout: 60_000 }, async () => {
    const locks = await allWorkflowHistories(temporal.client, `WorkflowId STARTS_WITH "account-lease/3300000000"`);
    expect(locks.length).toBeGreaterThanOrEqual(5);
    const campaigns = await allWorkflowHistories(temporal.client, `WorkflowId STARTS_WITH "${RUN}"`);
    expect(campaigns.length).toBeGreaterThan(10);
    const credentials = worker.fleet.credentials as unknown as {
      cache: Map<string, { accessKeyId: string; secretAccessKey: string; sessionToken: string }>;
    };
    const known = [...credentials.cache.values()].flatMap((c) => [c.accessKeyId, c.secretAccessKey, c.sessionToken]);
    expect(known.length).toBeGreaterThan(0);
    for (const h of [...locks, ...campaigns])
      expect(secretsIn(decodedHistoryText(h.json), known), h.workflowId).toEqual([]);
    for (const line of worker.logLines) expect(secretsIn(line, known)).toEqual([]);
  });
});
