/**
 * Query-protocol calls of the proxy's own to moto (IAM, STS), acting in a given account: either as
 * an access key (moto maps the key to its account) or with moto's `x-moto-account-id` header.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { BufferedResponse, UpstreamForwarder } from './upstream-forwarder';

const VERSIONS: Record<string, string> = { iam: '2010-05-08', sts: '2011-06-15' };

export type MotoCaller = { accessKeyId: string } | { account: string };

export function motoQueryCall(
  forwarder: UpstreamForwarder,
  caller: MotoCaller,
  service: 'iam' | 'sts',
  params: Record<string, string>,
  now = Date.now(),
): Promise<BufferedResponse> {
  const amzDate = new Date(now).toISOString().replace(/[-:]|\.\d{3}/g, '');
  const accessKeyId = 'accessKeyId' in caller ? caller.accessKeyId : 'AKIAFLEETOPSPROXY000';
  const headers: IncomingHttpHeaders = {
    authorization:
      `AWS4-HMAC-SHA256 Credential=${accessKeyId}/${amzDate.slice(0, 8)}/us-east-1/${service}/aws4_request, ` +
      `SignedHeaders=content-type;host;x-amz-date, Signature=${'0'.repeat(64)}`,
    'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
    'x-amz-date': amzDate,
  };
  if ('account' in caller) headers['x-moto-account-id'] = caller.account;
  const body = Buffer.from(new URLSearchParams({ Version: VERSIONS[service], ...params }).toString());
  return forwarder.request('POST', '/', headers, body);
}

/** The text of the first `<tag>` in `xml` (XML entities decoded), if any. */
export function xmlTag(xml: string, tag: string): string | undefined {
  const found = new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`).exec(xml)?.[1];
  return found === undefined ? undefined : decodeXml(found.trim());
}

export function decodeXml(text: string): string {
  return text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&#(\d+);/g, (_, n: string) => String.fromCodePoint(Number(n)))
    .replace(/&#x([0-9a-f]+);/gi, (_, n: string) => String.fromCodePoint(parseInt(n, 16)))
    .replace(/&amp;/g, '&');
}
