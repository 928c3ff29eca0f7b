import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { ActivityFailure, TimeoutFailure, WorkflowFailedError } from '@temporalio/client';
import { NativeConnection, Worker, bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { activityKeepAlive } from '../../worker/activity-keepalive';
import { quietActivities } from '../support/keepalive/quiet-activities';
import { testClient, testStack } from '../support/test-stack';

// The worker's keep-alive heartbeats (worker/activity-keepalive.ts) let an activity whose code never
// heartbeats run past its heartbeat timeout, on the real Temporal dev server. A worker without them
// shows the timeout is real: the same activity fails with a heartbeat timeout.
const cfg = testStack();
let bundle: WorkflowBundleWithSourceMap;
let connection: NativeConnection;
let temporal: Awaited<ReturnType<typeof testClient>>;

beforeAll(async () => {
  bundle = await bundleWorkflowCode({
    workflowsPath: path.resolve(__dirname, '../support/keepalive/workflows.ts'),
    logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} },
  });
  connection = await NativeConnection.connect({ address: cfg.temporalAddress });
  temporal = await testClient(cfg);
});

afterAll(async () => {
  await temporal?.close();
  await connection?.close();
});

/** Runs quietActivity(3 s) on a worker of its own, with or without the keep-alive interceptor. */
async function runQuietActivity(keepAlive: boolean): Promise<string> {
  const taskQueue = `keepalive-${keepAlive}-${Date.now()}`;
  const worker = await Worker.create({
    connection,
    taskQueue,
    workflowBundle: bundle,
    activities: quietActivities,
    interceptors: keepAlive ? { activity: [activityKeepAlive] } : {},
  });
  return worker.runUntil(
    temporal.client.workflow.execute('quietActivity', { taskQueue, workflowId: taskQueue, args: [3000] }),
  );
}

describe('activity keep-alive', () => {
  it('keeps a 3 s activity that never heartbeats itself alive under a 1 s heartbeat timeout', async () => {
    expect(await runQuietActivity(true)).toBe('slept 3000 ms');
  });

  it('without it, the same activity times out on its heartbeat (the timeout is real)', async () => {
    const err = await runQuietActivity(false).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const activity = (err as WorkflowFailedError).cause;
    expect(activity).toBeInstanceOf(ActivityFailure);
    const timeout = (activity as ActivityFailure).cause;
    expect(timeout).toBeInstanceOf(TimeoutFailure);
    expect((timeout as TimeoutFailure).timeoutType).toBe('HEARTBEAT');
  });
});
