import {
  CreateChangeSetCommand,
  DeleteChangeSetCommand,
  DescribeChangeSetCommand,
  DescribeStacksCommand,
  ExecuteChangeSetCommand,
  GetTemplateCommand,
  UpdateStackCommand,
  type DescribeChangeSetCommandOutput,
  type Parameter,
  type Stack,
} from '@aws-sdk/client-cloudformation';
import { ErrorType } from '../../fleet/error-types';
import type { FleetAccount } from '../../fleet/fleet-schema';
import type { AccountCredentials } from './account-credentials';
import { callAws, DEFAULT_AWS_CALL_OPTIONS } from './aws-call';
import type { AwsClients } from './aws-clients';
import { FleetOpsError } from './errors';
import type { RateLimits } from './rate-limiter';

/** The CloudFormation parameter that carries the pipeline version of a customer's stack. */
export const PIPELINE_VERSION_PARAMETER = 'PipelineVersion';

export type PipelineStackState =
  | { region: string; stackName: string; found: true; status: string; version: string | null }
  | { region: string; stackName: string; found: false };

export type CloudFormationDeps = { clients: AwsClients; credentials: AccountCredentials; limits: RateLimits };

/** Reads the customer's pipeline stack in one region: its status and version (read-only). */
export async function describePipelineStack(
  deps: CloudFormationDeps,
  account: FleetAccount,
  region: string,
  runId: string,
): Promise<PipelineStackState> {
  const stackName = account.pipeline.stackName;
  const cfn = deps.clients.cloudFormation(region, deps.credentials.provider(account, runId), `${account.id}/${runId}`);
  try {
    const out = await callAws(
      deps.limits,
      { family: 'cloudformation', api: 'DescribeStacks', region, accountId: account.id },
      () => cfn.send(new DescribeStacksCommand({ StackName: stackName })),
    );
    const stack = out.Stacks?.[0];
    if (!stack) return { region, stackName, found: false };
    const version =
      stack.Parameters?.find((p) => p.ParameterKey === PIPELINE_VERSION_PARAMETER)?.ParameterValue ?? null;
    return { region, stackName, found: true, status: stack.StackStatus ?? 'UNKNOWN', version };
  } catch (err) {
    // DescribeStacks answers a ValidationError "Stack with id X does not exist" for a missing stack.
    if (
      err instanceof FleetOpsError &&
      err.context.awsCode === 'ValidationError' &&
      /does not exist/.test(err.message)
    ) {
      return { region, stackName, found: false };
    }
    throw err;
  }
}

// ---- upgrades: change sets, execution, waiting, rollback ----

/** One resource change of a change set, as the upgrade workflow reviews it. */
export type ChangeSetChange = {
  action: string;
  logicalId: string;
  resourceType: string;
  /** CloudFormation's Replacement for a Modify: True, False or Conditional. */
  replacement?: string;
};

export type ChangeSetState =
  | { name: string; found: false }
  | {
      name: string;
      found: true;
      /** CREATE_PENDING | CREATE_IN_PROGRESS | CREATE_COMPLETE | DELETE_* | FAILED */
      status: string;
      /** UNAVAILABLE | AVAILABLE | EXECUTE_IN_PROGRESS | EXECUTE_COMPLETE | EXECUTE_FAILED | OBSOLETE */
      executionStatus: string;
      statusReason?: string;
      /** The PipelineVersion the change set deploys. */
      version: string | null;
      changes: ChangeSetChange[];
    };

/** A stack as the upgrade sees it: status, version and CloudFormation's reason for the status. */
export type StackSnapshot =
  | { region: string; stackName: string; found: true; status: string; version: string | null; statusReason?: string }
  | { region: string; stackName: string; found: false };

/** How the polling loops wait and report liveness (an activity passes its heartbeat and cancellable sleep). */
export type PollHooks = { heartbeat?: (details?: unknown) => void; sleep?: (ms: number) => Promise<void> };

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Execution statuses that mean "this change set was executed already" (a retried execute is then a success). */
export const EXECUTED_STATUSES = ['EXECUTE_IN_PROGRESS', 'EXECUTE_COMPLETE', 'EXECUTE_FAILED'];

/** True for statuses CloudFormation is still working on (someone's update, a cleanup, a rollback). */
export function isStackBusy(status: string): boolean {
  return status.endsWith('_IN_PROGRESS');
}

function cfnFor(deps: CloudFormationDeps, account: FleetAccount, region: string, runId: string) {
  return deps.clients.cloudFormation(region, deps.credentials.provider(account, runId), `${account.id}/${runId}`);
}

function cfnCall<T>(
  deps: CloudFormationDeps,
  account: FleetAccount,
  region: string,
  api: string,
  call: () => Promise<T>,
  hooks?: PollHooks,
): Promise<T> {
  return callAws(deps.limits, { family: 'cloudformation', api, region, accountId: account.id }, call, {
    ...DEFAULT_AWS_CALL_OPTIONS,
    onRetry: () => hooks?.heartbeat?.(),
  });
}

function isMissingStack(err: unknown): boolean {
  return (
    err instanceof FleetOpsError && err.context.awsCode === 'ValidationError' && /does not exist/.test(err.message)
  );
}

/** DescribeChangeSet of a name that is not there: ChangeSetNotFound on AWS, a "does not exist" ValidationError on moto. */
function isMissingChangeSet(err: unknown): boolean {
  if (!(err instanceof FleetOpsError)) return false;
  return /^ChangeSetNotFound/.test(err.context.awsCode ?? '') || isMissingStack(err);
}

function isAwsCode(err: unknown, pattern: RegExp): boolean {
  return err instanceof FleetOpsError && pattern.test(err.context.awsCode ?? '');
}

/** Reads the pipeline stack with its status reason (for upgrades). */
export async function readPipelineStack(
  deps: CloudFormationDeps,
  account: FleetAccount,
  region: string,
  runId: string,
  hooks?: PollHooks,
): Promise<StackSnapshot> {
  const stackName = account.pipeline.stackName;
  const stack = await describeStack(deps, account, region, runId, hooks);
  if (!stack) return { region, stackName, found: false };
  return {
    region,
    stackName,
    found: true,
    status: stack.StackStatus ?? 'UNKNOWN',
    version: stack.Parameters?.find((p) => p.ParameterKey === PIPELINE_VERSION_PARAMETER)?.ParameterValue ?? null,
    ...(stack.StackStatusReason ? { statusReason: stack.StackStatusReason } : {}),
  };
}

async function describeStack(
  deps: CloudFormationDeps,
  account: FleetAccount,
  region: string,
  runId: string,
  hooks?: PollHooks,
): Promise<Stack | undefined> {
  const cfn = cfnFor(deps, account, region, runId);
  try {
    const out = await cfnCall(
      deps,
      account,
      region,
      'DescribeStacks',
      () => cfn.send(new DescribeStacksCommand({ StackName: account.pipeline.stackName })),
      hooks,
    );
    return out.Stacks?.[0];
  } catch (err) {
    if (isMissingStack(err)) return undefined;
    throw err;
  }
}

async function requireStack(
  deps: CloudFormationDeps,
  account: FleetAccount,
  region: string,
  runId: string,
): Promise<Stack> {
  const stack = await describeStack(deps, account, region, runId);
  if (!stack) {
    throw new FleetOpsError(
      ErrorType.StackMissing,
      `stack ${account.pipeline.stackName} does not exist in account ${account.id} ${region}`,
      { accountId: account.id, region },
    );
  }
  return stack;
}

/** The stack's parameters with PipelineVersion set to `version` and every other one kept as it is. */
function versionParameters(stack: Stack, version: string): Parameter[] {
  const params: Parameter[] = (stack.Parameters ?? [])
    .filter((p) => p.ParameterKey && p.ParameterKey !== PIPELINE_VERSION_PARAMETER)
    .map((p) => ({ ParameterKey: p.ParameterKey, UsePreviousValue: true }));
  return [...params, { ParameterKey: PIPELINE_VERSION_PARAMETER, ParameterValue: version }];
}

/**
 * The stack's current template body. Sent explicitly instead of UsePreviousTemplate (which moto
 * answers with HTTP 500); "Original" keeps transforms for CloudFormation to expand again.
 */
async function currentTemplate(
  deps: CloudFormationDeps,
  account: FleetAccount,
  region: string,
  runId: string,
): Promise<string> {
  const cfn = cfnFor(deps, account, region, runId);
  const out = await cfnCall(deps, account, region, 'GetTemplate', () =>
    cfn.send(new GetTemplateCommand({ StackName: account.pipeline.stackName, TemplateStage: 'Original' })),
  );
  if (!out.TemplateBody)
    throw new FleetOpsError(
      ErrorType.AwsUnavailable,
      `GetTemplate of ${account.pipeline.stackName} in account ${account.id} ${region} returned no body`,
      { accountId: account.id, region },
    );
  return out.TemplateBody;
}

/** Describes a change set with all its changes (every page); `found: false` if there is none by that name. */
export async function describeChangeSet(
  deps: CloudFormationDeps,
  account: FleetAccount,
  region: string,
  runId: string,
  changeSetName: string,
  hooks?: PollHooks,
): Promise<ChangeSetState> {
  const cfn = cfnFor(deps, account, region, runId);
  const changes: ChangeSetChange[] = [];
  let first: DescribeChangeSetCommandOutput | undefined;
  let nextToken: string | undefined;
  try {
    do {
      const page = await cfnCall(
        deps,
        account,
        region,
        'DescribeChangeSet',
        () =>
          cfn.send(
            new DescribeChangeSetCommand({
              StackName: account.pipeline.stackName,
              ChangeSetName: changeSetName,
              NextToken: nextToken,
            }),
          ),
        hooks,
      );
      first ??= page;
      for (const c of page.Changes ?? []) {
        const rc = c.ResourceChange;
        if (!rc) continue;
        changes.push({
          action: rc.Action ?? 'Unknown',
          logicalId: rc.LogicalResourceId ?? '?',
          resourceType: rc.ResourceType ?? '?',
          ...(rc.Replacement ? { replacement: rc.Replacement } : {}),
        });
      }
      nextToken = page.NextToken;
    } while (nextToken);
  } catch (err) {
    if (isMissingChangeSet(err)) return { name: changeSetName, found: false };
    throw err;
  }
  return {
    name: changeSetName,
    found: true,
    status: first.Status ?? 'UNKNOWN',
    executionStatus: first.ExecutionStatus ?? 'UNKNOWN',
    ...(first.StatusReason ? { statusReason: first.StatusReason } : {}),
    version: first.Parameters?.find((p) => p.ParameterKey === PIPELINE_VERSION_PARAMETER)?.ParameterValue ?? null,
    changes,
  };
}

/** A change set that can still be executed (or is still being created). */
function isReusable(cs: ChangeSetState, version: string): boolean {
  if (!cs.found || cs.version !== version) return false;
  if (['CREATE_PENDING', 'CREATE_IN_PROGRESS'].includes(cs.status)) return true;
  return cs.status === 'CREATE_COMPLETE' && cs.executionStatus === 'AVAILABLE';
}

export type CreateChangeSetRequest = {
  changeSetName: string;
  /** Deterministic: a retried request with the same token is the same request. */
  clientToken: string;
  /** PipelineVersion the change set deploys; the template is the stack's current one. */
  version: string;
  description?: string;
};

/**
 * Creates a change set moving the pipeline stack to `version` with its current template and other
 * parameters unchanged. Idempotent: an executable change set of that name and version is reused
 * (`reused: true`); a stale one (executed, failed, other version) is deleted and created again.
 */
export async function createChangeSet(
  deps: CloudFormationDeps,
  account: FleetAccount,
  region: string,
  runId: string,
  req: CreateChangeSetRequest,
): Promise<{ changeSetName: string; reused: boolean }> {
  const existing = await describeChangeSet(deps, account, region, runId, req.changeSetName);
  if (isReusable(existing, req.version)) return { changeSetName: req.changeSetName, reused: true };
  if (existing.found) await deleteChangeSet(deps, account, region, runId, req.changeSetName);

  const stack = await requireStack(deps, account, region, runId);
  const templateBody = await currentTemplate(deps, account, region, runId);
  const cfn = cfnFor(deps, account, region, runId);
  try {
    await cfnCall(deps, account, region, 'CreateChangeSet', () =>
      cfn.send(
        new CreateChangeSetCommand({
          StackName: account.pipeline.stackName,
          ChangeSetName: req.changeSetName,
          ChangeSetType: 'UPDATE',
          TemplateBody: templateBody,
          Parameters: versionParameters(stack, req.version),
          ...(stack.Capabilities?.length ? { Capabilities: stack.Capabilities } : {}),
          ClientToken: req.clientToken,
          ...(req.description ? { Description: req.description.slice(0, 1024) } : {}),
        }),
      ),
    );
  } catch (err) {
    // Created by an earlier attempt of this request whose answer was lost: use it.
    if (isAwsCode(err, /^AlreadyExists/)) {
      const again = await describeChangeSet(deps, account, region, runId, req.changeSetName);
      if (isReusable(again, req.version)) return { changeSetName: req.changeSetName, reused: true };
    }
    throw err;
  }
  return { changeSetName: req.changeSetName, reused: false };
}

/**
 * Waits until a change set is created (CREATE_COMPLETE) or has failed (FAILED), then describes it.
 * Polls every `pollMs`, reporting liveness through `hooks.heartbeat`.
 */
export async function waitForChangeSet(
  deps: CloudFormationDeps,
  account: FleetAccount,
  region: string,
  runId: string,
  changeSetName: string,
  opts: PollHooks & { pollMs?: number } = {},
): Promise<ChangeSetState> {
  const sleep = opts.sleep ?? defaultSleep;
  for (;;) {
    const cs = await describeChangeSet(deps, account, region, runId, changeSetName, opts);
    opts.heartbeat?.(cs.found ? cs.status : 'missing');
    if (!cs.found || !['CREATE_PENDING', 'CREATE_IN_PROGRESS'].includes(cs.status)) return cs;
    await sleep(opts.pollMs ?? 2000);
  }
}

/**
 * Executes a change set. Idempotent: a change set that is already executing or executed (a retry
 * after a lost answer) counts as success with `alreadyExecuted: true`; the caller then checks the stack.
 */
export async function executeChangeSet(
  deps: CloudFormationDeps,
  account: FleetAccount,
  region: string,
  runId: string,
  req: { changeSetName: string; clientRequestToken: string },
): Promise<{ alreadyExecuted: boolean }> {
  const cfn = cfnFor(deps, account, region, runId);
  try {
    await cfnCall(deps, account, region, 'ExecuteChangeSet', () =>
      cfn.send(
        new ExecuteChangeSetCommand({
          StackName: account.pipeline.stackName,
          ChangeSetName: req.changeSetName,
          ClientRequestToken: req.clientRequestToken,
        }),
      ),
    );
    return { alreadyExecuted: false };
  } catch (err) {
    if (!(err instanceof FleetOpsError) || err.retryable) throw err;
    const cs = await describeChangeSet(deps, account, region, runId, req.changeSetName);
    if (cs.found && EXECUTED_STATUSES.includes(cs.executionStatus)) return { alreadyExecuted: true };
    throw err;
  }
}

/** Deletes a change set if it exists (describe first: moto answers a delete of a missing one with HTTP 500). */
export async function deleteChangeSet(
  deps: CloudFormationDeps,
  account: FleetAccount,
  region: string,
  runId: string,
  changeSetName: string,
): Promise<{ deleted: boolean }> {
  const existing = await describeChangeSet(deps, account, region, runId, changeSetName);
  if (!existing.found) return { deleted: false };
  const cfn = cfnFor(deps, account, region, runId);
  try {
    await cfnCall(deps, account, region, 'DeleteChangeSet', () =>
      cfn.send(new DeleteChangeSetCommand({ StackName: account.pipeline.stackName, ChangeSetName: changeSetName })),
    );
    return { deleted: true };
  } catch (err) {
    if (isMissingChangeSet(err)) return { deleted: false };
    throw err;
  }
}

/**
 * Polls DescribeStacks every `pollMs` until the stack leaves every *_IN_PROGRESS status, heartbeating
 * each poll; returns the settled stack. (A missing stack is returned as such.)
 */
export async function waitForStackStatus(
  deps: CloudFormationDeps,
  account: FleetAccount,
  region: string,
  runId: string,
  opts: PollHooks & { pollMs?: number } = {},
): Promise<StackSnapshot> {
  const sleep = opts.sleep ?? defaultSleep;
  for (;;) {
    const stack = await readPipelineStack(deps, account, region, runId, opts);
    opts.heartbeat?.(stack.found ? stack.status : 'missing');
    if (!stack.found || !isStackBusy(stack.status)) return stack;
    await sleep(opts.pollMs ?? 2000);
  }
}

/**
 * Starts moving the stack back to `version` (UpdateStack with its current template, PipelineVersion
 * = version, other parameters kept). `started: false` when the stack already is at that version
 * ("No updates are to be performed"). Wait with waitForStackStatus afterwards.
 */
export async function rollbackStack(
  deps: CloudFormationDeps,
  account: FleetAccount,
  region: string,
  runId: string,
  req: { version: string; clientRequestToken: string },
): Promise<{ started: boolean }> {
  const stack = await requireStack(deps, account, region, runId);
  const templateBody = await currentTemplate(deps, account, region, runId);
  const cfn = cfnFor(deps, account, region, runId);
  try {
    await cfnCall(deps, account, region, 'UpdateStack', () =>
      cfn.send(
        new UpdateStackCommand({
          StackName: account.pipeline.stackName,
          TemplateBody: templateBody,
          Parameters: versionParameters(stack, req.version),
          ...(stack.Capabilities?.length ? { Capabilities: stack.Capabilities } : {}),
          ClientRequestToken: req.clientRequestToken,
        }),
      ),
    );
    return { started: true };
  } catch (err) {
    if (
      err instanceof FleetOpsError &&
      err.context.awsCode === 'ValidationError' &&
      /No updates are to be performed/i.test(err.message)
    ) {
      return { started: false };
    }
    throw err;
  }
}
