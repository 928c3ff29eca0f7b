import type { z } from 'zod';
import type { AccountOperationInput, AccountOperationResult } from './account-operation';

/** A `campaign start` flag of an operation: its value becomes `params[param]`. */
export type OperationFlag = {
  /** commander syntax: `--version <semver>` */
  flag: string;
  description: string;
  /** the field of the operation's parameters it sets */
  param: string;
  /** how the typed text becomes a value: as typed, seconds (300, 90s, 15m, 2h, 1d), a whole number, or days (30, 30d) */
  kind: 'text' | 'seconds' | 'number' | 'days';
  /** the operation cannot run without it (the first required flag also names the default campaign id) */
  required?: boolean;
};

/**
 * Everything the engine, the worker and the CLI need to know about one fleet operation. Declared once
 * in the operation's folder (`workflows/<operation>/<operation>-operation.ts`) and registered in
 * `workflows/operations.ts`; its activities are registered in `worker/operation-activities.ts`.
 */
export type OperationDefinition<
  Name extends string = string,
  Field extends string = string,
  Params extends z.ZodType = z.ZodType,
> = {
  /** `operation` in campaign input, the FleetOperation search attribute, `--operation` */
  name: Name;
  /** the field of the campaign input (and of the child's input) that holds the parameters */
  paramsField: Field;
  /** the one definition of the parameters: campaign input, child input and CLI types derive from it */
  params: Params;
  /** the child workflow run once per account (typed reference; its name is the workflow type) */
  childWorkflow: (input: AccountOperationInput) => Promise<AccountOperationResult>;
  /** the outcome of an account where the operation did its work (counts as ok), e.g. `upgraded` */
  doneOutcome: string;
  /** what the accounts move to, for status headers (e.g. the target version) */
  target: (params: z.output<Params>) => string | undefined;
  /**
   * The one-line summary of an account's child workflow in the Temporal UI, e.g.
   * `upgrade 123456789012 → 1.1.0` (default: operation, account and target).
   */
  accountSummary?: (params: z.output<Params>, accountId: string) => string;
  /** `campaign start` flags for the parameters */
  cliFlags: OperationFlag[];
  /** runbook (docs/runbooks/…) per error type that quarantines an account */
  runbooks: Partial<Record<string, string>>;
  /**
   * A parameter a campaign may give as `latest`: the newest release of a release channel
   * (`fleet/release-channel.ts`), resolved in an activity when the campaign run starts — so a schedule
   * made today runs whatever is newest when each run begins. The child workflow always gets the version.
   */
  latest?: { param: string; channel: string };
  /**
   * An activity of the operation run once when the campaign starts, after planning and before the first
   * wave (not in plan mode), with {@link OperationPreflightInput}: a non-retryable failure fails the
   * campaign before any account is touched (e.g. the AMI rollout's 1,000-shares-per-image check).
   */
  preflight?: string;
  /**
   * How `fleetops campaign revert` takes an account back: from the account's last child result in the
   * campaign reverted, the parameters (merged over that campaign's) that return it to what it ran
   * before, or why it is left alone (it was not changed, or what it ran before is unknown). An operation
   * without it cannot be reverted.
   */
  revert?: (result: AccountOperationResult) => RevertStep;
};

/**
 * One account of a revert: the parameters that take it back (with the parts of the account it leaves
 * alone, e.g. an AMI rollout's groups it did not move), or why it is left alone, or why the whole
 * revert is refused (the result does not record what the account ran before, e.g. a result of older code).
 */
export type RevertStep =
  | { params: Record<string, unknown>; leftAloneParts?: Array<{ state: string; reason: string }> }
  | { leftAlone: string }
  | { refused: string };

/** What an operation's preflight activity gets: every account the campaign selected, and its parameters. */
export type OperationPreflightInput = {
  fleetFile: string;
  accountIds: string[];
  params: Record<string, unknown>;
  /** The campaign id (credentials' session naming). */
  runId: string;
};

/** Keeps the literal types of a definition (name, parameters field, parameters schema). */
export function defineOperation<N extends string, F extends string, P extends z.ZodType>(
  def: OperationDefinition<N, F, P>,
): OperationDefinition<N, F, P> {
  return def;
}
