import { getExternalWorkflowHandle } from '@temporalio/workflow';
import { APPROVE_ACCOUNT_SIGNAL, outcomeKind } from '../operation/account-operation';
import { UNHEALTHY_BEFORE } from '../operation/health-before';
import type {
  AccountRequest,
  ApproveRequest,
  AwaitingApprovalNotice,
  CancelRequest,
  PauseRequest,
} from './campaign-messages';
import type { LeaseWaitNotice } from '../lease/lease-messages';
import type { CampaignEngine } from './campaign-engine';
import { childId, isFailure } from './campaign-state';

/**
 * Operator control of a running campaign: one validator and one action per control message. A
 * validator throws (the update is rejected, nothing changes) when the request does not fit the
 * campaign's state; an action changes the state and the engine's run loop picks it up.
 */
export class CampaignControls {
  constructor(private readonly engine: CampaignEngine) {}

  private get st() {
    return this.engine.st;
  }

  validatePause(_req?: PauseRequest): void {
    this.notClosed('pause');
    if (this.st.paused) throw new Error(`campaign ${this.st.campaignId} is already paused`);
    if (this.st.cancelRequested) throw new Error(`campaign ${this.st.campaignId} is being cancelled`);
  }

  pause(req?: PauseRequest): void {
    this.st.paused = true;
    this.engine.setPhase('paused', req?.reason ?? 'paused by operator');
  }

  validateResume(): void {
    this.notClosed('resume');
    if (!this.st.paused) throw new Error(`campaign ${this.st.campaignId} is not paused (phase ${this.st.phase})`);
  }

  resume(): void {
    this.st.paused = false;
    // An operator resuming after the failure budget stopped the wave accepts those failures.
    const w = this.st.waves[this.st.waveIndex];
    if (w) w.forgiven = this.engine.waveFailures(this.st.waveIndex);
    this.engine.setPhase('running');
  }

  validateCancel(_req?: CancelRequest): void {
    this.notClosed('cancel');
    if (this.st.cancelRequested) throw new Error(`campaign ${this.st.campaignId} is already being cancelled`);
  }

  cancel(req?: CancelRequest): void {
    this.st.cancelRequested = true;
    this.engine.setPhase('cancelling', req?.reason ?? 'cancelled by operator');
  }

  validateApprove(req: ApproveRequest = {}): void {
    const { st } = this;
    this.notClosed('approve');
    if (req.accountId !== undefined) {
      const id = this.accountIn(req.accountId);
      if (!st.awaitingApproval.includes(id))
        throw new Error(`account ${id} is not waiting for approval in campaign ${st.campaignId}`);
      return;
    }
    const w = st.waves[st.waveIndex];
    if (st.waveState !== 'awaiting-approval' || !w)
      throw new Error(`campaign ${st.campaignId} has no wave waiting for approval (phase ${st.phase})`);
    if (req.wave !== undefined && req.wave !== w.name)
      throw new Error(`wave ${req.wave} is not the wave waiting for approval (${w.name})`);
  }

  /** Approves the wave at its gate, or forwards the approval to the account's child. */
  async approve(req: ApproveRequest = {}): Promise<void> {
    const { st } = this;
    const accountId = req.accountId;
    if (accountId !== undefined) {
      st.awaitingApproval = st.awaitingApproval.filter((id) => id !== accountId);
      const attempt = st.accounts[accountId]?.a ?? 1;
      await getExternalWorkflowHandle(childId(st.campaignId, accountId, attempt)).signal(APPROVE_ACCOUNT_SIGNAL);
      return;
    }
    st.approvedWaves.push(st.waves[st.waveIndex].name);
  }

  validateRetryAccount(req: AccountRequest): void {
    this.notClosed('retry an account');
    const id = this.accountIn(req?.accountId);
    const s = this.st.accounts[id]?.s ?? 'pending';
    if (!isFailure(s) && s !== 'skipped' && s !== 'skipped-busy' && s !== UNHEALTHY_BEFORE)
      throw new Error(
        `account ${id} is ${s}; only failed, rolled-back, quarantined, skipped (also skipped-busy) or unhealthy-before accounts can be retried`,
      );
    if ((this.engine.waveOf.get(id) ?? 0) > this.st.waveIndex)
      throw new Error(`account ${id} is in a later wave that has not started`);
  }

  retryAccount(req: AccountRequest): void {
    const rec = this.st.accounts[req.accountId];
    this.st.accounts[req.accountId] = { s: 'pending', a: rec?.a ?? 0 };
    this.st.retryQueue.push(req.accountId);
  }

  validateSkipAccount(req: AccountRequest): void {
    this.notClosed('skip an account');
    const id = this.accountIn(req?.accountId);
    const s = this.st.accounts[id]?.s ?? 'pending';
    if (s === 'running') throw new Error(`account ${id} is running; wait for it or cancel the campaign`);
    if (s === 'skipped' || (s !== 'pending' && outcomeKind(s) === 'ok'))
      throw new Error(`account ${id} is already ${s}`);
  }

  skipAccount(req: AccountRequest): void {
    const { st } = this;
    const rec = st.accounts[req.accountId];
    const r = rec?.r ? `skipped by operator after: ${rec.r}` : 'skipped by operator';
    st.accounts[req.accountId] = { s: 'skipped', a: rec?.a ?? 0, r };
    st.retryQueue = st.retryQueue.filter((id) => id !== req.accountId);
    st.deferred = st.deferred.filter((id) => id !== req.accountId);
  }

  /** A child tells the campaign it waits (or no longer waits) for an operator's approval. */
  accountAwaitingApproval({ accountId, waiting }: AwaitingApprovalNotice): void {
    this.st.awaitingApproval = this.st.awaitingApproval.filter((id) => id !== accountId);
    if (waiting) this.st.awaitingApproval.push(accountId);
  }

  /** A child tells the campaign it waits (or no longer waits) for another campaign's lease on its account. */
  accountLeaseWait({ accountId, waitingFor }: LeaseWaitNotice): void {
    if (waitingFor && this.st.accounts[accountId]?.s === 'running') this.engine.leaseWaits.set(accountId, waitingFor);
    else this.engine.leaseWaits.delete(accountId);
  }

  private notClosed(what: string): void {
    if (this.engine.closed())
      throw new Error(`campaign ${this.st.campaignId} is already ${this.st.phase}; cannot ${what}`);
  }

  private accountIn(id: unknown): string {
    if (typeof id !== 'string' || !this.engine.waveOf.has(id))
      throw new Error(`account ${String(id)} is not in campaign ${this.st.campaignId}`);
    return id;
  }
}
