/**
 * The `cloudformation` section of the fault plan: CloudFormation behaviours moto lacks (slow updates,
 * rollbacks, replacement details, health alarms firing after a deploy, stacks busy with someone
 * else's update). Validation (zod) and the matching rules are pure functions.
 */
import { HEALTH_ALARM_SUFFIX } from '../../../fleet/pipeline-stack';
import { z } from 'zod';

const accountId = z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id');
const accounts = z.array(accountId).min(1);
const version = z.string().min(1).max(256);
const region = z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'must be an AWS region name like eu-west-1');
/** Up to one day. */
const durationMs = z.number().int().min(0).max(86_400_000);
const resourceType = z
  .string()
  .regex(
    /^[A-Za-z0-9]+::[A-Za-z0-9]+::[A-Za-z0-9]+$/,
    'must be a CloudFormation resource type like AWS::DynamoDB::Table',
  );

export const cloudFormationPlanSchema = z
  .object({
    /** After ExecuteChangeSet/UpdateStack the stack reports UPDATE_IN_PROGRESS this long, then its terminal status. */
    updateDurationMs: durationMs.optional(),
    /** Executing a change set to one of these versions rolls back (UPDATE_ROLLBACK_COMPLETE); moto never sees it. */
    poisonedVersions: z.array(z.object({ version, accounts: accounts.optional() }).strict()).optional(),
    /** Like poisonedVersions but ends in UPDATE_ROLLBACK_FAILED (version omitted = any version). */
    rollbackFailed: z
      .array(z.object({ version: version.optional(), accounts: accounts.optional() }).strict())
      .optional(),
    /** DescribeChangeSet reports the stack's resources of this type as Modify / Replacement True. */
    replacements: z
      .array(
        z
          .object({ resourceType, versions: z.array(version).min(1).optional(), accounts: accounts.optional() })
          .strict(),
      )
      .optional(),
    /** After a change set to `version` executes, the alarm `${stackName}${alarmNameSuffix ?? HEALTH_ALARM_SUFFIX}` (`<stack>-health`) goes to ALARM. */
    alarms: z
      .array(
        z
          .object({
            version,
            accounts: accounts.optional(),
            alarmNameSuffix: z.string().max(200).optional(),
            afterMs: durationMs.optional(),
          })
          .strict(),
      )
      .optional(),
    /** Stacks in these accounts report someone else's UPDATE_IN_PROGRESS until `untilMs` after the plan was set (omitted = while the plan lasts). */
    busyStacks: z
      .array(
        z.object({ accounts, regions: z.array(region).min(1).optional(), untilMs: durationMs.optional() }).strict(),
      )
      .optional(),
  })
  .strict();

export type CloudFormationPlan = z.infer<typeof cloudFormationPlanSchema>;

/** Where a change set or update is applied and what it deploys. */
export interface DeployTarget {
  account: string;
  region: string;
  /** The target `PipelineVersion` parameter value, when known. */
  version: string | undefined;
}

export type UpdateOutcome = 'applied' | 'rolled-back' | 'rollback-failed';

function inAccounts(list: string[] | undefined, account: string): boolean {
  return list === undefined || list.includes(account);
}

/** What executing an update to `target` does under the plan (rollbackFailed wins over poisonedVersions). */
export function decideUpdateOutcome(plan: CloudFormationPlan | undefined, target: DeployTarget): UpdateOutcome {
  if (!plan) return 'applied';
  const failsRollback = (plan.rollbackFailed ?? []).some(
    (r) => (r.version === undefined || r.version === target.version) && inAccounts(r.accounts, target.account),
  );
  if (failsRollback) return 'rollback-failed';
  if (target.version === undefined) return 'applied';
  const poisoned = (plan.poisonedVersions ?? []).some(
    (p) => p.version === target.version && inAccounts(p.accounts, target.account),
  );
  return poisoned ? 'rolled-back' : 'applied';
}

/** Resource types DescribeChangeSet reports as replaced for a change set to `target`. */
export function replacedResourceTypes(plan: CloudFormationPlan | undefined, target: DeployTarget): string[] {
  const types = new Set<string>();
  for (const r of plan?.replacements ?? []) {
    if (r.versions !== undefined && (target.version === undefined || !r.versions.includes(target.version))) continue;
    if (!inAccounts(r.accounts, target.account)) continue;
    types.add(r.resourceType);
  }
  return [...types];
}

export interface AlarmTrigger {
  alarmName: string;
  afterMs: number;
}

/** Alarms to set to ALARM after an update of `stackName` to `target` took effect. */
export function alarmTriggers(
  plan: CloudFormationPlan | undefined,
  stackName: string,
  target: DeployTarget,
): AlarmTrigger[] {
  if (target.version === undefined) return [];
  return (plan?.alarms ?? [])
    .filter((a) => a.version === target.version && inAccounts(a.accounts, target.account))
    .map((a) => ({ alarmName: `${stackName}${a.alarmNameSuffix ?? HEALTH_ALARM_SUFFIX}`, afterMs: a.afterMs ?? 0 }));
}

/** Whether stacks in (account, region) are busy with someone else's update at `now` (plan installed at `planSetAt`). */
export function isStackBusy(
  plan: CloudFormationPlan | undefined,
  planSetAt: number,
  now: number,
  where: { account: string; region: string },
): boolean {
  return (plan?.busyStacks ?? []).some(
    (b) =>
      b.accounts.includes(where.account) &&
      (b.regions === undefined || b.regions.includes(where.region)) &&
      (b.untilMs === undefined || now < planSetAt + b.untilMs),
  );
}
