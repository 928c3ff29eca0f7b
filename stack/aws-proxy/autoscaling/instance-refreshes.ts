/**
 * Every instance refresh the proxy knows, per (account, region, group), newest first: the ones
 * started through the proxy and the ones the fault plan says someone else started. Statuses are
 * computed from each refresh's times (refresh-timeline.ts). Also the ledger served at
 * `GET /__fleetops/autoscaling/refreshes`, so a test can prove no refresh was started twice.
 */
import type { GroupRef } from './autoscaling-faults';
import { ACTIVE, RUNNING, refreshStateAt, type RefreshState, type RefreshTimes } from './refresh-timeline';

export interface LaunchTemplateRef {
  launchTemplateId?: string;
  launchTemplateName?: string;
  /** As the request or the group gives it: a number, `$Latest` or `$Default`. */
  version?: string;
}

export interface RefreshPreferences {
  minHealthyPercentage?: number;
  maxHealthyPercentage?: number;
  instanceWarmup?: number;
  checkpointPercentages?: number[];
  checkpointDelay?: number;
  skipMatching?: boolean;
  autoRollback?: boolean;
  scaleInProtectedInstances?: string;
  standbyInstances?: string;
  alarms?: string[];
  bakeTime?: number;
}

export interface InstanceRefresh extends GroupRef {
  instanceRefreshId: string;
  /** `client`: started through the proxy; `someone-else`: put there by the fault plan's foreignRefreshes. */
  startedBy: 'client' | 'someone-else';
  times: RefreshTimes;
  desired?: LaunchTemplateRef & { imageId?: string };
  /** The group's launch template when the refresh started (what a rollback returns to). */
  previous?: LaunchTemplateRef;
  preferences: RefreshPreferences;
  /** Instances in the group when the refresh started. */
  instances: number;
  /** The group's launch template was set to `desired` in moto (once Successful). */
  applied: boolean;
}

/** One ledger line: a refresh and its status now. */
export interface RefreshLedgerEntry extends GroupRef {
  instanceRefreshId: string;
  startedBy: InstanceRefresh['startedBy'];
  startedAt: string;
  desired: InstanceRefresh['desired'] | null;
  previous: LaunchTemplateRef | null;
  status: RefreshState['status'];
  percentageComplete: number;
  applied: boolean;
}

export interface RefreshStartCount extends GroupRef {
  /** Refreshes started through the proxy on this group. */
  starts: number;
}

export const groupKey = (g: GroupRef): string => [g.account, g.region, g.groupName].join('\u0000');

export class InstanceRefreshes {
  private readonly byGroup = new Map<string, InstanceRefresh[]>();
  /** Groups a foreign refresh was put on, per plan installation. */
  private readonly foreignPlaced = new Set<string>();

  add(refresh: InstanceRefresh): void {
    const key = groupKey(refresh);
    this.byGroup.set(key, [refresh, ...(this.byGroup.get(key) ?? [])]);
  }

  /** The group's refreshes, newest first. */
  of(group: GroupRef): InstanceRefresh[] {
    return this.byGroup.get(groupKey(group)) ?? [];
  }

  /** Every refresh in an account and region. */
  inRegion(account: string, region: string): InstanceRefresh[] {
    return [...this.byGroup.values()].flat().filter((r) => r.account === account && r.region === region);
  }

  /** The refresh that blocks another start (Pending, InProgress, Baking, Cancelling, RollbackInProgress). */
  active(group: GroupRef, now: number): InstanceRefresh | undefined {
    return this.of(group).find((r) => ACTIVE.has(refreshStateAt(r.times, now).status));
  }

  /** The refresh that can be cancelled or rolled back (Pending, InProgress, Baking). */
  running(group: GroupRef, now: number): InstanceRefresh | undefined {
    return this.of(group).find((r) => RUNNING.has(refreshStateAt(r.times, now).status));
  }

  /** Marks a foreign refresh as placed on `group` for the plan installed at `planSetAt`; false if it already was. */
  placeForeign(group: GroupRef, planSetAt: number): boolean {
    const key = `${planSetAt}\u0000${groupKey(group)}`;
    if (this.foreignPlaced.has(key)) return false;
    this.foreignPlaced.add(key);
    return true;
  }

  ledger(now: number): RefreshLedgerEntry[] {
    return [...this.byGroup.values()]
      .flat()
      .map((r) => {
        const state = refreshStateAt(r.times, now);
        return {
          account: r.account,
          region: r.region,
          groupName: r.groupName,
          instanceRefreshId: r.instanceRefreshId,
          startedBy: r.startedBy,
          startedAt: new Date(r.times.startedAt).toISOString(),
          desired: r.desired ?? null,
          previous: r.previous ?? null,
          status: state.status,
          percentageComplete: state.percentageComplete,
          applied: r.applied,
        };
      })
      .sort(
        (a, b) =>
          a.account.localeCompare(b.account) ||
          a.region.localeCompare(b.region) ||
          a.groupName.localeCompare(b.groupName) ||
          a.startedAt.localeCompare(b.startedAt),
      );
  }

  /** Refreshes started through the proxy, counted per group. */
  startCounts(): RefreshStartCount[] {
    const counts = new Map<string, RefreshStartCount>();
    for (const r of [...this.byGroup.values()].flat()) {
      if (r.startedBy !== 'client') continue;
      const key = groupKey(r);
      const c = counts.get(key) ?? { account: r.account, region: r.region, groupName: r.groupName, starts: 0 };
      c.starts++;
      counts.set(key, c);
    }
    return [...counts.values()];
  }

  reset(): void {
    this.byGroup.clear();
    this.foreignPlaced.clear();
  }
}
