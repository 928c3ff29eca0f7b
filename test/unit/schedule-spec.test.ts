import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  checkCron,
  checkScheduleName,
  InvalidScheduleFlags,
  parseCalendar,
  parseDuration,
  scheduleSpecFromFlags,
  type ScheduleSpecFlags,
} from '../../cli/commands/schedule-spec';
import { backfillRange } from '../../cli/commands/schedule';
import { scheduledActionFromArgs } from '../../cli/commands/schedule-action';
import { simulatedFleet } from '../../cli/sim/simulated-fleet';
import { stringifyFleet } from '../../fleet/load-fleet';
import { compareSemver, newestRelease, releaseFileOf, withRelease } from '../../fleet/release-channel';
import { parseReleaseFile } from '../../fleet/release-file';

const problemsOf = (flags: ScheduleSpecFlags): string[] => {
  try {
    scheduleSpecFromFlags(flags);
  } catch (err) {
    if (err instanceof InvalidScheduleFlags) return err.problems;
    throw err;
  }
  return [];
};

describe('schedule spec flags', () => {
  it('--every: intervals with units, combined; anything else named', () => {
    expect(parseDuration('24h')).toBe(86_400);
    expect(parseDuration('1h30m')).toBe(5400);
    expect(parseDuration('90s')).toBe(90);
    expect(parseDuration('24')).toBeUndefined();
    expect(parseDuration('1.5h')).toBeUndefined();
    expect(scheduleSpecFromFlags({ every: '20s' })).toEqual({
      spec: { intervals: [{ every: 20_000 }] },
      overlap: 'SKIP',
    });
    expect(problemsOf({ every: '0s' })).toEqual(['--every "0s": expected an interval like 90s, 15m, 24h, 7d or 1h30m']);
    expect(problemsOf({ every: '400d' })).toEqual(['--every "400d": at most 366d']);
  });

  it('--cron: 5 fields, names, ranges, steps and @shorthands; each bad part named', () => {
    for (const ok of ['0 2 * * TUE', '*/15 * * * *', '30 1-5/2 1,15 JAN-MAR mon-fri', '0 0 * * 7', '@daily'])
      expect(checkCron(ok), ok).toBeUndefined();
    expect(checkCron('0 25 * * TUE')).toBe('--cron "0 25 * * TUE": hour "25" out of range 0-23');
    expect(checkCron('60 2 * * *')).toBe('--cron "60 2 * * *": minute "60" out of range 0-59');
    expect(checkCron('0 2 0 * *')).toBe('--cron "0 2 0 * *": day of month "0" out of range 1-31');
    expect(checkCron('0 2 * 13 *')).toBe('--cron "0 2 * 13 *": month "13" out of range 1-12');
    expect(checkCron('0 2 * * TUX')).toMatch(/day of week "TUX": expected a number or a name \(SUN, MON/);
    expect(checkCron('0 2 * *')).toMatch(/expected 5 fields .* got 4/);
    expect(checkCron('0 5-2 * * *')).toBe('--cron "0 5-2 * * *": hour "5-2": the range ends before it starts');
    expect(checkCron('*/0 * * * *')).toBe('--cron "*/0 * * * *": minute "*/0": the step must be at least 1');
    expect(checkCron('CRON_TZ=Europe/London 0 2 * * *')).toMatch(/with --timezone/);
    expect(checkCron('@every 5m')).toMatch(/use --every/);
    expect(checkCron('@fortnightly')).toMatch(/expected one of @yearly/);
    expect(scheduleSpecFromFlags({ cron: ' 0 2 * * TUE ', timezone: 'Europe/London' }).spec).toEqual({
      cronExpressions: ['0 2 * * TUE'],
      timezone: 'Europe/London',
    });
  });

  it('--calendar: JSON of Temporal calendar fields, converted to ranges', () => {
    expect(parseCalendar('{"dayOfWeek":"TUE,THU","hour":2,"minute":30,"month":"*/3","comment":"x"}')).toEqual({
      dayOfWeek: [
        { start: 'TUESDAY', end: 'TUESDAY', step: 1 },
        { start: 'THURSDAY', end: 'THURSDAY', step: 1 },
      ],
      hour: [{ start: 2, end: 2, step: 1 }],
      minute: [{ start: 30, end: 30, step: 1 }],
      month: [{ start: 'JANUARY', end: 'DECEMBER', step: 3 }],
      comment: 'x',
    });
    expect(parseCalendar('{"dayOfWeek":"7"}')).toEqual({ dayOfWeek: [{ start: 'SUNDAY', end: 'SUNDAY', step: 1 }] });
    expect(parseCalendar('{"hour":24}')).toBe(`--calendar '{"hour":24}': hour "24" out of range 0-23`);
    expect(parseCalendar('{"hours":2}')).toMatch(/unknown field "hours"/);
    expect(parseCalendar('tuesday')).toMatch(/expected a JSON object/);
  });

  it('--timezone, --overlap, --catchup-window and the choice of one "when", all problems at once', () => {
    expect(problemsOf({ cron: '0 2 * * *', timezone: 'Europe/Londn' })).toEqual([
      '--timezone "Europe/Londn": expected an IANA time zone like Europe/London or UTC',
    ]);
    expect(problemsOf({ every: '1h', timezone: 'UTC' })).toEqual([
      '--timezone "UTC": applies to --cron and --calendar only (an --every interval is absolute)',
    ]);
    expect(problemsOf({ every: '1h', overlap: 'queue' })).toEqual([
      '--overlap "queue": expected one of skip, buffer-one, cancel-other, allow-all',
    ]);
    expect(problemsOf({ every: '1h', catchupWindow: '5s' })).toEqual([
      '--catchup-window "5s": at least 10s (Temporal\'s minimum)',
    ]);
    expect(problemsOf({})).toEqual(['when: give one of --every 24h, --cron "0 2 * * TUE" or --calendar JSON']);
    expect(problemsOf({ every: '1h', cron: '0 2 * * *' })).toEqual([
      'when: give one of --every, --cron, --calendar (got --every and --cron)',
    ]);
    expect(problemsOf({ every: 'x', timezone: 'Nowhere', overlap: 'y' })).toHaveLength(3);
    expect(scheduleSpecFromFlags({ every: '1d', overlap: 'buffer-one', catchupWindow: '1h' })).toEqual({
      spec: { intervals: [{ every: 86_400_000 }] },
      overlap: 'BUFFER_ONE',
      catchupWindowMs: 3_600_000,
    });
  });

  it('schedule names fit a campaign id once the scheduled time is appended', () => {
    expect(checkScheduleName('nightly-inventory')).toBeUndefined();
    expect(checkScheduleName('a'.repeat(64))).toBeUndefined();
    expect(checkScheduleName('a'.repeat(65))).toMatch(/expected 1-64/);
    expect(checkScheduleName('nightly/inventory')).toMatch(/expected 1-64 letters/);
  });

  it('backfill --from/--to: ISO times with a zone, in order, not in the future', () => {
    const now = new Date('2025-03-05T12:00:00Z');
    expect(backfillRange('2025-03-04T00:00:00Z', '2025-03-05', now)).toEqual({
      start: new Date('2025-03-04T00:00:00Z'),
      end: new Date('2025-03-05T00:00:00Z'),
    });
    expect(() => backfillRange('yesterday', '2025-03-05T00:00:00Z', now)).toThrow(
      /--from "yesterday": expected an ISO 8601/,
    );
    expect(() => backfillRange('2025-03-04T02:00', '2025-03-05T00:00:00Z', now)).toThrow(/--from .*with its zone/);
    expect(() => backfillRange('2025-03-05T00:00:00Z', '2025-03-04T00:00:00Z', now)).toThrow(/is not before --to/);
    expect(() => backfillRange('2025-03-04T00:00:00Z', '2025-03-06T00:00:00Z', now)).toThrow(/in the future/);
  });

  it('the command after --: campaign start or inventory, refusing what a scheduled run cannot take', () => {
    expect(() => scheduledActionFromArgs([])).toThrow(/what to run: give it after --/);
    expect(() => scheduledActionFromArgs(['campaign', 'status', 'x'])).toThrow(/expected "campaign start OPTIONS"/);
    expect(() => scheduledActionFromArgs(['campaign', 'start', '--operation', 'upgrade', '--watch'])).toThrow(
      /--watch: a scheduled run has no terminal/,
    );
    expect(() => scheduledActionFromArgs(['inventory', '--workflow-id=x'])).toThrow(
      /--workflow-id: each run's workflow id/,
    );
    expect(() => scheduledActionFromArgs(['campaign', 'start', '--version', '1.0.0'])).toThrow(
      /required option '--operation <operation>' not specified/,
    );
    expect(() => scheduledActionFromArgs(['inventory', '--bogus'])).toThrow(/inventory: unknown option '--bogus'/);
  });

  it('a scheduled inventory takes --drift and --max-secret-age-days like inventory', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetops-schedule-'));
    try {
      const fleet = path.join(dir, 'fleet.yaml');
      fs.writeFileSync(fleet, stringifyFleet(simulatedFleet(3)));
      const action = scheduledActionFromArgs(['inventory', '--fleet', fleet, '--drift', '--max-secret-age-days', '30']);
      expect(action.kind).toBe('inventory');
      expect(action.input).toMatchObject({ drift: true, maxSecretAgeDays: 30 });
      expect(action.what).toMatch(/^drift inventory of 3 accounts/);
      const plain = scheduledActionFromArgs(['inventory', '--fleet', fleet]);
      expect(plain.input).not.toHaveProperty('drift');
      expect(plain.input).not.toHaveProperty('maxSecretAgeDays');
      expect(() =>
        scheduledActionFromArgs(['inventory', '--fleet', fleet, '--drift', '--max-secret-age-days', 'soon']),
      ).toThrow(/--max-secret-age-days expects a number of days > 0.*got "soon"/);
      expect(() => scheduledActionFromArgs(['inventory', '--fleet', fleet, '--max-secret-age-days', '30'])).toThrow(
        /--max-secret-age-days: only with --drift/,
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a scheduled campaign takes --concurrency-mode like campaign start', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetops-schedule-'));
    try {
      const fleet = path.join(dir, 'fleet.yaml');
      fs.writeFileSync(fleet, stringifyFleet(simulatedFleet(5)));
      const args = ['campaign', 'start', '--operation', 'upgrade', '--version', '1.1.0', '--fleet', fleet];
      const soft = scheduledActionFromArgs([...args, '--concurrency-mode', 'soft']);
      expect(soft.kind).toBe('campaign');
      expect(soft.input).toMatchObject({ concurrencyMode: 'soft', maxInFlight: 20 });
      expect(scheduledActionFromArgs(args).input).toMatchObject({ concurrencyMode: 'strict' });
      expect(() => scheduledActionFromArgs([...args, '--concurrency-mode', 'loose'])).toThrow(
        /--concurrency-mode "loose": .*strict.*soft/,
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('release channels', () => {
  const at = '2025-01-01T00:00:00.000Z';
  it('latest is the highest version (semver precedence), not the last published', () => {
    let file = withRelease({}, 'pipeline', { version: '1.10.0', publishedAt: at });
    file = withRelease(file, 'pipeline', { version: '1.9.0', publishedAt: at });
    file = withRelease(file, 'pipeline', { version: '1.11.0-rc.1', publishedAt: at });
    expect(newestRelease(file, 'pipeline')?.version).toBe('1.11.0-rc.1');
    file = withRelease(file, 'pipeline', { version: '1.11.0', publishedAt: at });
    expect(newestRelease(file, 'pipeline')?.version).toBe('1.11.0');
    expect(newestRelease(file, 'image')).toBeUndefined();
    expect(() => withRelease(file, 'pipeline', { version: '1.9.0', publishedAt: at })).toThrow(/already published/);
  });

  it('compareSemver orders pre-releases before their release', () => {
    const sorted = [
      '1.0.0',
      '1.0.0-alpha',
      '1.0.0-alpha.1',
      '1.0.0-beta',
      '1.0.0-alpha.beta',
      '0.9.9',
      '1.0.0-beta.11',
      '1.0.0-beta.2',
    ];
    expect([...sorted].sort(compareSemver)).toEqual([
      '0.9.9',
      '1.0.0-alpha',
      '1.0.0-alpha.1',
      '1.0.0-alpha.beta',
      '1.0.0-beta',
      '1.0.0-beta.2',
      '1.0.0-beta.11',
      '1.0.0',
    ]);
  });

  it('releases.yaml sits beside the fleet file; bad entries are named', () => {
    expect(releaseFileOf('/srv/fleetops/fleet.yaml')).toBe('/srv/fleetops/releases.yaml');
    expect(parseReleaseFile('', 'r.yaml')).toEqual({});
    expect(() => parseReleaseFile('pipeline:\n  - version: "1.2"\n    publishedAt: x\n', 'r.yaml')).toThrow(
      /r\.yaml: [\s\S]*expected semver like 1\.4\.2/,
    );
  });
});
