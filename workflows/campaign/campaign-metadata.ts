/**
 * What the Temporal UI shows of a campaign (Temporal user metadata): a one-line static summary and
 * static details set by whoever starts it (the CLI, a schedule, or the operator in the UI's form),
 * and live current details (markdown) the campaign keeps current as it runs. Pure: used by the
 * workflow and the CLI alike. Only ids, names, versions and counts: never a secret value.
 */
import type { AccountSelector } from '../../fleet/select-accounts';
import { CONCURRENCY_MODE_MEANING } from './campaign-budget';
import type { ConcurrencyMode } from './campaign-input';
import type { CampaignStatus } from './campaign-messages';

/** Problems listed in the live details (the `status` query has them all). */
const MAX_PROBLEMS = 15;

/** The selection in words: `all accounts`, `rings canary, early · tag tier=gold · 3 accounts`. */
export function describeSelection(select: AccountSelector | undefined): string {
  if (!select) return 'all accounts';
  const parts = [
    ...(select.rings ? [`rings ${select.rings.join(', ')}`] : []),
    ...(select.regions ? [`regions ${select.regions.join(', ')}`] : []),
    ...Object.entries(select.tags ?? {}).map(([k, v]) => `tag ${k}=${v}`),
    ...(select.ids ? [select.ids.length === 1 ? `account ${select.ids[0]}` : `${select.ids.length} accounts`] : []),
  ];
  return parts.length ? parts.join(' · ') : 'all accounts';
}

/** One line: `upgrade → 1.1.0 · rings canary, early` (plan mode says so). */
export function campaignSummary(o: {
  operation: string;
  target?: string;
  select?: AccountSelector;
  plan?: boolean;
}): string {
  const target = o.target ? ` → ${o.target}` : '';
  return `${o.plan ? 'plan: ' : ''}${o.operation}${target} · ${describeSelection(o.select)}`;
}

/** The campaign's settings as markdown, for static details. */
export function campaignStaticDetails(o: {
  operation: string;
  target?: string;
  fleetFile: string;
  select?: AccountSelector;
  maxInFlight?: number;
  concurrencyMode?: ConcurrencyMode;
  failureBudget?: { maxFailures?: number; maxFailurePercent?: number; onExceeded?: string };
  approvalBefore?: readonly string[] | 'all';
  waveBakeSeconds?: number;
  plan?: boolean;
}): string {
  const mode = o.concurrencyMode ?? 'strict';
  const budget = o.failureBudget;
  const budgetText = budget
    ? [
        budget.maxFailures !== undefined ? `${budget.maxFailures} failures` : undefined,
        budget.maxFailurePercent !== undefined ? `${budget.maxFailurePercent}%` : undefined,
      ]
        .filter(Boolean)
        .join(' or ') + ` per wave, then ${budget.onExceeded ?? 'pause'}`
    : 'default (10% per wave, then pause)';
  const approval = o.approvalBefore === 'all' ? 'every wave' : o.approvalBefore?.join(', ') || 'none';
  return [
    `**${o.operation}**${o.target ? ` → \`${o.target}\`` : ''}${o.plan ? ' (plan only: nothing changes)' : ''}`,
    '',
    `- fleet file: \`${o.fleetFile}\``,
    `- selection: ${describeSelection(o.select)}`,
    `- accounts at once: at most ${o.maxInFlight ?? 20}`,
    `- concurrency mode: ${mode} (${CONCURRENCY_MODE_MEANING[mode]})`,
    `- failure budget: ${budgetText}`,
    `- approval before: ${approval}`,
    `- bake between waves: ${o.waveBakeSeconds ?? 0} s`,
    '',
    'Steer it with the signals `pause`, `resume`, `cancel`, `approve`, `retryAccount`, `skipAccount`;',
    'query `status`. Runbook: `docs/runbooks/start-and-steer-from-the-ui.md`.',
  ].join('\n');
}

/** Live details: phase, the wave table, the budget and the problems with their runbooks. */
export function campaignCurrentDetails(s: CampaignStatus): string {
  const done = s.total - (s.counts.pending ?? 0) - (s.counts.running ?? 0);
  const lines = [
    `**${campaignSummary({ operation: s.operation, target: s.target, plan: s.plan })}** — campaign \`${s.campaignId}\``,
    '',
    `**Phase: ${s.phase}**${s.phaseReason ? ` — ${s.phaseReason}` : ''}`,
    '',
    `${done} of ${s.total} accounts done · ${s.inFlight} in flight (${s.windowReason ?? `window ${s.window}`})` +
      (s.currentWave ? ` · current wave ${s.currentWave}` : '') +
      (s.etaSeconds ? ` · about ${formatSeconds(s.etaSeconds)} left` : '') +
      (s.run > 1 ? ` · run ${s.run}` : ''),
    '',
    `Accounts: ${formatCounts(s.counts) || 'none yet'}`,
    ...(s.concurrencyMode
      ? ['', `Concurrency mode: ${s.concurrencyMode} — ${CONCURRENCY_MODE_MEANING[s.concurrencyMode]}`]
      : []),
  ];
  if (s.waves.length) {
    // A list, not a markdown table: the UI renders tables without cell padding.
    lines.push('', '**Waves** (failures / budget)', '');
    for (const w of s.waves) {
      const finished = w.size - (w.counts.pending ?? 0) - (w.counts.running ?? 0);
      lines.push(
        `- ${w.name} (${w.ring}): ${w.state} · ${finished} of ${w.size} done · failures ${w.failures} / ${w.failureBudget}`,
      );
    }
  }
  if (s.awaitingApproval.length) lines.push('', `Waiting for approval: ${s.awaitingApproval.join(', ')}`);
  if (s.problems.length) {
    lines.push('', `**Problems (${s.problems.length})**`, '');
    for (const p of s.problems.slice(0, MAX_PROBLEMS)) {
      const runbook = p.runbook ? ` — runbook \`${p.runbook}\`` : '';
      lines.push(`- \`${p.accountId}\` ${p.state} (${p.wave}): ${oneLine(p.reason)}${runbook}`);
    }
    if (s.problems.length > MAX_PROBLEMS) lines.push(`- … ${s.problems.length - MAX_PROBLEMS} more: query \`status\``);
  }
  return lines.join('\n');
}

function formatCounts(counts: Partial<Record<string, number>>): string {
  return Object.entries(counts)
    .filter(([, n]) => n)
    .map(([state, n]) => `${state} ${n}`)
    .join(' · ');
}

function formatSeconds(s: number): string {
  if (s < 90) return `${Math.round(s)} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

/** Markdown-safe single line (a reason may carry newlines or table pipes). */
export function oneLine(text: string, max = 200): string {
  const flat = text.replace(/\s+/g, ' ').replace(/\|/g, '/').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/**
 * Static summary and details for a campaign's start options (CLI and schedules): the operation's
 * target comes from its registered `target` over the input's parameters.
 */
export function campaignStartMetadata(
  input: {
    operation: string;
    fleetFile: string;
    select?: AccountSelector;
    plan?: boolean;
    maxInFlight?: number;
    concurrencyMode?: ConcurrencyMode;
    failureBudget?: { maxFailures?: number; maxFailurePercent?: number; onExceeded?: string };
    approvalBefore?: readonly string[] | 'all';
    waveBakeSeconds?: number;
  },
  target: string | undefined,
): { staticSummary: string; staticDetails: string } {
  return {
    staticSummary: campaignSummary({ ...input, target }),
    staticDetails: campaignStaticDetails({ ...input, target }),
  };
}
