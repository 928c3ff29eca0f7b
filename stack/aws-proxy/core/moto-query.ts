/**
 * Query-protocol calls of the proxy's own to moto (IAM, STS, EC2, Auto Scaling, CloudWatch), acting
 * in a given account: either as an access key (moto maps the key to its account) or with moto's
 * `x-moto-account-id` header; in `region` (default us-east-1).
 */
import type { IncomingHttpHeaders } from 'node:http';
import { MOTO_ACCOUNT_HEADER } from './moto-account-header';
import type { BufferedResponse, UpstreamForwarder } from './upstream-forwarder';

const VERSIONS = {
  iam: '2010-05-08',
  sts: '2011-06-15',
  ec2: '2016-11-15',
  autoscaling: '2011-01-01',
  monitoring: '2010-08-01',
} as const;
export type MotoQueryService = keyof typeof VERSIONS;

export type MotoCaller = { accessKeyId: string } | { account: string };

export function motoQueryCall(
  forwarder: UpstreamForwarder,
  caller: MotoCaller,
  service: MotoQueryService,
  params: Record<string, string>,
  now = Date.now(),
  region = 'us-east-1',
): Promise<BufferedResponse> {
  const amzDate = new Date(now).toISOString().replace(/[-:]|\.\d{3}/g, '');
  const accessKeyId = 'accessKeyId' in caller ? caller.accessKeyId : 'AKIAFLEETOPSPROXY000';
  const headers: IncomingHttpHeaders = {
    authorization:
      `AWS4-HMAC-SHA256 Credential=${accessKeyId}/${amzDate.slice(0, 8)}/${region}/${service}/aws4_request, ` +
      `SignedHeaders=content-type;host;x-amz-date, Signature=${'0'.repeat(64)}`,
    'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
    'x-amz-date': amzDate,
  };
  if ('account' in caller) headers[MOTO_ACCOUNT_HEADER] = caller.account;
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
