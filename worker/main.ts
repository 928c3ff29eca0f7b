import v8 from 'node:v8';
import { WorkerHealthServer } from './health-server';
import { createLogger } from './logger';
import { startMemoryLog } from './memory-log';
import { createFleetWorker } from './run-worker';
import { installRuntime } from './runtime-install';
import { loadWorkerConfig } from './worker-config';

/**
 * `fleetops worker`: runs until SIGINT/SIGTERM, then stops polling, gives in-flight activities
 * FLEETOPS_SHUTDOWN_GRACE_SECONDS to finish and exits. Its probes (`/healthz`, `/readyz` on
 * FLEETOPS_HEALTH_ADDRESS) answer from before the worker connects until it stops.
 */
export async function runWorkerMain(): Promise<void> {
  const config = loadWorkerConfig();
  const logger = createLogger({ level: config.logLevel });
  installRuntime(logger, { metricsAddress: config.metricsAddress });
  const health = config.healthAddress ? await WorkerHealthServer.listen(config.healthAddress, logger) : undefined;
  try {
    const { worker, fleet, close } = await createFleetWorker({ config, logger });
    health?.watch(worker);
    logger.info(
      {
        taskQueue: config.taskQueue,
        awsEndpoint: config.awsEndpoint ?? 'AWS',
        vault: config.vault.endpoint,
        fleetDirs: config.fleetDirs,
        rateBudgets: fleet.limits.kind,
        heapLimitMiB: Math.round(v8.getHeapStatistics().heap_size_limit / 2 ** 20),
        shutdownGraceSeconds: config.shutdownGraceSeconds,
      },
      'worker started',
    );
    const stopMemoryLog = startMemoryLog(logger);
    try {
      await worker.run(); // the Temporal Runtime turns SIGINT/SIGTERM into a graceful shutdown
    } finally {
      stopMemoryLog();
      await close();
    }
  } finally {
    await health?.close();
    logger.info('worker stopped');
    logger.flush();
  }
}
