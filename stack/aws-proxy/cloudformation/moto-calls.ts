/**
 * The layer's two ways to reach moto: forwarding the client's own request (optionally with some
 * form fields replaced), and query-protocol calls of the proxy's own, signed as the account.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { BufferedResponse } from '../core/upstream-forwarder';
import type { CallContext, LayerState } from './layer-context';

/**
 * Forwards the client's request to moto, optionally with some form fields replaced (only for
 * form-encoded bodies; moto does not check signatures).
 */
export function forwardToMoto(ctx: CallContext, replace?: Record<string, string>): Promise<BufferedResponse> {
  const { req } = ctx;
  const headers: IncomingHttpHeaders = { ...req.headers };
  delete headers['accept-encoding'];
  let body = req.body;
  const contentType = String(headers['content-type'] ?? '').toLowerCase();
  if (replace && body.length > 0 && contentType.startsWith('application/x-www-form-urlencoded')) {
    const form = new URLSearchParams(body.toString('utf8'));
    for (const [name, value] of Object.entries(replace)) if (form.has(name)) form.set(name, value);
    body = Buffer.from(form.toString());
  }
  return ctx.layer.forwarder.request(req.method, req.url, headers, body);
}

/** Whose access key (and region) signs one of the proxy's own calls. */
export type MotoAuth = Pick<CallContext, 'region' | 'accessKeyId'>;

/** A query-protocol call of the proxy's own, signed (SigV4 header shape) with an access key of the account. */
export function motoQuery(
  layer: Pick<LayerState, 'forwarder' | 'now'>,
  auth: MotoAuth,
  service: 'cloudformation' | 'monitoring',
  params: Record<string, string>,
): Promise<BufferedResponse> {
  const amzDate = new Date(layer.now()).toISOString().replace(/[-:]|\.\d{3}/g, '');
  const version = service === 'cloudformation' ? '2010-05-15' : '2010-08-01';
  const body = Buffer.from(new URLSearchParams({ Version: version, ...params }).toString());
  const headers: IncomingHttpHeaders = {
    authorization:
      `AWS4-HMAC-SHA256 Credential=${auth.accessKeyId}/${amzDate.slice(0, 8)}/${auth.region}/${service}/aws4_request, ` +
      `SignedHeaders=content-type;host;x-amz-date, Signature=${'0'.repeat(64)}`,
    'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
    'x-amz-date': amzDate,
  };
  return layer.forwarder.request('POST', '/', headers, body);
}
