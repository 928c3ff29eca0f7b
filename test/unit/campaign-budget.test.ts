import { describe, expect, it } from 'vitest';
import { effectiveWindow, estimateSecondsLeft, failureBudgetFor } from '../../workflows/campaign/campaign-budget';

describe('failure budget', () => {
  it('takes the tighter of count and percent; percent rounds up to at least one account', () => {
    expect(failureBudgetFor(200, { maxFailurePercent: 10 })).toBe(20);
    expect(failureBudgetFor(4, { maxFailurePercent: 10 })).toBe(1);
    expect(failureBudgetFor(200, { maxFailures: 5, maxFailurePercent: 10 })).toBe(5);
    expect(failureBudgetFor(200, {})).toBe(Infinity);
  });

  it('the window never exceeds the failures still allowed, and shrinks as they accumulate', () => {
    expect(effectiveWindow(20, 300, 0)).toBe(20);
    expect(effectiveWindow(20, 5, 0)).toBe(5);
    expect(effectiveWindow(20, 5, 3)).toBe(2);
    expect(effectiveWindow(20, 5, 5)).toBe(0);
    expect(effectiveWindow(20, Infinity, 100)).toBe(20);
  });

  it('estimates time left from the average account time, the window and the bakes left', () => {
    expect(estimateSecondsLeft(100, 10, null, 0)).toBeNull();
    expect(estimateSecondsLeft(100, 10, 30, 600)).toBe(10 * 30 + 600);
    expect(estimateSecondsLeft(5, 0, 30, 0)).toBe(150);
  });
});
