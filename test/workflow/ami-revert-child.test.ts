import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AmiActivities } from '../../activities/ami/ami-activities';
import { createLeaseActivities } from '../../activities/lease/lease-activities';
import type { AmiRevertGroup } from '../../workflows/ami/ami-params';
import type { AccountOperationResult } from '../../workflows/operation/account-operation';
import { TimeSkippingWorker, forwardingActivities } from '../support/time-skipping';

// The revert path of accountAmiRollout (patch ami-revert) on Temporal's time-skipping test server,
// against a stand-in of the account's Auto Scaling groups and launch templates (the AMI activities'
// results; the real ones run in test/integration/ami-revert.test.ts): the edge cases the local stack
// does not reach cheaply — a group changed since the campaign, a group already back on N, a failed
// refresh back to N (the groups moved before it go back to M), an alarm in ALARM before the change.

type Group = { launchTemplateId: string; version: number; defaultVersion: number; fails?: boolean; alarm?: boolean };

/** The account's groups by `region group`, and every refresh started (`region group → version`). */
class FakeAccount {
  groups = new Map<string, Group>();
  starts: string[] = [];
  private pending = new Map<string, { key: string; version: number }>();

  activities(): Partial<AmiActivities> {
    const key = (i: { region: string }, name: string) => `${i.region} ${name}`;
    return {
      describeGroups: async (i) => {
        const name = i.target.by === 'name' ? i.target.name : '';
        const g = this.groups.get(key(i, name));
        if (!g) return [];
        const lt = { launchTemplateId: g.launchTemplateId, launchTemplateName: 'lt', version: String(g.version) };
        return [{ groupName: name, launchTemplate: lt }];
      },
      readLaunchTemplateVersion: async (i) => ({
        launchTemplateId: i.launchTemplateId,
        launchTemplateName: 'lt',
        version: Number(i.version),
        imageId: `ami-${i.launchTemplateId.slice(3)}-v${i.version}`,
        defaultVersion: 1,
      }),
      readGroupAlarms: async (i) => ({
        alarms: i.alarmNames.map((name) => {
          const g = this.groups.get(key(i, name.replace(/-health$/, '')));
          return { name, state: g?.alarm ? 'ALARM' : 'OK' };
        }),
        missing: [],
      }),
      startGroupRefresh: async (i) => {
        const id = `r-${this.starts.length + 1}`;
        this.starts.push(`${key(i, i.groupName)} → ${i.version}`);
        this.pending.set(id, { key: key(i, i.groupName), version: i.version });
        return { kind: 'started', instanceRefreshId: id };
      },
      waitForRefresh: async (i) => {
        const p = this.pending.get(i.instanceRefreshId)!;
        const g = this.groups.get(p.key)!;
        const ok = !g.fails || p.version !== g.version - 1; // a failing group fails going back to N only
        if (ok) g.version = p.version;
        return {
          instanceRefreshId: i.instanceRefreshId,
          status: ok ? 'Successful' : 'RollbackSuccessful',
          percentageComplete: ok ? 100 : 25,
          startedAt: 0,
          desired: { version: String(p.version) },
        };
      },
      listRefreshes: async () => [],
      rollbackGroupRefresh: async () => ({ rolledBack: false }),
      setDefaultLaunchTemplateVersion: async (i) => {
        for (const g of this.groups.values())
          if (g.launchTemplateId === i.launchTemplateId) g.defaultVersion = i.version;
        return { changed: true };
      },
    };
  }
}

let ts: TimeSkippingWorker;
let account: FakeAccount;
const TASK_QUEUE = 'ami-revert-child';
const ACCOUNT = '700000000001';
let seq = 0;

beforeAll(async () => {
  account = new FakeAccount();
  // the stand-in reads `account` at call time: each test sets its own groups
  const amiActivities = forwardingActivities(() => account.activities());
  ts = await TimeSkippingWorker.start({
    taskQueue: TASK_QUEUE,
    workflowsPath: path.resolve(__dirname, '../../workflows/index.ts'),
    activities: (env) => ({ ...createLeaseActivities(env.client), ...amiActivities }),
  });
}, 120_000);

afterAll(() => ts?.stop());

const LT_A = 'lt-0a';
const LT_B = 'lt-0b';
const LT_C = 'lt-0c';
const back = (region: string, group: string, launchTemplateId: string): AmiRevertGroup => ({
  region,
  group,
  launchTemplateId,
  fromVersion: 2,
  toVersion: 1,
});

function revert(groups: AmiRevertGroup[]): Promise<AccountOperationResult> {
  const campaignId = `revert-${++seq}`;
  return ts.env.client.workflow.execute('accountAmiRollout', {
    taskQueue: TASK_QUEUE,
    workflowId: `${campaignId}/${ACCOUNT}`,
    args: [
      {
        campaignId,
        fleetFile: '/fleet/fleet.yaml',
        accountId: ACCOUNT,
        operation: 'ami-rollout',
        ami: { image: 'img-2', healthBakeSeconds: 60, healthPollSeconds: 10, revertGroups: groups },
      },
    ],
  });
}

const rows = (r: AccountOperationResult) =>
  r.regions.map((x) => [`${x.region} ${x.group}`, x.outcome, x.fromVersion, x.toVersion]);

describe('accountAmiRollout revert path (time-skipping)', () => {
  it('moves groups on M back to N (N the default), leaves a group on N alone and one changed since skipped', async () => {
    account = new FakeAccount();
    account.groups.set('eu-west-1 w', { launchTemplateId: LT_A, version: 2, defaultVersion: 2 });
    // on N already, but M still the default (someone refreshed it by hand): N becomes the default
    account.groups.set('eu-west-1 l', { launchTemplateId: LT_B, version: 1, defaultVersion: 2 });
    account.groups.set('us-east-1 w', { launchTemplateId: LT_C, version: 3, defaultVersion: 3 });
    const r = await revert([back('eu-west-1', 'w', LT_A), back('eu-west-1', 'l', LT_B), back('us-east-1', 'w', LT_C)]);
    expect(r.outcome).toBe('rolled-out');
    expect(rows(r)).toEqual([
      ['eu-west-1 w', 'rolled-out', '2', '1'],
      ['eu-west-1 l', 'already-current', '2', '1'],
      ['us-east-1 w', 'skipped', '2', '1'],
    ]);
    expect(r.regions[2].reason).toBe(
      `us-east-1 group w launches from ${LT_C} version 3, not ${LT_C} version 2 where the campaign left it`,
    );
    expect(account.starts).toEqual(['eu-west-1 w → 1']);
    expect(account.groups.get('eu-west-1 w')).toMatchObject({ version: 1, defaultVersion: 1 });
    expect(account.groups.get('eu-west-1 l')).toMatchObject({ version: 1, defaultVersion: 1 });
    expect(account.groups.get('us-east-1 w')).toMatchObject({ version: 3, defaultVersion: 3 });
  });

  it('only groups changed since: the account is skipped, nothing started', async () => {
    account = new FakeAccount();
    account.groups.set('eu-west-1 w', { launchTemplateId: 'lt-0ff', version: 2, defaultVersion: 2 });
    const r = await revert([back('eu-west-1', 'w', LT_A)]);
    expect(r.outcome).toBe('skipped');
    expect(r.reason).toContain(`launches from lt-0ff version 2, not ${LT_A} version 2`);
    expect(account.starts).toEqual([]);
  });

  it('a failed refresh back to N: the group moved before it goes back to M, the account rolled back', async () => {
    account = new FakeAccount();
    account.groups.set('eu-west-1 w', { launchTemplateId: LT_A, version: 2, defaultVersion: 2 });
    account.groups.set('eu-west-1 l', { launchTemplateId: LT_B, version: 2, defaultVersion: 2, fails: true });
    const r = await revert([back('eu-west-1', 'w', LT_A), back('eu-west-1', 'l', LT_B)]);
    expect(r).toMatchObject({ outcome: 'rolled-back', errorType: 'InstanceRefreshRolledBack' });
    expect(rows(r)).toEqual([
      ['eu-west-1 w', 'rolled-back', '2', '2'],
      ['eu-west-1 l', 'rolled-back', '2', '2'],
    ]);
    expect(account.starts).toEqual(['eu-west-1 w → 1', 'eu-west-1 l → 1', 'eu-west-1 w → 2']);
    for (const g of account.groups.values()) expect(g).toMatchObject({ version: 2, defaultVersion: 2 });
  });

  it('an alarm in ALARM before the change: unhealthy-before, nothing started', async () => {
    account = new FakeAccount();
    account.groups.set('eu-west-1 w', { launchTemplateId: LT_A, version: 2, defaultVersion: 2, alarm: true });
    const r = await revert([back('eu-west-1', 'w', LT_A)]);
    expect(r.outcome).toBe('unhealthy-before');
    expect(account.starts).toEqual([]);
  });
});
