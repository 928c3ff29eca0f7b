import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { ScheduleNotFoundError, type Client } from '@temporalio/client';
import { runSimSeed } from '../../cli/commands/sim-seed';
import { runScheduleCreate } from '../../cli/commands/schedule';
import type { ScheduleView } from '../../cli/commands/schedule-view';
import { startTestWorker, testClient, testStack } from '../support/test-stack';
import { fleetopsCli, runbookCommands } from '../support/fleetops-cli';

// `fleetops schedule …` on Temporal Schedules, against the real engine on the local stack.
const cfg = testStack();
const TASK_QUEUE = 'schedules-test';
const RUN_ID = /^(.+)-(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)$/;
const suffix = Date.now().toString(36); // schedule names unique per test run (the SQLite file outlives runs)
let fleetFile: string;
let worker: Awaited<ReturnType<typeof startTestWorker>>;
let client: Client;
let closeClient: () => Promise<void>;
const created: string[] = [];

beforeAll(async () => {
  const dir = path.join(cfg.stateDir, `schedules-${suffix}`);
  fs.mkdirSync(dir, { recursive: true });
  ({ file: fleetFile } = await runSimSeed({
    accounts: 3,
    idBase: 610_000_000_000,
    out: path.join(dir, 'fleet.yaml'),
    quiet: true,
  }));
  worker = await startTestWorker(TASK_QUEUE);
  ({ client, close: closeClient } = await testClient(cfg));
});

afterAll(async () => {
  for (const name of created)
    await client?.schedule
      .getHandle(name)
      .delete()
      .catch(() => undefined);
  // Campaigns the schedules started that still wait (approval gates): terminate, so nothing lingers.
  for await (const w of client.workflow.list({
    query: `TaskQueue = "${TASK_QUEUE}" AND ExecutionStatus = "Running"`,
  }))
    await client.workflow
      .getHandle(w.workflowId)
      .terminate('schedules test done')
      .catch(() => undefined);
  await worker?.stop();
  await closeClient?.();
});

/** Runs `fleetops …` as an operator would (never throws). */
const fleetops = fleetopsCli(TASK_QUEUE);

async function describeJson(name: string): Promise<ScheduleView> {
  const r = await fleetops('schedule', 'describe', name, '--json');
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as ScheduleView;
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function exists(name: string): Promise<boolean> {
  try {
    await client.schedule.getHandle(name).describe();
    return true;
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) return false;
    throw err;
  }
}

const campaign = (...more: string[]) => ['campaign', 'start', '--operation', 'upgrade', '--fleet', fleetFile, ...more];

describe('fleetops schedule', () => {
  it('refuses bad specs, bad campaign options and a name in use, naming what is wrong, and creates nothing', async () => {
    const bad: Array<[string, Parameters<typeof runScheduleCreate>[2], string[], RegExp]> = [
      [
        'bad-cron',
        { cron: '0 25 * * TUE' },
        campaign('--version', '1.1.0'),
        /--cron "0 25 \* \* TUE": hour "25" out of range 0-23/,
      ],
      ['bad-cron-fields', { cron: '0 2 * *' }, campaign('--version', '1.1.0'), /--cron "0 2 \* \*": expected 5 fields/],
      [
        'bad-tz',
        { cron: '0 2 * * TUE', timezone: 'Europe/Londn' },
        campaign('--version', '1.1.0'),
        /--timezone "Europe\/Londn": expected an IANA time zone/,
      ],
      ['bad-every', { every: '10x' }, campaign('--version', '1.1.0'), /--every "10x": expected an interval like 90s/],
      [
        'bad-option',
        { every: '1h' },
        campaign('--version', '1.1.0', '--failure-budget', '12x'),
        /--failure-budget "12x": expected a number of accounts/,
      ],
      ['bad-version', { every: '1h' }, campaign('--version', '1.1'), /--version "1.1": expected semver like 1.4.2/],
      [
        'bad-id',
        { every: '1h' },
        campaign('--version', '1.1.0', '--campaign-id', 'x'),
        /--campaign-id: each run's campaign id is <schedule name>-<scheduled time>/,
      ],
      ['no-when', {}, campaign('--version', '1.1.0'), /when: give one of --every/],
    ];
    for (const [name, flags, words, message] of bad) {
      const scheduleName = `${name}-${suffix}`;
      await expect(runScheduleCreate(scheduleName, words, flags), name).rejects.toThrow(message);
      expect(await exists(scheduleName), `${name} created nothing`).toBe(false);
    }

    // The CLI says the same on stderr, exit 1.
    const cli = await fleetops(
      'schedule',
      'create',
      `bad-cli-${suffix}`,
      '--cron',
      '0 2 * * TUX',
      '--',
      ...campaign('--version', '1.1.0'),
    );
    expect(cli.code).toBe(1);
    expect(cli.stderr).toContain('--cron "0 2 * * TUX": day of week "TUX": expected a number or a name');
    expect(await exists(`bad-cli-${suffix}`)).toBe(false);

    // A name in use is refused; the first schedule is left as it was.
    const name = `dup-${suffix}`;
    created.push(name);
    const first = await fleetops(
      'schedule',
      'create',
      name,
      '--every',
      '1h',
      '--paused',
      '--note',
      'first',
      '--',
      ...campaign('--version', '1.1.0'),
    );
    expect(first.code, first.stderr).toBe(0);
    const dup = await fleetops('schedule', 'create', name, '--every', '2h', '--', 'inventory', '--fleet', fleetFile);
    expect(dup.code).toBe(1);
    expect(dup.stderr).toContain(`schedule name "${name}" is already in use`);
    const kept = await client.schedule.getHandle(name).describe();
    expect(kept.action.workflowType).toBe('fleetCampaign');
    expect(kept.state.note).toBe('first');
  });

  it('every 5 s: each run its own campaign <name>-<time>; overlapping runs skipped; describe shows outcomes; pause, trigger, delete', async () => {
    const name = `slow-${suffix}`;
    created.push(name);
    // Every campaign waits at its approval gate: it runs until someone approves or cancels it.
    const made = await fleetops(
      'schedule',
      'create',
      name,
      '--every',
      '5s',
      '--',
      ...campaign('--version', '1.1.0', '--approve-before', 'all'),
    );
    expect(made.code, made.stderr).toBe(0);
    expect(made.stdout).toContain(`created schedule ${name}`);

    // The first run starts; the runs due while it waits are skipped, not started.
    const first = await until('a run and a skipped one', async () => {
      const d = await client.schedule.getHandle(name).describe();
      return d.info.recentActions.length >= 1 && d.info.numActionsSkippedOverlap >= 1 ? d : undefined;
    });
    expect(first.info.recentActions).toHaveLength(1);
    const firstId = first.info.recentActions[0].action.workflow.workflowId;
    const [, prefix, time] = RUN_ID.exec(firstId) ?? [];
    expect(prefix).toBe(name);
    expect(new Date(time).getTime()).toBe(first.info.recentActions[0].scheduledAt.getTime());
    // The campaign id inside is the workflow id (the engine's default): its children are <id>/<account>.
    await until('the first campaign at its gate', async () => {
      const v = await describeJson(name);
      return v.recentRuns[0]?.outcome === 'running (awaiting-approval)' ? v : undefined;
    });
    let view = await describeJson(name);
    expect(view.recentRuns).toEqual([
      expect.objectContaining({ workflowId: firstId, status: 'RUNNING', outcome: 'running (awaiting-approval)' }),
    ]);
    expect(view.skippedOverlap).toBeGreaterThanOrEqual(1);
    expect(view.overlap).toBe('skip');
    const text = await fleetops('schedule', 'describe', name);
    expect(text.stdout).toMatch(/skipped \(overlap\) [1-9]/);
    expect(text.stdout).toContain(`${firstId}  running (awaiting-approval)`);

    // Once it closes, the next due time starts a new campaign with its own id.
    const cancel = await fleetops('campaign', 'cancel', firstId, '--reason', 'test');
    expect(cancel.code, cancel.stderr).toBe(0);
    const second = await until('a second run', async () => {
      const d = await client.schedule.getHandle(name).describe();
      return d.info.recentActions.find((a) => a.action.workflow.workflowId !== firstId);
    });
    const secondId = second.action.workflow.workflowId;
    expect(secondId).toMatch(RUN_ID);
    expect(secondId).not.toBe(firstId);
    view = await describeJson(name);
    expect(view.recentRuns.map((r) => [r.workflowId, r.outcome])).toEqual([
      [secondId, expect.stringMatching(/^running/)],
      [firstId, 'cancelled'],
    ]);

    // Pause: no new run while paused, the note is shown.
    const paused = await fleetops('schedule', 'pause', name, '--note', 'INC-1 freeze');
    expect(paused.code, paused.stderr).toBe(0);
    await fleetops('campaign', 'cancel', secondId, '--reason', 'test');
    const takenWhenPaused = (await client.schedule.getHandle(name).describe()).info.numActionsTaken;
    await new Promise((r) => setTimeout(r, 6000));
    view = await describeJson(name);
    expect(view).toMatchObject({ paused: true, note: 'INC-1 freeze', runsTaken: takenWhenPaused });
    expect((await fleetops('schedule', 'list')).stdout).toContain(`${name}  PAUSED (INC-1 freeze)`);

    // Trigger starts one run now, paused or not.
    const trig = await fleetops('schedule', 'trigger', name, '--json');
    expect(trig.code, trig.stderr).toBe(0);
    view = JSON.parse(trig.stdout) as ScheduleView;
    expect(view.runsTaken).toBe(takenWhenPaused + 1);
    const triggered = (await client.schedule.getHandle(name).describe()).info.recentActions.at(-1)!;
    expect(triggered.action.workflow.workflowId).toMatch(RUN_ID);
    expect([firstId, secondId]).not.toContain(triggered.action.workflow.workflowId);

    // Unpause, then delete: gone; the campaigns it started are untouched.
    expect((await fleetops('schedule', 'unpause', name)).code).toBe(0);
    expect((await client.schedule.getHandle(name).describe()).state.paused).toBe(false);
    const del = await fleetops('schedule', 'delete', name);
    expect(del.code, del.stderr).toBe(0);
    expect(await exists(name)).toBe(false);
    const gone = await fleetops('schedule', 'describe', name);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain(`no schedule "${name}"`);
    expect((await client.workflow.getHandle(firstId).describe()).status.name).toBe('COMPLETED');
  });

  it('--version latest runs the newest release published after the schedule was made; backfill starts missed runs with their own times', async () => {
    const name = `latest-${suffix}`;
    created.push(name);
    const made = await fleetops(
      'schedule',
      'create',
      name,
      '--every',
      '1h',
      '--paused',
      '--note',
      'test',
      '--',
      ...campaign('--version', 'latest', '--plan'),
    );
    expect(made.code, made.stderr).toBe(0);
    const stored = (await client.schedule.getHandle(name).describe()).action.args?.[0] as {
      upgrade: { targetVersion: string };
    };
    expect(stored.upgrade.targetVersion).toBe('latest');

    // Published after the schedule exists; a lower version published later does not win.
    expect((await fleetops('release', 'publish', '1.1.0', '--fleet', fleetFile)).code).toBe(0);
    expect((await fleetops('release', 'publish', '1.0.5', '--fleet', fleetFile)).code).toBe(0);
    const trig = await fleetops('schedule', 'trigger', name);
    expect(trig.code, trig.stderr).toBe(0);
    const run = await until(
      'the triggered run to close',
      async () => {
        const v = await describeJson(name);
        return v.recentRuns[0] && v.recentRuns[0].status !== 'RUNNING' ? v.recentRuns[0] : undefined;
      },
      60_000,
    );
    expect(run).toMatchObject({ status: 'COMPLETED', outcome: 'completed', target: '1.1.0', counts: { planned: 3 } });

    // The next release is picked up by the next run, without touching the schedule.
    expect((await fleetops('release', 'publish', '1.2.0', '--fleet', fleetFile)).code).toBe(0);
    // Backfill the last three hours: three runs, each with its own scheduled (whole-hour) time.
    const hour = 3_600_000;
    const to = new Date(Math.floor(Date.now() / hour) * hour - 1000);
    const from = new Date(to.getTime() - 3 * hour);
    const back = await fleetops(
      'schedule',
      'backfill',
      name,
      '--from',
      from.toISOString(),
      '--to',
      to.toISOString(),
      '--overlap',
      'allow-all',
    );
    expect(back.code, back.stderr).toBe(0);
    const backfilled = await until(
      'three backfilled runs to close',
      async () => {
        const v = await describeJson(name);
        const runs = v.recentRuns.filter((r) => r.workflowId !== run.workflowId);
        return runs.length === 3 && runs.every((r) => r.status !== 'RUNNING') ? runs : undefined;
      },
      60_000,
    );
    for (const r of backfilled) {
      expect(r).toMatchObject({ outcome: 'completed', target: '1.2.0' });
      expect(r.workflowId).toMatch(new RegExp(`^${name}-\\d{4}-\\d\\d-\\d\\dT\\d\\d:00:00Z$`));
      expect(new Date(RUN_ID.exec(r.workflowId)![2]).getTime()).toBe(new Date(r.scheduledAt).getTime());
    }
    expect(new Set(backfilled.map((r) => r.workflowId)).size).toBe(3);
  });

  it("the schedule runbooks' commands work as written", async () => {
    const name = `runbook-${suffix}`;
    created.push(name);
    const made = await fleetops(
      'schedule',
      'create',
      name,
      '--every',
      '1h',
      '--',
      ...campaign('--version', '1.1.0', '--approve-before', 'all'),
    );
    expect(made.code, made.stderr).toBe(0);
    // A campaign of the schedule runs (at its gate) and a run due meanwhile is skipped.
    const started = JSON.parse((await fleetops('schedule', 'trigger', name, '--json')).stdout) as ScheduleView;
    expect(started.runsTaken).toBe(1);
    const skipped = JSON.parse((await fleetops('schedule', 'trigger', name, '--json')).stdout) as ScheduleView;
    expect(skipped).toMatchObject({ runsTaken: 1, skippedOverlap: 1 });
    const hour = 3_600_000;
    const to = new Date(Math.floor(Date.now() / hour) * hour - 1000);
    const values: Record<string, () => Promise<string>> = {
      '<schedule-name>': async () => name,
      '<campaign-id>': async () =>
        (await client.schedule.getHandle(name).describe()).info.runningActions[0].workflow.workflowId,
      '<from>': async () => new Date(to.getTime() - hour).toISOString(),
      '<to>': async () => to.toISOString(),
    };
    for (const page of ['schedule-run-skipped.md', 'schedule-paused.md', 'schedule-backfill-missed-window.md']) {
      const lines = runbookCommands(page);
      expect(lines.length, page).toBeGreaterThan(0);
      for (const line of lines) {
        const words: string[] = [];
        for (const m of line.slice('npx fleetops '.length).matchAll(/"([^"]*)"|(\S+)/g)) {
          let w = m[1] ?? m[2];
          for (const [k, v] of Object.entries(values)) if (w.includes(k)) w = w.replace(k, await v());
          words.push(w);
        }
        const r = await fleetops(...words);
        expect(r.code, `${page}: ${line}\n${r.stderr}`).toBe(0);
      }
    }
    // They did what they say: the waiting campaign was cancelled, a new run started, the schedule ends paused.
    const end = await describeJson(name);
    expect(end).toMatchObject({ paused: true, note: 'incident INC-123: no fleet changes' });
    expect(end.recentRuns.map((r) => r.outcome)).toContain('cancelled');
    expect(end.runsTaken).toBeGreaterThanOrEqual(2);
  });
});
