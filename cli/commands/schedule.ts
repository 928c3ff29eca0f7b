/**
 * `fleetops schedule …`: recurring campaigns and inventories on Temporal Schedules (no cron of our own).
 * A schedule starts `fleetCampaign` (or `fleetInventory`) with one JSON input checked here exactly as
 * `campaign start` (or `inventory`) checks it. Each run's workflow id — the campaign id — is
 * `<schedule name>-<scheduled time, RFC 3339 UTC>` (Temporal appends the scheduled time to the action's
 * workflow id), so runs never collide and a retried start of the same run never starts it twice.
 */
import {
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  WorkflowFailedError,
  WorkflowNotFoundError,
  type Client,
  type ScheduleDescription,
  type ScheduleHandle,
  type ScheduleOverlapPolicy,
} from '@temporalio/client';
import { FLEET_STATE } from '../../workflows/search-attributes';
import type { CampaignReport } from '../../workflows/campaign/campaign-status';
import type { FleetInventoryReport } from '../../workflows/fleet-inventory';
import { connectTemporalClient, TASK_QUEUE } from '../temporal-client';
import { CAMPAIGN_WORKFLOW_TYPE } from './campaign-client';
import { campaignMetadata } from './campaign-start';
import { InvalidScheduledAction, scheduledActionFromArgs } from './schedule-action';
import {
  checkScheduleName,
  InvalidScheduleFlags,
  OVERLAP_POLICIES,
  scheduleSpecFromFlags,
  type ScheduleSpecFlags,
} from './schedule-spec';
import {
  formatScheduleList,
  formatScheduleView,
  scheduleViewOf,
  type ScheduleRunView,
  type ScheduleView,
} from './schedule-view';

type Common = { local?: boolean; json?: boolean };
type Connected = Awaited<ReturnType<typeof connectTemporalClient>>;

/** Every problem with a `schedule create` request, one per line; nothing was created. */
export class InvalidScheduleRequest extends Error {
  override readonly name = 'InvalidScheduleRequest';
  constructor(readonly problems: string[]) {
    super(
      problems.length === 1
        ? `schedule not created: ${problems[0]}`
        : `schedule not created, ${problems.length} problems:\n${problems.map((p) => `  ${p}`).join('\n')}`,
    );
  }
}

export type ScheduleCreateOptions = ScheduleSpecFlags & Common & { paused?: boolean; note?: string };

/** `schedule create NAME … -- <campaign start …|inventory …>`: every check first, then one create call. */
export async function runScheduleCreate(name: string, words: string[], o: ScheduleCreateOptions): Promise<number> {
  const problems: string[] = [];
  const nameProblem = checkScheduleName(name);
  if (nameProblem) problems.push(nameProblem);
  let compiled: ReturnType<typeof scheduleSpecFromFlags> | undefined;
  try {
    compiled = scheduleSpecFromFlags(o);
  } catch (err) {
    if (!(err instanceof InvalidScheduleFlags)) throw err;
    problems.push(...err.problems);
  }
  let action: ReturnType<typeof scheduledActionFromArgs> | undefined;
  try {
    action = scheduledActionFromArgs(words);
  } catch (err) {
    problems.push(...(err instanceof InvalidScheduledAction ? err.problems : [(err as Error).message]));
  }
  if (problems.length || !compiled || !action) throw new InvalidScheduleRequest(problems);

  const when = o.every
    ? `every ${o.every}`
    : o.cron
      ? `cron "${o.cron.trim()}"`
      : `calendar ${(o.calendar ?? []).join(' and ')}`;
  return withClient(async ({ client, namespace }) => {
    let handle: ScheduleHandle;
    // Temporal appends `-<scheduled time>` to the workflow id for every run: the campaign id.
    const common = { type: 'startWorkflow' as const, taskQueue: TASK_QUEUE(), workflowId: name };
    const options = {
      scheduleId: name,
      spec: compiled.spec,
      policies: {
        overlap: compiled.overlap,
        ...(compiled.catchupWindowMs !== undefined ? { catchupWindow: compiled.catchupWindowMs } : {}),
      },
      state: { paused: Boolean(o.paused), ...(o.note ? { note: o.note } : {}) },
      memo: { fleetops: { what: action.what, when, command: words.join(' ') } },
    };
    try {
      handle =
        action.kind === 'campaign'
          ? await client.schedule.create({
              ...options,
              action: {
                ...common,
                workflowType: action.workflowType,
                args: [action.input],
                ...campaignMetadata(action.input),
              },
            })
          : await client.schedule.create({
              ...options,
              action: { ...common, workflowType: action.workflowType, args: [action.input] },
            });
    } catch (err) {
      if (err instanceof ScheduleAlreadyRunning)
        throw new InvalidScheduleRequest([
          `schedule name "${name}" is already in use in namespace ${namespace}: choose another name, or \`fleetops schedule delete ${name}\` first`,
        ]);
      throw err;
    }
    const view = await viewOf(client, namespace, await handle.describe(), false);
    if (o.json) process.stdout.write(`${JSON.stringify(view, null, 2)}\n`);
    else
      process.stdout.write(
        `created schedule ${name}: ${view.what}, ${view.when}${view.timezone ? ` (${view.timezone})` : ''}` +
          `${view.paused ? ', paused' : `, next run ${view.nextRuns[0] ?? '—'}`}\n` +
          `  each run is its own campaign: ${name}-<scheduled time>; see them with \`fleetops schedule describe ${name}\`\n`,
      );
    return 0;
  });
}

/** Fleetops' schedules (those starting fleetCampaign or fleetInventory), by name. */
export async function runScheduleList(o: Common): Promise<number> {
  return withClient(async ({ client }) => {
    const views: Array<Pick<ScheduleView, 'name' | 'what' | 'when' | 'paused' | 'nextRuns' | 'note'>> = [];
    for await (const s of client.schedule.list()) {
      const type = s.action?.workflowType;
      if (type !== CAMPAIGN_WORKFLOW_TYPE && type !== 'fleetInventory') continue;
      const memo = (s.memo?.fleetops ?? {}) as { what?: string; when?: string };
      views.push({
        name: s.scheduleId,
        what: memo.what ?? type,
        when: memo.when ?? '',
        paused: s.state.paused,
        ...(s.state.note ? { note: s.state.note } : {}),
        nextRuns: s.info.nextActionTimes.map((t) => t.toISOString()),
      });
    }
    views.sort((a, b) => a.name.localeCompare(b.name));
    process.stdout.write(o.json ? `${JSON.stringify(views, null, 2)}\n` : formatScheduleList(views));
    return 0;
  });
}

/** Next runs, counts (taken, skipped for overlap, missed) and each recent run with its campaign's outcome. */
export async function runScheduleDescribe(name: string, o: Common): Promise<number> {
  return withClient(async ({ client, namespace }) => {
    const view = await viewOf(client, namespace, await describeSchedule(client, namespace, name));
    process.stdout.write(o.json ? `${JSON.stringify(view, null, 2)}\n` : formatScheduleView(view));
    return 0;
  });
}

export type ControlAction =
  | { kind: 'pause'; note: string }
  | { kind: 'unpause'; note?: string }
  | { kind: 'trigger'; overlap?: string }
  | { kind: 'backfill'; from: string; to: string; overlap?: string }
  | { kind: 'delete' };

/** pause / unpause / trigger / backfill / delete; prints the schedule as it is afterwards. */
export async function runScheduleControl(name: string, action: ControlAction, o: Common): Promise<number> {
  // Flags are checked before anything is sent.
  let overlap: ScheduleOverlapPolicy | undefined;
  if ((action.kind === 'trigger' || action.kind === 'backfill') && action.overlap !== undefined) {
    overlap = { ...OVERLAP_POLICIES, 'buffer-all': 'BUFFER_ALL' as const }[action.overlap as 'skip'];
    if (!overlap)
      throw new Error(
        `--overlap "${action.overlap}": expected one of skip, buffer-one, buffer-all, cancel-other, allow-all`,
      );
  }
  let range: { start: Date; end: Date } | undefined;
  if (action.kind === 'backfill') range = backfillRange(action.from, action.to);

  return withClient(async ({ client, namespace }) => {
    const before = await describeSchedule(client, namespace, name);
    const handle = client.schedule.getHandle(name);
    let said: string;
    switch (action.kind) {
      case 'pause':
        await handle.pause(action.note);
        said = `paused schedule ${name}: ${action.note} (runs already started go on; \`fleetops schedule unpause ${name}\` resumes)`;
        break;
      case 'unpause':
        await handle.unpause(action.note ?? 'unpaused with fleetops schedule unpause');
        said = `unpaused schedule ${name}`;
        break;
      case 'trigger': {
        const policy: ScheduleOverlapPolicy = overlap ?? before.policies.overlap ?? 'SKIP';
        await handle.trigger(policy);
        const run = await waitForNewRun(handle, before);
        said = run
          ? `triggered schedule ${name}: started ${run}`
          : `triggered schedule ${name} (overlap ${policy.toLowerCase().replace(/_/g, '-')}): no run started within 10 s — skipped if the previous run still goes on`;
        break;
      }
      case 'backfill': {
        const policy: ScheduleOverlapPolicy = overlap ?? before.policies.overlap ?? 'SKIP';
        await handle.backfill({ start: range!.start, end: range!.end, overlap: policy });
        said =
          `backfilling schedule ${name}: every run due from ${range!.start.toISOString()} to ${range!.end.toISOString()} is started now` +
          ` (overlap ${policy.toLowerCase().replace(/_/g, '-')}; each run's campaign id has its own scheduled time)`;
        break;
      }
      case 'delete':
        await handle.delete();
        if (o.json) process.stdout.write(`${JSON.stringify({ name, namespace, deleted: true })}\n`);
        else process.stdout.write(`deleted schedule ${name} (campaigns it started are not touched)\n`);
        return 0;
    }
    const view = await viewOf(client, namespace, await handle.describe(), false);
    if (o.json) process.stdout.write(`${JSON.stringify(view, null, 2)}\n`);
    else process.stdout.write(`${said}\n`);
    return 0;
  });
}

/** `--from`/`--to` as ISO 8601 times (with a zone); `from` before `to`, `to` not in the future. */
export function backfillRange(from: string, to: string, now = new Date()): { start: Date; end: Date } {
  const problems: string[] = [];
  const at = (flag: string, raw: string) => {
    const ok = /^\d{4}-\d\d-\d\d(T\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d))?$/.test(raw.trim());
    const d = new Date(raw.trim());
    if (!ok || Number.isNaN(d.getTime())) {
      problems.push(
        `${flag} "${raw}": expected an ISO 8601 time with its zone, e.g. 2025-03-04T02:00:00Z (or a date 2025-03-04, UTC)`,
      );
      return undefined;
    }
    return d;
  };
  const start = at('--from', from);
  const end = at('--to', to);
  if (start && end && start >= end) problems.push(`--from ${from} is not before --to ${to}`);
  if (end && end > now) problems.push(`--to ${to} is in the future: future runs happen on their own`);
  if (problems.length) throw new Error(problems.join('\n'));
  return { start: start!, end: end! };
}

async function withClient(fn: (c: Connected) => Promise<number>): Promise<number> {
  const connected = await connectTemporalClient();
  try {
    return await fn(connected);
  } finally {
    await connected.close();
  }
}

async function describeSchedule(client: Client, namespace: string, name: string): Promise<ScheduleDescription> {
  try {
    return await client.schedule.getHandle(name).describe();
  } catch (err) {
    if (err instanceof ScheduleNotFoundError)
      throw new Error(`no schedule "${name}" in namespace ${namespace} (\`fleetops schedule list\` shows them)`);
    throw err;
  }
}

/** Polls until the schedule has taken an action it had not taken before (a trigger's run); its workflow id. */
async function waitForNewRun(handle: ScheduleHandle, before: ScheduleDescription): Promise<string | undefined> {
  const seen = new Set(before.info.recentActions.map((a) => a.action.workflow.workflowId));
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const d = await handle.describe();
    const fresh = d.info.recentActions.find((a) => !seen.has(a.action.workflow.workflowId));
    if (fresh) return fresh.action.workflow.workflowId;
    if (d.info.numActionsSkippedOverlap > before.info.numActionsSkippedOverlap) return undefined;
    await new Promise((r) => setTimeout(r, 250));
  }
  return undefined;
}

async function viewOf(
  client: Client,
  namespace: string,
  d: ScheduleDescription,
  withRuns = true,
): Promise<ScheduleView> {
  const runs = withRuns
    ? await Promise.all(
        [...d.info.recentActions]
          .reverse()
          .map((a) => runOf(client, a.scheduledAt, a.takenAt, a.action.workflow.workflowId)),
      )
    : [];
  return scheduleViewOf(d, namespace, runs);
}

/**
 * How one run went, from its workflow: a running campaign's phase (the FleetState search attribute,
 * no worker needed); a closed one's result (phase, counts per account state, target); a failed one's message.
 */
async function runOf(client: Client, scheduledAt: Date, takenAt: Date, workflowId: string): Promise<ScheduleRunView> {
  const base = { scheduledAt: scheduledAt.toISOString(), takenAt: takenAt.toISOString(), workflowId };
  const handle = client.workflow.getHandle(workflowId);
  let status: string;
  let phase: string | undefined;
  try {
    const desc = await handle.describe();
    status = desc.status.name;
    phase = desc.typedSearchAttributes.get(FLEET_STATE);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return { ...base, status: 'NOT_FOUND', outcome: 'not found (deleted?)' };
    throw err;
  }
  if (status === 'RUNNING') return { ...base, status, outcome: phase ? `running (${phase})` : 'running' };
  try {
    const result = (await handle.result()) as CampaignReport | FleetInventoryReport;
    if ('phase' in result) {
      const counts = Object.fromEntries(
        Object.entries(result.counts).filter(([, n]) => typeof n === 'number'),
      ) as Record<string, number>;
      return { ...base, status, outcome: result.phase, counts, ...(result.target ? { target: result.target } : {}) };
    }
    const counts = {
      succeeded: result.succeeded,
      failed: result.failed,
      ...(result.drift ? { drifted: result.drift.driftedAccounts } : {}),
    };
    return { ...base, status, outcome: 'completed', counts };
  } catch (err) {
    const failure = err instanceof WorkflowFailedError ? (err.cause?.message ?? err.message) : (err as Error).message;
    return { ...base, status, outcome: status.toLowerCase().replace(/_/g, ' '), failure: failure.split('\n')[0] };
  }
}
