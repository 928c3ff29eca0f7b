import type { Client } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import * as temporalProto from '@temporalio/proto';
import { until } from './worker-process';

/**
 * Every activity attempt a SIGKILLed worker was running (Temporal's pending activities started by its
 * identity, `<pid>@<host>`, in the running workflows whose id starts with `workflowIdPrefix`) times out
 * now instead of at its start-to-close or heartbeat timeout (what a real crash waits for): its options
 * are updated to a 1 s timeout (Temporal's UpdateActivityOptions, as an operator would with `temporal
 * activity update-options`), the server times the attempt out and schedules the next one, and the
 * original options are restored before a worker can pick that up. Returns `<workflowId> <activity>#<attempt>` of each.
 */
export async function timeOutLostAttempts(
  client: Client,
  o: { workflowIdPrefix: string; workerPid: number; identity: string },
): Promise<string[]> {
  const service = client.workflowService;
  const lost: string[] = [];
  const running = client.workflow.list({
    query: `WorkflowId STARTS_WITH '${o.workflowIdPrefix}' AND ExecutionStatus = 'Running'`,
  });
  for await (const wf of running) {
    const handle = client.workflow.getHandle(wf.workflowId);
    for (const a of (await handle.describe()).raw.pendingActivities ?? []) {
      if (!a.activityId || !a.lastWorkerIdentity?.startsWith(`${o.workerPid}@`) || !a.lastStartedTime) continue;
      if (a.state !== temporalProto.temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED) continue;
      const request = {
        namespace: 'default',
        execution: { workflowId: wf.workflowId },
        identity: o.identity,
        id: a.activityId,
      };
      await service.updateActivityOptions({
        ...request,
        activityOptions: { startToCloseTimeout: msToTs(1000) },
        updateMask: { paths: ['start_to_close_timeout'] },
      });
      await until(
        `${wf.workflowId}: the lost attempt ${a.attempt} of ${a.activityType?.name} to time out`,
        async () => {
          const now = (await handle.describe()).raw.pendingActivities?.find((x) => x.activityId === a.activityId);
          return !now || (now.attempt ?? 0) > (a.attempt ?? 0);
        },
        30_000,
      );
      await service.updateActivityOptions({ ...request, restoreOriginal: true });
      lost.push(`${wf.workflowId} ${a.activityType?.name}#${a.attempt}`);
    }
  }
  return lost;
}
