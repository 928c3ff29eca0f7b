/**
 * A small Secrets Manager client for the simulator (the project has no @aws-sdk/client-secrets-manager):
 * AWS JSON 1.1 over fetch, signed with SigV4 (node:crypto), retried on throttling, 5xx and network
 * errors. Errors carry the error type and AWS's message, never a request body; values passed as
 * `sensitive` are cut out of any message.
 */
import { createHash, createHmac } from 'node:crypto';

export type AwsCredentials = { accessKeyId: string; secretAccessKey: string; sessionToken?: string };

export class SecretsManagerError extends Error {
  override readonly name = 'SecretsManagerError';
  constructor(
    /** AWS's error type, e.g. `ResourceExistsException`. */
    readonly type: string,
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** One call; resolves to the response's JSON fields (read them with typeof checks). */
export type SecretsManagerCall = (
  action: string,
  input: Record<string, unknown>,
  sensitive?: readonly string[],
) => Promise<Record<string, unknown>>;

const sha256Hex = (data: string) => createHash('sha256').update(data, 'utf8').digest('hex');
const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data, 'utf8').digest();

/**
 * SigV4 (`Authorization` and the headers it signs) for a POST to `/` of `url` with `headers`
 * (lower-case names) and `body`.
 */
export function signPost(
  url: URL,
  scope: { region: string; service: string },
  headers: Record<string, string>,
  body: string,
  credentials: AwsCredentials,
  now: Date,
): Record<string, string> {
  const amzDate = now.toISOString().replace(/[-:]|\.\d{3}/g, '');
  const day = amzDate.slice(0, 8);
  const signed: Record<string, string> = {
    ...headers,
    host: url.host,
    'x-amz-date': amzDate,
    ...(credentials.sessionToken ? { 'x-amz-security-token': credentials.sessionToken } : {}),
  };
  const names = Object.keys(signed).sort();
  const signedHeaders = names.join(';');
  const canonical = [
    'POST',
    '/',
    '',
    ...names.map((n) => `${n}:${signed[n].trim()}`),
    '',
    signedHeaders,
    sha256Hex(body),
  ];
  const credentialScope = `${day}/${scope.region}/${scope.service}/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, credentialScope, sha256Hex(canonical.join('\n'))].join('\n');
  const key = hmac(
    hmac(hmac(hmac(`AWS4${credentials.secretAccessKey}`, day), scope.region), scope.service),
    'aws4_request',
  );
  const signature = createHmac('sha256', key).update(toSign, 'utf8').digest('hex');
  const { host: _host, ...sent } = signed; // fetch sets Host itself
  return {
    ...sent,
    authorization: `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${credentialScope}, SignedHeaders=${signedHeaders}, Signature=${signature}`,
  };
}

const RETRYABLE = /^(ThrottlingException|Throttling|TooManyRequestsException|InternalServiceError|ServiceUnavailable)$/;

/** A Secrets Manager client for one account and region at `endpoint` (moto, the proxy, or AWS). */
export function secretsManager(
  endpoint: string,
  region: string,
  credentials: AwsCredentials,
  opts: { maxAttempts?: number } = {},
): SecretsManagerCall {
  const url = new URL('/', endpoint);
  return async (action, input, sensitive = []) => {
    const body = JSON.stringify(input);
    const scrub = (text: string) => sensitive.reduce((t, s) => (s ? t.split(s).join('[redacted]') : t), text);
    const maxAttempts = opts.maxAttempts ?? 5;
    for (let attempt = 1; ; attempt++) {
      let failure: SecretsManagerError;
      try {
        const headers = signPost(
          url,
          { region, service: 'secretsmanager' },
          { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `secretsmanager.${action}` },
          body,
          credentials,
          new Date(),
        );
        const res = await fetch(url, { method: 'POST', headers, body });
        const text = await res.text();
        const parsed: unknown = text ? JSON.parse(text) : {};
        const fields: Record<string, unknown> =
          typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? { ...parsed } : {};
        if (res.ok) return fields;
        const type = String(fields.__type ?? res.headers.get('x-amzn-errortype') ?? `HTTP${res.status}`).replace(
          /^.*#/,
          '',
        );
        const message = String(fields.message ?? fields.Message ?? '').slice(0, 300);
        failure = new SecretsManagerError(type, res.status, scrub(`secretsmanager:${action} ${type}: ${message}`));
        if (!(res.status >= 500 || RETRYABLE.test(type))) throw failure;
      } catch (err) {
        if (err instanceof SecretsManagerError && !(err.status >= 500 || RETRYABLE.test(err.type))) throw err;
        failure =
          err instanceof SecretsManagerError
            ? err
            : new SecretsManagerError('NetworkError', 0, scrub(`secretsmanager:${action}: ${(err as Error).message}`));
      }
      if (attempt >= maxAttempts) throw failure;
      await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** (attempt - 1) * (0.5 + Math.random())));
    }
  };
}
