import { UNHEALTHY_BEFORE } from '../operation/health-before';
import type { CampaignPlan } from '../../activities/campaign/campaign-activities';
import { outcomeKind, type RegionResult } from '../operation/account-operation';
import type { AccountState, CampaignPhase, WaveStatus } from './campaign-messages';

/** One account's record in the campaign (compact: carried across continue-as-new for thousands of accounts). */
export type AccountRecord = {
  s: AccountState;
  /** attempts started (1 = first run; operator retries add more) */
  a: number;
  /** reason, error type, runbook (problems only) */
  r?: string;
  e?: string;
  rb?: string;
  /** plan mode: per-region preview */
  p?: RegionResult[];
};

export type WaveRecord = {
  name: string;
  ring: string;
  accountIds: string[];
  budget: number;
  /** failures forgiven by an operator's resume */
  forgiven: number;
};

/** Everything the campaign knows, carried across continue-as-new (field names are part of that contract). */
export type CampaignState = {
  campaignId: string;
  startedAt: string;
  run: number;
  waves: WaveRecord[];
  windows: CampaignPlan['windows'];
  notSelected: CampaignPlan['notSelected'];
  waveIndex: number;
  waveState: WaveStatus['state'];
  /** next account of the current wave not yet looked at */
  cursor: number;
  /** accounts of the current wave waiting for their maintenance window */
  deferred: string[];
  retryQueue: string[];
  accounts: Record<string, AccountRecord>;
  phase: CampaignPhase;
  phaseReason?: string;
  paused: boolean;
  cancelRequested: boolean;
  approvedWaves: string[];
  bakeUntil?: number;
  awaitingApproval: string[];
  durations: { totalMs: number; count: number };
};

export function emptyState(campaignId: string): CampaignState {
  return {
    campaignId,
    startedAt: new Date(Date.now()).toISOString(),
    run: 1,
    waves: [],
    windows: {},
    notSelected: [],
    waveIndex: 0,
    waveState: 'pending',
    cursor: 0,
    deferred: [],
    retryQueue: [],
    accounts: {},
    phase: 'planning',
    paused: false,
    cancelRequested: false,
    approvedWaves: [],
    awaitingApproval: [],
    durations: { totalMs: 0, count: 0 },
  };
}

/** The child workflow id of an account's attempt: `${campaignId}/${accountId}`, retries `…/retry-N`. */
export function childId(campaignId: string, accountId: string, attempt: number): string {
  return attempt <= 1 ? `${campaignId}/${accountId}` : `${campaignId}/${accountId}/retry-${attempt - 1}`;
}

/** Whether an account's state counts against its wave's failure budget. */
export function isFailure(s: AccountState | undefined): boolean {
  return s !== undefined && s !== 'pending' && s !== 'running' && outcomeKind(s) === 'failed';
}

/** Whether an account is listed among the campaign's problems (failed, rolled back, quarantined or skipped). */
export function isProblem(s: AccountState | undefined): boolean {
  return isFailure(s) || s === 'skipped' || s === 'skipped-busy' || s === UNHEALTHY_BEFORE;
}

export const CLOSED_PHASES: CampaignPhase[] = ['completed', 'cancelled', 'failed'];
