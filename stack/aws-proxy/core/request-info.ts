/**
 * Identifies an incoming AWS API request: which service, region, action and account it is for.
 * Pure functions only; the proxy feeds them the raw headers, body and URL.
 */
import type { IncomingHttpHeaders } from 'node:http';

export const DEFAULT_ACCOUNT_ID = '123456789012';

/** How the service encodes requests and errors on the wire. */
export type AwsProtocol = 'query' | 'ec2' | 'json' | 'rpcv2-cbor' | 'rest-xml' | 'unknown';

export interface RequestInfo {
  /** SigV4 signing name, lower case (`sts`, `cloudformation`, `ec2`, `monitoring`, ...), or 'unknown'. */
  service: string;
  region: string | undefined;
  accessKeyId: string | undefined;
  /** API operation name (`AssumeRole`, `GetSecretValue`, ...), or 'unknown'. */
  action: string;
  protocol: AwsProtocol;
  /** Account the request acts in. */
  account: string;
  /** Request parameters of query-protocol calls (body form fields merged over the query string). Never log these. */
  params: URLSearchParams;
}

/** Looks up the account an access key id belongs to (learned from AssumeRole responses). */
export type AccountLookup = (accessKeyId: string) => string | undefined;

const CREDENTIAL_SCOPE = /Credential=([^/,\s]+)\/(\d{8})\/([^/,\s]+)\/([^/,\s]+)\/aws4_request/;
const RPC_V2_PATH = /\/service\/[^/]+\/operation\/([^/?]+)/;
const ROLE_ARN_ACCOUNT = /^arn:aws[\w-]*:iam::(\d{12}):role\//;

export interface CredentialScope {
  accessKeyId: string;
  region: string;
  service: string;
}

/** Reads the SigV4 credential scope from an `Authorization` header (or a presigned `X-Amz-Credential`). */
export function parseCredentialScope(
  authorization: string | undefined,
  query?: URLSearchParams,
): CredentialScope | undefined {
  const fromHeader = authorization ? CREDENTIAL_SCOPE.exec(authorization) : null;
  if (fromHeader) return { accessKeyId: fromHeader[1], region: fromHeader[3], service: fromHeader[4].toLowerCase() };
  const presigned = query?.get('X-Amz-Credential');
  if (presigned) {
    const [accessKeyId, , region, service] = presigned.split('/');
    if (accessKeyId && region && service) return { accessKeyId, region, service: service.toLowerCase() };
  }
  return undefined;
}

/** The account id in an IAM role ARN, e.g. `arn:aws:iam::111122223333:role/x` → `111122223333`. */
export function accountFromRoleArn(roleArn: string | null | undefined): string | undefined {
  return roleArn ? ROLE_ARN_ACCOUNT.exec(roleArn)?.[1] : undefined;
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function isFormEncoded(headers: IncomingHttpHeaders): boolean {
  return (headerValue(headers, 'content-type') ?? '').toLowerCase().startsWith('application/x-www-form-urlencoded');
}

function protocolFor(service: string, hasAction: boolean, headers: IncomingHttpHeaders, path: string): AwsProtocol {
  if (service === 'ec2') return 'ec2';
  if (headerValue(headers, 'smithy-protocol') === 'rpc-v2-cbor' || RPC_V2_PATH.test(path)) return 'rpcv2-cbor';
  if (headerValue(headers, 'x-amz-target')) return 'json';
  if (hasAction) return 'query';
  if (service === 's3') return 'rest-xml';
  return 'unknown';
}

/**
 * Identifies a request. `url` is the request target (path + query). `body` is the full request body.
 * `lookupAccount` maps an access key id to its account (keys from AssumeRole); unknown keys act in
 * {@link DEFAULT_ACCOUNT_ID}. For `sts:AssumeRole` the account is the one in the RoleArn.
 */
export function parseRequestInfo(
  headers: IncomingHttpHeaders,
  body: Buffer | string | undefined,
  url: string,
  lookupAccount?: AccountLookup,
): RequestInfo {
  const parsedUrl = new URL(url, 'http://proxy.invalid');
  const params = new URLSearchParams(parsedUrl.searchParams);
  if (body && body.length > 0 && isFormEncoded(headers)) {
    for (const [key, value] of new URLSearchParams(body.toString())) params.set(key, value);
  }
  const scope = parseCredentialScope(headerValue(headers, 'authorization'), parsedUrl.searchParams);
  const service = scope?.service ?? 'unknown';

  const target = headerValue(headers, 'x-amz-target');
  const rpcAction = RPC_V2_PATH.exec(parsedUrl.pathname)?.[1];
  const action =
    params.get('Action') ?? (target ? target.slice(target.lastIndexOf('.') + 1) : undefined) ?? rpcAction ?? 'unknown';

  const protocol = protocolFor(service, params.has('Action'), headers, parsedUrl.pathname);

  let account: string | undefined;
  if (service === 'sts' && action === 'AssumeRole') account = accountFromRoleArn(params.get('RoleArn'));
  if (!account && scope && lookupAccount) account = lookupAccount(scope.accessKeyId);

  return {
    service,
    region: scope?.region,
    accessKeyId: scope?.accessKeyId,
    action,
    protocol,
    account: account ?? DEFAULT_ACCOUNT_ID,
    params,
  };
}
