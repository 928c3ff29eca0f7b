import {
  CreateChangeSetCommand,
  DeleteChangeSetCommand,
  DescribeChangeSetCommand,
  ExecuteChangeSetCommand,
  type DescribeChangeSetCommandOutput,
} from '@aws-sdk/client-cloudformation';
import { PIPELINE_VERSION_PARAMETER } from '../../../fleet/pipeline-stack';
import type { AccountAwsDeps, AccountRegion, PollHooks } from '../account-region';
import { FleetOpsError } from '../errors';
import { cfnCall, cfnFor, isAwsCode, isMissingChangeSet } from './cloudformation-calls';
import { currentTemplate, requireStack } from './stack-reads';
import { versionParameters } from './stack-updates';

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

/** A change set of the account's pipeline stack in one region. */
export type ChangeSetRef = AccountRegion & { changeSetName: string };

/** Execution statuses that mean "this change set was executed already" (a retried execute is then a success). */
export const EXECUTED_STATUSES = ['EXECUTE_IN_PROGRESS', 'EXECUTE_COMPLETE', 'EXECUTE_FAILED'];

/** Change-set statuses CloudFormation is still working on. */
export const CHANGE_SET_CREATING_STATUSES = ['CREATE_PENDING', 'CREATE_IN_PROGRESS'];

/** Describes a change set with all its changes (every page); `found: false` if there is none by that name. */
export async function describeChangeSet(
  deps: AccountAwsDeps,
  req: ChangeSetRef & { hooks?: PollHooks },
): Promise<ChangeSetState> {
  const cfn = cfnFor(deps, req);
  const changes: ChangeSetChange[] = [];
  let first: DescribeChangeSetCommandOutput | undefined;
  let nextToken: string | undefined;
  try {
    do {
      const page = await cfnCall(
        deps,
        req,
        'DescribeChangeSet',
        () =>
          cfn.send(
            new DescribeChangeSetCommand({
              StackName: req.account.pipeline.stackName,
              ChangeSetName: req.changeSetName,
              NextToken: nextToken,
            }),
          ),
        req.hooks,
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
    if (isMissingChangeSet(err)) return { name: req.changeSetName, found: false };
    throw err;
  }
  return {
    name: req.changeSetName,
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
  if (CHANGE_SET_CREATING_STATUSES.includes(cs.status)) return true;
  return cs.status === 'CREATE_COMPLETE' && cs.executionStatus === 'AVAILABLE';
}

export type CreateChangeSetRequest = ChangeSetRef & {
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
  deps: AccountAwsDeps,
  req: CreateChangeSetRequest,
): Promise<{ changeSetName: string; reused: boolean }> {
  const { changeSetName } = req;
  const existing = await describeChangeSet(deps, req);
  if (isReusable(existing, req.version)) return { changeSetName, reused: true };
  if (existing.found) await deleteChangeSet(deps, req);

  const stack = await requireStack(deps, req);
  const templateBody = await currentTemplate(deps, req);
  const cfn = cfnFor(deps, req);
  try {
    await cfnCall(deps, req, 'CreateChangeSet', () =>
      cfn.send(
        new CreateChangeSetCommand({
          StackName: req.account.pipeline.stackName,
          ChangeSetName: changeSetName,
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
      const again = await describeChangeSet(deps, req);
      if (isReusable(again, req.version)) return { changeSetName, reused: true };
    }
    throw err;
  }
  return { changeSetName, reused: false };
}

/**
 * Executes a change set. Idempotent: a change set that is already executing or executed (a retry
 * after a lost answer) counts as success with `alreadyExecuted: true`; the caller then checks the stack.
 */
export async function executeChangeSet(
  deps: AccountAwsDeps,
  req: ChangeSetRef & { clientRequestToken: string },
): Promise<{ alreadyExecuted: boolean }> {
  const cfn = cfnFor(deps, req);
  try {
    await cfnCall(deps, req, 'ExecuteChangeSet', () =>
      cfn.send(
        new ExecuteChangeSetCommand({
          StackName: req.account.pipeline.stackName,
          ChangeSetName: req.changeSetName,
          ClientRequestToken: req.clientRequestToken,
        }),
      ),
    );
    return { alreadyExecuted: false };
  } catch (err) {
    if (!(err instanceof FleetOpsError) || err.retryable) throw err;
    const cs = await describeChangeSet(deps, req);
    if (cs.found && EXECUTED_STATUSES.includes(cs.executionStatus)) return { alreadyExecuted: true };
    throw err;
  }
}

/** Deletes a change set if it exists (describe first: moto answers a delete of a missing one with HTTP 500). */
export async function deleteChangeSet(deps: AccountAwsDeps, req: ChangeSetRef): Promise<{ deleted: boolean }> {
  const existing = await describeChangeSet(deps, req);
  if (!existing.found) return { deleted: false };
  const cfn = cfnFor(deps, req);
  try {
    await cfnCall(deps, req, 'DeleteChangeSet', () =>
      cfn.send(
        new DeleteChangeSetCommand({ StackName: req.account.pipeline.stackName, ChangeSetName: req.changeSetName }),
      ),
    );
    return { deleted: true };
  } catch (err) {
    if (isMissingChangeSet(err)) return { deleted: false };
    throw err;
  }
}
