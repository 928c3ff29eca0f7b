import { z } from 'zod';
import { RingSchema, SemverSchema } from '../../fleet/fleet-schema';
import { AccountSelectorSchema } from '../../fleet/select-accounts';
import { OPERATIONS, STATEFUL_RESOURCE_TYPES } from '../operation/account-operation';

const UpgradeParamsSchema = z.strictObject({
  targetVersion: SemverSchema,
  statefulResourceTypes: z
    .array(
      z
        .string()
        .regex(/^[A-Za-z0-9]+::[A-Za-z0-9]+::[A-Za-z0-9]+$/, 'expected a CloudFormation type like AWS::S3::Bucket'),
    )
    .default(STATEFUL_RESOURCE_TYPES),
  onStatefulChange: z.enum(['approve', 'skip']).default('skip'),
  healthBakeSeconds: z.number().int().min(0).max(86_400).default(300),
  healthPollSeconds: z.number().int().min(1).max(3600).default(30),
  busyStackWaitSeconds: z.number().int().min(0).max(86_400).default(1800),
});

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

/** Compact state carried across continue-as-new (set by the engine only). */
const CarrySchema = z.object({}).passthrough();

export const FleetCampaignInputSchema = z
  .strictObject({
    /** Campaign id (defaults to the workflow id); child workflows are `${campaignId}/${accountId}`. */
    campaignId: z
      .string()
      .regex(
        /^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/,
        'expected letters, digits, . _ : - (max 100), starting with a letter or digit',
      )
      .optional(),
    operation: z.enum(OPERATIONS),
    /** Path of the fleet file, as the workers see it. */
    fleetFile: z.string().min(1),
    select: AccountSelectorSchema.optional(),
    upgrade: UpgradeParamsSchema.optional(),
    /** Plan mode: preview every account (change sets created, described, deleted), change nothing. */
    plan: z.boolean().default(false),
    maxInFlight: z.number().int().min(1).max(500).default(20),
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
    carry: CarrySchema.optional(),
  })
  .superRefine((v, ctx) => {
    if (v.operation === 'upgrade' && !v.upgrade) {
      ctx.addIssue({
        code: 'custom',
        path: ['upgrade'],
        message: 'operation "upgrade" needs upgrade: { targetVersion: "x.y.z" }',
      });
    }
  });

export type FleetCampaignInput = z.input<typeof FleetCampaignInputSchema>;
export type FleetCampaignOptions = z.output<typeof FleetCampaignInputSchema>;
