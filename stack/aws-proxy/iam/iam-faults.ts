/** The `iam` section of the fault plan: how IAM access keys behave beyond moto. */
import { z } from 'zod';

const accountId = z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id');

export const iamPlanSchema = z
  .object({
    /** A key created through the proxy fails authentication (InvalidClientTokenId) this long (AWS: seconds). Up to one hour. */
    newKeyDelayMs: z.number().int().min(0).max(3_600_000),
    /** Only keys of these accounts (default: every account). */
    accounts: z.array(accountId).min(1).optional(),
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
