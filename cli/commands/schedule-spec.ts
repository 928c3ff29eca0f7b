/**
 * `fleetops schedule create` timing flags → a Temporal ScheduleSpec and policies. Pure (no I/O): every
 * bad flag is reported before anything is created, each naming the flag, the value and what is wrong.
 * Temporal checks the spec again when the schedule is created; these checks give the operator the words.
 */
import type { CalendarSpec, DayOfWeek, Month, Range, ScheduleOverlapPolicy, ScheduleSpec } from '@temporalio/client';
import { isValidTimeZone } from '../../fleet/fleet-schema';

export type ScheduleSpecFlags = {
  every?: string;
  cron?: string;
  calendar?: string[];
  timezone?: string;
  overlap?: string;
  catchupWindow?: string;
};

export type CompiledScheduleSpec = {
  spec: ScheduleSpec;
  overlap: ScheduleOverlapPolicy;
  /** undefined: Temporal's default (1 year) */
  catchupWindowMs?: number;
};

/** A schedule name: also the prefix of every run's campaign id (`<name>-<scheduled time>`, at most 100 chars). */
export const SCHEDULE_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** `--overlap` values → Temporal's overlap policies. The default is skip. */
export const OVERLAP_POLICIES = {
  skip: 'SKIP',
  'buffer-one': 'BUFFER_ONE',
  'cancel-other': 'CANCEL_OTHER',
  'allow-all': 'ALLOW_ALL',
} as const satisfies Record<string, ScheduleOverlapPolicy>;
export type OverlapFlag = keyof typeof OVERLAP_POLICIES;

/** One or more schedule flags were wrong; `problems` has one line per flag. */
export class InvalidScheduleFlags extends Error {
  override readonly name = 'InvalidScheduleFlags';
  constructor(readonly problems: string[]) {
    super(
      problems.length === 1
        ? `invalid schedule: ${problems[0]}`
        : `invalid schedule, ${problems.length} problems:\n${problems.map((p) => `  ${p}`).join('\n')}`,
    );
  }
}

export function checkScheduleName(name: string): string | undefined {
  return SCHEDULE_NAME_PATTERN.test(name)
    ? undefined
    : `schedule name "${name}": expected 1-64 letters, digits, . _ - starting with a letter or digit`;
}

const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86_400 } as const;

/** `90s`, `15m`, `24h`, `1d`, or combined `1h30m` → seconds; undefined if not a duration. */
export function parseDuration(raw: string): number | undefined {
  const s = raw.trim();
  if (!/^(\d+[smhd])+$/.test(s)) return undefined;
  let total = 0;
  for (const [, n, unit] of s.matchAll(/(\d+)([smhd])/g))
    total += Number(n) * UNIT_SECONDS[unit as keyof typeof UNIT_SECONDS];
  return total;
}

type FieldDef = { name: string; min: number; max: number; names?: readonly string[]; namesFrom?: number };
const MONTH_NAMES = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'] as const;
const DAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] as const;
const FIELDS = {
  second: { name: 'second', min: 0, max: 59 },
  minute: { name: 'minute', min: 0, max: 59 },
  hour: { name: 'hour', min: 0, max: 23 },
  dayOfMonth: { name: 'day of month', min: 1, max: 31 },
  month: { name: 'month', min: 1, max: 12, names: MONTH_NAMES, namesFrom: 1 },
  // 7 is Sunday too, as in cron
  dayOfWeek: { name: 'day of week', min: 0, max: 7, names: DAY_NAMES, namesFrom: 0 },
  year: { name: 'year', min: 1970, max: 2999 },
} satisfies Record<string, FieldDef>;
type FieldKey = keyof typeof FIELDS;
const CRON_FIELDS: FieldKey[] = ['minute', 'hour', 'dayOfMonth', 'month', 'dayOfWeek'];
const CRON_SHORTHANDS = ['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly'];

type NumRange = { start: number; end: number; step: number };

/**
 * One cron-style field: `*`, `*\/15`, `5`, `1-5`, `MON-FRI`, `0-30/10`, lists `1,15`. Returns its
 * ranges, or a problem naming the field and the part that is wrong.
 */
export function parseCalendarField(key: FieldKey, raw: string): NumRange[] | string {
  const f: FieldDef = FIELDS[key];
  const value = (part: string): number | string => {
    const upper = part.toUpperCase();
    const named = f.names?.indexOf(upper as never) ?? -1;
    if (named >= 0) return named + (f.namesFrom ?? 0);
    if (!/^\d+$/.test(part))
      return `${f.name} "${part}": expected a number${f.names ? ` or a name (${f.names.join(', ')})` : ''}`;
    const n = Number(part);
    return n < f.min || n > f.max ? `${f.name} "${part}" out of range ${f.min}-${f.max}` : n;
  };
  const ranges: NumRange[] = [];
  for (const item of raw.split(',')) {
    const m = /^([^/]+)(?:\/(\d+))?$/.exec(item.trim());
    if (!m) return `${f.name} "${item}": expected *, N, N-M, a list N,M or a step like */15`;
    const step = m[2] !== undefined ? Number(m[2]) : 1;
    if (step < 1) return `${f.name} "${item}": the step must be at least 1`;
    let start: number | string;
    let end: number | string;
    if (m[1] === '*') [start, end] = [f.min, key === 'dayOfWeek' ? 6 : f.max];
    else {
      const [a, b, more] = m[1].split('-');
      if (more !== undefined || a === '') return `${f.name} "${item}": expected N or N-M`;
      start = value(a);
      end = b !== undefined ? value(b) : m[2] !== undefined ? f.max : start;
    }
    if (typeof start === 'string') return start;
    if (typeof end === 'string') return end;
    if (end < start) return `${f.name} "${item}": the range ends before it starts`;
    ranges.push({ start, end, step });
  }
  return ranges;
}

/** A 5-field cron expression (minute hour day-of-month month day-of-week) or @daily-style shorthand. */
export function checkCron(raw: string): string | undefined {
  const s = raw.trim();
  const bad = (why: string) => `--cron "${raw}": ${why}`;
  if (/^(CRON_)?TZ=/.test(s)) return bad('give the time zone with --timezone, not in the expression');
  if (s.startsWith('@every')) return bad('use --every for intervals');
  if (s.startsWith('@'))
    return CRON_SHORTHANDS.includes(s) ? undefined : bad(`expected one of ${CRON_SHORTHANDS.join(', ')}`);
  const parts = s.split(/\s+/).filter(Boolean);
  if (parts.length !== 5)
    return bad(
      `expected 5 fields (minute hour day-of-month month day-of-week, e.g. "0 2 * * TUE"), got ${parts.length}`,
    );
  for (const [i, key] of CRON_FIELDS.entries()) {
    const r = parseCalendarField(key, parts[i]);
    if (typeof r === 'string') return bad(r);
  }
  return undefined;
}

const MONTHS: readonly Month[] = [
  'JANUARY',
  'FEBRUARY',
  'MARCH',
  'APRIL',
  'MAY',
  'JUNE',
  'JULY',
  'AUGUST',
  'SEPTEMBER',
  'OCTOBER',
  'NOVEMBER',
  'DECEMBER',
];
const DAYS: readonly DayOfWeek[] = ['SUNDAY', 'MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY'];

/**
 * `--calendar '{"dayOfWeek":"TUE","hour":2,"minute":30}'`: a JSON object of Temporal calendar fields
 * (second, minute, hour, dayOfMonth, month, year, dayOfWeek; each a number or a cron-style field like
 * "MON-FRI" or "*\/15"; an optional comment). Unset: second/minute/hour 0, the others every value.
 */
export function parseCalendar(raw: string): CalendarSpec | string {
  const bad = (why: string) => `--calendar '${raw}': ${why}`;
  let obj: unknown;
  try {
    obj = JSON.parse(raw);
  } catch {
    return bad('expected a JSON object like {"dayOfWeek":"TUE","hour":2,"minute":30}');
  }
  if (!obj || typeof obj !== 'object' || Array.isArray(obj))
    return bad('expected a JSON object like {"dayOfWeek":"TUE","hour":2,"minute":30}');
  const spec: CalendarSpec = {};
  for (const [k, v] of Object.entries(obj)) {
    if (k === 'comment') {
      if (typeof v !== 'string') return bad('comment: expected text');
      spec.comment = v;
      continue;
    }
    if (!(k in FIELDS)) return bad(`unknown field "${k}" (fields: ${Object.keys(FIELDS).join(', ')}, comment)`);
    if (typeof v !== 'number' && typeof v !== 'string') return bad(`${k}: expected a number or a text like "1-5"`);
    const key = k as FieldKey;
    const ranges = parseCalendarField(key, String(v));
    if (typeof ranges === 'string') return bad(ranges);
    if (key === 'month') spec.month = ranges.map((r) => ({ ...r, start: MONTHS[r.start - 1], end: MONTHS[r.end - 1] }));
    else if (key === 'dayOfWeek') {
      // 7 is Sunday: split a range reaching 7 so Temporal sees 0-6 only
      spec.dayOfWeek = ranges.flatMap((r): Array<Range<DayOfWeek>> => {
        const within = { ...r, start: DAYS[Math.min(r.start, 6)], end: DAYS[Math.min(r.end, 6)] };
        if (r.end < 7) return [within];
        const sunday: Range<DayOfWeek> = { start: 'SUNDAY', end: 'SUNDAY', step: 1 };
        return r.start === 7 ? [sunday] : [within, sunday];
      });
    } else spec[key] = ranges;
  }
  return spec;
}

/** Builds the spec and policies; throws InvalidScheduleFlags listing every bad flag. */
export function scheduleSpecFromFlags(flags: ScheduleSpecFlags): CompiledScheduleSpec {
  const problems: string[] = [];
  const spec: ScheduleSpec = {};
  const given = [
    flags.every !== undefined && '--every',
    flags.cron !== undefined && '--cron',
    flags.calendar?.length && '--calendar',
  ].filter(Boolean);
  if (given.length === 0) problems.push('when: give one of --every 24h, --cron "0 2 * * TUE" or --calendar JSON');
  if (given.length > 1) problems.push(`when: give one of --every, --cron, --calendar (got ${given.join(' and ')})`);

  if (flags.every !== undefined) {
    const seconds = parseDuration(flags.every);
    if (seconds === undefined || seconds < 1)
      problems.push(`--every "${flags.every}": expected an interval like 90s, 15m, 24h, 7d or 1h30m`);
    else if (seconds > 366 * 86_400) problems.push(`--every "${flags.every}": at most 366d`);
    else spec.intervals = [{ every: seconds * 1000 }];
  }
  if (flags.cron !== undefined) {
    const problem = checkCron(flags.cron);
    if (problem) problems.push(problem);
    else spec.cronExpressions = [flags.cron.trim()];
  }
  if (flags.calendar?.length) {
    const calendars: CalendarSpec[] = [];
    for (const c of flags.calendar) {
      const parsed = parseCalendar(c);
      if (typeof parsed === 'string') problems.push(parsed);
      else calendars.push(parsed);
    }
    spec.calendars = calendars;
  }
  if (flags.timezone !== undefined) {
    if (!isValidTimeZone(flags.timezone))
      problems.push(`--timezone "${flags.timezone}": expected an IANA time zone like Europe/London or UTC`);
    else if (flags.every !== undefined && flags.cron === undefined && !flags.calendar?.length)
      problems.push(
        `--timezone "${flags.timezone}": applies to --cron and --calendar only (an --every interval is absolute)`,
      );
    else spec.timezone = flags.timezone;
  }

  const overlapFlag = (flags.overlap ?? 'skip').trim();
  const overlap = OVERLAP_POLICIES[overlapFlag as OverlapFlag];
  if (!overlap)
    problems.push(`--overlap "${flags.overlap}": expected one of ${Object.keys(OVERLAP_POLICIES).join(', ')}`);

  let catchupWindowMs: number | undefined;
  if (flags.catchupWindow !== undefined) {
    const seconds = parseDuration(flags.catchupWindow);
    if (seconds === undefined)
      problems.push(`--catchup-window "${flags.catchupWindow}": expected a duration like 10m, 1h, 1d`);
    else if (seconds < 10)
      problems.push(`--catchup-window "${flags.catchupWindow}": at least 10s (Temporal's minimum)`);
    else catchupWindowMs = seconds * 1000;
  }

  if (problems.length) throw new InvalidScheduleFlags(problems);
  return { spec, overlap: overlap!, ...(catchupWindowMs !== undefined ? { catchupWindowMs } : {}) };
}
