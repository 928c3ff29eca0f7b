/**
 * Maintenance windows: an account is worked on only inside its window. A window opens at local
 * wall-clock time `start` (in `timezone`) on each of `days`, and stays open for `durationMinutes`
 * of real elapsed time (so it may cross midnight, and a DST change shortens or lengthens it on the
 * wall clock). A start time that does not exist locally (DST spring-forward gap) moves forward by
 * the gap; an ambiguous one (fall-back) is the earlier instant.
 *
 * Pure and deterministic: the time is a parameter; local time comes from Intl (fine in workflows).
 */
import { WEEKDAYS, type MaintenanceWindow, type Weekday } from './fleet-schema';

const MINUTE = 60_000;
const DAY = 86_400_000;

/** True when `at` is inside the window; no window means always. */
export function isInMaintenanceWindow(window: MaintenanceWindow | undefined, at: Date): boolean {
  if (!window) return true;
  const t = at.getTime();
  const duration = window.durationMinutes * MINUTE;
  const daysBack = Math.ceil(window.durationMinutes / 1440) + 1;
  return windowStarts(window, at, -daysBack, 0).some((start) => start <= t && t < start + duration);
}

/** The next moment the account may be worked on: `at` itself when inside the window, else the next start. */
export function nextMaintenanceWindowStart(window: MaintenanceWindow | undefined, at: Date): Date {
  if (isInMaintenanceWindow(window, at)) return new Date(at.getTime());
  const t = at.getTime();
  // A window occurs at least weekly; look one day beyond a week for DST and date-line slack.
  const next = windowStarts(window as MaintenanceWindow, at, 0, 8).find((start) => start >= t);
  if (next === undefined) throw new Error(`no maintenance window start found within 8 days of ${at.toISOString()}`);
  return new Date(next);
}

/** Start instants (ms, ascending) of the window on local dates `from`..`to` days from at's local date. */
function windowStarts(window: MaintenanceWindow, at: Date, from: number, to: number): number[] {
  const [hour, minute] = window.start.split(':').map(Number);
  const days = new Set<Weekday>(window.days);
  const today = wallClock(at.getTime(), window.timezone);
  const starts: number[] = [];
  for (let k = from; k <= to; k++) {
    const date = new Date(Date.UTC(today.year, today.month - 1, today.day + k));
    if (!days.has(WEEKDAY_OF_UTC_DAY[date.getUTCDay()])) continue;
    const wall = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate(), hour, minute);
    starts.push(instantOfWallClock(wall, window.timezone, at.getTime()));
  }
  return starts;
}

/** getUTCDay() (0 = Sunday) → our weekday names. */
const WEEKDAY_OF_UTC_DAY: readonly Weekday[] = [WEEKDAYS[6], ...WEEKDAYS.slice(0, 6)];

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

type WallClock = { year: number; month: number; day: number; hour: number; minute: number; second: number };

function wallClock(instant: number, timeZone: string): WallClock {
  const parts: Record<string, number> = {};
  for (const part of formatter(timeZone).formatToParts(instant)) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  return {
    year: parts.year,
    month: parts.month,
    day: parts.day,
    hour: parts.hour === 24 ? 0 : parts.hour,
    minute: parts.minute,
    second: parts.second,
  };
}

/** The local wall-clock time at `instant`, as if it were UTC (ms). */
function wallAsUtc(instant: number, timeZone: string): number {
  const w = wallClock(instant, timeZone);
  return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
}

/** UTC offset (ms) of the zone at `instant`. */
function offsetAt(instant: number, timeZone: string): number {
  const whole = Math.floor(instant / 1000) * 1000;
  return wallAsUtc(whole, timeZone) - whole;
}

/**
 * The instant whose local wall-clock time in `timeZone` is `wall` (wall-clock fields encoded as a
 * UTC timestamp). `hint` is an instant near the answer, used for the first offset guess.
 */
function instantOfWallClock(wall: number, timeZone: string, hint: number): number {
  const guess = wall - offsetAt(hint, timeZone);
  if (wallAsUtc(guess, timeZone) === wall && offsetAt(guess - DAY, timeZone) === offsetAt(guess + DAY, timeZone)) {
    return guess; // no offset change nearby: unique
  }
  const before = offsetAt(wall - DAY, timeZone);
  const after = offsetAt(wall + DAY, timeZone);
  const candidates = [wall - before, wall - after].filter((c) => wallAsUtc(c, timeZone) === wall);
  if (candidates.length > 0) return Math.min(...candidates); // ambiguous → earlier
  return wall - before; // in a gap → shifted forward by the gap
}
