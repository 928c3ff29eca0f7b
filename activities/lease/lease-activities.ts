import type { Client } from '@temporalio/client';
import { WorkflowIdReusePolicy } from '@temporalio/client';
import {
  accountLeaseId,
  acquireLeaseSignal,
  type AccountLeaseInput,
  type RequestLeaseInput,
} from '../../workflows/lease/lease-messages';

/**
 * The lease activity: asks the account's lock workflow for the lease with signal-with-start (started if
 * it does not run, signalled if it does — one atomic call, so no request is lost between the two).
 */
export function createLeaseActivities(client: Client) {
  return {
    async requestAccountLease({ accountId, taskQueue, holder }: RequestLeaseInput): Promise<void> {
      await client.workflow.signalWithStart('accountLease', {
        workflowId: accountLeaseId(accountId),
        taskQueue,
        args: [{ accountId } satisfies AccountLeaseInput],
        signal: acquireLeaseSignal,
        signalArgs: [holder],
        workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
        staticSummary: `lease of account ${accountId}`,
      });
    },
  };
}

export type LeaseActivities = ReturnType<typeof createLeaseActivities>;
