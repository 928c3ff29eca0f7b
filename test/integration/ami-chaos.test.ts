/**
 * Chaos for AMI rollouts (issue 9): the worker, a separate `fleetops worker --local` process, is killed
 * with SIGKILL while the rollout shares the image, while an instance refresh runs and while a group
 * bakes, and is started again each time. Every group must end on the new launch template version M,
 * M the template's default, with exactly one refresh started (the proxy's ledger), no second version
 * made for the same ClientToken, every image shared once, and the campaign reporting every account
 * rolled out.
 *
 * One campaign, three kills in turn: a campaign per kill point would seed, build and start workers
 * three times over for the same proof, and in one campaign the later kills land on accounts that
 * already survived the earlier ones. Five accounts in one wave (the fifth has a group in us-east-1
 * too: six groups). Each window is made at the AWS proxy, for chosen accounts only:
 * - share: the image account's ModifyImageAttribute is held (a 120 s latency rule) → every account's
 *   shareImage is running and no launch permission is added yet; killed; the hold lifted.
 * - refresh: two accounts' eu-west-1 refreshes are slow (`slowRefreshes`, 45 s, fixed when each starts)
 *   → their waitForRefresh is running while the refresh is InProgress; killed; after the restart the
 *   retried wait is seen polling the same refresh, still InProgress.
 * - bake: from just before the refresh kill, the bake account's CloudWatch DescribeAlarms is held (its
 *   refresh start's alarm check already got through); once its slow refresh is Successful, its
 *   readGroupAlarms (the bake's alarm check) is running, held, and its progress says `baking`; killed;
 *   the hold lifted.
 * Time: ~130 s for the test and ~180 s for the file on a loaded 2-core machine, most of it the four
 * worker starts (20–30 s each: every `fleetops worker` bundles its workflows with webpack first).
 * The attempts the dead worker held are timed out at once (test/support/lost-attempts.ts) rather than
 * after their 2-minute start-to-close timeout, as an operator would with `temporal activity update-options`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { WorkflowNotFoundError, type Client, type WorkflowHandle } from '@temporalio/client';
import * as temporalProto from '@temporalio/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { runSimSeed } from '../../cli/commands/sim-seed';
import { SIM_GROUP_NAME } from '../../cli/sim/simulated-fleet';
import type { FleetAccount } from '../../fleet/fleet-schema';
import { resolveAutoScalingGroups } from '../../fleet/fleet-images';
import { loadFleetFile } from '../../fleet/load-fleet';
import { amiProgressQuery } from '../../workflows/ami/account-ami-rollout';
import type { FleetCampaignInput } from '../../workflows/campaign/campaign-input';
import { fleetCampaign, type CampaignReport } from '../../workflows/campaign/fleet-campaign';
import {
  ec2Ledger,
  publishRelease,
  refreshLedger,
  templateVersions,
  type Ec2Ledger,
} from '../support/ami-fleet-checks';
import { cleanUp } from '../support/cleanup';
import { allWorkflowHistories, decodedHistoryText, secretsIn } from '../support/history-scan';
import { timeOutLostAttempts } from '../support/lost-attempts';
import { accountResult } from '../support/rotation-campaigns';
import { proxyStats, setFaultPlan, testClient, testStack } from '../support/test-stack';
import { WorkerProcess, until } from '../support/worker-process';

const cfg = testStack();
const TASK_QUEUE = 'ami-chaos';
const RUN = `amichaos-${Date.now()}`;
const ID_BASE = 984_000_000_000 + (Date.now() % 100_000) * 10;
const dir = path.join(cfg.stateDir, `ami-chaos-${ID_BASE}`);
const fleetFile = path.join(dir, 'fleet.yaml');
/** Held requests last far longer than the test waits for them: the kill ends them. */
const HOLD_MS = 120_000;
/**
 * A slow refresh (its length is fixed when it starts) outlasts the kill, the worker's restart (~20 s
 * on a loaded 2-core machine: the worker bundles its workflows) and the retried wait's first poll.
 */
const SLOW_REFRESH_MS = 45_000;
const FAST = { refreshDurationMs: 1500, pendingMs: 200 };
const STARTED = temporalProto.temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED;

let accounts: FleetAccount[];
let temporal: Awaited<ReturnType<typeof testClient>>;
let images: Record<string, string>;
const worker = new WorkerProcess(TASK_QUEUE, path.join(cfg.stateDir, 'logs', `ami-chaos-worker-${ID_BASE}.log`));
const figures: Record<string, unknown> = {};

/** Five simulated accounts in one wave (every account in flight at once, so one kill hits them all), and the release. */
async function seedFleet(): Promise<void> {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  await runSimSeed({ accounts: 5, idBase: ID_BASE, out: fleetFile, quiet: true });
  const doc = YAML.parse(fs.readFileSync(fleetFile, 'utf8'));
  doc.accounts.forEach((a: { ring: string }) => (a.ring = 'general'));
  fs.writeFileSync(fleetFile, YAML.stringify(doc));
  accounts = loadFleetFile(fleetFile);
  images = await publishRelease(dir, fleetFile, RUN);
}

beforeAll(async () => {
  // the worker's start (mostly bundling its workflows) overlaps the seeding
  const [, started] = await Promise.all([seedFleet(), worker.start()]);
  figures.workerStartSeconds = started.seconds;
  temporal = await testClient(cfg);
}, 300_000);

afterAll(async () => {
  process.stderr.write(`[ami-chaos] ${JSON.stringify(figures)}\n`);
  await cleanUp({
    worker: () => worker.kill9(),
    faults: () => setFaultPlan(cfg, null),
    temporal: () => temporal?.close(),
  });
});

type Step = 'share' | 'refresh' | 'bake';
/** An account whose `activity` must be running on the worker when it is killed. */
type Target = { account: FleetAccount; activity: string };
type Kill = {
  step: Step;
  workerPid: number;
  signal: NodeJS.Signals | null | undefined;
  /** The targets' running attempts at the kill: `<account> <activity>#<attempt>`. */
  running: string[];
  /** Every attempt the killed worker held, timed out for the next worker: `<account> <activity>#<attempt>`. */
  lost: string[];
  restartSeconds: number;
};

/** Kills the worker inside one step of one campaign's accounts and starts it again, recording each kill. */
class WorkerKills {
  readonly kills: Kill[] = [];

  constructor(
    private readonly client: Client,
    private readonly campaignId: string,
  ) {}

  /** The activities the account's child has pending: name, attempt, whether a worker started it. */
  async pending(accountId: string): Promise<Array<{ activity: string; attempt: number; started: boolean }>> {
    const described = await this.client.workflow
      .getHandle(`${this.campaignId}/${accountId}`)
      .describe()
      .catch((err: unknown) => {
        if (err instanceof WorkflowNotFoundError) return undefined; // the campaign has not started it yet
        throw err;
      });
    if (!described) return [];
    return (described.raw.pendingActivities ?? []).map((a) => ({
      activity: a.activityType?.name ?? '?',
      attempt: a.attempt ?? 0,
      started: a.state === STARTED,
    }));
  }

  /** Waits until every target's activity is running on a worker and `atAws` (the proxy's view) holds. */
  async untilInside(step: Step, targets: Target[], atAws: () => Promise<boolean>): Promise<void> {
    try {
      await until(
        `${step}: ${targets.map((t) => `${t.account.id} ${t.activity}`).join(', ')} running`,
        async () => {
          for (const t of targets)
            if (!(await this.pending(t.account.id)).some((p) => p.activity === t.activity && p.started)) return false;
          return atAws();
        },
        90_000,
      );
    } catch (err) {
      const seen = await Promise.all(
        targets.map(async (t) => `${t.account.id}: ${JSON.stringify(await this.pending(t.account.id))}`),
      );
      const held = (await proxyStats(cfg)).inFlight.map((r) => `${r.account} ${r.service}:${r.action} ${r.ms} ms`);
      throw new Error(`${(err as Error).message}; pending: ${seen.join('; ')}; at the proxy: ${held.join(', ')}`);
    }
  }

  /**
   * SIGKILL of the worker (its targets' attempts recorded first), `release` (the hold lifted), the
   * attempts the dead worker held timed out, the worker started again.
   */
  async killAndRestart(step: Step, targets: Target[], release: () => Promise<void>): Promise<Kill> {
    const running: string[] = [];
    for (const t of targets)
      for (const p of await this.pending(t.account.id))
        if (p.activity === t.activity) running.push(`${t.account.id} ${p.activity}#${p.attempt}`);
    const workerPid = worker.starts().at(-1)!.pid;
    const signal = await worker.kill9();
    await release();
    const lost = await timeOutLostAttempts(this.client, {
      workflowIdPrefix: this.campaignId,
      workerPid,
      identity: 'ami-chaos-test',
    });
    const restartSeconds = (await worker.start()).seconds;
    const kill: Kill = {
      step,
      workerPid,
      signal,
      running,
      lost: lost.map((l) => l.slice(this.campaignId.length + 1)),
      restartSeconds,
    };
    this.kills.push(kill);
    return kill;
  }
}

/** Every (account, region) the fleet file names a group for. */
const groupsOf = (as: FleetAccount[]) =>
  as.flatMap((a) => resolveAutoScalingGroups(a).map((t) => ({ account: a, region: t.region })));

const slowRefreshesOf = (as: FleetAccount[]) => ({
  ...FAST,
  slowRefreshes: [{ accounts: as.map((a) => a.id), regions: ['eu-west-1'], durationMs: SLOW_REFRESH_MS }],
});

/** The account's eu-west-1 refresh in the proxy's ledger (the newest). */
async function euRefresh(account: FleetAccount) {
  return (await refreshLedger(cfg)).refreshes
    .filter((r) => r.account === account.id && r.region === 'eu-west-1')
    .at(-1);
}

/** Requests the proxy holds right now for `account`'s `action`. */
async function heldAtProxy(action: string, account: string): Promise<number> {
  return (await proxyStats(cfg)).inFlight.filter((r) => r.action === action && r.account === account).length;
}

describe('ami-rollout chaos', () => {
  it(
    'the worker SIGKILLed during share, refresh and bake: every group on M exactly once, one refresh each, no duplicate version',
    { timeout: 300_000 },
    async () => {
      const started = Date.now();
      const [refreshing, baking] = [accounts[1], accounts[4]];
      const imageAccount = accounts[0].imageAccount!.id;
      const groups = groupsOf(accounts);
      expect(groups).toHaveLength(6);
      const tokensBefore: Ec2Ledger['launchTemplateVersions'] = (await ec2Ledger(cfg)).launchTemplateVersions;
      const campaignId = `${RUN}-campaign`;
      const kills = new WorkerKills(temporal.client, campaignId);

      // 1. share: the image account's ModifyImageAttribute held for every account.
      await setFaultPlan(cfg, {
        rules: [{ service: 'ec2', actions: ['ModifyImageAttribute'], accounts: [imageAccount], latencyMs: HOLD_MS }],
        autoscaling: slowRefreshesOf([refreshing, baking]),
      });
      const handle: WorkflowHandle<typeof fleetCampaign> = await temporal.client.workflow.start(fleetCampaign, {
        taskQueue: TASK_QUEUE,
        workflowId: campaignId,
        args: [
          {
            operation: 'ami-rollout',
            fleetFile,
            maxInFlight: accounts.length,
            // as many failures allowed as accounts: a smaller budget shrinks the window below maxInFlight
            failureBudget: { maxFailures: accounts.length, onExceeded: 'cancel' },
            ami: { image: RUN, healthBakeSeconds: 2, healthPollSeconds: 1 },
          } as FleetCampaignInput,
        ],
      });
      const sharing = accounts.map((account) => ({ account, activity: 'shareImage' }));
      await kills.untilInside(
        'share',
        sharing,
        async () => (await heldAtProxy('ModifyImageAttribute', imageAccount)) >= accounts.length,
      );
      let sharedAtKill: Ec2Ledger['shares'] = [];
      const share = await kills.killAndRestart('share', sharing, async () => {
        sharedAtKill = (await ec2Ledger(cfg)).shares.filter((s) => accounts.some((a) => a.id === s.userId));
        await setFaultPlan(cfg, { rules: [], autoscaling: slowRefreshesOf([refreshing, baking]) });
      });
      // No launch permission was added before the kill: the held requests died with the worker.
      expect(sharedAtKill).toEqual([]);

      // 2. refresh: two accounts' eu-west-1 refreshes InProgress (slow), their waits running. The bake
      // account's alarm checks (CloudWatch DescribeAlarms) are held from now on: its refresh was started
      // (the start's own alarm check is behind it) and its bake comes once the refresh ends.
      const waiting = [refreshing, baking].map((account) => ({ account, activity: 'waitForRefresh' }));
      await kills.untilInside('refresh', waiting, async () => {
        const states = await Promise.all([refreshing, baking].map(euRefresh));
        return states.every((r) => r?.status === 'InProgress');
      });
      await setFaultPlan(cfg, {
        rules: [{ service: 'cloudwatch', actions: ['DescribeAlarms'], accounts: [baking.id], latencyMs: HOLD_MS }],
        autoscaling: FAST,
      });
      expect((await euRefresh(baking))?.status).toBe('InProgress');
      const refresh = await kills.killAndRestart('refresh', waiting, async () => {});
      // The retried wait polls the same refresh on the new worker, still InProgress: nothing started again.
      const killedAttempt = Number(refresh.running.find((r) => r.startsWith(refreshing.id))!.split('#')[1]);
      await until(
        `${refreshing.id}: waitForRefresh retried on the new worker`,
        async () =>
          (await kills.pending(refreshing.id)).some(
            (p) => p.activity === 'waitForRefresh' && p.started && p.attempt > killedAttempt,
          ),
        60_000,
      );
      expect((await euRefresh(refreshing))?.status).toBe('InProgress');

      // 3. bake: the bake account's refresh ends (Successful); its bake's alarm check held at the proxy.
      const alarmCheck = [{ account: baking, activity: 'readGroupAlarms' }];
      await kills.untilInside('bake', alarmCheck, async () => (await heldAtProxy('DescribeAlarms', baking.id)) >= 1);
      const progress = await temporal.client.workflow.getHandle(`${campaignId}/${baking.id}`).query(amiProgressQuery);
      expect(progress).toMatchObject({ phase: `baking ${SIM_GROUP_NAME}`, region: 'eu-west-1' });
      expect((await euRefresh(baking))?.status).toBe('Successful');
      const bake = await kills.killAndRestart('bake', alarmCheck, () =>
        setFaultPlan(cfg, { rules: [], autoscaling: FAST }),
      );

      const report: CampaignReport = await handle.result();
      figures.seconds = Math.round((Date.now() - started) / 1000);
      figures.kills = kills.kills;

      // Each kill was a SIGKILL, inside its step, and took the targets' attempts down with the worker.
      for (const [kill, targets] of [
        [share, sharing],
        [refresh, waiting],
        [bake, alarmCheck],
      ] as const) {
        expect(kill.signal, kill.step).toBe('SIGKILL');
        expect(kill.running, kill.step).toHaveLength(targets.length);
        for (const t of targets)
          expect(
            kill.lost.some((l) => l.startsWith(`${t.account.id} ${t.activity}#`)),
            `${kill.step}: ${t.account.id} ${t.activity} lost`,
          ).toBe(true);
      }

      // Every account upgraded; every group on M = 2 (N = 1), M the default, the only version made.
      expect(report.phase).toBe('completed');
      expect(report.counts).toEqual({ 'rolled-out': accounts.length });
      for (const { account, region } of groups) {
        const s = await templateVersions(cfg, account, region);
        expect(
          { version: s.version, defaultVersion: s.defaultVersion, versions: s.versions, image: s.images[2] },
          `${account.id} ${region}`,
        ).toEqual({ version: '2', defaultVersion: 2, versions: [1, 2], image: images[region] });
      }
      for (const a of accounts) {
        const r = await accountResult(temporal.client, campaignId, a.id);
        expect(r.outcome, a.id).toBe('rolled-out');
        for (const g of r.regions)
          expect([g.outcome, g.fromVersion, g.toVersion], `${a.id} ${g.region}`).toEqual(['rolled-out', '1', '2']);
      }

      // Exactly one refresh started per group, each by us; one ClientToken per group, none reused with other parameters.
      const ours = new Set(accounts.map((a) => a.id));
      const ledger = await refreshLedger(cfg);
      const starts = ledger.starts.filter((s) => ours.has(s.account));
      expect(starts).toHaveLength(groups.length);
      expect(starts.filter((s) => s.starts !== 1)).toEqual([]);
      const refreshes = ledger.refreshes.filter((r) => ours.has(r.account));
      expect(refreshes).toHaveLength(groups.length);
      expect(refreshes.filter((r) => r.startedBy !== 'client' || r.status !== 'Successful')).toEqual([]);
      const after = await ec2Ledger(cfg);
      expect(after.launchTemplateVersions.clientTokens - tokensBefore.clientTokens).toBe(groups.length);
      expect(after.launchTemplateVersions.mismatches - tokensBefore.mismatches).toBe(0);
      figures.clientTokenReplays = after.launchTemplateVersions.replays - tokensBefore.replays;

      // The image shared once into each account and region, still shared.
      const shares = after.shares.filter((s) => ours.has(s.userId));
      expect(shares).toHaveLength(groups.length);
      expect(shares.filter((s) => s.adds !== 1 || !s.active || s.imageId !== images[s.region])).toEqual([]);

      // No credential in the four workers' log nor in any history of the campaign.
      expect(worker.starts()).toHaveLength(4);
      expect(secretsIn(worker.log())).toEqual([]);
      const histories = await allWorkflowHistories(temporal.client, `WorkflowId STARTS_WITH "${campaignId}"`);
      expect(histories.length).toBeGreaterThan(accounts.length);
      for (const h of histories) expect(secretsIn(decodedHistoryText(h.json)), h.workflowId).toEqual([]);
    },
  );
});
