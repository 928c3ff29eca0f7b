import {
  CancellationScope,
  condition,
  defineQuery,
  getExternalWorkflowHandle,
  isCancellation,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { LeaseActivities } from '../../activities/lease/lease-activities';
import {
  ACCOUNT_PROGRESS_QUERY,
  type AccountOperationResult,
  type AccountProgress,
  type CommonOutcome,
} from '../operation/account-operation';
import { LOCAL_CALL_RETRY } from '../retry-policies';
import { FLEET_STATE } from '../search-attributes';
import {
  accountLeaseId,
  accountLeaseWaitSignal,
  leaseNoticeSignal,
  releaseLeaseSignal,
  type LeaseHolder,
} from './lease-messages';

/** Patch id: a per-account child holds the account's lease (accountLease) while it changes the account. */
export const ACCOUNT_LEASE = 'account-lease-per-account';

/** The outcome of an account skipped because another campaign held it past the campaign's leaseWaitSeconds. */
export const SKIPPED_BUSY: CommonOutcome = 'skipped-busy';

const progressQuery = defineQuery<AccountProgress>(ACCOUNT_PROGRESS_QUERY);

/** Patch id: the lease is asked for and given back by local activities (no activity task, no extra workflow task). */
export const LEASE_LOCAL_ACTIVITIES = 'account-lease-local-activities';

const LEASE_CALL = { startToCloseTimeout: '30 seconds', retry: LOCAL_CALL_RETRY } as const;
const { requestAccountLease } = proxyActivities<LeaseActivities>(LEASE_CALL);
const local = proxyLocalActivities<LeaseActivities>(LEASE_CALL);

/** What a child needs to take its account's lease (fields of every child's input). */
export type LeaseTaker = { campaignId: string; accountId: string; plan: boolean; leaseWaitSeconds: number };

/**
 * Runs `change` holding the account's lease: waits (up to `leaseWaitSeconds`) while another campaign's
 * child holds it, telling the campaign "waiting for <campaign>", or returns the account skipped-busy
 * past that. The lease is released on every exit: result, failure, cancellation (in a non-cancellable
 * scope). Plan mode changes nothing and takes no lease; children of older code (no patch marker) neither.
 */
export async function withAccountLease(
  input: LeaseTaker,
  change: () => Promise<AccountOperationResult>,
): Promise<AccountOperationResult> {
  if (input.plan || !patched(ACCOUNT_LEASE)) return change();
  const lease = new AccountLease(input);
  const skipped = await lease.acquire();
  if (skipped) return skipped;
  try {
    return await change();
  } finally {
    await CancellationScope.nonCancellable(() => lease.release());
  }
}

/** One child's lease on its account: acquire (or give up past the limit), release. */
class AccountLease {
  private granted = false;
  private waitingFor?: string;
  private told?: string;
  private readonly me: LeaseHolder;
  /**
   * Children that started on current code ask for and release the lease with local activities: each
   * runs inside the workflow task, saving an activity task and a workflow task (older histories replay
   * the activity and the external signal they recorded).
   */
  private readonly localCalls = patched(LEASE_LOCAL_ACTIVITIES);

  constructor(private readonly input: LeaseTaker) {
    const info = workflowInfo();
    this.me = { workflowId: info.workflowId, runId: info.runId, campaignId: input.campaignId };
    // answered from the first moment (the operation's own handler replaces it once the change starts)
    const taking: AccountProgress = { phase: 'taking the account lease' };
    setHandler(progressQuery, () => taking);
    setHandler(leaseNoticeSignal, ({ granted, holderCampaignId }) => {
      if (granted) this.granted = true;
      else if (!this.granted) this.waitingFor = holderCampaignId;
    });
  }

  /** Waits for the grant; undefined once granted, or the skipped-busy result past the limit. */
  async acquire(): Promise<AccountOperationResult | undefined> {
    const { accountId, leaseWaitSeconds } = this.input;
    const request = this.localCalls ? local.requestAccountLease : requestAccountLease;
    await request({ accountId, taskQueue: workflowInfo().taskQueue, holder: this.me });
    const deadline = Date.now() + leaseWaitSeconds * 1000;
    try {
      for (;;) {
        if (this.granted) break;
        if (this.waitingFor !== this.told) await this.showWaiting(this.waitingFor);
        const left = deadline - Date.now();
        if (left <= 0) return await this.giveUp();
        await condition(() => this.granted || this.waitingFor !== this.told, left);
      }
    } catch (err) {
      if (isCancellation(err)) await CancellationScope.nonCancellable(() => this.withdraw());
      throw err;
    }
    if (this.told) await this.showWaiting(undefined);
    return undefined;
  }

  async release(): Promise<void> {
    const { accountId } = this.input;
    try {
      if (this.localCalls) {
        await local.releaseAccountLease({
          accountId,
          holder: { workflowId: this.me.workflowId, runId: this.me.runId },
        });
        return;
      }
      await getExternalWorkflowHandle(accountLeaseId(accountId)).signal(releaseLeaseSignal, {
        workflowId: this.me.workflowId,
        runId: this.me.runId,
      });
    } catch (err) {
      // the lock frees the account itself once this run has ended (its check signal fails)
      log.warn('could not release the account lease', { accountId, error: String(err) });
    }
  }

  private async giveUp(): Promise<AccountOperationResult> {
    const { accountId, leaseWaitSeconds } = this.input;
    const holder = this.told ?? this.waitingFor ?? 'another campaign';
    await this.withdraw();
    const reason = `waiting for ${holder}: campaign ${holder} held account ${accountId} for more than leaseWaitSeconds (${leaseWaitSeconds} s); account skipped, nothing changed`;
    upsertSearchAttributes([{ key: FLEET_STATE, value: SKIPPED_BUSY }]);
    setCurrentDetails(`**Outcome: ${SKIPPED_BUSY}** — ${reason}`);
    return { accountId, outcome: SKIPPED_BUSY, reason, regions: [] };
  }

  /** Gives the place in the queue back (or the lease, if granted meanwhile) and stops showing the wait. */
  private async withdraw(): Promise<void> {
    await this.release();
    if (this.told) await this.showWaiting(undefined);
  }

  /** The wait in the child (progress, details, FleetState) and in its campaign's status. */
  private async showWaiting(waitingFor: string | undefined): Promise<void> {
    this.told = waitingFor;
    const progress: AccountProgress = { phase: waitingFor ? `waiting for ${waitingFor}` : 'lease granted' };
    setHandler(progressQuery, () => progress);
    upsertSearchAttributes([{ key: FLEET_STATE, value: waitingFor ? 'waiting-for-lease' : 'running' }]);
    if (waitingFor)
      setCurrentDetails(
        `**Now: waiting for ${waitingFor}** — campaign \`${waitingFor}\` holds account ${this.input.accountId}`,
      );
    const parent = workflowInfo().parent;
    if (!parent) return;
    try {
      await getExternalWorkflowHandle(parent.workflowId).signal(accountLeaseWaitSignal, {
        accountId: this.input.accountId,
        ...(waitingFor ? { waitingFor } : {}),
      });
    } catch (err) {
      log.warn('could not tell the campaign about the lease wait', { error: String(err) });
    }
  }
}
