/**
 * The per-account lease: one `accountLease` lock workflow per account (id `account-lease/<accountId>`),
 * reached with signal-with-start, grants the account to one per-account child workflow at a time, in
 * the order they asked. Pure types, schemas and message definitions: imported by workflows and activities.
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';
import { z } from 'zod';
import { AccountIdSchema } from '../../fleet/fleet-fields';

/** The lock workflow's id for an account: one lock per account, whatever the operation or campaign. */
export function accountLeaseId(accountId: string): string {
  return `account-lease/${accountId}`;
}

/** Who asks for (or holds) an account: a per-account child workflow run of a campaign. */
export const LeaseHolderSchema = z.strictObject({
  workflowId: z.string().min(1),
  runId: z.string().min(1),
  campaignId: z.string().min(1),
});
export type LeaseHolder = z.infer<typeof LeaseHolderSchema>;

/** The lock's state, carried across continue-as-new. */
export const LeaseLockStateSchema = z.strictObject({
  holder: LeaseHolderSchema.optional(),
  /** Requests in arrival order; `toldWaitingFor`: the holder campaign the requester was last told of. */
  queue: z.array(LeaseHolderSchema.extend({ toldWaitingFor: z.string().optional() })),
});
export type LeaseLockState = z.infer<typeof LeaseLockStateSchema>;

export const AccountLeaseInputSchema = z.strictObject({
  accountId: AccountIdSchema,
  /** While someone waits, the holder is checked this often; a holder that no longer runs loses the lease. */
  holderCheckSeconds: z.number().int().min(1).max(3600).default(30),
  /** History events after which the lock continues as new (its state carried). */
  maxHistoryEvents: z.number().int().min(50).max(40_000).default(2_000),
  carry: LeaseLockStateSchema.optional(),
});
export type AccountLeaseInput = z.input<typeof AccountLeaseInputSchema>;

/** Sent to the lock: ask for the account (queued behind the holder and earlier requests). */
export const acquireLeaseSignal = defineSignal<[LeaseHolder]>('acquireLease');
/** Sent to the lock: give the account back, or withdraw a request still waiting. */
export const releaseLeaseSignal = defineSignal<[Pick<LeaseHolder, 'workflowId' | 'runId'>]>('releaseLease');
/** The lock's holder and queue. */
export const leaseStateQuery = defineQuery<LeaseLockState>('leaseState');

/**
 * Sent by the lock to a requester: granted, or waiting for the holder's campaign. The lock sends the
 * holder its grant again while others wait: a holder that no longer runs cannot receive it, and loses the lease.
 */
export type LeaseNotice = { granted: boolean; holderCampaignId: string };
export const leaseNoticeSignal = defineSignal<[LeaseNotice]>('accountLeaseNotice');

/** Sent by a child to its campaign: it waits for another campaign's lease on the account (or no longer). */
export type LeaseWaitNotice = { accountId: string; waitingFor?: string };
export const accountLeaseWaitSignal = defineSignal<[LeaseWaitNotice]>('accountLeaseWait');

/**
 * How long a campaign's child waits for another campaign's lease on its account before it skips the
 * account (outcome skipped-busy). Campaign input `leaseWaitSeconds`, passed to every child.
 */
export const LeaseWaitSecondsSchema = z
  .number()
  .int()
  .min(1)
  .max(7 * 86_400)
  .default(3_600);

/** What the lease activity gets: the request, and where the lock workflow runs. */
export type RequestLeaseInput = { accountId: string; taskQueue: string; holder: LeaseHolder };
