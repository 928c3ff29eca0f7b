/**
 * Renders error responses exactly as the real AWS services put them on the wire, per protocol,
 * so the AWS SDK parses them into the same error names (`Throttling`, `RequestLimitExceeded`, ...).
 */
import { randomUUID } from 'node:crypto';
import type { AwsProtocol } from './request-info';

export type AwsErrorKind = 'throttle' | 'internalFailure' | 'serviceUnavailable';

export interface AwsErrorResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** Services using the AWS query protocol (form-encoded `Action=` requests, `<ErrorResponse>` errors). */
export const QUERY_PROTOCOL_SERVICES = new Set([
  'sts',
  'cloudformation',
  'iam',
  'autoscaling',
  'monitoring',
  'sns',
  'elasticloadbalancing',
  'rds',
  'ses',
  'elasticache',
  'redshift',
  'sdb',
]);

const QUERY_NAMESPACES: Record<string, string> = {
  sts: 'https://sts.amazonaws.com/doc/2011-06-15/',
  cloudformation: 'http://cloudformation.amazonaws.com/doc/2010-05-15/',
  iam: 'https://iam.amazonaws.com/doc/2010-05-08/',
  autoscaling: 'http://autoscaling.amazonaws.com/doc/2011-01-01/',
  monitoring: 'http://monitoring.amazonaws.com/doc/2010-08-01/',
};

/** JSON/CBOR services that are "query compatible" and also report the query error code in a header. */
const QUERY_COMPATIBLE_SERVICES = new Set(['monitoring', 'sqs']);

/** The protocol a service answers in when nothing more specific is known about the request. */
export function defaultProtocolFor(service: string): AwsProtocol {
  if (service === 'ec2') return 'ec2';
  if (service === 's3') return 'rest-xml';
  if (QUERY_PROTOCOL_SERVICES.has(service)) return 'query';
  return 'json';
}

export interface ErrorSpec {
  status: number;
  code: string;
  message: string;
  type: 'Sender' | 'Receiver';
}

function specFor(protocol: AwsProtocol, kind: AwsErrorKind): ErrorSpec {
  if (protocol === 'ec2') {
    if (kind === 'throttle')
      return { status: 503, code: 'RequestLimitExceeded', message: 'Request limit exceeded.', type: 'Sender' };
    if (kind === 'internalFailure')
      return { status: 500, code: 'InternalError', message: 'An internal error has occurred', type: 'Receiver' };
    return {
      status: 503,
      code: 'Unavailable',
      message: "The server is overloaded and can't handle the request.",
      type: 'Receiver',
    };
  }
  if (protocol === 'rest-xml') {
    if (kind === 'throttle')
      return { status: 503, code: 'SlowDown', message: 'Please reduce your request rate.', type: 'Sender' };
    if (kind === 'internalFailure')
      return {
        status: 500,
        code: 'InternalError',
        message: 'We encountered an internal error. Please try again.',
        type: 'Receiver',
      };
    return {
      status: 503,
      code: 'ServiceUnavailable',
      message: 'Service is unable to handle request.',
      type: 'Receiver',
    };
  }
  const jsonLike = protocol === 'json' || protocol === 'rpcv2-cbor' || protocol === 'unknown';
  if (kind === 'throttle')
    return {
      status: 400,
      code: jsonLike ? 'ThrottlingException' : 'Throttling',
      message: 'Rate exceeded',
      type: 'Sender',
    };
  if (kind === 'internalFailure')
    return {
      status: 500,
      code: 'InternalFailure',
      message: 'The request processing has failed because of an unknown error, exception or failure.',
      type: 'Receiver',
    };
  return {
    status: 503,
    code: 'ServiceUnavailable',
    message: 'The request has failed due to a temporary failure of the server.',
    type: 'Receiver',
  };
}

/** Escapes text for an XML element or attribute (every AWS query-protocol answer). */
export function xmlEscape(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** A query-protocol `<ErrorResponse>` (STS, CloudFormation, IAM, Auto Scaling, CloudWatch, ...). */
export function renderQueryError(
  service: string,
  error: { status: number; type: 'Sender' | 'Receiver'; code: string; message: string },
  requestId: string = randomUUID(),
): AwsErrorResponse {
  const ns = QUERY_NAMESPACES[service] ?? `https://${service}.amazonaws.com/doc/`;
  const body =
    `<ErrorResponse xmlns="${ns}"><Error><Type>${error.type}</Type><Code>${xmlEscape(error.code)}</Code>` +
    `<Message>${xmlEscape(error.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`;
  return {
    status: error.status,
    headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId },
    body: Buffer.from(body),
  };
}

/** Minimal CBOR encoding of a map of short text strings (enough for an rpcv2-cbor error body). */
export function encodeCborStringMap(entries: Record<string, string>): Buffer {
  const head = (major: number, length: number): Buffer => {
    if (length < 24) return Buffer.from([(major << 5) | length]);
    if (length < 256) return Buffer.from([(major << 5) | 24, length]);
    const b = Buffer.alloc(3);
    b[0] = (major << 5) | 25;
    b.writeUInt16BE(length, 1);
    return b;
  };
  const text = (s: string): Buffer => {
    const bytes = Buffer.from(s, 'utf8');
    return Buffer.concat([head(3, bytes.length), bytes]);
  };
  const keys = Object.keys(entries);
  return Buffer.concat([head(5, keys.length), ...keys.flatMap((k) => [text(k), text(entries[k])])]);
}

/**
 * The error response `service` would send for `kind`. `protocol` defaults from the service
 * (pass the request's own protocol when known: JSON vs query vs CBOR).
 */
export function renderAwsError(
  service: string,
  kind: AwsErrorKind,
  opts: { protocol?: AwsProtocol; requestId?: string } = {},
): AwsErrorResponse {
  const protocol = opts.protocol && opts.protocol !== 'unknown' ? opts.protocol : defaultProtocolFor(service);
  const spec = specFor(protocol, kind);
  const queryCode = kind === 'throttle' ? 'Throttling' : spec.code;
  return renderServiceError(service, spec, { protocol, requestId: opts.requestId, queryCode });
}

/**
 * An error answer with a given code and message in `service`'s wire format (`protocol` defaults from
 * the service), e.g. Secrets Manager's `ResourceExistsException` or STS's `InvalidClientTokenId`.
 * `queryCode` is the code query-compatible JSON services also report in `x-amzn-query-error`.
 */
export function renderServiceError(
  service: string,
  spec: ErrorSpec,
  opts: { protocol?: AwsProtocol; requestId?: string; queryCode?: string } = {},
): AwsErrorResponse {
  const protocol = opts.protocol && opts.protocol !== 'unknown' ? opts.protocol : defaultProtocolFor(service);
  const requestId = opts.requestId ?? randomUUID();

  switch (protocol) {
    case 'query':
      return renderQueryError(service, spec, requestId);
    case 'ec2': {
      const body =
        `<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>${spec.code}</Code>` +
        `<Message>${xmlEscape(spec.message)}</Message></Error></Errors><RequestID>${requestId}</RequestID></Response>`;
      return {
        status: spec.status,
        headers: { 'content-type': 'text/xml;charset=UTF-8', 'x-amzn-requestid': requestId },
        body: Buffer.from(body),
      };
    }
    case 'rest-xml': {
      const body =
        `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${spec.code}</Code><Message>${xmlEscape(spec.message)}</Message>` +
        `<RequestId>${requestId}</RequestId></Error>`;
      return {
        status: spec.status,
        headers: { 'content-type': 'application/xml', 'x-amz-request-id': requestId },
        body: Buffer.from(body),
      };
    }
    default: {
      const headers: Record<string, string> = { 'x-amzn-requestid': requestId, 'x-amzn-errortype': spec.code };
      if (QUERY_COMPATIBLE_SERVICES.has(service)) {
        headers['x-amzn-query-error'] = `${opts.queryCode ?? spec.code};${spec.type}`;
      }
      if (protocol === 'rpcv2-cbor') {
        headers['content-type'] = 'application/cbor';
        headers['smithy-protocol'] = 'rpc-v2-cbor';
        return {
          status: spec.status,
          headers,
          body: encodeCborStringMap({ __type: spec.code, message: spec.message }),
        };
      }
      headers['content-type'] = 'application/x-amz-json-1.1';
      return {
        status: spec.status,
        headers,
        body: Buffer.from(JSON.stringify({ __type: spec.code, message: spec.message })),
      };
    }
  }
}
