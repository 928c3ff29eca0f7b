import type { RateBudgets } from '../../fleet/rate-budgets';

/** Longest counting window of a shared budget: a budget must be a whole number of calls per 1–10 s. */
export const MAX_SHARED_WINDOW_SECONDS = 10;

/**
 * The wall-clock window (whole seconds) a shared budget of `perSecond` is counted in: the shortest
 * one holding a whole number of calls, so a fractional budget is kept exactly (0.5/s: one call per
 * 2 s; 2.5/s: five calls per 2 s) instead of rounding down. Undefined when no window of at most
 * MAX_SHARED_WINDOW_SECONDS holds a whole number of calls (e.g. 0.05/s or 1.33/s).
 */
export function sharedWindow(perSecond: number): { seconds: number; calls: number } | undefined {
  for (let seconds = 1; seconds <= MAX_SHARED_WINDOW_SECONDS; seconds++) {
    const calls = perSecond * seconds;
    if (Math.round(calls) >= 1 && Math.abs(calls - Math.round(calls)) < 1e-6)
      return { seconds, calls: Math.round(calls) };
  }
  return undefined;
}

/**
 * Every budget of `budgets` that cannot be counted exactly in a shared store, as one message each
 * naming the budget, its value and what would fit; empty when all can.
 */
export function unsharableBudgets(budgets: RateBudgets): string[] {
  const named: Array<[string, number]> = [
    ...Object.entries(budgets.families).map(([f, b]): [string, number] => [`families.${f}.perSecond`, b.perSecond]),
    ['default.perSecond', budgets.default.perSecond],
    ['perAccount.perSecond', budgets.perAccount.perSecond],
    ['assumeRole.perSecond', budgets.assumeRole.perSecond],
  ];
  return named
    .filter(([, perSecond]) => !sharedWindow(perSecond))
    .map(
      ([field, perSecond]) =>
        `${field} is ${perSecond}: a shared budget (FLEETOPS_RATE_STORE) must be a whole number of calls per window of ` +
        `1 to ${MAX_SHARED_WINDOW_SECONDS} s (e.g. 0.5 = 1 call per 2 s, 2.5 = 5 calls per 2 s, 0.1 = 1 call per 10 s)`,
    );
}
