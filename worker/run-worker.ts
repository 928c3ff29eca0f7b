import path from 'node:path';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { Client } from '@temporalio/client';
import { NativeConnection, Runtime, Worker, type WorkerOptions } from '@temporalio/worker';
import type { Logger } from 'pino';
import os from 'node:os';
import { activityKeepAlive } from './activity-keepalive';
import { bundleWorkflowsOutOfProcess } from './bundle-workflows';
import { TemporalFleetMetrics } from '../activities/fleet-metrics';
import { createLeaseActivities } from '../activities/lease/lease-activities';
import { createFleetActivities } from './fleet-activities';
import { applyTaskQueueBudget } from './task-queue-budget';
import type { WorkerConfig } from './worker-config';

export type FleetWorkerOptions = {
  config: WorkerConfig;
  logger: Logger;
  /** A pre-built workflow bundle (tests build one and reuse it); otherwise the workflows folder is bundled. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  connection?: NativeConnection;
};

/**
 * Creates the fleetops worker: connects with Temporal's standard environment configuration
 * (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS_*, TEMPORAL_PROFILE or a
 * temporal.toml profile; localhost:7233 by default) and registers every workflow and activity.
 */
export async function createFleetWorker(
  opts: FleetWorkerOptions,
): Promise<{ worker: Worker; fleet: ReturnType<typeof createFleetActivities>; close: () => Promise<void> }> {
  const { connectionOptions, namespace } = loadClientConnectConfig();
  const connection = opts.connection ?? (await NativeConnection.connect(connectionOptions));
  const fleet = createFleetActivities(opts.config, opts.logger);
  await fleet.sharedGates
    ?.ready()
    .catch((err: Error) =>
      opts.logger.warn(
        { error: err.message },
        'shared rate store not answering: budgets are counted per worker (insurance limiter) until it answers',
      ),
    );
  // the task queue's activity budget is held by the server, across all workers (docs/rate-budgets.md)
  await applyTaskQueueBudget({
    connection,
    namespace: namespace ?? 'default',
    taskQueue: opts.config.taskQueue,
    activitiesPerSecond: opts.config.taskQueueActivitiesPerSecond,
    logger: opts.logger,
  });
  // fleetops' metrics go to the Runtime's meter, served with Temporal's own when a metrics address is set
  fleet.limits.metrics = new TemporalFleetMetrics(Runtime.instance().metricMeter);
  // cached per version of the code: see bundle-workflows.ts
  const bundlePath = opts.workflowBundle
    ? undefined
    : await bundleWorkflowsOutOfProcess(path.join(os.tmpdir(), 'fleetops'));
  // the lease activity reaches each account's lock workflow through a client on the worker's connection
  const leaseClient = new Client({ connection, namespace: namespace ?? 'default' });
  Object.assign(fleet.activities, createLeaseActivities(leaseClient));
  const worker = await Worker.create({
    connection,
    namespace: namespace ?? 'default',
    taskQueue: opts.config.taskQueue,
    workflowBundle: opts.workflowBundle ?? { codePath: bundlePath! },
    activities: fleet.activities,
    // a dead worker's or a lost attempt is retried after its heartbeat timeout, not its start-to-close
    interceptors: { activity: [activityKeepAlive] },
    maxConcurrentActivityTaskExecutions: opts.config.maxConcurrentActivities,
    maxCachedWorkflows: opts.config.maxCachedWorkflows,
    maxTaskQueueActivitiesPerSecond: opts.config.taskQueueActivitiesPerSecond,
    // after SIGTERM/SIGINT: stop polling, let in-flight activities finish, then cancel what is left
    shutdownGraceTime: opts.config.shutdownGraceSeconds * 1000,
  });
  return {
    worker,
    fleet,
    close: async () => {
      fleet.close();
      if (!opts.connection) await connection.close();
    },
  };
}
