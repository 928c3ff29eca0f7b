/**
 * Maintenance windows: an account is worked on only inside its window. A window opens at local
 * wall-clock time `start` (in `timezone`) on each of `days`, and stays open for `durationMinutes`
 * of real elapsed time (so it may cross midnight, and a DST change shortens or lengthens it on the
 * wall clock). A start time that does not exist locally (DST spring-forward gap) moves forward by
 * the gap; an ambiguous one (fall-back) is the earlier instant.
 *
 * Pure and deterministic: the time is a parameter; local time comes from Intl (fine in workflows).
 */
import { WEEKDAYS, type Weekday } from './fleet-fields';
import type { MaintenanceWindow } from './fleet-schema';

const MINUTE = 60_000;
const DAY = 86_400_000;

/** True when `at` is inside the window; no window means always. */
export function isInMaintenanceWindow(window: MaintenanceWindow | undefined, at: Date): boolean {
  if (!window) return true;
  const t = at.getTime();
  const duration = window.durationMinutes * MINUTE;
  const daysBack = Math.ceil(window.durationMinutes / 1440) + 1;
  const startOn = windowStartsFrom(window, at);
  for (let k = -daysBack; k <= 0; k++) {
    const start = startOn(k);
    if (start !== undefined && start <= t && t < start + duration) return true;
  }
  return false;
}

/** The next moment the account may be worked on: `at` itself when inside the window, else the next start. */
export function nextMaintenanceWindowStart(window: MaintenanceWindow | undefined, at: Date): Date {
  if (!window || isInMaintenanceWindow(window, at)) return new Date(at.getTime());
  const t = at.getTime();
  const startOn = windowStartsFrom(window, at);
  // A window occurs at least weekly; look one day beyond a week for DST and date-line slack.
  for (let k = 0; k <= 8; k++) {
    const start = startOn(k);
    if (start !== undefined && start >= t) return new Date(start);
  }
  throw new Error(`no maintenance window start found within 8 days of ${at.toISOString()}`);
}

/**
 * For the local date `k` days from at's local date (in the window's zone): the window's start
 * instant (ms) that day, or undefined when the window does not open that weekday.
 */
function windowStartsFrom(window: MaintenanceWindow, at: Date): (k: number) => number | undefined {
  const [hour, minute] = window.start.split(':').map(Number);
  const days = new Set<Weekday>(window.days);
  const today = wallClock(Math.floor(at.getTime() / 1000) * 1000, window.timezone);
  const whole = Math.floor(at.getTime() / 1000) * 1000;
  const offsetNow = Date.UTC(today.year, today.month - 1, today.day, today.hour, today.minute, today.second) - whole;
  return (k) => {
    const date = new Date(Date.UTC(today.year, today.month - 1, today.day + k));
    if (!days.has(WEEKDAY_OF_UTC_DAY[date.getUTCDay()])) return undefined;
    const wall = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate(), hour, minute);
    return instantOfWallClock(wall, window.timezone, offsetNow);
  };
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
 * UTC timestamp). `offsetGuess` is the zone's offset near the answer (a first guess).
 */
function instantOfWallClock(wall: number, timeZone: string, offsetGuess: number): number {
  const guess = wall - offsetGuess;
  if (wallAsUtc(guess, timeZone) === wall && offsetAt(guess - DAY, timeZone) === offsetAt(guess + DAY, timeZone)) {
    return guess; // no offset change nearby: unique
  }
  const before = offsetAt(wall - DAY, timeZone);
  const after = offsetAt(wall + DAY, timeZone);
  const candidates = [wall - before, wall - after].filter((c) => wallAsUtc(c, timeZone) === wall);
  if (candidates.length > 0) return Math.min(...candidates); // ambiguous → earlier
  return wall - before; // in a gap → shifted forward by the gap
}
