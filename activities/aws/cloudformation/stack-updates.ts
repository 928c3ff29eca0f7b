import { UpdateStackCommand, type Parameter, type Stack } from '@aws-sdk/client-cloudformation';
import { PIPELINE_VERSION_PARAMETER } from '../../../fleet/pipeline-stack';
import type { AccountAwsDeps, AccountRegion } from '../account-region';
import { FleetOpsError } from '../errors';
import { cfnCall, cfnFor } from './cloudformation-calls';
import { currentTemplate, requireStack } from './stack-reads';

/** The stack's parameters with PipelineVersion set to `version` and every other one kept as it is. */
export function versionParameters(stack: Stack, version: string): Parameter[] {
  const params: Parameter[] = (stack.Parameters ?? [])
    .filter((p) => p.ParameterKey && p.ParameterKey !== PIPELINE_VERSION_PARAMETER)
    .map((p) => ({ ParameterKey: p.ParameterKey, UsePreviousValue: true }));
  return [...params, { ParameterKey: PIPELINE_VERSION_PARAMETER, ParameterValue: version }];
}

export type RollbackStackRequest = AccountRegion & {
  /** The PipelineVersion to move back to. */
  version: string;
  /** Deterministic: a retried update with the same token is the same update. */
  clientRequestToken: string;
};

/**
 * Starts moving the stack back to `version` (UpdateStack with its current template, PipelineVersion
 * = version, other parameters kept). `started: false` when the stack already is at that version
 * ("No updates are to be performed"). Wait with waitForStackStatus afterwards.
 */
export async function rollbackStack(deps: AccountAwsDeps, req: RollbackStackRequest): Promise<{ started: boolean }> {
  const stack = await requireStack(deps, req);
  const templateBody = await currentTemplate(deps, req);
  const cfn = cfnFor(deps, req);
  try {
    await cfnCall(deps, req, 'UpdateStack', () =>
      cfn.send(
        new UpdateStackCommand({
          StackName: req.account.pipeline.stackName,
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
