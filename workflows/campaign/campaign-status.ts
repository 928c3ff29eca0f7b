import type { RegionResult } from '../operation/account-operation';
import { describeWindowLimit, estimateSecondsLeft, type WindowLimit } from './campaign-budget';
import type { FleetCampaignOptions } from './campaign-input';
import type { AccountProblem, AccountState, CampaignStatus, WaveStatus } from './campaign-messages';
import { isFailure, isProblem, type CampaignState } from './campaign-state';

export type CampaignReport = CampaignStatus & {
  /** Plan mode: what would change, per account and region. */
  planReport?: Array<{ accountId: string; regions: RegionResult[] }>;
};

/**
 * Most problems a status (query answer, update answer, final report) lists: about 200 bytes each, so a
 * 40,000-account campaign whose every account failed would answer 8 MB. The rest are counted in
 * `problemsOmitted`; every account's outcome stays on its child workflow (`FleetState` search attribute).
 */
export const MAX_STATUS_PROBLEMS = 1000;

/** What the `status` query and every update return: counts, waves, problems and an ETA. */
export function buildStatus(
  st: CampaignState,
  input: FleetCampaignOptions,
  target: string | undefined,
  inFlight: number,
  limit: WindowLimit,
  leaseWaits: ReadonlyMap<string, string> = new Map(),
): CampaignStatus {
  const { window } = limit;
  const windowReason = describeWindowLimit(limit);
  const counts: Partial<Record<AccountState, number>> = {};
  const problems: AccountProblem[] = [];
  let problemsOmitted = 0;
  const waves: WaveStatus[] = st.waves.map((w, index) => {
    const wc: Partial<Record<AccountState, number>> = {};
    let failures = 0;
    for (const id of w.accountIds) {
      const rec = st.accounts[id];
      const s: AccountState = rec?.s ?? 'pending';
      wc[s] = (wc[s] ?? 0) + 1;
      counts[s] = (counts[s] ?? 0) + 1;
      if (isFailure(s)) failures++;
      if (rec && isProblem(s) && problems.length >= MAX_STATUS_PROBLEMS) problemsOmitted++;
      else if (rec && isProblem(s))
        problems.push({ accountId: id, wave: w.name, state: s, reason: rec.r ?? s, errorType: rec.e, runbook: rec.rb });
    }
    const state: WaveStatus['state'] = index < st.waveIndex ? 'done' : index > st.waveIndex ? 'pending' : st.waveState;
    const size = w.accountIds.length;
    return { index, name: w.name, ring: w.ring, size, counts: wc, failures, failureBudget: w.budget, state };
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
    target,
    plan: input.plan,
    phase: st.phase,
    phaseReason: st.phaseReason,
    currentWave: st.waves[st.waveIndex]?.name,
    total,
    counts,
    inFlight,
    window,
    maxInFlight: limit.maxInFlight,
    concurrencyMode: limit.mode,
    ...(windowReason ? { windowReason } : {}),
    waves,
    problems,
    ...(problemsOmitted ? { problemsOmitted } : {}),
    notSelected: st.notSelected,
    ...(input.revert ? { revertOf: input.revert.of, leftAlone: input.revert.leftAlone } : {}),
    ...(input.allowDowngrade || input.revert ? { allowDowngrade: true } : {}),
    awaitingApproval: st.awaitingApproval,
    ...(leaseWaits.size
      ? {
          waitingForLease: [...leaseWaits].map(([accountId, campaignId]) => ({
            accountId,
            waitingFor: campaignId,
            reason: `waiting for ${campaignId}`,
          })),
        }
      : {}),
    startedAt: st.startedAt,
    etaSeconds: remaining === 0 ? 0 : estimateSecondsLeft(remaining, Math.max(1, window), avg, bakesLeft),
    run: st.run,
  };
}
