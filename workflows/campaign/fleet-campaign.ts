import {
  ApplicationFailure,
  ChildWorkflowFailure,
  ParentClosePolicy,
  WorkflowIdReusePolicy,
  allHandlersFinished,
  condition,
  continueAsNew,
  executeChild,
  getExternalWorkflowHandle,
  log,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { CampaignActivities, CampaignPlan } from '../../activities/campaign/campaign-activities';
import { isInMaintenanceWindow, nextMaintenanceWindowStart } from '../../fleet/maintenance-window';
import {
  ACCOUNT_OUTCOMES,
  APPROVE_ACCOUNT_SIGNAL,
  CHILD_WORKFLOW_OF,
  type AccountOperationInput,
  type AccountOperationResult,
  type AccountOutcome,
  type RegionResult,
} from '../operation/account-operation';
import { effectiveWindow, estimateSecondsLeft, failureBudgetFor } from './campaign-budget';
import { FleetCampaignInputSchema, type FleetCampaignInput, type FleetCampaignOptions } from './campaign-input';
import {
  accountAwaitingApprovalSignal,
  approveSignal,
  approveUpdate,
  cancelSignal,
  cancelUpdate,
  pauseSignal,
  pauseUpdate,
  resumeSignal,
  resumeUpdate,
  retryAccountSignal,
  retryAccountUpdate,
  skipAccountSignal,
  skipAccountUpdate,
  statusQuery,
  type AccountProblem,
  type AccountState,
  type ApproveRequest,
  type CancelRequest,
  type PauseRequest,
  type CampaignPhase,
  type CampaignStatus,
  type WaveStatus,
} from './campaign-messages';
import { LOCAL_CALL_RETRY } from '../retry-policies';
import { parseWorkflowInput } from '../workflow-input';

const { planCampaign } = proxyActivities<CampaignActivities>({
  startToCloseTimeout: '2 minutes',
  retry: LOCAL_CALL_RETRY,
});

/** One account's record in the campaign (compact: carried across continue-as-new for thousands of accounts). */
type AccountRecord = {
  s: AccountState;
  /** attempts started (1 = first run; operator retries add more) */
  a: number;
  /** reason, error type, runbook (problems only) */
  r?: string;
  e?: string;
  rb?: string;
  /** plan mode: per-region preview */
  p?: RegionResult[];
};

type WaveRecord = {
  name: string;
  ring: string;
  accountIds: string[];
  budget: number;
  /** failures forgiven by an operator's resume */ forgiven: number;
};

/** Everything the campaign knows, carried across continue-as-new. */
type CampaignState = {
  campaignId: string;
  startedAt: string;
  run: number;
  waves: WaveRecord[];
  windows: CampaignPlan['windows'];
  notSelected: CampaignPlan['notSelected'];
  waveIndex: number;
  waveState: WaveStatus['state'];
  /** next account of the current wave not yet looked at */
  cursor: number;
  /** accounts of the current wave waiting for their maintenance window */
  deferred: string[];
  retryQueue: string[];
  accounts: Record<string, AccountRecord>;
  phase: CampaignPhase;
  phaseReason?: string;
  paused: boolean;
  cancelRequested: boolean;
  approvedWaves: string[];
  bakeUntil?: number;
  awaitingApproval: string[];
  durations: { totalMs: number; count: number };
};

export type CampaignReport = CampaignStatus & {
  /** Plan mode: what would change, per account and region. */
  planReport?: Array<{ accountId: string; regions: RegionResult[] }>;
};

/**
 * The campaign engine: runs one per-account child workflow (by operation) over the selected accounts,
 * wave by wave (canary → early → general → late), in a sliding window of at most `maxInFlight`,
 * within a failure budget per wave, with approval gates, bake time between waves and maintenance
 * windows; operators control it with updates/signals and watch it with the `status` query. History
 * stays bounded: after `accountsPerRun` accounts the run drains and continues as new with compact state.
 */
export async function fleetCampaign(rawInput: FleetCampaignInput): Promise<CampaignReport> {
  const input = parseWorkflowInput('fleetCampaign', FleetCampaignInputSchema, rawInput);
  const info = workflowInfo();
  // Handlers are registered before planning, so status queries and control work from the first moment.
  const st: CampaignState =
    (input.carry as CampaignState | undefined) ?? emptyState(input.campaignId ?? info.workflowId);
  const waveOf = new Map<string, number>();
  const inFlight = new Set<string>();
  let dirty = false;
  const touch = () => (dirty = true);

  // ---- status ----
  const waveFailures = (w: number) => st.waves[w].accountIds.filter((id) => isFailure(st.accounts[id]?.s)).length;
  const window = () => {
    const w = st.waves[st.waveIndex];
    return w ? effectiveWindow(input.maxInFlight, w.budget, waveFailures(st.waveIndex) - w.forgiven) : 0;
  };
  const status = (): CampaignStatus => buildStatus(st, input, inFlight.size, window());

  const setPhase = (phase: CampaignPhase, reason?: string) => {
    if (st.phase === phase && st.phaseReason === reason) return;
    const changed = st.phase !== phase;
    st.phase = phase;
    st.phaseReason = reason;
    if (changed) upsertSearchAttributes({ FleetState: [phase] });
  };
  const closed = () => ['completed', 'cancelled', 'failed'].includes(st.phase);

  // ---- operator control (updates validate; signals of the same name apply if valid) ----
  const notClosed = (what: string) => {
    if (closed()) throw new Error(`campaign ${st.campaignId} is already ${st.phase}; cannot ${what}`);
  };
  const accountIn = (id: unknown): string => {
    if (typeof id !== 'string' || !waveOf.has(id))
      throw new Error(`account ${String(id)} is not in campaign ${st.campaignId}`);
    return id;
  };
  const control = {
    pause: {
      validate: (_req?: PauseRequest) => {
        notClosed('pause');
        if (st.paused) throw new Error(`campaign ${st.campaignId} is already paused`);
        if (st.cancelRequested) throw new Error(`campaign ${st.campaignId} is being cancelled`);
      },
      apply: (req?: PauseRequest) => {
        st.paused = true;
        setPhase('paused', req?.reason ?? 'paused by operator');
      },
    },
    resume: {
      validate: () => {
        notClosed('resume');
        if (!st.paused) throw new Error(`campaign ${st.campaignId} is not paused (phase ${st.phase})`);
      },
      apply: () => {
        st.paused = false;
        // An operator resuming after the failure budget stopped the wave accepts those failures.
        const w = st.waves[st.waveIndex];
        if (w) w.forgiven = waveFailures(st.waveIndex);
        setPhase('running');
      },
    },
    cancel: {
      validate: (_req?: CancelRequest) => {
        notClosed('cancel');
        if (st.cancelRequested) throw new Error(`campaign ${st.campaignId} is already being cancelled`);
      },
      apply: (req?: CancelRequest) => {
        st.cancelRequested = true;
        setPhase('cancelling', req?.reason ?? 'cancelled by operator');
      },
    },
    approve: {
      validate: (req: ApproveRequest = {}) => {
        notClosed('approve');
        if (req.accountId !== undefined) {
          const id = accountIn(req.accountId);
          if (!st.awaitingApproval.includes(id))
            throw new Error(`account ${id} is not waiting for approval in campaign ${st.campaignId}`);
          return;
        }
        const w = st.waves[st.waveIndex];
        if (st.waveState !== 'awaiting-approval' || !w)
          throw new Error(`campaign ${st.campaignId} has no wave waiting for approval (phase ${st.phase})`);
        if (req.wave !== undefined && req.wave !== w.name)
          throw new Error(`wave ${req.wave} is not the wave waiting for approval (${w.name})`);
      },
      apply: async (req: ApproveRequest = {}) => {
        if (req.accountId !== undefined) {
          st.awaitingApproval = st.awaitingApproval.filter((id) => id !== req.accountId);
          await getExternalWorkflowHandle(
            childId(st.campaignId, req.accountId, st.accounts[req.accountId]?.a ?? 1),
          ).signal(APPROVE_ACCOUNT_SIGNAL);
          return;
        }
        st.approvedWaves.push(st.waves[st.waveIndex].name);
      },
    },
    retryAccount: {
      validate: (req: { accountId: string }) => {
        notClosed('retry an account');
        const id = accountIn(req?.accountId);
        const s = st.accounts[id]?.s ?? 'pending';
        if (!isFailure(s) && s !== 'skipped')
          throw new Error(
            `account ${id} is ${s}; only failed, rolled-back, quarantined or skipped accounts can be retried`,
          );
        if ((waveOf.get(id) ?? 0) > st.waveIndex)
          throw new Error(`account ${id} is in a later wave that has not started`);
      },
      apply: (req: { accountId: string }) => {
        const rec = st.accounts[req.accountId];
        st.accounts[req.accountId] = { s: 'pending', a: rec?.a ?? 0 };
        st.retryQueue.push(req.accountId);
      },
    },
    skipAccount: {
      validate: (req: { accountId: string }) => {
        notClosed('skip an account');
        const id = accountIn(req?.accountId);
        const s = st.accounts[id]?.s ?? 'pending';
        if (s === 'running') throw new Error(`account ${id} is running; wait for it or cancel the campaign`);
        if (s === 'skipped' || ACCOUNT_OUTCOMES[s as AccountOutcome] === 'ok')
          throw new Error(`account ${id} is already ${s}`);
      },
      apply: (req: { accountId: string }) => {
        const rec = st.accounts[req.accountId];
        st.accounts[req.accountId] = {
          s: 'skipped',
          a: rec?.a ?? 0,
          r: rec?.r ? `skipped by operator after: ${rec.r}` : 'skipped by operator',
        };
        st.retryQueue = st.retryQueue.filter((id) => id !== req.accountId);
        st.deferred = st.deferred.filter((id) => id !== req.accountId);
      },
    },
  };

  const asUpdate = <A extends unknown[]>(c: { validate: (...a: A) => void; apply: (...a: A) => unknown }) => ({
    handler: async (...a: A): Promise<CampaignStatus> => {
      await c.apply(...a);
      touch();
      return status();
    },
    validator: c.validate,
  });
  const asSignal =
    <A extends unknown[]>(name: string, c: { validate: (...a: A) => void; apply: (...a: A) => unknown }) =>
    async (...a: A) => {
      try {
        c.validate(...a);
      } catch (err) {
        log.warn(`signal ${name} ignored: ${(err as Error).message}`);
        return;
      }
      await c.apply(...a);
      touch();
    };
  setHandler(pauseUpdate, asUpdate(control.pause).handler, { validator: control.pause.validate });
  setHandler(resumeUpdate, asUpdate(control.resume).handler, { validator: control.resume.validate });
  setHandler(cancelUpdate, asUpdate(control.cancel).handler, { validator: control.cancel.validate });
  setHandler(approveUpdate, asUpdate(control.approve).handler, { validator: control.approve.validate });
  setHandler(retryAccountUpdate, asUpdate(control.retryAccount).handler, { validator: control.retryAccount.validate });
  setHandler(skipAccountUpdate, asUpdate(control.skipAccount).handler, { validator: control.skipAccount.validate });
  setHandler(pauseSignal, asSignal('pause', control.pause));
  setHandler(resumeSignal, asSignal('resume', control.resume));
  setHandler(cancelSignal, asSignal('cancel', control.cancel));
  setHandler(approveSignal, asSignal('approve', control.approve));
  setHandler(retryAccountSignal, asSignal('retryAccount', control.retryAccount));
  setHandler(skipAccountSignal, asSignal('skipAccount', control.skipAccount));
  setHandler(accountAwaitingApprovalSignal, ({ accountId, waiting }) => {
    st.awaitingApproval = st.awaitingApproval.filter((id) => id !== accountId);
    if (waiting) st.awaitingApproval.push(accountId);
  });
  setHandler(statusQuery, status);

  if (!input.carry) await planCampaignInto(st, input);
  st.waves.forEach((w, i) => w.accountIds.forEach((id) => waveOf.set(id, i)));

  // ---- running accounts ----
  let startedThisRun = 0;
  const needContinueAsNew = () => startedThisRun >= input.accountsPerRun || workflowInfo().continueAsNewSuggested;

  const runAccount = async (accountId: string) => {
    const rec = st.accounts[accountId] ?? { s: 'pending', a: 0 };
    rec.a += 1;
    rec.s = 'running';
    delete rec.r;
    st.accounts[accountId] = rec;
    inFlight.add(accountId);
    startedThisRun++;
    const wave = st.waves[waveOf.get(accountId) ?? st.waveIndex];
    const started = Date.now();
    const childInput: AccountOperationInput = {
      campaignId: st.campaignId,
      operation: input.operation,
      fleetFile: input.fleetFile,
      accountId,
      wave: wave.name,
      plan: input.plan,
      attempt: rec.a,
      upgrade: input.upgrade,
    };
    try {
      const result = await executeChild<(i: AccountOperationInput) => Promise<AccountOperationResult>>(
        CHILD_WORKFLOW_OF[input.operation],
        {
          workflowId: childId(st.campaignId, accountId, rec.a),
          args: [childInput],
          parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
          workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
          searchAttributes: {
            FleetCampaignId: [st.campaignId],
            FleetOperation: [input.operation],
            FleetAccountId: [accountId],
            FleetWave: [wave.name],
            FleetState: ['running'],
          },
        },
      );
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
      inFlight.delete(accountId);
      st.awaitingApproval = st.awaitingApproval.filter((id) => id !== accountId);
      st.durations.totalMs += Date.now() - started;
      st.durations.count++;
      checkBudget(waveOf.get(accountId) ?? st.waveIndex);
      touch();
    }
  };

  const checkBudget = (w: number) => {
    const wave = st.waves[w];
    if (!wave || st.cancelRequested) return;
    const counted = waveFailures(w) - wave.forgiven;
    if (counted < wave.budget) return;
    const reason = `failure budget of wave ${wave.name} used up (${counted} of ${wave.budget} failed)`;
    if (input.failureBudget.onExceeded === 'cancel') {
      st.cancelRequested = true;
      setPhase('cancelling', reason);
    } else if (!st.paused) {
      st.paused = true;
      setPhase('paused', reason);
    }
  };

  /** The next account of the current wave to start: retries first, then accounts inside their maintenance window. */
  const nextAccount = (): string | undefined => {
    const retry = st.retryQueue.shift();
    if (retry) return retry;
    const now = new Date(Date.now());
    const inWindow = (id: string) => !input.respectMaintenanceWindows || isInMaintenanceWindow(st.windows[id], now);
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
  };

  const msUntilAWindowOpens = (): number => {
    const now = new Date(Date.now());
    const starts = st.deferred.map((id) => nextMaintenanceWindowStart(st.windows[id], now).getTime() - now.getTime());
    return Math.max(1000, Math.min(...starts));
  };

  /** Runs the current wave until it is done, the campaign is cancelled, or it is time to continue as new. */
  const runWave = async (): Promise<'done' | 'cancelled' | 'continue-as-new'> => {
    const wave = st.waves[st.waveIndex];
    for (;;) {
      if (st.cancelRequested) {
        if (inFlight.size === 0) return 'cancelled';
      } else if (!st.paused && !needContinueAsNew()) {
        while (inFlight.size < window() && !needContinueAsNew()) {
          const id = nextAccount();
          if (!id) break;
          void runAccount(id);
        }
      }
      const waveIdle = inFlight.size === 0 && st.retryQueue.length === 0;
      if (waveIdle && !st.paused && !st.cancelRequested) {
        const allLookedAt = st.cursor >= wave.accountIds.length;
        if (allLookedAt && st.deferred.length === 0) return 'done';
        if (needContinueAsNew()) return 'continue-as-new';
        if (st.deferred.length > 0 && allLookedAt) {
          setPhase('waiting-for-window', `${st.deferred.length} account(s) wait for their maintenance window`);
          dirty = false;
          await condition(() => dirty, msUntilAWindowOpens());
          if (st.phase === 'waiting-for-window') setPhase('running');
          continue;
        }
      }
      if (waveIdle && needContinueAsNew() && !st.cancelRequested) return 'continue-as-new';
      dirty = false;
      await condition(() => dirty);
    }
  };

  // ---- waves ----
  let outcome: 'done' | 'cancelled' | 'continue-as-new' = 'done';
  while (st.waveIndex < st.waves.length) {
    const wave = st.waves[st.waveIndex];
    if (st.waveState === 'pending') {
      upsertSearchAttributes({ FleetWave: [wave.name] });
      if (needsApproval(input, st, st.waveIndex)) {
        st.waveState = 'awaiting-approval';
        setPhase(
          'awaiting-approval',
          `wave ${wave.name} (${wave.ring}, ${wave.accountIds.length} accounts) waits for approve`,
        );
        await condition(() => st.approvedWaves.includes(wave.name) || st.cancelRequested);
      }
      if (st.cancelRequested) {
        outcome = 'cancelled';
        break;
      }
      st.waveState = 'running';
      if (!st.paused) setPhase('running');
    }
    if (st.waveState === 'running') {
      outcome = await runWave();
      if (outcome !== 'done') break;
      const last = st.waveIndex === st.waves.length - 1;
      st.waveState = !last && input.waveBakeSeconds > 0 ? 'baking' : 'done';
      st.bakeUntil = Date.now() + input.waveBakeSeconds * 1000;
    }
    if (st.waveState === 'baking') {
      setPhase('baking', `after wave ${wave.name}, until ${new Date(st.bakeUntil ?? Date.now()).toISOString()}`);
      await condition(() => st.cancelRequested, Math.max(1, (st.bakeUntil ?? 0) - Date.now()));
      if (st.cancelRequested) {
        outcome = 'cancelled';
        break;
      }
    }
    st.waveIndex++;
    st.waveState = 'pending';
    st.cursor = 0;
    st.deferred = [];
  }

  if (outcome === 'continue-as-new') {
    await condition(allHandlersFinished);
    return continueAsNew<typeof fleetCampaign>({
      ...rawInput,
      campaignId: st.campaignId,
      carry: { ...st, run: st.run + 1 } as never,
    });
  }
  await condition(allHandlersFinished);
  setPhase(outcome === 'cancelled' ? 'cancelled' : 'completed', outcome === 'cancelled' ? st.phaseReason : undefined);
  const report: CampaignReport = status();
  if (input.plan)
    report.planReport = Object.entries(st.accounts)
      .filter(([, r]) => r.p)
      .map(([accountId, r]) => ({ accountId, regions: r.p! }));
  return report;
}

function emptyState(campaignId: string): CampaignState {
  return {
    campaignId,
    startedAt: new Date(Date.now()).toISOString(),
    run: 1,
    waves: [],
    windows: {},
    notSelected: [],
    waveIndex: 0,
    waveState: 'pending',
    cursor: 0,
    deferred: [],
    retryQueue: [],
    accounts: {},
    phase: 'planning',
    paused: false,
    cancelRequested: false,
    approvedWaves: [],
    awaitingApproval: [],
    durations: { totalMs: 0, count: 0 },
  };
}

/** Resolves the selection into waves (an activity: it reads the fleet file) and records it in the state. */
async function planCampaignInto(st: CampaignState, input: FleetCampaignOptions): Promise<void> {
  upsertSearchAttributes({
    FleetCampaignId: [st.campaignId],
    FleetOperation: [input.operation],
    FleetState: ['planning'],
  });
  const plan = await planCampaign({ fleetFile: input.fleetFile, select: input.select, maxWaveSize: input.maxWaveSize });
  st.waves = plan.waves.map((w) => ({
    ...w,
    budget: failureBudgetFor(w.accountIds.length, input.failureBudget),
    forgiven: 0,
  }));
  st.windows = plan.windows;
  st.notSelected = plan.notSelected;
}

export function childId(campaignId: string, accountId: string, attempt: number): string {
  return attempt <= 1 ? `${campaignId}/${accountId}` : `${campaignId}/${accountId}/retry-${attempt - 1}`;
}

function isFailure(s: AccountState | undefined): boolean {
  return s !== undefined && s !== 'pending' && s !== 'running' && ACCOUNT_OUTCOMES[s] === 'failed';
}

function needsApproval(input: FleetCampaignOptions, st: CampaignState, w: number): boolean {
  if (input.approvalBefore === 'all') return true;
  const wave = st.waves[w];
  const firstOfRing = w === 0 || st.waves[w - 1].ring !== wave.ring;
  return firstOfRing && (input.approvalBefore as string[]).includes(wave.ring);
}

function buildStatus(st: CampaignState, input: FleetCampaignOptions, inFlight: number, window: number): CampaignStatus {
  const counts: Partial<Record<AccountState, number>> = {};
  const problems: AccountProblem[] = [];
  const waves: WaveStatus[] = st.waves.map((w, index) => {
    const wc: Partial<Record<AccountState, number>> = {};
    let failures = 0;
    for (const id of w.accountIds) {
      const rec = st.accounts[id];
      const s: AccountState = rec?.s ?? 'pending';
      wc[s] = (wc[s] ?? 0) + 1;
      counts[s] = (counts[s] ?? 0) + 1;
      if (isFailure(s)) failures++;
      if (rec && (isFailure(s) || s === 'skipped'))
        problems.push({ accountId: id, wave: w.name, state: s, reason: rec.r ?? s, errorType: rec.e, runbook: rec.rb });
    }
    const state: WaveStatus['state'] = index < st.waveIndex ? 'done' : index > st.waveIndex ? 'pending' : st.waveState;
    return {
      index,
      name: w.name,
      ring: w.ring,
      size: w.accountIds.length,
      counts: wc,
      failures,
      failureBudget: w.budget,
      state,
    };
  });
  const total = st.waves.reduce((n, w) => n + w.accountIds.length, 0);
  const remaining = (counts.pending ?? 0) + (counts.running ?? 0);
  const avg = st.durations.count ? st.durations.totalMs / st.durations.count / 1000 : null;
  const bakesLeft =
    Math.max(0, st.waves.length - 1 - st.waveIndex) * input.waveBakeSeconds +
    (st.waveState === 'baking' ? Math.max(0, ((st.bakeUntil ?? 0) - Date.now()) / 1000) : 0);
  return {
    campaignId: st.campaignId,
    operation: input.operation,
    targetVersion: input.upgrade?.targetVersion,
    plan: input.plan,
    phase: st.phase,
    phaseReason: st.phaseReason,
    currentWave: st.waves[st.waveIndex]?.name,
    total,
    counts,
    inFlight,
    window,
    waves,
    problems,
    notSelected: st.notSelected,
    awaitingApproval: st.awaitingApproval,
    startedAt: st.startedAt,
    etaSeconds: remaining === 0 ? 0 : estimateSecondsLeft(remaining, Math.max(1, window), avg, bakesLeft),
    run: st.run,
  };
}
