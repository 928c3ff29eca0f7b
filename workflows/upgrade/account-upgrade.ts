import {
  CancellationScope,
  condition,
  defineQuery,
  defineSignal,
  getExternalWorkflowHandle,
  isCancellation,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { PipelineStackState } from '../../activities/aws/cloudformation';
import type { UpgradeActivities, UpgradeTarget } from '../../activities/upgrade/upgrade-activities';
import { ErrorType } from '../../fleet/error-types';
import { SEMVER_PATTERN } from '../../fleet/fleet-fields';
import { healthAlarmName } from '../../fleet/pipeline-stack';
import { compareSemver } from '../../fleet/release-channel';
import {
  ACCOUNT_PROGRESS_QUERY,
  APPROVE_ACCOUNT_SIGNAL,
  type AccountOperationInput,
  type AccountOperationResult,
  type AccountOutcome,
  type AccountProgress,
  type RegionPlan,
  type RegionResult,
} from '../operation/account-operation';
import { AccountStopped, AccountStops, type AccountStop } from '../operation/account-stop';
import { AccountUpgradeInputSchema, type AccountUpgradeOptions } from './upgrade-params';
import { accountAwaitingApprovalSignal } from '../campaign/campaign-messages';
import { clientRequestToken, upgradeChangeSetName, type TokenStep } from './change-set-names';
import { reviewChangeSet } from './change-set-review';
import { UPGRADE_RUNBOOKS } from './upgrade-runbooks';
import { UPGRADE_OPERATION } from './upgrade-params';
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
import { AWS_CALL_TIMEOUTS, LOCAL_CALL_TIMEOUTS } from '../activity-timeouts';

// ---- messages ----
/** An operator approves this account's stateful change (the campaign forwards its `approve` with accountId). */
export const approveAccountSignal = defineSignal<[]>(APPROVE_ACCOUNT_SIGNAL);
export const accountProgressQuery = defineQuery<AccountProgress>(ACCOUNT_PROGRESS_QUERY);

/** Error types that quarantine the account (it needs an operator: each has a runbook); any other error type fails it. */
const QUARANTINING: string[] = Object.keys(UPGRADE_RUNBOOKS);

/** Statuses no update can start from (someone must look first). */
const NOT_UPDATABLE = [
  'CREATE_FAILED',
  'ROLLBACK_COMPLETE',
  'ROLLBACK_FAILED',
  'DELETE_FAILED',
  'DELETE_COMPLETE',
  'UPDATE_FAILED',
  'IMPORT_ROLLBACK_FAILED',
];

/** How often a busy stack (someone else's update) is looked at again. */
const BUSY_POLL_MS = 30_000;

// ---- activities ----
const { upgradeAccountInfo } = proxyActivities<UpgradeActivities>({
  ...LOCAL_CALL_TIMEOUTS,
  retry: LOCAL_CALL_RETRY,
});
const aws = proxyActivities<UpgradeActivities>({ ...AWS_CALL_TIMEOUTS, retry: ACCOUNT_CALL_RETRY });
/** Waiting activities poll every 2 s and heartbeat each poll: a dead worker's wait is retried on another within 30 s. */
const { waitForChangeSet, describeChangeSet } = proxyActivities<UpgradeActivities>({
  startToCloseTimeout: '15 minutes',
  heartbeatTimeout: '30 seconds',
  retry: ACCOUNT_CALL_RETRY,
});
const { waitForStackStatus } = proxyActivities<UpgradeActivities>({
  startToCloseTimeout: '4 hours',
  heartbeatTimeout: '30 seconds',
  retry: ACCOUNT_CALL_RETRY,
});

/** The reads as activity tasks: how children that started before UPGRADE_LOCAL_READS replay. */
const taskReads = { upgradeAccountInfo, ...pick(aws) };
type Reads = typeof taskReads;
/**
 * The read-only steps (the fleet file's account, the stack, the health alarm) as local activities: each
 * runs inside the workflow task, so a read costs no activity task and no workflow task of its own. Their
 * AWS calls take the same rate budgets (enforced in the activity code, shared through the store).
 */
const localReads: Reads = {
  upgradeAccountInfo: proxyLocalActivities<UpgradeActivities>({
    startToCloseTimeout: '1 minute',
    retry: LOCAL_CALL_RETRY,
  }).upgradeAccountInfo,
  ...pick(proxyLocalActivities<UpgradeActivities>({ startToCloseTimeout: '2 minutes', retry: ACCOUNT_CALL_RETRY })),
};

function pick(a: UpgradeActivities): Pick<UpgradeActivities, 'readPipelineStack' | 'readAlarmStates'> {
  return { readPipelineStack: a.readPipelineStack, readAlarmStates: a.readAlarmStates };
}

/** Patch id: the read-only steps run as local activities (see localReads). */
export const UPGRADE_LOCAL_READS = 'upgrade-local-reads';
/**
 * Patch id: the first region's stack is not read again before its change set executes when nothing
 * waited since it was read (no approval): a stack changed since makes the change set OBSOLETE, and CloudFormation
 * refuses to execute it.
 */
export const NO_SECOND_READ_WHEN_FRESH = 'upgrade-no-second-read-when-fresh';
/** Patch id: the change-set wait activity is called waitForChangeSet (was describeChangeSet). */
export const RENAMED_WAIT_FOR_CHANGE_SET = 'activity-renamed-wait-for-change-set';
/** Patch id: an upgrade to a version lower than the stack runs is refused (skipped) unless allowDowngrade. */
export const REFUSE_DOWNGRADE = 'upgrade-refuses-downgrade';

const stops = new AccountStops(QUARANTINING);
const stopWith = stops.stopWith.bind(stops);
const step = stops.step.bind(stops);

/** A region whose change set was created (and maybe executed). */
type PreparedRegion = {
  region: string;
  fromVersion: string | null;
  /** The version this region moves to (targetVersion, or its regionVersions entry). */
  toVersion: string;
  changeSetName: string;
  plan: RegionPlan;
  result: RegionResult;
  executed: boolean;
};

/**
 * Upgrades one account's pipeline stack to `upgrade.targetVersion`, region after region:
 *
 * 1. every region: read the stack (missing → quarantined StackMissing; UPDATE_ROLLBACK_FAILED →
 *    quarantined StackInRollbackFailed; someone else's *_IN_PROGRESS → wait up to
 *    `busyStackWaitSeconds`, then quarantined StackBusy; already at the target → already-current),
 *    then the `<stack>-health` alarm of every region to change (one already in ALARM → unhealthy-before:
 *    nothing created or changed, not counted against the budget; plan mode reports it), then create the
 *    change set (deterministic name and token) and review its changes;
 * 2. a replacement or removal of a stateful type → `skip` (change sets deleted, outcome skipped) or
 *    `approve` (FleetState awaiting-approval until APPROVE_ACCOUNT_SIGNAL);
 * 3. plan mode stops here: change sets deleted, outcome planned with counts per region;
 * 4. each region in turn: execute, wait for the stack to settle, then the health gate (the
 *    `<stack>-health` alarm watched for `healthBakeSeconds`). A rollback by CloudFormation or an
 *    alarm rolls back every region upgraded so far (outcome rolled-back).
 *
 * Account-level problems are the result (outcome + reason + errorType + runbook), never an exception;
 * only invalid input fails the workflow.
 */
export async function accountUpgrade(rawInput: AccountOperationInput): Promise<AccountOperationResult> {
  const input = parseWorkflowInput('accountUpgrade', AccountUpgradeInputSchema, rawInput);
  return withAccountLease(input, () => new AccountUpgradeRun(input).run());
}

class AccountUpgradeRun {
  private current: AccountProgress = { phase: 'starting' };
  private approved = false;
  private stackName = '';
  private readonly results: RegionResult[] = [];
  private readonly prepared: PreparedRegion[] = [];
  private readonly target: string;
  private reads: Reads = taskReads;

  constructor(private readonly input: AccountUpgradeOptions) {
    this.target = input.upgrade.targetVersion;
  }

  /** What it does now: answers the progress query and is the live details the Temporal UI shows. */
  private get progress(): AccountProgress {
    return this.current;
  }

  private set progress(p: AccountProgress) {
    this.current = p;
    this.publishDetails();
  }

  private publishDetails(result?: AccountOperationResult): void {
    const { campaignId, wave, attempt } = this.input;
    const summary = `upgrade ${this.input.accountId} → ${this.input.upgrade.targetVersion}`;
    setCurrentDetails(
      accountCurrentDetails({
        summary,
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
    setHandler(accountProgressQuery, () => this.progress);
    setHandler(approveAccountSignal, () => {
      this.approved = true;
    });
    if (patched(UPGRADE_LOCAL_READS)) this.reads = localReads;
    const { campaignId, accountId, wave } = this.input;
    upsertSearchAttributes([
      { key: FLEET_CAMPAIGN_ID, value: campaignId },
      { key: FLEET_OPERATION, value: UPGRADE_OPERATION },
      { key: FLEET_ACCOUNT_ID, value: accountId },
      ...(wave ? [{ key: FLEET_WAVE, value: wave }] : []),
      { key: FLEET_STATE, value: 'running' },
    ]);
    try {
      const outcome = await this.upgrade();
      return this.finish({ accountId, outcome, regions: this.results });
    } catch (err) {
      if (isCancellation(err)) {
        await CancellationScope.nonCancellable(() => this.discardChangeSets());
        upsertSearchAttributes([{ key: FLEET_STATE, value: 'cancelled' }]);
        throw err;
      }
      if (!(err instanceof AccountStopped)) throw err;
      return this.finish(await this.stopped(err.stop));
    }
  }

  private async upgrade(): Promise<AccountOutcome> {
    const info = await step(
      undefined,
      this.reads.upgradeAccountInfo({ fleetFile: this.input.fleetFile, accountId: this.input.accountId }),
    );
    this.stackName = info.stackName;
    const regions = this.regionsToChange(info.regions);
    if (patched(HEALTH_CHECK_BEFORE_CHANGE)) {
      // every stack read first, then the health of the regions to change, then the change sets
      const due: Array<{ region: string; stack: PipelineStackState & { found: true } }> = [];
      for (const region of regions) {
        const stack = await this.checkRegion(region);
        if (stack) due.push({ region, stack });
      }
      await this.healthBefore(due.map((d) => d.region));
      for (const d of due) await this.createChangeSetFor(d.region, d.stack);
    } else for (const region of regions) await this.prepareRegion(region);
    if (this.prepared.length === 0) return 'already-current';

    if (this.input.plan) {
      await this.discardChangeSets();
      return 'planned';
    }

    const needsApproval = this.prepared.flatMap((p) => p.plan.needsApproval.map((n) => `${p.region} ${n}`));
    if (needsApproval.length) {
      const reason = `stateful change needs approval: ${needsApproval.join('; ')}`;
      // skip: the stop deletes the change sets and reports every region as skipped
      if (this.input.upgrade.onStatefulChange === 'skip') throw new AccountStopped({ outcome: 'skipped', reason });
      await this.awaitApproval(reason);
    }

    // the first region's stack was read moments ago unless the account waited for an approval since
    for (const [i, p] of this.prepared.entries()) await this.executeRegion(p, i === 0 && !needsApproval.length);
    return this.prepared.some((p) => p.result.outcome === 'upgraded') ? 'upgraded' : 'already-current';
  }

  /** The account's regions this run changes: all, or only those `regionVersions` names (each must be the account's). */
  private regionsToChange(regions: string[]): string[] {
    const only = this.input.upgrade.regionVersions;
    if (!only) return regions;
    const unknown = Object.keys(only).filter((r) => !regions.includes(r));
    if (unknown.length)
      throw stopWith(
        ErrorType.InvalidWorkflowInput,
        `upgrade.regionVersions: ${unknown.join(', ')} not among the regions of account ${this.input.accountId} in the fleet file (${regions.join(', ')})`,
        undefined,
        'failed',
      );
    return regions.filter((r) => only[r] !== undefined);
  }

  /** The version `region` moves to: its regionVersions entry, else targetVersion. */
  private targetIn(region: string): string {
    return this.input.upgrade.regionVersions?.[region] ?? this.target;
  }

  /**
   * Refuses to move a region to an older version than its stack runs unless the campaign allows it
   * (`allowDowngrade`; a revert sets it): the account is skipped with both versions named, nothing
   * changed (change sets already created in earlier regions are deleted by the stop). Only a downgrade
   * reaches the patch, so histories of ordinary upgrades replay unchanged; histories recorded before the
   * guard that did downgrade replay without it.
   */
  private refuseDowngrade(region: string, current: string | null, target: string): void {
    if (this.input.allowDowngrade || !current || !SEMVER_PATTERN.test(current)) return;
    if (compareSemver(target, current) >= 0 || !patched(REFUSE_DOWNGRADE)) return;
    throw stopWith(
      ErrorType.DowngradeRefused,
      `downgrade refused: stack ${this.stackName} in ${region} runs ${current}, newer than the target ${target}; ` +
        'a campaign moves an account backwards only with allowDowngrade (fleetops campaign revert sets it)',
      region,
      'skipped',
    );
  }

  private where(region: string): UpgradeTarget {
    return { fleetFile: this.input.fleetFile, accountId: this.input.accountId, region, runId: this.input.campaignId };
  }

  private token(stepName: TokenStep, region: string): string {
    return clientRequestToken(stepName, this.input.campaignId, this.input.accountId, region, this.input.attempt);
  }

  /** Checks the region's stack and, unless it is current, creates and reviews the change set. */
  private async prepareRegion(region: string): Promise<void> {
    const stack = await this.checkRegion(region);
    if (stack) await this.createChangeSetFor(region, stack);
  }

  /** The region's stack if it needs the upgrade (undefined: already at the target, recorded as such). */
  private async checkRegion(region: string): Promise<(PipelineStackState & { found: true }) | undefined> {
    this.progress = { phase: 'checking-stack', region };
    const stack = await this.updatableStack(region);
    const target = this.targetIn(region);
    if (isAt(stack, target)) {
      this.results.push({ region, outcome: 'already-current', fromVersion: target, toVersion: target });
      return undefined;
    }
    this.refuseDowngrade(region, stack.version, target);
    return stack;
  }

  /**
   * The health alarm of every region about to change, read before anything changes: one in ALARM stops
   * the account as unhealthy-before (each of those regions listed as left alone), plan mode included.
   */
  private async healthBefore(regions: readonly string[]): Promise<void> {
    const alarmName = healthAlarmName(this.stackName);
    const readings: HealthReading[] = [];
    for (const region of regions) {
      this.progress = { phase: 'checking-health', region };
      const { alarms } = await step(
        region,
        this.reads.readAlarmStates({ ...this.where(region), alarmNames: [alarmName] }),
      );
      readings.push({ region, alarms });
    }
    const stop = unhealthyStop(readings, this.input.plan);
    if (!stop) return;
    for (const r of readings) {
      const firing = firingBefore([r]);
      const reason = firing.length ? unhealthyReason(firing, this.input.plan) : 'not touched: the account is unhealthy';
      this.results.push({ region: r.region, outcome: UNHEALTHY_BEFORE, reason });
    }
    throw new AccountStopped(stop);
  }

  /** Creates and reviews the change set of a region whose stack is not at the target. */
  private async createChangeSetFor(region: string, stack: PipelineStackState & { found: true }): Promise<void> {
    const target = this.targetIn(region);
    this.progress = { phase: 'creating-change-set', region };
    const changeSetName = upgradeChangeSetName(this.input.campaignId, target);
    const result: RegionResult = {
      region,
      outcome: 'planned',
      fromVersion: stack.version ?? undefined,
      toVersion: target,
      changeSetName,
    };
    const prepared: PreparedRegion = {
      region,
      fromVersion: stack.version,
      toVersion: target,
      changeSetName,
      plan: emptyPlan(),
      result,
      executed: false,
    };
    this.results.push(result);
    this.prepared.push(prepared); // from here on a stop deletes it
    await step(
      region,
      aws.createChangeSet({
        ...this.where(region),
        changeSetName,
        clientToken: this.token('create', region),
        targetVersion: target,
        description: `fleetops campaign ${this.input.campaignId}: ${this.stackName} ${stack.version ?? '?'} -> ${target}`,
      }),
    );
    // The activity that waits for the change set was first registered as describeChangeSet: histories
    // recorded before the rename replay with that name (see README "Deploying new workflow code").
    const awaitChangeSet = patched(RENAMED_WAIT_FOR_CHANGE_SET) ? waitForChangeSet : describeChangeSet;
    const cs = await step(region, awaitChangeSet({ ...this.where(region), changeSetName }));
    if (!cs.found)
      throw stopWith(
        ErrorType.ChangeSetFailed,
        `change set ${changeSetName} in ${region} disappeared after it was created`,
        region,
      );
    if (cs.status !== 'CREATE_COMPLETE') {
      throw stopWith(
        ErrorType.ChangeSetFailed,
        `change set ${changeSetName} in ${region} is ${cs.status}${cs.statusReason ? `: ${cs.statusReason}` : ''}`,
        region,
      );
    }
    prepared.plan = reviewChangeSet(cs.changes, this.input.upgrade.statefulResourceTypes);
    result.plan = prepared.plan;
  }

  /**
   * Reads the stack until it is not busy: missing, UPDATE_ROLLBACK_FAILED and other stuck states stop
   * the account; someone else's *_IN_PROGRESS is waited out (workflow timers) up to busyStackWaitSeconds.
   */
  private async updatableStack(region: string): Promise<PipelineStackState & { found: true }> {
    const deadline = Date.now() + this.input.upgrade.busyStackWaitSeconds * 1000;
    for (;;) {
      const stack = await step(region, this.reads.readPipelineStack(this.where(region)));
      if (!stack.found) {
        throw stopWith(
          ErrorType.StackMissing,
          `stack ${stack.stackName} does not exist in account ${this.input.accountId} ${region}`,
          region,
        );
      }
      if (stack.status === 'UPDATE_ROLLBACK_FAILED') {
        throw stopWith(
          ErrorType.StackInRollbackFailed,
          `stack ${stack.stackName} in ${region} is UPDATE_ROLLBACK_FAILED${because(stack.statusReason)}`,
          region,
        );
      }
      if (NOT_UPDATABLE.includes(stack.status)) {
        throw stopWith(
          ErrorType.StackNotUpdatable,
          `stack ${stack.stackName} in ${region} is ${stack.status}${because(stack.statusReason)}`,
          region,
        );
      }
      if (!stack.status.endsWith('_IN_PROGRESS')) return stack;
      const left = deadline - Date.now();
      if (left <= 0) {
        throw stopWith(
          ErrorType.StackBusy,
          `stack ${stack.stackName} in ${region} stayed ${stack.status} (someone else's operation) for more than ${this.input.upgrade.busyStackWaitSeconds} s`,
          region,
        );
      }
      this.progress = { phase: 'waiting-for-busy-stack', region };
      await sleep(Math.min(BUSY_POLL_MS, left));
    }
  }

  private async awaitApproval(reason: string): Promise<void> {
    this.progress = { phase: 'awaiting-approval', awaitingApproval: reason };
    upsertSearchAttributes([{ key: FLEET_STATE, value: 'awaiting-approval' }]);
    await this.tellCampaign(reason, true);
    await condition(() => this.approved);
    await this.tellCampaign(reason, false);
    upsertSearchAttributes([{ key: FLEET_STATE, value: 'running' }]);
    log.info('stateful change approved', { accountId: this.input.accountId });
  }

  /** Lets the parent campaign list this account as waiting for approval (best effort; no parent when started by hand). */
  private async tellCampaign(reason: string, waiting: boolean): Promise<void> {
    const parent = workflowInfo().parent;
    if (!parent) return;
    try {
      await getExternalWorkflowHandle(parent.workflowId).signal(accountAwaitingApprovalSignal, {
        accountId: this.input.accountId,
        reason,
        waiting,
      });
    } catch (err) {
      log.warn('could not tell the campaign about the approval wait', { error: String(err) });
    }
  }

  /**
   * Executes the region's change set, waits for the stack, then runs the health gate. `justRead`: its
   * stack was read moments ago (the first region, no approval wait since), so it is not read again.
   */
  private async executeRegion(p: PreparedRegion, justRead: boolean): Promise<void> {
    const { region } = p;
    this.progress = { phase: 'executing', region };
    // The stack may have moved while the account waited (approval, earlier regions): look again.
    // Only a fresh read reaches the patch: histories recorded before it replay their second read.
    if (!(justRead && patched(NO_SECOND_READ_WHEN_FRESH))) {
      const stack = await this.updatableStack(region);
      if (isAt(stack, p.toVersion)) {
        p.result.outcome = 'already-current';
        await step(region, aws.deleteChangeSet({ ...this.where(region), changeSetName: p.changeSetName }));
        return;
      }
    }
    p.executed = true; // from here on a stop rolls this region back
    await step(
      region,
      aws.executeChangeSet({
        ...this.where(region),
        changeSetName: p.changeSetName,
        clientRequestToken: this.token('execute', region),
      }),
    );
    this.progress = { phase: 'waiting-for-stack', region };
    const settled = await step(region, waitForStackStatus(this.where(region)));
    if (!settled.found)
      throw stopWith(
        ErrorType.StackMissing,
        `stack ${settled.stackName} disappeared from ${region} during the update`,
        region,
      );
    if (settled.status === 'UPDATE_ROLLBACK_COMPLETE') {
      p.executed = false; // CloudFormation put it back already
      p.result.outcome = 'rolled-back';
      throw stopWith(
        ErrorType.UpdateRolledBack,
        `update of ${settled.stackName} in ${region} to ${p.toVersion} failed and CloudFormation rolled it back to ${settled.version ?? '?'}${because(settled.statusReason)}`,
        region,
        'rolled-back',
      );
    }
    if (settled.status === 'UPDATE_ROLLBACK_FAILED') {
      p.executed = false; // nothing more can be done without an operator
      throw stopWith(
        ErrorType.StackInRollbackFailed,
        `update of ${settled.stackName} in ${region} to ${p.toVersion} failed and its rollback failed: UPDATE_ROLLBACK_FAILED${because(settled.statusReason)}`,
        region,
      );
    }
    if (settled.status !== 'UPDATE_COMPLETE' || settled.version !== p.toVersion) {
      throw stopWith(
        ErrorType.UnexpectedStackState,
        `after executing ${p.changeSetName} the stack ${settled.stackName} in ${region} is ${settled.status} at version ${settled.version ?? '?'}, not UPDATE_COMPLETE at ${p.toVersion}`,
        region,
      );
    }
    p.result.outcome = 'upgraded';
    await this.healthGate(p);
  }

  /** Watches the pipeline's health alarm for healthBakeSeconds, one short check every healthPollSeconds. */
  private async healthGate(p: PreparedRegion): Promise<void> {
    const { region } = p;
    const alarmName = healthAlarmName(this.stackName);
    const bakeMs = this.input.upgrade.healthBakeSeconds * 1000;
    const pollMs = this.input.upgrade.healthPollSeconds * 1000;
    this.progress = { phase: 'baking', region };
    for (let waitedMs = 0; ;) {
      const { alarms, missing } = await step(
        region,
        this.reads.readAlarmStates({ ...this.where(region), alarmNames: [alarmName] }),
      );
      if (missing.length && !p.result.reason) {
        p.result.reason = `health alarm ${missing.join(', ')} not found: the bake watched nothing`;
        log.warn('health alarm not found', { accountId: this.input.accountId, region, alarmName });
      }
      const firing = alarms.filter((a) => a.state === 'ALARM');
      if (firing.length) {
        const names = firing.map((a) => a.name).join(', ');
        throw stopWith(
          ErrorType.HealthAlarm,
          `alarm ${names} in ALARM in ${region} after upgrading ${this.stackName} to ${p.toVersion}${because(firing[0].reason)}`,
          region,
          'rolled-back',
        );
      }
      if (waitedMs >= bakeMs) return;
      const next = Math.min(pollMs, bakeMs - waitedMs);
      await sleep(next);
      waitedMs += next;
    }
  }

  /** Deletes every change set created but not executed (best effort: a failure is logged, not fatal). */
  private async discardChangeSets(): Promise<void> {
    for (const p of this.prepared) {
      if (p.executed) continue;
      try {
        await step(p.region, aws.deleteChangeSet({ ...this.where(p.region), changeSetName: p.changeSetName }));
      } catch (err) {
        if (!(err instanceof AccountStopped)) throw err;
        log.warn('could not delete change set', {
          region: p.region,
          changeSetName: p.changeSetName,
          reason: err.message,
        });
      }
    }
  }

  /**
   * The account stopped: delete change sets not executed, roll every executed region back to its
   * previous version (latest first), and say what happened in each region.
   */
  private async stopped(stop: AccountStop): Promise<Omit<AccountOperationResult, 'runbook'>> {
    await this.discardChangeSets();
    for (const p of this.prepared) {
      if (p.region === stop.region) continue;
      if (!p.executed && p.result.outcome === 'planned') {
        p.result.outcome = 'skipped';
        p.result.reason = stop.region ? `not executed: the account stopped in ${stop.region}` : stop.reason;
      }
    }
    if (stop.region) {
      const failing = this.results.find((r) => r.region === stop.region);
      if (!failing) this.results.push({ region: stop.region, outcome: stop.outcome, reason: stop.reason });
      else if (failing.outcome !== 'already-current')
        Object.assign(failing, { outcome: stop.outcome, reason: stop.reason });
    }

    const rolledBack: string[] = [];
    for (const p of [...this.prepared].reverse()) {
      if (!p.executed) continue;
      const problem = await this.rollBack(p);
      if (problem) {
        return {
          accountId: this.input.accountId,
          outcome: 'quarantined',
          errorType: problem.errorType,
          reason: `${stop.reason}; then rolling ${p.region} back to ${p.fromVersion ?? '?'} failed: ${problem.reason}`,
          regions: this.results,
        };
      }
      rolledBack.push(p.region);
    }
    const reason = rolledBack.length
      ? `${stop.reason}; rolled back ${rolledBack.join(', ')} to the previous version`
      : stop.reason;
    return {
      accountId: this.input.accountId,
      outcome: stop.outcome,
      reason,
      ...(stop.errorType ? { errorType: stop.errorType } : {}),
      regions: this.results,
    };
  }

  /** Moves one region back to its version before the campaign; returns the problem if that fails. */
  private async rollBack(p: PreparedRegion): Promise<{ errorType: string; reason: string } | undefined> {
    const { region } = p;
    if (!p.fromVersion)
      return { errorType: ErrorType.RollbackFailed, reason: 'the version before the upgrade is unknown' };
    this.progress = { phase: 'rolling-back', region };
    try {
      await step(
        region,
        aws.rollbackStack({
          ...this.where(region),
          toVersion: p.fromVersion,
          clientRequestToken: this.token('rollback', region),
        }),
      );
      const settled = await step(region, waitForStackStatus(this.where(region)));
      if (settled.found && settled.status === 'UPDATE_ROLLBACK_FAILED') {
        p.result.outcome = 'quarantined';
        return {
          errorType: ErrorType.StackInRollbackFailed,
          reason: `stack is UPDATE_ROLLBACK_FAILED${because(settled.statusReason)}`,
        };
      }
      if (!settled.found || !settled.status.endsWith('_COMPLETE') || settled.version !== p.fromVersion) {
        p.result.outcome = 'quarantined';
        const state = settled.found ? `${settled.status} at version ${settled.version ?? '?'}` : 'missing';
        return { errorType: ErrorType.RollbackFailed, reason: `stack is ${state}` };
      }
    } catch (err) {
      if (!(err instanceof AccountStopped)) throw err;
      p.result.outcome = 'quarantined';
      return { errorType: err.stop.errorType ?? ErrorType.RollbackFailed, reason: err.stop.reason };
    }
    p.result.outcome = 'rolled-back';
    p.result.toVersion = p.fromVersion;
    p.executed = false;
    return undefined;
  }

  private finish(result: Omit<AccountOperationResult, 'runbook'>): AccountOperationResult {
    this.progress = { phase: 'done' };
    upsertSearchAttributes([{ key: FLEET_STATE, value: result.outcome }]);
    const runbook =
      result.outcome === UNHEALTHY_BEFORE
        ? UNHEALTHY_BEFORE_RUNBOOK
        : result.outcome === 'quarantined' && result.errorType
          ? UPGRADE_RUNBOOKS[result.errorType]
          : undefined;
    const final = { ...result, ...(runbook ? { runbook } : {}) };
    this.publishDetails(final);
    return final;
  }
}

function isAt(stack: PipelineStackState & { found: true }, version: string): boolean {
  return stack.version === version && stack.status.endsWith('_COMPLETE');
}

function because(reason: string | undefined): string {
  return reason ? ` (${reason})` : '';
}

function emptyPlan(): RegionPlan {
  return { added: 0, modified: 0, replaced: 0, removed: 0, needsApproval: [] };
}
