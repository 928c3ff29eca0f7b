/** How a schedule and its runs are shown (`schedule list`, `schedule describe`): pure formatting. */
import type { ScheduleDescription, ScheduleSpecDescription } from '@temporalio/client';

/** One run a schedule started, with how its campaign (or inventory) went. */
export type ScheduleRunView = {
  scheduledAt: string;
  takenAt: string;
  workflowId: string;
  /** Temporal's status of the workflow: RUNNING, COMPLETED, FAILED, CANCELLED, TERMINATED, … (NOT_FOUND once deleted) */
  status: string;
  /** In words: a campaign's phase (running ones: `running (awaiting-approval)`), else the status */
  outcome: string;
  /** Accounts per state (a campaign's counts; an inventory's succeeded/failed, and drifted for a drift inventory) */
  counts?: Record<string, number>;
  /** The target the run resolved (e.g. the version `latest` became) */
  target?: string;
  failure?: string;
};

export type ScheduleView = {
  name: string;
  namespace: string;
  what: string;
  workflowType: string;
  when: string;
  timezone?: string;
  overlap: string;
  catchupWindowSeconds: number;
  paused: boolean;
  note?: string;
  nextRuns: string[];
  runsTaken: number;
  skippedOverlap: number;
  missedCatchupWindow: number;
  running: string[];
  recentRuns: ScheduleRunView[];
  input: unknown;
};

const DAY_ORDER = ['SUNDAY', 'MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY'];

/** `2h30m` from seconds. */
export function formatDurationSeconds(total: number): string {
  const units: Array<[string, number]> = [
    ['d', 86_400],
    ['h', 3600],
    ['m', 60],
    ['s', 1],
  ];
  let rest = Math.round(total);
  let out = '';
  for (const [u, n] of units) {
    if (rest >= n) {
      out += `${Math.floor(rest / n)}${u}`;
      rest %= n;
    }
  }
  return out || '0s';
}

/** When a schedule fires, in words: `every 24h`, `cron 0 2 * * TUE`, `calendar {…}` (as Temporal describes it). */
export function describeWhen(spec: ScheduleSpecDescription, memoWhen?: string): string {
  if (memoWhen) return memoWhen;
  const parts: string[] = [];
  for (const i of spec.intervals ?? []) parts.push(`every ${formatDurationSeconds(i.every / 1000)}`);
  for (const c of spec.calendars ?? []) {
    const r = (xs: Array<{ start: unknown; end: unknown; step: number }>) =>
      xs.map((x) => (x.start === x.end ? String(x.start) : `${String(x.start)}-${String(x.end)}`)).join(',');
    const days = c.dayOfWeek.length === 1 && c.dayOfWeek[0].start === 'SUNDAY' && c.dayOfWeek[0].end === 'SATURDAY';
    parts.push(
      `at ${r(c.hour)}:${r(c.minute)}${days ? '' : ` on ${r(c.dayOfWeek)}`}`.replace(
        new RegExp(DAY_ORDER.join('|'), 'g'),
        (day) => day.slice(0, 3),
      ),
    );
  }
  return parts.join(' and ') || 'never';
}

export function overlapFlagOf(policy: string): string {
  return policy.toLowerCase().replace(/_/g, '-');
}

export function scheduleViewOf(d: ScheduleDescription, namespace: string, recentRuns: ScheduleRunView[]): ScheduleView {
  const memo = (d.memo?.fleetops ?? {}) as { what?: string; when?: string };
  return {
    name: d.scheduleId,
    namespace,
    what: memo.what ?? d.action.workflowType,
    workflowType: d.action.workflowType,
    when: describeWhen(d.spec, memo.when),
    ...(d.spec.timezone ? { timezone: d.spec.timezone } : {}),
    overlap: overlapFlagOf(d.policies.overlap ?? 'SKIP'),
    catchupWindowSeconds: Math.round(d.policies.catchupWindow / 1000),
    paused: d.state.paused,
    ...(d.state.note ? { note: d.state.note } : {}),
    nextRuns: d.info.nextActionTimes.map((t) => t.toISOString()),
    runsTaken: d.info.numActionsTaken,
    skippedOverlap: d.info.numActionsSkippedOverlap,
    missedCatchupWindow: d.info.numActionsMissedCatchupWindow,
    running: d.info.runningActions.map((a) => a.workflow.workflowId),
    recentRuns,
    input: d.action.args?.[0],
  };
}

function countsText(counts: Record<string, number> | undefined): string {
  const entries = Object.entries(counts ?? {}).filter(([, n]) => n > 0);
  return entries.length ? ` — ${entries.map(([k, n]) => `${n} ${k}`).join(', ')}` : '';
}

export function formatScheduleView(v: ScheduleView): string {
  const lines = [
    `schedule ${v.name} (namespace ${v.namespace})${v.paused ? `  ⏸ PAUSED${v.note ? `: ${v.note}` : ''}` : ''}`,
    `  runs:      ${v.what}`,
    `  when:      ${v.when}${v.timezone ? ` (${v.timezone})` : ''}`,
    `  overlap:   ${v.overlap}${v.overlap === 'skip' ? ' (a run due while the previous one still runs is skipped)' : ''}; catch-up window ${formatDurationSeconds(v.catchupWindowSeconds)}`,
    `  next runs: ${v.paused ? 'none while paused' : v.nextRuns.slice(0, 3).join(', ') || 'none'}`,
    `  taken ${v.runsTaken}, skipped (overlap) ${v.skippedOverlap}, missed (catch-up window) ${v.missedCatchupWindow}`,
  ];
  if (!v.paused && v.note) lines.push(`  note:      ${v.note}`);
  lines.push(v.recentRuns.length ? '  recent runs (scheduled time, campaign id, outcome):' : '  no run yet');
  for (const r of v.recentRuns) {
    lines.push(
      `    ${r.scheduledAt}  ${r.workflowId}  ${r.outcome}${r.target ? ` [${r.target}]` : ''}${countsText(r.counts)}${r.failure ? `: ${r.failure}` : ''}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

export function formatScheduleList(
  views: Array<Pick<ScheduleView, 'name' | 'what' | 'when' | 'paused' | 'nextRuns' | 'note'>>,
): string {
  if (views.length === 0) return 'no fleetops schedule\n';
  return (
    views
      .map(
        (v) =>
          `${v.name}  ${v.paused ? `PAUSED${v.note ? ` (${v.note})` : ''}` : `next ${v.nextRuns[0] ?? '—'}`}  ${v.when}  ${v.what}`,
      )
      .join('\n') + '\n'
  );
}
