import { describe, expect, it } from 'vitest';
import {
  describeWindowLimit,
  effectiveWindow,
  estimateSecondsLeft,
  failureBudgetFor,
  windowLimit,
  worstCaseFailures,
} from '../../workflows/campaign/campaign-budget';
import { CampaignCommonSchema } from '../../workflows/campaign/campaign-input';

describe('failure budget', () => {
  it('takes the tighter of count and percent; percent rounds up to at least one account', () => {
    expect(failureBudgetFor(200, { maxFailurePercent: 10 })).toBe(20);
    expect(failureBudgetFor(4, { maxFailurePercent: 10 })).toBe(1);
    expect(failureBudgetFor(200, { maxFailures: 5, maxFailurePercent: 10 })).toBe(5);
    expect(failureBudgetFor(200, {})).toBe(Infinity);
  });

  it('strict (the default): the window never exceeds the failures still allowed, and shrinks as they accumulate', () => {
    expect(effectiveWindow(20, 300, 0)).toBe(20);
    expect(effectiveWindow(20, 5, 0)).toBe(5);
    expect(effectiveWindow(20, 5, 3)).toBe(2);
    expect(effectiveWindow(20, 5, 5)).toBe(0);
    expect(effectiveWindow(20, Infinity, 100)).toBe(20);
    expect(effectiveWindow(20, 5, 3, 'strict')).toBe(2);
    // the issue's case: a budget of one failure runs a 3,000-account wave one account at a time
    expect(effectiveWindow(50, failureBudgetFor(3000, { maxFailures: 1 }), 0)).toBe(1);
  });

  it('soft: the window stays maxInFlight while any failure is allowed, and is 0 once the budget is spent', () => {
    expect(effectiveWindow(50, 1, 0, 'soft')).toBe(50);
    expect(effectiveWindow(20, 5, 4, 'soft')).toBe(20);
    expect(effectiveWindow(20, 5, 5, 'soft')).toBe(0);
    // an overshoot (more failures than the budget) never turns into a negative window
    expect(effectiveWindow(20, 5, 9, 'soft')).toBe(0);
    expect(effectiveWindow(20, 5, 9, 'strict')).toBe(0);
    expect(effectiveWindow(20, Infinity, 1000, 'soft')).toBe(20);
  });

  it('says why the window is smaller than maxInFlight, and nothing when it is not', () => {
    expect(windowLimit(50, 1, 0)).toEqual({
      window: 1,
      maxInFlight: 50,
      mode: 'strict',
      failuresLeft: 1,
      limitedBy: 'failures-left',
    });
    expect(describeWindowLimit(windowLimit(50, 1, 0))).toBe('window 1 of 50: 1 failure left in the budget');
    expect(describeWindowLimit(windowLimit(50, 10, 3))).toBe('window 7 of 50: 7 failures left in the budget');
    expect(describeWindowLimit(windowLimit(50, 10, 10))).toBe('window 0 of 50: the failure budget is spent');
    expect(describeWindowLimit(windowLimit(50, 1, 1, 'soft'))).toBe('window 0 of 50: the failure budget is spent');
    expect(windowLimit(50, 1, 0, 'soft').limitedBy).toBeUndefined();
    expect(describeWindowLimit(windowLimit(50, 1, 0, 'soft'))).toBeUndefined();
    expect(describeWindowLimit(windowLimit(20, 300, 0))).toBeUndefined();
    expect(describeWindowLimit(windowLimit(5, 5, 0))).toBeUndefined(); // exactly maxInFlight left: not limited
  });

  it('bounds the failures a wave can end with: strict its budget, soft the budget plus the accounts in flight', () => {
    expect(worstCaseFailures(3000, 1, 50, 'strict')).toBe(1);
    expect(worstCaseFailures(3000, 1, 50, 'soft')).toBe(50);
    expect(worstCaseFailures(3000, 10, 50, 'soft')).toBe(59);
    expect(worstCaseFailures(30, 10, 50, 'soft')).toBe(30);
  });

  it('the input defaults to strict and refuses any other mode, naming the field', () => {
    const base = { operation: 'upgrade', fleetFile: 'fleet.yaml' };
    expect(CampaignCommonSchema.parse(base).concurrencyMode).toBe('strict');
    expect(CampaignCommonSchema.parse({ ...base, concurrencyMode: 'soft' }).concurrencyMode).toBe('soft');
    const bad = CampaignCommonSchema.safeParse({ ...base, concurrencyMode: 'SOFT_FAILURE_TOLERANCE' });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues.map((i) => i.path.join('.'))).toEqual(['concurrencyMode']);
  });

  it('estimates time left from the average account time, the window and the bakes left', () => {
    expect(estimateSecondsLeft(100, 10, null, 0)).toBeNull();
    expect(estimateSecondsLeft(100, 10, 30, 600)).toBe(10 * 30 + 600);
    expect(estimateSecondsLeft(5, 0, 30, 0)).toBe(150);
  });
});
