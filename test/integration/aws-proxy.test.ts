/**
 * AWS gap/fault proxy against a real moto_server, driven by the real AWS SDK v3.
 * Run: npx vitest run test/integration/aws-proxy.test.ts --pool forks
 */
import { createRequire } from 'node:module';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it, expect, beforeAll, afterAll, beforeEach } from 'vitest';
import { STSClient, AssumeRoleCommand, GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { CloudFormationClient, ListStacksCommand, ValidateTemplateCommand } from '@aws-sdk/client-cloudformation';
import { startMotoServer } from '../support/moto-server';
import { proxyAdmin } from '../support/proxy-admin';
import { createAwsProxy, type AwsProxy } from '../../stack/aws-proxy/server';
import { parseRequestInfo } from '../../stack/aws-proxy/core/request-info';
import { decideFault, mulberry32, parseFaultPlan } from '../../stack/aws-proxy/core/fault-plan';
import { renderAwsError } from '../../stack/aws-proxy/core/aws-errors';
import type { ProxyStatsSnapshot } from '../../stack/aws-proxy/core/proxy-stats';
import { cleanUp } from '../support/cleanup';

const REPO_ROOT = path.resolve(__dirname, '../..');
const REGION = 'eu-west-1';
const BASE_CREDENTIALS = { accessKeyId: 'testing', secretAccessKey: 'testing' };

const TARGET_ACCOUNT = '210987654321';
const GUARDED_ROLE = `arn:aws:iam::${TARGET_ACCOUNT}:role/fleetops-guarded`;
const EXTERNAL_ID = 'ext-id-7f3c9a1e-never-shown';
const OPEN_ACCOUNT = '333344445555';
const OPEN_ROLE = `arn:aws:iam::${OPEN_ACCOUNT}:role/fleetops-open`;

type Credentials = { accessKeyId: string; secretAccessKey: string; sessionToken?: string };

let moto: Awaited<ReturnType<typeof startMotoServer>> | undefined;
let motoUrl = '';
let proxy: AwsProxy;
let proxyUrl = '';
let stateDir = '';
const logLines: string[] = [];

function sts(credentials: Credentials = BASE_CREDENTIALS): STSClient {
  return new STSClient({ endpoint: proxyUrl, region: REGION, credentials, maxAttempts: 1 });
}

function cloudFormation(credentials: Credentials = BASE_CREDENTIALS): CloudFormationClient {
  return new CloudFormationClient({ endpoint: proxyUrl, region: REGION, credentials, maxAttempts: 1 });
}

const admin = <T = { message?: string }>(method: string, route: string, body?: unknown) =>
  proxyAdmin<T>(proxyUrl, method, route, body);

async function putFaults(plan: unknown): Promise<void> {
  const res = await admin('PUT', 'faults', plan);
  expect(res.status, res.text).toBe(200);
}

type AwsSdkError = Error & { $metadata: { httpStatusCode?: number } };

async function caught(promise: Promise<unknown>): Promise<AwsSdkError> {
  try {
    await promise;
  } catch (err) {
    return err as AwsSdkError;
  }
  throw new Error('expected the call to fail');
}

async function assumeRole(roleArn: string, externalId?: string): Promise<Credentials> {
  const out = await sts().send(
    new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'aws-proxy-test', ExternalId: externalId }),
  );
  const c = out.Credentials!;
  return { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken };
}

beforeAll(async () => {
  moto = await startMotoServer();
  motoUrl = moto.url;

  stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'aws-proxy-test-'));
  proxy = createAwsProxy({ upstream: motoUrl, stateDir, logger: (line) => logLines.push(line) });
  const port = await proxy.listen(0);
  proxyUrl = `http://127.0.0.1:${port}`;

  const put = await admin('PUT', 'trust', { entries: [{ roleArn: GUARDED_ROLE, externalId: EXTERNAL_ID }] });
  expect(put.status, put.text).toBe(200);
}, 60_000);

afterAll(() =>
  cleanUp({
    proxy: () => proxy?.close(),
    moto: () => moto?.stop(),
    stateDir: () => stateDir && fs.rmSync(stateDir, { recursive: true, force: true }),
  }),
);

beforeEach(async () => {
  await admin('DELETE', 'faults');
  await admin('POST', 'stats/reset');
});

describe('pure helpers', () => {
  it('identifies query, JSON and EC2 requests from SigV4 scope, Action and X-Amz-Target', () => {
    const auth = (service: string) =>
      `AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/eu-west-1/${service}/aws4_request, SignedHeaders=host, Signature=0`;
    const form = { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' };

    const assume = parseRequestInfo(
      { ...form, authorization: auth('sts') },
      'Action=AssumeRole&RoleArn=arn%3Aaws%3Aiam%3A%3A111122223333%3Arole%2Fx',
      '/',
    );
    expect(assume).toMatchObject({
      service: 'sts',
      region: 'eu-west-1',
      accessKeyId: 'AKIDEXAMPLE',
      action: 'AssumeRole',
      account: '111122223333',
      protocol: 'query',
    });

    const secret = parseRequestInfo(
      { authorization: auth('secretsmanager'), 'x-amz-target': 'secretsmanager.GetSecretValue' },
      '{}',
      '/',
      (k) => (k === 'AKIDEXAMPLE' ? '444455556666' : undefined),
    );
    expect(secret).toMatchObject({
      service: 'secretsmanager',
      action: 'GetSecretValue',
      account: '444455556666',
      protocol: 'json',
    });

    const ec2 = parseRequestInfo(
      { authorization: auth('ec2') },
      undefined,
      '/?Action=DescribeImages&Version=2016-11-15',
    );
    expect(ec2).toMatchObject({ service: 'ec2', action: 'DescribeImages', account: '123456789012', protocol: 'ec2' });

    expect(parseRequestInfo({}, undefined, '/')).toMatchObject({
      service: 'unknown',
      action: 'unknown',
      account: '123456789012',
    });
  });

  it('decides faults reproducibly from the seed and honours the filters', () => {
    const plan = parseFaultPlan({
      seed: 42,
      rules: [{ service: 'sts', accounts: ['111122223333'], throttleRate: 0.5 }],
    });
    if (!plan.ok) throw new Error(plan.message);
    const info = { service: 'sts', action: 'GetCallerIdentity', account: '111122223333' };
    const run = () => {
      const rng = mulberry32(42);
      return Array.from({ length: 50 }, () => decideFault(plan.plan, info, rng).error ?? '-').join(',');
    };
    expect(run()).toBe(run());
    expect(decideFault(plan.plan, { ...info, account: '999999999999' }, mulberry32(1))).toEqual({ latencyMs: 0 });
    expect(decideFault(plan.plan, { ...info, service: 'ec2' }, mulberry32(1))).toEqual({ latencyMs: 0 });
  });

  it('renders each protocol the way AWS does', () => {
    const ec2 = renderAwsError('ec2', 'throttle');
    expect(ec2.status).toBe(503);
    expect(ec2.body.toString()).toContain('<Response><Errors><Error><Code>RequestLimitExceeded</Code>');
    const json = renderAwsError('secretsmanager', 'throttle');
    expect(json.status).toBe(400);
    expect(json.headers['x-amzn-errortype']).toBe('ThrottlingException');
    expect(JSON.parse(json.body.toString())).toEqual({ __type: 'ThrottlingException', message: 'Rate exceeded' });
    const query = renderAwsError('cloudformation', 'internalFailure');
    expect(query.status).toBe(500);
    expect(query.body.toString()).toMatch(
      /^<ErrorResponse xmlns="[^"]+"><Error><Type>Receiver<\/Type><Code>InternalFailure<\/Code>/,
    );
  });
});

describe('ExternalId enforcement on sts:AssumeRole', () => {
  it('allows the correct ExternalId, and the credentials act in the target account', async () => {
    const creds = await assumeRole(GUARDED_ROLE, EXTERNAL_ID);
    const me = await sts(creds).send(new GetCallerIdentityCommand({}));
    expect(me.Account).toBe(TARGET_ACCOUNT);
    expect(proxy.credentials.accountOf(creds.accessKeyId)).toBe(TARGET_ACCOUNT);
  });

  it('denies a wrong ExternalId with AccessDenied / 403', async () => {
    const err = await caught(assumeRole(GUARDED_ROLE, 'ext-id-wrong'));
    expect(err.name).toBe('AccessDenied');
    expect(err.$metadata.httpStatusCode).toBe(403);
    expect(err.message).toContain(`is not authorized to perform: sts:AssumeRole on resource: ${GUARDED_ROLE}`);
  });

  it('denies a missing ExternalId with AccessDenied / 403', async () => {
    const err = await caught(assumeRole(GUARDED_ROLE));
    expect(err.name).toBe('AccessDenied');
    expect(err.$metadata.httpStatusCode).toBe(403);
  });

  it('lets a role that is not in the trust table through', async () => {
    const creds = await assumeRole(OPEN_ROLE);
    const me = await sts(creds).send(new GetCallerIdentityCommand({}));
    expect(me.Account).toBe(OPEN_ACCOUNT);
  });

  it('never shows or logs an ExternalId value', async () => {
    await caught(assumeRole(GUARDED_ROLE, 'ext-id-wrong-again'));
    await assumeRole(GUARDED_ROLE, EXTERNAL_ID);
    const trust = await admin<unknown>('GET', 'trust');
    expect(trust.json).toEqual({ count: 1, roleArns: [GUARDED_ROLE] });
    expect(trust.text).not.toContain(EXTERNAL_ID);
    const logs = logLines.join('\n');
    expect(logs).toContain('sts:AssumeRole');
    expect(logs).not.toContain(EXTERNAL_ID);
    expect(logs).not.toContain('ext-id-wrong-again');
  });

  it('persists the trust table and fault plan in the state dir', async () => {
    await putFaults({ rules: [{ service: 'iam', latencyMs: 1 }] });
    const reloaded = createAwsProxy({ upstream: motoUrl, stateDir });
    expect(reloaded.trust.summary()).toEqual({ count: 1, roleArns: [GUARDED_ROLE] });
    expect(reloaded.faults.plan).toEqual({ rules: [{ service: 'iam', latencyMs: 1 }] });
    await reloaded.close();
  });
});

describe('fault injection', () => {
  it('throttles STS with Throttling before the request reaches moto', async () => {
    await putFaults({ rules: [{ service: 'sts', throttleRate: 1 }] });
    const err = await caught(sts().send(new GetCallerIdentityCommand({})));
    expect(err.name).toBe('Throttling');
    expect(err.$metadata.httpStatusCode).toBe(400);
    const stats = (await admin<ProxyStatsSnapshot>('GET', 'stats')).json;
    expect(stats.forwarded).toBe(0);
    expect(stats.injected.throttle).toBe(1);
  });

  it('throttles CloudFormation with Throttling', async () => {
    await putFaults({ rules: [{ service: 'cloudformation', throttleRate: 1 }] });
    const err = await caught(cloudFormation().send(new ListStacksCommand({})));
    expect(err.name).toBe('Throttling');
    expect(err.$metadata.httpStatusCode).toBe(400);
    // other services are untouched
    await expect(sts().send(new GetCallerIdentityCommand({}))).resolves.toMatchObject({ Account: '123456789012' });
  });

  let ec2Client: string | undefined;
  try {
    ec2Client = createRequire(path.join(REPO_ROOT, 'package.json')).resolve('@aws-sdk/client-ec2');
  } catch {
    ec2Client = undefined; // not installed: the SDK-level EC2 check is skipped, the wire-format check below still runs
  }
  it.skipIf(!ec2Client)('throttles EC2 with RequestLimitExceeded (SDK)', async () => {
    const ec2 = await import(ec2Client as string);
    await putFaults({ rules: [{ service: 'ec2', throttleRate: 1 }] });
    const client = new ec2.EC2Client({
      endpoint: proxyUrl,
      region: REGION,
      credentials: BASE_CREDENTIALS,
      maxAttempts: 1,
    });
    const err = await caught(client.send(new ec2.DescribeImagesCommand({ Owners: ['self'] })));
    expect(err.name).toBe('RequestLimitExceeded');
    expect(err.$metadata.httpStatusCode).toBe(503);
  });

  it('throttles EC2 with the EC2 wire format (HTTP 503 RequestLimitExceeded)', async () => {
    await putFaults({ rules: [{ service: 'ec2', throttleRate: 1 }] });
    const res = await fetch(proxyUrl, {
      method: 'POST',
      headers: {
        authorization: `AWS4-HMAC-SHA256 Credential=testing/20260101/${REGION}/ec2/aws4_request, SignedHeaders=host, Signature=0`,
        'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
      },
      body: 'Action=DescribeImages&Version=2016-11-15&Owner.1=self',
    });
    expect(res.status).toBe(503);
    const body = await res.text();
    expect(body).toMatch(
      /^<\?xml version="1.0" encoding="UTF-8"\?><Response><Errors><Error><Code>RequestLimitExceeded<\/Code><Message>Request limit exceeded.<\/Message><\/Error><\/Errors><RequestID>[^<]+<\/RequestID><\/Response>$/,
    );
  });

  it('injects 5xx with serverErrorRate 1 (alternating 500 InternalFailure / 503 ServiceUnavailable)', async () => {
    await putFaults({ rules: [{ service: 'sts', actions: ['GetCallerIdentity'], serverErrorRate: 1 }] });
    const first = await caught(sts().send(new GetCallerIdentityCommand({})));
    const second = await caught(sts().send(new GetCallerIdentityCommand({})));
    expect(first.$metadata.httpStatusCode ?? 0).toBeGreaterThanOrEqual(500);
    expect([first.name, first.$metadata.httpStatusCode]).toEqual(['InternalFailure', 500]);
    expect([second.name, second.$metadata.httpStatusCode]).toEqual(['ServiceUnavailable', 503]);
    // the action filter leaves AssumeRole alone
    await expect(assumeRole(OPEN_ROLE)).resolves.toBeDefined();
  });

  it('injects at roughly the configured rate (0.3 over 300 calls)', async () => {
    await putFaults({ seed: 7, rules: [{ service: 'sts', throttleRate: 0.3 }] });
    const client = sts();
    let throttled = 0;
    for (let i = 0; i < 300; i += 10) {
      const results = await Promise.allSettled(
        Array.from({ length: 10 }, () => client.send(new GetCallerIdentityCommand({}))),
      );
      for (const r of results) {
        if (r.status === 'rejected') {
          expect((r.reason as Error).name).toBe('Throttling');
          throttled++;
        }
      }
    }
    expect(throttled).toBeGreaterThanOrEqual(60);
    expect(throttled).toBeLessThanOrEqual(120);
    const stats = (await admin<ProxyStatsSnapshot>('GET', 'stats')).json;
    expect(stats.injected.throttle).toBe(throttled);
    expect(stats.forwarded).toBe(300 - throttled);
  }, 60_000);

  it('applies a per-account rule only to that account', async () => {
    const targetCreds = await assumeRole(GUARDED_ROLE, EXTERNAL_ID);
    const openCreds = await assumeRole(OPEN_ROLE);
    await putFaults({ rules: [{ accounts: [TARGET_ACCOUNT], throttleRate: 1 }] });
    const err = await caught(sts(targetCreds).send(new GetCallerIdentityCommand({})));
    expect(err.name).toBe('Throttling');
    const cfnErr = await caught(cloudFormation(targetCreds).send(new ListStacksCommand({})));
    expect(cfnErr.name).toBe('Throttling');
    await expect(sts(openCreds).send(new GetCallerIdentityCommand({}))).resolves.toMatchObject({
      Account: OPEN_ACCOUNT,
    });
    await expect(sts().send(new GetCallerIdentityCommand({}))).resolves.toMatchObject({ Account: '123456789012' });
    await expect(cloudFormation(openCreds).send(new ListStacksCommand({}))).resolves.toBeDefined();
  });

  it('adds at least the configured latency', async () => {
    const client = sts();
    await client.send(new GetCallerIdentityCommand({})); // warm the connection
    await putFaults({ rules: [{ service: 'sts', latencyMs: 400 }] });
    const started = Date.now();
    const call = client.send(new GetCallerIdentityCommand({}));
    // While it is delayed, the request is listed in flight (what the chaos tests kill a worker inside of).
    await new Promise((r) => setTimeout(r, 200));
    const during = (await admin<ProxyStatsSnapshot>('GET', 'stats')).json.inFlight;
    expect(during).toEqual([
      { service: 'sts', action: 'GetCallerIdentity', account: '123456789012', ms: expect.any(Number) },
    ]);
    await call;
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
    const after = (await admin<ProxyStatsSnapshot>('GET', 'stats')).json;
    expect(after.injected.latency).toBe(1);
    expect(after.inFlight).toEqual([]);
  });

  it('rejects an invalid fault plan, naming each bad field, and keeps the old plan', async () => {
    await putFaults({ rules: [{ service: 'sts', latencyMs: 1 }] });
    const res = await admin('PUT', 'faults', {
      rules: [
        { service: 'sts', throttleRate: 1.5 },
        { accounts: ['12345'], latencyRate: 0.5 },
      ],
      seed: 'x',
    });
    expect(res.status).toBe(400);
    expect(res.json.message).toContain('rules[0].throttleRate');
    expect(res.json.message).toContain('rules[1].accounts[0]');
    expect(res.json.message).toContain('rules[1].latencyRate');
    expect(res.json.message).toContain('seed');
    expect((await admin<unknown>('GET', 'faults')).json).toEqual({ rules: [{ service: 'sts', latencyMs: 1 }] });
    const notJson = await fetch(`${proxyUrl}/__fleetops/faults`, { method: 'PUT', body: '{nope' });
    expect(notJson.status).toBe(400);
  });
});

describe("moto's account header (x-moto-account-id)", () => {
  it('names the account of a key the proxy saw issued, so moto acts there without scanning every account', async () => {
    // a key moto never issued: without the header moto's scan finds nothing and answers in its default account
    proxy.credentials.remember('AKIAPINNEDBYPROXY001', { account: '444455556666' });
    const me = await sts({ accessKeyId: 'AKIAPINNEDBYPROXY001', secretAccessKey: 'x' }).send(
      new GetCallerIdentityCommand({}),
    );
    expect(me.Account).toBe('444455556666');
  });

  it("drops a client's own x-moto-account-id: a caller cannot choose the account it acts in", async () => {
    const client = sts();
    client.middlewareStack.add(
      (next) => async (args) => {
        (args.request as { headers: Record<string, string> }).headers['x-moto-account-id'] = '999988887777';
        return next(args);
      },
      { step: 'finalizeRequest', name: 'spoofMotoAccount' },
    );
    const me = await client.send(new GetCallerIdentityCommand({}));
    expect(me.Account).toBe('123456789012');
  });
});

describe('stats and admin', () => {
  it('counts requests, forwards, injections and denials', async () => {
    await caught(assumeRole(GUARDED_ROLE, 'nope-nope'));
    await assumeRole(GUARDED_ROLE, EXTERNAL_ID);
    await cloudFormation().send(new ListStacksCommand({}));
    await putFaults({ rules: [{ service: 'cloudformation', throttleRate: 1 }] });
    await caught(cloudFormation().send(new ListStacksCommand({})));
    const stats = (await admin<ProxyStatsSnapshot>('GET', 'stats')).json;
    expect(stats).toMatchObject({
      requests: 4,
      forwarded: 2,
      accessDenied: 1,
      injected: { throttle: 1, serverError: 0, latency: 0 },
      byService: { sts: 2, cloudformation: 2 },
      byAction: { 'sts:AssumeRole': 2, 'cloudformation:ListStacks': 2 },
    });
    const reset = await admin<ProxyStatsSnapshot>('POST', 'stats/reset');
    expect(reset.json.requests).toBe(0);
  });

  it('answers health and never forwards unknown admin paths', async () => {
    expect((await admin<unknown>('GET', 'health')).json).toEqual({ ok: true, upstream: motoUrl });
    expect((await admin('GET', 'nope')).status).toBe(404);
    expect((await admin<ProxyStatsSnapshot>('GET', 'stats')).json.requests).toBe(0);
  });

  it('forwards large bodies intact', async () => {
    // ~2 MB template: moto only validates it (and echoes the Description) if the JSON arrived whole
    const templateBody = JSON.stringify({
      Description: 'big template',
      Metadata: { Padding: 'x'.repeat(2 * 1024 * 1024) },
      Resources: {},
    });
    const out = await cloudFormation().send(new ValidateTemplateCommand({ TemplateBody: templateBody }));
    expect(out.Description).toBe('big template');
    expect((await admin<ProxyStatsSnapshot>('GET', 'stats')).json.forwarded).toBe(1);
  });
});
