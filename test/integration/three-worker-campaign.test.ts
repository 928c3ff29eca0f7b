import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import os from 'node:os';
import path from 'node:path';
import { runSimSeed } from '../../cli/commands/sim-seed';
import { RateBudgetsSchema } from '../../fleet/rate-budgets';
import type { FleetCampaignInput } from '../../workflows/campaign/campaign-input';
import type { CampaignReport } from '../../workflows/campaign/fleet-campaign';
import {
  busiestSpan,
  callsSince,
  groupBy,
  longestSpanWithAtLeast,
  wholeSecondRate,
  type LoggedCall,
} from '../support/call-rates';
import { campaignChildIds } from '../support/campaign-children';
import { cleanUp } from '../support/cleanup';
import { setFaultPlan, testClient, testStack } from '../support/test-stack';
import { WorkerProcess } from '../support/worker-process';

/**
 * Three worker processes on one task queue run one upgrade campaign; the budgets are counted in the
 * local stack's Valkey (FLEETOPS_RATE_STORE), so they hold for the three together. The budgets are
 * low on purpose, so that the campaign is bound by them and not by the CPU even on a loaded 2-core
 * machine:
 *  - CloudWatch (monitoring, eu-west-1) 3/s: a baking account polls its health alarm every second,
 *    so while at least 9 of the 12 accounts bake the demand is far over the budget: measured over
 *    those seconds, the global rate is the budget ±5%;
 *  - AssumeRole (global) 1/s: every account starts at once and each worker assumes each account's
 *    role for itself (up to 36 calls), so the budget binds until the last account has its first role:
 *    measured over those seconds (after a 3 s ramp), the global rate is the budget ±5%;
 *  - per account 2/s: no account's calls in any 10 s exceed 12 s worth (MOST_IN_SPAN), nor does any
 *    family's or AssumeRole's.
 */
const cfg = testStack();
const TASK_QUEUE = 'three-worker-campaign';
const SEEDED = 16; // rings: 1 canary, 1 early, 12 general, 2 late
const ID_BASE = 521_000_000_000;
const BAKE_SECONDS = 14; // 15 alarm polls per account: the bake is counted in polls, not seconds
/** The monitoring budget binds while at least this many accounts bake (each polls at most 1/s). */
const SATURATING_BAKERS = 9; // 3× the monitoring budget
/** The campaign's start, before every account has asked for its role. */
const RAMP_MS = 3000;
const BUDGETS = RateBudgetsSchema.parse({
  families: { monitoring: { perSecond: 3 }, cloudformation: { perSecond: 10 }, sts: { perSecond: 10 } },
  default: { perSecond: 10 },
  perAccount: { perSecond: 2 },
  assumeRole: { perSecond: 1 },
});
/**
 * Most calls a budget may show at the proxy in any 10 s: the counting windows are wall-clock seconds
 * (10 s overlap at most 11 of them) and a call reaches the proxy up to a second after it was admitted
 * on a busy machine (one more). Per-worker budgets would allow 3× the budget.
 */
const SPAN_MS = 10_000;
const MOST_IN_SPAN = (perSecond: number) => perSecond * 12;
const within = (rate: number, budget: number) => Math.abs(rate - budget) / budget;

const scope = `three-workers-${Date.now()}`;
const workers = [1, 2, 3].map(
  (n) =>
    new WorkerProcess(TASK_QUEUE, path.join(cfg.stateDir, 'logs', `three-worker-campaign-${n}.log`), {
      FLEETOPS_RATE_BUDGETS: JSON.stringify(BUDGETS),
      FLEETOPS_RATE_SCOPE: scope,
    }),
);
let fleetFile: string;
let temporal: Awaited<ReturnType<typeof testClient>>;

beforeAll(async () => {
  ({ file: fleetFile } = await runSimSeed({
    accounts: SEEDED,
    idBase: ID_BASE,
    out: path.join(cfg.stateDir, 'three-worker-campaign-fleet.yaml'),
    quiet: true,
  }));
  temporal = await testClient(cfg);
  await setFaultPlan(cfg, null);
}, 180_000);

afterAll(() =>
  cleanUp({
    ...Object.fromEntries(workers.map((w, i) => [`worker ${i + 1}`, () => w.kill9()])),
    temporal: () => temporal?.close(),
  }),
);

/** Identities of the workers that ran the activities of each child of the campaign. */
async function activityWorkers(campaignId: string): Promise<Map<string, number>> {
  const children = await campaignChildIds(temporal.client, campaignId);
  const byWorker = new Map<string, number>();
  for (const child of children) {
    const history = await temporal.client.workflow.getHandle(child).fetchHistory();
    for (const e of history.events ?? []) {
      const identity = e.activityTaskStartedEventAttributes?.identity;
      if (identity) byWorker.set(identity, (byWorker.get(identity) ?? 0) + 1);
    }
  }
  return byWorker;
}

describe('rate budgets shared by three worker processes running one campaign', () => {
  it('holds each binding budget at ±5% for the three together, and no account or family over its own', async () => {
    const started = await Promise.all(workers.map((w) => w.start(120_000)));
    const pids = started.map((s) => s.pid);
    expect(new Set(pids).size).toBe(3);
    for (const w of workers) expect(w.log()).toContain('"rateBudgets":"shared (redis:');

    const since = Date.now();
    const campaignId = `three-workers-${since}`;
    const report: CampaignReport = await temporal.client.workflow.execute('fleetCampaign', {
      taskQueue: TASK_QUEUE,
      workflowId: campaignId,
      args: [
        {
          operation: 'upgrade',
          fleetFile,
          select: { rings: ['general'] },
          maxInFlight: 50,
          concurrencyMode: 'soft', // all 12 at once (strict would run at most the 6 failures allowed)
          respectMaintenanceWindows: false,
          failureBudget: { maxFailurePercent: 50 },
          upgrade: { targetVersion: '1.1.0', healthBakeSeconds: BAKE_SECONDS, healthPollSeconds: 1 },
        } as FleetCampaignInput,
      ],
    });
    const ACCOUNTS = 12;
    expect(report.phase).toBe('completed');
    expect(report.counts.upgraded).toBe(ACCOUNTS);

    // All three workers did work: each ran activities of this campaign's children.
    const byWorker = await activityWorkers(campaignId);
    process.stderr.write(`[three-workers] activities per worker: ${JSON.stringify(Object.fromEntries(byWorker))}\n`);
    for (const pid of pids) expect(byWorker.get(`${pid}@${os.hostname()}`) ?? 0).toBeGreaterThan(ACCOUNTS / 2);

    const calls = (await callsSince(cfg.awsEndpoint, since)).filter((c) => c.account.startsWith('521'));
    const accounts = groupBy(calls, (c) => c.account);
    expect(accounts.size).toBe(ACCOUNTS);
    const times = (cs: LoggedCall[]) => cs.map((c) => c.t);
    const span = ((calls.at(-1)!.t - calls[0].t) / 1000).toFixed(1);
    process.stderr.write(
      `[three-workers] ${calls.length} calls in ${span} s: ${JSON.stringify(Object.fromEntries([...groupBy(calls, (c) => `${c.service}:${c.region}`)].map(([k, v]) => [k, v.length])))}\n`,
    );

    // CloudWatch, eu-west-1: over the longest stretch in which at least SATURATING_BAKERS accounts were baking.
    // An account bakes from its first alarm poll after ExecuteChangeSet to its last: its first alarm read,
    // the health check before the change, is followed by the change itself, which makes no CloudWatch call.
    const alarmPolls = calls.filter((c) => c.service === 'monitoring' && c.region === 'eu-west-1');
    const executed = new Map(
      calls.filter((c) => c.action === 'ExecuteChangeSet' && c.region === 'eu-west-1').map((c) => [c.account, c.t]),
    );
    expect(executed.size).toBe(ACCOUNTS);
    const polls = [...groupBy(alarmPolls, (c) => c.account)].map(([account, p]) =>
      p.filter((c) => c.t > executed.get(account)!),
    );
    expect(polls.length).toBe(ACCOUNTS);
    for (const p of polls) expect(p.length).toBeGreaterThanOrEqual(BAKE_SECONDS + 1);
    const steady = longestSpanWithAtLeast(
      polls.map((p) => [p[0].t, p.at(-1)!.t]),
      SATURATING_BAKERS,
    );
    const monitoring = wholeSecondRate(times(alarmPolls), steady.from, steady.to);
    // AssumeRole: from RAMP_MS after the first (the children's first workflow tasks take seconds on a
    // busy machine) until the last account got its first role (some account was still waiting).
    const assumeRoles = calls.filter((c) => c.service === 'sts' && c.action === 'AssumeRole');
    const firstRoles = [...groupBy(assumeRoles, (c) => c.account).values()].map((a) => a[0].t);
    expect(firstRoles.length).toBe(ACCOUNTS);
    const assumeRole = wholeSecondRate(times(assumeRoles), assumeRoles[0].t + RAMP_MS, Math.max(...firstRoles));
    process.stderr.write(
      `[three-workers] monitoring/eu-west-1 ${monitoring.rate.toFixed(2)}/s over ${monitoring.seconds} s (budget 3/s, ≥ ${SATURATING_BAKERS} accounts baking); ` +
        `AssumeRole ${assumeRole.rate.toFixed(2)}/s over ${assumeRole.seconds} s (budget 1/s); ` +
        `AssumeRole calls ${assumeRoles.length}\n`,
    );
    expect(monitoring.seconds).toBeGreaterThanOrEqual(10);
    expect(within(monitoring.rate, BUDGETS.families.monitoring.perSecond)).toBeLessThanOrEqual(0.05);
    // at least 12 first roles at 1/s, less the ramp and the partial seconds at either end: 8 or more
    // seconds when the workers' roles interleave well, so 5 is the floor that still measures a rate
    expect(assumeRole.seconds).toBeGreaterThanOrEqual(5);
    expect(within(assumeRole.rate, BUDGETS.assumeRole.perSecond)).toBeLessThanOrEqual(0.05);

    // No budget over its rate anywhere: every family per region, AssumeRole, every account.
    for (const [key, cs] of groupBy(calls, (c) => `${c.service}:${c.region}`)) {
      const budget = BUDGETS.families[key.split(':')[0]] ?? BUDGETS.default;
      expect(busiestSpan(times(cs), SPAN_MS), key).toBeLessThanOrEqual(MOST_IN_SPAN(budget.perSecond));
    }
    expect(busiestSpan(times(assumeRoles), SPAN_MS)).toBeLessThanOrEqual(MOST_IN_SPAN(BUDGETS.assumeRole.perSecond));
    const perAccount = [...accounts].map(([account, cs]) => ({ account, most: busiestSpan(times(cs), SPAN_MS) }));
    process.stderr.write(
      `[three-workers] busiest 10 s per account: max ${Math.max(...perAccount.map((a) => a.most))} (limit ${MOST_IN_SPAN(BUDGETS.perAccount.perSecond)})\n`,
    );
    for (const a of perAccount)
      expect(a.most, a.account).toBeLessThanOrEqual(MOST_IN_SPAN(BUDGETS.perAccount.perSecond));
  }, 300_000);
});
