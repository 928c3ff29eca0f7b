import { DescribeStacksCommand, GetTemplateCommand, type Stack } from '@aws-sdk/client-cloudformation';
import { ErrorType } from '../../../fleet/error-types';
import { PIPELINE_VERSION_PARAMETER } from '../../../fleet/pipeline-stack';
import type { AccountAwsDeps, AccountRegion, PollHooks } from '../account-region';
import { FleetOpsError } from '../errors';
import { cfnCall, cfnFor, isMissingStack } from './cloudformation-calls';

/**
 * The customer's pipeline stack in one region: status, version and CloudFormation's reason for the
 * status. Inventory reports it and the upgrade decides on it; it is an activity result, so it is
 * recorded in workflow histories (`statusReason` is absent from inventories recorded before it existed).
 */
export type PipelineStackState =
  | { region: string; stackName: string; found: true; status: string; version: string | null; statusReason?: string }
  | { region: string; stackName: string; found: false };

/** True for statuses CloudFormation is still working on (someone's update, a cleanup, a rollback). */
export function isStackBusy(status: string): boolean {
  return status.endsWith('_IN_PROGRESS');
}

/** Reads the account's pipeline stack in one region (read-only); `found: false` when there is none. */
export async function readPipelineStack(
  deps: AccountAwsDeps,
  req: AccountRegion & { hooks?: PollHooks },
): Promise<PipelineStackState> {
  const { region } = req;
  const stackName = req.account.pipeline.stackName;
  const stack = await describeStack(deps, req, req.hooks);
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

/** DescribeStacks of the pipeline stack; undefined when it does not exist. */
export async function describeStack(
  deps: AccountAwsDeps,
  at: AccountRegion,
  hooks?: PollHooks,
): Promise<Stack | undefined> {
  const cfn = cfnFor(deps, at);
  try {
    const out = await cfnCall(
      deps,
      at,
      'DescribeStacks',
      () => cfn.send(new DescribeStacksCommand({ StackName: at.account.pipeline.stackName })),
      hooks,
    );
    return out.Stacks?.[0];
  } catch (err) {
    if (isMissingStack(err)) return undefined;
    throw err;
  }
}

/** The pipeline stack, or a StackMissing error. */
export async function requireStack(deps: AccountAwsDeps, at: AccountRegion): Promise<Stack> {
  const stack = await describeStack(deps, at);
  if (!stack) {
    throw new FleetOpsError(
      ErrorType.StackMissing,
      `stack ${at.account.pipeline.stackName} does not exist in account ${at.account.id} ${at.region}`,
      { accountId: at.account.id, region: at.region },
    );
  }
  return stack;
}

/**
 * The stack's current template body. Sent explicitly instead of UsePreviousTemplate (which moto
 * answers with HTTP 500); "Original" keeps transforms for CloudFormation to expand again.
 */
export async function currentTemplate(deps: AccountAwsDeps, at: AccountRegion): Promise<string> {
  const { account, region } = at;
  const cfn = cfnFor(deps, at);
  const out = await cfnCall(deps, at, 'GetTemplate', () =>
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
