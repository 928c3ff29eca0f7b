/**
 * The KMS layer's own calls to moto (AWS JSON 1.1, `TrentService.<Action>`), acting in a given account
 * through moto's `x-moto-account-id` header, and the layer's JSON answers.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { renderServiceError } from '../core/aws-errors';
import { MOTO_ACCOUNT_HEADER } from '../core/moto-account-header';
import { ownAnswer, type LayerResponse } from '../core/service-layer';
import type { BufferedResponse, UpstreamForwarder } from '../core/upstream-forwarder';

export type KmsResult<T> = { ok: true; value: T } | { ok: false; res: BufferedResponse };

export interface KmsGrant {
  GrantId: string;
  Name?: string;
  GranteePrincipal: string;
  Operations: string[];
}

/** moto's KMS as `account` in `region` (a fixed key: moto checks no signature, the header picks the account). */
export async function kmsAs<T>(
  forwarder: UpstreamForwarder,
  where: { account: string; region: string; now: number },
  action: string,
  params: Record<string, unknown>,
): Promise<KmsResult<T>> {
  const amzDate = new Date(where.now).toISOString().replace(/[-:]|\.\d{3}/g, '');
  const headers: IncomingHttpHeaders = {
    authorization:
      `AWS4-HMAC-SHA256 Credential=AKIAFLEETOPSPROXY000/${amzDate.slice(0, 8)}/${where.region}/kms/aws4_request, ` +
      `SignedHeaders=content-type;host;x-amz-date, Signature=${'0'.repeat(64)}`,
    'content-type': 'application/x-amz-json-1.1',
    'x-amz-date': amzDate,
    'x-amz-target': `TrentService.${action}`,
    [MOTO_ACCOUNT_HEADER]: where.account,
  };
  const res = await forwarder.request('POST', '/', headers, Buffer.from(JSON.stringify(params)));
  if (res.status < 200 || res.status >= 300) return { ok: false, res };
  return { ok: true, value: JSON.parse(res.body.toString('utf8') || '{}') as T };
}

/** Every grant on a key (moto answers them all in one page). */
export async function listGrants(
  forwarder: UpstreamForwarder,
  where: { account: string; region: string; now: number },
  keyId: string,
): Promise<KmsResult<KmsGrant[]>> {
  const out = await kmsAs<{ Grants?: KmsGrant[] }>(forwarder, where, 'ListGrants', { KeyId: keyId });
  return out.ok ? { ok: true, value: out.value.Grants ?? [] } : out;
}

export function kmsJson(value: unknown, outcome: string): LayerResponse {
  return ownAnswer(
    {
      status: 200,
      headers: { 'content-type': 'application/x-amz-json-1.1' },
      body: Buffer.from(JSON.stringify(value)),
    },
    outcome,
  );
}

export function kmsError(code: string, message: string, status = 400): LayerResponse {
  return ownAnswer(
    renderServiceError('kms', { status, code, message, type: 'Sender' }, { protocol: 'json' }),
    `refused(${code})`,
    code === 'AccessDeniedException',
  );
}
