import { describe, expect, it } from 'vitest';
import { loadWorkerConfig } from '../../worker/worker-config';

const base = { VAULT_TOKEN: 'dev-token', FLEETOPS_FLEET_DIRS: '/tmp' };

describe('worker config: where the rate budgets are counted', () => {
  it('counts in the process when no store is set, and in the store (with its scope) when one is', () => {
    expect(loadWorkerConfig(base).rateStore).toBeUndefined();
    expect(loadWorkerConfig({ ...base, FLEETOPS_RATE_STORE: '' }).rateStore).toBeUndefined();
    expect(loadWorkerConfig({ ...base, FLEETOPS_RATE_STORE: 'redis://127.0.0.1:6379' }).rateStore).toEqual({
      url: 'redis://127.0.0.1:6379',
      scope: 'fleetops',
    });
    expect(
      loadWorkerConfig({ ...base, FLEETOPS_RATE_STORE: 'rediss://cache:6380', FLEETOPS_RATE_SCOPE: 'prod-eu' })
        .rateStore,
    ).toEqual({ url: 'rediss://cache:6380', scope: 'prod-eu' });
  });

  it('names the variable when the store or scope is malformed', () => {
    expect(() => loadWorkerConfig({ ...base, FLEETOPS_RATE_STORE: 'http://127.0.0.1:6379' })).toThrow(
      /FLEETOPS_RATE_STORE: expected a redis:\/\/ or rediss:\/\/ URL/,
    );
    expect(() => loadWorkerConfig({ ...base, FLEETOPS_RATE_STORE: 'redis://x:1', FLEETOPS_RATE_SCOPE: 'a b' })).toThrow(
      /FLEETOPS_RATE_SCOPE/,
    );
  });

  it('takes the task-queue activity rate from the budgets unless the variable overrides it', () => {
    expect(loadWorkerConfig(base).taskQueueActivitiesPerSecond).toBe(500);
    expect(
      loadWorkerConfig({ ...base, FLEETOPS_RATE_BUDGETS: '{"taskQueueActivitiesPerSecond": 120}' })
        .taskQueueActivitiesPerSecond,
    ).toBe(120);
    expect(
      loadWorkerConfig({
        ...base,
        FLEETOPS_RATE_BUDGETS: '{"taskQueueActivitiesPerSecond": 120}',
        FLEETOPS_TASK_QUEUE_ACTIVITIES_PER_SECOND: '80',
      }).taskQueueActivitiesPerSecond,
    ).toBe(80);
  });
});
