import { z } from 'zod';
import { ImageReleaseNameSchema } from '../../fleet/image-release-schema';
import { accountOperationInputSchema } from '../operation/account-operation';

/** The operation's name and the campaign input field holding its parameters (`ami: {...}`). */
export const AMI_OPERATION = 'ami-rollout';
export const AMI_PARAMS_FIELD = 'ami';

/**
 * One group an AMI rollout moved, as its revert takes it back: the group launches from
 * `launchTemplateId` version `fromVersion` (M, where the rollout left it) and goes back to
 * `toVersion` (N, the version it ran before). Set by `fleetops campaign revert` from the rollout's
 * per-account result (see ami-revert.ts), never by hand.
 */
export const AmiRevertGroupSchema = z.strictObject({
  region: z.string().min(1),
  group: z.string().min(1),
  launchTemplateId: z.string().regex(/^lt-[0-9a-f]+$/, 'expected a launch template id (lt-…)'),
  fromVersion: z.number().int().min(1),
  toVersion: z.number().int().min(1),
});
export type AmiRevertGroup = z.output<typeof AmiRevertGroupSchema>;

/** Parameters of an AMI rollout: the one definition (campaign input, accountAmiRollout input and CLI derive from it). */
export const AmiParamsSchema = z.strictObject({
  /** The image release (published on the `image` channel) every selected group moves to; `latest` in a campaign. */
  image: ImageReleaseNameSchema,
  /** After a refresh is Successful: how long to watch the group's health alarm, and how often. */
  healthBakeSeconds: z.number().int().min(0).max(86_400).default(300),
  healthPollSeconds: z.number().int().min(1).max(3600).default(30),
  /** Instance refresh: the share of the group that must stay healthy while instances are replaced. */
  minHealthyPercentage: z.number().int().min(0).max(100).default(90),
  /** Instance refresh checkpoints (percent, ascending), e.g. [20, 50, 100]; none by default. */
  checkpoints: z
    .array(z.number().int().min(1).max(100))
    .max(10)
    .refine((a) => a.every((v, i) => i === 0 || v > a[i - 1]), 'expected ascending percentages')
    .default([]),
  /** How long to wait for someone else's instance refresh on a group before quarantining the account. */
  busyRefreshWaitSeconds: z.number().int().min(0).max(86_400).default(1800),
  /**
   * A revert (`fleetops campaign revert`): only these groups, each refreshed from M back to N (then N the
   * default version); `image` is not rolled out. Absent: an ordinary rollout of `image`.
   */
  revertGroups: z
    .array(AmiRevertGroupSchema)
    .min(1)
    .refine((a) => a.every((g) => g.fromVersion !== g.toVersion), 'expected fromVersion and toVersion to differ')
    .optional(),
});
export type AmiParamsInput = z.input<typeof AmiParamsSchema>;
export type AmiParams = z.output<typeof AmiParamsSchema>;

/** Input of accountAmiRollout: the engine's child input with `operation: "ami-rollout"` and `ami` set. */
export const AccountAmiRolloutInputSchema = accountOperationInputSchema(
  AMI_OPERATION,
  AMI_PARAMS_FIELD,
  AmiParamsSchema,
);
export type AccountAmiRolloutInput = z.input<typeof AccountAmiRolloutInputSchema>;
export type AccountAmiRolloutOptions = z.output<typeof AccountAmiRolloutInputSchema>;
