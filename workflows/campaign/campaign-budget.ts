/**
 * Failure budget and concurrency of one wave (pure). A wave stops starting accounts once `budget` of
 * its accounts have failed. How the window relates to the budget is the campaign's concurrency mode,
 * named and meant as in CloudFormation StackSets:
 *
 * - `strict`: the window never exceeds the failures still allowed, so however many accounts are in
 *   flight when things go wrong, the wave cannot fail more accounts than its budget. The price: a
 *   budget of 1 runs the wave one account at a time.
 * - `soft`: the window stays `maxInFlight` until the budget is spent; the accounts already in flight
 *   then run to their end, so the wave may fail up to `budget + maxInFlight - 1` accounts (the budget
 *   overshot by at most the accounts in flight when it was spent).
 */
import type { ConcurrencyMode } from './campaign-input';

export type FailureBudgetOptions = { maxFailures?: number; maxFailurePercent?: number };

/** Failures that stop a wave of `waveSize` accounts (at least 1; Infinity if no budget is set). */
export function failureBudgetFor(waveSize: number, o: FailureBudgetOptions): number {
  const byCount = o.maxFailures ?? Infinity;
  const byPercent =
    o.maxFailurePercent === undefined ? Infinity : Math.max(1, Math.ceil((o.maxFailurePercent / 100) * waveSize));
  return Math.min(byCount, byPercent);
}

/** Each mode in one line, for status, the UI's details and the CLI. */
export const CONCURRENCY_MODE_MEANING: Record<ConcurrencyMode, string> = {
  strict: 'never more accounts at once than failures left in the budget, so a wave never passes its budget',
  soft: 'maxInFlight until the budget is spent; the accounts then in flight may pass it by up to their number',
};

/** The window now and, when it is smaller than `maxInFlight`, why. */
export type WindowLimit = {
  /** Accounts that may run at once now. */
  window: number;
  maxInFlight: number;
  mode: ConcurrencyMode;
  /** Failures the wave still allows before it stops (Infinity without a budget). */
  failuresLeft: number;
  /** Why the window is below maxInFlight: the budget has fewer failures left (strict), or none (either mode). */
  limitedBy?: 'failures-left' | 'budget-spent';
};

/**
 * Accounts that may run at once. Strict: `maxInFlight`, but never more than the failures still
 * allowed. Soft: `maxInFlight` while any failure is still allowed. Both: none once the budget is spent.
 */
export function windowLimit(
  maxInFlight: number,
  budget: number,
  failuresCounted: number,
  mode: ConcurrencyMode = 'strict',
): WindowLimit {
  const failuresLeft = Math.max(0, budget - failuresCounted);
  const window = failuresLeft === 0 ? 0 : mode === 'soft' ? maxInFlight : Math.min(maxInFlight, failuresLeft);
  const limitedBy = window >= maxInFlight ? undefined : failuresLeft === 0 ? 'budget-spent' : 'failures-left';
  return { window, maxInFlight, mode, failuresLeft, ...(limitedBy ? { limitedBy } : {}) };
}

/** The window alone (see windowLimit). */
export function effectiveWindow(
  maxInFlight: number,
  budget: number,
  failuresCounted: number,
  mode: ConcurrencyMode = 'strict',
): number {
  return windowLimit(maxInFlight, budget, failuresCounted, mode).window;
}

/**
 * Why the window is smaller than maxInFlight, in words (undefined when it is not):
 * `window 1 of 50: 1 failure left in the budget`, `window 0 of 50: the failure budget is spent`.
 */
export function describeWindowLimit(l: WindowLimit): string | undefined {
  if (!l.limitedBy) return undefined;
  const head = `window ${l.window} of ${l.maxInFlight}`;
  if (l.limitedBy === 'budget-spent') return `${head}: the failure budget is spent`;
  return `${head}: ${l.failuresLeft} failure${l.failuresLeft === 1 ? '' : 's'} left in the budget`;
}

/**
 * The most failures a wave can end with: strict never passes its budget; soft passes it by at most the
 * accounts still in flight when it is spent (maxInFlight - 1), and never by more than the wave holds.
 */
export function worstCaseFailures(
  waveSize: number,
  budget: number,
  maxInFlight: number,
  mode: ConcurrencyMode,
): number {
  const bound = mode === 'soft' ? budget + maxInFlight - 1 : budget;
  return Math.min(waveSize, bound);
}

/** Estimated seconds left: remaining accounts in window-sized batches at the average account duration, plus bakes. */
export function estimateSecondsLeft(
  remaining: number,
  window: number,
  avgAccountSeconds: number | null,
  bakeSecondsLeft: number,
): number | null {
  if (avgAccountSeconds === null) return null;
  return Math.ceil(Math.ceil(remaining / Math.max(1, window)) * avgAccountSeconds + bakeSecondsLeft);
}
