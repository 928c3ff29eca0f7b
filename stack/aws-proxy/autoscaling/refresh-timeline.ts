/**
 * An instance refresh's status, computed from its recorded times at a given moment (no timers):
 *   Pending → InProgress (PercentageComplete advancing, pausing at each checkpoint) → Baking → Successful
 * and, from what was recorded: a failure (poisoned image at its percentage, an alarm of the
 * AlarmSpecification seen in ALARM) → RollbackInProgress → RollbackSuccessful | RollbackFailed with
 * AutoRollback, else Failed; CancelInstanceRefresh → Cancelling → Cancelled; RollbackInstanceRefresh
 * → RollbackInProgress → RollbackSuccessful | RollbackFailed. A rollback takes as long as the
 * progress it undoes.
 */

export const RefreshStatus = {
  Pending: 'Pending',
  InProgress: 'InProgress',
  Baking: 'Baking',
  Successful: 'Successful',
  Failed: 'Failed',
  Cancelling: 'Cancelling',
  Cancelled: 'Cancelled',
  RollbackInProgress: 'RollbackInProgress',
  RollbackSuccessful: 'RollbackSuccessful',
  RollbackFailed: 'RollbackFailed',
} as const;
export type RefreshStatus = (typeof RefreshStatus)[keyof typeof RefreshStatus];

/** Statuses in which a refresh blocks another and can be cancelled or rolled back. */
export const RUNNING: ReadonlySet<RefreshStatus> = new Set(['Pending', 'InProgress', 'Baking']);
/** Statuses in which a refresh blocks another (AWS's InstanceRefreshInProgress). */
export const ACTIVE: ReadonlySet<RefreshStatus> = new Set([
  'Pending',
  'InProgress',
  'Baking',
  'Cancelling',
  'RollbackInProgress',
]);

/** The times and choices a refresh's status follows from. */
export interface RefreshTimes {
  startedAt: number;
  pendingMs: number;
  /** 0 → 100 % without pauses. */
  durationMs: number;
  /** Ascending percentages below 100 where progress pauses `checkpointDelayMs`. */
  checkpoints: number[];
  checkpointDelayMs: number;
  bakeMs: number;
  autoRollback: boolean;
  rollbackFails: boolean;
  /** Poisoned image: the refresh fails when it reaches this percentage. */
  failAtPercent?: number;
  /** An alarm of the AlarmSpecification was seen in ALARM at this time. */
  alarmAt?: number;
  cancelAt?: number;
  rollbackAt?: number;
}

export interface RefreshState {
  status: RefreshStatus;
  percentageComplete: number;
  /** Set once a rollback started. */
  rollback?: { startedAt: number; percentageComplete: number; reason: 'failure' | 'alarm' | 'requested' };
  /** Why it failed or rolled back. */
  cause?: 'poisoned' | 'alarm' | 'cancelled' | 'requested';
  endedAt?: number;
}

/** Milliseconds after the start of InProgress at which `percent` is reached (checkpoint pauses included). */
export function timeToPercent(
  t: Pick<RefreshTimes, 'durationMs' | 'checkpoints' | 'checkpointDelayMs'>,
  percent: number,
): number {
  const pauses = t.checkpoints.filter((c) => c < percent).length * t.checkpointDelayMs;
  return (t.durationMs * percent) / 100 + pauses;
}

/** Percentage reached `elapsed` ms after the start of InProgress. */
export function percentAt(
  t: Pick<RefreshTimes, 'durationMs' | 'checkpoints' | 'checkpointDelayMs'>,
  elapsed: number,
): number {
  if (elapsed <= 0) return 0;
  let from = 0;
  let clock = 0;
  for (const stop of [...t.checkpoints.filter((c) => c > 0 && c < 100), 100]) {
    const run = (t.durationMs * (stop - from)) / 100;
    if (elapsed < clock + run) return Math.floor(from + ((elapsed - clock) / (run || 1)) * (stop - from));
    clock += run;
    if (stop === 100) return 100;
    if (elapsed < clock + t.checkpointDelayMs) return stop;
    clock += t.checkpointDelayMs;
    from = stop;
  }
  return 100;
}

/** When the forward run would be Successful (start + pending + progress + pauses + bake). */
export function successAt(t: RefreshTimes): number {
  return t.startedAt + t.pendingMs + timeToPercent(t, 100) + t.bakeMs;
}

function forwardPercent(t: RefreshTimes, at: number): number {
  return percentAt(t, at - t.startedAt - t.pendingMs);
}

function rollingBack(
  t: RefreshTimes,
  now: number,
  from: number,
  reason: 'failure' | 'alarm' | 'requested',
  cause: RefreshState['cause'],
): RefreshState {
  const undo = forwardPercent(t, from);
  const takes = Math.max(t.pendingMs, (t.durationMs * undo) / 100);
  const rollback = {
    startedAt: from,
    percentageComplete: Math.min(100, Math.floor(((now - from) / (takes || 1)) * 100)),
    reason,
  };
  if (now < from + takes) return { status: 'RollbackInProgress', percentageComplete: undo, rollback, cause };
  return {
    status: t.rollbackFails ? 'RollbackFailed' : 'RollbackSuccessful',
    percentageComplete: undo,
    rollback: { ...rollback, percentageComplete: t.rollbackFails ? rollback.percentageComplete : 100 },
    cause,
    endedAt: from + takes,
  };
}

export function refreshStateAt(t: RefreshTimes, now: number): RefreshState {
  const events: Array<{ at: number; kind: 'poisoned' | 'alarm' | 'cancel' | 'rollback' | 'done' }> = [
    { at: successAt(t), kind: 'done' },
  ];
  if (t.failAtPercent !== undefined)
    events.push({ at: t.startedAt + t.pendingMs + timeToPercent(t, t.failAtPercent), kind: 'poisoned' });
  if (t.alarmAt !== undefined) events.push({ at: t.alarmAt, kind: 'alarm' });
  if (t.cancelAt !== undefined) events.push({ at: t.cancelAt, kind: 'cancel' });
  if (t.rollbackAt !== undefined) events.push({ at: t.rollbackAt, kind: 'rollback' });
  const first = events.reduce((a, b) => (b.at < a.at ? b : a));

  if (now < first.at) {
    if (now < t.startedAt + t.pendingMs) return { status: 'Pending', percentageComplete: 0 };
    const percent = forwardPercent(t, now);
    return { status: percent >= 100 ? 'Baking' : 'InProgress', percentageComplete: percent };
  }
  switch (first.kind) {
    case 'done':
      return { status: 'Successful', percentageComplete: 100, endedAt: first.at };
    case 'cancel':
      if (now < first.at + t.pendingMs)
        return { status: 'Cancelling', percentageComplete: forwardPercent(t, first.at), cause: 'cancelled' };
      return {
        status: 'Cancelled',
        percentageComplete: forwardPercent(t, first.at),
        cause: 'cancelled',
        endedAt: first.at + t.pendingMs,
      };
    case 'rollback':
      return rollingBack(t, now, first.at, 'requested', 'requested');
    default: {
      const cause = first.kind;
      if (t.autoRollback) return rollingBack(t, now, first.at, cause === 'alarm' ? 'alarm' : 'failure', cause);
      return { status: 'Failed', percentageComplete: forwardPercent(t, first.at), cause, endedAt: first.at };
    }
  }
}
