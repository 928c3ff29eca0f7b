import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { AccountOutcome } from '../operation/account-operation';
import type { ConcurrencyMode } from './campaign-input';

/**
 * Operator control of a running fleetCampaign. Each action is an **update** (validated: a wrong
 * request is rejected with a clear message and changes nothing; returns the new status) and also a
 * **signal** of the same name for the Temporal UI's "Send signal" (invalid signals are ignored and
 * logged). Query `status` at any time.
 */
export type PauseRequest = { reason?: string };
export type CancelRequest = { reason?: string };
/** Approve the wave waiting at its gate, or (with accountId) one account waiting on a stateful change. */
export type ApproveRequest = { wave?: string; accountId?: string };
export type AccountRequest = { accountId: string };

/** Args are one object (fields optional: pass {}); signals from the UI may omit it. */
export const pauseUpdate = defineUpdate<CampaignStatus, [PauseRequest]>('pause');
export const resumeUpdate = defineUpdate<CampaignStatus, []>('resume');
export const cancelUpdate = defineUpdate<CampaignStatus, [CancelRequest]>('cancel');
export const approveUpdate = defineUpdate<CampaignStatus, [ApproveRequest]>('approve');
export const retryAccountUpdate = defineUpdate<CampaignStatus, [AccountRequest]>('retryAccount');
export const skipAccountUpdate = defineUpdate<CampaignStatus, [AccountRequest]>('skipAccount');

export const pauseSignal = defineSignal<[PauseRequest]>('pause');
export const resumeSignal = defineSignal<[]>('resume');
export const cancelSignal = defineSignal<[CancelRequest]>('cancel');
export const approveSignal = defineSignal<[ApproveRequest]>('approve');
export const retryAccountSignal = defineSignal<[AccountRequest]>('retryAccount');
export const skipAccountSignal = defineSignal<[AccountRequest]>('skipAccount');

export const statusQuery = defineQuery<CampaignStatus>('status');

/** Where a campaign is. */
export const CAMPAIGN_PHASES = [
  'planning',
  'running',
  'paused',
  'awaiting-approval',
  'baking',
  'waiting-for-window',
  'cancelling',
  'completed',
  'cancelled',
  'failed',
] as const;
export type CampaignPhase = (typeof CAMPAIGN_PHASES)[number];

/** Per-account state inside a campaign. */
export type AccountState = 'pending' | 'running' | AccountOutcome;

export type WaveStatus = {
  index: number;
  name: string;
  ring: string;
  size: number;
  counts: Partial<Record<AccountState, number>>;
  failures: number;
  /** Failures that stop the wave (pause or cancel, per input). */
  failureBudget: number;
  state: 'pending' | 'awaiting-approval' | 'running' | 'baking' | 'done';
};

export type AccountProblem = {
  accountId: string;
  wave: string;
  state: AccountState;
  reason: string;
  errorType?: string;
  runbook?: string;
};

export type CampaignStatus = {
  campaignId: string;
  /** A registered operation's name (upgrade, …). */
  operation: string;
  /** What the accounts move to, as the operation states it (an upgrade: the target version). */
  target?: string;
  plan: boolean;
  phase: CampaignPhase;
  /** Why the campaign is paused/cancelled (operator reason or "failure budget of wave X used up"). */
  phaseReason?: string;
  currentWave?: string;
  total: number;
  counts: Partial<Record<AccountState, number>>;
  inFlight: number;
  /** Effective window now (strict: shrinks as failures accumulate; both modes: 0 once the budget is spent). */
  window: number;
  /** The campaign's maxInFlight (absent in results of campaigns from before soft mode). */
  maxInFlight?: number;
  /** How the window follows the failure budget (absent in results of campaigns from before soft mode). */
  concurrencyMode?: ConcurrencyMode;
  /** Why the window is smaller than maxInFlight: `window 1 of 50: 1 failure left in the budget`. */
  windowReason?: string;
  waves: WaveStatus[];
  /** Failed, rolled back, quarantined, skipped (also skipped-busy) and unhealthy-before accounts, with reasons (alarm and its state reason): the first MAX_STATUS_PROBLEMS in wave order. */
  problems: AccountProblem[];
  /** Problems past MAX_STATUS_PROBLEMS, left out so the answer stays far below Temporal's payload limit. */
  problemsOmitted?: number;
  /** Accounts skipped at selection (paused/quarantined in the fleet file). */
  notSelected: Array<{ id: string; reason: string }>;
  /** A revert: the campaign it takes back, and the accounts that campaign did not change (left alone). */
  revertOf?: string;
  leftAlone?: Array<{ accountId: string; state: string; reason?: string }>;
  /** The campaign may move accounts to older versions (set by the input; a revert always). */
  allowDowngrade?: boolean;
  /** Accounts waiting for an operator to approve a stateful change. */
  awaitingApproval: string[];
  /** Accounts whose child waits for another campaign's lease on the account: `waiting for <campaign id>`. */
  waitingForLease?: Array<{ accountId: string; waitingFor: string; reason: string }>;
  startedAt: string;
  /** Estimated seconds left (null until there is enough to go on). */
  etaSeconds: number | null;
  run: number;
};

/** Sent by a child to its campaign when it waits for an operator's approval (e.g. a stateful replacement). */
export type AwaitingApprovalNotice = { accountId: string; reason: string; waiting: boolean };
export const accountAwaitingApprovalSignal = defineSignal<[AwaitingApprovalNotice]>('accountAwaitingApproval');
