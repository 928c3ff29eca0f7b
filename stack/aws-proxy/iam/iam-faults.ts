/** The `iam` section of the fault plan: how IAM access keys and trust policies behave beyond moto. */
import { z } from 'zod';

const accountId = z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id');

export const iamPlanSchema = z
  .object({
    /** A key created through the proxy fails authentication (InvalidClientTokenId) this long (AWS: seconds). Up to one hour. */
    newKeyDelayMs: z.number().int().min(0).max(3_600_000).default(0),
    /** Only keys of these accounts (default: every account). */
    accounts: z.array(accountId).min(1).optional(),
    /**
     * In these accounts UpdateAssumeRolePolicy answers success but the role keeps its old trust policy
     * (as if it had not propagated): an ExternalId rotation's test finds the new id denied and rolls back.
     */
    trustPolicyUpdatesIgnoredFor: z.array(accountId).min(1).optional(),
  })
  .strict();

export type IamPlan = z.infer<typeof iamPlanSchema>;

/** Whether a key created at `createdAt` in `account` still fails authentication at `now`. */
export function isKeyTooNew(
  plan: IamPlan | undefined,
  key: { account: string; createdAt: number },
  now: number,
): boolean {
  if (!plan || plan.newKeyDelayMs === 0) return false;
  if (plan.accounts !== undefined && !plan.accounts.includes(key.account)) return false;
  return now < key.createdAt + plan.newKeyDelayMs;
}

/** Whether an UpdateAssumeRolePolicy in `account` is acknowledged without being applied. */
export function isTrustPolicyUpdateIgnored(plan: IamPlan | undefined, account: string | undefined): boolean {
  return account !== undefined && (plan?.trustPolicyUpdatesIgnoredFor?.includes(account) ?? false);
}
