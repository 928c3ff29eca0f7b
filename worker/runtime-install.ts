import { DefaultLogger, Runtime, type LogEntry, type LogLevel } from '@temporalio/worker';
import type { Logger } from 'pino';

const PINO_LEVEL: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

let installed = false;

/**
 * Installs the Temporal Runtime once per process, before any connection or worker: its logs (SDK and
 * native core) go into the pino logger, so one redacted JSON stream carries everything; with
 * `metricsAddress` it serves Prometheus metrics at `http://<address>/metrics` — the Runtime's own
 * (`temporal_…`) and fleetops' (`fleetops_…`, activities/fleet-metrics.ts, and the campaign engine's).
 */
export function installRuntime(logger: Logger, options: { metricsAddress?: string } = {}): void {
  if (installed) return;
  installed = true;
  const level = (logger.level.toUpperCase() === 'FATAL' ? 'ERROR' : logger.level.toUpperCase()) as LogLevel;
  const sdk = logger.child({ component: 'temporal' });
  try {
    installWith(level, sdk, options);
  } catch (err) {
    // e.g. a second worker on the host with the same metrics port: name the setting, not just the port
    if (options.metricsAddress && /prometheus|address/i.test((err as Error).message))
      throw new Error(
        `FLEETOPS_METRICS_ADDRESS=${options.metricsAddress}: ${(err as Error).message} (another worker on this host? give each its own host:port, or off)`,
      );
    throw err;
  }
}

function installWith(level: LogLevel, sdk: Logger, options: { metricsAddress?: string }): void {
  Runtime.install({
    logger: new DefaultLogger(level in PINO_LEVEL ? level : 'INFO', (entry: LogEntry) => {
      sdk[PINO_LEVEL[entry.level]]({ ...entry.meta }, entry.message);
    }),
    telemetryOptions: {
      logging: { filter: { core: 'WARN', other: 'WARN' }, forward: {} },
      ...(options.metricsAddress
        ? { metrics: { prometheus: { bindAddress: options.metricsAddress, countersTotalSuffix: true } } }
        : {}),
    },
  });
}
