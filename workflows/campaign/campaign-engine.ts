import { accountFinished, accountStarted } from './campaign-metrics';
import {
  ApplicationFailure,
  ChildWorkflowFailure,
  ParentClosePolicy,
  WorkflowIdReusePolicy,
  allHandlersFinished,
  condition,
  continueAsNew,
  executeChild,
  patched,
  proxyActivities,
  setCurrentDetails,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { CampaignActivities } from '../../activities/campaign/campaign-activities';
import { isInMaintenanceWindow, nextMaintenanceWindowStart } from '../../fleet/maintenance-window';
import { LATEST } from '../../fleet/release-channel';
import type { AccountOperationInput } from '../operation/account-operation';
import type { OperationPreflightInput } from '../operation/operation-definition';
import type { AnyOperation } from '../operation/operation-registry';
import { ACCOUNT_CALL_RETRY, LOCAL_CALL_RETRY } from '../retry-policies';
import { FLEET_ACCOUNT_ID, FLEET_CAMPAIGN_ID, FLEET_OPERATION, FLEET_STATE, FLEET_WAVE } from '../search-attributes';
import { failureBudgetFor, windowLimit, type WindowLimit } from './campaign-budget';
import { campaignCurrentDetails, describeSelection } from './campaign-metadata';
import type { ConcurrencyMode, FleetCampaignInput, FleetCampaignOptions } from './campaign-input';
import type { CampaignPhase, CampaignStatus } from './campaign-messages';
import { CLOSED_PHASES, childId, emptyState, isFailure, type CampaignState } from './campaign-state';
import { buildStatus, type CampaignReport } from './campaign-status';
import { STATUS_MEMO, StatusMemo } from './status-memo';
import { packState, unpackState, type PackedCampaignState } from './packed-state';
import { KEEPALIVE_HEARTBEAT_TIMEOUT } from '../activity-timeouts';

const { planCampaign, latestRelease } = proxyActivities<CampaignActivities>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: KEEPALIVE_HEARTBEAT_TIMEOUT,
  retry: LOCAL_CALL_RETRY,
});

/** An operation's preflight activity, by name (operation-definition.ts `preflight`). */
const preflights = proxyActivities<Record<string, (input: OperationPreflightInput) => Promise<unknown>>>({
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: KEEPALIVE_HEARTBEAT_TIMEOUT,
  retry: ACCOUNT_CALL_RETRY,
});

/** Patch id: an operation with a preflight activity runs it after planning, before the first wave. */
export const OPERATION_PREFLIGHT = 'operation-preflight-before-first-wave';

/** Patch id: a retry queued after the run's last start continues as new instead of waiting. */
export const RETRY_AFTER_RUN_LIMIT = 'retry-after-run-limit-continues-as-new';
/** Patch id: a parameter given as `latest` is resolved to the channel's newest release when the campaign starts. */
export const RESOLVE_LATEST_RELEASE = 'resolve-latest-release-at-start';
/** Patch id: every child gets the campaign's leaseWaitSeconds (how long it waits for another campaign's lease). */
export const LEASE_WAIT_LIMIT = 'campaign-lease-wait-limit';
/** Patch id: `concurrencyMode: "soft"` keeps the window at maxInFlight until the failure budget is spent. */
export const SOFT_CONCURRENCY_MODE = 'soft-concurrency-mode';
/** Patch id: a `revert` campaign runs no operation preflight (the AMI rollout's share-limit check). */
export const REVERT_WITHOUT_PREFLIGHT = 'revert-without-preflight';
/** Patch id: a `revert` campaign plans the accounts it lists and gives each its own parameters. */
export const CAMPAIGN_REVERT = 'campaign-revert';
/** Patch id: the state crosses continue-as-new packed (packed-state.ts), so 40,000 accounts fit in a payload. */
export const PACKED_CARRY = 'packed-campaign-carry';
/** Patch id: planCampaign answers with each maintenance window once (windowTable), so 40,000 windows fit. */
export const PLAN_WINDOW_TABLE = 'plan-window-table';

type RunOutcome = 'done' | 'cancelled' | 'continue-as-new';

/**
 * The campaign engine: runs the operation's per-account child workflow over the selected accounts,
 * wave by wave (canary → early → general → late), in a sliding window of at most `maxInFlight`,
 * within a failure budget per wave, with approval gates, bake time between waves and maintenance
 * windows. History stays bounded: after `accountsPerRun` accounts the run drains and continues as new
 * with compact state. Operators act on it through CampaignControls; `status()` answers the query.
 */
export class CampaignEngine {
  readonly st: CampaignState;
  /** wave index of every account */
  readonly waveOf = new Map<string, number>();
  readonly inFlight = new Set<string>();
  /**
   * Accounts whose child waits for another campaign's lease, with that campaign (sent by the children;
   * not carried: no child runs across continue-as-new).
   */
  readonly leaseWaits = new Map<string, string>();
  private dirty = false;
  private startedThisRun = 0;
  /** Parameters resolved at the start (`latest` → a version); carried into every later run. */
  private resolvedParams: Record<string, unknown> = {};
  /** The concurrency mode this run applies (see concurrencyModeOf). */
  readonly mode: ConcurrencyMode;
  /** The status snapshot in the memo (absent when replaying a history from before it). */
  private memo?: StatusMemo;
  /** A revert: each account's own parameters (merged over the campaign's), from `revert.targets`. */
  private readonly revertParams = new Map<string, Record<string, unknown>>();

  constructor(
    readonly input: FleetCampaignOptions,
    private readonly rawInput: FleetCampaignInput,
    private readonly op: AnyOperation,
  ) {
    const carry = input.carry as CampaignState | PackedCampaignState | undefined;
    this.st = carry ? unpackState(carry) : emptyState(input.campaignId ?? workflowInfo().workflowId);
    this.mode = concurrencyModeOf(input);
    for (const t of input.revert?.targets ?? []) for (const id of t.accountIds) this.revertParams.set(id, t.params);
  }

  /** What the accounts move to, for status: the operation's target, or for a revert the versions before. */
  private target(): string | undefined {
    if (this.input.revert) return `previous state (revert of ${this.input.revert.of})`;
    return this.op.target((this.input as Record<string, unknown>)[this.op.paramsField]);
  }

  /** The operation parameters of one account's child: the campaign's, with a revert's own for the account. */
  private paramsFor(accountId: string): unknown {
    const params = (this.input as Record<string, unknown>)[this.op.paramsField];
    const own = this.revertParams.get(accountId);
    return own ? { ...(params as Record<string, unknown>), ...own } : params;
  }

  /** Wakes the run loop after a control action or an account finishing. */
  touch(): void {
    this.dirty = true;
  }

  waveFailures(w: number): number {
    return this.st.waves[w].accountIds.filter((id) => isFailure(this.st.accounts[id]?.s)).length;
  }

  /**
   * The window now and why it is smaller than maxInFlight: strict shrinks it to the failures the wave
   * still allows, soft keeps maxInFlight until the budget is spent. No current wave (planning, done): 0,
   * with no reason.
   */
  windowLimit(): WindowLimit {
    const w = this.st.waves[this.st.waveIndex];
    if (!w) return { window: 0, maxInFlight: this.input.maxInFlight, mode: this.mode, failuresLeft: 0 };
    return windowLimit(this.input.maxInFlight, w.budget, this.waveFailures(this.st.waveIndex) - w.forgiven, this.mode);
  }

  window(): number {
    return this.windowLimit().window;
  }

  status(): CampaignStatus {
    return buildStatus(this.st, this.input, this.target(), this.inFlight.size, this.windowLimit(), this.leaseWaits);
  }

  setPhase(phase: CampaignPhase, reason?: string): void {
    if (this.st.phase === phase && this.st.phaseReason === reason) return;
    const changed = this.st.phase !== phase;
    this.st.phase = phase;
    this.st.phaseReason = reason;
    if (changed) upsertSearchAttributes([{ key: FLEET_STATE, value: phase }]);
    if (changed && this.memo) return this.memo.writeNow();
    this.statusShown();
    this.memo?.changed();
  }

  /**
   * The status changed. The campaign's live details in the Temporal UI (user metadata, markdown:
   * phase, waves, budget, problems with runbooks) follow: with the status memo they are refreshed with
   * it, at most every SNAPSHOT_EVERY_MS of workflow time and at once on a phase change, because
   * building them reads every account (at 40,000 accounts, rebuilding them at each account's end made
   * the run quadratic); campaigns from before the memo refresh them at once, as they always did.
   * Details are served by the SDK's metadata query: no command, nothing in history, replay unaffected.
   */
  publishDetails(): void {
    if (this.memo) this.memo.changed();
    else this.statusShown();
  }

  /** The status now, also shown as the UI's live details. */
  private statusShown(): CampaignStatus {
    const status = this.status();
    setCurrentDetails(campaignCurrentDetails(status));
    return status;
  }

  closed(): boolean {
    return CLOSED_PHASES.includes(this.st.phase);
  }

  async run(): Promise<CampaignReport> {
    const { st, input } = this;
    if (patched(STATUS_MEMO)) {
      this.memo = new StatusMemo(() => this.statusShown());
      this.memo.start();
    }
    if (!input.carry) {
      await this.resolveLatest();
      await this.plan();
      await this.preflight();
    }
    st.waves.forEach((w, i) => w.accountIds.forEach((id) => this.waveOf.set(id, i)));
    const outcome = await this.runWaves();
    if (outcome === 'continue-as-new') {
      await condition(allHandlersFinished);
      const next = { ...st, run: st.run + 1 };
      return continueAsNew<(i: FleetCampaignInput) => Promise<CampaignReport>>({
        ...this.rawInput,
        ...this.withResolvedParams(),
        campaignId: st.campaignId,
        carry: patched(PACKED_CARRY) ? packState(next) : next,
      });
    }
    await condition(allHandlersFinished);
    this.setPhase(
      outcome === 'cancelled' ? 'cancelled' : 'completed',
      outcome === 'cancelled' ? st.phaseReason : undefined,
    );
    const report: CampaignReport = this.status();
    if (input.plan) {
      report.planReport = Object.entries(st.accounts)
        .filter(([, r]) => r.p)
        .map(([accountId, r]) => ({ accountId, regions: r.p! }));
    }
    return report;
  }

  /**
   * A parameter given as `latest` (e.g. `upgrade.targetVersion`) becomes the release channel's newest
   * release, read by an activity now — when this campaign starts, not when its schedule was made. The
   * version is recorded in history (the activity result) and replaces `latest` in the input, so status,
   * the children and every later run (continue-as-new) use it. Only an input with `latest` gets here,
   * which older code refused, so histories from before replay unchanged; the patch marks the new path.
   */
  private async resolveLatest(): Promise<void> {
    const latest = this.op.latest;
    const params = (this.input as Record<string, unknown>)[this.op.paramsField] as Record<string, unknown> | undefined;
    if (!latest || params?.[latest.param] !== LATEST || !patched(RESOLVE_LATEST_RELEASE)) return;
    const release = await latestRelease({ fleetFile: this.input.fleetFile, channel: latest.channel });
    params[latest.param] = release.version;
    this.resolvedParams[latest.param] = release.version;
  }

  /** The raw input's parameters with what resolveLatest resolved (nothing resolved: no change). */
  private withResolvedParams(): Partial<FleetCampaignInput> {
    if (Object.keys(this.resolvedParams).length === 0) return {};
    const field = this.op.paramsField;
    const raw = (this.rawInput as Record<string, unknown>)[field] as Record<string, unknown>;
    return { [field]: { ...raw, ...this.resolvedParams } } as Partial<FleetCampaignInput>;
  }

  /**
   * The operation's preflight activity (if it has one), over every selected account, before the first
   * wave: its non-retryable failure fails the campaign with nothing done. Not in plan mode. Only
   * operations with a preflight reach the patch, so other operations' histories replay unchanged; the
   * patch keeps AMI rollout histories from before it replaying.
   */
  private async preflight(): Promise<void> {
    const name = this.op.preflight;
    if (!name || this.input.plan) return;
    // A revert makes no new change to check (an AMI revert shares nothing): no preflight. Only revert
    // inputs of an operation with a preflight (AMI rollouts, revertible since this patch) reach it.
    if (this.input.revert && patched(REVERT_WITHOUT_PREFLIGHT)) return;
    if (!patched(OPERATION_PREFLIGHT)) return;
    const params = (this.input as Record<string, unknown>)[this.op.paramsField] as Record<string, unknown>;
    await preflights[name].executeWithOptions({ summary: `${name}: ${this.op.name} preflight` }, [
      {
        fleetFile: this.input.fleetFile,
        accountIds: this.st.waves.flatMap((w) => w.accountIds),
        params,
        runId: this.st.campaignId,
      },
    ]);
  }

  /** Resolves the selection into waves (an activity: it reads the fleet file) and records it in the state. */
  private async plan(): Promise<void> {
    const { st, input } = this;
    upsertSearchAttributes([
      { key: FLEET_CAMPAIGN_ID, value: st.campaignId },
      { key: FLEET_OPERATION, value: input.operation },
      { key: FLEET_STATE, value: 'planning' },
    ]);
    this.publishDetails();
    const select = this.selection();
    const windowTable = patched(PLAN_WINDOW_TABLE) ? { windowTable: true } : {};
    const plan = await planCampaign.executeWithOptions({ summary: `plan waves: ${describeSelection(select)}` }, [
      { fleetFile: input.fleetFile, select, maxWaveSize: input.maxWaveSize, ...windowTable },
    ]);
    st.waves = plan.waves.map(({ windows: _windows, ...w }) => ({
      ...w,
      budget: failureBudgetFor(w.accountIds.length, input.failureBudget),
      forgiven: 0,
    }));
    st.windows = { ...plan.windows };
    for (const w of plan.waves)
      w.windows?.forEach((i, k) => {
        if (i >= 0 && plan.windowTable) st.windows[w.accountIds[k]] = plan.windowTable[i];
      });
    st.notSelected = plan.notSelected;
  }

  /**
   * The accounts to plan: the input's selection, or for a revert exactly the accounts it lists (the
   * schema refuses `select` with `revert`). Only a revert input reaches the patch (older code refused
   * the field), so histories of other campaigns replay unchanged.
   */
  private selection(): FleetCampaignOptions['select'] {
    const revert = this.input.revert;
    if (!revert || !patched(CAMPAIGN_REVERT)) return this.input.select;
    return { ids: revert.targets.flatMap((t) => t.accountIds), includeStates: ['active'] };
  }

  /** Every wave in turn: approval gate, the wave itself, then bake. */
  private async runWaves(): Promise<RunOutcome> {
    const { st, input } = this;
    while (st.waveIndex < st.waves.length) {
      const wave = st.waves[st.waveIndex];
      if (st.waveState === 'pending') {
        upsertSearchAttributes([{ key: FLEET_WAVE, value: wave.name }]);
        if (this.needsApproval(st.waveIndex)) {
          st.waveState = 'awaiting-approval';
          const size = wave.accountIds.length;
          this.setPhase('awaiting-approval', `wave ${wave.name} (${wave.ring}, ${size} accounts) waits for approve`);
          await condition(() => st.approvedWaves.includes(wave.name) || st.cancelRequested);
        }
        if (st.cancelRequested) return 'cancelled';
        st.waveState = 'running';
        if (!st.paused) this.setPhase('running');
      }
      if (st.waveState === 'running') {
        const outcome = await this.runWave();
        if (outcome !== 'done') return outcome;
        const last = st.waveIndex === st.waves.length - 1;
        st.waveState = !last && input.waveBakeSeconds > 0 ? 'baking' : 'done';
        st.bakeUntil = Date.now() + input.waveBakeSeconds * 1000;
      }
      if (st.waveState === 'baking') {
        this.setPhase('baking', `after wave ${wave.name}, until ${new Date(st.bakeUntil ?? Date.now()).toISOString()}`);
        await condition(() => st.cancelRequested, Math.max(1, (st.bakeUntil ?? 0) - Date.now()));
        if (st.cancelRequested) return 'cancelled';
      }
      st.waveIndex++;
      st.waveState = 'pending';
      st.cursor = 0;
      st.deferred = [];
    }
    return 'done';
  }

  private needsApproval(w: number): boolean {
    const { approvalBefore } = this.input;
    if (approvalBefore === 'all') return true;
    const wave = this.st.waves[w];
    const firstOfRing = w === 0 || this.st.waves[w - 1].ring !== wave.ring;
    return firstOfRing && approvalBefore.includes(wave.ring as (typeof approvalBefore)[number]);
  }

  private needContinueAsNew(): boolean {
    return this.startedThisRun >= this.input.accountsPerRun || workflowInfo().continueAsNewSuggested;
  }

  /** Runs the current wave until it is done, the campaign is cancelled, or it is time to continue as new. */
  private async runWave(): Promise<RunOutcome> {
    const { st } = this;
    const wave = st.waves[st.waveIndex];
    for (;;) {
      if (st.cancelRequested) {
        if (this.inFlight.size === 0) return 'cancelled';
      } else if (!st.paused && !this.needContinueAsNew()) {
        // the window can't change while accounts start (a child ends no sooner than the next activation);
        // computed once, not per start: it reads every account of the wave
        const window = this.window();
        while (this.inFlight.size < window && !this.needContinueAsNew()) {
          const id = this.nextAccount();
          if (!id) break;
          void this.runAccount(id);
        }
      }
      const waveIdle = this.inFlight.size === 0 && st.retryQueue.length === 0;
      if (waveIdle && !st.paused && !st.cancelRequested) {
        const allLookedAt = st.cursor >= wave.accountIds.length;
        if (allLookedAt && st.deferred.length === 0) return 'done';
        if (this.needContinueAsNew()) return 'continue-as-new';
        if (st.deferred.length > 0 && allLookedAt) {
          this.setPhase('waiting-for-window', `${st.deferred.length} account(s) wait for their maintenance window`);
          this.dirty = false;
          await condition(() => this.dirty, this.msUntilAWindowOpens());
          if (st.phase === 'waiting-for-window') this.setPhase('running');
          continue;
        }
      }
      if (waveIdle && this.needContinueAsNew() && !st.cancelRequested) return 'continue-as-new';
      if (this.retryWaitsForNextRun()) return 'continue-as-new';
      this.dirty = false;
      this.publishDetails();
      await condition(() => this.dirty);
    }
  }

  /**
   * An operator's retry that arrived after this run started its last account waits in the retry queue;
   * once nothing runs, the next run starts it (before this fix the campaign waited for ever). Gated:
   * histories recorded before the fix replay unchanged.
   */
  private retryWaitsForNextRun(): boolean {
    const { st } = this;
    const stuck = this.inFlight.size === 0 && st.retryQueue.length > 0 && !st.cancelRequested;
    return stuck && this.needContinueAsNew() && patched(RETRY_AFTER_RUN_LIMIT);
  }

  /** The next account of the current wave to start: retries first, then accounts inside their maintenance window. */
  private nextAccount(): string | undefined {
    const { st } = this;
    const retry = st.retryQueue.shift();
    if (retry) return retry;
    const now = new Date(Date.now());
    const inWindow = (id: string) =>
      !this.input.respectMaintenanceWindows || isInMaintenanceWindow(st.windows[id], now);
    const ready = st.deferred.findIndex(inWindow);
    if (ready >= 0) return st.deferred.splice(ready, 1)[0];
    const ids = st.waves[st.waveIndex].accountIds;
    while (st.cursor < ids.length) {
      const id = ids[st.cursor++];
      if (st.accounts[id]) continue; // skipped by an operator before it started
      if (inWindow(id)) return id;
      st.deferred.push(id);
    }
    return undefined;
  }

  private msUntilAWindowOpens(): number {
    const now = new Date(Date.now());
    const starts = this.st.deferred.map(
      (id) => nextMaintenanceWindowStart(this.st.windows[id], now).getTime() - now.getTime(),
    );
    return Math.max(1000, Math.min(...starts));
  }

  /** Runs one attempt of the operation's child workflow for the account and records how it ended. */
  private async runAccount(accountId: string): Promise<void> {
    const { st, input, op } = this;
    const rec = st.accounts[accountId] ?? { s: 'pending', a: 0 };
    rec.a += 1;
    rec.s = 'running';
    delete rec.r;
    st.accounts[accountId] = rec;
    this.inFlight.add(accountId);
    this.startedThisRun++;
    accountStarted(input.operation);
    const wave = st.waves[this.waveOf.get(accountId) ?? st.waveIndex];
    const started = Date.now();
    const childInput: AccountOperationInput = {
      campaignId: st.campaignId,
      operation: input.operation,
      fleetFile: input.fleetFile,
      accountId,
      wave: wave.name,
      plan: input.plan,
      attempt: rec.a,
      // only when set: the children of campaigns without it get the input they always got
      ...(input.allowDowngrade || input.revert ? { allowDowngrade: true } : {}),
      ...(patched(LEASE_WAIT_LIMIT) ? { leaseWaitSeconds: input.leaseWaitSeconds } : {}),
      [op.paramsField]: this.paramsFor(accountId),
    };
    const params = this.paramsFor(accountId);
    const summary =
      op.accountSummary?.(params, accountId) ?? `${op.name} ${accountId} ${op.target(params) ?? ''}`.trim();
    try {
      const result = await executeChild(op.childWorkflow, {
        workflowId: childId(st.campaignId, accountId, rec.a),
        staticSummary: summary,
        staticDetails: [
          `campaign \`${st.campaignId}\` · wave ${wave.name} · attempt ${rec.a}${input.plan ? ' · plan only' : ''}`,
          '',
          'Its outcome is the `FleetState` search attribute (filter the workflow list with',
          `\`FleetCampaignId = "${st.campaignId}" AND FleetState = "rolled-back"\`).`,
        ].join('\n'),
        args: [childInput],
        parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        typedSearchAttributes: [
          { key: FLEET_CAMPAIGN_ID, value: st.campaignId },
          { key: FLEET_OPERATION, value: input.operation },
          { key: FLEET_ACCOUNT_ID, value: accountId },
          { key: FLEET_WAVE, value: wave.name },
          { key: FLEET_STATE, value: 'running' },
        ],
      });
      rec.s = result.outcome;
      if (result.reason) rec.r = result.reason;
      if (result.errorType) rec.e = result.errorType;
      if (result.runbook) rec.rb = result.runbook;
      if (input.plan) rec.p = result.regions;
    } catch (err) {
      rec.s = 'failed';
      const cause = err instanceof ChildWorkflowFailure ? err.cause : err;
      rec.r = (cause as Error)?.message ?? String(cause);
      rec.e = cause instanceof ApplicationFailure ? (cause.type ?? undefined) : (cause as Error)?.name;
    } finally {
      accountFinished(input.operation, rec.s);
      this.inFlight.delete(accountId);
      this.leaseWaits.delete(accountId);
      st.awaitingApproval = st.awaitingApproval.filter((id) => id !== accountId);
      st.durations.totalMs += Date.now() - started;
      st.durations.count++;
      this.checkBudget(this.waveOf.get(accountId) ?? st.waveIndex);
      this.touch();
    }
  }

  /** Pauses (or cancels) the campaign once a wave's failures reach its budget. */
  private checkBudget(w: number): void {
    const { st } = this;
    const wave = st.waves[w];
    if (!wave || st.cancelRequested) return;
    const counted = this.waveFailures(w) - wave.forgiven;
    if (counted < wave.budget) return;
    const reason = `failure budget of wave ${wave.name} used up (${counted} of ${wave.budget} failed)`;
    if (this.input.failureBudget.onExceeded === 'cancel') {
      st.cancelRequested = true;
      this.setPhase('cancelling', reason);
    } else if (!st.paused) {
      st.paused = true;
      this.setPhase('paused', reason);
    }
  }
}

/**
 * Soft mode is new workflow behaviour: it is taken only with the patch marker, which the first run of
 * a soft campaign records (histories from before it never ask for soft: older code refused the field).
 * Called once per run, from the workflow's main path (never from a query).
 */
function concurrencyModeOf(input: FleetCampaignOptions): ConcurrencyMode {
  return input.concurrencyMode === 'soft' && patched(SOFT_CONCURRENCY_MODE) ? 'soft' : 'strict';
}
