/** The `secretsmanager` section of the fault plan: Secrets Manager misbehaving for chosen accounts. */
import { z } from 'zod';

const accountId = z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id');

export const secretsManagerPlanSchema = z
  .object({
    /**
     * In these accounts GetSecretValue by VersionId answers with the AWSCURRENT version instead (a
     * stale read, as a lagging replica would give): a rotation's test step reads back the old value,
     * finds it does not match Vault, and rolls the account back.
     */
    staleVersionReadsFor: z.array(accountId).min(1),
  })
  .strict();

export type SecretsManagerPlan = z.infer<typeof secretsManagerPlanSchema>;
