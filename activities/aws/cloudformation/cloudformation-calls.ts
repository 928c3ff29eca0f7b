import type { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import type { AccountAwsDeps, AccountRegion, PollHooks } from '../account-region';
import { callAws, DEFAULT_AWS_CALL_OPTIONS } from '../aws-call';
import { FleetOpsError } from '../errors';

/** The CloudFormation client acting in the account and region (role session named by `runId`). */
export function cfnFor(deps: AccountAwsDeps, at: AccountRegion): CloudFormationClient {
  const { account, region, runId } = at;
  return deps.clients.cloudFormation(region, deps.credentials.provider(account, runId), `${account.id}/${runId}`);
}

/** One CloudFormation call within the rate budgets, retried when retryable (heartbeating each retry). */
export function cfnCall<T>(
  deps: AccountAwsDeps,
  at: AccountRegion,
  api: string,
  call: () => Promise<T>,
  hooks?: PollHooks,
): Promise<T> {
  return callAws(deps.limits, { family: 'cloudformation', api, region: at.region, accountId: at.account.id }, call, {
    ...DEFAULT_AWS_CALL_OPTIONS,
    onRetry: () => hooks?.heartbeat?.(),
  });
}

/** DescribeStacks answers a ValidationError "Stack with id X does not exist" for a missing stack. */
export function isMissingStack(err: unknown): boolean {
  return (
    err instanceof FleetOpsError && err.context.awsCode === 'ValidationError' && /does not exist/.test(err.message)
  );
}

/** DescribeChangeSet of a name that is not there: ChangeSetNotFound on AWS, a "does not exist" ValidationError on moto. */
export function isMissingChangeSet(err: unknown): boolean {
  if (!(err instanceof FleetOpsError)) return false;
  return /^ChangeSetNotFound/.test(err.context.awsCode ?? '') || isMissingStack(err);
}

export function isAwsCode(err: unknown, pattern: RegExp): boolean {
  return err instanceof FleetOpsError && pattern.test(err.context.awsCode ?? '');
}
