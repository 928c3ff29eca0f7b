/**
 * A stack's status as the proxy reports it: moto's, unless an update the proxy simulates (or a
 * plan's busy stack) says otherwise; AWS's refusal to update a stack in such a status; the stack's ARN.
 */
import { isStackBusy } from './cloudformation-faults';
import { blocksUpdates, type StackOverlay, type StackRef } from './cloudformation-overlay';
import { xmlText } from './cloudformation-xml';
import { validationError } from './layer-answers';
import { isOk, type CallContext, type LayerResponse, type LayerState } from './layer-context';
import { motoQuery } from './moto-calls';

/** Whether the plan says someone else is updating the stack right now. */
export function isBusy(layer: LayerState, ref: StackRef, now: number): boolean {
  const { plan, setAt } = layer.plan();
  return isStackBusy(plan, setAt, now, ref);
}

/** The status the proxy reports instead of moto's, if any. */
export function simulatedStatus(
  layer: LayerState,
  ref: StackRef,
  now: number,
  stackId: string | undefined,
  motoStatus: string,
): string | undefined {
  if (motoStatus.startsWith('DELETE_') || motoStatus === 'REVIEW_IN_PROGRESS') return undefined;
  if (isBusy(layer, ref, now)) return 'UPDATE_IN_PROGRESS';
  return layer.overlay.statusOf(ref, now, stackId);
}

/** AWS's ValidationError when the stack's (simulated) status does not allow an update. Synchronous on purpose. */
export function refuseIfBlocked(
  layer: LayerState,
  ref: StackRef,
  stackId: string,
  now: number,
): LayerResponse | undefined {
  const status = isBusy(layer, ref, now) ? 'UPDATE_IN_PROGRESS' : layer.overlay.statusOf(ref, now, stackId);
  if (!blocksUpdates(status)) return undefined;
  return validationError(`Stack:${stackId} is in ${status} state and can not be updated.`);
}

/** The stack's ARN (cached, else asked from moto); undefined when moto does not know the stack. */
export async function resolveStackId(ctx: CallContext, ref: StackRef): Promise<string | undefined> {
  const known = ctx.layer.overlay.stackIdOf(ref);
  if (known) return known;
  const res = await motoQuery(ctx.layer, ctx, 'cloudformation', { Action: 'DescribeStacks', StackName: ref.stackName });
  if (!isOk(res)) return undefined;
  const stackId = xmlText(res.body.toString('utf8'), 'StackId');
  if (stackId) ctx.layer.overlay.rememberStackId(ref, stackId);
  return stackId;
}

/** A simulated update: UPDATE_IN_PROGRESS from `now` for `durationMs`, then `terminal`. */
export function updateOverlay(
  ref: StackRef,
  stackId: string,
  now: number,
  durationMs: number,
  terminal: StackOverlay['terminal'],
  cause: string,
): StackOverlay {
  return {
    account: ref.account,
    region: ref.region,
    stackName: ref.stackName,
    stackId,
    startedAt: now,
    endsAt: now + durationMs,
    inProgress: 'UPDATE_IN_PROGRESS',
    terminal,
    cause,
  };
}
