/**
 * The proxy's Secrets Manager layer against a real moto_server: each gap is first shown on moto
 * itself (so the test fails loudly once a moto upgrade fixes it), then through the proxy.
 * Requests are AWS JSON 1.1 with fetch (test/support/secretsmanager-json.ts).
 * Run: npx vitest run test/integration/aws-proxy-secretsmanager.test.ts
 */
import { randomUUID } from 'node:crypto';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startMotoServer } from '../support/moto-server';
import { proxyAdmin } from '../support/proxy-admin';
import { secretsManagerClient, type SecretsManagerCall } from '../support/secretsmanager-json';
import { createAwsProxy, type AwsProxy } from '../../stack/aws-proxy/server';
import { secretNameOf } from '../../stack/aws-proxy/secretsmanager/secretsmanager-layer';

let moto: Awaited<ReturnType<typeof startMotoServer>> | undefined;
let proxy: AwsProxy;
let proxyUrl = '';
/** Straight to moto. */
let raw: SecretsManagerCall;
/** Through the proxy. */
let viaProxy: SecretsManagerCall;

type Stages = Record<string, string[]>;

/** A ClientRequestToken (AWS: 32–64 characters; becomes the VersionId). */
const token = (): string => randomUUID();

async function ok<T = Record<string, unknown>>(call: SecretsManagerCall, action: string, params: object): Promise<T> {
  const res = await call<T>(action, params as Record<string, unknown>);
  expect(res.status, `${action}: ${res.errorType} ${res.message}`).toBe(200);
  return res.json;
}

async function stagesOf(secretId: string): Promise<Stages> {
  const d = await ok<{ VersionIdsToStages: Stages }>(raw, 'DescribeSecret', { SecretId: secretId });
  return Object.fromEntries(Object.entries(d.VersionIdsToStages).filter(([, labels]) => labels.length > 0));
}

async function valueOf(call: SecretsManagerCall, secretId: string, versionId: string): Promise<string | undefined> {
  const v = await ok<{ SecretString?: string }>(call, 'GetSecretValue', { SecretId: secretId, VersionId: versionId });
  return v.SecretString;
}

/** v1 current ('one'); v2 ('two') AWSPENDING. Created straight in moto. */
async function secretWithPending(name: string): Promise<{ v1: string; v2: string }> {
  const v1 = token();
  const v2 = token();
  await ok(raw, 'CreateSecret', { Name: name, SecretString: 'one', ClientRequestToken: v1 });
  await ok(raw, 'PutSecretValue', {
    SecretId: name,
    SecretString: 'two',
    ClientRequestToken: v2,
    VersionStages: ['AWSPENDING'],
  });
  return { v1, v2 };
}

/** A finished rotation: v2 carries AWSCURRENT (and AWSPENDING, as AWS leaves it), v1 AWSPREVIOUS. */
async function rotatedSecret(name: string): Promise<{ v1: string; v2: string }> {
  const versions = await secretWithPending(name);
  await ok(raw, 'UpdateSecretVersionStage', {
    SecretId: name,
    VersionStage: 'AWSCURRENT',
    MoveToVersionId: versions.v2,
    RemoveFromVersionId: versions.v1,
  });
  return versions;
}

beforeAll(async () => {
  moto = await startMotoServer();
  raw = secretsManagerClient(moto.url);
  proxy = createAwsProxy({ upstream: moto.url });
  proxyUrl = `http://127.0.0.1:${await proxy.listen(0)}`;
  viaProxy = secretsManagerClient(proxyUrl);
}, 60_000);

afterAll(async () => {
  await proxy?.close();
  await moto?.stop();
});

describe('ListSecretVersionIds', () => {
  it("moto dates every version with the request time; the proxy answers each version's creation time", async () => {
    const name = 'list/dates';
    const v1 = token();
    const madeV1 = Math.floor(Date.now() / 1000);
    await ok(raw, 'CreateSecret', { Name: name, SecretString: 'one', ClientRequestToken: v1 });
    await new Promise((r) => setTimeout(r, 2100));
    const v2 = token();
    await ok(raw, 'PutSecretValue', { SecretId: name, SecretString: 'two', ClientRequestToken: v2 });
    await new Promise((r) => setTimeout(r, 2100));
    type Listed = { Versions: Array<{ VersionId: string; CreatedDate: number; VersionStages: string[] }> };
    const dates = (l: Listed) => Object.fromEntries(l.Versions.map((v) => [v.VersionId, v.CreatedDate]));

    const asked = Math.floor(Date.now() / 1000);
    const onMoto = dates(await ok<Listed>(raw, 'ListSecretVersionIds', { SecretId: name }));
    expect(onMoto[v1]).toBeGreaterThanOrEqual(asked); // the gap: "created" when asked

    const listed = await ok<Listed>(viaProxy, 'ListSecretVersionIds', { SecretId: name });
    const viaTheProxy = dates(listed);
    expect(Object.keys(viaTheProxy).sort()).toEqual([v1, v2].sort());
    expect(Math.abs(viaTheProxy[v1] - madeV1)).toBeLessThanOrEqual(1);
    expect(viaTheProxy[v2] - viaTheProxy[v1]).toBeGreaterThanOrEqual(2);
    expect(viaTheProxy[v2]).toBeLessThan(asked);
    expect(listed.Versions.find((v) => v.VersionId === v2)?.VersionStages).toContain('AWSCURRENT');
    expect(JSON.stringify(listed)).not.toContain('"two"'); // no value in the answer
  });
});

describe('GetSecretValue without VersionStage', () => {
  it('moto answers with a stale version after AWSCURRENT moved; the proxy answers with AWSCURRENT', async () => {
    const { v2 } = await rotatedSecret('read/stale');
    expect((await stagesOf('read/stale'))[v2]).toContain('AWSCURRENT');

    const onMoto = await ok<{ SecretString: string }>(raw, 'GetSecretValue', { SecretId: 'read/stale' });
    expect(onMoto.SecretString).toBe('one'); // the gap: not the current version

    const viaTheProxy = await ok<{ SecretString: string; VersionId: string; VersionStages: string[] }>(
      viaProxy,
      'GetSecretValue',
      { SecretId: 'read/stale' },
    );
    expect(viaTheProxy).toMatchObject({ SecretString: 'two', VersionId: v2 });
    expect(viaTheProxy.VersionStages).toContain('AWSCURRENT');
  });

  it('leaves explicit VersionId / VersionStage reads alone', async () => {
    const { v1 } = await rotatedSecret('read/explicit');
    expect(await valueOf(viaProxy, 'read/explicit', v1)).toBe('one');
    const previous = await ok<{ SecretString: string }>(viaProxy, 'GetSecretValue', {
      SecretId: 'read/explicit',
      VersionStage: 'AWSPREVIOUS',
    });
    expect(previous.SecretString).toBe('one');
  });
});

describe('"rotation in progress" (RotateSecret)', () => {
  it('moto refuses RotateSecret after a finished rotation (AWSPENDING on the AWSCURRENT version); the proxy accepts it', async () => {
    await rotatedSecret('rotate/finished-raw');
    const onMoto = await raw('RotateSecret', { SecretId: 'rotate/finished-raw', ClientRequestToken: token() });
    expect(onMoto).toMatchObject({ status: 400, errorType: 'InvalidRequestException' });
    expect(onMoto.message).toMatch(/still in progress/);

    await rotatedSecret('rotate/finished');
    const next = token();
    const viaTheProxy = await viaProxy('RotateSecret', { SecretId: 'rotate/finished', ClientRequestToken: next });
    expect(viaTheProxy.status, viaTheProxy.message).toBe(200);
    expect(viaTheProxy.json).toMatchObject({ VersionId: next });
  });

  it('moto accepts RotateSecret over a leftover AWSPENDING on another version; the proxy refuses it as AWS does', async () => {
    await secretWithPending('rotate/leftover-raw');
    expect((await raw('RotateSecret', { SecretId: 'rotate/leftover-raw', ClientRequestToken: token() })).status).toBe(
      200,
    );

    const { v1, v2 } = await secretWithPending('rotate/leftover');
    const viaTheProxy = await viaProxy('RotateSecret', { SecretId: 'rotate/leftover', ClientRequestToken: token() });
    expect(viaTheProxy).toMatchObject({ status: 400, errorType: 'InvalidRequestException' });
    expect(viaTheProxy.message).toBe("A previous rotation isn't complete. That rotation will be reattempted.");
    expect(await stagesOf('rotate/leftover')).toEqual({ [v1]: ['AWSCURRENT'], [v2]: ['AWSPENDING'] });
  });

  it('PutSecretValue has no such check on moto or AWS: both states accept a new AWSPENDING version (no gap)', async () => {
    await rotatedSecret('rotate/put-finished');
    await secretWithPending('rotate/put-leftover');
    for (const name of ['rotate/put-finished', 'rotate/put-leftover']) {
      for (const call of [raw, viaProxy]) {
        const put = await call('PutSecretValue', {
          SecretId: name,
          SecretString: `next-${randomUUID()}`,
          ClientRequestToken: token(),
          VersionStages: ['AWSPENDING'],
        });
        expect(put.status, `${name}: ${put.message}`).toBe(200);
      }
    }
  });
});

describe('ClientRequestToken reuse', () => {
  it('moto overwrites an AWSPENDING version given its token with another value; the proxy answers ResourceExistsException', async () => {
    const raws = await secretWithPending('token/raw');
    await ok(raw, 'PutSecretValue', {
      SecretId: 'token/raw',
      SecretString: 'tampered',
      ClientRequestToken: raws.v2,
      VersionStages: ['AWSPENDING'],
    });
    expect(await valueOf(raw, 'token/raw', raws.v2)).toBe('tampered'); // the gap: silently overwritten

    const { v2 } = await secretWithPending('token/proxy');
    const reused = await viaProxy('PutSecretValue', {
      SecretId: 'token/proxy',
      SecretString: 'tampered',
      ClientRequestToken: v2,
      VersionStages: ['AWSPENDING'],
    });
    expect(reused).toMatchObject({ status: 400, errorType: 'ResourceExistsException' });
    expect(reused.message).toContain(`You can't use ClientRequestToken ${v2}`);
    expect(await valueOf(viaProxy, 'token/proxy', v2)).toBe('two');
  });

  it('the same token with the same value is idempotent and leaves the labels alone (moto strips AWSCURRENT)', async () => {
    const raws = await rotatedSecret('token/retry-raw');
    await ok(raw, 'PutSecretValue', {
      SecretId: 'token/retry-raw',
      SecretString: 'two',
      ClientRequestToken: raws.v2,
      VersionStages: ['AWSPENDING'],
    });
    const rawStages = await stagesOf('token/retry-raw');
    expect(Object.values(rawStages).flat()).not.toContain('AWSCURRENT'); // the gap: a retry left no current version

    const { v1, v2 } = await rotatedSecret('token/retry');
    const before = await stagesOf('token/retry');
    const retried = await ok<{ VersionId: string; VersionStages: string[] }>(viaProxy, 'PutSecretValue', {
      SecretId: 'token/retry',
      SecretString: 'two',
      ClientRequestToken: v2,
      VersionStages: ['AWSPENDING'],
    });
    expect(retried.VersionId).toBe(v2);
    expect(retried.VersionStages.sort()).toEqual(['AWSCURRENT', 'AWSPENDING']);
    expect(await stagesOf('token/retry')).toEqual(before);
    expect(before[v1]).toEqual(['AWSPREVIOUS']);
  });

  it('applies to UpdateSecret and CreateSecret too, and forwards a new token', async () => {
    const { v2 } = await secretWithPending('token/update');
    const update = await viaProxy('UpdateSecret', {
      SecretId: 'token/update',
      SecretString: 'x',
      ClientRequestToken: v2,
    });
    expect(update).toMatchObject({ status: 400, errorType: 'ResourceExistsException' });
    const create = await viaProxy('CreateSecret', {
      Name: 'token/update',
      SecretString: 'two',
      ClientRequestToken: v2,
    });
    expect(create.status, create.message).toBe(200);
    expect(create.json).toMatchObject({ VersionId: v2 });

    const fresh = token();
    const put = await ok<{ VersionId: string }>(viaProxy, 'PutSecretValue', {
      SecretId: 'token/update',
      SecretString: 'three',
      ClientRequestToken: fresh,
      VersionStages: ['AWSPENDING'],
    });
    expect(put.VersionId).toBe(fresh);
    expect(await valueOf(viaProxy, 'token/update', fresh)).toBe('three');
  });

  it('refuses concurrent writes of one token with different values: exactly one value wins', async () => {
    await ok(raw, 'CreateSecret', { Name: 'token/race', SecretString: 'zero', ClientRequestToken: token() });
    const shared = token();
    const puts = await Promise.all(
      ['a', 'b', 'c', 'd'].map((value) =>
        viaProxy('PutSecretValue', {
          SecretId: 'token/race',
          SecretString: value,
          ClientRequestToken: shared,
          VersionStages: ['AWSPENDING'],
        }),
      ),
    );
    expect(puts.filter((p) => p.status === 200)).toHaveLength(1);
    expect(puts.filter((p) => p.errorType === 'ResourceExistsException')).toHaveLength(3);
  });
});

describe('UpdateSecretVersionStage of AWSCURRENT when no version is current', () => {
  /** No version current: the same-token retry above, done straight on moto. */
  async function noCurrent(name: string): Promise<{ v1: string; v2: string }> {
    const versions = await rotatedSecret(name);
    await ok(raw, 'PutSecretValue', {
      SecretId: name,
      SecretString: 'two',
      ClientRequestToken: versions.v2,
      VersionStages: ['AWSPENDING'],
    });
    expect(Object.values(await stagesOf(name)).flat()).not.toContain('AWSCURRENT');
    return versions;
  }

  it('moto fails with HTTP 500; the proxy attaches AWSCURRENT and keeps every other label', async () => {
    const raws = await noCurrent('stage/raw');
    const onMoto = await raw('UpdateSecretVersionStage', {
      SecretId: 'stage/raw',
      VersionStage: 'AWSCURRENT',
      MoveToVersionId: raws.v2,
    });
    expect(onMoto.status).toBe(500); // the gap

    const { v1, v2 } = await noCurrent('stage/proxy');
    const before = await stagesOf('stage/proxy');
    const moved = await viaProxy('UpdateSecretVersionStage', {
      SecretId: 'stage/proxy',
      VersionStage: 'AWSCURRENT',
      MoveToVersionId: v2,
    });
    expect(moved.status, moved.message).toBe(200);
    expect(moved.json).toMatchObject({ Name: 'stage/proxy' });
    const after = await stagesOf('stage/proxy');
    expect(after[v2].sort()).toEqual(['AWSCURRENT', 'AWSPENDING']);
    expect(after[v1]).toEqual(before[v1]);
    const current = await ok<{ SecretString: string }>(viaProxy, 'GetSecretValue', { SecretId: 'stage/proxy' });
    expect(current.SecretString).toBe('two');
  });

  it('attaches it to a version without AWSPENDING, leaving AWSPENDING and custom labels where they were', async () => {
    const { v1, v2 } = await secretWithPending('stage/other');
    const v3 = token();
    await ok(raw, 'PutSecretValue', {
      SecretId: 'stage/other',
      SecretString: 'three',
      ClientRequestToken: v3,
      VersionStages: ['CANARY'],
    });
    await ok(raw, 'UpdateSecretVersionStage', {
      SecretId: 'stage/other',
      VersionStage: 'AWSCURRENT',
      RemoveFromVersionId: v1,
    });
    expect(await stagesOf('stage/other')).toEqual({
      [v1]: ['AWSPREVIOUS'],
      [v2]: ['AWSPENDING'],
      [v3]: ['CANARY'],
    });

    const moved = await viaProxy('UpdateSecretVersionStage', {
      SecretId: 'stage/other',
      VersionStage: 'AWSCURRENT',
      MoveToVersionId: v3,
    });
    expect(moved.status, moved.message).toBe(200);
    const after = await stagesOf('stage/other');
    expect(after[v2]).toEqual(['AWSPENDING']);
    expect(after[v3].sort()).toEqual(['AWSCURRENT', 'CANARY']);
    expect(after[v1]).toEqual(['AWSPREVIOUS']);
    expect(await valueOf(viaProxy, 'stage/other', v3)).toBe('three');
  });

  it('still refuses a move without RemoveFromVersionId while a version is current (as AWS and moto do)', async () => {
    const { v2 } = await secretWithPending('stage/current');
    const refused = await viaProxy('UpdateSecretVersionStage', {
      SecretId: 'stage/current',
      VersionStage: 'AWSCURRENT',
      MoveToVersionId: v2,
    });
    expect(refused).toMatchObject({ status: 400, errorType: 'InvalidParameterException' });
  });
});

describe('admin and helpers', () => {
  it('counts outcomes at /__fleetops/secretsmanager; DELETE resets them', async () => {
    const seen = await proxyAdmin<{ outcomes: Record<string, number> }>(proxyUrl, 'GET', 'secretsmanager');
    expect(seen.status).toBe(200);
    expect(seen.json.outcomes['forwarded(AWSCURRENT)']).toBeGreaterThan(0);
    expect(seen.json.outcomes['refused(token-reused)']).toBeGreaterThan(0);
    const reset = await proxyAdmin<{ outcomes: Record<string, number> }>(proxyUrl, 'DELETE', 'secretsmanager');
    expect(reset.json.outcomes).toEqual({});
  });

  it('names a secret from its ARN', () => {
    expect(secretNameOf('arn:aws:secretsmanager:eu-west-1:123456789012:secret:data/key-AbC123')).toBe('data/key');
    expect(secretNameOf('data/key')).toBe('data/key');
  });
});
