import {
  allHandlersFinished,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  log,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import { parseWorkflowInput } from '../workflow-input';
import {
  AccountLeaseInputSchema,
  acquireLeaseSignal,
  leaseNoticeSignal,
  leaseStateQuery,
  releaseLeaseSignal,
  type AccountLeaseInput,
  type LeaseHolder,
  type LeaseLockState,
} from './lease-messages';

type Options = ReturnType<typeof AccountLeaseInputSchema.parse>;

/**
 * The lock of one account (workflow id `account-lease/<accountId>`, started by the first request with
 * signal-with-start): grants the account to one requester at a time, first come first served, and
 * tells the others whom they wait for. A holder that stops running without releasing (terminated, timed
 * out) cannot be signalled: while others wait the lock re-sends the holder its grant every
 * `holderCheckSeconds`, and a failed signal frees the account — a worker's death does not (the holder
 * still runs and resumes on another worker). Replay-safe: every check is a signal command in history.
 * Free with nobody waiting, the lock completes; a busy lock continues as new before its history grows large.
 */
export async function accountLease(raw: AccountLeaseInput): Promise<void> {
  const input = parseWorkflowInput('accountLease', AccountLeaseInputSchema, raw);
  return new AccountLeaseLock(input).run();
}

class AccountLeaseLock {
  private readonly st: LeaseLockState;
  private dirty = false;

  constructor(private readonly input: Options) {
    this.st = input.carry ?? { queue: [] };
    setHandler(acquireLeaseSignal, (req) => this.acquire(req));
    setHandler(releaseLeaseSignal, (req) => this.release(req));
    setHandler(leaseStateQuery, () => this.st);
  }

  private acquire(req: LeaseHolder): void {
    const { st } = this;
    // a repeated request (an activity retried) changes nothing
    if (st.holder && same(st.holder, req)) return;
    if (st.queue.some((q) => same(q, req))) return;
    st.queue.push({ ...req });
    this.dirty = true;
  }

  private release(req: Pick<LeaseHolder, 'workflowId' | 'runId'>): void {
    const { st } = this;
    if (st.holder && same(st.holder, req)) st.holder = undefined;
    else st.queue = st.queue.filter((q) => !same(q, req));
    this.dirty = true;
  }

  async run(): Promise<void> {
    const { st, input } = this;
    for (;;) {
      while (!st.holder && st.queue.length > 0) await this.grantNext();
      await this.tellWaiters();
      if (!st.holder && st.queue.length === 0) {
        await condition(allHandlersFinished);
        if (!st.holder && st.queue.length === 0) return; // free and nobody waits: done
        continue;
      }
      if (this.historyTooLong()) {
        await condition(allHandlersFinished);
        return continueAsNew<typeof accountLease>({ ...input, carry: st });
      }
      this.dirty = false;
      if (st.queue.length === 0) {
        await condition(() => this.dirty);
        continue;
      }
      const woken = await condition(() => this.dirty, input.holderCheckSeconds * 1000);
      if (!woken && st.holder && st.queue.length > 0) await this.checkHolder();
    }
  }

  /** Grants the account to the first request; a requester that no longer runs is dropped. */
  private async grantNext(): Promise<void> {
    const next = this.st.queue.shift()!;
    const { toldWaitingFor: _told, ...holder } = next;
    if (await this.notify(holder, { granted: true, holderCampaignId: holder.campaignId })) this.st.holder = holder;
    else log.info('lease requester no longer runs; skipped', { workflowId: holder.workflowId });
  }

  /** Tells every waiting requester whom it waits for (once per holder); a requester gone is dropped. */
  private async tellWaiters(): Promise<void> {
    const holder = this.st.holder;
    if (!holder) return;
    for (const q of [...this.st.queue]) {
      if (q.toldWaitingFor === holder.campaignId) continue;
      q.toldWaitingFor = holder.campaignId;
      if (!(await this.notify(q, { granted: false, holderCampaignId: holder.campaignId })))
        this.st.queue = this.st.queue.filter((r) => !same(r, q));
    }
  }

  /** The holder gets its grant again; if it no longer runs, the signal fails and the account is free. */
  private async checkHolder(): Promise<void> {
    const holder = this.st.holder!;
    if (await this.notify(holder, { granted: true, holderCampaignId: holder.campaignId })) return;
    log.warn('lease holder no longer runs; lease freed', { workflowId: holder.workflowId, runId: holder.runId });
    if (this.st.holder && same(this.st.holder, holder)) this.st.holder = undefined;
  }

  /** Signals a requester's run; false when it does not run any more (closed or unknown). */
  private async notify(to: LeaseHolder, notice: { granted: boolean; holderCampaignId: string }): Promise<boolean> {
    try {
      await getExternalWorkflowHandle(to.workflowId, to.runId).signal(leaseNoticeSignal, notice);
      return true;
    } catch (err) {
      log.info('lease notice not delivered', { workflowId: to.workflowId, error: String(err) });
      return false;
    }
  }

  private historyTooLong(): boolean {
    const info = workflowInfo();
    return info.continueAsNewSuggested || info.historyLength >= this.input.maxHistoryEvents;
  }
}

function same(a: Pick<LeaseHolder, 'workflowId' | 'runId'>, b: Pick<LeaseHolder, 'workflowId' | 'runId'>): boolean {
  return a.workflowId === b.workflowId && a.runId === b.runId;
}
