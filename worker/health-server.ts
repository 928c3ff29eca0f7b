import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Worker } from '@temporalio/worker';
import type { Logger } from 'pino';
import { z } from 'zod';

/** The JSON a probe answers with: states and a count, never a value. */
export const ProbeBody = z.object({
  status: z.enum(['ok', 'not ready', 'failed']),
  /** The Temporal worker's state (`RUNNING`, `DRAINING`, …), `STARTING` before it exists. */
  state: z.string(),
  inFlightActivities: z.number().int().min(0).optional(),
});
export type ProbeBody = z.infer<typeof ProbeBody>;

/** What a probe answers: HTTP status and body. */
export type ProbeAnswer = { status: 200 | 503; body: ProbeBody };

/** The part of a Temporal Worker the probes read. */
export type WorkerStatusSource = Pick<Worker, 'getStatus'>;

/**
 * The worker's liveness and readiness probes for a process supervisor or Kubernetes, served beside
 * the Prometheus endpoint (that one is the Temporal Runtime's own exporter, which serves nothing else):
 *
 * - `GET /healthz` (live): the process answers and its Temporal worker has not failed — 200 while it
 *   starts, polls and drains; 503 once the worker or one of its pollers failed.
 * - `GET /readyz` (ready): 200 only while the worker is `RUNNING` with both pollers polling; 503 while
 *   it starts (bundling, connecting) and from the shutdown signal on (stopping, draining in-flight
 *   activities, stopped), so a supervisor sends it no traffic and counts it out of the rollout.
 */
export class WorkerHealthServer {
  private worker: WorkerStatusSource | undefined;
  private readonly server: http.Server;

  private constructor(private readonly logger: Logger) {
    this.server = http.createServer((req, res) => this.answer(req, res));
  }

  /** Listens on `host:port` (IPv6 in brackets); fails naming FLEETOPS_HEALTH_ADDRESS if it cannot. */
  static async listen(address: string, logger: Logger): Promise<WorkerHealthServer> {
    const health = new WorkerHealthServer(logger);
    const { host, port } = splitAddress(address);
    await new Promise<void>((resolve, reject) => {
      health.server.once('error', (err: NodeJS.ErrnoException) =>
        reject(new Error(`FLEETOPS_HEALTH_ADDRESS: cannot listen on ${address} (${err.code ?? err.message})`)),
      );
      health.server.listen(port, host, () => resolve());
    });
    logger.info({ healthAddress: health.address() }, 'health probes listening (/healthz, /readyz)');
    return health;
  }

  /** The bound `host:port` (the real port when 0 was asked for). */
  address(): string {
    const a = this.server.address() as AddressInfo;
    return a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
  }

  /** From now on the probes report this worker's state (until then: starting, live but not ready). */
  watch(worker: WorkerStatusSource): void {
    this.worker = worker;
  }

  liveness(): ProbeAnswer {
    if (!this.worker) return { status: 200, body: { status: 'ok', state: 'STARTING' } };
    const s = this.worker.getStatus();
    const failed = s.runState === 'FAILED' || s.workflowPollerState === 'FAILED' || s.activityPollerState === 'FAILED';
    return failed
      ? { status: 503, body: { status: 'failed', state: s.runState } }
      : { status: 200, body: { status: 'ok', state: s.runState, inFlightActivities: s.numInFlightActivities } };
  }

  readiness(): ProbeAnswer {
    if (!this.worker) return { status: 503, body: { status: 'not ready', state: 'STARTING' } };
    const s = this.worker.getStatus();
    const polling =
      s.runState === 'RUNNING' && s.workflowPollerState === 'POLLING' && s.activityPollerState === 'POLLING';
    return {
      status: polling ? 200 : 503,
      body: { status: polling ? 'ok' : 'not ready', state: s.runState, inFlightActivities: s.numInFlightActivities },
    };
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private answer(req: http.IncomingMessage, res: http.ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0];
    const probe = path === '/healthz' ? this.liveness : path === '/readyz' ? this.readiness : undefined;
    if (!probe || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: GET /healthz or /readyz\n');
      return;
    }
    let answer: ProbeAnswer;
    try {
      answer = probe.call(this);
    } catch (err) {
      this.logger.warn({ err }, 'health probe failed');
      answer = { status: 503, body: { status: 'failed', state: 'UNKNOWN' } };
    }
    res.writeHead(answer.status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : `${JSON.stringify(answer.body)}\n`);
  }
}

function splitAddress(address: string): { host: string; port: number } {
  const at = address.lastIndexOf(':');
  return { host: address.slice(0, at).replace(/^\[(.*)\]$/, '$1'), port: Number(address.slice(at + 1)) };
}
