/**
 * The contract between the campaign engine and its per-account child workflows (one per registered
 * operation). Pure types, schemas and constants: imported by workflows, the worker and the CLI alike.
 * Nothing here names an operation: each operation's parameters live in its own folder.
 */
import { z } from 'zod';
import { AccountIdSchema } from '../../fleet/fleet-fields';
import { LeaseWaitSecondsSchema } from '../lease/lease-messages';

/** The fields every per-account child gets, whatever the operation. */
export const AccountOperationBaseSchema = z.strictObject({
  campaignId: z.string().min(1).max(200),
  /** Path of the fleet file, as the workers see it (inside the workers' fleet locations). */
  fleetFile: z.string().min(1),
  accountId: AccountIdSchema,
  /** Wave name (e.g. canary-1), for search attributes and reports. */
  wave: z.string().default(''),
  /** Plan mode: preview only, change nothing. */
  plan: z.boolean().default(false),
  /** Attempt number: 1, then 2… when an operator retries the account. */
  attempt: z.number().int().min(1).default(1),
  /** The campaign allows moving an account to an older version than it runs (a revert sets it). Absent: refused. */
  allowDowngrade: z.boolean().optional(),
  /** How long to wait for another campaign's lease on the account before skipping it (skipped-busy). */
  leaseWaitSeconds: LeaseWaitSecondsSchema,
});

/**
 * A child's input schema: the base fields, `operation` and the operation's parameters under its
 * parameters field (e.g. `upgrade: {...}`), exactly as the campaign input carries them.
 */
export function accountOperationInputSchema<N extends string, F extends string, P extends z.ZodType>(
  name: N,
  paramsField: F,
  params: P,
) {
  return AccountOperationBaseSchema.extend({ operation: z.literal(name) }).extend({ [paramsField]: params } as {
    [K in F]: P;
  });
}

/** Input of every per-account child workflow (the parameters field depends on the operation). */
export type AccountOperationInput = Omit<z.output<typeof AccountOperationBaseSchema>, 'leaseWaitSeconds'> & {
  /** absent from children started by campaigns of older code (the default applies) */
  leaseWaitSeconds?: number;
  operation: string;
  [paramsField: string]: unknown;
};

/**
 * How an account ended, for every operation. `failed` outcomes count against the wave's failure
 * budget. Each operation adds one outcome of its own for "did its work" (e.g. `upgraded`), which counts as ok.
 */
export const COMMON_OUTCOMES = {
  'already-current': 'ok',
  planned: 'ok',
  skipped: 'neutral',
  /** health alarm already in ALARM before the change: left alone, not counted against the budget */
  'unhealthy-before': 'neutral',
  /** another campaign held the account's lease past leaseWaitSeconds: nothing changed */
  'skipped-busy': 'neutral',
  'rolled-back': 'failed',
  quarantined: 'failed',
  failed: 'failed',
} as const;
export type CommonOutcome = keyof typeof COMMON_OUTCOMES;
/** A common outcome, or an operation's own "done" outcome (any other string). */
export type AccountOutcome = CommonOutcome | (string & {});
export type OutcomeKind = 'ok' | 'neutral' | 'failed';

/** ok / neutral / failed for an outcome; an operation's own done outcome is ok. */
export function outcomeKind(outcome: AccountOutcome): OutcomeKind {
  return Object.prototype.hasOwnProperty.call(COMMON_OUTCOMES, outcome)
    ? COMMON_OUTCOMES[outcome as CommonOutcome]
    : 'ok';
}

/** What a plan-mode run found for one region. */
export type RegionPlan = {
  added: number;
  modified: number;
  replaced: number;
  removed: number;
  needsApproval: string[];
};

export type RegionResult = {
  region: string;
  outcome: AccountOutcome;
  fromVersion?: string;
  toVersion?: string;
  changeSetName?: string;
  plan?: RegionPlan;
  reason?: string;
  /** AMI rollouts: the Auto Scaling group, its image before and after, whether it could be rolled back. */
  group?: string;
  /** AMI rollouts: the group's launch template (fromVersion/toVersion are its versions; a revert needs it). */
  launchTemplateId?: string;
  fromImage?: string;
  toImage?: string;
  canRollBack?: boolean;
  /**
   * Rotations: the secret's kind and id; for `secretsmanager`, fromVersion/toVersion are the AWSCURRENT
   * VersionIds before and after (a revert needs them).
   */
  secretKind?: string;
  secretId?: string;
};

/** Result of every per-account child workflow (compact: the engine keeps it for thousands of accounts). */
export type AccountOperationResult = {
  accountId: string;
  outcome: AccountOutcome;
  /** Why it failed, was quarantined, rolled back or skipped. */
  reason?: string;
  /** The runbook an operator should follow (docs/runbooks/…), for quarantines. */
  runbook?: string;
  /** Stable error type when the account failed on an error (AccountAccessDenied, StackInRollbackFailed, …). */
  errorType?: string;
  regions: RegionResult[];
};

/** Signal a child waits on when it needs an operator's approval (stateful change). */
export const APPROVE_ACCOUNT_SIGNAL = 'approveAccount';
/** Query a child answers with what it is doing now. */
export const ACCOUNT_PROGRESS_QUERY = 'accountProgress';
export type AccountProgress = { phase: string; region?: string; awaitingApproval?: string };
