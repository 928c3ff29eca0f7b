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
import { SIM_GROUP_NAME } from '../../cli/sim/simulated-fleet';
import type { FleetAccount } from '../../fleet/fleet-schema';
import { resolveAutoScalingGroups } from '../../fleet/fleet-images';
import { loadFleetFile } from '../../fleet/load-fleet';
import type { FleetCampaignInput } from '../../workflows/campaign/campaign-input';
import { fleetCampaign, type CampaignReport } from '../../workflows/campaign/fleet-campaign';
import { accountAmiRollout } from '../../workflows/ami/account-ami-rollout';
import { accountCredentials } from '../support/account-access';
import { refreshLedger, simGroupState, type RefreshLedger } from '../support/ami-groups';
import { cleanUp } from '../support/cleanup';
import { allWorkflowHistories, decodedHistoryText, secretsIn } from '../support/history-scan';
import { accountResult } from '../support/rotation-campaigns';
import { publishSimRelease } from '../support/sim-release';
import { setFaultPlan, startTestWorker, testClient, testStack } from '../support/test-stack';

const cfg = testStack();
const TASK_QUEUE = 'ami-rollout-test';
const ID_BASE = 981_000_000_000 + (Date.now() % 100_000) * 10;
const RUN = `ami-${Date.now()}`;
const dir = path.join(cfg.stateDir, `ami-rollout-${ID_BASE}`);
const fleetFile = path.join(dir, 'fleet.yaml');

let accounts: FleetAccount[];
let worker: Awaited<ReturnType<typeof startTestWorker>>;
let temporal: Awaited<ReturnType<typeof testClient>>;

const ledger = () => refreshLedger(cfg);

/** Refreshes per account in the proxy's ledger. */
const refreshCounts = (refreshes: RefreshLedger['refreshes']) =>
  refreshes.reduce<Record<string, number>>((n, r) => ({ ...n, [r.account]: (n[r.account] ?? 0) + 1 }), {});

/** Every (account, region, group) the fleet file names for these accounts. */
const groupsOf = (as: FleetAccount[]) =>
  as.flatMap((a) => resolveAutoScalingGroups(a).map((t) => ({ account: a, region: t.region })));

/** The group's launch template version (as the group has it) and the template's default version. */
async function groupState(account: FleetAccount, region: string): Promise<{ version: string; defaultVersion: number }> {
  const { version, defaultVersion } = await simGroupState(cfg, account, region);
  return { version, defaultVersion };
}

/** Builds and publishes a release; returns its AMI per region. */
const release = (name: string) => publishSimRelease({ name, fleetFile, dir });

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
