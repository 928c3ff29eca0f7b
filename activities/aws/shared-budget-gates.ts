import Valkey from 'iovalkey';
import { RateLimiterMemory, RateLimiterValkey } from 'rate-limiter-flexible';
import type { Budget, RateBudgets } from '../../fleet/rate-budgets';
import { AimdRate, type Clock } from './aimd-rate';
import type { BudgetGate, BudgetGateFactory } from './rate-limiter';
import { MAX_SHARED_WINDOW_SECONDS, sharedWindow } from './shared-budget-windows';

/**
 * Points one call costs at the full budget. A budget of N calls/s is N × POINTS_PER_CALL points per
 * second in the store; AIMD slows a call down by charging more points (budget ÷ current rate), so a
 * throttled worker spends the shared budget faster and every worker's calls fit the slower rate.
 */
const POINTS_PER_CALL = 1000;

/**
 * One budget counted in Valkey/Redis by rate-limiter-flexible, shared by every worker that uses the
 * same store and key prefix. Windows are whole seconds of the wall clock (the key names the second),
 * so every worker counts into the same window and a late wake-up costs no budget: each second admits
 * exactly the budget's calls. In this process callers take turns (one consume at a time, first come
 * first served); a caller refused waits for the next second. If the store is unreachable the
 * library's insurance limiter (the same budget, in memory) takes over: the budget then holds per
 * worker again, never blocks the campaign, and is shared again as soon as the store answers.
 */
export class SharedBudgetGate implements BudgetGate {
  private readonly aimd: AimdRate;
  private readonly limiter: RateLimiterValkey;
  private readonly windowMs: number;
  private readonly maxCost: number;
  private turn: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly key: string,
    readonly budget: Budget,
    adaptive: RateBudgets['adaptive'],
    clock: Clock,
    client: Valkey,
    keyPrefix: string,
  ) {
    this.aimd = new AimdRate(budget.perSecond, adaptive, clock);
    // Whole-second windows holding a whole number of calls: one second for a whole budget, longer for
    // a fractional one (0.5/s: 1 call per 2 s; 2.5/s: 5 calls per 2 s). The worker refuses at start a
    // budget no window of at most 10 s fits (worker-config.ts), so this throws only on direct misuse.
    const window = sharedWindow(budget.perSecond);
    if (!window)
      throw new Error(
        `rate budget ${key}: ${budget.perSecond}/s is not a whole number of calls in any window of 1 to ${MAX_SHARED_WINDOW_SECONDS} s`,
      );
    const duration = window.seconds;
    this.windowMs = duration * 1000;
    const points = window.calls * POINTS_PER_CALL;
    // A call never costs more than a window holds: AIMD slows a budget down to one call per window at most.
    this.maxCost = points;
    this.limiter = new RateLimiterValkey({
      storeClient: client,
      keyPrefix,
      points,
      duration,
      rejectIfValkeyNotReady: true,
      insuranceLimiter: new RateLimiterMemory({ keyPrefix, points, duration }),
    });
  }

  get currentRate(): number {
    return this.aimd.current();
  }

  /** Resolves when one call may be made; callers of this process go in the order they asked. */
  take(): Promise<void> {
    const cost = Math.min(this.maxCost, Math.ceil((POINTS_PER_CALL * this.budget.perSecond) / this.aimd.current()));
    const mine = this.turn.then(() => this.admit(cost));
    this.turn = mine.catch(() => undefined);
    return mine;
  }

  onThrottled(): void {
    this.aimd.onThrottled();
  }

  private async admit(cost: number): Promise<void> {
    for (;;) {
      const window = Math.floor(Date.now() / this.windowMs);
      try {
        await this.limiter.consume(`${this.key}@${window}`, cost);
        return;
      } catch (refused) {
        if (refused instanceof Error) throw refused; // neither store nor insurance answered
        // this window is spent: wait for the next one (+ a few ms so the clock has surely turned)
        const next = (window + 1) * this.windowMs;
        await new Promise((r) => setTimeout(r, Math.max(1, next - Date.now() + 2)));
      }
    }
  }
}

/**
 * Budgets counted in a shared Valkey/Redis (FLEETOPS_RATE_STORE): every worker pointed at the same
 * store and `scope` shares each (family, region), per-account and AssumeRole budget.
 */
export class SharedBudgetGates implements BudgetGateFactory {
  readonly kind: string;
  private readonly client: Valkey;
  private readonly keyPrefix: string;

  constructor(storeUrl: string, scope = 'default') {
    const url = new URL(storeUrl);
    if (url.protocol !== 'redis:' && url.protocol !== 'rediss:')
      throw new Error(`FLEETOPS_RATE_STORE: expected a redis:// or rediss:// URL, got "${url.protocol}"`);
    this.kind = `shared (${url.protocol}//${url.host})`; // never the password
    this.keyPrefix = `fleetops:rate:${scope}`;
    // No offline queue: while the store is down a call fails at once and the insurance limiter counts it.
    this.client = new Valkey(storeUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: false });
    this.client.on('error', () => undefined); // reconnects by itself; the insurance limiter covers the gap
  }

  gate(key: string, budget: Budget, adaptive: RateBudgets['adaptive'], clock: Clock): BudgetGate {
    return new SharedBudgetGate(key, budget, adaptive, clock, this.client, this.keyPrefix);
  }

  /** Resolves once the store answers (or throws naming it after `timeoutMs`). */
  async ready(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        if (this.client.status === 'ready' && (await this.client.ping()) === 'PONG') return;
      } catch {
        // not yet
      }
      if (Date.now() > deadline) throw new Error(`FLEETOPS_RATE_STORE ${this.kind}: no answer within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  close(): void {
    this.client.disconnect();
  }
}
