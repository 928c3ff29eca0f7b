import type { Client } from '@temporalio/client';
import * as temporalProto from '@temporalio/proto';

const STARTED = temporalProto.temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED;

/**
 * The activity attempts running now in the running workflows whose id starts with `workflowIdPrefix`,
 * counted per worker process: the PID of the worker identity (`<pid>@<host>`) that started each.
 */
export async function startedActivitiesByWorkerPid(
  client: Client,
  workflowIdPrefix: string,
): Promise<Map<number, number>> {
  const byPid = new Map<number, number>();
  const running = client.workflow.list({
    query: `WorkflowId STARTS_WITH '${workflowIdPrefix}' AND ExecutionStatus = 'Running'`,
  });
  for await (const wf of running) {
    const described = await client.workflow.getHandle(wf.workflowId, wf.runId).describe();
    for (const a of described.raw.pendingActivities ?? []) {
      if (a.state !== STARTED || !a.lastWorkerIdentity) continue;
      const pid = Number(a.lastWorkerIdentity.split('@')[0]);
      byPid.set(pid, (byPid.get(pid) ?? 0) + 1);
    }
  }
  return byPid;
}
