import { condition, isCancellation, sleep, upsertMemo } from '@temporalio/workflow';
import type { CampaignStatus } from './campaign-messages';
import { STATUS_MEMO_KEY, snapshotOf } from './campaign-snapshot';

/** Patch id: the campaign keeps a status snapshot in its memo (campaign-snapshot.ts). */
export const STATUS_MEMO = 'campaign-status-snapshot-in-memo';

/** At most one memo write per this much workflow time (each write is one history event). */
export const SNAPSHOT_EVERY_MS = 5_000;

/**
 * Keeps the campaign's status snapshot in its memo: a change is written at most every
 * SNAPSHOT_EVERY_MS (a trailing write follows a burst, so the memo is never more than that behind),
 * a phase change at once. Each write is one UpsertWorkflowProperties command; the trailing write
 * waits on one timer. Over a 4,000-account campaign of ~35 minutes that is at most ~420 writes.
 */
export class StatusMemo {
  private due = false;
  private lastAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly read: () => CampaignStatus,
    private readonly everyMs = SNAPSHOT_EVERY_MS,
  ) {}

  /** Starts the background writer (ends with the run; a Temporal cancellation ends it quietly). */
  start(): void {
    void this.writeWhenDue().catch((err: unknown) => {
      if (!isCancellation(err)) throw err;
    });
  }

  /** Something in the status changed: written within SNAPSHOT_EVERY_MS. */
  changed(): void {
    this.due = true;
  }

  /** Writes the snapshot now (phase changes: pause, approval, completion are seen at once). */
  writeNow(): void {
    this.due = false;
    this.lastAt = Date.now();
    upsertMemo({ [STATUS_MEMO_KEY]: snapshotOf(this.read(), new Date(this.lastAt).toISOString()) });
  }

  private msLeft(): number {
    return this.lastAt + this.everyMs - Date.now();
  }

  private async writeWhenDue(): Promise<void> {
    for (;;) {
      await condition(() => this.due);
      // a phase change may write while this sleeps: wait again from that write
      for (let wait = this.msLeft(); wait > 0; wait = this.msLeft()) await sleep(wait);
      if (this.due) this.writeNow();
    }
  }
}
