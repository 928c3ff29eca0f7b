/**
 * What every CloudFormation action handler works with: the layer's shared state, the request at
 * hand (account, region, form parameters), and the two things every handler needs — naming the
 * stack a request is about, and running the request under its idempotency token.
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import type { RequestInfo } from '../core/request-info';
import type { UpstreamForwarder } from '../core/upstream-forwarder';
import type { ChangeSetLedger } from './change-set-ledger';
import type { CloudFormationPlan } from './cloudformation-faults';
import type { CloudFormationOverlay, StackRef } from './cloudformation-overlay';
import { stackNameOf } from './cloudformation-xml';
import type { HealthAlarms } from './health-alarms';
import type { RequestTokens, TokenScope } from './request-tokens';

/** The parameter whose value is a pipeline stack's version. */
/** The stack parameter that carries the pipeline version (one definition, shared with the activities). */
export { PIPELINE_VERSION_PARAMETER as VERSION_PARAMETER } from '../../../fleet/pipeline-stack';

export interface CloudFormationRequest {
  info: RequestInfo;
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface LayerResponse {
  status: number;
  headers: OutgoingHttpHeaders;
  body: Buffer;
  /** For the proxy's log line, e.g. `forwarded`, `simulated-rolled-back`, `replayed-token`. */
  outcome: string;
  /** Whether this request itself was forwarded to moto (for the proxy stats). */
  forwarded: boolean;
}

export function isOk(res: { status: number }): boolean {
  return res.status >= 200 && res.status < 300;
}

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
