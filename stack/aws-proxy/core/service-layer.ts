/**
 * What one emulated service adds to the proxy (one folder per service, registered in server.ts):
 *  - `refuse`: an optional check run on every request before any layer answers (e.g. the IAM layer
 *    refuses requests signed with an inactive access key);
 *  - `handles` / `handle`: the calls the layer answers itself (forwarding to moto as it needs);
 *  - `snapshot` / `reset`: its admin view at `GET|DELETE /__fleetops/<name>`.
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import type { RequestInfo } from './request-info';
import type { BufferedResponse, UpstreamForwarder } from './upstream-forwarder';

/** One client request, read in full. */
export interface LayerRequest {
  info: RequestInfo;
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface LayerResponse {
  status: number;
  headers: OutgoingHttpHeaders;
  body: Buffer;
  /** For the proxy's log line, e.g. `forwarded`, `simulated-rolled-back`, `replayed-token`. */
  outcome: string;
  /** Whether this request itself was forwarded to moto (for the proxy stats). */
  forwarded: boolean;
  /** An authorization refusal (counted as `accessDenied` in the stats). */
  denied?: boolean;
}

export interface ServiceLayer {
  /** Admin route name (`/__fleetops/<name>`) and log prefix. */
  readonly name: string;
  refuse?(req: LayerRequest): Promise<LayerResponse | undefined>;
  handles(info: RequestInfo): boolean;
  handle(req: LayerRequest): Promise<LayerResponse>;
  snapshot?(): unknown;
  reset?(): void;
  close?(): void;
}

export function isOk(res: { status: number }): boolean {
  return res.status >= 200 && res.status < 300;
}

/** moto's answer, with `body` replaced when given. */
export function passThrough(res: BufferedResponse, outcome = 'forwarded', body?: Buffer): LayerResponse {
  return { status: res.status, headers: res.headers, body: body ?? res.body, outcome, forwarded: true };
}

/** An answer of the proxy's own (nothing was forwarded). */
export function ownAnswer(
  res: { status: number; headers: Record<string, string>; body: Buffer },
  outcome: string,
  denied = false,
): LayerResponse {
  return { status: res.status, headers: res.headers, body: res.body, outcome, forwarded: false, denied };
}

/** Forwards the client's request (optionally with another body; moto does not check signatures). */
export function forwardRequest(
  forwarder: UpstreamForwarder,
  req: LayerRequest,
  body: Buffer = req.body,
): Promise<BufferedResponse> {
  const headers: IncomingHttpHeaders = { ...req.headers };
  delete headers['accept-encoding'];
  return forwarder.request(req.method, req.url, headers, body);
}
