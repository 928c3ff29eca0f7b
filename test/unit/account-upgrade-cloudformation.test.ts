import { describe, expect, it } from 'vitest';
import type { AccountCredentials } from '../../activities/aws/account-credentials';
import type { AwsClients } from '../../activities/aws/aws-clients';
import type { AccountAwsDeps, AccountRegion } from '../../activities/aws/account-region';
import {
  createChangeSet,
  deleteChangeSet,
  executeChangeSet,
  readPipelineStack,
  rollbackStack,
  waitForChangeSet,
  waitForStackStatus,
} from '../../activities/aws/cloudformation';
import { describeAlarmStates } from '../../activities/aws/cloudwatch';
import { RateLimits } from '../../activities/aws/rate-limiter';
import { RateBudgetsSchema } from '../../fleet/rate-budgets';
import type { FleetAccount } from '../../fleet/fleet-schema';

// The idempotency edges of the upgrade's CloudFormation calls with AWS's own answers (which moto does
// not give: AlreadyExistsException, ChangeSetNotFoundException, InvalidChangeSetStatus). The real
// path runs in test/integration/account-upgrade.test.ts.
const account: FleetAccount = {
  id: '111111111111',
  customer: 'c',
  ring: 'canary',
  regions: ['eu-west-1'],
  roleArn: 'arn:aws:iam::111111111111:role/R',
  externalIdRef: 'secret/data/x',
  pipeline: { stackName: 'pipe', version: '1.0.0' },
  tags: {},
  state: 'active',
};
const at: AccountRegion = { account, region: 'eu-west-1', runId: 'run' };

type Sent = { command: string; input: Record<string, unknown> };
type Handler = (command: string, input: Record<string, unknown>, n: number) => unknown;

const awsError = (name: string, message: string, status = 400) =>
  Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status } });

function fakeAws(handler: Handler) {
  const sent: Sent[] = [];
  const client = {
    send: async (cmd: { constructor: { name: string }; input: Record<string, unknown> }) => {
      const command = cmd.constructor.name.replace(/Command$/, '');
      sent.push({ command, input: cmd.input });
      const out = handler(command, cmd.input, sent.filter((s) => s.command === command).length);
      if (out instanceof Error) throw out;
      return out ?? {};
    },
  };
  const deps: AccountAwsDeps = {
    clients: { cloudFormation: () => client, cloudWatch: () => client } as unknown as AwsClients,
    credentials: {
      provider: () => async () => ({ accessKeyId: 'x', secretAccessKey: 'y' }),
    } as unknown as AccountCredentials,
    limits: new RateLimits(RateBudgetsSchema.parse({})),
  };
  return { deps, sent, commands: () => sent.map((s) => s.command) };
}

const STACK = {
  StackName: 'pipe',
  StackStatus: 'UPDATE_COMPLETE',
  Capabilities: ['CAPABILITY_IAM'],
  Parameters: [
    { ParameterKey: 'PipelineVersion', ParameterValue: '1.0.0' },
    { ParameterKey: 'Size', ParameterValue: 'large' },
  ],
};
const noChangeSet = () => awsError('ChangeSetNotFoundException', 'ChangeSet [cs] does not exist');
const changeSet = (o: Record<string, unknown> = {}) => ({
  Status: 'CREATE_COMPLETE',
  ExecutionStatus: 'AVAILABLE',
  Parameters: [{ ParameterKey: 'PipelineVersion', ParameterValue: '1.1.0' }],
  Changes: [],
  ...o,
});
const REQ = { changeSetName: 'cs', clientToken: 'tok', version: '1.1.0' };

describe('createChangeSet', () => {
  it("sends the current template, the new version, the other parameters as they are and the stack's capabilities", async () => {
    const aws = fakeAws((cmd) => {
      if (cmd === 'DescribeChangeSet') return noChangeSet();
      if (cmd === 'DescribeStacks') return { Stacks: [STACK] };
      if (cmd === 'GetTemplate') return { TemplateBody: '{"Resources":{}}' };
      return { Id: 'arn:cs' };
    });
    expect(await createChangeSet(aws.deps, { ...at, ...REQ })).toEqual({
      changeSetName: 'cs',
      reused: false,
    });
    const create = aws.sent.find((s) => s.command === 'CreateChangeSet')!.input;
    expect(create).toMatchObject({
      StackName: 'pipe',
      ChangeSetName: 'cs',
      ChangeSetType: 'UPDATE',
      TemplateBody: '{"Resources":{}}',
      ClientToken: 'tok',
      Capabilities: ['CAPABILITY_IAM'],
      Parameters: [
        { ParameterKey: 'Size', UsePreviousValue: true },
        { ParameterKey: 'PipelineVersion', ParameterValue: '1.1.0' },
      ],
    });
    expect(create).not.toHaveProperty('UsePreviousTemplate');
  });

  it('reuses an executable change set of that name and version (a retried create)', async () => {
    const aws = fakeAws((cmd) => (cmd === 'DescribeChangeSet' ? changeSet() : awsError('Unexpected', cmd)));
    expect(await createChangeSet(aws.deps, { ...at, ...REQ })).toEqual({
      changeSetName: 'cs',
      reused: true,
    });
    expect(aws.commands()).toEqual(['DescribeChangeSet']);
  });

  it('replaces a stale one (executed by an earlier attempt) with a new change set', async () => {
    const aws = fakeAws((cmd, _input, n) => {
      if (cmd === 'DescribeChangeSet')
        return n <= 2 ? changeSet({ ExecutionStatus: 'EXECUTE_COMPLETE' }) : noChangeSet();
      if (cmd === 'DescribeStacks') return { Stacks: [STACK] };
      if (cmd === 'GetTemplate') return { TemplateBody: '{}' };
      return {};
    });
    expect(await createChangeSet(aws.deps, { ...at, ...REQ })).toEqual({
      changeSetName: 'cs',
      reused: false,
    });
    expect(aws.commands()).toEqual([
      'DescribeChangeSet',
      'DescribeChangeSet',
      'DeleteChangeSet',
      'DescribeStacks',
      'GetTemplate',
      'CreateChangeSet',
    ]);
  });

  it('AlreadyExists from a create whose first answer was lost: describes and uses the existing one', async () => {
    const aws = fakeAws((cmd, _input, n) => {
      if (cmd === 'DescribeChangeSet')
        return n === 1 ? noChangeSet() : changeSet({ Status: 'CREATE_IN_PROGRESS', ExecutionStatus: 'UNAVAILABLE' });
      if (cmd === 'DescribeStacks') return { Stacks: [STACK] };
      if (cmd === 'GetTemplate') return { TemplateBody: '{}' };
      return awsError('AlreadyExistsException', 'ChangeSet cs already exists');
    });
    expect(await createChangeSet(aws.deps, { ...at, ...REQ })).toEqual({
      changeSetName: 'cs',
      reused: true,
    });
  });

  it('a missing stack is StackMissing (non-retryable)', async () => {
    const aws = fakeAws((cmd) =>
      cmd === 'DescribeChangeSet' ? noChangeSet() : awsError('ValidationError', 'Stack with id pipe does not exist'),
    );
    await expect(createChangeSet(aws.deps, { ...at, ...REQ })).rejects.toMatchObject({
      name: 'StackMissing',
      retryable: false,
    });
  });
});

describe('waitForChangeSet', () => {
  it('polls (heartbeating) until CREATE_COMPLETE and returns the changes of every page', async () => {
    const beats: unknown[] = [];
    const aws = fakeAws((_cmd, input, n) => {
      if (n === 1) return changeSet({ Status: 'CREATE_IN_PROGRESS' });
      const page = input.NextToken
        ? {
            Changes: [
              { ResourceChange: { Action: 'Remove', LogicalResourceId: 'Old', ResourceType: 'AWS::S3::Bucket' } },
            ],
          }
        : {
            NextToken: 'p2',
            Changes: [
              {
                ResourceChange: {
                  Action: 'Modify',
                  LogicalResourceId: 'T',
                  ResourceType: 'AWS::DynamoDB::Table',
                  Replacement: 'True',
                },
              },
            ],
          };
      return changeSet(page);
    });
    const cs = await waitForChangeSet(aws.deps, {
      ...at,
      changeSetName: 'cs',
      hooks: { heartbeat: (d) => beats.push(d), sleep: async () => undefined },
    });
    expect(cs).toMatchObject({
      found: true,
      status: 'CREATE_COMPLETE',
      version: '1.1.0',
      changes: [
        { action: 'Modify', logicalId: 'T', resourceType: 'AWS::DynamoDB::Table', replacement: 'True' },
        { action: 'Remove', logicalId: 'Old', resourceType: 'AWS::S3::Bucket' },
      ],
    });
    expect(beats).toEqual(['CREATE_IN_PROGRESS', 'CREATE_COMPLETE']);
  });
});

describe('executeChangeSet', () => {
  it('sends the ClientRequestToken', async () => {
    const aws = fakeAws(() => ({}));
    expect(await executeChangeSet(aws.deps, { ...at, changeSetName: 'cs', clientRequestToken: 'x-1' })).toEqual({
      alreadyExecuted: false,
    });
    expect(aws.sent[0].input).toMatchObject({ StackName: 'pipe', ChangeSetName: 'cs', ClientRequestToken: 'x-1' });
  });

  it('"already executed" on a retry is success', async () => {
    const aws = fakeAws((cmd) =>
      cmd === 'ExecuteChangeSet'
        ? awsError(
            'InvalidChangeSetStatusException',
            'ChangeSet [cs] cannot be executed in its current status of [EXECUTE_IN_PROGRESS]',
          )
        : changeSet({ ExecutionStatus: 'EXECUTE_IN_PROGRESS' }),
    );
    expect(await executeChangeSet(aws.deps, { ...at, changeSetName: 'cs', clientRequestToken: 'x-1' })).toEqual({
      alreadyExecuted: true,
    });
  });

  it('an obsolete change set is a non-retryable rejection', async () => {
    const aws = fakeAws((cmd) =>
      cmd === 'ExecuteChangeSet'
        ? awsError('InvalidChangeSetStatusException', 'obsolete')
        : changeSet({ ExecutionStatus: 'OBSOLETE' }),
    );
    await expect(
      executeChangeSet(aws.deps, { ...at, changeSetName: 'cs', clientRequestToken: 'x' }),
    ).rejects.toMatchObject({
      name: 'AwsRequestRejected',
      retryable: false,
    });
  });
});

describe('deleteChangeSet', () => {
  it('deletes an existing change set; a missing one is not an error and is not sent a delete', async () => {
    const present = fakeAws((cmd) => (cmd === 'DescribeChangeSet' ? changeSet() : {}));
    expect(await deleteChangeSet(present.deps, { ...at, changeSetName: 'cs' })).toEqual({ deleted: true });
    const missing = fakeAws(() => noChangeSet());
    expect(await deleteChangeSet(missing.deps, { ...at, changeSetName: 'cs' })).toEqual({ deleted: false });
    expect(missing.commands()).toEqual(['DescribeChangeSet']);
  });
});

describe('readPipelineStack', () => {
  it('reads status, version and status reason; a missing stack is found: false (inventory and upgrade read the same)', async () => {
    const aws = fakeAws(() => ({ Stacks: [{ ...STACK, StackStatusReason: 'done' }] }));
    expect(await readPipelineStack(aws.deps, at)).toEqual({
      region: 'eu-west-1',
      stackName: 'pipe',
      found: true,
      status: 'UPDATE_COMPLETE',
      version: '1.0.0',
      statusReason: 'done',
    });
    const missing = fakeAws(() => awsError('ValidationError', 'Stack with id pipe does not exist'));
    expect(await readPipelineStack(missing.deps, at)).toEqual({ region: 'eu-west-1', stackName: 'pipe', found: false });
  });
});

describe('waitForStackStatus', () => {
  it('polls through *_IN_PROGRESS (heartbeating each poll) and returns the settled stack', async () => {
    const statuses = ['UPDATE_IN_PROGRESS', 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS', 'UPDATE_COMPLETE'];
    const beats: unknown[] = [];
    const aws = fakeAws((_cmd, _input, n) => ({ Stacks: [{ ...STACK, StackStatus: statuses[n - 1] }] }));
    const stack = await waitForStackStatus(aws.deps, {
      ...at,
      hooks: { heartbeat: (d) => beats.push(d), sleep: async () => undefined },
    });
    expect(stack).toMatchObject({ found: true, status: 'UPDATE_COMPLETE', version: '1.0.0' });
    expect(beats).toEqual(statuses);
  });
});

describe('rollbackStack', () => {
  it('updates the stack back to the old version; "No updates are to be performed" means it is there already', async () => {
    const aws = fakeAws((cmd) => {
      if (cmd === 'DescribeStacks')
        return { Stacks: [{ ...STACK, Parameters: [{ ParameterKey: 'PipelineVersion', ParameterValue: '1.1.0' }] }] };
      if (cmd === 'GetTemplate') return { TemplateBody: '{}' };
      return {};
    });
    expect(await rollbackStack(aws.deps, { ...at, version: '1.0.0', clientRequestToken: 'rb-1' })).toEqual({
      started: true,
    });
    expect(aws.sent.find((s) => s.command === 'UpdateStack')!.input).toMatchObject({
      TemplateBody: '{}',
      ClientRequestToken: 'rb-1',
      Parameters: [{ ParameterKey: 'PipelineVersion', ParameterValue: '1.0.0' }],
    });
    const noop = fakeAws((cmd) => {
      if (cmd === 'DescribeStacks') return { Stacks: [STACK] };
      if (cmd === 'GetTemplate') return { TemplateBody: '{}' };
      return awsError('ValidationError', 'No updates are to be performed.');
    });
    expect(await rollbackStack(noop.deps, { ...at, version: '1.0.0', clientRequestToken: 'rb-1' })).toEqual({
      started: false,
    });
  });
});

describe('describeAlarmStates', () => {
  it('reads metric and composite alarms by name and lists the names it did not find', async () => {
    const aws = fakeAws(() => ({
      MetricAlarms: [{ AlarmName: 'pipe-health', StateValue: 'ALARM', StateReason: 'threshold crossed' }],
      CompositeAlarms: [{ AlarmName: 'pipe-composite', StateValue: 'OK' }],
    }));
    expect(
      await describeAlarmStates(aws.deps, { ...at, alarmNames: ['pipe-health', 'pipe-composite', 'pipe-gone'] }),
    ).toEqual({
      alarms: [
        { name: 'pipe-health', state: 'ALARM', reason: 'threshold crossed' },
        { name: 'pipe-composite', state: 'OK' },
      ],
      missing: ['pipe-gone'],
    });
    expect(aws.sent[0].input).toMatchObject({ AlarmNames: ['pipe-health', 'pipe-composite', 'pipe-gone'] });
  });
});
