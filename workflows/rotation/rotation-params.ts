import { z } from 'zod';
import { RegionSchema, SecretNameSchema } from '../../fleet/fleet-fields';
import { accountOperationInputSchema } from '../operation/account-operation';

/** The operation's name and the campaign input field holding its parameters (`rotation: {...}`). */
export const ROTATION_OPERATION = 'rotate-secret';
export const ROTATION_PARAMS_FIELD = 'rotation';

/** A Secrets Manager VersionId (fleetops' are UUIDv5 tokens; AWS allows 32–64 characters). */
const VersionIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9-]{32,64}$/, 'expected a Secrets Manager VersionId (32–64 letters, digits or -)');

/**
 * A `secretsmanager` rotation taken back (`fleetops campaign revert`): AWSCURRENT moves from the
 * version the rotation made current (`fromVersionId`) back to the version current before it
 * (`toVersionId`), and Vault's live record back to the one from before. Set by the revert from the
 * rotation's per-account result (see rotation-revert.ts), never by hand.
 */
export const RotationRevertSchema = z.strictObject({
  region: RegionSchema,
  /** the secret as the rotation found it in the fleet file (checked again before anything moves) */
  secretId: z.string().min(1).max(2048),
  fromVersionId: VersionIdSchema,
  toVersionId: VersionIdSchema,
});
export type RotationRevert = z.output<typeof RotationRevertSchema>;

/** Parameters of a rotation: the one definition (campaign input, accountSecretRotation input and CLI derive from it). */
export const RotationParamsSchema = z.strictObject({
  /** The secret's logical name in the fleet file (`defaults.secrets.<name>` / `accounts[].secrets.<name>`). */
  secret: SecretNameSchema,
  /** Rotate only accounts whose live value is at least this many days old (by the live record's rotatedAt). */
  olderThanDays: z.number().int().min(0).max(36_500).optional(),
  /** Health gate: how long to watch the pipeline's alarm after the new value became current, and how often. */
  healthBakeSeconds: z.number().int().min(0).max(86_400).default(300),
  healthPollSeconds: z.number().int().min(1).max(3600).default(30),
  /** A revert (`fleetops campaign revert`): this account's rotation taken back instead of a new value. */
  revert: RotationRevertSchema.optional(),
});
export type RotationParamsInput = z.input<typeof RotationParamsSchema>;
export type RotationParams = z.output<typeof RotationParamsSchema>;

/** Input of accountSecretRotation: the engine's child input with `operation: "rotate-secret"` and `rotation` set. */
export const AccountSecretRotationInputSchema = accountOperationInputSchema(
  ROTATION_OPERATION,
  ROTATION_PARAMS_FIELD,
  RotationParamsSchema,
);
export type AccountSecretRotationInput = z.input<typeof AccountSecretRotationInputSchema>;
export type AccountSecretRotationOptions = z.output<typeof AccountSecretRotationInputSchema>;
