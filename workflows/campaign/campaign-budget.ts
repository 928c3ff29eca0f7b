/**
 * Failure budget and concurrency of one wave (pure). A wave stops once `budget` of its accounts have
 * failed; the window never exceeds the failures still allowed, so however many accounts are in
 * flight when things go wrong, the wave cannot fail more accounts than its budget — like
 * CloudFormation StackSets' strict failure tolerance, with the window shrinking as failures accumulate.
 */
export type FailureBudgetOptions = { maxFailures?: number; maxFailurePercent?: number };

/** Failures that stop a wave of `waveSize` accounts (at least 1; Infinity if no budget is set). */
export function failureBudgetFor(waveSize: number, o: FailureBudgetOptions): number {
  const byCount = o.maxFailures ?? Infinity;
  const byPercent =
    o.maxFailurePercent === undefined ? Infinity : Math.max(1, Math.ceil((o.maxFailurePercent / 100) * waveSize));
  return Math.min(byCount, byPercent);
}

/** Accounts that may run at once: `maxInFlight`, but never more than the failures still allowed. */
export function effectiveWindow(maxInFlight: number, budget: number, failuresCounted: number): number {
  return Math.max(0, Math.min(maxInFlight, budget - failuresCounted));
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
