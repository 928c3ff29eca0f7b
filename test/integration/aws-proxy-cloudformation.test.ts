/**
 * The proxy's CloudFormation layer against a real moto_server, driven by the real AWS SDK v3
 * (CloudWatch through its query API with fetch: @aws-sdk/client-cloudwatch is not a dependency).
 * Credentials come from AssumeRole through the proxy, so every call is attributed to its account.
 * Run: npx vitest run test/integration/aws-proxy-cloudformation.test.ts
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it, expect, beforeAll, afterAll, beforeEach } from 'vitest';
import { STSClient, AssumeRoleCommand } from '@aws-sdk/client-sts';
import {
  CloudFormationClient,
  ContinueUpdateRollbackCommand,
  CreateChangeSetCommand,
  CreateStackCommand,
  DescribeChangeSetCommand,
  DescribeStacksCommand,
  ExecuteChangeSetCommand,
  ListChangeSetsCommand,
  ListStacksCommand,
  UpdateStackCommand,
  type Change,
  type Stack,
} from '@aws-sdk/client-cloudformation';
import { startMotoServer } from '../support/moto-server';
import { proxyAdmin } from '../support/proxy-admin';
import { createAwsProxy, type AwsProxy } from '../../stack/aws-proxy/server';
import {
  alarmTriggers,
  cloudFormationPlanSchema,
  decideUpdateOutcome,
  isStackBusy,
  replacedResourceTypes,
} from '../../stack/aws-proxy/cloudformation/cloudformation-faults';
import {
  appendContainerMembers,
  containerMembers,
  filterContainerMembers,
  formParameters,
  rewriteContainerMembers,
  setXmlText,
  stackNameOf,
  xmlText,
} from '../../stack/aws-proxy/cloudformation/cloudformation-xml';
import {
  CloudFormationOverlay,
  changeSetExecutionStatus,
  overlayStatus,
} from '../../stack/aws-proxy/cloudformation/cloudformation-overlay';
import { RequestTokens } from '../../stack/aws-proxy/cloudformation/request-tokens';
import { templateResourceTypes } from '../../stack/aws-proxy/cloudformation/replacement-details';
import type { ChangeSetExecution } from '../../stack/aws-proxy/cloudformation/change-set-ledger';
import type { ProxyStatsSnapshot } from '../../stack/aws-proxy/core/proxy-stats';
import { cleanUp } from '../support/cleanup';

const REGION = 'eu-west-1';
const BASE_CREDENTIALS = { accessKeyId: 'testing', secretAccessKey: 'testing' };
const ACCOUNT_A = '200000000101';
const ACCOUNT_B = '200000000102';

/** The test's own pipeline template: version parameter, SSM parameter, health alarm, DynamoDB table. */
const TEMPLATE = JSON.stringify({
  AWSTemplateFormatVersion: '2010-09-09',
  Parameters: { PipelineVersion: { Type: 'String' } },
  Resources: {
    VersionParameter: {
      Type: 'AWS::SSM::Parameter',
      Properties: {
        Name: { 'Fn::Sub': '/${AWS::StackName}/version' },
        Type: 'String',
        Value: { Ref: 'PipelineVersion' },
      },
    },
    HealthAlarm: {
      Type: 'AWS::CloudWatch::Alarm',
      Properties: {
        AlarmName: { 'Fn::Sub': '${AWS::StackName}-health' },
        Namespace: 'Pipeline',
        MetricName: 'Errors',
        Statistic: 'Sum',
        Period: 60,
        EvaluationPeriods: 1,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      },
    },
    StateTable: {
      Type: 'AWS::DynamoDB::Table',
      Properties: {
        TableName: { 'Fn::Sub': '${AWS::StackName}-state' },
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      },
    },
  },
});

type Credentials = { accessKeyId: string; secretAccessKey: string; sessionToken?: string };

let moto: Awaited<ReturnType<typeof startMotoServer>> | undefined;
let motoUrl = '';
let proxy: AwsProxy;
let proxyUrl = '';
let stateDir = '';
let credsA: Credentials;
let credsB: Credentials;
let cfnA: CloudFormationClient;
let cfnB: CloudFormationClient;
let stackCounter = 0;

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

const admin = <T = { message?: string }>(method: string, route: string, body?: unknown) =>
  proxyAdmin<T>(proxyUrl, method, route, body);

async function putPlan(plan: unknown): Promise<void> {
  const res = await admin('PUT', 'faults', plan);
  expect(res.status, res.text).toBe(200);
}

async function executions(): Promise<ChangeSetExecution[]> {
  return (await admin<{ executions: ChangeSetExecution[] }>('GET', 'cloudformation/executions')).json.executions;
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

async function assumeRole(account: string): Promise<Credentials> {
  const sts = new STSClient({ endpoint: proxyUrl, region: REGION, credentials: BASE_CREDENTIALS, maxAttempts: 1 });
  const out = await sts.send(
    new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${account}:role/fleetops-execution`, RoleSessionName: 'cfn-test' }),
  );
  const c = out.Credentials!;
  return { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken };
}

function cloudFormation(credentials: Credentials): CloudFormationClient {
  return new CloudFormationClient({ endpoint: proxyUrl, region: REGION, credentials, maxAttempts: 1 });
}

/** CloudWatch DescribeAlarms through the proxy (query API; moto does not check signatures). */
async function alarmState(credentials: Credentials, alarmName: string): Promise<string | undefined> {
  const res = await fetch(proxyUrl, {
    method: 'POST',
    headers: {
      authorization: `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/20260101/${REGION}/monitoring/aws4_request, SignedHeaders=host, Signature=0`,
      'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
    },
    body: new URLSearchParams({
      Action: 'DescribeAlarms',
      Version: '2010-08-01',
      'AlarmNames.member.1': alarmName,
    }).toString(),
  });
  const xml = await res.text();
  expect(res.status, xml).toBe(200);
  return /<StateValue>([^<]+)<\/StateValue>/.exec(xml)?.[1];
}

function uniqueStackName(label: string): string {
  stackCounter++;
  return `pipe-${label}-${stackCounter}`;
}

async function createPipelineStack(
  client: CloudFormationClient,
  stackName: string,
  version = '1.0.0',
): Promise<string> {
  const out = await client.send(
    new CreateStackCommand({
      StackName: stackName,
      TemplateBody: TEMPLATE,
      Parameters: [{ ParameterKey: 'PipelineVersion', ParameterValue: version }],
    }),
  );
  return out.StackId!;
}

async function createUpgradeChangeSet(
  client: CloudFormationClient,
  stackName: string,
  version: string,
  changeSetName?: string,
): Promise<string> {
  const out = await client.send(
    new CreateChangeSetCommand({
      StackName: stackName,
      ChangeSetName: changeSetName ?? `upgrade-${version.replace(/\./g, '-')}`,
      ChangeSetType: 'UPDATE',
      UsePreviousTemplate: true,
      Parameters: [{ ParameterKey: 'PipelineVersion', ParameterValue: version }],
    }),
  );
  return out.Id!;
}

async function describeStack(client: CloudFormationClient, stackName: string): Promise<Stack> {
  const out = await client.send(new DescribeStacksCommand({ StackName: stackName }));
  return out.Stacks![0];
}

function versionOf(stack: Stack): string | undefined {
  return stack.Parameters?.find((p) => p.ParameterKey === 'PipelineVersion')?.ParameterValue;
}

async function waitForStatus(
  client: CloudFormationClient,
  stackName: string,
  status: string,
  timeoutMs = 10_000,
): Promise<Stack> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const stack = await describeStack(client, stackName);
    if (stack.StackStatus === status) return stack;
    if (Date.now() > deadline)
      throw new Error(`${stackName} is ${stack.StackStatus}, not ${status}, after ${timeoutMs} ms`);
    await sleep(100);
  }
}

beforeAll(async () => {
  moto = await startMotoServer();
  motoUrl = moto.url;

  stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'aws-proxy-cfn-test-'));
  proxy = createAwsProxy({ upstream: motoUrl, stateDir });
  proxyUrl = `http://127.0.0.1:${await proxy.listen(0)}`;

  credsA = await assumeRole(ACCOUNT_A);
  credsB = await assumeRole(ACCOUNT_B);
  cfnA = cloudFormation(credsA);
  cfnB = cloudFormation(credsB);
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
  await admin('DELETE', 'cloudformation');
  await admin('POST', 'stats/reset');
});

describe('pure helpers', () => {
  it('validates the cloudformation plan section strictly', () => {
    expect(
      cloudFormationPlanSchema.safeParse({ updateDurationMs: 10, poisonedVersions: [{ version: '2.0.0' }] }).success,
    ).toBe(true);
    expect(cloudFormationPlanSchema.safeParse({ updateDurationMs: -1 }).success).toBe(false);
    expect(cloudFormationPlanSchema.safeParse({ poisonedVersions: [{ version: '2.0.0', extra: 1 }] }).success).toBe(
      false,
    );
    expect(cloudFormationPlanSchema.safeParse({ busyStacks: [{ regions: ['eu-west-1'] }] }).success).toBe(false);
    expect(cloudFormationPlanSchema.safeParse({ replacements: [{ resourceType: 'DynamoDB Table' }] }).success).toBe(
      false,
    );
  });

  it('matches plan entries by version and account', () => {
    const plan = cloudFormationPlanSchema.parse({
      poisonedVersions: [{ version: '6.6.6', accounts: [ACCOUNT_A] }],
      rollbackFailed: [{ version: '7.0.0' }],
      replacements: [
        { resourceType: 'AWS::DynamoDB::Table', versions: ['3.0.0'] },
        { resourceType: 'AWS::SSM::Parameter', accounts: [ACCOUNT_B] },
      ],
      alarms: [
        { version: '4.0.0', afterMs: 5 },
        { version: '4.0.0', alarmNameSuffix: '-latency' },
      ],
      busyStacks: [{ accounts: [ACCOUNT_A], regions: ['eu-west-1'], untilMs: 1000 }],
    });
    const at = (account: string, version?: string) => ({ account, region: REGION, version });
    expect(decideUpdateOutcome(plan, at(ACCOUNT_A, '6.6.6'))).toBe('rolled-back');
    expect(decideUpdateOutcome(plan, at(ACCOUNT_B, '6.6.6'))).toBe('applied');
    expect(decideUpdateOutcome(plan, at(ACCOUNT_B, '7.0.0'))).toBe('rollback-failed');
    expect(decideUpdateOutcome(plan, at(ACCOUNT_A))).toBe('applied');
    expect(decideUpdateOutcome(undefined, at(ACCOUNT_A, '6.6.6'))).toBe('applied');
    expect(replacedResourceTypes(plan, at(ACCOUNT_A, '3.0.0'))).toEqual(['AWS::DynamoDB::Table']);
    expect(replacedResourceTypes(plan, at(ACCOUNT_A, '3.1.0'))).toEqual([]);
    expect(replacedResourceTypes(plan, at(ACCOUNT_B, '3.1.0'))).toEqual(['AWS::SSM::Parameter']);
    expect(alarmTriggers(plan, 'pipe', at(ACCOUNT_A, '4.0.0'))).toEqual([
      { alarmName: 'pipe-health', afterMs: 5 },
      { alarmName: 'pipe-latency', afterMs: 0 },
    ]);
    expect(alarmTriggers(plan, 'pipe', at(ACCOUNT_A, '4.0.1'))).toEqual([]);
    expect(isStackBusy(plan, 1000, 1500, { account: ACCOUNT_A, region: REGION })).toBe(true);
    expect(isStackBusy(plan, 1000, 2000, { account: ACCOUNT_A, region: REGION })).toBe(false);
    expect(isStackBusy(plan, 1000, 1500, { account: ACCOUNT_A, region: 'us-east-1' })).toBe(false);
    expect(isStackBusy(plan, 1000, 1500, { account: ACCOUNT_B, region: REGION })).toBe(false);
  });

  it('reads and rewrites query-protocol XML member by member', () => {
    const xml =
      '<R><Stacks><member><StackName>a</StackName><Parameters><member><ParameterKey>k</ParameterKey></member></Parameters>' +
      '<StackStatus>CREATE_COMPLETE</StackStatus></member><member><StackName>b&amp;c</StackName><StackStatus>UPDATE_COMPLETE</StackStatus></member></Stacks></R>';
    expect(containerMembers(xml, 'Stacks').map((m) => xmlText(m.inner, 'StackName'))).toEqual(['a', 'b&c']);
    const rewritten = rewriteContainerMembers(xml, 'Stacks', (inner) =>
      xmlText(inner, 'StackName') === 'a' ? setXmlText(inner, 'StackStatus', 'UPDATE_IN_PROGRESS') : inner,
    );
    expect(rewritten).toContain(
      '<StackName>a</StackName><Parameters><member><ParameterKey>k</ParameterKey></member></Parameters><StackStatus>UPDATE_IN_PROGRESS</StackStatus>',
    );
    expect(rewritten).toContain('<StackName>b&amp;c</StackName><StackStatus>UPDATE_COMPLETE</StackStatus>');
    expect(filterContainerMembers(xml, 'Stacks', (inner) => xmlText(inner, 'StackName') === 'a')).not.toContain(
      'b&amp;c',
    );
    expect(appendContainerMembers('<X><Changes/></X>', 'Changes', ['<A>1</A>'])).toBe(
      '<X><Changes><member><A>1</A></member></Changes></X>',
    );
    expect(setXmlText('<E/>', 'E', 'x')).toBe('<E>x</E>');
    const form = new URLSearchParams(
      'Parameters.member.2.ParameterKey=B&Parameters.member.2.UsePreviousValue=true&Parameters.member.1.ParameterKey=PipelineVersion&Parameters.member.1.ParameterValue=2.0.0',
    );
    expect(formParameters(form)).toEqual([
      { key: 'PipelineVersion', value: '2.0.0', usePreviousValue: false },
      { key: 'B', usePreviousValue: true },
    ]);
    expect(stackNameOf('arn:aws:cloudformation:eu-west-1:200000000101:stack/pipe-x/0f1e')).toBe('pipe-x');
    expect(stackNameOf('pipe-x')).toBe('pipe-x');
    expect([
      ...templateResourceTypes(
        'Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n    Properties:\n      TableName: !Sub "${AWS::StackName}-t"\n',
      ),
    ]).toEqual([['T', 'AWS::DynamoDB::Table']]);
  });

  it('computes statuses from recorded times', () => {
    const ref = { account: ACCOUNT_A, region: REGION, stackName: 's' };
    const overlay = { ...ref, startedAt: 1000, endsAt: 2000, inProgress: 'UPDATE_IN_PROGRESS' as const, cause: 'test' };
    expect(overlayStatus({ ...overlay, terminal: 'UPDATE_ROLLBACK_COMPLETE' }, 1999)).toBe('UPDATE_IN_PROGRESS');
    expect(overlayStatus({ ...overlay, terminal: 'UPDATE_ROLLBACK_COMPLETE' }, 2000)).toBe('UPDATE_ROLLBACK_COMPLETE');
    expect(overlayStatus({ ...overlay, terminal: 'UPDATE_COMPLETE' }, 2000)).toBeUndefined();
    const state = new CloudFormationOverlay();
    const cs = {
      ...ref,
      changeSetName: 'c',
      arn: 'arn:c',
      stackId: 'arn:s',
      type: 'UPDATE' as const,
      version: '2.0.0',
    };
    const other = { ...cs, changeSetName: 'd', arn: 'arn:d' };
    state.rememberChangeSet(cs);
    state.rememberChangeSet(other);
    expect(state.changeSetByName(ref, 'c')).toBe(cs);
    const undo = state.obsoleteOthers(ref, 'arn:c');
    expect(changeSetExecutionStatus(other, 0)).toBe('OBSOLETE');
    undo();
    expect(changeSetExecutionStatus(other, 0)).toBeUndefined();
    expect(changeSetExecutionStatus({ ...cs, execution: { at: 0, endsAt: 10, outcome: 'rolled-back' } }, 5)).toBe(
      'EXECUTE_IN_PROGRESS',
    );
    expect(changeSetExecutionStatus({ ...cs, execution: { at: 0, endsAt: 10, outcome: 'rolled-back' } }, 10)).toBe(
      'EXECUTE_FAILED',
    );
  });

  it('replays a token: concurrent duplicates wait for the first, failures are not remembered', async () => {
    const tokens = new RequestTokens<{ status: number; n: number }>((r) => r.status === 200);
    const scope = { account: ACCOUNT_A, region: REGION, action: 'ExecuteChangeSet', stack: 's', token: 't' };
    let runs = 0;
    const work = async () => {
      runs++;
      await sleep(20);
      return { status: 200, n: runs };
    };
    const replay = (first: { status: number; n: number }) => ({ ...first, n: -first.n });
    const [a, b] = await Promise.all([tokens.run(scope, work, replay), tokens.run(scope, work, replay)]);
    expect([a.n, b.n, runs]).toEqual([1, -1, 1]);
    const failing = { ...scope, token: 'u' };
    await tokens.run(failing, async () => ({ status: 400, n: 0 }), replay);
    expect((await tokens.run(failing, work, replay)).n).toBe(2);
  });
});

describe('CloudFormation plan via the admin API', () => {
  it('rejects an invalid cloudformation section naming each bad field, and keeps the old plan', async () => {
    await putPlan({ cloudformation: { updateDurationMs: 100 } });
    const res = await admin('PUT', 'faults', {
      cloudformation: {
        updateDurationMs: -5,
        poisonedVersions: [{ version: '' }],
        replacements: [{ resourceType: 'dynamodb table' }],
        busyStacks: [{ accounts: ['12345'] }],
        alarms: [{ version: '2.0.0', afterMs: 'soon' }],
        surprise: true,
      },
    });
    expect(res.status).toBe(400);
    for (const field of [
      'cloudformation.updateDurationMs',
      'cloudformation.poisonedVersions[0].version',
      'cloudformation.replacements[0].resourceType',
      'cloudformation.busyStacks[0].accounts[0]',
      'cloudformation.alarms[0].afterMs',
      'surprise',
    ]) {
      expect(res.json.message).toContain(field);
    }
    expect((await admin<unknown>('GET', 'faults')).json).toEqual({
      rules: [],
      cloudformation: { updateDurationMs: 100 },
    });
  });

  it('persists the cloudformation section with the rest of the plan', async () => {
    const plan = {
      rules: [],
      cloudformation: { updateDurationMs: 250, poisonedVersions: [{ version: '6.6.6', accounts: [ACCOUNT_A] }] },
    };
    await putPlan(plan);
    const reloaded = createAwsProxy({ upstream: motoUrl, stateDir });
    expect(reloaded.faults.plan).toEqual(plan);
    await reloaded.close();
  });
});

describe('CloudFormation behaviours moto lacks', () => {
  it('reports UPDATE_IN_PROGRESS for updateDurationMs, then UPDATE_COMPLETE with the new parameters', async () => {
    await putPlan({ cloudformation: { updateDurationMs: 1500 } });
    const stackName = uniqueStackName('async');
    const stackId = await createPipelineStack(cfnA, stackName);
    const changeSetId = await createUpgradeChangeSet(cfnA, stackName, '2.0.0');
    expect((await cfnA.send(new DescribeChangeSetCommand({ ChangeSetName: changeSetId }))).ExecutionStatus).toBe(
      'AVAILABLE',
    );

    const started = Date.now();
    await cfnA.send(new ExecuteChangeSetCommand({ StackName: stackName, ChangeSetName: 'upgrade-2-0-0' }));
    expect((await describeStack(cfnA, stackName)).StackStatus).toBe('UPDATE_IN_PROGRESS');
    expect(
      (await cfnA.send(new DescribeChangeSetCommand({ StackName: stackName, ChangeSetName: 'upgrade-2-0-0' })))
        .ExecutionStatus,
    ).toBe('EXECUTE_IN_PROGRESS');
    const listed = await cfnA.send(new ListChangeSetsCommand({ StackName: stackName }));
    expect(listed.Summaries?.map((s) => s.ExecutionStatus)).toEqual(['EXECUTE_IN_PROGRESS']);
    const summaries = (await cfnA.send(new ListStacksCommand({}))).StackSummaries ?? [];
    expect(summaries.find((s) => s.StackId === stackId)?.StackStatus).toBe('UPDATE_IN_PROGRESS');

    // another update while it runs is refused like AWS does
    const busy = await caught(
      cfnA.send(
        new UpdateStackCommand({
          StackName: stackName,
          UsePreviousTemplate: true,
          Parameters: [{ ParameterKey: 'PipelineVersion', ParameterValue: '2.0.1' }],
        }),
      ),
    );
    expect([busy.name, busy.$metadata.httpStatusCode, busy.message]).toEqual([
      'ValidationError',
      400,
      `Stack:${stackId} is in UPDATE_IN_PROGRESS state and can not be updated.`,
    ]);
    const busyChangeSet = await caught(createUpgradeChangeSet(cfnA, stackName, '2.0.1'));
    expect(busyChangeSet.message).toBe(`Stack:${stackId} is in UPDATE_IN_PROGRESS state and can not be updated.`);

    const done = await waitForStatus(cfnA, stackName, 'UPDATE_COMPLETE');
    expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
    expect(versionOf(done)).toBe('2.0.0');
    expect((await cfnA.send(new DescribeChangeSetCommand({ ChangeSetName: changeSetId }))).ExecutionStatus).toBe(
      'EXECUTE_COMPLETE',
    );
    expect(await executions()).toEqual([
      {
        account: ACCOUNT_A,
        region: REGION,
        stackName,
        changeSetName: 'upgrade-2-0-0',
        version: '2.0.0',
        count: 1,
        createdAt: expect.any(Number),
        executedAt: expect.any(Number),
        updateEndsAt: expect.any(Number),
      },
    ]);
    const [entry] = await executions();
    expect(entry.createdAt!).toBeLessThanOrEqual(entry.executedAt);
    expect(entry.executedAt).toBeLessThanOrEqual(entry.updateEndsAt);
  });

  it('rolls back a poisoned version in the listed account only, keeping the old parameters', async () => {
    await putPlan({
      cloudformation: { updateDurationMs: 600, poisonedVersions: [{ version: '6.6.6', accounts: [ACCOUNT_A] }] },
    });
    const stackName = uniqueStackName('poison');
    await createPipelineStack(cfnA, stackName);
    await createPipelineStack(cfnB, stackName);
    const csA = await createUpgradeChangeSet(cfnA, stackName, '6.6.6');
    const csB = await createUpgradeChangeSet(cfnB, stackName, '6.6.6');
    await cfnA.send(new ExecuteChangeSetCommand({ ChangeSetName: csA }));
    await cfnB.send(new ExecuteChangeSetCommand({ ChangeSetName: csB }));

    expect((await describeStack(cfnA, stackName)).StackStatus).toBe('UPDATE_IN_PROGRESS');
    const rolledBack = await waitForStatus(cfnA, stackName, 'UPDATE_ROLLBACK_COMPLETE');
    expect(versionOf(rolledBack)).toBe('1.0.0');
    expect((await cfnA.send(new DescribeChangeSetCommand({ ChangeSetName: csA }))).ExecutionStatus).toBe(
      'EXECUTE_FAILED',
    );
    const other = await waitForStatus(cfnB, stackName, 'UPDATE_COMPLETE');
    expect(versionOf(other)).toBe('6.6.6');

    const ledger = await executions();
    expect(ledger.map((e) => [e.account, e.version, e.count])).toEqual([
      [ACCOUNT_A, '6.6.6', 1],
      [ACCOUNT_B, '6.6.6', 1],
    ]);
    // UPDATE_ROLLBACK_COMPLETE is updatable again
    const fixed = await createUpgradeChangeSet(cfnA, stackName, '6.6.7');
    await cfnA.send(new ExecuteChangeSetCommand({ ChangeSetName: fixed }));
    expect(versionOf(await waitForStatus(cfnA, stackName, 'UPDATE_COMPLETE'))).toBe('6.6.7');
  });

  it('leaves a rollbackFailed version in UPDATE_ROLLBACK_FAILED, refusing updates until ContinueUpdateRollback', async () => {
    await putPlan({ cloudformation: { rollbackFailed: [{ version: '7.0.0', accounts: [ACCOUNT_A] }] } });
    const stackName = uniqueStackName('rbfail');
    const stackId = await createPipelineStack(cfnA, stackName);
    const cs = await createUpgradeChangeSet(cfnA, stackName, '7.0.0');
    await cfnA.send(new ExecuteChangeSetCommand({ ChangeSetName: cs }));
    const failed = await describeStack(cfnA, stackName);
    expect([failed.StackStatus, versionOf(failed)]).toEqual(['UPDATE_ROLLBACK_FAILED', '1.0.0']);

    const refusal = `Stack:${stackId} is in UPDATE_ROLLBACK_FAILED state and can not be updated.`;
    const viaChangeSet = await caught(createUpgradeChangeSet(cfnA, stackName, '7.0.1'));
    expect([viaChangeSet.name, viaChangeSet.message]).toEqual(['ValidationError', refusal]);
    const viaUpdate = await caught(
      cfnA.send(
        new UpdateStackCommand({
          StackName: stackName,
          UsePreviousTemplate: true,
          Parameters: [{ ParameterKey: 'PipelineVersion', ParameterValue: '7.0.1' }],
        }),
      ),
    );
    expect(viaUpdate.message).toBe(refusal);
    await sleep(50);
    expect((await describeStack(cfnA, stackName)).StackStatus).toBe('UPDATE_ROLLBACK_FAILED');

    await cfnA.send(new ContinueUpdateRollbackCommand({ StackName: stackName }));
    expect((await describeStack(cfnA, stackName)).StackStatus).toBe('UPDATE_ROLLBACK_COMPLETE');
    const again = await caught(cfnA.send(new ContinueUpdateRollbackCommand({ StackName: stackName })));
    expect(again.name).toBe('ValidationError');
    await createUpgradeChangeSet(cfnA, stackName, '7.0.1');
  });

  it('reports replacement of AWS::DynamoDB::Table resources only for the configured version', async () => {
    await putPlan({
      cloudformation: { replacements: [{ resourceType: 'AWS::DynamoDB::Table', versions: ['3.0.0'] }] },
    });
    const stackName = uniqueStackName('replace');
    await createPipelineStack(cfnA, stackName);
    const replacing = await createUpgradeChangeSet(cfnA, stackName, '3.0.0');
    const described = await cfnA.send(new DescribeChangeSetCommand({ ChangeSetName: replacing }));
    const replaced = (described.Changes ?? []).filter((c: Change) => c.ResourceChange?.Replacement === 'True');
    expect(replaced.map((c) => c.ResourceChange)).toEqual([
      expect.objectContaining({
        Action: 'Modify',
        LogicalResourceId: 'StateTable',
        PhysicalResourceId: `${stackName}-state`,
        ResourceType: 'AWS::DynamoDB::Table',
        Replacement: 'True',
      }),
    ]);

    const plain = await createUpgradeChangeSet(cfnA, stackName, '3.1.0');
    const plainChanges = (await cfnA.send(new DescribeChangeSetCommand({ ChangeSetName: plain }))).Changes ?? [];
    expect(plainChanges.filter((c) => c.ResourceChange?.Replacement === 'True')).toEqual([]);
  });

  it('sets the stack health alarm to ALARM after the execution, in the matching account only', async () => {
    await putPlan({
      cloudformation: {
        alarms: [
          { version: '4.0.0', accounts: [ACCOUNT_A] },
          { version: '4.1.0', afterMs: 700 },
        ],
      },
    });
    const stackName = uniqueStackName('alarm');
    await createPipelineStack(cfnA, stackName);
    await createPipelineStack(cfnB, stackName);
    const alarmName = `${stackName}-health`;

    await cfnA.send(
      new ExecuteChangeSetCommand({ ChangeSetName: await createUpgradeChangeSet(cfnA, stackName, '4.0.0') }),
    );
    await cfnB.send(
      new ExecuteChangeSetCommand({ ChangeSetName: await createUpgradeChangeSet(cfnB, stackName, '4.0.0') }),
    );
    expect(await alarmState(credsA, alarmName)).toBe('ALARM');
    expect(await alarmState(credsB, alarmName)).not.toBe('ALARM');

    // afterMs: not yet right after the execution, ALARM a little later
    await cfnB.send(
      new ExecuteChangeSetCommand({ ChangeSetName: await createUpgradeChangeSet(cfnB, stackName, '4.1.0') }),
    );
    expect(await alarmState(credsB, alarmName)).not.toBe('ALARM');
    const deadline = Date.now() + 5000;
    while ((await alarmState(credsB, alarmName)) !== 'ALARM' && Date.now() < deadline) await sleep(100);
    expect(await alarmState(credsB, alarmName)).toBe('ALARM');
    const state = (
      await admin<{ alarms: Array<{ account: string; alarmName: string; result: string }> }>('GET', 'cloudformation')
    ).json;
    expect(state.alarms.map((a) => [a.account, a.alarmName, a.result])).toEqual([
      [ACCOUNT_A, alarmName, 'ALARM'],
      [ACCOUNT_B, alarmName, 'ALARM'],
    ]);
  });

  it('reports busy stacks as UPDATE_IN_PROGRESS and refuses updates until untilMs', async () => {
    const stackName = uniqueStackName('busy');
    const stackId = await createPipelineStack(cfnA, stackName);
    await createPipelineStack(cfnB, stackName);
    await putPlan({ cloudformation: { busyStacks: [{ accounts: [ACCOUNT_A], regions: [REGION], untilMs: 1500 }] } });

    expect((await describeStack(cfnA, stackName)).StackStatus).toBe('UPDATE_IN_PROGRESS');
    expect((await describeStack(cfnB, stackName)).StackStatus).toBe('CREATE_COMPLETE');
    const refused = await caught(createUpgradeChangeSet(cfnA, stackName, '5.0.0'));
    expect([refused.name, refused.$metadata.httpStatusCode, refused.message]).toEqual([
      'ValidationError',
      400,
      `Stack:${stackId} is in UPDATE_IN_PROGRESS state and can not be updated.`,
    ]);
    await createUpgradeChangeSet(cfnB, stackName, '5.0.0');

    await waitForStatus(cfnA, stackName, 'CREATE_COMPLETE', 5000);
    const cs = await createUpgradeChangeSet(cfnA, stackName, '5.0.0');
    await cfnA.send(new ExecuteChangeSetCommand({ ChangeSetName: cs }));
    expect(versionOf(await describeStack(cfnA, stackName))).toBe('5.0.0');
  });

  it('keeps a stack busy while the plan lasts when untilMs is omitted, and refuses ExecuteChangeSet too', async () => {
    const stackName = uniqueStackName('busy-forever');
    const stackId = await createPipelineStack(cfnA, stackName);
    const cs = await createUpgradeChangeSet(cfnA, stackName, '5.1.0');
    await putPlan({ cloudformation: { busyStacks: [{ accounts: [ACCOUNT_A] }] } });
    const refused = await caught(cfnA.send(new ExecuteChangeSetCommand({ ChangeSetName: cs })));
    expect(refused.message).toBe(`Stack:${stackId} is in UPDATE_IN_PROGRESS state and can not be updated.`);
    await sleep(300);
    expect((await describeStack(cfnA, stackName)).StackStatus).toBe('UPDATE_IN_PROGRESS');
    await admin('DELETE', 'faults');
    expect((await describeStack(cfnA, stackName)).StackStatus).toBe('CREATE_COMPLETE');
    await cfnA.send(new ExecuteChangeSetCommand({ ChangeSetName: cs }));
    expect(await executions()).toMatchObject([{ stackName, changeSetName: 'upgrade-5-1-0', count: 1 }]);
  });
});

describe('idempotency and the execution ledger (always on)', () => {
  it('replays ExecuteChangeSet with the same token (one execution, both succeed); a second execute without it is InvalidChangeSetStatus', async () => {
    const stackName = uniqueStackName('token');
    await createPipelineStack(cfnA, stackName);
    const cs = await createUpgradeChangeSet(cfnA, stackName, '2.0.0');
    await admin('POST', 'stats/reset');

    const token = 'upgrade-2-0-0-attempt-1';
    const first = await cfnA.send(
      new ExecuteChangeSetCommand({ StackName: stackName, ChangeSetName: 'upgrade-2-0-0', ClientRequestToken: token }),
    );
    const second = await cfnA.send(
      new ExecuteChangeSetCommand({ StackName: stackName, ChangeSetName: 'upgrade-2-0-0', ClientRequestToken: token }),
    );
    expect(second.$metadata.requestId).toBe(first.$metadata.requestId);
    expect((await admin<ProxyStatsSnapshot>('GET', 'stats')).json.forwarded).toBe(1);
    expect(await executions()).toEqual([
      {
        account: ACCOUNT_A,
        region: REGION,
        stackName,
        changeSetName: 'upgrade-2-0-0',
        version: '2.0.0',
        count: 1,
        createdAt: expect.any(Number),
        executedAt: expect.any(Number),
        updateEndsAt: expect.any(Number),
      },
    ]);
    const [entry] = await executions();
    expect(entry.createdAt!).toBeLessThanOrEqual(entry.executedAt);
    expect(entry.executedAt).toBeLessThanOrEqual(entry.updateEndsAt);

    const again = await caught(
      cfnA.send(new ExecuteChangeSetCommand({ StackName: stackName, ChangeSetName: 'upgrade-2-0-0' })),
    );
    expect([again.name, again.$metadata.httpStatusCode, again.message]).toEqual([
      'InvalidChangeSetStatusException',
      400,
      `ChangeSet [${cs}] cannot be executed in its current status of [EXECUTE_COMPLETE]`,
    ]);
    const otherToken = await caught(
      cfnA.send(new ExecuteChangeSetCommand({ ChangeSetName: cs, ClientRequestToken: 'another-token' })),
    );
    expect(otherToken.name).toBe('InvalidChangeSetStatusException');
    expect((await executions())[0].count).toBe(1);
  });

  it('executes once when the same token arrives concurrently', async () => {
    await putPlan({ cloudformation: { updateDurationMs: 300 } });
    const stackName = uniqueStackName('token-race');
    await createPipelineStack(cfnA, stackName);
    const cs = await createUpgradeChangeSet(cfnA, stackName, '2.0.0');
    const results = await Promise.allSettled(
      Array.from({ length: 5 }, () =>
        cfnA.send(new ExecuteChangeSetCommand({ ChangeSetName: cs, ClientRequestToken: 'race' })),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(Array(5).fill('fulfilled'));
    const untokened = await Promise.allSettled(
      Array.from({ length: 3 }, () => cfnA.send(new ExecuteChangeSetCommand({ ChangeSetName: cs }))),
    );
    expect(untokened.map((r) => r.status)).toEqual(Array(3).fill('rejected'));
    expect((await executions()).map((e) => e.count)).toEqual([1]);
  });

  it('replays CreateStack, UpdateStack and CreateChangeSet tokens instead of doing the work again', async () => {
    const stackName = uniqueStackName('token-create');
    const create = (token: string) =>
      cfnA.send(
        new CreateStackCommand({
          StackName: stackName,
          TemplateBody: TEMPLATE,
          Parameters: [{ ParameterKey: 'PipelineVersion', ParameterValue: '1.0.0' }],
          ClientRequestToken: token,
        }),
      );
    const a = await create('create-1');
    const b = await create('create-1');
    expect(b.StackId).toBe(a.StackId);
    expect((await caught(create('create-2'))).name).toBe('AlreadyExistsException');

    const changeSet = (token: string, name: string) =>
      cfnA.send(
        new CreateChangeSetCommand({
          StackName: stackName,
          ChangeSetName: name,
          ChangeSetType: 'UPDATE',
          UsePreviousTemplate: true,
          Parameters: [{ ParameterKey: 'PipelineVersion', ParameterValue: '2.0.0' }],
          ClientToken: token,
        }),
      );
    const cs1 = await changeSet('cs-token', 'first');
    const cs2 = await changeSet('cs-token', 'first');
    expect(cs2.Id).toBe(cs1.Id);
    expect((await cfnA.send(new ListChangeSetsCommand({ StackName: stackName }))).Summaries).toHaveLength(1);

    const update = () =>
      cfnA.send(
        new UpdateStackCommand({
          StackName: stackName,
          UsePreviousTemplate: true,
          Parameters: [{ ParameterKey: 'PipelineVersion', ParameterValue: '2.1.0' }],
          ClientRequestToken: 'update-1',
        }),
      );
    await update();
    await update(); // moto would answer "No updates are to be performed."
    expect(versionOf(await describeStack(cfnA, stackName))).toBe('2.1.0');
    // the update made the unexecuted change set obsolete, as in AWS
    const obsolete = await caught(cfnA.send(new ExecuteChangeSetCommand({ ChangeSetName: cs1.Id })));
    expect(obsolete.message).toBe(`ChangeSet [${cs1.Id}] cannot be executed in its current status of [OBSOLETE]`);
  });

  it('executes the named change set of the named stack even when another stack has a namesake', async () => {
    const one = uniqueStackName('namesake');
    const two = uniqueStackName('namesake');
    await createPipelineStack(cfnA, one);
    await createPipelineStack(cfnA, two);
    await createUpgradeChangeSet(cfnA, one, '2.0.0', 'upgrade');
    await createUpgradeChangeSet(cfnA, two, '3.0.0', 'upgrade');
    await cfnA.send(new ExecuteChangeSetCommand({ StackName: one, ChangeSetName: 'upgrade' }));
    expect(versionOf(await describeStack(cfnA, one))).toBe('2.0.0');
    expect(versionOf(await describeStack(cfnA, two))).toBe('1.0.0');
    const described = await cfnA.send(new DescribeChangeSetCommand({ StackName: two, ChangeSetName: 'upgrade' }));
    expect([described.StackName, described.ExecutionStatus]).toEqual([two, 'AVAILABLE']);
  });

  it('serves the ledger and resets it with DELETE', async () => {
    const stackName = uniqueStackName('ledger');
    await createPipelineStack(cfnB, stackName);
    await cfnB.send(
      new ExecuteChangeSetCommand({ ChangeSetName: await createUpgradeChangeSet(cfnB, stackName, '2.0.0') }),
    );
    const got = await admin<{ executions: ChangeSetExecution[] }>('GET', 'cloudformation/executions');
    expect(got.status).toBe(200);
    expect(got.json).toEqual({
      executions: [
        {
          account: ACCOUNT_B,
          region: REGION,
          stackName,
          changeSetName: 'upgrade-2-0-0',
          version: '2.0.0',
          count: 1,
          createdAt: expect.any(Number),
          executedAt: expect.any(Number),
          updateEndsAt: expect.any(Number),
        },
      ],
    });
    const reset = await admin<{ executions: ChangeSetExecution[] }>('DELETE', 'cloudformation/executions');
    expect(reset.json).toEqual({ executions: [] });
    expect(await executions()).toEqual([]);
  });
});
