import { z } from 'zod';
import { SecretNameSchema } from '../../fleet/fleet-fields';
import { accountOperationInputSchema } from '../operation/account-operation';

/** The operation's name and the campaign input field holding its parameters (`rotation: {...}`). */
export const ROTATION_OPERATION = 'rotate-secret';
export const ROTATION_PARAMS_FIELD = 'rotation';

/** Parameters of a rotation: the one definition (campaign input, accountSecretRotation input and CLI derive from it). */
export const RotationParamsSchema = z.strictObject({
  /** The secret's logical name in the fleet file (`defaults.secrets.<name>` / `accounts[].secrets.<name>`). */
  secret: SecretNameSchema,
  /** Rotate only accounts whose live value is at least this many days old (by the live record's rotatedAt). */
  olderThanDays: z.number().int().min(0).max(36_500).optional(),
  /** Health gate: how long to watch the pipeline's alarm after the new value became current, and how often. */
  healthBakeSeconds: z.number().int().min(0).max(86_400).default(300),
  healthPollSeconds: z.number().int().min(1).max(3600).default(30),
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
