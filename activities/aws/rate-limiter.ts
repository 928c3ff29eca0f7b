import type { Budget, RateBudgets } from '../../fleet/rate-budgets';
import { NO_METRICS, type FleetMetrics } from '../fleet-metrics';
import { AimdRate, realClock, type Clock } from './aimd-rate';

export { realClock, type Clock } from './aimd-rate';

/** One budget as the limits see it: wait for a call's turn, and slow down on throttling. */
export interface BudgetGate {
  readonly budget: Budget;
  /** Current allowed calls per second (≤ budget), lowered by throttling. */
  readonly currentRate: number;
  /** Resolves when one call may be made. */
  take(): Promise<void>;
  /** A throttling response was seen for a call through this budget. */
  onThrottled(): void;
}

/** Makes the gate for one budget key (`sts:eu-west-1`, `account:111111111111`, `assume-role`). */
export interface BudgetGateFactory {
  /** Where the budgets are counted, for logs: `in-process` or the shared store. */
  readonly kind: string;
  gate(key: string, budget: Budget, adaptive: RateBudgets['adaptive'], clock: Clock): BudgetGate;
}

/**
 * A token bucket (GCRA form: one "next free slot" timestamp) whose rate adapts (AIMD): each
 * throttling response multiplies the rate down, and it climbs back linearly to the budget.
 * Callers reserve a slot synchronously and then wait for it, so concurrent callers queue fairly and
 * the long-run rate equals the current rate exactly.
 */
export class AdaptiveTokenBucket implements BudgetGate {
  private readonly aimd: AimdRate;
  private nextFreeAt = -Infinity; // starts full: `burst` calls may go at once

  constructor(
    readonly budget: Budget,
    adaptive: RateBudgets['adaptive'],
    private readonly clock: Clock = realClock,
  ) {
    this.aimd = new AimdRate(budget.perSecond, adaptive, clock);
  }

  get currentRate(): number {
    return this.aimd.current();
  }

  async take(): Promise<void> {
    const wait = this.reserve();
    if (wait > 0) await this.clock.sleep(wait);
  }

  /** Reserves one call; returns how long (ms) the caller must wait before making it. */
  reserve(): number {
    const now = this.clock.now();
    const interval = 1000 / this.aimd.current(now);
    const burstWindow = interval * (this.budget.burst ?? 1);
    const slot = Math.max(this.nextFreeAt, now - burstWindow + interval);
    this.nextFreeAt = slot + interval;
    return Math.max(0, slot - now);
  }

  onThrottled(): void {
    this.aimd.onThrottled();
  }
}

/** Budgets counted inside this process only (one worker, or no shared store configured). */
export const IN_PROCESS_GATES: BudgetGateFactory = {
  kind: 'in-process',
  gate: (_key, budget, adaptive, clock) => new AdaptiveTokenBucket(budget, adaptive, clock),
};

/** The key of the one global budget that AssumeRole calls from fleetops' own identity share. */
export const ASSUME_ROLE_KEY = 'assume-role';

/**
 * The budgets of fleetops' AWS calls (fleet/rate-budgets.ts): one per (API family, region), one per
 * customer account, and one global AssumeRole budget. Counted in this process, or — with a shared
 * store (activities/aws/shared-budget-gates.ts) — across every worker that uses the same store.
 */
export class RateLimits {
  private readonly gates = new Map<string, BudgetGate>();
  /** Where calls through these budgets are counted (the worker sets its Prometheus metrics). */
  metrics: FleetMetrics = NO_METRICS;

  constructor(
    private readonly budgets: RateBudgets,
    private readonly clock: Clock = realClock,
    private readonly factory: BudgetGateFactory = IN_PROCESS_GATES,
  ) {}

  /** `in-process`, or the shared store the budgets are counted in. */
  get kind(): string {
    return this.factory.kind;
  }

  familyBucket(family: string, region: string): BudgetGate {
    return this.gate(`${family}:${region}`, this.budgets.families[family] ?? this.budgets.default);
  }

  accountBucket(accountId: string): BudgetGate {
    return this.gate(`account:${accountId}`, this.budgets.perAccount);
  }

  assumeRoleBucket(): BudgetGate {
    return this.gate(ASSUME_ROLE_KEY, this.budgets.assumeRole);
  }

  /**
   * Waits until a call of `family` in `region` (inside `accountId`, if given; an AssumeRole from
   * fleetops' own identity when `assumingRole`) fits every budget.
   */
  async acquire(family: string, region: string, accountId?: string, assumingRole = false): Promise<void> {
    const started = this.clock.now();
    if (accountId) await this.accountBucket(accountId).take();
    if (assumingRole) await this.assumeRoleBucket().take();
    await this.familyBucket(family, region).take();
    this.metrics.rateLimiterWait({ family, region }, this.clock.now() - started);
  }

  /** Feeds a throttling response back into the budgets that govern that call. */
  throttled(family: string, region: string, accountId?: string, assumingRole = false): void {
    this.familyBucket(family, region).onThrottled();
    if (accountId) this.accountBucket(accountId).onThrottled();
    if (assumingRole) this.assumeRoleBucket().onThrottled();
  }

  private gate(key: string, budget: Budget): BudgetGate {
    let g = this.gates.get(key);
    if (!g) {
      g = this.factory.gate(key, budget, this.budgets.adaptive, this.clock);
      this.gates.set(key, g);
    }
    return g;
  }
}
