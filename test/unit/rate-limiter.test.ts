import { describe, expect, it } from 'vitest';
import { AdaptiveTokenBucket, RateLimits, type Clock } from '../../activities/aws/rate-limiter';
import { RateBudgetsSchema } from '../../fleet/rate-budgets';

/** A manual clock: sleeping advances time, so a test drives thousands of calls instantly. */
function fakeClock(): Clock & { t: number } {
  const c = { t: 0, now: () => c.t, sleep: async (ms: number) => void (c.t += ms) };
  return c;
}
const adaptive = RateBudgetsSchema.parse({}).adaptive;

describe('AdaptiveTokenBucket', () => {
  it('admits exactly the budget rate under sustained demand (after the burst)', async () => {
    const clock = fakeClock();
    const bucket = new AdaptiveTokenBucket({ perSecond: 40, burst: 5 }, adaptive, clock);
    for (let i = 0; i < 40 * 60; i++) await bucket.take();
    // 2,400 calls: the first 5 are free (burst), the rest are spaced 25 ms apart.
    expect(clock.t).toBeCloseTo((2400 - 5) * 25, 6);
  });

  it('queues concurrent callers fairly: slots are reserved in call order, each 1/rate apart', () => {
    const clock = fakeClock();
    const bucket = new AdaptiveTokenBucket({ perSecond: 10 }, adaptive, clock);
    const waits = Array.from({ length: 5 }, () => bucket.reserve());
    expect(waits).toEqual([0, 100, 200, 300, 400]);
  });

  it('slows down on each throttling response (a burst counts once) and recovers gradually to the budget', async () => {
    const clock = fakeClock();
    const bucket = new AdaptiveTokenBucket({ perSecond: 100 }, adaptive, clock);
    bucket.onThrottled();
    bucket.onThrottled(); // same burst of errors (within the cooldown): counted once
    expect(bucket.currentRate).toBeCloseTo(90);
    clock.t += 200;
    bucket.onThrottled(); // 90 + 2 recovered in 0.2 s, then × 0.9
    expect(bucket.currentRate).toBeCloseTo(82.8);
    clock.t += 2000; // +10% of the budget per second
    expect(bucket.currentRate).toBe(100); // 82.8 + 20, capped at the budget
    bucket.onThrottled();
    clock.t += 500;
    expect(bucket.currentRate).toBeCloseTo(95);
    clock.t += 60_000;
    expect(bucket.currentRate).toBe(100);
  });

  it('settles lower the more often AWS throttles', () => {
    const settle = (throttlesPerSecond: number) => {
      const clock = fakeClock();
      const bucket = new AdaptiveTokenBucket({ perSecond: 100 }, adaptive, clock);
      for (let i = 0; i < 60 * throttlesPerSecond; i++) {
        clock.t += 1000 / throttlesPerSecond;
        bucket.onThrottled();
      }
      return bucket.currentRate;
    };
    expect(settle(1)).toBeGreaterThan(settle(5));
    expect(settle(5)).toBeGreaterThan(settle(10) - 0.001);
    expect(settle(10)).toBeLessThan(60);
  });

  it('never drops below the minimum fraction of the budget', () => {
    const clock = fakeClock();
    const bucket = new AdaptiveTokenBucket({ perSecond: 100 }, adaptive, clock);
    for (let i = 0; i < 50; i++) {
      bucket.onThrottled();
      clock.t += 150;
    }
    expect(bucket.currentRate).toBeGreaterThanOrEqual(10);
    expect(bucket.currentRate).toBeLessThan(20);
  });
});

describe('RateLimits', () => {
  it('applies the family budget per region and the account budget per account', async () => {
    const clock = fakeClock();
    const limits = new RateLimits(
      RateBudgetsSchema.parse({ families: { sts: { perSecond: 10 } }, perAccount: { perSecond: 2 } }),
      clock,
    );
    for (let i = 0; i < 21; i++) await limits.acquire('sts', 'eu-west-1');
    expect(clock.t).toBeCloseTo(2000); // 10/s
    const t0 = clock.t;
    for (let i = 0; i < 5; i++) await limits.acquire('sts', 'us-east-1', '111111111111');
    expect(clock.t - t0).toBeCloseTo(2000); // the account's 2/s governs, the other region's bucket is separate
  });

  it('feeds throttling back into both budgets of a call', () => {
    const limits = new RateLimits(RateBudgetsSchema.parse({}), fakeClock());
    limits.throttled('cloudformation', 'eu-west-1', '111111111111');
    expect(limits.familyBucket('cloudformation', 'eu-west-1').currentRate).toBeLessThan(
      limits.familyBucket('cloudformation', 'eu-west-1').budget.perSecond,
    );
    expect(limits.accountBucket('111111111111').currentRate).toBeLessThan(
      limits.accountBucket('111111111111').budget.perSecond,
    );
    expect(limits.familyBucket('cloudformation', 'us-east-1').currentRate).toBe(
      limits.familyBucket('cloudformation', 'us-east-1').budget.perSecond,
    );
  });

  it('rejects a bad budget file naming the field', async () => {
    const { parseRateBudgets } = await import('../../fleet/rate-budgets');
    expect(() => parseRateBudgets({ families: { sts: { perSecond: -1 } } }, 'budgets.json')).toThrow(
      /budgets\.json[\s\S]*families\.sts\.perSecond/,
    );
  });
});

describe('RateLimits: the global AssumeRole budget', () => {
  it('holds AssumeRole calls to their own budget whatever region or account they go to', async () => {
    const clock = fakeClock();
    const limits = new RateLimits(
      RateBudgetsSchema.parse({ families: { sts: { perSecond: 100 } }, assumeRole: { perSecond: 5 } }),
      clock,
    );
    for (let i = 0; i < 11; i++)
      await limits.acquire('sts', i % 2 ? 'eu-west-1' : 'us-east-1', `1111111111${String(i).padStart(2, '0')}`, true);
    expect(clock.t).toBeCloseTo(2000); // 5/s across regions and accounts
    limits.throttled('sts', 'eu-west-1', undefined, true);
    expect(limits.assumeRoleBucket().currentRate).toBeLessThan(5);
  });
});
