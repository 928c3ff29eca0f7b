import {
  CancellationScope,
  defineQuery,
  isCancellation,
  log,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  sleep,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { AmiActivities, AmiTarget, RefreshStart } from '../../activities/ami/ami-activities';
import { ErrorType } from '../../fleet/error-types';
import { describeGroupTarget } from '../../fleet/fleet-images';
import {
  ACCOUNT_PROGRESS_QUERY,
  type AccountOperationInput,
  type AccountOperationResult,
  type AccountOutcome,
  type AccountProgress,
  type RegionResult,
} from '../operation/account-operation';
import { AccountStopped, AccountStops, type AccountStop } from '../operation/account-stop';
import { accountCurrentDetails } from '../operation/account-details';
import {
  HEALTH_CHECK_BEFORE_CHANGE,
  UNHEALTHY_BEFORE,
  UNHEALTHY_BEFORE_RUNBOOK,
  firingBefore,
  unhealthyReason,
  unhealthyStop,
  type HealthReading,
} from '../operation/health-before';
import { FLEET_ACCOUNT_ID, FLEET_CAMPAIGN_ID, FLEET_OPERATION, FLEET_STATE, FLEET_WAVE } from '../search-attributes';
import { ACCOUNT_CALL_RETRY, LOCAL_CALL_RETRY } from '../retry-policies';
import { parseWorkflowInput } from '../workflow-input';
import { withAccountLease } from '../lease/account-lease-holder';
import {
  AMI_OPERATION,
  AccountAmiRolloutInputSchema,
  type AccountAmiRolloutOptions,
  type AmiRevertGroup,
} from './ami-params';
import { AMI_QUARANTINING, AMI_RUNBOOKS } from './ami-runbooks';
import { groupHealthAlarm, launchTemplateVersionToken, pinnedVersion } from './ami-tokens';
import { AWS_CALL_TIMEOUTS, LOCAL_CALL_TIMEOUTS } from '../activity-timeouts';

export const amiProgressQuery = defineQuery<AccountProgress>(ACCOUNT_PROGRESS_QUERY);

// ---- activities ----
const { amiAccountInfo } = proxyActivities<AmiActivities>({ ...LOCAL_CALL_TIMEOUTS, retry: LOCAL_CALL_RETRY });
const aws = proxyActivities<AmiActivities>({ ...AWS_CALL_TIMEOUTS, retry: ACCOUNT_CALL_RETRY });
/** The refresh wait polls every 2 s and heartbeats each poll: a dead worker's wait is retried on another within 30 s. */
const { waitForRefresh } = proxyActivities<AmiActivities>({
  startToCloseTimeout: '6 hours',
  heartbeatTimeout: '30 seconds',
  retry: ACCOUNT_CALL_RETRY,
});

/** How often a visibility check is repeated right after sharing (EC2 is eventually consistent). */
const VERIFY_TRIES = 3;
const VERIFY_PAUSE_MS = 5000;

const stops = new AccountStops(AMI_QUARANTINING);
const stopWith = stops.stopWith.bind(stops);
const step = stops.step.bind(stops);

/**
 * Patch: when one group cannot be put back on N, the account's other moved groups still are (before it,
 * the first such problem ended the put-back).
 */
export const PUT_BACK_EVERY_GROUP = 'ami-put-back-every-group';

/**
 * Patch: a revert (`ami.revertGroups`, set by `fleetops campaign revert`) refreshes each group the
 * reverted rollout moved from M back to N, then makes N the default version; no image is shared.
 */
export const AMI_REVERT = 'ami-revert';

/** A group that could not be put back on N, and why. */
type PutBackProblem = { errorType: string; reason: string; group: GroupRun };

/** One group the rollout moves: its template version before (N) and after (M). */
type GroupRun = {
  region: string;
  groupName: string;
  launchTemplateId: string;
  fromVersion: number;
  imageId: string;
  toVersion?: number;
  /** A refresh to M is running (a stop rolls it back). */
  active: boolean;
  /** The group is on M (a stop refreshes it back to N). */
  moved: boolean;
  result: RegionResult;
};

/**
 * Moves one account's Auto Scaling groups to the image release `ami.image`, region by region, group by group:
 *
 * 1. every region: **share** the region's AMI from the image account (launch permission, idempotent),
 *    **verify** from inside the account that it is visible and `available` (else quarantined ImageNotVisible);
 *    every group the fleet file names: **snapshot** its numbered launch template version N (`$Latest` /
 *    `$Default` → quarantined LaunchTemplateVersionNotPinned; plan mode reports it as not rollbackable);
 *    (since the health-check patch: groups read first, then every moving group's `<group>-health` alarm —
 *    one already in ALARM → unhealthy-before, nothing shared or changed — then share + verify);
 * 2. plan mode stops here: per group the current image, the target image, whether it can be rolled back;
 * 3. each group in turn: **new version** M = N with the image (deterministic ClientToken, looked up first),
 *    **instance refresh** to M through DesiredConfiguration (MinHealthyPercentage, SkipMatching,
 *    AutoRollback, checkpoints, the group's `<group>-health` alarm); ours already running is adopted,
 *    someone else's is waited for up to `busyRefreshWaitSeconds`, then quarantined InstanceRefreshBusy;
 *    **bake**: the alarm watched for `healthBakeSeconds` after Successful;
 * 4. a failed / rolled-back refresh or an alarm → every group moved so far goes back on N
 *    (RollbackInstanceRefresh while running, a refresh to N after): outcome rolled-back; a rollback that
 *    fails → quarantined InstanceRefreshRollbackFailed;
 * 5. **finish**: M becomes each template's default version.
 *
 * Account-level problems are the result (outcome + reason + errorType + runbook), never an exception;
 * only invalid input fails the workflow.
 */
export async function accountAmiRollout(rawInput: AccountOperationInput): Promise<AccountOperationResult> {
  const input = parseWorkflowInput('accountAmiRollout', AccountAmiRolloutInputSchema, rawInput);
  return withAccountLease(input, () => new AccountAmiRolloutRun(input).run());
}

class AccountAmiRolloutRun {
  private current: AccountProgress = { phase: 'starting' };
  private readonly results: RegionResult[] = [];
  private readonly groups: GroupRun[] = [];
  /** A revert's groups already back on N: N is made their default version too (idempotent). */
  private readonly backOnN: Array<{ region: string; launchTemplateId: string; version: number }> = [];

  constructor(private readonly input: AccountAmiRolloutOptions) {}

  private set progress(p: AccountProgress) {
    this.current = p;
    this.publishDetails();
  }

  private publishDetails(result?: AccountOperationResult): void {
    const { campaignId, wave, attempt } = this.input;
    setCurrentDetails(
      accountCurrentDetails({
        summary: this.input.ami.revertGroups
          ? `ami-revert ${this.input.accountId} → previous launch template versions`
          : `ami-rollout ${this.input.accountId} → ${this.input.ami.image}`,
        campaignId,
        wave,
        attempt,
        progress: this.current,
        regions: this.results,
        result,
      }),
    );
  }

  async run(): Promise<AccountOperationResult> {
    setHandler(amiProgressQuery, () => this.current);
    const { campaignId, accountId, wave } = this.input;
    upsertSearchAttributes([
      { key: FLEET_CAMPAIGN_ID, value: campaignId },
      { key: FLEET_OPERATION, value: AMI_OPERATION },
      { key: FLEET_ACCOUNT_ID, value: accountId },
      ...(wave ? [{ key: FLEET_WAVE, value: wave }] : []),
      { key: FLEET_STATE, value: 'running' },
    ]);
    try {
      const revertGroups = this.input.ami.revertGroups;
      const outcome = revertGroups && patched(AMI_REVERT) ? await this.revert(revertGroups) : await this.rollOut();
      return this.finish({ accountId, outcome, regions: this.results });
    } catch (err) {
      if (isCancellation(err)) {
        await CancellationScope.nonCancellable(() => this.putBack());
        upsertSearchAttributes([{ key: FLEET_STATE, value: 'cancelled' }]);
        throw err;
      }
      if (!(err instanceof AccountStopped)) throw err;
      return this.finish(await this.stopped(err.stop));
    }
  }

  private where(region: string): AmiTarget {
    return { fleetFile: this.input.fleetFile, accountId: this.input.accountId, region, runId: this.input.campaignId };
  }

  private async rollOut(): Promise<AccountOutcome> {
    const info = await step(
      undefined,
      amiAccountInfo({ fleetFile: this.input.fleetFile, accountId: this.input.accountId, image: this.input.ami.image }),
    );
    if (info.regions.length === 0) {
      throw new AccountStopped({
        outcome: 'skipped',
        reason: 'the fleet file names no Auto Scaling groups for this account',
      });
    }
    if (patched(HEALTH_CHECK_BEFORE_CHANGE)) {
      // groups read first, then their health, then the image shared where a group moves
      for (const r of info.regions) await this.readGroups(r.region, r.imageId, r.targets);
      await this.healthBefore();
      if (!this.input.plan)
        for (const region of new Set(this.groups.map((g) => g.region)))
          await this.shareAndVerify(region, this.groups.find((g) => g.region === region)!.imageId);
    } else for (const r of info.regions) await this.prepareRegion(r.region, r.imageId, r.targets);
    if (this.input.plan) return 'planned';
    for (const g of this.groups) await this.rollOutGroup(g);
    await this.setDefaultVersions();
    return this.groups.length ? 'rolled-out' : 'already-current';
  }

  /** Finish: each moved group's new version becomes its template's default. */
  private async setDefaultVersions(): Promise<void> {
    this.progress = { phase: 'setting-default-versions' };
    for (const g of this.groups) {
      if (g.toVersion === undefined) continue;
      await step(
        g.region,
        aws.setDefaultLaunchTemplateVersion({
          ...this.where(g.region),
          launchTemplateId: g.launchTemplateId,
          version: g.toVersion,
        }),
      );
    }
  }

  /**
   * A revert: every group the reverted rollout moved is read (it must still launch from the recorded
   * template, on M: then it goes back; already on N: nothing to do; else it was changed since and is
   * left alone), the moving groups' health alarms are checked, each group is refreshed to N with the
   * rollout's preferences, checks, bake and rollback (a failure puts it back on M), then N becomes the
   * default (also of the groups found already on N).
   */
  private async revert(groups: AmiRevertGroup[]): Promise<AccountOutcome> {
    for (const r of groups) await this.snapshotRevertGroup(r);
    if (this.groups.length) await this.healthBefore();
    if (this.input.plan) return 'planned';
    for (const g of this.groups) await this.refreshAndBake(g, g.toVersion!);
    await this.setDefaultVersions();
    for (const b of this.backOnN)
      await step(
        b.region,
        aws.setDefaultLaunchTemplateVersion({
          ...this.where(b.region),
          launchTemplateId: b.launchTemplateId,
          version: b.version,
        }),
      );
    if (this.groups.length) return 'rolled-out';
    const changed = this.results.filter((r) => r.outcome === 'skipped');
    if (changed.length)
      throw new AccountStopped({
        outcome: 'skipped',
        reason: `changed since the campaign reverted, left alone: ${changed.map((r) => r.reason).join('; ')}`,
      });
    return 'already-current';
  }

  /** One group of a revert: where it is now, and whether it goes back from M to N. */
  private async snapshotRevertGroup(r: AmiRevertGroup): Promise<void> {
    const { region } = r;
    this.progress = { phase: 'reading-groups', region };
    const target = { region, by: 'name' as const, name: r.group };
    const [group] = await step(region, aws.describeGroups({ ...this.where(region), target }));
    if (!group)
      throw stopWith(ErrorType.AutoScalingGroupMissing, `${describeGroupTarget(target)} does not exist`, region);
    const result: RegionResult = {
      region,
      group: r.group,
      launchTemplateId: r.launchTemplateId,
      outcome: 'planned',
      fromVersion: String(r.fromVersion),
      toVersion: String(r.toVersion),
      canRollBack: true,
    };
    this.results.push(result);
    const lt = group.launchTemplate;
    const now = lt?.launchTemplateId === r.launchTemplateId ? pinnedVersion(lt.version) : undefined;
    if (now === r.toVersion) {
      result.outcome = 'already-current';
      this.backOnN.push({ region, launchTemplateId: r.launchTemplateId, version: r.toVersion });
      return;
    }
    if (now !== r.fromVersion) {
      result.outcome = 'skipped';
      result.reason = `${region} group ${r.group} launches from ${lt ? `${lt.launchTemplateId} version ${lt.version}` : 'no launch template'}, not ${r.launchTemplateId} version ${r.fromVersion} where the campaign left it`;
      return;
    }
    const back = await step(
      region,
      aws.readLaunchTemplateVersion({
        ...this.where(region),
        launchTemplateId: r.launchTemplateId,
        version: String(r.toVersion),
      }),
    );
    if (!back.imageId)
      throw stopWith(
        ErrorType.AutoScalingGroupMissing,
        `${region} launch template ${r.launchTemplateId} version ${r.toVersion} has no image to go back to`,
        region,
      );
    result.toImage = back.imageId;
    this.groups.push({
      region,
      groupName: r.group,
      launchTemplateId: r.launchTemplateId,
      fromVersion: r.fromVersion,
      toVersion: r.toVersion,
      imageId: back.imageId,
      active: false,
      moved: false,
      result,
    });
  }

  /** Share + verify the region's image, then snapshot every group the fleet file names there. */
  private async prepareRegion(
    region: string,
    imageId: string,
    targets: Parameters<AmiActivities['describeGroups']>[0]['target'][],
  ): Promise<void> {
    if (!this.input.plan) await this.shareAndVerify(region, imageId);
    await this.readGroups(region, imageId, targets);
  }

  /** Shares the region's image with the account and waits until the account sees it `available`. */
  private async shareAndVerify(region: string, imageId: string): Promise<void> {
    this.progress = { phase: 'sharing-image', region };
    await step(region, aws.shareImage({ ...this.where(region), imageId }));
    this.progress = { phase: 'verifying-image', region };
    for (let i = 1; ; i++) {
      const seen = await step(region, aws.verifyImage({ ...this.where(region), imageId }));
      if (seen.found && seen.state === 'available') return;
      if (i >= VERIFY_TRIES)
        throw stopWith(
          ErrorType.ImageNotVisible,
          seen.found
            ? `image ${imageId} is ${seen.state}, not available, in account ${this.input.accountId} ${region}`
            : `image ${imageId} is not visible from account ${this.input.accountId} in ${region} after sharing it`,
          region,
        );
      await sleep(VERIFY_PAUSE_MS);
    }
  }

  /**
   * The `<group>-health` alarm of every group about to move, read before anything is shared or changed:
   * one already in ALARM stops the account as unhealthy-before (its groups listed as left alone).
   */
  private async healthBefore(): Promise<void> {
    const readings: HealthReading[] = [];
    for (const region of new Set(this.groups.map((g) => g.region))) {
      this.progress = { phase: 'checking-health', region };
      const alarmNames = this.groups.filter((g) => g.region === region).map((g) => groupHealthAlarm(g.groupName));
      const { alarms } = await step(region, aws.readGroupAlarms({ ...this.where(region), alarmNames }));
      readings.push({ region, alarms });
    }
    const stop = unhealthyStop(readings, this.input.plan);
    if (!stop) return;
    for (const g of this.groups) {
      const alarm = groupHealthAlarm(g.groupName);
      const firing = firingBefore(readings.filter((r) => r.region === g.region)).filter((a) => a.name === alarm);
      g.result.outcome = UNHEALTHY_BEFORE;
      g.result.reason = firing.length
        ? unhealthyReason(firing, this.input.plan)
        : 'not touched: the account is unhealthy';
    }
    throw new AccountStopped(stop);
  }

  /** Every group the fleet file names in the region, snapshot (its launch template version and image). */
  private async readGroups(
    region: string,
    imageId: string,
    targets: Parameters<AmiActivities['describeGroups']>[0]['target'][],
  ): Promise<void> {
    this.progress = { phase: 'reading-groups', region };
    for (const target of targets) {
      const groups = await step(region, aws.describeGroups({ ...this.where(region), target }));
      if (groups.length === 0 && target.by === 'name')
        throw stopWith(ErrorType.AutoScalingGroupMissing, `${describeGroupTarget(target)} does not exist`, region);
      for (const group of groups) await this.snapshotGroup(region, imageId, group);
    }
  }

  private async snapshotGroup(
    region: string,
    imageId: string,
    group: Awaited<ReturnType<AmiActivities['describeGroups']>>[number],
  ): Promise<void> {
    const where = `${region} group ${group.groupName}`;
    if (!group.launchTemplate)
      throw stopWith(ErrorType.AutoScalingGroupMissing, `${where} launches from no launch template`, region);
    const lt = group.launchTemplate;
    const result: RegionResult = {
      region,
      group: group.groupName,
      launchTemplateId: lt.launchTemplateId,
      outcome: 'planned',
      fromVersion: lt.version,
      toImage: imageId,
      canRollBack: pinnedVersion(lt.version) !== undefined,
    };
    this.results.push(result);
    const current = await step(
      region,
      aws.readLaunchTemplateVersion({
        ...this.where(region),
        launchTemplateId: lt.launchTemplateId,
        version: lt.version,
      }),
    );
    if (current.imageId) result.fromImage = current.imageId;
    const n = pinnedVersion(lt.version);
    if (n === undefined) {
      if (this.input.plan) {
        result.reason = `on ${lt.version}: a rollback would have no version to go back to (the rollout quarantines it)`;
        return;
      }
      result.outcome = 'quarantined';
      throw stopWith(
        ErrorType.LaunchTemplateVersionNotPinned,
        `${where} launches from ${lt.launchTemplateName || lt.launchTemplateId} version ${lt.version}, not a numbered version: a rollback would be impossible`,
        region,
      );
    }
    if (current.imageId === imageId) {
      result.outcome = 'already-current';
      return;
    }
    this.groups.push({
      region,
      groupName: group.groupName,
      launchTemplateId: lt.launchTemplateId,
      fromVersion: n,
      imageId,
      active: false,
      moved: false,
      result,
    });
  }

  /** New version M, the instance refresh to it (adopted, waited for or started), then the bake. */
  private async rollOutGroup(g: GroupRun): Promise<void> {
    const { region } = g;
    const { campaignId, accountId, attempt } = this.input;
    this.progress = { phase: `new-version ${g.groupName}`, region };
    const made = await step(
      region,
      aws.ensureImageVersion({
        ...this.where(region),
        launchTemplateId: g.launchTemplateId,
        sourceVersion: g.fromVersion,
        imageId: g.imageId,
        clientToken: launchTemplateVersionToken(campaignId, accountId, region, g.groupName, attempt),
      }),
    );
    g.toVersion = made.version;
    g.result.toVersion = String(made.version);
    await this.refreshAndBake(g, made.version);
  }

  /** The instance refresh of `g` to `version` (adopted, waited for or started), then the bake. */
  private async refreshAndBake(g: GroupRun, version: number): Promise<void> {
    const { region } = g;
    const { ami } = this.input;
    this.progress = { phase: `refreshing ${g.groupName}`, region };
    const refresh = await this.startRefresh(g, version, true);
    g.active = true; // from here on a stop rolls it back
    const end = await step(
      region,
      waitForRefresh({ ...this.where(region), groupName: g.groupName, instanceRefreshId: refresh }),
    );
    g.active = false;
    if (end.status === 'RollbackFailed') {
      g.result.outcome = 'quarantined';
      throw stopWith(
        ErrorType.InstanceRefreshRollbackFailed,
        `instance refresh of ${region} group ${g.groupName} to version ${version} (${g.imageId}) failed and its rollback failed${because(end.statusReason)}`,
        region,
      );
    }
    if (end.status !== 'Successful') {
      g.result.outcome = 'rolled-back';
      g.result.toVersion = String(g.fromVersion);
      throw stopWith(
        ErrorType.InstanceRefreshRolledBack,
        `instance refresh of ${region} group ${g.groupName} to ${g.imageId} ended ${end.status} at ${end.percentageComplete}%; the group is on version ${g.fromVersion}${because(end.statusReason)}`,
        region,
        'rolled-back',
      );
    }
    g.moved = true;
    g.result.outcome = 'rolled-out';
    await this.bake(g, ami.healthBakeSeconds * 1000, ami.healthPollSeconds * 1000);
  }

  /**
   * Starts (or adopts) the refresh of `g` to `version`; someone else's refresh is waited for up to
   * busyRefreshWaitSeconds (workflow timers), then the account is quarantined.
   */
  private async startRefresh(g: GroupRun, version: number, forward: boolean): Promise<string> {
    const { ami } = this.input;
    const waitMs = ami.busyRefreshWaitSeconds * 1000;
    const pollMs = Math.min(30_000, Math.max(2000, Math.floor(waitMs / 10)));
    let waited = 0;
    for (;;) {
      const started: RefreshStart = await step(
        g.region,
        aws.startGroupRefresh({
          ...this.where(g.region),
          groupName: g.groupName,
          launchTemplateId: g.launchTemplateId,
          version,
          preferences: {
            minHealthyPercentage: ami.minHealthyPercentage,
            checkpoints: forward ? ami.checkpoints : [],
            autoRollback: forward,
            // back to N: no alarm (the one that fired would fail the way back)
            ...(forward ? { alarm: groupHealthAlarm(g.groupName) } : {}),
          },
        }),
      );
      if (started.kind !== 'busy') {
        if (started.kind === 'adopted')
          log.info('adopted instance refresh', { group: g.groupName, id: started.instanceRefreshId });
        return started.instanceRefreshId;
      }
      if (waited >= waitMs)
        throw stopWith(
          ErrorType.InstanceRefreshBusy,
          `${g.region} group ${g.groupName} has someone else's instance refresh ${started.instanceRefreshId} (${started.status}) for more than ${ami.busyRefreshWaitSeconds} s`,
          g.region,
        );
      this.progress = { phase: `waiting-for-foreign-refresh ${g.groupName}`, region: g.region };
      const next = Math.min(pollMs, waitMs - waited);
      await sleep(next);
      waited += next;
    }
  }

  /** Watches the group's health alarm for the bake, one check every poll. */
  private async bake(g: GroupRun, bakeMs: number, pollMs: number): Promise<void> {
    const alarm = groupHealthAlarm(g.groupName);
    this.progress = { phase: `baking ${g.groupName}`, region: g.region };
    for (let waitedMs = 0; ;) {
      const { alarms } = await step(g.region, aws.readGroupAlarms({ ...this.where(g.region), alarmNames: [alarm] }));
      const firing = alarms.find((a) => a.state === 'ALARM');
      if (firing)
        throw stopWith(
          ErrorType.HealthAlarm,
          `alarm ${firing.name} in ALARM in ${g.region} after moving group ${g.groupName} to ${g.imageId}${because(firing.reason)}`,
          g.region,
          'rolled-back',
        );
      if (waitedMs >= bakeMs) return;
      const next = Math.min(pollMs, bakeMs - waitedMs);
      await sleep(next);
      waitedMs += next;
    }
  }

  /**
   * Every group moved or moving goes back on N (latest first); returns the first problem. A group that
   * cannot be put back is quarantined and the account's other groups still go back (before the
   * PUT_BACK_EVERY_GROUP patch the first problem ended the loop, leaving earlier groups on M).
   */
  private async putBack(): Promise<PutBackProblem | undefined> {
    let first: PutBackProblem | undefined;
    for (const g of [...this.groups].reverse()) {
      if (!g.active && !g.moved) continue;
      this.progress = { phase: `rolling-back ${g.groupName}`, region: g.region };
      const problem = await this.putGroupBackOrProblem(g);
      if (problem) {
        g.result.outcome = 'quarantined';
        g.result.reason = problem.reason;
        // the patch marker is written only on this path (a run with a problem to put back past)
        if (first === undefined && !patched(PUT_BACK_EVERY_GROUP)) return problem;
        first ??= problem;
        continue;
      }
      g.active = false;
      g.moved = false;
      g.result.outcome = 'rolled-back';
      g.result.toVersion = String(g.fromVersion);
    }
    return first;
  }

  /** putGroupBack, with a stop on the way (e.g. someone else's refresh) as the group's problem. */
  private async putGroupBackOrProblem(g: GroupRun): Promise<PutBackProblem | undefined> {
    try {
      const problem = await this.putGroupBack(g);
      return problem ? { errorType: ErrorType.InstanceRefreshRollbackFailed, reason: problem, group: g } : undefined;
    } catch (err) {
      if (!(err instanceof AccountStopped)) throw err;
      return { errorType: ErrorType.InstanceRefreshRollbackFailed, reason: err.stop.reason, group: g };
    }
  }

  /** RollbackInstanceRefresh while ours runs; a refresh to N once it is Successful. Returns a problem or undefined. */
  private async putGroupBack(g: GroupRun): Promise<string | undefined> {
    const at = { ...this.where(g.region), groupName: g.groupName };
    if (g.active) {
      const rb = await step(g.region, aws.rollbackGroupRefresh(at));
      if (rb.rolledBack && rb.instanceRefreshId) {
        const end = await step(g.region, waitForRefresh({ ...at, instanceRefreshId: rb.instanceRefreshId }));
        if (end.status === 'RollbackSuccessful' || end.status === 'Cancelled' || end.status === 'Failed')
          return undefined;
        if (end.status !== 'Successful')
          return `rollback of the refresh ended ${end.status}${because(end.statusReason)}`;
      }
      // Nothing active to roll back: it ended; if it reached M, refresh back to N below.
      const newest = (await step(g.region, aws.listRefreshes(at)))[0];
      if (!newest || newest.status !== 'Successful' || newest.desired?.version !== String(g.toVersion))
        return undefined;
    }
    const id = await this.startRefresh(g, g.fromVersion, false);
    const end = await step(g.region, waitForRefresh({ ...at, instanceRefreshId: id }));
    return end.status === 'Successful'
      ? undefined
      : `the refresh back to version ${g.fromVersion} ended ${end.status}${because(end.statusReason)}`;
  }

  private async stopped(stop: AccountStop): Promise<Omit<AccountOperationResult, 'runbook'>> {
    const { accountId } = this.input;
    for (const g of this.groups)
      if (g.result.outcome === 'planned') {
        g.result.outcome = 'skipped';
        g.result.reason = `not started: the account stopped${stop.region ? ` in ${stop.region}` : ''}`;
      }
    const problem = await this.putBack();
    if (problem) {
      return {
        accountId,
        outcome: 'quarantined',
        errorType: problem.errorType,
        reason: `${stop.reason}; then putting ${problem.group.region} group ${problem.group.groupName} back on version ${problem.group.fromVersion} failed: ${problem.reason}`,
        regions: this.results,
      };
    }
    const back = this.results.filter((r) => r.outcome === 'rolled-back').map((r) => `${r.region} ${r.group}`);
    return {
      accountId,
      outcome: stop.outcome,
      reason: back.length ? `${stop.reason}; back on the previous version: ${back.join(', ')}` : stop.reason,
      ...(stop.errorType ? { errorType: stop.errorType } : {}),
      regions: this.results,
    };
  }

  private finish(result: Omit<AccountOperationResult, 'runbook'>): AccountOperationResult {
    this.progress = { phase: 'done' };
    upsertSearchAttributes([{ key: FLEET_STATE, value: result.outcome }]);
    const runbook =
      result.outcome === UNHEALTHY_BEFORE
        ? UNHEALTHY_BEFORE_RUNBOOK
        : (result.outcome === 'quarantined' || result.outcome === 'rolled-back') && result.errorType
          ? (AMI_RUNBOOKS[result.errorType] ??
            (result.outcome === 'rolled-back' ? AMI_RUNBOOKS[ErrorType.InstanceRefreshRolledBack] : undefined))
          : undefined;
    const final = { ...result, ...(runbook ? { runbook } : {}) };
    this.publishDetails(final);
    return final;
  }
}

function because(reason: string | undefined): string {
  return reason ? ` (${reason})` : '';
}
