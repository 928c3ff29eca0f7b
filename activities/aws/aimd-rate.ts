import type { RateBudgets } from '../../fleet/rate-budgets';

export type Clock = { now: () => number; sleep: (ms: number) => Promise<void> };
export const realClock: Clock = { now: () => performance.now(), sleep: (ms) => new Promise((r) => setTimeout(r, ms)) };

/**
 * The adaptive part of a budget (AIMD): each throttling response multiplies the allowed rate down
 * (responses within the cooldown count once), and it climbs back linearly to the budget. Shared by
 * the in-process token bucket and the shared (Valkey) budget, which both ask it for the current rate.
 */
export class AimdRate {
  private rate: number;
  private lastThrottleAt = -Infinity;
  private lastAdjustAt: number;

  constructor(
    readonly ceiling: number,
    private readonly adaptive: RateBudgets['adaptive'],
    private readonly clock: Clock = realClock,
  ) {
    this.rate = ceiling;
    this.lastAdjustAt = clock.now();
  }

  /** Allowed calls per second now (≤ the ceiling). */
  current(now = this.clock.now()): number {
    this.recover(now);
    return this.rate;
  }

  /** A throttling response was seen: slow down (responses within the cooldown count once). */
  onThrottled(): void {
    const now = this.clock.now();
    if (now - this.lastThrottleAt < this.adaptive.cooldownMs) return;
    this.recover(now);
    this.lastThrottleAt = now;
    this.rate = Math.max(this.ceiling * this.adaptive.minFraction, this.rate * this.adaptive.decreaseFactor);
  }

  private recover(now: number): void {
    if (this.rate < this.ceiling && now > this.lastAdjustAt) {
      const step = this.ceiling * this.adaptive.recoveryPerSecond * ((now - this.lastAdjustAt) / 1000);
      this.rate = Math.min(this.ceiling, this.rate + step);
    }
    this.lastAdjustAt = now;
  }
}
