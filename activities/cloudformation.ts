import { DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import type { FleetAccount } from '../fleet/fleet-schema';
import type { AccountCredentials } from './account-credentials';
import { callAws } from './aws-call';
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
  const cfn = deps.clients.cloudFormation(region, deps.credentials.provider(account, runId));
  try {
    const out = await callAws(
      deps.limits,
      { family: 'cloudformation', api: 'DescribeStacks', region, accountId: account.id },
      () => cfn.send(new DescribeStacksCommand({ StackName: stackName })),
    );
    const stack = out.Stacks?.[0];
    if (!stack) return { region, stackName, found: false };
    const version = stack.Parameters?.find((p) => p.ParameterKey === PIPELINE_VERSION_PARAMETER)?.ParameterValue ?? null;
    return { region, stackName, found: true, status: stack.StackStatus ?? 'UNKNOWN', version };
  } catch (err) {
    // DescribeStacks answers a ValidationError "Stack with id X does not exist" for a missing stack.
    if (err instanceof FleetOpsError && err.context.awsCode === 'ValidationError' && /does not exist/.test(err.message)) {
      return { region, stackName, found: false };
    }
    throw err;
  }
}
