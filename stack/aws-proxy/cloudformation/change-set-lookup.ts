/** Which change set a request names: one the proxy saw created, or (after a proxy restart) one moto knows. */
import { PIPELINE_VERSION_PARAMETER } from '../../../fleet/pipeline-stack';
import type { ChangeSetRecord } from './cloudformation-overlay';
import { isChangeSetArn, stackNameOf, xmlParameters, xmlText } from './cloudformation-xml';
import { isOk, stackRef, type CallContext } from './layer-context';
import { motoQuery } from './moto-calls';

/** The change set a request names (by ARN, or by name + StackName), if the proxy saw it created. */
export function knownChangeSet(ctx: CallContext): ChangeSetRecord | undefined {
  const { overlay } = ctx.layer;
  const name = ctx.params.get('ChangeSetName') ?? '';
  if (isChangeSetArn(name)) return overlay.changeSetByArn(name);
  const stack = ctx.params.get('StackName');
  return stack ? overlay.changeSetByName(stackRef(ctx, stack), name) : undefined;
}

/** A change set created before the proxy knew it (e.g. the proxy restarted): ask moto. */
export async function lookupChangeSet(ctx: CallContext): Promise<ChangeSetRecord | undefined> {
  const name = ctx.params.get('ChangeSetName');
  if (!name) return undefined;
  const stack = ctx.params.get('StackName');
  const res = await motoQuery(ctx.layer, ctx, 'cloudformation', {
    Action: 'DescribeChangeSet',
    ChangeSetName: name,
    ...(stack ? { StackName: stack } : {}),
  });
  if (!isOk(res)) return undefined;
  const xml = res.body.toString('utf8');
  const arn = xmlText(xml, 'ChangeSetId');
  const stackId = xmlText(xml, 'StackId');
  const stackName = xmlText(xml, 'StackName');
  const executionStatus = xmlText(xml, 'ExecutionStatus');
  if (!arn || !stackId || !stackName) return undefined;
  if (stack && stackNameOf(stack) !== stackName) return undefined; // moto found a namesake on another stack
  if (executionStatus !== 'AVAILABLE' && executionStatus !== 'EXECUTE_COMPLETE') return undefined;
  const record: ChangeSetRecord = {
    account: ctx.account,
    region: ctx.region,
    stackName,
    changeSetName: xmlText(xml, 'ChangeSetName') ?? name,
    arn,
    stackId,
    type: 'UPDATE',
    version: xmlParameters(xml)[PIPELINE_VERSION_PARAMETER],
  };
  if (executionStatus === 'EXECUTE_COMPLETE') record.execution = { at: 0, endsAt: 0, outcome: 'applied' };
  ctx.layer.overlay.rememberChangeSet(record);
  return record;
}
