/**
 * `fleetops campaign revert` of an AMI rollout on the real local stack: a rollout over five accounts
 * (six groups) where one account's image is poisoned (its refresh fails, the group rolls back: not
 * changed), then the revert through the CLI: every group the rollout moved is refreshed back to its
 * launch template version N (one refresh each, read from the proxy's ledger) and N is the default
 * again (read from moto); the rolled-back account is untouched and listed as left alone. A second
 * revert finds everything already back and starts no refresh. Refusals: a running campaign, a plan.
 * No credential in any history, worker log line or CLI output.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSimSeed } from '../../cli/commands/sim-seed';
import type { FleetAccount } from '../../fleet/fleet-schema';
import { resolveAutoScalingGroups } from '../../fleet/fleet-images';
import { loadFleetFile } from '../../fleet/load-fleet';
import type { FleetCampaignInput } from '../../workflows/campaign/campaign-input';
import { cancelUpdate, type CampaignStatus } from '../../workflows/campaign/campaign-messages';
import type { CampaignReport } from '../../workflows/campaign/fleet-campaign';
import { accountCredentials } from '../support/account-access';
import { groupState, publishRelease, refreshLedger } from '../support/ami-fleet-checks';
import { cleanUp } from '../support/cleanup';
import { fleetopsCli } from '../support/fleetops-cli';
import { allWorkflowHistories, decodedHistoryText, secretsIn } from '../support/history-scan';
import { accountResult } from '../support/rotation-campaigns';
import { setFaultPlan, startTestWorker, testClient, testStack } from '../support/test-stack';

const cfg = testStack();
const TASK_QUEUE = 'ami-revert-test';
const ID_BASE = 983_000_000_000 + (Date.now() % 100_000) * 10;
const RUN = `amirev-${Date.now()}`;
const dir = path.join(cfg.stateDir, `ami-revert-${ID_BASE}`);
const fleetFile = path.join(dir, 'fleet.yaml');

let accounts: FleetAccount[];
let worker: Awaited<ReturnType<typeof startTestWorker>>;
let temporal: Awaited<ReturnType<typeof testClient>>;
const fleetops = fleetopsCli(TASK_QUEUE);
const cliOutput: string[] = [];
const t0 = Date.now();
const step = (what: string) =>
  process.stderr.write(`[ami-revert +${((Date.now() - t0) / 1000).toFixed(1)} s] ${what}\n`);

function start(campaignId: string, input: Partial<FleetCampaignInput>) {
  return temporal.client.workflow.start('fleetCampaign', {
    taskQueue: TASK_QUEUE,
    workflowId: campaignId,
    args: [
      {
        operation: 'ami-rollout',
        fleetFile,
        maxInFlight: 5,
        failureBudget: { maxFailures: 2, onExceeded: 'cancel' },
        ...input,
      } as FleetCampaignInput,
    ],
  });
}

/** `account region group` → the group's version, the template's default and the version's image, from moto. */
async function groupStates(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const account of accounts) {
    const credentials = await accountCredentials(cfg, account);
    for (const t of resolveAutoScalingGroups(account)) {
      if (t.by !== 'name') continue;
      const s = await groupState(cfg, account, t.region, { groupName: t.name, withImage: true, credentials });
      out[`${account.id} ${t.region} ${t.name}`] = `version ${s.version} default ${s.defaultVersion} ${s.imageId}`;
    }
  }
  return out;
}

beforeAll(async () => {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  await runSimSeed({ accounts: 5, idBase: ID_BASE, out: fleetFile, quiet: true });
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

describe('fleetops campaign revert of an AMI rollout (local stack)', () => {
  it(
    'takes every moved group back to launch template version N (one refresh each, N the default); the rolled-back account is left alone',
    { timeout: 420_000 },
    async () => {
      const before = await groupStates();
      // 5 accounts, account 4 in two regions: 6 groups, each on version 1 of its template
      expect(Object.keys(before)).toHaveLength(6);
      expect(Object.values(before).every((s) => s.startsWith('version 1 default 1 ami-'))).toBe(true);

      step('// The bad rollout');
      const image = await publishRelease(dir, fleetFile, `${RUN}-img`);
      const poisoned = accounts[2];
      await setFaultPlan(cfg, {
        rules: [],
        autoscaling: {
          refreshDurationMs: 1000,
          pendingMs: 200,
          poisonedImages: [{ imageId: image['eu-west-1'], accounts: [poisoned.id], failAtPercent: 25 }],
        },
      });
      const badId = `${RUN}-bad`;
      const bad = (await (
        await start(badId, { ami: { image: `${RUN}-img`, healthBakeSeconds: 1, healthPollSeconds: 1 } })
      ).result()) as CampaignReport;
      expect(bad.counts).toEqual({ 'rolled-out': 4, 'rolled-back': 1 });
      const rolled = await groupStates();
      const changed = Object.keys(before).filter((k) => !k.startsWith(poisoned.id));
      expect(changed).toHaveLength(5);
      for (const k of changed) expect(rolled[k], k).toMatch(/^version 2 default 2 /);
      expect(rolled[`${poisoned.id} eu-west-1 data-pipeline-workers`]).toBe(
        before[`${poisoned.id} eu-west-1 data-pipeline-workers`],
      );
      const recorded = (await accountResult(temporal.client, badId, accounts[4].id)).regions;
      expect(recorded).toHaveLength(2);
      for (const r of recorded)
        expect(r).toMatchObject({ outcome: 'rolled-out', fromVersion: '1', toVersion: '2', launchTemplateId: /^lt-/ });

      step('// Refusals');
      const gated = await start(`${RUN}-running`, {
        select: { ids: [accounts[0].id] },
        approvalBefore: 'all',
        ami: { image: `${RUN}-img` },
      });
      const running = await fleetops('campaign', 'revert', `${RUN}-running`);
      cliOutput.push(running.stdout, running.stderr);
      expect(running.code).toBe(1);
      expect(running.stderr).toContain(`campaign "${RUN}-running" is still running`);
      await gated.executeUpdate(cancelUpdate, { args: [{ reason: 'test' }] });
      await gated.result();
      const planned = (await (
        await start(`${RUN}-plan`, { plan: true, select: { ids: [accounts[0].id] }, ami: { image: `${RUN}-img` } })
      ).result()) as CampaignReport;
      expect(planned.counts).toEqual({ planned: 1 });
      const plan = await fleetops('campaign', 'revert', `${RUN}-plan`);
      cliOutput.push(plan.stdout, plan.stderr);
      expect(plan.code).toBe(1);
      expect(plan.stderr).toContain(`campaign "${RUN}-plan" was a plan (preview only): it changed nothing to revert`);

      step('// The preview');
      const preview = await fleetops('campaign', 'revert', badId);
      cliOutput.push(preview.stdout, preview.stderr);
      expect(preview.code, preview.stderr).toBe(0);
      expect(preview.stdout).toContain(`revert of campaign ${badId} (ami-rollout): 4 account(s) go back`);
      expect(preview.stdout).toContain('eu-west-1 data-pipeline-workers version 2 → 1: 3 (');
      expect(preview.stdout).toContain(
        `eu-west-1 data-pipeline-workers version 2 → 1, us-east-1 data-pipeline-workers version 2 → 1: 1 (${accounts[4].id})`,
      );
      expect(preview.stdout).toMatch(new RegExp(`left alone \\(1\\)[\\s\\S]*${poisoned.id} rolled-back`));
      expect(preview.stdout).toContain('nothing started');

      step('// The revert');
      const ledgerBefore = (await refreshLedger(cfg)).refreshes.map((r) => r.instanceRefreshId);
      const undoId = `${RUN}-undo`;
      const started = Date.now();
      const go = await fleetops(
        'campaign',
        'revert',
        badId,
        '--yes',
        '--campaign-id',
        undoId,
        '--max-in-flight',
        '2',
        '--failure-budget',
        '1',
      );
      cliOutput.push(go.stdout, go.stderr);
      expect(go.code, go.stderr).toBe(0);
      expect(go.stdout).toContain(`started campaign ${undoId}: revert of ${badId} over 4 accounts`);
      const report = (await temporal.client.workflow.getHandle(undoId).result()) as CampaignStatus;
      const revertSeconds = (Date.now() - started) / 1000;
      process.stderr.write(`[ami-revert] 4 accounts, 5 groups reverted in ${revertSeconds.toFixed(1)} s\n`);
      expect(report).toMatchObject({ phase: 'completed', revertOf: badId, total: 4 });
      expect(report.counts).toEqual({ 'rolled-out': 4 });
      expect(report.leftAlone?.map((l) => [l.accountId, l.state])).toEqual([[poisoned.id, 'rolled-back']]);

      // the rollout checked its image's share limits before its first wave; the revert shares nothing, checks none
      const preflights = async (id: string) =>
        (await temporal.client.workflow.getHandle(id).fetchHistory()).events?.filter(
          (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'checkImageShareLimits',
        ).length;
      expect(await preflights(badId)).toBe(1);
      expect(await preflights(undoId)).toBe(0);

      // moto: every moved group back on version 1 (its image before), 1 the default; the poisoned account untouched
      const after = await groupStates();
      expect(after).toEqual(before);
      // the ledger: exactly one new refresh per moved group, by us, Successful, to version 1; none elsewhere
      const fresh = (await refreshLedger(cfg)).refreshes.filter((r) => !ledgerBefore.includes(r.instanceRefreshId));
      expect(fresh.map((r) => `${r.account} ${r.region} ${r.groupName}`).sort()).toEqual([...changed].sort());
      expect(
        fresh.filter((r) => r.startedBy !== 'client' || r.status !== 'Successful' || r.desired?.version !== '1'),
      ).toEqual([]);
      const undone = (await accountResult(temporal.client, undoId, accounts[4].id)).regions;
      expect(undone.map((r) => [r.region, r.outcome, r.fromVersion, r.toVersion])).toEqual([
        ['eu-west-1', 'rolled-out', '2', '1'],
        ['us-east-1', 'rolled-out', '2', '1'],
      ]);

      step('// Again: idempotent');
      const again = await fleetops('campaign', 'revert', badId, '--yes', '--campaign-id', `${RUN}-undo-2`);
      cliOutput.push(again.stdout, again.stderr);
      expect(again.code, again.stderr).toBe(0);
      const second = (await temporal.client.workflow.getHandle(`${RUN}-undo-2`).result()) as CampaignStatus;
      expect(second.counts).toEqual({ 'already-current': 4 });
      const later = (await refreshLedger(cfg)).refreshes.filter((r) => !ledgerBefore.includes(r.instanceRefreshId));
      expect(later).toHaveLength(fresh.length);
      expect(await groupStates()).toEqual(before);
      await setFaultPlan(cfg, null);
    },
  );

  it('no credential in any history, worker log line or CLI output of the rollout and its reverts', async () => {
    const histories = await allWorkflowHistories(temporal.client, `WorkflowId STARTS_WITH "${RUN}"`);
    expect(histories.filter((h) => h.workflowId.startsWith(`${RUN}-undo/`)).length).toBe(4);
    const cached = worker.fleet.credentials as unknown as {
      cache: Map<string, { accessKeyId: string; secretAccessKey: string; sessionToken: string }>;
    };
    const known = [...cached.cache.values()].flatMap((c) => [c.accessKeyId, c.secretAccessKey, c.sessionToken]);
    expect(known.length).toBeGreaterThan(0);
    for (const h of histories) expect(secretsIn(decodedHistoryText(h.json), known), h.workflowId).toEqual([]);
    expect(worker.logLines.length).toBeGreaterThan(0);
    expect(secretsIn(worker.logLines.join('\n'), known)).toEqual([]);
    expect(cliOutput.length).toBeGreaterThan(0);
    expect(secretsIn(cliOutput.join('\n'), known)).toEqual([]);
  });
});
