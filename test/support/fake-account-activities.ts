import type { AccountOutcome } from '../../workflows/operation/account-operation';

export type FakeBehaviour = { outcome: AccountOutcome; durationMs: number; reason?: string; waitForApproval?: boolean };

/**
 * Test-process side of the stand-in child workflow: records every start/finish (with workflow time)
 * and tells each account how to behave.
 */
export function createFakeAccountActivities(behave: (accountId: string, attempt: number) => FakeBehaviour) {
  const log: Array<{
    accountId: string;
    event: 'start' | 'finish';
    at: number;
    attempt?: number;
    workflowId?: string;
  }> = [];
  return {
    log,
    /** The events of one campaign's children. */
    eventsOf: (campaignId: string) => log.filter((e) => e.workflowId?.startsWith(`${campaignId}/`)),
    activities: {
      async fakeAccountStarted(i: {
        accountId: string;
        attempt: number;
        at: number;
        workflowId: string;
        plan: boolean;
      }): Promise<FakeBehaviour> {
        log.push({ accountId: i.accountId, event: 'start', at: i.at, attempt: i.attempt, workflowId: i.workflowId });
        return behave(i.accountId, i.attempt);
      },
      async fakeAccountFinished(i: { accountId: string; at: number; workflowId: string }): Promise<void> {
        log.push({ accountId: i.accountId, event: 'finish', at: i.at, workflowId: i.workflowId });
      },
    },
  };
}
export type FakeAccountActivities = ReturnType<typeof createFakeAccountActivities>['activities'];

/** Most children of one campaign running at once (from its start/finish events in order). */
export function maxConcurrent(events: Array<{ event: 'start' | 'finish' }>): number {
  let now = 0;
  let max = 0;
  for (const e of events) {
    now += e.event === 'start' ? 1 : -1;
    max = Math.max(max, now);
  }
  return max;
}
