/**
 * CreateStack, DeleteStack, UpdateStack, ContinueUpdateRollback, DescribeStacks and ListStacks:
 * token idempotency, simulated updates (slow, rolled back, rollback failed) and the simulated
 * statuses laid over moto's.
 */
import { PIPELINE_VERSION_PARAMETER } from '../../../fleet/pipeline-stack';
import type { BufferedResponse } from '../core/upstream-forwarder';
import { decideUpdateOutcome, type DeployTarget } from './cloudformation-faults';
import { terminalStatusFor, type StackRef } from './cloudformation-overlay';
import {
  explicitParameter,
  renderCloudFormationResult,
  rewriteContainerMembers,
  setXmlText,
  xmlText,
} from './cloudformation-xml';
import { xmlEscape } from '../core/aws-errors';
import { answer, passThrough, validationError } from './layer-answers';
import { isOk, stackRef, withToken, type CallContext, type LayerResponse } from './layer-context';
import { forwardToMoto } from './moto-calls';
import { isBusy, refuseIfBlocked, resolveStackId, simulatedStatus, updateOverlay } from './stack-status';

export function createStack(ctx: CallContext): Promise<LayerResponse> {
  const { overlay } = ctx.layer;
  const ref = stackRef(ctx, ctx.params.get('StackName'));
  return withToken(ctx, 'CreateStack', ref.stackName, ctx.params.get('ClientRequestToken'), async () => {
    const res = await forwardToMoto(ctx);
    if (isOk(res)) {
      overlay.forgetStack(ref);
      const stackId = xmlText(res.body.toString('utf8'), 'StackId');
      if (stackId) overlay.rememberStackId(ref, stackId);
    }
    return passThrough(res);
  });
}

export function deleteStack(ctx: CallContext): Promise<LayerResponse> {
  const ref = stackRef(ctx, ctx.params.get('StackName'));
  return withToken(ctx, 'DeleteStack', ref.stackName, ctx.params.get('ClientRequestToken'), async () => {
    const res = await forwardToMoto(ctx);
    if (isOk(res)) ctx.layer.overlay.forgetStack(ref);
    return passThrough(res);
  });
}

export function updateStack(ctx: CallContext): Promise<LayerResponse> {
  const { layer } = ctx;
  const { overlay } = layer;
  const ref = stackRef(ctx, ctx.params.get('StackName'));
  return withToken(ctx, 'UpdateStack', ref.stackName, ctx.params.get('ClientRequestToken'), async () => {
    const stackId = await resolveStackId(ctx, ref);
    if (!stackId) return passThrough(await forwardToMoto(ctx)); // moto answers "does not exist"
    // From here to marking the update there is no await: concurrent updates cannot both pass.
    const now = layer.now();
    const refused = refuseIfBlocked(layer, ref, stackId, now);
    if (refused) return refused;
    const { plan } = layer.plan();
    const target: DeployTarget = {
      account: ref.account,
      region: ref.region,
      version: explicitParameter(ctx.params, PIPELINE_VERSION_PARAMETER),
    };
    const outcome = decideUpdateOutcome(plan, target);
    const durationMs = plan?.updateDurationMs ?? 0;
    const previous = overlay.overlayOf(ref);
    overlay.setOverlay(updateOverlay(ref, stackId, now, durationMs, terminalStatusFor(outcome), 'UpdateStack'));
    const undoObsolete = overlay.obsoleteOthers(ref);
    const undo = (): void => {
      undoObsolete();
      overlay.restoreOverlay(ref, previous);
    };
    if (outcome !== 'applied') {
      layer.log(
        `aws-proxy cloudformation UpdateStack ${ref.account}/${ref.region}/${ref.stackName} version=${target.version} simulated ${outcome}`,
      );
      return answer(
        renderCloudFormationResult('UpdateStack', `<StackId>${xmlEscape(stackId)}</StackId>`),
        `simulated-${outcome}`,
      );
    }
    let res: BufferedResponse;
    try {
      res = await forwardToMoto(ctx);
    } catch (err) {
      undo();
      throw err;
    }
    if (!isOk(res)) {
      undo();
      return passThrough(res);
    }
    await layer.alarms.fire(ctx, ref.stackName, target);
    return passThrough(res);
  });
}

export function continueUpdateRollback(ctx: CallContext): Promise<LayerResponse> {
  const { layer } = ctx;
  const ref = stackRef(ctx, ctx.params.get('StackName'));
  return withToken(ctx, 'ContinueUpdateRollback', ref.stackName, ctx.params.get('ClientRequestToken'), async () => {
    const stackId = await resolveStackId(ctx, ref);
    if (!stackId) return validationError(`Stack [${ref.stackName}] does not exist`);
    const now = layer.now();
    if (layer.overlay.statusOf(ref, now, stackId) !== 'UPDATE_ROLLBACK_FAILED' || isBusy(layer, ref, now)) {
      return validationError('ContinueUpdateRollback cannot be called from current stack status');
    }
    const durationMs = layer.plan().plan?.updateDurationMs ?? 0;
    layer.overlay.setOverlay({
      ...updateOverlay(ref, stackId, now, durationMs, 'UPDATE_ROLLBACK_COMPLETE', 'ContinueUpdateRollback'),
      inProgress: 'UPDATE_ROLLBACK_IN_PROGRESS',
    });
    return answer(renderCloudFormationResult('ContinueUpdateRollback', ''), 'simulated-continue-rollback');
  });
}

/** DescribeStacks and ListStacks: moto's answer with the simulated statuses laid over it. */
export async function describeStacks(ctx: CallContext): Promise<LayerResponse> {
  const { layer } = ctx;
  const res = await forwardToMoto(ctx);
  if (!isOk(res)) return passThrough(res);
  const describe = ctx.req.info.action === 'DescribeStacks';
  const now = layer.now();
  const xml = res.body.toString('utf8');
  const rewritten = rewriteContainerMembers(xml, describe ? 'Stacks' : 'StackSummaries', (inner) => {
    const stackName = xmlText(inner, 'StackName');
    const stackId = xmlText(inner, 'StackId');
    const motoStatus = xmlText(inner, 'StackStatus');
    if (!stackName || !motoStatus) return inner;
    const ref: StackRef = { account: ctx.account, region: ctx.region, stackName };
    if (describe && stackId && !motoStatus.startsWith('DELETE_')) layer.overlay.rememberStackId(ref, stackId);
    const status = simulatedStatus(layer, ref, now, stackId, motoStatus);
    return status && status !== motoStatus ? setXmlText(inner, 'StackStatus', status) : inner;
  });
  return passThrough(res, rewritten === xml ? undefined : rewritten);
}
