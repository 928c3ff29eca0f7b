import type { Logger } from 'pino';

const MiB = 2 ** 20;

/**
 * Logs the worker's memory every `everyMs` ("worker memory"): resident set, and the main isolate's
 * heap and off-heap use. Workflows run in their own isolate on a worker thread, so rss minus the main
 * heap and external is roughly that isolate plus Temporal's native core.
 */
export function startMemoryLog(logger: Logger, everyMs = 60_000): () => void {
  const timer = setInterval(() => {
    const m = process.memoryUsage();
    logger.info(
      {
        rssMiB: Math.round(m.rss / MiB),
        heapUsedMiB: Math.round(m.heapUsed / MiB),
        heapTotalMiB: Math.round(m.heapTotal / MiB),
        externalMiB: Math.round(m.external / MiB),
      },
      'worker memory',
    );
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
