import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import type { WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createLeaseActivities } from '../../activities/lease/lease-activities';
import {
  accountLeaseId,
  acquireLeaseSignal,
  leaseStateQuery,
  type AccountLeaseInput,
  type LeaseLockState,
} from '../../workflows/lease/lease-messages';
import type { LeaseHolderInput, leaseHolder } from '../support/lease-workflows';
import { TimeSkippingWorker } from '../support/time-skipping';

// The per-account lease (workflows/lease/) on Temporal's time-skipping test server: the real lock
// workflow and withAccountLease, around a stand-in child that holds the account for a while.

let env: TestWorkflowEnvironment;
let ts: TimeSkippingWorker;
const TASK_QUEUE = 'lease';
let seq = 0;

beforeAll(async () => {
  ts = await TimeSkippingWorker.start({
    taskQueue: TASK_QUEUE,
    workflowsPath: path.resolve(__dirname, '../support/lease-workflows'),
    activities: (server) => createLeaseActivities(server.client),
  });
  env = ts.env;
}, 120_000);

afterAll(() => ts?.stop());

type Holder = WorkflowHandleWithFirstExecutionRunId<typeof leaseHolder>;

function hold(campaignId: string, accountId: string, o: Partial<LeaseHolderInput> = {}): Promise<Holder> {
  return env.client.workflow.start<typeof leaseHolder>('leaseHolder', {
    taskQueue: TASK_QUEUE,
    workflowId: `${campaignId}/${accountId}/${++seq}`,
    args: [{ campaignId, accountId, holdMs: 60_000, leaseWaitSeconds: 3_600, ...o }],
  });
}

async function lockState(accountId: string): Promise<LeaseLockState | undefined> {
  return env.client.workflow
    .getHandle(accountLeaseId(accountId))
    .query(leaseStateQuery)
    .catch(() => undefined);
}

async function until<T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
  for (let i = 0; i < 300; i++) {
    const v = await read();
    if (ok(v)) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`never: ${what}`);
}

const holding = (accountId: string, h: Holder) =>
  until(
    `${h.workflowId} holds ${accountId}`,
    () => lockState(accountId),
    (s) => s?.holder?.workflowId === h.workflowId,
  );
const queued = (accountId: string, h: Holder) =>
  until(
    `${h.workflowId} waits for ${accountId}`,
    () => lockState(accountId),
    (s) => !!s?.queue.some((q) => q.workflowId === h.workflowId && q.toldWaitingFor),
  );

describe('per-account lease (accountLease)', () => {
  it('grants one holder at a time: the second waits, is told whom it waits for, and holds only after the first', async () => {
    const account = '310000000001';
    const a = await hold('camp-a', account, { holdMs: 120_000 });
    await holding(account, a);
    const b = await hold('camp-b', account, { holdMs: 1_000 });
    const waiting = await queued(account, b);
    expect(waiting?.queue.map((q) => q.toldWaitingFor)).toEqual(['camp-a']);
    const [ra, rb] = [await a.result(), await b.result()];
    expect([ra.outcome, rb.outcome]).toEqual(['done', 'done']);
    expect(rb.heldFrom!).toBeGreaterThanOrEqual(ra.heldTo!);
    // free and nobody waits: the lock completes (once it has handled b's release signal)
    await until(
      'the lock workflow completes',
      () => env.client.workflow.getHandle(accountLeaseId(account)).describe(),
      (d) => d.status.name === 'COMPLETED',
    );
  });

  it('past leaseWaitSeconds the waiter skips the account (skipped-busy, "waiting for <campaign>") and leaves the queue', async () => {
    const account = '310000000002';
    const a = await hold('camp-a', account, { holdMs: 7_200_000 });
    await holding(account, a);
    const b = await hold('camp-b', account, { leaseWaitSeconds: 60 });
    await queued(account, b);
    const rb = await b.result();
    expect(rb.outcome).toBe('skipped-busy');
    expect(rb.reason).toMatch(/^waiting for camp-a: .*more than leaseWaitSeconds \(60 s\)/);
    expect(rb.heldFrom).toBeUndefined();
    const after = await until(
      'lock state',
      () => lockState(account),
      (v) => v !== undefined,
    );
    expect(after?.holder?.workflowId).toBe(a.workflowId);
    expect(after?.queue).toEqual([]);
    await a.cancel();
  });

  it('a cancelled holder releases at once (non-cancellable release): the waiter holds next', async () => {
    const account = '310000000003';
    const a = await hold('camp-a', account, { holdMs: 86_400_000 });
    await holding(account, a);
    const b = await hold('camp-b', account, { holdMs: 1_000 });
    await queued(account, b);
    await a.cancel();
    await expect(a.result()).rejects.toThrow();
    expect((await a.describe()).status.name).toBe('CANCELLED');
    const rb = await b.result();
    expect(rb.outcome).toBe('done');
    // held long before the cancelled holder's day was over, and no check interval (30 s) was needed
    const started = (await a.describe()).startTime.getTime();
    expect(rb.heldFrom! - started).toBeLessThan(30_000);
  });

  it('a terminated holder (it can release nothing) loses the lease at the next holder check', async () => {
    const account = '310000000004';
    const a = await hold('camp-a', account, { holdMs: 86_400_000 });
    await holding(account, a);
    const b = await hold('camp-b', account, { holdMs: 1_000 });
    await queued(account, b);
    await a.terminate('test: holder dies without releasing');
    expect((await a.describe()).status.name).toBe('TERMINATED');
    const rb = await b.result();
    expect(rb.outcome).toBe('done');
    const started = (await a.describe()).startTime.getTime();
    expect(rb.heldFrom! - started).toBeLessThan(10 * 60_000);
  });

  it('plan mode takes no lease', async () => {
    const account = '310000000005';
    const a = await hold('camp-a', account, { holdMs: 86_400_000 });
    await holding(account, a);
    const p = await hold('camp-p', account, { holdMs: 1_000, plan: true });
    // waited for without result(): awaiting a result lets the test server skip time, as far as the end of
    // a's day, and a would then have released
    await until(
      `${p.workflowId} completes`,
      () => p.describe(),
      (d) => d.status.name === 'COMPLETED',
    );
    const lock = await until(
      'lock state',
      () => lockState(account),
      (v) => v !== undefined,
    );
    expect(lock?.queue).toEqual([]);
    expect(lock?.holder?.workflowId).toBe(a.workflowId);
    expect((await p.result()).outcome).toBe('done');
    await a.cancel();
  });

  it('continues as new before its history grows large, keeping holder and queue', async () => {
    const account = '310000000006';
    // a holder that runs but takes no lease itself (plan mode): the lock grants it and checks it every second
    const planHolder = await hold('camp-h', account, { holdMs: 86_400_000, plan: true });
    const first = await env.client.workflow.signalWithStart('accountLease', {
      taskQueue: TASK_QUEUE,
      workflowId: accountLeaseId(account),
      args: [{ accountId: account, holderCheckSeconds: 1, maxHistoryEvents: 50 } satisfies AccountLeaseInput],
      signal: acquireLeaseSignal,
      signalArgs: [{ workflowId: planHolder.workflowId, runId: planHolder.firstExecutionRunId, campaignId: 'camp-h' }],
    });
    await holding(account, planHolder);
    const b = await hold('camp-b', account, { holdMs: 1_000 });
    await queued(account, b);
    await env.sleep(60_000); // ~60 checks: several runs of at most 50 events
    const lock = env.client.workflow.getHandle(accountLeaseId(account));
    const now = await lock.describe();
    expect(now.runId).not.toBe(first.signaledRunId);
    expect(now.historyLength).toBeLessThanOrEqual(60);
    const carried = await until(
      'lock state',
      () => lockState(account),
      (v) => v !== undefined,
    );
    expect(carried?.holder?.workflowId).toBe(planHolder.workflowId);
    expect(carried?.queue.map((q) => q.workflowId)).toEqual([b.workflowId]);
    await planHolder.terminate('test: done');
    expect((await b.result()).outcome).toBe('done');
  });
});
