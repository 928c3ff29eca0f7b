import { describe, expect, it } from 'vitest';
import { sharedWindow, unsharableBudgets } from '../../activities/aws/shared-budget-windows';
import { RateBudgetsSchema } from '../../fleet/rate-budgets';
import { loadWorkerConfig } from '../../worker/worker-config';

const base = { VAULT_TOKEN: 'dev-token', FLEETOPS_FLEET_DIRS: '/tmp', FLEETOPS_RATE_STORE: 'redis://127.0.0.1:6379' };

describe('shared budgets: counting windows of fractional budgets', () => {
  it('keeps a fractional budget exactly in the shortest window holding whole calls (never rounds down)', () => {
    expect(sharedWindow(30)).toEqual({ seconds: 1, calls: 30 });
    expect(sharedWindow(0.5)).toEqual({ seconds: 2, calls: 1 });
    expect(sharedWindow(2.5)).toEqual({ seconds: 2, calls: 5 });
    expect(sharedWindow(0.1)).toEqual({ seconds: 10, calls: 1 });
    expect(sharedWindow(1 / 3)).toEqual({ seconds: 3, calls: 1 });
    expect(sharedWindow(1.25)).toEqual({ seconds: 4, calls: 5 });
    expect(sharedWindow(0.05)).toBeUndefined();
    expect(sharedWindow(1.33)).toBeUndefined();
  });

  it('a worker with a shared store refuses a budget no window fits, naming the field and what fits', () => {
    const budgets = RateBudgetsSchema.parse({
      families: { sts: { perSecond: 1.33 } },
      perAccount: { perSecond: 0.05 },
    });
    expect(unsharableBudgets(budgets)).toEqual([
      expect.stringMatching(/^families\.sts\.perSecond is 1\.33: a shared budget \(FLEETOPS_RATE_STORE\) must be/),
      expect.stringMatching(/^perAccount\.perSecond is 0\.05: .*0\.5 = 1 call per 2 s/),
    ]);
    expect(() => loadWorkerConfig({ ...base, FLEETOPS_RATE_BUDGETS: '{"assumeRole": {"perSecond": 0.07}}' })).toThrow(
      /invalid rate budgets \(FLEETOPS_RATE_BUDGETS\) for the shared store:\n- assumeRole\.perSecond is 0\.07/,
    );
    // without a shared store the in-process bucket takes any positive rate
    const { FLEETOPS_RATE_STORE: _store, ...inProcess } = base;
    expect(
      loadWorkerConfig({ ...inProcess, FLEETOPS_RATE_BUDGETS: '{"assumeRole": {"perSecond": 0.07}}' }).rateBudgets
        .assumeRole.perSecond,
    ).toBe(0.07);
    expect(
      loadWorkerConfig({ ...base, FLEETOPS_RATE_BUDGETS: '{"assumeRole": {"perSecond": 0.5}}' }).rateBudgets.assumeRole
        .perSecond,
    ).toBe(0.5);
  });
});
