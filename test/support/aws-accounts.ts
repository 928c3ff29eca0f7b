/** Credentials acting in a given account, through AssumeRole at an endpoint (moto or the proxy), for the proxy tests. */
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';

export type Credentials = { accessKeyId: string; secretAccessKey: string; sessionToken?: string };

export const BASE_CREDENTIALS: Credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };

export async function credentialsIn(endpoint: string, account: string, region: string): Promise<Credentials> {
  const sts = new STSClient({ endpoint, region, credentials: BASE_CREDENTIALS, maxAttempts: 1 });
  const out = await sts.send(
    new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${account}:role/bootstrap`, RoleSessionName: 'aws-proxy-test' }),
  );
  const c = out.Credentials!;
  return { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken };
}

/** The error a call failed with (the test fails when it succeeds). */
export async function caught(promise: Promise<unknown>): Promise<Error & { $metadata?: { httpStatusCode?: number } }> {
  try {
    await promise;
  } catch (err) {
    return err as Error & { $metadata?: { httpStatusCode?: number } };
  }
  throw new Error('expected the call to fail');
}
