/**
 * AMI rollouts on the real local stack (Temporal, moto + AWS proxy, OpenBao): `sim seed` (image account,
 * a launch template and an Auto Scaling group per account and region) → `sim image build` + `image
 * publish` → `fleetCampaign` with `operation: "ami-rollout"`. Proves: every group on the new version M
 * through exactly one refresh and M the template's default; a poisoned image contained in the canary
 * wave with every touched group back on N; an alarm during the bake rolls the group back; invalid input
 * fails at once naming each field; no credential in any history.
 */
import fs from 'node:fs';
import path from 'node:path';
import {
  AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  UpdateAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import { WorkflowFailedError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatPlanReport } from '../../cli/commands/campaign-status-view';
import { runSimSeed } from '../../cli/commands/sim-seed';
import { seedLocalStack } from '../../cli/sim/seed-local-stack';
import { SIM_GROUP_NAME, simulatedFleet } from '../../cli/sim/simulated-fleet';
import type { FleetAccount } from '../../fleet/fleet-schema';
import { resolveAutoScalingGroups } from '../../fleet/fleet-images';
import { loadFleetFile, stringifyFleet } from '../../fleet/load-fleet';
import type { FleetCampaignInput } from '../../workflows/campaign/campaign-input';
import { fleetCampaign, type CampaignReport } from '../../workflows/campaign/fleet-campaign';
import { accountAmiRollout } from '../../workflows/ami/account-ami-rollout';
import { accountCredentials } from '../support/account-access';
import { cleanUp } from '../support/cleanup';
import {
  groupState as groupStateIn,
  publishRelease,
  refreshLedger,
  type RefreshLedger,
} from '../support/ami-fleet-checks';
import { allWorkflowHistories, decodedHistoryText, secretsIn } from '../support/history-scan';
import { accountResult } from '../support/rotation-campaigns';
import { setFaultPlan, startTestWorker, testClient, testStack } from '../support/test-stack';

const cfg = testStack();
const TASK_QUEUE = 'ami-rollout-test';
const ID_BASE = 981_000_000_000 + (Date.now() % 100_000) * 10;
const RUN = `ami-${Date.now()}`;
const dir = path.join(cfg.stateDir, `ami-rollout-${ID_BASE}`);
const fleetFile = path.join(dir, 'fleet.yaml');
/** The second group of the multi-group accounts (in eu-west-1). */
const SECOND_GROUP = 'data-pipeline-loaders';

let accounts: FleetAccount[];
let worker: Awaited<ReturnType<typeof startTestWorker>>;
let temporal: Awaited<ReturnType<typeof testClient>>;

/** Refreshes per account in the proxy's ledger. */
const refreshCounts = (refreshes: RefreshLedger['refreshes']) =>
  refreshes.reduce<Record<string, number>>((n, r) => ({ ...n, [r.account]: (n[r.account] ?? 0) + 1 }), {});

/** Every (account, region) the fleet file names a group in for these accounts. */
const groupsOf = (as: FleetAccount[]) =>
  as.flatMap((a) => resolveAutoScalingGroups(a).map((t) => ({ account: a, region: t.region })));

const ledger = () => refreshLedger(cfg);
const groupState = (account: FleetAccount, region: string) => groupStateIn(cfg, account, region);
const release = (name: string) => publishRelease(dir, fleetFile, name);

function campaign(campaignId: string, input: Partial<FleetCampaignInput>): Promise<CampaignReport> {
  return temporal.client.workflow.execute(fleetCampaign, {
    taskQueue: TASK_QUEUE,
    workflowId: campaignId,
    args: [
      {
        operation: 'ami-rollout',
        fleetFile,
        maxInFlight: 8,
        failureBudget: { maxFailures: 1, onExceeded: 'cancel' },
        ...input,
      } as FleetCampaignInput,
    ],
  });
}

beforeAll(async () => {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  await runSimSeed({ accounts: 8, idBase: ID_BASE, out: fleetFile, quiet: true });
  accounts = loadFleetFile(fleetFile);
  worker = await startTestWorker(TASK_QUEUE);
  temporal = await testClient(cfg);
}, 180_000);

afterAll(() =>
  cleanUp({
    faults: () => setFaultPlan(cfg, null),
    worker: () => worker?.stop(),
    temporal: () => temporal?.close(),
  }),
);

describe('ami-rollout on the local stack', () => {
  let good: Record<string, string>;

  it(
    'plan mode reports per group the current and target image and whether it can roll back',
    { timeout: 60_000 },
    async () => {
      good = await release(`${RUN}-good`);
      const id = `${RUN}-plan`;
      const report = await campaign(id, {
        plan: true,
        select: { ids: [accounts[0].id] },
        ami: { image: 'latest' },
      } as Partial<FleetCampaignInput>);
      expect(report.counts).toEqual({ planned: 1 });
      const [line] = (await accountResult(temporal.client, id, accounts[0].id)).regions;
      expect(line).toMatchObject({
        region: 'eu-west-1',
        group: SIM_GROUP_NAME,
        outcome: 'planned',
        fromVersion: '1',
        toImage: good['eu-west-1'],
        canRollBack: true,
      });
      expect(line.fromImage).toMatch(/^ami-/);
      // What `campaign start --plan --watch` prints for it: the group's images and that it can roll back.
      expect(formatPlanReport(report.planReport ?? [])).toEqual([
        'plan: 1 accounts — 1 would change, 0 unchanged, 0 could not be planned',
        `  ▲ ${accounts[0].id} eu-west-1 ${SIM_GROUP_NAME}  ${line.fromImage} (version 1) → ${good['eu-west-1']}  can roll back`,
      ]);
      expect((await ledger()).starts.filter((s) => s.account === accounts[0].id)).toEqual([]);
    },
  );

  it('rolls a good image through every group: one refresh each, M the default', { timeout: 120_000 }, async () => {
    await setFaultPlan(cfg, { rules: [], autoscaling: { refreshDurationMs: 1500, pendingMs: 200 } });
    const id = `${RUN}-good`;
    const report = await campaign(id, {
      ami: { image: 'latest', healthBakeSeconds: 1, healthPollSeconds: 1 },
    } as Partial<FleetCampaignInput>);
    expect(report.target).toBe(`${RUN}-good`);
    expect(report.counts).toEqual({ 'rolled-out': accounts.length });
    const ours = new Set(accounts.map((a) => a.id));
    const starts = (await ledger()).starts.filter((s) => ours.has(s.account));
    expect(starts.length).toBe(groupsOf(accounts).length);
    expect(starts.every((s) => s.starts === 1)).toBe(true);
    for (const { account, region } of groupsOf(accounts)) {
      const s = await groupState(account, region);
      expect(s, `${account.id} ${region}`).toEqual({ version: '2', defaultVersion: 2 });
    }
    const r = await accountResult(temporal.client, id, accounts[4].id);
    expect(r.regions.map((x) => [x.region, x.outcome, x.fromVersion, x.toVersion])).toEqual([
      ['eu-west-1', 'rolled-out', '1', '2'],
      ['us-east-1', 'rolled-out', '1', '2'],
    ]);
  });

  it(
    'a poisoned image stops in the canary wave: its group back on N, no later wave touched',
    { timeout: 120_000 },
    async () => {
      const bad = await release(`${RUN}-poisoned`);
      await setFaultPlan(cfg, {
        rules: [],
        autoscaling: { poisonedImages: Object.values(bad).map((imageId) => ({ imageId, failAtPercent: 25 })) },
      });
      const countBefore = refreshCounts((await ledger()).refreshes);
      const id = `${RUN}-poisoned`;
      const report = await campaign(id, {
        ami: { image: `${RUN}-poisoned`, healthBakeSeconds: 1, healthPollSeconds: 1 },
      } as Partial<FleetCampaignInput>);
      expect(report.counts['rolled-back']).toBe(1);
      expect(report.counts['rolled-out'] ?? 0).toBe(0);
      const canary = accounts[0];
      const r = await accountResult(temporal.client, id, canary.id);
      expect(r.outcome).toBe('rolled-back');
      expect(r.errorType).toBe('InstanceRefreshRolledBack');
      expect(r.runbook).toBe('docs/runbooks/ami-refresh-rolled-back.md');
      expect(await groupState(canary, 'eu-west-1')).toEqual({ version: '2', defaultVersion: 2 });
      const countAfter = refreshCounts((await ledger()).refreshes);
      const touched = accounts.filter((a) => (countAfter[a.id] ?? 0) !== (countBefore[a.id] ?? 0)).map((a) => a.id);
      expect(touched).toEqual([canary.id]);
      await setFaultPlan(cfg, null);
    },
  );

  it('an alarm during the bake puts the group back on N (a refresh to N)', { timeout: 120_000 }, async () => {
    const next = await release(`${RUN}-alarmed`);
    const target = accounts[2];
    await setFaultPlan(cfg, {
      rules: [],
      autoscaling: {
        alarms: [
          { imageId: next['eu-west-1'], accounts: [target.id], alarmName: `${SIM_GROUP_NAME}-health`, afterMs: 0 },
        ],
      },
    });
    const id = `${RUN}-alarmed`;
    const report = await campaign(id, {
      select: { ids: [target.id] },
      ami: { image: `${RUN}-alarmed`, healthBakeSeconds: 6, healthPollSeconds: 1 },
    } as Partial<FleetCampaignInput>);
    expect(report.counts).toEqual({ 'rolled-back': 1 });
    const r = await accountResult(temporal.client, id, target.id);
    expect(r.errorType).toBe('HealthAlarm');
    expect(r.regions[0]).toMatchObject({ outcome: 'rolled-back', fromVersion: '2', toVersion: '2' });
    expect(await groupState(target, 'eu-west-1')).toEqual({ version: '2', defaultVersion: 2 });
    await setFaultPlan(cfg, null);
  });

  it(
    "quarantines someone else's refresh (after the wait), a failed rollback and a $Latest group, each with its runbook",
    { timeout: 90_000 },
    async () => {
      const next = await release(`${RUN}-quarantines`);
      const [busy, rollbackFails, onLatest] = [accounts[5], accounts[6], accounts[7]];
      const credentials = await accountCredentials(cfg, onLatest);
      const asg = new AutoScalingClient({ endpoint: cfg.awsEndpoint, region: 'eu-west-1', credentials });
      const group = (await asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [SIM_GROUP_NAME] })))
        .AutoScalingGroups![0];
      await asg.send(
        new UpdateAutoScalingGroupCommand({
          AutoScalingGroupName: SIM_GROUP_NAME,
          LaunchTemplate: { LaunchTemplateId: group.LaunchTemplate!.LaunchTemplateId, Version: '$Latest' },
        }),
      );
      await setFaultPlan(cfg, {
        rules: [],
        autoscaling: {
          foreignRefreshes: [{ accounts: [busy.id], durationMs: 60_000 }],
          poisonedImages: [{ imageId: next['eu-west-1'], accounts: [rollbackFails.id] }],
          rollbackFailed: [{ accounts: [rollbackFails.id] }],
        },
      });
      const id = `${RUN}-quarantines`;
      const report = await campaign(id, {
        select: { ids: [busy.id, rollbackFails.id, onLatest.id] },
        failureBudget: { maxFailures: 5, onExceeded: 'cancel' },
        ami: { image: `${RUN}-quarantines`, healthBakeSeconds: 0, healthPollSeconds: 1, busyRefreshWaitSeconds: 4 },
      } as Partial<FleetCampaignInput>);
      expect(report.counts).toEqual({ quarantined: 3 });
      const outcome = async (a: FleetAccount) => {
        const r = await accountResult(temporal.client, id, a.id);
        return [r.outcome, r.errorType, r.runbook];
      };
      expect(await outcome(busy)).toEqual([
        'quarantined',
        'InstanceRefreshBusy',
        'docs/runbooks/ami-foreign-instance-refresh.md',
      ]);
      expect(await outcome(rollbackFails)).toEqual([
        'quarantined',
        'InstanceRefreshRollbackFailed',
        'docs/runbooks/ami-rollback-failed.md',
      ]);
      expect(await outcome(onLatest)).toEqual([
        'quarantined',
        'LaunchTemplateVersionNotPinned',
        'docs/runbooks/ami-group-on-latest.md',
      ]);
      // Nothing was started on the $Latest group, nor over someone else's refresh.
      const started = (await ledger()).refreshes.filter(
        (r) => (r.account === onLatest.id || r.account === busy.id) && r.startedBy === 'client',
      );
      expect(started.filter((r) => r.account === onLatest.id)).toHaveLength(1); // the good rollout's only
      expect(started.filter((r) => r.account === busy.id)).toHaveLength(1);
      await setFaultPlan(cfg, null);
    },
  );

  it(
    'an account with several groups: a failed refresh or a bake alarm puts every group it touched back on N, even past a group that cannot go back; other accounts unaffected',
    { timeout: 180_000 },
    async () => {
      // Its own fleet, one wave: every account has the workers group in eu-west-1 and us-east-1 and a
      // second group in eu-west-1; the groups roll out in the order eu workers, eu loaders, us workers.
      const multiDir = path.join(dir, 'multi-group');
      const multiFleet = path.join(multiDir, 'fleet.yaml');
      fs.mkdirSync(multiDir, { recursive: true });
      const fleet = simulatedFleet(5, { idBase: ID_BASE + 100, secrets: false }).map((a) => ({
        ...a,
        ring: 'general' as const,
        regions: ['eu-west-1', 'us-east-1'],
        autoScalingGroups: [{ name: SIM_GROUP_NAME }, { name: SECOND_GROUP, region: 'eu-west-1' }],
      }));
      await seedLocalStack(cfg, fleet);
      fs.writeFileSync(multiFleet, stringifyFleet(fleet));
      const [refreshFails, bakeAlarms, busy, putBackFails, good] = loadFleetFile(multiFleet);
      const image = await publishRelease(multiDir, multiFleet, `${RUN}-multi`);
      const baseImage = (await groupStateIn(cfg, putBackFails, 'us-east-1', { withImage: true })).imageId;
      expect(baseImage).toMatch(/^ami-/);
      await setFaultPlan(cfg, {
        rules: [],
        autoscaling: {
          refreshDurationMs: 1500,
          pendingMs: 200,
          // the last group's refresh fails (and rolls itself back) after two groups were moved
          // and in another account the way back to N of the last group fails (its base image is poisoned)
          poisonedImages: [
            { imageId: image['us-east-1'], accounts: [refreshFails.id] },
            { imageId: baseImage!, accounts: [putBackFails.id] },
          ],
          // the last group's health alarm fires during its bake, after all three were moved (0.5 s after
          // Successful: with 0 one of two alarms was never set — the proxy's timer can fire a millisecond
          // before its refresh reads Successful, and then skips the alarm)
          alarms: [{ imageId: image['us-east-1'], accounts: [bakeAlarms.id, putBackFails.id], afterMs: 500 }],
          // someone else's refresh on the second group: quarantined after the first was moved
          foreignRefreshes: [
            { accounts: [busy.id], regions: ['eu-west-1'], groups: [SECOND_GROUP], durationMs: 60_000 },
          ],
        },
      });
      const id = `${RUN}-multi`;
      const report = await campaign(id, {
        fleetFile: multiFleet,
        maxInFlight: 5,
        failureBudget: { maxFailures: 5, onExceeded: 'cancel' },
        ami: { image: `${RUN}-multi`, healthBakeSeconds: 3, healthPollSeconds: 1, busyRefreshWaitSeconds: 0 },
      } as Partial<FleetCampaignInput>);
      await setFaultPlan(cfg, null);
      expect(report.counts).toEqual({ 'rolled-back': 2, quarantined: 2, 'rolled-out': 1 });

      const starts = (await ledger()).starts;
      const startsOf = (a: FleetAccount) =>
        Object.fromEntries(
          starts.filter((s) => s.account === a.id).map((s) => [`${s.region} ${s.groupName}`, s.starts]),
        );
      const linesOf = async (a: FleetAccount) => {
        const r = await accountResult(temporal.client, id, a.id);
        return {
          outcome: r.outcome,
          errorType: r.errorType,
          groups: Object.fromEntries(
            r.regions.map((x) => [`${x.region} ${x.group}`, [x.outcome, x.fromVersion, x.toVersion]]),
          ),
        };
      };
      const versionsOf = async (a: FleetAccount) => {
        const credentials = await accountCredentials(cfg, a);
        const at = (region: string, groupName: string) => groupStateIn(cfg, a, region, { groupName, credentials });
        return {
          [`eu-west-1 ${SIM_GROUP_NAME}`]: await at('eu-west-1', SIM_GROUP_NAME),
          [`eu-west-1 ${SECOND_GROUP}`]: await at('eu-west-1', SECOND_GROUP),
          [`us-east-1 ${SIM_GROUP_NAME}`]: await at('us-east-1', SIM_GROUP_NAME),
        };
      };
      const onN = { version: '1', defaultVersion: 1 };
      const allOnN = {
        [`eu-west-1 ${SIM_GROUP_NAME}`]: onN,
        [`eu-west-1 ${SECOND_GROUP}`]: onN,
        [`us-east-1 ${SIM_GROUP_NAME}`]: onN,
      };

      // The last group's refresh failed: the two moved before it were refreshed back to N (a second start each).
      expect(await linesOf(refreshFails)).toEqual({
        outcome: 'rolled-back',
        errorType: 'InstanceRefreshRolledBack',
        groups: {
          [`eu-west-1 ${SIM_GROUP_NAME}`]: ['rolled-back', '1', '1'],
          [`eu-west-1 ${SECOND_GROUP}`]: ['rolled-back', '1', '1'],
          [`us-east-1 ${SIM_GROUP_NAME}`]: ['rolled-back', '1', '1'],
        },
      });
      expect(startsOf(refreshFails)).toEqual({
        [`eu-west-1 ${SIM_GROUP_NAME}`]: 2,
        [`eu-west-1 ${SECOND_GROUP}`]: 2,
        [`us-east-1 ${SIM_GROUP_NAME}`]: 1,
      });
      expect(await versionsOf(refreshFails)).toEqual(allOnN);

      // The last group's alarm fired in its bake: all three refreshed back to N.
      expect(await linesOf(bakeAlarms)).toEqual({
        outcome: 'rolled-back',
        errorType: 'HealthAlarm',
        groups: {
          [`eu-west-1 ${SIM_GROUP_NAME}`]: ['rolled-back', '1', '1'],
          [`eu-west-1 ${SECOND_GROUP}`]: ['rolled-back', '1', '1'],
          [`us-east-1 ${SIM_GROUP_NAME}`]: ['rolled-back', '1', '1'],
        },
      });
      expect(startsOf(bakeAlarms)).toEqual({
        [`eu-west-1 ${SIM_GROUP_NAME}`]: 2,
        [`eu-west-1 ${SECOND_GROUP}`]: 2,
        [`us-east-1 ${SIM_GROUP_NAME}`]: 2,
      });
      expect(await versionsOf(bakeAlarms)).toEqual(allOnN);

      // Someone else's refresh on the second group: the first back on N, the rest never started.
      const busyLines = await linesOf(busy);
      expect(busyLines).toMatchObject({ outcome: 'quarantined', errorType: 'InstanceRefreshBusy' });
      expect(busyLines.groups[`eu-west-1 ${SIM_GROUP_NAME}`]).toEqual(['rolled-back', '1', '1']);
      expect(busyLines.groups[`eu-west-1 ${SECOND_GROUP}`]?.[0]).toBe('skipped');
      expect(busyLines.groups[`us-east-1 ${SIM_GROUP_NAME}`]?.[0]).toBe('skipped');
      expect(startsOf(busy)).toEqual({ [`eu-west-1 ${SIM_GROUP_NAME}`]: 2 });
      expect(await versionsOf(busy)).toEqual(allOnN);

      // The last group cannot go back on N (quarantined, still on M): the two others still do.
      const stuck = await linesOf(putBackFails);
      expect(stuck).toEqual({
        outcome: 'quarantined',
        errorType: 'InstanceRefreshRollbackFailed',
        groups: {
          [`eu-west-1 ${SIM_GROUP_NAME}`]: ['rolled-back', '1', '1'],
          [`eu-west-1 ${SECOND_GROUP}`]: ['rolled-back', '1', '1'],
          [`us-east-1 ${SIM_GROUP_NAME}`]: ['quarantined', '1', '2'],
        },
      });
      expect(startsOf(putBackFails)).toEqual({
        [`eu-west-1 ${SIM_GROUP_NAME}`]: 2,
        [`eu-west-1 ${SECOND_GROUP}`]: 2,
        [`us-east-1 ${SIM_GROUP_NAME}`]: 2,
      });
      expect(await versionsOf(putBackFails)).toEqual({
        ...allOnN,
        [`us-east-1 ${SIM_GROUP_NAME}`]: { version: '2', defaultVersion: 1 },
      });

      // The account without faults: every group on M, M the default, one refresh each.
      expect((await linesOf(good)).outcome).toBe('rolled-out');
      expect(startsOf(good)).toEqual({
        [`eu-west-1 ${SIM_GROUP_NAME}`]: 1,
        [`eu-west-1 ${SECOND_GROUP}`]: 1,
        [`us-east-1 ${SIM_GROUP_NAME}`]: 1,
      });
      const onM = { version: '2', defaultVersion: 2 };
      expect(await versionsOf(good)).toEqual({
        [`eu-west-1 ${SIM_GROUP_NAME}`]: onM,
        [`eu-west-1 ${SECOND_GROUP}`]: onM,
        [`us-east-1 ${SIM_GROUP_NAME}`]: onM,
      });
    },
  );

  it('invalid input (one JSON object) fails at once naming each bad field', { timeout: 30_000 }, async () => {
    const err = await temporal.client.workflow
      .execute(accountAmiRollout, {
        taskQueue: TASK_QUEUE,
        workflowId: `${RUN}-invalid`,
        args: [
          {
            campaignId: `${RUN}-invalid`,
            fleetFile,
            accountId: accounts[0].id,
            operation: 'ami-rollout',
            ami: { image: 'no spaces allowed', healthBakeSeconds: -1, minHealthyPercentage: 101, extra: true },
          } as never,
        ],
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const message = String((err as WorkflowFailedError).cause?.message);
    for (const field of ['ami.image', 'ami.healthBakeSeconds', 'ami.minHealthyPercentage', 'extra'])
      expect(message).toContain(field);
  });

  it('no credential in any history of these workflows', { timeout: 60_000 }, async () => {
    const histories = await allWorkflowHistories(temporal.client, `WorkflowId STARTS_WITH "${RUN}"`);
    expect(histories.length).toBeGreaterThan(10);
    for (const h of histories) expect(secretsIn(decodedHistoryText(h.json)), h.workflowId).toEqual([]);
  });
});
