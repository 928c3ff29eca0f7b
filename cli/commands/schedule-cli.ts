/**
 * The `fleetops schedule …` commands: flags and help. The implementations (schedule.ts) load on use:
 * they pull in the Temporal client, which `fleetops --help` does not need.
 */
import type { Command } from 'commander';
import { loadStackConfig } from '../../stack/stack-config';
import { useLocalStackEnv } from '../local-env';
import type { ScheduleCreateOptions } from './schedule';

type Common = { local?: boolean; json?: boolean };
const impl = () => import('./schedule');

const collect = (v: string, acc: string[] = []) => [...acc, v];
/** Commander calls actions with (...positional, options, command): applies --local, sets the exit code. */
const run =
  <O extends Common>(fn: (positional: [unknown, ...unknown[]], o: O) => Promise<number>) =>
  async (...args: unknown[]) => {
    const cmd = args[args.length - 1] as Command;
    const o = cmd.opts<O>();
    if (o.local) useLocalStackEnv(loadStackConfig());
    process.exitCode = await fn(args.slice(0, -2) as [unknown, ...unknown[]], o);
  };

export function registerScheduleCommands(program: Command): Command {
  const schedule = program
    .command('schedule')
    .description(
      'recurring campaigns and inventories on Temporal Schedules; each run is its own campaign <name>-<scheduled time>',
    );
  const common = (c: Command) =>
    c
      .option('--local', 'use the local stack for every setting not set in the environment')
      .option('--json', 'machine-readable output only on stdout');

  common(
    schedule
      .command('create <name> [command...]')
      .usage(
        '<name> (--every 24h | --cron "0 2 * * TUE" | --calendar JSON) [options] -- <campaign start …|inventory …>',
      )
      .description(
        'create a schedule; the command after -- is checked exactly as `campaign start` / `inventory` check it, before the schedule exists',
      )
      .option('--every <interval>', 'an interval: 90s, 15m, 24h, 7d, 1h30m')
      .option(
        '--cron <expression>',
        'cron, 5 fields: minute hour day-of-month month day-of-week ("0 2 * * TUE"), or @daily…',
      )
      .option(
        '--calendar <json>',
        'Temporal calendar fields as JSON: {"dayOfWeek":"TUE","hour":2,"minute":30} (repeatable)',
        collect,
      )
      .option('--timezone <iana>', 'time zone of --cron / --calendar (default UTC), e.g. Europe/London')
      .option(
        '--overlap <policy>',
        'a run due while the previous one still runs: skip (default), buffer-one, cancel-other, allow-all',
      )
      .option('--catchup-window <duration>', 'how late a run missed during an outage may still start (default 1 year)')
      .option('--paused', 'create it paused')
      .option('--note <text>', "the schedule's note (why it is paused)"),
  ).action(
    run<ScheduleCreateOptions>(async ([name, words], o) =>
      (await impl()).runScheduleCreate(String(name), (words as string[]) ?? [], o),
    ),
  );

  common(schedule.command('list').description("fleetops' schedules: paused or next run, when, what")).action(
    run<Common>(async (_, o) => (await impl()).runScheduleList(o)),
  );
  common(
    schedule
      .command('describe <name>')
      .description('next runs, runs taken / skipped (overlap) / missed, recent runs with each campaign’s outcome'),
  ).action(run<Common>(async ([name], o) => (await impl()).runScheduleDescribe(String(name), o)));
  common(
    schedule
      .command('pause <name>')
      .description('no new run starts until unpause (running campaigns go on)')
      .requiredOption('--note <text>', 'why (shown by describe and list)'),
  ).action(
    run<Common & { note: string }>(async ([name], o) =>
      (await impl()).runScheduleControl(String(name), { kind: 'pause', note: o.note }, o),
    ),
  );
  common(
    schedule.command('unpause <name>').description('resume a paused schedule').option('--note <text>', 'a new note'),
  ).action(
    run<Common & { note?: string }>(async ([name], o) =>
      (await impl()).runScheduleControl(String(name), { kind: 'unpause', note: o.note }, o),
    ),
  );
  common(
    schedule
      .command('trigger <name>')
      .description('start a run now (paused or not); its campaign id has the time of the trigger')
      .option('--overlap <policy>', "override the schedule's overlap policy for this run (e.g. allow-all)"),
  ).action(
    run<Common & { overlap?: string }>(async ([name], o) =>
      (await impl()).runScheduleControl(String(name), { kind: 'trigger', overlap: o.overlap }, o),
    ),
  );
  common(
    schedule
      .command('backfill <name>')
      .description('start now every run that was due between --from and --to (a missed window)')
      .requiredOption('--from <time>', 'ISO 8601, e.g. 2025-03-04T00:00:00Z')
      .requiredOption('--to <time>', 'ISO 8601, not in the future')
      .option('--overlap <policy>', "override the schedule's overlap policy: buffer-all runs every missed run in turn"),
  ).action(
    run<Common & { from: string; to: string; overlap?: string }>(async ([name], o) =>
      (await impl()).runScheduleControl(
        String(name),
        { kind: 'backfill', from: o.from, to: o.to, overlap: o.overlap },
        o,
      ),
    ),
  );
  common(
    schedule.command('delete <name>').description('delete the schedule (campaigns it started are not touched)'),
  ).action(run<Common>(async ([name], o) => (await impl()).runScheduleControl(String(name), { kind: 'delete' }, o)));

  return schedule;
}
