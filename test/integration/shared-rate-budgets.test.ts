import { describe, expect, it } from 'vitest';
import { callsSince, rateBetween, type LoggedCall } from '../support/call-rates';
import { STREAM_REGIONS } from '../support/shared-budget-load';
import { runLoadProcesses } from '../support/shared-budget-processes';
import { setFaultPlan, testStack } from '../support/test-stack';

/**
 * Three processes, each with its own limiter and Valkey connection, call AWS (through the proxy) at
 * far more demand than the budgets; the budgets are counted in the local stack's Valkey, so each one
 * holds for the three together — not three times over, as per-process buckets would allow.
 * Budgets count in windows of one wall-clock second (rate-limiter-flexible on Valkey): the test
 * measures each budget's rate over ten whole seconds, from the proxy's call log (and, per account,
 * from the calls each process made).
 */
const cfg = testStack();
const WINDOWS = 10;
const BUDGETS = { families: { sts: { perSecond: 30 } }, perAccount: { perSecond: 4 }, assumeRole: { perSecond: 6 } };
const ACCOUNTS = ['530000000001', '530000000002', '530000000003'];

const within5 = (rate: number, budget: number) => Math.abs(rate - budget) / budget;

describe('rate budgets shared by three processes through Valkey', () => {
  it('holds the (family, region), per-account and global AssumeRole budgets for the three together (±5%)', async () => {
    await setFaultPlan(cfg, null);
    const store = process.env.FLEETOPS_RATE_STORE;
    expect(store, 'the test stack sets FLEETOPS_RATE_STORE').toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/);
    const since = Date.now();
    const { results, startAt } = await runLoadProcesses(3, {
      awsEndpoint: cfg.awsEndpoint,
      store,
      scope: `shared-budgets-test-${since}`,
      budgets: BUDGETS,
      accounts: ACCOUNTS,
      seconds: WINDOWS + 4,
      lanesPerStream: 16,
    });
    expect(results).toHaveLength(3);
    expect(new Set(results.map((r) => r.pid)).size).toBe(3);
    for (const r of results) {
      expect(r.limiter).toMatch(/^shared \(redis:/);
      expect(r.errors).toBe(0);
      // every process got its share: the budget is shared, not taken by the first one
      for (const n of Object.values(r.calls)) expect(n).toBeGreaterThan(0);
    }

    const calls = await callsSince(cfg.awsEndpoint, startAt); // the warm-up calls came before startAt
    // ten whole seconds while all three processes were calling, from the second after the first full one
    const from = Math.ceil(Math.max(startAt, ...results.map((r) => r.startedAt)) / 1000) * 1000 + 1000;
    expect(from + WINDOWS * 1000, 'the three processes called together for ten whole seconds').toBeLessThanOrEqual(
      Math.min(...results.map((r) => r.endedAt)),
    );
    const windowRate = (times: number[]) => rateBetween(times, from, from + WINDOWS * 1000);
    const stream = (region: string) => calls.filter((c: LoggedCall) => c.region === region).map((c) => c.t);
    const rates = {
      family: windowRate(stream(STREAM_REGIONS.family)),
      assumeRole: windowRate(stream(STREAM_REGIONS.assumeRole)),
    };
    const perAccount = ACCOUNTS.map((a) =>
      windowRate(results.flatMap((r) => r.accountCalls.filter(([, acc]) => acc === a).map(([t]) => t))),
    );
    process.stderr.write(
      `[shared-budgets] 3 processes, over ${WINDOWS} s: sts/eu-west-1 ${rates.family.toFixed(2)}/s (budget 30), ` +
        `AssumeRole ${rates.assumeRole.toFixed(2)}/s (budget 6); ` +
        `per account ${perAccount.map((r) => r.toFixed(2)).join(', ')}/s (budget 4); ` +
        `calls per process ${results.map((r) => r.calls.family + r.calls.account + r.calls.assumeRole).join(', ')}\n`,
    );
    expect(within5(rates.family, 30)).toBeLessThanOrEqual(0.05);
    expect(within5(rates.assumeRole, 6)).toBeLessThanOrEqual(0.05);
    for (const rate of perAccount) expect(within5(rate, 4)).toBeLessThanOrEqual(0.05);
  }, 90_000);
});
