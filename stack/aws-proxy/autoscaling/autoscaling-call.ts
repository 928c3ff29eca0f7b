/**
 * One Auto Scaling request as the layer's handlers see it: account, region, the form parameters as
 * a nested object (for zod), and the ways to answer — forward it, call moto as the account (Auto
 * Scaling, EC2, CloudWatch), answer with a query-protocol result or AWS's error.
 */
import { randomUUID } from 'node:crypto';
import { renderQueryError } from '../core/aws-errors';
import { motoQueryCall, type MotoQueryService } from '../core/moto-query';
import { forwardRequest, ownAnswer, type LayerRequest, type LayerResponse } from '../core/service-layer';
import type { BufferedResponse, UpstreamForwarder } from '../core/upstream-forwarder';
import { leaf, node, renderXmlDocument, type XmlElement } from '../ec2/ec2-xml';

const DEFAULT_REGION = 'us-east-1';
export const AUTOSCALING_NS = 'http://autoscaling.amazonaws.com/doc/2011-01-01/';

/** Everything a handler needs besides the request: moto access and the clock. */
export interface MotoAccess {
  forwarder: UpstreamForwarder;
  now: () => number;
}

/** A moto call of the proxy's own, acting in `account` and `region`. */
export function motoIn(
  moto: MotoAccess,
  where: { account: string; region: string },
  service: MotoQueryService,
  params: Record<string, string>,
): Promise<BufferedResponse> {
  return motoQueryCall(moto.forwarder, { account: where.account }, service, params, moto.now(), where.region);
}

/**
 * Query form fields as a nested object: `A.B=1` → `{ A: { B: '1' } }`, `A.member.2=x` → `{ A: [, 'x'] }`
 * (list members in index order, holes dropped). `Action` and `Version` are left out.
 */
export function formToObject(params: URLSearchParams): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const [name, value] of params) {
    if (name === 'Action' || name === 'Version') continue;
    const parts = name.split('.');
    let at: Record<string, unknown> = root;
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i];
      const last = i === parts.length - 1;
      if (part === 'member' && i + 1 < parts.length) continue;
      const key = parts[i - 1] === 'member' ? `#${part}` : part;
      if (last) at[key] = value;
      else at = (at[key] ??= {}) as Record<string, unknown>;
    }
  }
  const lists = (v: unknown): unknown => {
    if (typeof v !== 'object' || v === null) return v;
    const entries = Object.entries(v as Record<string, unknown>);
    if (entries.length > 0 && entries.every(([k]) => /^#\d+$/.test(k)))
      return entries.sort((a, b) => Number(a[0].slice(1)) - Number(b[0].slice(1))).map(([, x]) => lists(x));
    return Object.fromEntries(entries.map(([k, x]) => [k, lists(x)]));
  };
  return lists(root) as Record<string, unknown>;
}

export class AutoScalingCall {
  readonly account: string;
  readonly region: string;
  readonly params: URLSearchParams;

  constructor(
    readonly moto: MotoAccess,
    readonly req: LayerRequest,
  ) {
    this.account = req.info.account;
    this.region = req.info.region ?? DEFAULT_REGION;
    this.params = req.info.params;
  }

  forward(): Promise<BufferedResponse> {
    return forwardRequest(this.moto.forwarder, this.req);
  }

  motoAs(service: MotoQueryService, params: Record<string, string>): Promise<BufferedResponse> {
    return motoIn(this.moto, this, service, params);
  }

  /** `<{action}Response><{action}Result>…</…><ResponseMetadata>…` */
  result(action: string, children: XmlElement[], outcome: string): LayerResponse {
    const requestId = randomUUID();
    const root = node(`${action}Response`, [
      node(`${action}Result`, children),
      node('ResponseMetadata', [leaf('RequestId', requestId)]),
    ]);
    root.attrs = ` xmlns="${AUTOSCALING_NS}"`;
    return ownAnswer(
      {
        status: 200,
        headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId },
        body: Buffer.from(renderXmlDocument(root)),
      },
      outcome,
    );
  }

  error(code: string, message: string, status = 400): LayerResponse {
    return ownAnswer(renderQueryError('autoscaling', { status, type: 'Sender', code, message }), `refused(${code})`);
  }
}
