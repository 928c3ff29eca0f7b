import { z } from 'zod';
import { RingSchema } from '../../fleet/fleet-schema';
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

/** Compact state carried across continue-as-new (set by the engine only). */
const CarrySchema = z.object({}).passthrough();

/** The fields of every campaign, whatever the operation. */
const CampaignFields = {
  /** Campaign id (defaults to the workflow id); child workflows are `${campaignId}/${accountId}`. */
  campaignId: z
    .string()
    .regex(
      /^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/,
      'expected letters, digits, . _ : - (max 100), starting with a letter or digit',
    )
    .optional(),
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
