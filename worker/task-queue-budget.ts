import { temporal } from '@temporalio/proto';
import type { NativeConnection } from '@temporalio/worker';
import type { Logger } from 'pino';

const ACTIVITY = temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY;

/**
 * Applies the task queue's activity budget to the Temporal server itself (UpdateTaskQueueConfig,
 * server ≥ 1.29): the server then dispatches at most `activitiesPerSecond` activity tasks from the
 * queue across all workers, whatever each worker asks for. On a server without the API (or without
 * the permission) it logs why and keeps the worker's own `maxTaskQueueActivitiesPerSecond`.
 */
export async function applyTaskQueueBudget(opts: {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  activitiesPerSecond: number;
  logger: Logger;
}): Promise<'applied' | 'unsupported'> {
  try {
    await opts.connection.workflowService.updateTaskQueueConfig({
      namespace: opts.namespace,
      identity: `fleetops-worker@${process.pid}`,
      taskQueue: opts.taskQueue,
      taskQueueType: ACTIVITY,
      updateQueueRateLimit: {
        rateLimit: { requestsPerSecond: opts.activitiesPerSecond },
        reason: 'fleetops rate budgets (fleet/rate-budgets.ts: taskQueueActivitiesPerSecond)',
      },
    });
    return 'applied';
  } catch (err) {
    opts.logger.warn(
      { taskQueue: opts.taskQueue, error: (err as Error).message },
      'task queue rate limit not applied to the server (UpdateTaskQueueConfig failed); the worker option still limits it',
    );
    return 'unsupported';
  }
}

/** The queue rate limit the server holds for the task queue's activities (undefined: none set). */
export async function serverTaskQueueRateLimit(
  connection: NativeConnection,
  namespace: string,
  taskQueue: string,
): Promise<number | undefined> {
  const res = await connection.workflowService.describeTaskQueue({
    namespace,
    taskQueue: { name: taskQueue },
    taskQueueType: ACTIVITY,
    reportConfig: true,
  });
  return res.config?.queueRateLimit?.rateLimit?.requestsPerSecond ?? undefined;
}
