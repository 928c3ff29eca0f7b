/**
 * Forwards a request (method, path, query, headers, buffered body) to moto over a keep-alive agent.
 * moto's server (werkzeug 3.1) answers every request with `Connection: close`, so no upstream socket
 * is reused and the idle-socket race of http-keep-alive.ts cannot happen on this side; the agent
 * caps concurrent connections to moto (256).
 */
import * as http from 'node:http';
import * as https from 'node:https';
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'expect',
]);

/** Copies headers, dropping hop-by-hop ones (the proxy owns its two connections). */
export function endToEndHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name.toLowerCase())) out[name] = value;
  }
  return out;
}

/** An upstream answer read in full. */
export interface BufferedResponse {
  status: number;
  /** End-to-end headers only (content-length is the caller's to set). */
  headers: OutgoingHttpHeaders;
  body: Buffer;
}

export class UpstreamForwarder {
  private readonly base: URL;
  private readonly agent: http.Agent;
  private readonly transport: typeof http | typeof https;

  constructor(upstream: string) {
    this.base = new URL(upstream);
    this.transport = this.base.protocol === 'https:' ? https : http;
    this.agent = new this.transport.Agent({ keepAlive: true, maxSockets: 256, keepAliveMsecs: 10_000 });
  }

  /** Sends the request upstream; resolves with the (unread) upstream response. */
  forward(
    method: string,
    url: string,
    headers: IncomingHttpHeaders,
    body: Buffer,
    signal?: AbortSignal,
  ): Promise<http.IncomingMessage> {
    const outgoing = endToEndHeaders(headers);
    outgoing['content-length'] = String(body.length);
    if (body.length === 0 && (method === 'GET' || method === 'HEAD')) delete outgoing['content-length'];
    const basePath = this.base.pathname.replace(/\/$/, '');
    return new Promise((resolve, reject) => {
      const upstreamReq = this.transport.request(
        {
          protocol: this.base.protocol,
          hostname: this.base.hostname,
          port: this.base.port,
          method,
          path: basePath + url,
          headers: outgoing,
          agent: this.agent,
          signal,
        },
        resolve,
      );
      upstreamReq.on('error', reject);
      upstreamReq.end(body);
    });
  }

  /** Like {@link forward}, but reads the whole answer (for the proxy's own calls and rewritten answers). */
  async request(
    method: string,
    url: string,
    headers: IncomingHttpHeaders,
    body: Buffer,
    signal?: AbortSignal,
  ): Promise<BufferedResponse> {
    const res = await this.forward(method, url, headers, body, signal);
    const chunks: Buffer[] = [];
    for await (const chunk of res as AsyncIterable<Buffer>) chunks.push(chunk);
    const out = endToEndHeaders(res.headers);
    delete out['content-length'];
    return { status: res.statusCode ?? 502, headers: out, body: Buffer.concat(chunks) };
  }

  close(): void {
    this.agent.destroy();
  }
}
