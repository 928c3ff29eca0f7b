/**
 * Secrets Manager over its wire protocol (AWS JSON 1.1) with fetch: @aws-sdk/client-secrets-manager
 * is not a dependency. moto and the proxy read the account from the SigV4 credential scope and do not
 * check signatures, so the Authorization header carries the access key and a dummy signature.
 */
export interface SecretsManagerAnswer<T = Record<string, unknown>> {
  status: number;
  /** `__type` of an error answer (e.g. `ResourceExistsException`), undefined on success. */
  errorType?: string;
  message?: string;
  json: T;
}

export type SecretsManagerCall = <T = Record<string, unknown>>(
  action: string,
  params: Record<string, unknown>,
) => Promise<SecretsManagerAnswer<T>>;

export function secretsManagerClient(
  endpoint: string,
  opts: { accessKeyId?: string; region?: string; sessionToken?: string } = {},
): SecretsManagerCall {
  const accessKeyId = opts.accessKeyId ?? 'testing';
  const region = opts.region ?? 'eu-west-1';
  return async <T>(action: string, params: Record<string, unknown>): Promise<SecretsManagerAnswer<T>> => {
    const amzDate = new Date().toISOString().replace(/[-:]|\.\d{3}/g, '');
    const headers: Record<string, string> = {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': `secretsmanager.${action}`,
      'x-amz-date': amzDate,
      authorization:
        `AWS4-HMAC-SHA256 Credential=${accessKeyId}/${amzDate.slice(0, 8)}/${region}/secretsmanager/aws4_request, ` +
        `SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=${'0'.repeat(64)}`,
    };
    if (opts.sessionToken) headers['x-amz-security-token'] = opts.sessionToken;
    const res = await fetch(`${endpoint}/`, { method: 'POST', headers, body: JSON.stringify(params) });
    const text = await res.text();
    let parsed: unknown = {};
    try {
      parsed = text ? JSON.parse(text) : {};
    } catch {
      parsed = { message: text.slice(0, 200) }; // e.g. moto's HTML "500 Internal Server Error"
    }
    const json = parsed as T & { __type?: string; message?: string; Message?: string };
    if (res.ok) return { status: res.status, json };
    const errorType = (json.__type ?? res.headers.get('x-amzn-errortype') ?? 'unknown').split(':')[0];
    return { status: res.status, errorType, message: json.message ?? json.Message, json };
  };
}
