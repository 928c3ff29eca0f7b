/**
 * "Don't touch what is already broken": before changing an account, each operation's child reads the
 * health alarms its bake watches (upgrade and rotation: `<stack>-health`; AMI rollout: each group's
 * `<group>-health`). One already in ALARM ends the account as `unhealthy-before`: nothing changed, not
 * counted against the failure budget, listed with the alarm and its state reason. Pure.
 */
import type { AccountStop } from './account-stop';

/**
 * Patch id (used in every per-account child): the health check before the first change. Runs started
 * before it replay without the check.
 */
export const HEALTH_CHECK_BEFORE_CHANGE = 'health-check-before-change';

/** The outcome of an account left alone because its health alarm was already in ALARM. */
export const UNHEALTHY_BEFORE = 'unhealthy-before';

/** What an operator does with such an account. */
export const UNHEALTHY_BEFORE_RUNBOOK = 'docs/runbooks/unhealthy-before.md';

/** One alarm read (as the CloudWatch activities return it). */
export type AlarmReading = { name: string; state: string; reason?: string };

/** The alarms read in one region (or for one group) before the change. */
export type HealthReading = { region: string; alarms: readonly AlarmReading[] };

/** The alarms in ALARM, each with where it was read. */
export function firingBefore(readings: readonly HealthReading[]): Array<AlarmReading & { region: string }> {
  return readings.flatMap((r) => r.alarms.filter((a) => a.state === 'ALARM').map((a) => ({ ...a, region: r.region })));
}

/**
 * Why the account is left alone, naming each alarm, its region and state reason:
 * `alarm data-pipeline-health in ALARM in eu-west-1 before the change (Threshold Crossed: …); not touched`.
 * Plan mode: `would skip: unhealthy — alarm … in ALARM in eu-west-1 (…)`.
 */
export function unhealthyReason(firing: ReturnType<typeof firingBefore>, plan: boolean): string {
  const alarms = firing
    .map((a) => `alarm ${a.name} in ALARM in ${a.region}${a.reason ? ` (${a.reason})` : ''}`)
    .join('; ');
  return plan ? `would skip: unhealthy — ${alarms}` : `${alarms} before the change; not touched`;
}

/** The account's stop when any alarm read before the change is in ALARM (undefined: healthy, go on). */
export function unhealthyStop(readings: readonly HealthReading[], plan: boolean): AccountStop | undefined {
  const firing = firingBefore(readings);
  if (!firing.length) return undefined;
  return { outcome: UNHEALTHY_BEFORE, reason: unhealthyReason(firing, plan) };
}
