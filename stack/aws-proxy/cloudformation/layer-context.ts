/**
 * What every CloudFormation action handler works with: the layer's shared state, the request at
 * hand (account, region, form parameters), and the two things every handler needs — naming the
 * stack a request is about, and running the request under its idempotency token.
 */
import type { LayerRequest as CloudFormationRequest, LayerResponse } from '../core/service-layer';
import type { UpstreamForwarder } from '../core/upstream-forwarder';
import type { ChangeSetLedger } from './change-set-ledger';
import type { CloudFormationPlan } from './cloudformation-faults';
import type { CloudFormationOverlay, StackRef } from './cloudformation-overlay';
import { stackNameOf } from './cloudformation-xml';
import type { HealthAlarms } from './health-alarms';
import type { RequestTokens, TokenScope } from './request-tokens';

/** The parameter whose value is a pipeline stack's version. */

/** A CloudFormation request and the layer's answers are the proxy's generic ones (core/service-layer.ts). */
export type { LayerRequest as CloudFormationRequest, LayerResponse } from '../core/service-layer';
export { isOk } from '../core/service-layer';

/** The layer's state, shared by all requests. */
export interface LayerState {
  readonly overlay: CloudFormationOverlay;
  readonly ledger: ChangeSetLedger;
  readonly tokens: RequestTokens<LayerResponse>;
  readonly alarms: HealthAlarms;
  readonly forwarder: UpstreamForwarder;
  /** The current `cloudformation` plan section and when the plan was installed. */
  readonly plan: () => { plan: CloudFormationPlan | undefined; setAt: number };
  readonly log: (line: string) => void;
  readonly now: () => number;
}

/** One request, as the action handlers see it. */
export interface CallContext {
  layer: LayerState;
  req: CloudFormationRequest;
  account: string;
  region: string;
  accessKeyId: string;
  params: URLSearchParams;
}

export function stackRef(ctx: CallContext, stackNameOrId: string | null): StackRef {
  return { account: ctx.account, region: ctx.region, stackName: stackNameOf(stackNameOrId ?? '') };
}

/** Runs `work` once per (account, region, action, stack, token); later requests with the token get its answer. */
export function withToken(
  ctx: CallContext,
  action: string,
  stack: string,
  token: string | null,
  work: () => Promise<LayerResponse>,
): Promise<LayerResponse> {
  const scope: TokenScope | undefined = token
    ? { account: ctx.account, region: ctx.region, action, stack, token }
    : undefined;
  return ctx.layer.tokens.run(scope, work, (first) => ({ ...first, outcome: 'replayed-token', forwarded: false }));
}
