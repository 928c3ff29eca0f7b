import type { Client } from '@temporalio/client';
import { WorkflowIdReusePolicy, WorkflowNotFoundError } from '@temporalio/client';
import {
  accountLeaseId,
  acquireLeaseSignal,
  releaseLeaseSignal,
  type AccountLeaseInput,
  type LeaseHolder,
  type RequestLeaseInput,
} from '../../workflows/lease/lease-messages';

/**
 * The lease activities (run as local activities by children of current code): ask the account's lock
 * workflow for the lease with signal-with-start (started if it does not run, signalled if it does — one
 * atomic call, so no request is lost between the two), and give it back.
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

    /** Gives the account back (or withdraws a request still queued); a lock that no longer runs holds nothing. */
    async releaseAccountLease({
      accountId,
      holder,
    }: {
      accountId: string;
      holder: Pick<LeaseHolder, 'workflowId' | 'runId'>;
    }): Promise<{ released: boolean }> {
      try {
        await client.workflow
          .getHandle(accountLeaseId(accountId))
          .signal(releaseLeaseSignal, { workflowId: holder.workflowId, runId: holder.runId });
        return { released: true };
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) return { released: false };
        throw err;
      }
    },
  };
}

export type LeaseActivities = ReturnType<typeof createLeaseActivities>;
