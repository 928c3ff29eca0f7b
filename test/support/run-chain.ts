import type { Client } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';

/** One run of a workflow's continue-as-new chain, as its history records it. */
export type ChainRun = { runId: string; events: number; closedBy: 'continued-as-new' | 'completed' | 'other' };

/**
 * Walks a workflow's runs from the first through continue-as-new to the last, from the histories
 * themselves: every run must start from the one before (`continuedExecutionRunId`) and name the same
 * first run, each but the last must end by continuing as new, and the last must complete. Throws
 * naming the run where the chain breaks.
 */
export async function runChain(client: Client, workflowId: string, firstRunId: string): Promise<ChainRun[]> {
  const runs: ChainRun[] = [];
  let runId: string | undefined = firstRunId;
  let previous: string | undefined;
  while (runId) {
    const history: temporal.api.history.v1.IHistory = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    const events = history.events ?? [];
    const started = events[0]?.workflowExecutionStartedEventAttributes;
    if (!started) throw new Error(`${workflowId} run ${runId}: history does not begin with WorkflowExecutionStarted`);
    if (started.firstExecutionRunId !== firstRunId)
      throw new Error(
        `${workflowId} run ${runId}: first run is ${started.firstExecutionRunId}, expected ${firstRunId}`,
      );
    if ((started.continuedExecutionRunId || undefined) !== previous)
      throw new Error(
        `${workflowId} run ${runId}: continued from ${started.continuedExecutionRunId || 'nothing'}, expected ${previous ?? 'nothing'}`,
      );
    const last = events.at(-1);
    const next: string | undefined =
      last?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
    const closedBy = next
      ? 'continued-as-new'
      : last?.workflowExecutionCompletedEventAttributes
        ? 'completed'
        : 'other';
    runs.push({ runId, events: events.length, closedBy });
    if (closedBy === 'other') throw new Error(`${workflowId} run ${runId}: neither completed nor continued as new`);
    previous = runId;
    runId = next;
  }
  return runs;
}
