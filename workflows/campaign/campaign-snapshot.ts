/**
 * The status snapshot a campaign keeps in its memo, so `campaign status` answers from one
 * DescribeWorkflowExecution — fast however busy the worker is, and with no worker at all. It is the
 * `status` query's answer with the long lists cut short (counts and per-type tallies kept) and the
 * workflow time it was taken. Pure: used by the workflow (status-memo.ts) and the CLI alike.
 */
import type { AccountProblem, CampaignStatus } from './campaign-messages';

/** The memo key the snapshot is stored under. */
export const STATUS_MEMO_KEY = 'fleetStatus';

/** Problems and not-selected accounts kept in the snapshot; the `status` query has them all. */
export const SNAPSHOT_LIST_LIMIT = 20;

export type CampaignSnapshot = CampaignStatus & {
  /** Workflow time the snapshot was taken (ISO 8601). */
  asOf: string;
  /** What the snapshot left out of the lists: how many, and every problem's tally by type. */
  omitted: {
    problems: number;
    notSelected: number;
    problemTypes: Record<string, number>;
    notSelectedReasons: Record<string, number>;
    /** A revert's accounts left alone (absent in snapshots of other campaigns). */
    leftAlone?: number;
    leftAloneStates?: Record<string, number>;
  };
};

/** How problems are tallied: error type, else the account's state. */
export const problemType = (p: Pick<AccountProblem, 'errorType' | 'state'>): string => p.errorType ?? p.state;
/** How not-selected accounts are tallied: the reason up to its first colon (`paused`, `quarantined`). */
export const notSelectedReason = (n: { reason: string }): string => n.reason.split(':')[0];

/** Counts of `items` by `key`, in first-seen order. */
export function tallyBy<T>(items: readonly T[], key: (item: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of items) out[key(item)] = (out[key(item)] ?? 0) + 1;
  return out;
}

/** `status` with its lists cut to SNAPSHOT_LIST_LIMIT, stamped `asOf`. */
export function snapshotOf(status: CampaignStatus, asOf: string): CampaignSnapshot {
  return {
    ...status,
    problems: status.problems.slice(0, SNAPSHOT_LIST_LIMIT),
    notSelected: status.notSelected.slice(0, SNAPSHOT_LIST_LIMIT),
    ...(status.leftAlone ? { leftAlone: status.leftAlone.slice(0, SNAPSHOT_LIST_LIMIT) } : {}),
    asOf,
    omitted: {
      problems: Math.max(0, status.problems.length - SNAPSHOT_LIST_LIMIT),
      notSelected: Math.max(0, status.notSelected.length - SNAPSHOT_LIST_LIMIT),
      problemTypes: tallyBy(status.problems, problemType),
      notSelectedReasons: tallyBy(status.notSelected, notSelectedReason),
      ...(status.leftAlone
        ? {
            leftAlone: Math.max(0, status.leftAlone.length - SNAPSHOT_LIST_LIMIT),
            leftAloneStates: tallyBy(status.leftAlone, (l) => l.state),
          }
        : {}),
    },
  };
}

/** The snapshot in a described workflow's memo, if it has one (campaigns from before it have none). */
export function snapshotFromMemo(memo: Record<string, unknown> | undefined): CampaignSnapshot | undefined {
  const s = memo?.[STATUS_MEMO_KEY] as Partial<CampaignSnapshot> | undefined;
  if (!s || typeof s !== 'object' || typeof s.asOf !== 'string' || typeof s.phase !== 'string' || !s.omitted)
    return undefined;
  return s as CampaignSnapshot;
}
