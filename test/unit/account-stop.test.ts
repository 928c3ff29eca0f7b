import { ActivityFailure, ApplicationFailure, CancelledFailure, RetryState, TimeoutFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { AccountStopped, AccountStops } from '../../workflows/operation/account-stop';

const stops = new AccountStops(['AccountAccessDenied']);

/** The stop `step()` turns `err` into (fails the test if it throws anything else). */
async function stopFor(err: unknown): Promise<AccountStopped['stop']> {
  const thrown = await stops.step('eu-west-1', Promise.reject(err)).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(thrown).toBeInstanceOf(AccountStopped);
  return (thrown as AccountStopped).stop;
}

function activityFailure(cause: Error): ActivityFailure {
  return new ActivityFailure(
    'activity failed',
    'executeChangeSet',
    '7',
    RetryState.MAXIMUM_ATTEMPTS_REACHED,
    'w',
    cause,
  );
}

describe("AccountStops.step: an activity's failure as the account's stop", () => {
  it('passes a value through untouched', async () => {
    await expect(stops.step('eu-west-1', Promise.resolve(42))).resolves.toBe(42);
  });

  it('an activity task failing with a quarantining type quarantines the account, naming the region', async () => {
    const cause = ApplicationFailure.nonRetryable('access denied (AccessDenied)', 'AccountAccessDenied');
    expect(await stopFor(activityFailure(cause))).toEqual({
      outcome: 'quarantined',
      errorType: 'AccountAccessDenied',
      reason: 'access denied (AccessDenied)',
      region: 'eu-west-1',
    });
  });

  it('a local activity failing (the ApplicationFailure itself, not wrapped) stops the account the same way', async () => {
    const stop = await stopFor(ApplicationFailure.nonRetryable('stack is busy', 'StackBusy'));
    expect(stop).toEqual({ outcome: 'failed', errorType: 'StackBusy', reason: 'stack is busy', region: 'eu-west-1' });
  });

  it("an activity task's timeout fails the account as ActivityTimeout, naming the activity and the timeout", async () => {
    const stop = await stopFor(activityFailure(new TimeoutFailure('timed out', undefined, 'HEARTBEAT')));
    expect(stop.outcome).toBe('failed');
    expect(stop.errorType).toBe('ActivityTimeout');
    expect(stop.reason).toBe('executeChangeSet timed out (HEARTBEAT)');
  });

  it("a local activity's timeout (the TimeoutFailure itself) fails the account as ActivityTimeout", async () => {
    const stop = await stopFor(new TimeoutFailure('timed out', undefined, 'SCHEDULE_TO_CLOSE'));
    expect(stop).toEqual({
      outcome: 'failed',
      errorType: 'ActivityTimeout',
      reason: 'a local activity timed out (SCHEDULE_TO_CLOSE)',
      region: 'eu-west-1',
    });
  });

  it('cancellation and errors that are not an activity failure (bugs) pass through', async () => {
    const cancelled = new CancelledFailure('campaign cancelled');
    await expect(stops.step(undefined, Promise.reject(cancelled))).rejects.toBe(cancelled);
    const bug = new TypeError('x is undefined');
    await expect(stops.step(undefined, Promise.reject(bug))).rejects.toBe(bug);
  });
});
