import { z } from 'zod';
import { AccountIdSchema, RingSchema } from '../../fleet/fleet-fields';
import { LATEST } from '../../fleet/release-channel';
import { AccountSelectorSchema } from '../../fleet/select-accounts';
import { LeaseWaitSecondsSchema } from '../lease/lease-messages';
import type { AnyOperation, OperationRegistry } from '../operation/operation-registry';
import { operations, type BuiltInOperation } from '../operations';

const FailureBudgetSchema = z
  .strictObject({
    /** The wave stops once this many of its accounts have failed. */
    maxFailures: z.number().int().min(1).optional(),
    /** …or once this percent of the wave has failed (rounded up, at least 1 account). */
    maxFailurePercent: z.number().gt(0).max(100).optional(),
    /** What crossing the budget does: pause (operator decides) or cancel the campaign. */
    onExceeded: z.enum(['pause', 'cancel']).default('pause'),
  })
  .default({ maxFailurePercent: 10, onExceeded: 'pause' });

/**
 * How the window relates to the failure budget (CloudFormation StackSets' names and meaning):
 * `strict` never runs more accounts at once than the failures the wave still allows, so a wave never
 * fails more accounts than its budget (but a budget of 1 runs one account at a time); `soft` keeps
 * `maxInFlight` and stops starting accounts once the budget is spent, so the accounts already in
 * flight may overshoot the budget by at most their number.
 */
export const ConcurrencyModeSchema = z.enum(['strict', 'soft']);
export type ConcurrencyMode = z.infer<typeof ConcurrencyModeSchema>;

const CAMPAIGN_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/;
const CAMPAIGN_ID_FORM = 'expected letters, digits, . _ : - (max 100), starting with a letter or digit';

/**
 * A revert: the accounts campaign `of` changed, each taken back to what it ran before it. Resolved by
 * `fleetops campaign revert` from the old campaign's per-account results (see
 * cli/commands/campaign-revert-plan.ts); accounts grouped by the parameters that take them back (e.g.
 * an upgrade: the version each region ran before), so the input stays small.
 */
export const RevertSchema = z.strictObject({
  /** The campaign reverted. */
  of: z.string().regex(CAMPAIGN_ID_PATTERN, CAMPAIGN_ID_FORM),
  /** Each group's parameters are merged over the campaign's operation parameters for its accounts. */
  targets: z
    .array(
      z.strictObject({
        params: z.record(z.string(), z.unknown()),
        accountIds: z.array(AccountIdSchema).min(1),
      }),
    )
    .min(1, 'a revert needs at least one account the campaign changed'),
  /** Accounts campaign `of` did not change (failed, rolled back, skipped, not selected…): left alone, listed. */
  leftAlone: z
    .array(z.strictObject({ accountId: z.string(), state: z.string(), reason: z.string().optional() }))
    .default([]),
});
export type RevertInput = z.output<typeof RevertSchema>;

/** Compact state carried across continue-as-new (set by the engine only). */
const CarrySchema = z.object({}).passthrough();

/** The fields of every campaign, whatever the operation. */
const CampaignFields = {
  /** Campaign id (defaults to the workflow id); child workflows are `${campaignId}/${accountId}`. */
  campaignId: z.string().regex(CAMPAIGN_ID_PATTERN, CAMPAIGN_ID_FORM).optional(),
  /** Path of the fleet file, as the workers see it. */
  fleetFile: z.string().min(1),
  select: AccountSelectorSchema.optional(),
  /** Plan mode: preview every account (e.g. change sets created, described, deleted), change nothing. */
  plan: z.boolean().default(false),
  maxInFlight: z.number().int().min(1).max(500).default(20),
  /** strict (default): the window shrinks to the failures left; soft: maxInFlight until the budget is spent. */
  concurrencyMode: ConcurrencyModeSchema.default('strict'),
  /** Largest wave, overall or per ring; rings run canary → early → general → late. */
  maxWaveSize: z.union([z.number().int().min(1), z.partialRecord(RingSchema, z.number().int().min(1))]).optional(),
  failureBudget: FailureBudgetSchema,
  /** Wait between waves (seconds). */
  waveBakeSeconds: z
    .number()
    .int()
    .min(0)
    .max(7 * 86_400)
    .default(0),
  /** Rings whose first wave waits for an `approve` (e.g. ["early", "general"]); "all" = before every wave. */
  approvalBefore: z.union([z.literal('all'), z.array(RingSchema)]).default([]),
  /** Start accounts only inside their maintenance window (from the fleet file). */
  respectMaintenanceWindows: z.boolean().default(true),
  /** Accounts started per workflow run before continue-as-new (bounds history). */
  accountsPerRun: z.number().int().min(1).max(1000).default(400),
  /** An operation may move an account to an older version than it runs (default: refused, account skipped). */
  allowDowngrade: z.boolean().default(false),
  /** This campaign reverts another one (set by `fleetops campaign revert`; implies allowDowngrade). */
  revert: RevertSchema.optional(),
  /**
   * One change per account at a time across campaigns: a child waits this long (seconds) while another
   * campaign's child holds the account's lease, then skips the account (outcome skipped-busy).
   */
  leaseWaitSeconds: LeaseWaitSecondsSchema,
  carry: CarrySchema.optional(),
};
/** The common fields alone (the types below derive from it). */
export const CampaignCommonSchema = z.strictObject({ ...CampaignFields, operation: z.string() });

/**
 * The campaign input schema for the registered operations: the common fields, `operation` (one of
 * the registered names) and one optional parameters field per operation, of which the chosen
 * operation's is required and every other one refused.
 */
export function campaignInputSchema(registry: OperationRegistry = operations) {
  const ops = registry.all();
  const paramsFields = Object.fromEntries(ops.map((op) => [op.paramsField, campaignParams(op).optional()]));
  return z
    .strictObject({ ...CampaignFields, operation: z.enum(registry.names()), ...paramsFields })
    .superRefine((v, ctx) => {
      const input = v as Record<string, unknown>;
      if (v.revert) checkRevert(v.revert, input, registry.get(v.operation), ctx);
      for (const op of ops) {
        const given = input[op.paramsField] !== undefined;
        if (op.name === v.operation && !given) {
          ctx.addIssue({ code: 'custom', path: [op.paramsField], message: needsMessage(op) });
        } else if (op.name !== v.operation && given) {
          ctx.addIssue({
            code: 'custom',
            path: [op.paramsField],
            message: `applies to operation "${op.name}" only, not "${v.operation}"`,
          });
        }
      }
    });
}

/**
 * A revert takes exactly the accounts it lists (no `select`), each once, and every group's parameters
 * merged over the campaign's must be valid parameters of the operation.
 */
function checkRevert(
  revert: RevertInput,
  input: Record<string, unknown>,
  op: AnyOperation,
  ctx: z.RefinementCtx,
): void {
  if (input.select !== undefined)
    ctx.addIssue({
      code: 'custom',
      path: ['select'],
      message: `a revert takes the accounts campaign ${revert.of} changed (revert.targets); no select`,
    });
  const seen = new Set<string>();
  revert.targets.forEach((t, i) => {
    const twice = t.accountIds.filter((id) => seen.has(id) || !seen.add(id));
    if (twice.length)
      ctx.addIssue({
        code: 'custom',
        path: ['revert', 'targets', i, 'accountIds'],
        message: `listed more than once: ${twice.join(', ')}`,
      });
    const base = (input[op.paramsField] ?? {}) as Record<string, unknown>;
    const parsed = op.params.safeParse({ ...base, ...t.params });
    if (!parsed.success)
      for (const issue of parsed.error.issues)
        ctx.addIssue({
          code: 'custom',
          path: ['revert', 'targets', i, 'params', ...issue.path],
          message: issue.message,
        });
  });
}

/**
 * The operation's parameters as a campaign takes them: its `latest` parameter (if it declares one) may
 * also be "latest", which the campaign resolves when it starts; every other value is checked as the
 * parameters schema checks it (the children always get a real value).
 */
function campaignParams(op: AnyOperation): z.ZodType {
  if (!op.latest) return op.params;
  const { param, channel } = op.latest;
  const params = op.params as z.ZodObject;
  const original = params.shape[param] as z.ZodType;
  const field = z.any().transform((value, ctx) => {
    if (value === LATEST) return value as string;
    const parsed = original.safeParse(value);
    if (parsed.success) return parsed.data;
    for (const issue of parsed.error.issues) {
      const message =
        value === undefined
          ? issue.message
          : `${issue.message} (or "${LATEST}": the newest release on channel ${channel})`;
      ctx.addIssue({ code: 'custom', message, path: issue.path });
    }
    return z.NEVER;
  });
  return params.extend({ [param]: field });
}

function needsMessage(op: AnyOperation): string {
  const required = op.cliFlags.filter((f) => f.required).map((f) => `${f.param}: …`);
  return `operation "${op.name}" needs ${op.paramsField}: { ${required.join(', ') || '…'} }`;
}

/** Each built-in operation's parameters field, e.g. `upgrade?: { targetVersion, … }`. */
type OperationParams<Dir extends 'in' | 'out'> = {
  [O in BuiltInOperation as O['paramsField']]?: Dir extends 'in' ? z.input<O['params']> : z.output<O['params']>;
};
export type FleetCampaignInput = z.input<typeof CampaignCommonSchema> & OperationParams<'in'>;
export type FleetCampaignOptions = z.output<typeof CampaignCommonSchema> & OperationParams<'out'>;
