/**
 * The Auto Scaling layer of the proxy: instance refresh, which moto does not implement (HTTP 500),
 * as a state machine computed from recorded times (refresh-timeline.ts) and driven by the fault
 * plan's `autoscaling` section (autoscaling-faults.ts):
 *  - refresh-actions.ts: Start/Describe/Cancel/RollbackInstanceRefresh, AWS's InstanceRefreshInProgress,
 *    ActiveInstanceRefreshNotFound and IrreversibleInstanceRefresh; on Successful the group's launch
 *    template in moto becomes the desired configuration (a rollback leaves it on the previous one);
 *  - DescribeAutoScalingGroups is forwarded after the group's refreshes are brought up to now;
 *  - image-alarms.ts: CloudWatch alarms going to ALARM after an image was rolled out;
 *  - instance-refreshes.ts: every refresh, and the ledger at `GET /__fleetops/autoscaling/refreshes`.
 * Like the CloudFormation layer's simulation, refreshes live in memory (moto's state does too).
 */
import type { RequestInfo } from '../core/request-info';
import { passThrough, type LayerRequest, type LayerResponse, type ServiceLayer } from '../core/service-layer';
import type { UpstreamForwarder } from '../core/upstream-forwarder';
import { AutoScalingCall, type MotoAccess } from './autoscaling-call';
import type { AutoScalingPlan } from './autoscaling-faults';
import { ImageAlarms } from './image-alarms';
import { InstanceRefreshes, type RefreshLedgerEntry, type RefreshStartCount } from './instance-refreshes';
import {
  cancelInstanceRefresh,
  describeInstanceRefreshes,
  rollbackInstanceRefresh,
  settle,
  startInstanceRefresh,
  type RefreshContext,
} from './refresh-actions';

export interface AutoScalingLayerOptions {
  forwarder: UpstreamForwarder;
  /** The current `autoscaling` plan section and when the plan was installed. */
  plan: () => { plan: AutoScalingPlan | undefined; setAt: number };
  logger?: (line: string) => void;
  now?: () => number;
}

async function describeAutoScalingGroups(ctx: RefreshContext, call: AutoScalingCall): Promise<LayerResponse> {
  const names = [...call.params].filter(([n]) => /^AutoScalingGroupNames\.member\.\d+$/.test(n)).map(([, v]) => v);
  await settle(ctx, call, names.length > 0 ? names : undefined);
  return passThrough(await call.forward(), 'forwarded(settled)');
}

const ACTIONS: Record<string, (ctx: RefreshContext, call: AutoScalingCall) => Promise<LayerResponse>> = {
  StartInstanceRefresh: startInstanceRefresh,
  DescribeInstanceRefreshes: describeInstanceRefreshes,
  CancelInstanceRefresh: cancelInstanceRefresh,
  RollbackInstanceRefresh: rollbackInstanceRefresh,
  DescribeAutoScalingGroups: describeAutoScalingGroups,
};

export class AutoScalingLayer implements ServiceLayer {
  readonly name = 'autoscaling';
  readonly refreshes = new InstanceRefreshes();
  private readonly moto: MotoAccess;
  private readonly alarms: ImageAlarms;
  private readonly ctx: RefreshContext;
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(opts: AutoScalingLayerOptions) {
    this.moto = { forwarder: opts.forwarder, now: opts.now ?? Date.now };
    this.alarms = new ImageAlarms(this.moto, opts.logger ?? (() => undefined));
    this.ctx = { refreshes: this.refreshes, alarms: this.alarms, plan: opts.plan };
  }

  handles(info: RequestInfo): boolean {
    return info.service === 'autoscaling' && info.protocol === 'query' && Object.hasOwn(ACTIONS, info.action);
  }

  /** Requests about one group run one at a time (start's check-then-record must not interleave). */
  handle(req: LayerRequest): Promise<LayerResponse> {
    const call = new AutoScalingCall(this.moto, req);
    const key = `${call.account}/${call.region}/${call.params.get('AutoScalingGroupName') ?? '*'}`;
    const before = this.queues.get(key) ?? Promise.resolve();
    const work = (): Promise<LayerResponse> => ACTIONS[req.info.action](this.ctx, call);
    const mine = before.then(work, work);
    const settled = mine.then(
      () => undefined,
      () => undefined,
    );
    this.queues.set(key, settled);
    return mine.finally(() => {
      if (this.queues.get(key) === settled) this.queues.delete(key);
    });
  }

  /** Every refresh and its status now (also at `GET /__fleetops/autoscaling/refreshes`). */
  ledger(): { refreshes: RefreshLedgerEntry[]; starts: RefreshStartCount[] } {
    return { refreshes: this.refreshes.ledger(this.moto.now()), starts: this.refreshes.startCounts() };
  }

  snapshot(): Record<string, unknown> {
    return { ...this.ledger(), pendingAlarms: this.alarms.pending, alarms: this.alarms.fired };
  }

  reset(): void {
    this.alarms.reset();
    this.refreshes.reset();
  }

  close(): void {
    this.alarms.clearTimers();
  }
}
