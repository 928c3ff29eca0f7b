import v8 from 'node:v8';
import { createLogger } from './logger';
import { startMemoryLog } from './memory-log';
import { createFleetWorker } from './run-worker';
import { installRuntime } from './runtime-install';
import { loadWorkerConfig } from './worker-config';

/** `fleetops worker`: runs until SIGINT/SIGTERM, then finishes in-flight tasks and exits. */
export async function runWorkerMain(): Promise<void> {
  const config = loadWorkerConfig();
  const logger = createLogger({ level: config.logLevel });
  installRuntime(logger, { metricsAddress: config.metricsAddress });
  const { worker, fleet, close } = await createFleetWorker({ config, logger });
  logger.info(
    {
      taskQueue: config.taskQueue,
      awsEndpoint: config.awsEndpoint ?? 'AWS',
      vault: config.vault.endpoint,
      fleetDirs: config.fleetDirs,
      rateBudgets: fleet.limits.kind,
      heapLimitMiB: Math.round(v8.getHeapStatistics().heap_size_limit / 2 ** 20),
    },
    'worker started',
  );
  const stopMemoryLog = startMemoryLog(logger);
  try {
    await worker.run(); // the Temporal Runtime turns SIGINT/SIGTERM into a graceful shutdown
  } finally {
    stopMemoryLog();
    await close();
    logger.info('worker stopped');
    logger.flush();
  }
}
