import { z } from 'zod';
import { AccountIdSchema, SemverSchema } from '../../fleet/fleet-schema';
import { STATEFUL_RESOURCE_TYPES } from '../operation/account-operation';

/** The upgrade parameters as accountUpgrade accepts them (defaults as in a campaign's input). */
export const AccountUpgradeParamsSchema = z.strictObject({
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

/**
 * Input of accountUpgrade: an AccountOperationInput with `operation: "upgrade"` and `upgrade` set.
 * Started by fleetCampaign, or by hand from the Temporal UI for one account.
 */
export const AccountUpgradeInputSchema = z.strictObject({
  campaignId: z.string().min(1).max(200),
  operation: z.literal('upgrade'),
  fleetFile: z.string().min(1),
  accountId: AccountIdSchema,
  wave: z.string().default(''),
  plan: z.boolean().default(false),
  attempt: z.number().int().min(1).default(1),
  upgrade: AccountUpgradeParamsSchema,
});

export type AccountUpgradeInput = z.input<typeof AccountUpgradeInputSchema>;
export type AccountUpgradeOptions = z.output<typeof AccountUpgradeInputSchema>;
