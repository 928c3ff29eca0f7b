/**
 * The AWS gap/fault proxy: a plain node:http server in front of moto_server that forwards every
 * AWS API call and adds what moto lacks, one service layer per emulated service (one folder each,
 * registered below; core/service-layer.ts says what a layer is):
 *  - sts/: ExternalId enforcement on sts:AssumeRole from the role's trust policy, and per-account
 *    attribution of assumed credentials;
 *  - iam/: access-key status (inactive, deleted, not yet valid) enforced on every request;
 *  - secretsmanager/: versions and staging labels as AWS keeps them;
 *  - cloudformation/: idempotency tokens, slow updates, rollbacks, ... (cloudformation-layer.ts);
 *  - ec2/: AMIs shared with ModifyImageAttribute visible from the consumer, the share ledger,
 *    CreateLaunchTemplateVersion's SourceVersion and ClientToken (ec2-layer.ts);
 *  - autoscaling/: instance refresh as a time-driven state machine with faults (autoscaling-layer.ts);
 * and seeded fault injection (throttling, 5xx, latency) in front of all of them.
 *
 * Order for each request: injected faults (latency, then throttling / 5xx) → each layer's `refuse`
 * (credentials) → the layer that handles the call → plain forward.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { handleAdminRequest, isAdminPath } from './admin-api';
import { AutoScalingLayer } from './autoscaling/autoscaling-layer';
import { AssumedCredentialsMap } from './sts/assumed-credentials';
import { renderAwsError, type AwsErrorResponse } from './core/aws-errors';
import { CloudFormationLayer } from './cloudformation/cloudformation-layer';
import { KmsLayer } from './kms/kms-layer';
import { Ec2Layer } from './ec2/ec2-layer';
import { FaultInjector } from './core/fault-injector';
import { advertiseKeepAlive, applyKeepAlive } from './core/http-keep-alive';
import { ProxyStats } from './core/proxy-stats';
import { pinMotoAccount } from './core/moto-account-header';
import { parseRequestInfo } from './core/request-info';
import type { LayerRequest, LayerResponse, ServiceLayer } from './core/service-layer';
import { IamLayer } from './iam/iam-layer';
import { SecretsManagerLayer } from './secretsmanager/secretsmanager-layer';
import { StsLayer } from './sts/sts-layer';
import { TrustTable } from './sts/trust-table';
import { UpstreamForwarder, endToEndHeaders } from './core/upstream-forwarder';

export interface AwsProxyOptions {
  /** moto_server base URL, e.g. `http://127.0.0.1:5000`. */
  upstream: string;
  /** Where `trust.json` and `fault-plan.json` are loaded from and saved to (in memory only when omitted). */
  stateDir?: string;
  /** One line per request; never contains credentials, ExternalIds, bodies or query strings. */
  logger?: (line: string) => void;
  /** Largest request body accepted (default 64 MiB). */
  maxBodyBytes?: number;
}

export interface AwsProxy {
  server: http.Server;
  /** Starts listening (host defaults to 127.0.0.1); resolves with the actual port. */
  listen(port: number, host?: string): Promise<number>;
  close(): Promise<void>;
  trust: TrustTable;
  faults: FaultInjector;
  stats: ProxyStats;
  credentials: AssumedCredentialsMap;
  cloudformation: CloudFormationLayer;
  iam: IamLayer;
  ec2: Ec2Layer;
  autoscaling: AutoScalingLayer;
  /** Every service layer, in the order their `refuse` checks run. */
  layers: ServiceLayer[];
}

class BodyTooLarge extends Error {}

async function readBody(req: http.IncomingMessage, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw new BodyTooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function sendError(res: http.ServerResponse, error: AwsErrorResponse): void {
  res.writeHead(error.status, { ...error.headers, 'content-length': error.body.length });
  res.end(error.body);
}

export function createAwsProxy(opts: AwsProxyOptions): AwsProxy {
  const log = opts.logger ?? (() => undefined);
  const maxBodyBytes = opts.maxBodyBytes ?? 64 * 1024 * 1024;
  const trust = new TrustTable(opts.stateDir);
  const faults = new FaultInjector(opts.stateDir);
  const stats = new ProxyStats();
  const credentials = new AssumedCredentialsMap();
  const forwarder = new UpstreamForwarder(opts.upstream);
  const cloudformation = new CloudFormationLayer({
    forwarder,
    plan: () => ({ plan: faults.plan.cloudformation, setAt: faults.installedAt }),
    logger: log,
  });
  const iam = new IamLayer({ forwarder, plan: () => faults.plan.iam });
  const ec2 = new Ec2Layer({ forwarder });
  const autoscaling = new AutoScalingLayer({
    forwarder,
    plan: () => ({ plan: faults.plan.autoscaling, setAt: faults.installedAt }),
    logger: log,
  });
  const layers: ServiceLayer[] = [
    iam,
    new StsLayer({ forwarder, trust, credentials }),
    new SecretsManagerLayer(forwarder, () => faults.plan.secretsmanager),
    cloudformation,
    ec2,
    autoscaling,
    new KmsLayer({ forwarder }),
  ];
  const accountOf = (accessKeyId: string): string | undefined =>
    credentials.accountOf(accessKeyId) ?? iam.keys.accountOf(accessKeyId);

  async function answerFromLayers(req: LayerRequest): Promise<LayerResponse | undefined> {
    for (const layer of layers) {
      const refused = layer.refuse ? await layer.refuse(req) : undefined;
      if (refused) return refused;
    }
    const layer = layers.find((l) => l.handles(req.info));
    return layer ? layer.handle(req) : undefined;
  }

  async function handleAwsRequest(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const started = Date.now();
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const aborted = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) aborted.abort();
    });

    let body: Buffer;
    try {
      body = await readBody(req, maxBodyBytes);
    } catch (err) {
      if (err instanceof BodyTooLarge) {
        res
          .writeHead(413, { 'content-type': 'application/json' })
          .end(JSON.stringify({ message: 'request body too large' }));
      } else {
        res.destroy();
      }
      return;
    }

    const info = parseRequestInfo(req.headers, body, url, accountOf);
    // every forward to moto (plain or from a layer) sends req.headers: name the key's account there
    pinMotoAccount(req.headers, info.accessKeyId ? accountOf(info.accessKeyId) : undefined);
    stats.request(info);
    res.on('close', stats.started(info));
    const done = (status: number, outcome: string): void =>
      log(
        `aws-proxy ${method} ${info.service}:${info.action} account=${info.account} status=${status} ${outcome} ${Date.now() - started}ms`,
      );

    const fault = faults.decide(info);
    if (fault.latencyMs > 0) {
      stats.injected('latency');
      try {
        await delay(fault.latencyMs, undefined, { signal: aborted.signal });
      } catch {
        return; // client went away while we were delaying
      }
    }
    if (fault.error) {
      stats.injected(fault.error === 'throttle' ? 'throttle' : 'serverError');
      const error = renderAwsError(info.service, fault.error, { protocol: info.protocol });
      sendError(res, error);
      return done(error.status, `injected-${fault.error}`);
    }

    let answer: LayerResponse | undefined;
    try {
      answer = await answerFromLayers({ info, method, url, headers: req.headers, body });
    } catch (err) {
      stats.upstreamError();
      log(`aws-proxy layer failed on ${info.service}:${info.action}: ${(err as Error).message}`);
      if (!res.headersSent && !res.destroyed) {
        res
          .writeHead(502, { 'content-type': 'application/json' })
          .end(JSON.stringify({ message: `upstream error: ${(err as Error).message}` }));
      }
      return done(502, 'upstream-error');
    }
    if (answer) {
      if (answer.forwarded) stats.forwarded();
      if (answer.denied) stats.accessDenied();
      if (!res.destroyed) {
        res.writeHead(answer.status, { ...answer.headers, 'content-length': answer.body.length });
        res.end(answer.body);
      }
      return done(answer.status, answer.outcome);
    }

    let upstreamRes: http.IncomingMessage;
    try {
      upstreamRes = await forwarder.forward(method, url, req.headers, body, aborted.signal);
    } catch (err) {
      if (aborted.signal.aborted) return;
      stats.upstreamError();
      if (!res.headersSent) {
        res
          .writeHead(502, { 'content-type': 'application/json' })
          .end(JSON.stringify({ message: `upstream error: ${(err as Error).message}` }));
      }
      return done(502, 'upstream-error');
    }
    stats.forwarded();
    const status = upstreamRes.statusCode ?? 502;
    const headers = endToEndHeaders(upstreamRes.headers);

    res.writeHead(status, headers);
    upstreamRes.pipe(res);
    upstreamRes.on('error', () => res.destroy());
    done(status, 'forwarded');
  }

  const server = http.createServer((req, res) => {
    advertiseKeepAlive(res);
    const handler = isAdminPath(req.url)
      ? handleAdminRequest(req, res, {
          upstream: opts.upstream,
          trust,
          faults,
          stats,
          cloudformation,
          ec2,
          autoscaling,
          layers,
        })
      : handleAwsRequest(req, res);
    handler.catch((err: unknown) => {
      log(`aws-proxy internal error: ${(err as Error).message}`);
      if (!res.headersSent)
        res
          .writeHead(500, { 'content-type': 'application/json' })
          .end(JSON.stringify({ message: 'proxy internal error' }));
      else res.destroy();
    });
  });
  applyKeepAlive(server); // idle connections outlive what clients are told by a minute (core/http-keep-alive.ts)

  return {
    server,
    trust,
    faults,
    stats,
    credentials,
    cloudformation,
    iam,
    ec2,
    autoscaling,
    layers,
    listen(port: number, host = '127.0.0.1'): Promise<number> {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve((server.address() as AddressInfo).port);
        });
      });
    },
    close(): Promise<void> {
      for (const layer of layers) layer.close?.();
      return new Promise((resolve) => {
        if (!server.listening) {
          forwarder.close();
          return resolve();
        }
        server.close(() => {
          forwarder.close();
          resolve();
        });
        server.closeAllConnections();
      });
    },
  };
}
