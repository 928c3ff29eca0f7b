import { z } from 'zod';
import { SemverSchema } from '../../fleet/fleet-fields';
import { accountOperationInputSchema } from '../operation/account-operation';

/** The operation's name and the campaign input field holding its parameters (`upgrade: {...}`). */
export const UPGRADE_OPERATION = 'upgrade';
export const UPGRADE_PARAMS_FIELD = 'upgrade';

/** CloudFormation types whose replacement or removal needs approval by default. */
export const STATEFUL_RESOURCE_TYPES = [
  'AWS::RDS::DBInstance',
  'AWS::RDS::DBCluster',
  'AWS::DynamoDB::Table',
  'AWS::S3::Bucket',
  'AWS::Kinesis::Stream',
  'AWS::EFS::FileSystem',
];

/** Parameters of an upgrade: the one definition (campaign input, accountUpgrade input and CLI derive from it). */
export const UpgradeParamsSchema = z.strictObject({
  /** Pipeline version to move every selected account's stack to (semver). */
  targetVersion: SemverSchema,
  /** CloudFormation types whose replacement or removal needs approval. */
  statefulResourceTypes: z
    .array(
      z
        .string()
        .regex(/^[A-Za-z0-9]+::[A-Za-z0-9]+::[A-Za-z0-9]+$/, 'expected a CloudFormation type like AWS::S3::Bucket'),
    )
    .default(STATEFUL_RESOURCE_TYPES),
  /** What to do when a change set would replace/remove a stateful resource: wait for an approve, or skip the account. */
  onStatefulChange: z.enum(['approve', 'skip']).default('skip'),
  /** Health gate: how long to watch the pipeline's alarms after an update, and how often. */
  healthBakeSeconds: z.number().int().min(0).max(86_400).default(300),
  healthPollSeconds: z.number().int().min(1).max(3600).default(30),
  /** How long to wait for a stack busy with someone else's update before quarantining the account. */
  busyStackWaitSeconds: z.number().int().min(0).max(86_400).default(1800),
  /**
   * Only these regions, each to its own version (a revert: the version each region ran before the
   * campaign it reverts); every other region of the account is left alone. Absent: every region to
   * `targetVersion`.
   */
  regionVersions: z.record(z.string().min(1), SemverSchema).optional(),
});
export type UpgradeParamsInput = z.input<typeof UpgradeParamsSchema>;
export type UpgradeParams = z.output<typeof UpgradeParamsSchema>;

/**
 * Input of accountUpgrade: the engine's child input with `operation: "upgrade"` and `upgrade` set.
 * Started by fleetCampaign, or by hand from the Temporal UI for one account.
 */
export const AccountUpgradeInputSchema = accountOperationInputSchema(
  UPGRADE_OPERATION,
  UPGRADE_PARAMS_FIELD,
  UpgradeParamsSchema,
);
export type AccountUpgradeInput = z.input<typeof AccountUpgradeInputSchema>;
export type AccountUpgradeOptions = z.output<typeof AccountUpgradeInputSchema>;
