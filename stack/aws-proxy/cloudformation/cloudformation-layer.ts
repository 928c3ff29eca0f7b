/**
 * The CloudFormation layer of the proxy: the CloudFormation behaviours moto lacks, always on or
 * driven by the fault plan's `cloudformation` section.
 *
 * Always on:
 *  - ClientRequestToken (ClientToken for CreateChangeSet) idempotency on CreateStack, UpdateStack,
 *    DeleteStack, CreateChangeSet, ExecuteChangeSet, ContinueUpdateRollback: the first successful
 *    answer is replayed, the request is not forwarded again.
 *  - A change set executes once: executing it again (without the first token) is refused with
 *    InvalidChangeSetStatus; an update makes the stack's other change sets OBSOLETE.
 *  - Change sets named by name are forwarded to moto by ARN (moto looks names up across stacks).
 *  - The execution ledger (see change-set-ledger.ts).
 * Plan driven: slow updates, poisoned versions (rollback), rollback failures, replacement details,
 * health alarms firing after a deploy, stacks busy with someone else's update.
 *
 * Statuses come from recorded times compared with `now()`; only delayed alarms use a timer.
 *
 * This file holds the layer's state and sends each action to its handler; the rest of the folder:
 *  - stack-actions.ts, change-set-actions.ts: one handler per action;
 *  - stack-status.ts (simulated statuses, refusals), change-set-lookup.ts, replacement-details.ts,
 *    health-alarms.ts: what the handlers share;
 *  - layer-context.ts (the request as handlers see it, tokens), moto-calls.ts, layer-answers.ts;
 *  - cloudformation-faults.ts (the fault plan's `cloudformation` section), cloudformation-overlay.ts
 *    (what the proxy knows beyond moto), change-set-ledger.ts, request-tokens.ts, cloudformation-xml.ts.
 */
import { ChangeSetLedger, type ChangeSetExecution } from './change-set-ledger';
import {
  createChangeSet,
  deleteChangeSet,
  describeChangeSet,
  executeChangeSet,
  listChangeSets,
} from './change-set-actions';
import type { CloudFormationPlan } from './cloudformation-faults';
import { CloudFormationOverlay } from './cloudformation-overlay';
import { HealthAlarms } from './health-alarms';
import { passThrough } from './layer-answers';
import {
  isOk,
  type CallContext,
  type CloudFormationRequest,
  type LayerResponse,
  type LayerState,
} from './layer-context';
import { forwardToMoto } from './moto-calls';
import { RequestTokens } from './request-tokens';
import { continueUpdateRollback, createStack, deleteStack, describeStacks, updateStack } from './stack-actions';
import type { RequestInfo } from '../core/request-info';
import type { ServiceLayer } from '../core/service-layer';
import type { UpstreamForwarder } from '../core/upstream-forwarder';

export type { CloudFormationRequest, LayerResponse } from './layer-context';
export type { FiredAlarm } from './health-alarms';

export interface CloudFormationLayerOptions {
  forwarder: UpstreamForwarder;
  /** The current `cloudformation` plan section and when the plan was installed. */
  plan: () => { plan: CloudFormationPlan | undefined; setAt: number };
  logger?: (line: string) => void;
  now?: () => number;
}

/** The query-protocol actions the layer answers, and who answers each (stack-actions.ts, change-set-actions.ts). */
const ACTIONS: Record<string, (ctx: CallContext) => Promise<LayerResponse>> = {
  CreateStack: createStack,
  UpdateStack: updateStack,
  DeleteStack: deleteStack,
  DescribeStacks: describeStacks,
  ListStacks: describeStacks,
  ContinueUpdateRollback: continueUpdateRollback,
  CreateChangeSet: createChangeSet,
  ExecuteChangeSet: executeChangeSet,
  DescribeChangeSet: describeChangeSet,
  ListChangeSets: listChangeSets,
  DeleteChangeSet: deleteChangeSet,
};

const DEFAULT_REGION = 'us-east-1';

export class CloudFormationLayer implements ServiceLayer {
  readonly name = 'cloudformation';
  readonly overlay = new CloudFormationOverlay();
  readonly ledger = new ChangeSetLedger();
  private readonly tokens = new RequestTokens<LayerResponse>(isOk);
  private readonly alarms: HealthAlarms;
  private readonly state: LayerState;

  constructor(opts: CloudFormationLayerOptions) {
    const shared = {
      forwarder: opts.forwarder,
      plan: opts.plan,
      log: opts.logger ?? (() => undefined),
      now: opts.now ?? Date.now,
    };
    this.alarms = new HealthAlarms(shared);
    this.state = { ...shared, overlay: this.overlay, ledger: this.ledger, tokens: this.tokens, alarms: this.alarms };
  }

  /** Whether this layer answers the request (query-protocol CloudFormation calls it knows). */
  handles(info: RequestInfo): boolean {
    return info.service === 'cloudformation' && info.protocol === 'query' && Object.hasOwn(ACTIONS, info.action);
  }

  async handle(req: CloudFormationRequest): Promise<LayerResponse> {
    const ctx: CallContext = {
      layer: this.state,
      req,
      account: req.info.account,
      region: req.info.region ?? DEFAULT_REGION,
      accessKeyId: req.info.accessKeyId ?? 'testing',
      params: req.info.params,
    };
    const action = Object.hasOwn(ACTIONS, req.info.action) ? ACTIONS[req.info.action] : undefined;
    return action ? action(ctx) : passThrough(await forwardToMoto(ctx));
  }

  executions(): ChangeSetExecution[] {
    return this.ledger.list();
  }

  /** Admin view of everything the layer holds. */
  snapshot(): Record<string, unknown> {
    const now = this.state.now();
    return {
      ...this.overlay.snapshot(now),
      tokens: this.tokens.size,
      pendingAlarms: this.alarms.pending,
      alarms: this.alarms.fired,
      executions: this.ledger.list(),
    };
  }

  /** Forgets all simulated state (overlays, change sets, tokens, ledger, pending alarms). */
  reset(): void {
    this.alarms.reset();
    this.overlay.reset();
    this.ledger.reset();
    this.tokens.reset();
  }

  close(): void {
    this.alarms.clearTimers();
  }
}
