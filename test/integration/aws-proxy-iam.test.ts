/**
 * The proxy's IAM and STS layers against a real moto_server, driven by the AWS SDK v3: access-key
 * status (inactive, deleted, not yet valid under `iam.newKeyDelayMs`) and ExternalId enforced from
 * the role's actual trust policy. Each gap is first shown on moto itself, then through the proxy.
 * Run: npx vitest run test/integration/aws-proxy-iam.test.ts
 */
import { describe, it, expect, beforeAll, afterAll, beforeEach } from 'vitest';
import { STSClient, AssumeRoleCommand, GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import {
  IAMClient,
  CreateAccessKeyCommand,
  CreateRoleCommand,
  CreateUserCommand,
  DeleteAccessKeyCommand,
  UpdateAccessKeyCommand,
  UpdateAssumeRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { startMotoServer } from '../support/moto-server';
import { proxyAdmin } from '../support/proxy-admin';
import { secretsManagerClient } from '../support/secretsmanager-json';
import { createAwsProxy, type AwsProxy } from '../../stack/aws-proxy/server';
import { trustPolicyAllows } from '../../stack/aws-proxy/sts/trust-policy';

const REGION = 'eu-west-1';
const BASE = { accessKeyId: 'testing', secretAccessKey: 'testing' };
const ACCOUNT = '310000000001';
const OTHER_ACCOUNT = '310000000002';

type Credentials = { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
type SdkError = Error & { $metadata: { httpStatusCode?: number } };

let moto: Awaited<ReturnType<typeof startMotoServer>> | undefined;
let motoUrl = '';
let proxy: AwsProxy;
let proxyUrl = '';

const sts = (endpoint: string, credentials: Credentials = BASE) =>
  new STSClient({ endpoint, region: REGION, credentials, maxAttempts: 1 });
const iam = (endpoint: string, credentials: Credentials) =>
  new IAMClient({ endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
const admin = <T = { message?: string }>(method: string, route: string, body?: unknown) =>
  proxyAdmin<T>(proxyUrl, method, route, body);

async function caught(promise: Promise<unknown>): Promise<SdkError> {
  try {
    await promise;
  } catch (err) {
    return err as SdkError;
  }
  throw new Error('expected the call to fail');
}

/** Credentials acting in `account` (a role moto and the trust table do not know: open). */
async function actIn(endpoint: string, account: string, externalId?: string, role = 'bootstrap'): Promise<Credentials> {
  const out = await sts(endpoint).send(
    new AssumeRoleCommand({
      RoleArn: `arn:aws:iam::${account}:role/${role}`,
      RoleSessionName: 'aws-proxy-iam-test',
      ExternalId: externalId,
    }),
  );
  const c = out.Credentials!;
  return { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken };
}

async function newUserKey(endpoint: string, admin: Credentials, userName: string): Promise<Credentials> {
  const client = iam(endpoint, admin);
  await client.send(new CreateUserCommand({ UserName: userName }));
  const key = (await client.send(new CreateAccessKeyCommand({ UserName: userName }))).AccessKey!;
  return { accessKeyId: key.AccessKeyId!, secretAccessKey: key.SecretAccessKey! };
}

const whoAmI = (endpoint: string, credentials: Credentials) =>
  sts(endpoint, credentials).send(new GetCallerIdentityCommand({}));

beforeAll(async () => {
  moto = await startMotoServer();
  motoUrl = moto.url;
  proxy = createAwsProxy({ upstream: motoUrl });
  proxyUrl = `http://127.0.0.1:${await proxy.listen(0)}`;
}, 60_000);

afterAll(async () => {
  await proxy?.close();
  await moto?.stop();
});

beforeEach(async () => {
  await admin('DELETE', 'faults');
});

describe('inactive and deleted access keys', () => {
  it('moto accepts a request signed with an Inactive key; the proxy refuses it with InvalidClientTokenId 403', async () => {
    const rawAdmin = await actIn(motoUrl, ACCOUNT);
    const rawKey = await newUserKey(motoUrl, rawAdmin, 'loader-raw');
    await iam(motoUrl, rawAdmin).send(
      new UpdateAccessKeyCommand({ UserName: 'loader-raw', AccessKeyId: rawKey.accessKeyId, Status: 'Inactive' }),
    );
    expect((await whoAmI(motoUrl, rawKey)).Account).toBe(ACCOUNT); // the gap

    const proxyAdminCreds = await actIn(proxyUrl, ACCOUNT);
    const key = await newUserKey(proxyUrl, proxyAdminCreds, 'loader');
    expect((await whoAmI(proxyUrl, key)).Arn).toBe(`arn:aws:iam::${ACCOUNT}:user/loader`);
    await iam(proxyUrl, proxyAdminCreds).send(
      new UpdateAccessKeyCommand({ UserName: 'loader', AccessKeyId: key.accessKeyId, Status: 'Inactive' }),
    );
    const refused = await caught(whoAmI(proxyUrl, key));
    expect(refused.name).toBe('InvalidClientTokenId');
    expect(refused.$metadata.httpStatusCode).toBe(403);
    expect(refused.message).toBe('The security token included in the request is invalid.');

    // JSON services answer UnrecognizedClientException.
    const secrets = secretsManagerClient(proxyUrl, { accessKeyId: key.accessKeyId, region: REGION });
    expect(await secrets('ListSecrets', {})).toMatchObject({ status: 400, errorType: 'UnrecognizedClientException' });

    await iam(proxyUrl, proxyAdminCreds).send(
      new UpdateAccessKeyCommand({ UserName: 'loader', AccessKeyId: key.accessKeyId, Status: 'Active' }),
    );
    expect((await whoAmI(proxyUrl, key)).Account).toBe(ACCOUNT);
  });

  it('refuses a key deactivated straight in moto (asks moto about keys it has not seen)', async () => {
    const rawAdmin = await actIn(motoUrl, ACCOUNT);
    const key = await newUserKey(motoUrl, rawAdmin, 'loader-direct');
    await iam(motoUrl, rawAdmin).send(
      new UpdateAccessKeyCommand({ UserName: 'loader-direct', AccessKeyId: key.accessKeyId, Status: 'Inactive' }),
    );
    expect((await caught(whoAmI(proxyUrl, key))).name).toBe('InvalidClientTokenId');
    const view = await admin<{ keys: Array<{ accessKeyId: string; status: string; account: string }> }>('GET', 'iam');
    expect(view.json.keys.find((k) => k.accessKeyId === key.accessKeyId)).toMatchObject({
      status: 'Inactive',
      account: ACCOUNT,
    });
    expect(view.text).not.toContain(key.secretAccessKey);
  });

  it('refuses a deleted key', async () => {
    const adminCreds = await actIn(proxyUrl, ACCOUNT);
    const key = await newUserKey(proxyUrl, adminCreds, 'loader-deleted');
    await iam(proxyUrl, adminCreds).send(
      new DeleteAccessKeyCommand({ UserName: 'loader-deleted', AccessKeyId: key.accessKeyId }),
    );
    expect((await caught(whoAmI(proxyUrl, key))).name).toBe('InvalidClientTokenId');
  });
});

describe('iam.newKeyDelayMs', () => {
  it('moto accepts a new key at once; under the plan the proxy refuses it until the delay has passed', async () => {
    const rawAdmin = await actIn(motoUrl, ACCOUNT);
    const rawKey = await newUserKey(motoUrl, rawAdmin, 'fresh-raw');
    expect((await whoAmI(motoUrl, rawKey)).Account).toBe(ACCOUNT); // AWS: seconds later

    const put = await admin('PUT', 'faults', { iam: { newKeyDelayMs: 1500, accounts: [ACCOUNT] } });
    expect(put.status, put.text).toBe(200);
    const adminCreds = await actIn(proxyUrl, ACCOUNT);
    const key = await newUserKey(proxyUrl, adminCreds, 'fresh');
    const early = await caught(whoAmI(proxyUrl, key));
    expect(early.name).toBe('InvalidClientTokenId');

    const otherAdmin = await actIn(proxyUrl, OTHER_ACCOUNT);
    const otherKey = await newUserKey(proxyUrl, otherAdmin, 'fresh-elsewhere');
    expect((await whoAmI(proxyUrl, otherKey)).Account).toBe(OTHER_ACCOUNT); // not in the plan's accounts

    await new Promise((r) => setTimeout(r, 1600));
    expect((await whoAmI(proxyUrl, key)).Account).toBe(ACCOUNT);
  });

  it('rejects a bad iam section with a message naming the field', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ iam: { newKeyDelayMs: -1 } }, /iam\.newKeyDelayMs/],
      [{ iam: { newKeyDelayMs: 1.5 } }, /iam\.newKeyDelayMs/],
      [{ iam: { trustPolicyUpdatesIgnoredFor: [] } }, /iam\.trustPolicyUpdatesIgnoredFor/],
      [{ iam: { trustPolicyUpdatesIgnoredFor: ['123'] } }, /iam\.trustPolicyUpdatesIgnoredFor\[0\]|12-digit/],
      [{ iam: { newKeyDelayMs: 10, accounts: ['12'] } }, /iam\.accounts\[0\]|12-digit/],
      [{ iam: { newKeyDelayMs: 10, failTest: true } }, /failTest/],
    ];
    for (const [plan, message] of cases) {
      const res = await admin('PUT', 'faults', plan);
      expect(res.status, JSON.stringify(plan)).toBe(400);
      expect(res.json.message).toMatch(/^invalid fault plan:/);
      expect(res.json.message).toMatch(message);
    }
    expect((await admin<{ iam?: unknown }>('GET', 'faults')).json.iam).toBeUndefined();
  });
});

describe('ExternalId from the role trust policy', () => {
  const trustPolicy = (...externalIds: string[]) =>
    JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { AWS: 'arn:aws:iam::123456789012:root' },
          Action: 'sts:AssumeRole',
          Condition: { StringEquals: { 'sts:ExternalId': externalIds.length === 1 ? externalIds[0] : externalIds } },
        },
      ],
    });
  const ROLE = 'fleetops-execution';
  const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/${ROLE}`;

  it('moto ignores the ExternalId condition', async () => {
    const rawAdmin = await actIn(motoUrl, OTHER_ACCOUNT);
    await iam(motoUrl, rawAdmin).send(
      new CreateRoleCommand({ RoleName: 'guarded-raw', AssumeRolePolicyDocument: trustPolicy('ext-old-000') }),
    );
    const creds = await actIn(motoUrl, OTHER_ACCOUNT, 'ext-wrong-000', 'guarded-raw');
    expect((await whoAmI(motoUrl, creds)).Account).toBe(OTHER_ACCOUNT); // the gap
  });

  it('follows UpdateAssumeRolePolicy: old and new accepted while both are listed, the old one locked out once removed', async () => {
    const adminCreds = await actIn(proxyUrl, ACCOUNT);
    const roles = iam(proxyUrl, adminCreds);
    await roles.send(new CreateRoleCommand({ RoleName: ROLE, AssumeRolePolicyDocument: trustPolicy('ext-old-000') }));
    // A stale trust-table entry for the role is ignored: the policy is the source of truth.
    await admin('PUT', 'trust', { entries: [{ roleArn: ROLE_ARN, externalId: 'ext-table-000' }] });

    const denied = async (externalId: string | undefined) => {
      const err = await caught(actIn(proxyUrl, ACCOUNT, externalId, ROLE));
      expect(err.name).toBe('AccessDenied');
      expect(err.$metadata.httpStatusCode).toBe(403);
      expect(err.message).toContain(`not authorized to perform: sts:AssumeRole on resource: ${ROLE_ARN}`);
    };
    const allowed = async (externalId: string) =>
      expect((await whoAmI(proxyUrl, await actIn(proxyUrl, ACCOUNT, externalId, ROLE))).Account).toBe(ACCOUNT);

    await allowed('ext-old-000');
    await denied('ext-new-000');
    await denied('ext-table-000');
    await denied(undefined);

    await roles.send(
      new UpdateAssumeRolePolicyCommand({ RoleName: ROLE, PolicyDocument: trustPolicy('ext-old-000', 'ext-new-000') }),
    );
    await allowed('ext-old-000');
    await allowed('ext-new-000');

    await roles.send(new UpdateAssumeRolePolicyCommand({ RoleName: ROLE, PolicyDocument: trustPolicy('ext-new-000') }));
    await denied('ext-old-000');
    await allowed('ext-new-000');

    const view = await admin<{ assumeRole: Record<string, { allowed: number; denied: number }> }>('GET', 'sts');
    expect(view.json.assumeRole['trust-policy'].denied).toBe(4);
    expect(view.text).not.toContain('ext-new-000');
  });

  it('falls back to the trust table for roles moto does not have', async () => {
    const ghost = `arn:aws:iam::${OTHER_ACCOUNT}:role/not-in-moto`;
    await admin('PUT', 'trust', { entries: [{ roleArn: ghost, externalId: 'ext-table-111' }] });
    expect((await caught(actIn(proxyUrl, OTHER_ACCOUNT, 'ext-wrong-111', 'not-in-moto'))).name).toBe('AccessDenied');
    expect((await whoAmI(proxyUrl, await actIn(proxyUrl, OTHER_ACCOUNT, 'ext-table-111', 'not-in-moto'))).Account).toBe(
      OTHER_ACCOUNT,
    );
  });
});

describe('trustPolicyAllows', () => {
  const doc = (statements: unknown[]) => JSON.stringify({ Version: '2012-10-17', Statement: statements });
  const allow = (condition?: unknown, action: unknown = 'sts:AssumeRole') => ({
    Effect: 'Allow',
    Principal: { AWS: '*' },
    Action: action,
    ...(condition ? { Condition: condition } : {}),
  });

  it('evaluates sts:ExternalId conditions as IAM does', () => {
    expect(trustPolicyAllows(doc([allow()]), undefined)).toBe(true);
    expect(trustPolicyAllows(doc([allow({ StringEquals: { 'sts:ExternalId': ['a', 'b'] } })]), 'b')).toBe(true);
    expect(trustPolicyAllows(doc([allow({ StringEquals: { 'sts:externalid': 'a' } })]), 'c')).toBe(false);
    expect(trustPolicyAllows(doc([allow({ StringEquals: { 'sts:ExternalId': 'a' } })]), undefined)).toBe(false);
    expect(trustPolicyAllows(doc([allow({ StringLike: { 'sts:ExternalId': 'tenant-*' } })]), 'tenant-7')).toBe(true);
    expect(trustPolicyAllows(doc([allow({ StringEqualsIfExists: { 'sts:ExternalId': 'a' } })]), undefined)).toBe(true);
    expect(trustPolicyAllows(doc([allow({ Null: { 'sts:ExternalId': 'false' } })]), undefined)).toBe(false);
    expect(trustPolicyAllows(doc([allow({ NumericEquals: { 'sts:ExternalId': '1' } })]), '1')).toBe(false);
    expect(trustPolicyAllows(doc([allow(undefined, ['sts:TagSession'])]), undefined)).toBe(false);
    expect(trustPolicyAllows(doc([allow(undefined, 'sts:*')]), undefined)).toBe(true);
    const denyOld = {
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Action: 'sts:AssumeRole',
      Condition: { StringEquals: { 'sts:ExternalId': 'old' } },
    };
    expect(trustPolicyAllows(doc([allow(), denyOld]), 'old')).toBe(false);
    expect(trustPolicyAllows(doc([allow(), denyOld]), 'new')).toBe(true);
    expect(trustPolicyAllows('not json', 'a')).toBe(false);
  });
});
