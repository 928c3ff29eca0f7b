import { ActivityFailure, ApplicationFailure, TimeoutFailure, isCancellation } from '@temporalio/workflow';
import type { CommonOutcome } from './account-operation';

/** Why a per-account child stopped before its operation was done (becomes the result's outcome, reason, errorType). */
export type AccountStop = {
  outcome: Exclude<CommonOutcome, 'already-current' | 'planned'>;
  reason: string;
  errorType?: string;
  region?: string;
};

/** Thrown inside a per-account child to end it with `stop` as its result. */
export class AccountStopped extends Error {
  constructor(readonly stop: AccountStop) {
    super(stop.reason);
    this.name = 'AccountStopped';
  }
}

/**
 * How an operation's child turns failures into its account's stop; `quarantining`: the error types
 * that quarantine the account (an operator must look), any other stops it as failed.
 */
export class AccountStops {
  constructor(private readonly quarantining: readonly string[]) {}

  /** The stop for an error of `errorType` (quarantined or failed unless `outcome` says otherwise). */
  stopWith(errorType: string, reason: string, region?: string, outcome?: AccountStop['outcome']): AccountStopped {
    return new AccountStopped({
      outcome: outcome ?? (this.quarantining.includes(errorType) ? 'quarantined' : 'failed'),
      errorType,
      reason,
      region,
    });
  }

  /**
   * An activity's failure (after its retry policy gave up) as the account's stop; cancellation and bugs
   * pass through. An activity task's failure arrives as an ActivityFailure around its cause; a local
   * activity's as the cause itself (ApplicationFailure, TimeoutFailure).
   */
  async step<T>(region: string | undefined, call: Promise<T>): Promise<T> {
    try {
      return await call;
    } catch (err) {
      if (isCancellation(err)) throw err;
      const activity = err instanceof ActivityFailure ? err : undefined;
      const cause = activity ? activity.cause : err;
      if (cause instanceof ApplicationFailure) throw this.stopWith(cause.type ?? 'Error', cause.message, region);
      if (cause instanceof TimeoutFailure)
        throw this.stopWith(
          'ActivityTimeout',
          `${activity?.activityType ?? 'a local activity'} timed out (${cause.timeoutType})`,
          region,
          'failed',
        );
      if (!activity) throw err; // not an activity's failure: a bug
      throw this.stopWith(
        activity.cause?.name ?? 'Error',
        activity.cause?.message ?? activity.message,
        region,
        'failed',
      );
    }
  }
}
