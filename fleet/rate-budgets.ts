import { z } from 'zod';

/**
 * Rate-limit budgets (calls per second) of fleetops' AWS calls — the one place they are defined.
 * Enforced inside activities per (AWS API family, region), per customer account, and one global
 * budget for AssumeRole from fleetops' own identity; counted across all workers when they share a
 * store (FLEETOPS_RATE_STORE, Valkey/Redis), else per process. `taskQueue` is applied to the Temporal
 * server itself (UpdateTaskQueueConfig). docs/rate-budgets.md says which limit lives where and why.
 * Families are AWS service ids as the SDK names them: sts, cloudformation, ec2, autoscaling,
 * monitoring (CloudWatch), secretsmanager, iam; `default` covers the rest.
 */
const Budget = z.strictObject({
  perSecond: z.number().positive().max(10_000),
  /** Calls allowed at once after an idle period (token bucket depth). */
  burst: z.number().int().min(1).max(10_000).optional(),
});
export type Budget = z.infer<typeof Budget>;

export const RateBudgetsSchema = z.strictObject({
  families: z.record(z.string().min(1), Budget).default({}),
  default: Budget.default({ perSecond: 20, burst: 5 }),
  perAccount: Budget.default({ perSecond: 10, burst: 5 }),
  /**
   * Activity tasks per second the Temporal server dispatches from a fleetops task queue, across all
   * workers (applied to the server with UpdateTaskQueueConfig when a worker starts).
   */
  taskQueueActivitiesPerSecond: z.number().positive().max(100_000).default(500),
  /** AssumeRole calls from fleetops' own identity into customer accounts, however many workers run. */
  assumeRole: Budget.default({ perSecond: 50, burst: 10 }),
  /**
   * How throttling slows a budget down (AIMD): each throttling response multiplies the rate by
   * `decreaseFactor` (responses within `cooldownMs` of each other count once: one burst of errors from
   * concurrent calls is one signal), and the rate climbs back continuously by `recoveryPerSecond` of
   * the budget per second. Heavier throttling means more decreases, so the rate settles lower.
   */
  adaptive: z
    .strictObject({
      decreaseFactor: z.number().gt(0).lt(1).default(0.9),
      /** Lowest the rate may go, as a fraction of the budget. */
      minFraction: z.number().gt(0).max(1).default(0.1),
      cooldownMs: z.number().int().min(0).default(100),
      recoveryPerSecond: z.number().gt(0).max(1).default(0.1),
    })
    .default({ decreaseFactor: 0.9, minFraction: 0.1, cooldownMs: 100, recoveryPerSecond: 0.1 }),
});
export type RateBudgets = z.infer<typeof RateBudgetsSchema>;

/** Budgets for the APIs fleetops calls, well inside AWS's default per-account, per-region quotas. */
export const DEFAULT_RATE_BUDGETS: RateBudgets = RateBudgetsSchema.parse({
  families: {
    sts: { perSecond: 50, burst: 10 },
    cloudformation: { perSecond: 25, burst: 5 },
    ec2: { perSecond: 40, burst: 10 },
    autoscaling: { perSecond: 10, burst: 5 },
    monitoring: { perSecond: 20, burst: 5 },
    secretsmanager: { perSecond: 25, burst: 5 },
    kms: { perSecond: 25, burst: 5 },
  },
});

export function parseRateBudgets(raw: unknown, source: string): RateBudgets {
  const parsed = RateBudgetsSchema.safeParse(raw);
  if (!parsed.success) throw new Error(`invalid rate budgets in ${source}:\n${z.prettifyError(parsed.error)}`);
  return parsed.data;
}
