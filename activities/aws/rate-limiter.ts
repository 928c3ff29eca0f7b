import type { Budget, RateBudgets } from '../../fleet/rate-budgets';
import { NO_METRICS, type FleetMetrics } from '../fleet-metrics';

export type Clock = { now: () => number; sleep: (ms: number) => Promise<void> };
export const realClock: Clock = { now: () => performance.now(), sleep: (ms) => new Promise((r) => setTimeout(r, ms)) };

/**
 * A token bucket (GCRA form: one "next free slot" timestamp) whose rate adapts (AIMD): each
 * throttling response multiplies the rate down, and it climbs back linearly to the budget.
 * Callers reserve a slot synchronously and then wait for it, so concurrent callers queue fairly and
 * the long-run rate equals the current rate exactly.
 */
export class AdaptiveTokenBucket {
  private rate: number;
  private nextFreeAt: number;
  private lastThrottleAt = -Infinity;
  private lastAdjustAt: number;

  constructor(
    readonly budget: Budget,
    private readonly adaptive: RateBudgets['adaptive'],
    private readonly clock: Clock = realClock,
  ) {
    this.rate = budget.perSecond;
    this.nextFreeAt = -Infinity; // starts full: `burst` calls may go at once
    this.lastAdjustAt = clock.now();
  }

  /** Current allowed calls per second (≤ budget). */
  get currentRate(): number {
    this.recover(this.clock.now());
    return this.rate;
  }

  /** Reserves one call and resolves when it may be made. */
  async take(): Promise<void> {
    const wait = this.reserve();
    if (wait > 0) await this.clock.sleep(wait);
  }

  /** Reserves one call; returns how long (ms) the caller must wait before making it. */
  reserve(): number {
    const now = this.clock.now();
    this.recover(now);
    const interval = 1000 / this.rate;
    const burstWindow = interval * (this.budget.burst ?? 1);
    const slot = Math.max(this.nextFreeAt, now - burstWindow + interval);
    this.nextFreeAt = slot + interval;
    return Math.max(0, slot - now);
  }

  /** A throttling response was seen: slow down (responses within the cooldown count once). */
  onThrottled(): void {
    const now = this.clock.now();
    if (now - this.lastThrottleAt < this.adaptive.cooldownMs) return;
    this.recover(now);
    this.lastThrottleAt = now;
    this.rate = Math.max(this.budget.perSecond * this.adaptive.minFraction, this.rate * this.adaptive.decreaseFactor);
  }

  private recover(now: number): void {
    if (this.rate < this.budget.perSecond && now > this.lastAdjustAt) {
      const step = this.budget.perSecond * this.adaptive.recoveryPerSecond * ((now - this.lastAdjustAt) / 1000);
      this.rate = Math.min(this.budget.perSecond, this.rate + step);
    }
    this.lastAdjustAt = now;
  }
}

/** The in-process budgets of one worker: a bucket per (API family, region) and one per account. */
export class RateLimits {
  private readonly buckets = new Map<string, AdaptiveTokenBucket>();
  /** Where calls through these budgets are counted (the worker sets its Prometheus metrics). */
  metrics: FleetMetrics = NO_METRICS;

  constructor(
    private readonly budgets: RateBudgets,
    private readonly clock: Clock = realClock,
  ) {}

  familyBucket(family: string, region: string): AdaptiveTokenBucket {
    return this.bucket(`${family}:${region}`, this.budgets.families[family] ?? this.budgets.default);
  }

  accountBucket(accountId: string): AdaptiveTokenBucket {
    return this.bucket(`account:${accountId}`, this.budgets.perAccount);
  }

  /** Waits until a call of `family` in `region` (inside `accountId`, if given) fits every budget. */
  async acquire(family: string, region: string, accountId?: string): Promise<void> {
    const started = this.clock.now();
    if (accountId) await this.accountBucket(accountId).take();
    await this.familyBucket(family, region).take();
    this.metrics.rateLimiterWait({ family, region }, this.clock.now() - started);
  }

  /** Feeds a throttling response back into the budgets that govern that call. */
  throttled(family: string, region: string, accountId?: string): void {
    this.familyBucket(family, region).onThrottled();
    if (accountId) this.accountBucket(accountId).onThrottled();
  }

  private bucket(key: string, budget: Budget): AdaptiveTokenBucket {
    let b = this.buckets.get(key);
    if (!b) {
      b = new AdaptiveTokenBucket(budget, this.budgets.adaptive, this.clock);
      this.buckets.set(key, b);
    }
    return b;
  }
}
