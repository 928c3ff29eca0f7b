/** Text rendering of a campaign's status (the `status` query or the final result). Pure. */
import { CONCURRENCY_MODE_MEANING } from '../../workflows/campaign/campaign-budget';
import { amiGroupWouldChange, formatAmiPlanLine, isAmiGroupResult } from './ami-plan-format';
import { COMMON_OUTCOMES, outcomeKind, type RegionResult } from '../../workflows/operation/account-operation';
import { operations } from '../../workflows/operations';
import {
  notSelectedReason,
  problemType,
  tallyBy,
  type CampaignSnapshot,
} from '../../workflows/campaign/campaign-snapshot';
import { UNHEALTHY_BEFORE } from '../../workflows/operation/health-before';
import type {
  AccountState,
  CampaignPhase,
  CampaignStatus,
  WaveStatus,
} from '../../workflows/campaign/campaign-messages';

/** The workflow result: the final status, with a per-account preview in plan mode. */
export type CampaignResult = CampaignStatus & { planReport?: PlanReport };
export type PlanReport = Array<{ accountId: string; regions: RegionResult[] }>;

export const TERMINAL_PHASES: readonly CampaignPhase[] = ['completed', 'cancelled', 'failed'];
/** Done outcomes of every operation first, then the common ones, then running and pending. */
const STATE_ORDER: AccountState[] = [
  ...operations.all().map((op) => op.doneOutcome),
  ...(Object.keys(COMMON_OUTCOMES) as AccountState[]),
  'running',
  'pending',
];

const kindOf = (s: string) => (s === 'running' || s === 'pending' ? undefined : outcomeKind(s));
const sum = (counts: Partial<Record<string, number>>, pick: (state: string) => boolean) =>
  Object.entries(counts ?? {}).reduce((n, [state, c]) => n + (pick(state) ? (c ?? 0) : 0), 0);

/**
 * Accounts finished (any outcome), ok, failed (counts against budgets) and skipped (neutral outcomes,
 * unhealthy-before among them: `unhealthy` says how many of those were left alone for an alarm).
 */
export function tally(counts: Partial<Record<AccountState, number>>): {
  done: number;
  ok: number;
  failed: number;
  skipped: number;
  unhealthy: number;
  running: number;
  pending: number;
} {
  return {
    done: sum(counts, (s) => kindOf(s) !== undefined),
    ok: sum(counts, (s) => kindOf(s) === 'ok'),
    failed: sum(counts, (s) => kindOf(s) === 'failed'),
    skipped: sum(counts, (s) => kindOf(s) === 'neutral'),
    unhealthy: counts[UNHEALTHY_BEFORE] ?? 0,
    running: counts.running ?? 0,
    pending: counts.pending ?? 0,
  };
}

/** 0 when the campaign completed with no failed account; 1 otherwise (paused, cancelled, failed, failures). */
export function campaignExitCode(status: CampaignStatus | undefined): 0 | 1 {
  if (!status || status.phase !== 'completed') return 1;
  return tally(status.counts).failed === 0 ? 0 : 1;
}

export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  return `${Math.floor(s / 86_400)}d${String(Math.floor((s % 86_400) / 3600)).padStart(2, '0')}h`;
}

export function progressBar(done: number, total: number, width = 30): string {
  const fraction = total > 0 ? Math.min(1, done / total) : 0;
  const filled = Math.round(fraction * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ${Math.floor(fraction * 100)}%`;
}

const utc = (iso: string) =>
  Number.isNaN(Date.parse(iso))
    ? iso
    : new Date(iso)
        .toISOString()
        .replace('T', ' ')
        .replace(/\.\d+Z$/, 'Z');

function table(rows: string[][], rightAligned: Set<number>): string[] {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) =>
    r
      .map((cell, c) => (rightAligned.has(c) ? cell.padStart(widths[c]) : cell.padEnd(widths[c])))
      .join('  ')
      .trimEnd(),
  );
}

export type StatusViewOptions = {
  /** For "started … ago". */
  now?: Date;
  /** Failing accounts listed (the rest summarised); default 50. */
  maxProblems?: number;
  /** Per-wave table; default true. */
  waves?: boolean;
  /** Plan-mode accounts listed; default 50. */
  maxPlanAccounts?: number;
};

/** Header: operation, phase and reason, current wave, counts, window, ETA. */
export function formatCampaignHeader(s: CampaignStatus | CampaignSnapshot, now = new Date()): string[] {
  const t = tally(s.counts);
  const started = Date.parse(s.startedAt);
  const elapsed = Number.isNaN(started) ? '' : ` (${formatDuration((now.getTime() - started) / 1000)} ago)`;
  const waveIndex = s.currentWave ? (s.waves ?? []).findIndex((w) => w.name === s.currentWave) : -1;
  const counts = STATE_ORDER.filter((st) => (s.counts?.[st] ?? 0) > 0).map((st) => `${st} ${s.counts[st]}`);
  const eta = s.etaSeconds != null && !TERMINAL_PHASES.includes(s.phase) ? `  eta ${formatDuration(s.etaSeconds)}` : '';
  return [
    `campaign ${s.campaignId} — ${s.operation}${s.target ? ` to ${s.target}` : ''}${s.plan ? ' (plan: preview only, nothing changes)' : ''}, started ${utc(s.startedAt)}${elapsed}${s.run > 1 ? `, run ${s.run}` : ''}`,
    `  phase     ${s.phase}${s.phaseReason ? ` — ${s.phaseReason}` : ''}`,
    ...(s.currentWave
      ? [`  wave      ${s.currentWave}${waveIndex >= 0 ? ` (${waveIndex + 1} of ${s.waves.length})` : ''}`]
      : []),
    `  progress  ${progressBar(t.done, s.total)}${eta}`,
    `  accounts  ${counts.join(' · ') || 'none yet'}`,
    `  window    ${s.inFlight} in flight, ${s.windowReason ?? `window ${s.window}${s.maxInFlight ? ` of ${s.maxInFlight}` : ''}`}`,
    ...(s.concurrencyMode ? [`  mode      ${s.concurrencyMode} — ${CONCURRENCY_MODE_MEANING[s.concurrencyMode]}`] : []),
    ...('asOf' in s ? [formatAsOf(s.asOf, now)] : []),
  ];
}

/**
 * When a memo snapshot was taken. The campaign writes it at least every 5 s while anything changes,
 * so an old one means nothing changed since — or no worker is running the campaign.
 */
export function formatAsOf(asOf: string, now = new Date()): string {
  const age = Math.max(0, (now.getTime() - Date.parse(asOf)) / 1000);
  const stale = age > 60 ? ' — nothing changed since, or no worker runs the campaign' : '';
  return `  as of     ${utc(asOf)} (${formatDuration(age)} ago${stale}; --live asks the campaign itself)`;
}

export function formatWaveTable(waves: readonly WaveStatus[]): string[] {
  if (!waves.length) return ['  no waves yet'];
  const rows = [['WAVE', 'RING', 'SIZE', 'STATE', 'PENDING', 'RUNNING', 'OK', 'SKIPPED', 'FAILED', 'BUDGET']];
  for (const w of waves) {
    const t = tally(w.counts ?? {});
    const used = w.failures >= w.failureBudget && w.failureBudget > 0;
    rows.push([
      w.name,
      w.ring,
      String(w.size),
      w.state,
      String(t.pending),
      String(t.running),
      String(t.ok),
      String(t.skipped),
      String(t.failed),
      `${w.failures}/${w.failureBudget}${used ? ' used up' : ''}`,
    ]);
  }
  return table(rows, new Set([2, 4, 5, 6, 7, 8])).map((l) => `  ${l}`);
}

export function formatProblems(s: CampaignStatus | CampaignSnapshot, max = 50): string[] {
  const problems = s.problems ?? [];
  const omitted = 'omitted' in s ? s.omitted : undefined;
  const listed = problems.length + (omitted?.problems ?? 0);
  const total = listed + (s.problemsOmitted ?? 0);
  if (!total) return [];
  const byType = omitted?.problemTypes ?? tallyBy(problems, problemType);
  const lines = [
    `problems (${total}): ${Object.entries(byType)
      .map(([k, n]) => `${k} × ${n}`)
      .join(', ')}${s.problemsOmitted ? ` (of the first ${listed})` : ''}`,
  ];
  for (const p of problems.slice(0, max)) {
    const mark = kindOf(p.state) === 'failed' ? '✖' : '–';
    lines.push(`  ${mark} ${p.accountId}  ${p.wave}  ${p.state}${p.errorType ? `  ${p.errorType}` : ''}: ${p.reason}`);
    if (p.runbook) lines.push(`      runbook: ${p.runbook}`);
  }
  const shown = Math.min(max, problems.length);
  if (listed > shown) lines.push(`  … and ${listed - shown} more (campaign status ${s.campaignId} --json lists them)`);
  if (s.problemsOmitted)
    lines.push(
      `  … and ${s.problemsOmitted} more not in the status (list them: temporal workflow list --query 'FleetCampaignId = "${s.campaignId}" AND FleetState != "running"')`,
    );
  return lines;
}

/** What an operator can do next, as commands. */
export function formatNextSteps(s: CampaignStatus): string[] {
  const id = s.campaignId;
  const cmd = (rest: string) => `npx fleetops campaign ${rest}`;
  const lines: string[] = [];
  if (s.awaitingApproval?.length) {
    const shown = s.awaitingApproval.slice(0, 10).join(', ');
    lines.push(
      `awaiting approval of a stateful change (${s.awaitingApproval.length}): ${shown}${s.awaitingApproval.length > 10 ? ', …' : ''}`,
    );
    lines.push(
      `  review, then: ${cmd(`approve ${id} --account <id>`)}  or  ${cmd(`skip ${id} <id>`)}  (docs/runbooks/stateful-change-approval.md)`,
    );
  }
  const waits = s.waitingForLease ?? [];
  if (waits.length) {
    lines.push(`waiting for another campaign's lease on the account (${waits.length}):`);
    for (const w of waits.slice(0, 10)) lines.push(`  ${w.accountId}: ${w.reason}`);
    if (waits.length > 10) lines.push(`  … and ${waits.length - 10} more`);
    lines.push(`  past leaseWaitSeconds they are skipped (skipped-busy); ${cmd(`retry ${id} <id>`)} later`);
  }
  if (s.phase === 'awaiting-approval' && s.currentWave && !s.awaitingApproval?.length) {
    lines.push(`wave ${s.currentWave} waits for approval: ${cmd(`approve ${id} --wave ${s.currentWave}`)}`);
  }
  if (s.phase === 'paused') {
    const budget = /budget/i.test(s.phaseReason ?? '') ? '  (docs/runbooks/failure-budget-exceeded.md)' : '';
    lines.push(`paused: ${cmd(`resume ${id}`)}  or  ${cmd(`cancel ${id} --reason "…"`)}${budget}`);
  }
  if (s.phase === 'waiting-for-window')
    lines.push("waiting for accounts' maintenance windows (start with --ignore-maintenance-windows to override)");
  return lines;
}

export function formatNotSelected(s: CampaignStatus | CampaignSnapshot): string[] {
  const ns = s.notSelected ?? [];
  const omitted = 'omitted' in s ? s.omitted : undefined;
  const revert = s.revertOf
    ? [
        `revert of ${s.revertOf}: left alone ${formatLeftAlone(
          s.leftAlone?.length ?? 0,
          omitted?.leftAloneStates ?? tallyBy(s.leftAlone ?? [], (l) => l.state),
          omitted?.leftAlone ?? 0,
        )}`,
      ]
    : [];
  const total = ns.length + (omitted?.notSelected ?? 0);
  if (!total) return revert;
  const byReason = omitted?.notSelectedReasons ?? tallyBy(ns, notSelectedReason);
  return [
    ...revert,
    `not selected: ${total} (${Object.entries(byReason)
      .map(([r, n]) => `${r} ${n}`)
      .join(', ')})`,
  ];
}

/** `3 (rolled-back 1, not-selected 2)`: the accounts the reverted campaign did not change, by their state there. */
function formatLeftAlone(listed: number, byState: Record<string, number>, omitted: number): string {
  const n = listed + omitted;
  return `${n}${
    n
      ? ` (${Object.entries(byState)
          .map(([st, k]) => `${st} ${k}`)
          .join(', ')})`
      : ''
  }`;
}

/**
 * Plan mode: what would change, fleet-wide; accounts with replacements, removals or approvals listed;
 * for an AMI rollout every group (current image → target image, whether it can be rolled back).
 */
export function formatPlanReport(report: PlanReport, max = 50): string[] {
  let changing = 0;
  let current = 0;
  let failed = 0;
  let unhealthy = 0;
  const notable: string[] = [];
  for (const a of report) {
    const regions = a.regions ?? [];
    const firing = regions.filter((r) => r.outcome === UNHEALTHY_BEFORE);
    if (firing.length) {
      unhealthy++;
      for (const r of firing)
        notable.push(
          `  – ${a.accountId} ${r.region}${r.group ? ` group ${r.group}` : ''}  ${r.reason ?? 'would skip: unhealthy'}`,
        );
      continue;
    }
    const changes = regions.filter(
      (r) =>
        (r.plan && r.plan.added + r.plan.modified + r.plan.replaced + r.plan.removed > 0) || amiGroupWouldChange(r),
    );
    if (regions.some((r) => kindOf(r.outcome) === 'failed')) failed++;
    else if (changes.length) changing++;
    else current++;
    for (const r of regions) {
      if (isAmiGroupResult(r)) {
        notable.push(formatAmiPlanLine(a.accountId, r));
        continue;
      }
      const p = r.plan;
      const risky = p && (p.replaced > 0 || p.removed > 0 || p.needsApproval.length > 0);
      if (risky || kindOf(r.outcome) === 'failed') {
        const what = p
          ? `+${p.added} ~${p.modified} replace ${p.replaced} remove ${p.removed}${p.needsApproval.length ? `  needs approval: ${p.needsApproval.join(', ')}` : ''}`
          : '';
        notable.push(
          `  ${kindOf(r.outcome) === 'failed' ? '✖' : '▲'} ${a.accountId} ${r.region}${r.fromVersion ? ` ${r.fromVersion} → ${r.toVersion ?? '?'}` : ''}  ${r.outcome}${what ? `  ${what}` : ''}${r.reason ? `  ${r.reason}` : ''}`,
        );
      }
    }
  }
  const lines = [
    `plan: ${report.length} accounts — ${changing} would change, ${current} unchanged, ${failed} could not be planned${unhealthy ? `, ${unhealthy} would skip: unhealthy` : ''}`,
  ];
  lines.push(...notable.slice(0, max));
  if (notable.length > max) lines.push(`  … and ${notable.length - max} more (--json lists every account)`);
  return lines;
}

/** The whole view: header, wave table, failing accounts, approvals, next steps, plan report. */
export function formatCampaignStatus(s: CampaignResult | CampaignSnapshot, o: StatusViewOptions = {}): string {
  const lines = formatCampaignHeader(s, o.now);
  if (o.waves !== false) lines.push('', ...formatWaveTable(s.waves ?? []));
  const problems = formatProblems(s, o.maxProblems ?? 50);
  if (problems.length) lines.push('', ...problems);
  const rest = [...formatNotSelected(s), ...formatNextSteps(s)];
  if (rest.length) lines.push('', ...rest);
  if ('planReport' in s && s.planReport) lines.push('', ...formatPlanReport(s.planReport, o.maxPlanAccounts ?? 50));
  return `${lines.join('\n')}\n`;
}

/** One line for logs (watch off a terminal). */
export function formatCampaignLine(s: CampaignStatus, now = new Date()): string {
  const t = tally(s.counts);
  const eta = s.etaSeconds != null && !TERMINAL_PHASES.includes(s.phase) ? ` eta ${formatDuration(s.etaSeconds)}` : '';
  return `${now.toISOString().slice(11, 19)} ${s.campaignId} ${s.phase}${s.currentWave ? ` ${s.currentWave}` : ''} ${t.done}/${s.total} ok ${t.ok} failed ${t.failed} skipped ${t.skipped} in flight ${s.inFlight}${eta}`;
}

/** Final summary after the campaign closed. */
export function formatFinalSummary(s: CampaignStatus): string {
  const t = tally(s.counts);
  const verdict = campaignExitCode(s) === 0 ? '✔' : '✖';
  const unhealthy = t.unhealthy ? ` (${t.unhealthy} unhealthy-before: alarm in ALARM, not touched)` : '';
  return `${verdict} campaign ${s.campaignId} ${s.phase}${s.phaseReason ? ` (${s.phaseReason})` : ''}: ${t.ok} ok, ${t.failed} failed, ${t.skipped} skipped${unhealthy}, ${t.pending + t.running} not done, of ${s.total}\n`;
}
