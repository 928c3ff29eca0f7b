import { describe, expect, it } from 'vitest';
import { isInMaintenanceWindow, nextMaintenanceWindowStart, type MaintenanceWindow } from '../../fleet';

const at = (iso: string) => new Date(iso);

describe('isInMaintenanceWindow', () => {
  it('no window means always', () => {
    expect(isInMaintenanceWindow(undefined, at('2025-01-01T12:00:00Z'))).toBe(true);
    expect(nextMaintenanceWindowStart(undefined, at('2025-01-01T12:00:00Z')).toISOString()).toBe(
      '2025-01-01T12:00:00.000Z',
    );
  });

  const utcTue: MaintenanceWindow = { days: ['tue'], start: '02:00', durationMinutes: 120, timezone: 'UTC' };
  it('is inside between start (inclusive) and end (exclusive)', () => {
    // 2025-01-07 is a Tuesday.
    expect(isInMaintenanceWindow(utcTue, at('2025-01-07T01:59:59Z'))).toBe(false);
    expect(isInMaintenanceWindow(utcTue, at('2025-01-07T02:00:00Z'))).toBe(true);
    expect(isInMaintenanceWindow(utcTue, at('2025-01-07T03:59:59Z'))).toBe(true);
    expect(isInMaintenanceWindow(utcTue, at('2025-01-07T04:00:00Z'))).toBe(false);
    expect(isInMaintenanceWindow(utcTue, at('2025-01-08T02:30:00Z'))).toBe(false);
  });

  it('handles windows crossing midnight (started the previous local day)', () => {
    const sunNight: MaintenanceWindow = { days: ['sun'], start: '23:00', durationMinutes: 180, timezone: 'Asia/Tokyo' };
    // Sunday 2025-01-05 23:00 JST = 14:00Z; window until Monday 02:00 JST = 17:00Z.
    expect(isInMaintenanceWindow(sunNight, at('2025-01-05T13:59:00Z'))).toBe(false);
    expect(isInMaintenanceWindow(sunNight, at('2025-01-05T14:00:00Z'))).toBe(true);
    expect(isInMaintenanceWindow(sunNight, at('2025-01-05T16:30:00Z'))).toBe(true); // Monday 01:30 JST
    expect(isInMaintenanceWindow(sunNight, at('2025-01-05T17:00:00Z'))).toBe(false);
  });

  it('uses local time in a DST-observing zone (Europe/London, summer and winter)', () => {
    const london: MaintenanceWindow = {
      days: ['tue', 'wed'],
      start: '02:00',
      durationMinutes: 240,
      timezone: 'Europe/London',
    };
    // Winter (GMT, +0): Tuesday 2025-01-07 02:00 local = 02:00Z.
    expect(isInMaintenanceWindow(london, at('2025-01-07T01:30:00Z'))).toBe(false);
    expect(isInMaintenanceWindow(london, at('2025-01-07T02:00:00Z'))).toBe(true);
    // Summer (BST, +1): Tuesday 2025-07-01 02:00 local = 01:00Z ... 05:00 local = 04:00Z.
    expect(isInMaintenanceWindow(london, at('2025-07-01T00:59:00Z'))).toBe(false);
    expect(isInMaintenanceWindow(london, at('2025-07-01T01:00:00Z'))).toBe(true);
    expect(isInMaintenanceWindow(london, at('2025-07-01T04:59:00Z'))).toBe(true);
    expect(isInMaintenanceWindow(london, at('2025-07-01T05:00:00Z'))).toBe(false);
    expect(isInMaintenanceWindow(london, at('2025-07-03T01:30:00Z'))).toBe(false); // Thursday
  });

  it('a window of a whole week is always open', () => {
    const week: MaintenanceWindow = {
      days: ['mon'],
      start: '00:00',
      durationMinutes: 10080,
      timezone: 'America/New_York',
    };
    for (let d = 0; d < 14; d++) {
      expect(isInMaintenanceWindow(week, new Date(Date.UTC(2025, 2, 1 + d, 7)))).toBe(true);
    }
  });
});

describe('nextMaintenanceWindowStart', () => {
  const ny: MaintenanceWindow = { days: ['sat'], start: '22:00', durationMinutes: 300, timezone: 'America/New_York' };

  it('returns `at` when inside, else the next start', () => {
    // Saturday 2025-01-11 22:00 EST = 2025-01-12T03:00Z.
    expect(nextMaintenanceWindowStart(ny, at('2025-01-12T04:00:00Z')).toISOString()).toBe('2025-01-12T04:00:00.000Z');
    expect(nextMaintenanceWindowStart(ny, at('2025-01-10T00:00:00Z')).toISOString()).toBe('2025-01-12T03:00:00.000Z');
    expect(nextMaintenanceWindowStart(ny, at('2025-01-12T03:00:00Z')).toISOString()).toBe('2025-01-12T03:00:00.000Z');
    // Just after it closed (Sunday 03:00 EST): next Saturday.
    expect(nextMaintenanceWindowStart(ny, at('2025-01-12T08:00:00Z')).toISOString()).toBe('2025-01-19T03:00:00.000Z');
  });

  it('follows the local wall clock across a DST change', () => {
    // US DST starts Sunday 2025-03-09. Saturday 2025-03-08 22:00 EST = 03-09T03:00Z;
    // Saturday 2025-03-15 22:00 EDT = 03-16T02:00Z.
    expect(nextMaintenanceWindowStart(ny, at('2025-03-08T12:00:00Z')).toISOString()).toBe('2025-03-09T03:00:00.000Z');
    expect(nextMaintenanceWindowStart(ny, at('2025-03-10T12:00:00Z')).toISOString()).toBe('2025-03-16T02:00:00.000Z');
  });

  it('moves a start inside the spring-forward gap forward, and takes the earlier of an ambiguous time', () => {
    const gap: MaintenanceWindow = { days: ['sun'], start: '01:30', durationMinutes: 60, timezone: 'Europe/London' };
    // 2025-03-30 01:30 does not exist in London (01:00 GMT → 02:00 BST): opens at 02:30 BST = 01:30Z.
    expect(nextMaintenanceWindowStart(gap, at('2025-03-29T12:00:00Z')).toISOString()).toBe('2025-03-30T01:30:00.000Z');
    // 2025-10-26 01:30 happens twice (BST then GMT): the earlier is 00:30Z.
    expect(nextMaintenanceWindowStart(gap, at('2025-10-25T12:00:00Z')).toISOString()).toBe('2025-10-26T00:30:00.000Z');
    expect(isInMaintenanceWindow(gap, at('2025-10-26T01:15:00Z'))).toBe(true);
    expect(isInMaintenanceWindow(gap, at('2025-10-26T01:30:00Z'))).toBe(false);
  });

  it('the result is always in a window and no start is skipped (hourly sweep over a year)', () => {
    const w: MaintenanceWindow = {
      days: ['tue', 'fri'],
      start: '23:30',
      durationMinutes: 90,
      timezone: 'Australia/Sydney',
    };
    for (let h = 0; h < 24 * 365; h += 7) {
      const t = new Date(Date.UTC(2025, 0, 1) + h * 3_600_000);
      const next = nextMaintenanceWindowStart(w, t);
      expect(next.getTime()).toBeGreaterThanOrEqual(t.getTime());
      expect(next.getTime() - t.getTime()).toBeLessThanOrEqual(4 * 86_400_000);
      expect(isInMaintenanceWindow(w, next)).toBe(true);
      if (next.getTime() > t.getTime()) expect(isInMaintenanceWindow(w, new Date(next.getTime() - 1000))).toBe(false);
    }
  });
});
