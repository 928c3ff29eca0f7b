/**
 * The simulator's Secrets Manager calls, one account and region at a time, through the AWS SDK (its
 * own retries cover throttling and 5xx). Errors carry AWS's error type and message, never a request
 * body; values passed as `sensitive` are cut out of any message.
 */
import {
  type CreateSecretCommandInput,
  type GetSecretValueCommandInput,
  type PutSecretValueCommandInput,
  CreateSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
  SecretsManagerServiceException,
} from '@aws-sdk/client-secrets-manager';

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

/** One call; resolves to the response's fields (read them with typeof checks). */
export type SecretsManagerCall = <A extends SimSecretsAction>(
  action: A,
  input: SimSecretsInputs[A],
  sensitive?: readonly string[],
) => Promise<Record<string, unknown>>;

/** The actions the simulator uses, with their inputs. */
export type SimSecretsInputs = {
  CreateSecret: CreateSecretCommandInput;
  GetSecretValue: GetSecretValueCommandInput;
  PutSecretValue: PutSecretValueCommandInput;
};
export type SimSecretsAction = keyof SimSecretsInputs;

function send<A extends SimSecretsAction>(client: SecretsManagerClient, action: A, input: SimSecretsInputs[A]) {
  switch (action) {
    case 'CreateSecret':
      return client.send(new CreateSecretCommand(input as SimSecretsInputs['CreateSecret']));
    case 'GetSecretValue':
      return client.send(new GetSecretValueCommand(input as SimSecretsInputs['GetSecretValue']));
    default:
      return client.send(new PutSecretValueCommand(input as SimSecretsInputs['PutSecretValue']));
  }
}

/** A Secrets Manager client for one account and region at `endpoint` (moto, the proxy, or AWS). */
export function secretsManager(
  endpoint: string,
  region: string,
  credentials: AwsCredentials,
  opts: { maxAttempts?: number } = {},
): SecretsManagerCall {
  const client = new SecretsManagerClient({ endpoint, region, credentials, maxAttempts: opts.maxAttempts ?? 5 });
  return async (action, input, sensitive = []) => {
    const scrub = (text: string) => sensitive.reduce((t, s) => (s ? t.split(s).join('[redacted]') : t), text);
    try {
      const { $metadata: _, ...fields } = await send(client, action, input);
      return fields;
    } catch (err) {
      const type = err instanceof SecretsManagerServiceException ? err.name : 'NetworkError';
      const status = err instanceof SecretsManagerServiceException ? (err.$metadata.httpStatusCode ?? 0) : 0;
      const message = String((err as Error).message ?? '').slice(0, 300);
      throw new SecretsManagerError(type, status, scrub(`secretsmanager:${action} ${type}: ${message}`));
    }
  };
}
