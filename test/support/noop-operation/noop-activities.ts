import { fleetAccount } from '../../../activities/fleet-file-access';
import type { OperationDeps } from '../../../worker/operation-activities';

/** Every touch, in order, so a test can check each account was touched once per attempt. */
export const touches: Array<{ accountId: string; attempt: number; customer: string }> = [];

export function createNoopActivities(deps: OperationDeps) {
  return {
    async touchAccount(input: { fleetFile: string; accountId: string; attempt: number }): Promise<void> {
      const account = fleetAccount(deps, input.fleetFile, input.accountId);
      touches.push({ accountId: account.id, attempt: input.attempt, customer: account.customer });
    },
  };
}
export type NoopActivities = ReturnType<typeof createNoopActivities>;
