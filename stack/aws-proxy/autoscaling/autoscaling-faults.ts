/**
 * The `autoscaling` section of the fault plan: how instance refreshes run (speed) and go wrong
 * (poisoned images, alarms after an image, failed rollbacks, someone else's refresh, slow refreshes).
 * Chosen per account (and region, group) or image id, as the other sections choose. Validation (zod)
 * and the matching rules are pure functions.
 */
import { z } from 'zod';
import { HEALTH_ALARM_SUFFIX } from '../../../fleet/pipeline-stack';

const accountId = z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id');
const accounts = z.array(accountId).min(1);
const regions = z
  .array(z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'must be an AWS region name like eu-west-1'))
  .min(1);
const groups = z.array(z.string().min(1).max(255)).min(1);
const imageId = z.string().regex(/^ami-[0-9a-f]{8,17}$/, 'must be an AMI id like ami-0123456789abcdef0');
/** Up to one day. */
const durationMs = z.number().int().min(0).max(86_400_000);
const percent = z.number().int().min(0).max(100);

export const autoScalingPlanSchema = z
  .object({
    /** An instance refresh goes from 0 to 100 % in this long (default 4000), checkpoint pauses and bake time not counted. */
    refreshDurationMs: durationMs.optional(),
    /** It is Pending this long first (default 500); cancelling takes as long. */
    pendingMs: durationMs.optional(),
    /** Milliseconds per AWS second for the request's CheckpointDelay and BakeTime (default 1: an hour's delay takes 3.6 s). */
    msPerAwsSecond: z.number().min(0).max(1000).optional(),
    /** Refreshes in these accounts (regions, groups) take `durationMs` instead. */
    slowRefreshes: z
      .array(z.object({ accounts, regions: regions.optional(), groups: groups.optional(), durationMs }).strict())
      .optional(),
    /** A refresh to a launch template version on this image: instances never become healthy, it fails at `failAtPercent` (default 25) and rolls back (AutoRollback) or ends Failed. */
    poisonedImages: z
      .array(z.object({ imageId, accounts: accounts.optional(), failAtPercent: percent.optional() }).strict())
      .optional(),
    /** Rollbacks (automatic or RollbackInstanceRefresh) in these accounts end in RollbackFailed. */
    rollbackFailed: z.array(z.object({ accounts, regions: regions.optional() }).strict()).optional(),
    /** Groups in these accounts have someone else's refresh InProgress when first touched after the plan was set, for `durationMs` (default 60000). */
    foreignRefreshes: z
      .array(
        z
          .object({
            accounts,
            regions: regions.optional(),
            groups: groups.optional(),
            durationMs: durationMs.optional(),
          })
          .strict(),
      )
      .optional(),
    /** `afterMs` after a refresh to this image is Successful, the CloudWatch alarm `alarmName` (default `<group>-health`) goes to ALARM. */
    alarms: z
      .array(
        z
          .object({
            imageId,
            accounts: accounts.optional(),
            alarmName: z.string().min(1).max(255).optional(),
            afterMs: durationMs.optional(),
          })
          .strict(),
      )
      .optional(),
  })
  .strict();

export type AutoScalingPlan = z.infer<typeof autoScalingPlanSchema>;

export const DEFAULT_REFRESH_DURATION_MS = 4000;
export const DEFAULT_PENDING_MS = 500;
export const DEFAULT_FAIL_AT_PERCENT = 25;
export const DEFAULT_FOREIGN_REFRESH_MS = 60_000;

/** Where a refresh runs. */
export interface GroupRef {
  account: string;
  region: string;
  groupName: string;
}

const within = <T>(list: T[] | undefined, value: T): boolean => list === undefined || list.includes(value);

function matchesGroup(entry: { accounts?: string[]; regions?: string[]; groups?: string[] }, where: GroupRef): boolean {
  return (
    within(entry.accounts, where.account) &&
    within(entry.regions, where.region) &&
    within(entry.groups, where.groupName)
  );
}

/** How long a refresh of `where` takes from 0 to 100 %. */
export function refreshDurationMs(plan: AutoScalingPlan | undefined, where: GroupRef): number {
  const slow = (plan?.slowRefreshes ?? []).find((s) => matchesGroup(s, where));
  return slow?.durationMs ?? plan?.refreshDurationMs ?? DEFAULT_REFRESH_DURATION_MS;
}

/** The percentage at which a refresh to `imageId` in `account` fails, if the image is poisoned there. */
export function poisonedAt(
  plan: AutoScalingPlan | undefined,
  account: string,
  imageId: string | undefined,
): number | undefined {
  if (!imageId) return undefined;
  const p = (plan?.poisonedImages ?? []).find((x) => x.imageId === imageId && within(x.accounts, account));
  return p ? (p.failAtPercent ?? DEFAULT_FAIL_AT_PERCENT) : undefined;
}

export function rollbackFails(plan: AutoScalingPlan | undefined, where: GroupRef): boolean {
  return (plan?.rollbackFailed ?? []).some((r) => matchesGroup(r, where));
}

/** How long someone else's refresh runs on `where`, if the plan puts one there. */
export function foreignRefreshMs(plan: AutoScalingPlan | undefined, where: GroupRef): number | undefined {
  const f = (plan?.foreignRefreshes ?? []).find((x) => matchesGroup(x, where));
  return f ? (f.durationMs ?? DEFAULT_FOREIGN_REFRESH_MS) : undefined;
}

export interface ImageAlarmTrigger {
  alarmName: string;
  afterMs: number;
}

/** Alarms to set to ALARM once a refresh of `where` to `imageId` is Successful. */
export function imageAlarmTriggers(
  plan: AutoScalingPlan | undefined,
  where: GroupRef,
  imageId: string | undefined,
): ImageAlarmTrigger[] {
  if (!imageId) return [];
  return (plan?.alarms ?? [])
    .filter((a) => a.imageId === imageId && within(a.accounts, where.account))
    .map((a) => ({ alarmName: a.alarmName ?? `${where.groupName}${HEALTH_ALARM_SUFFIX}`, afterMs: a.afterMs ?? 0 }));
}
