import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { Client, Connection } from '@temporalio/client';
import path from 'node:path';
import pino from 'pino';
import { useLocalStackEnv } from '../../cli/local-env';
import { loadStackConfig, type StackConfig } from '../../stack/stack-config';
import { createFleetWorker } from '../../worker/run-worker';
import { installRuntime } from '../../worker/runtime-install';
import { proxyAdmin } from './proxy-admin';
import type { ChangeSetExecution } from '../../stack/aws-proxy/cloudformation/change-set-ledger';
import type { ProxyStatsSnapshot } from '../../stack/aws-proxy/core/proxy-stats';
import { loadWorkerConfig } from '../../worker/worker-config';

/** The test run's local stack config, with this process pointed at it. */
export function testStack(): StackConfig {
  const cfg = loadStackConfig();
  useLocalStackEnv(cfg);
  return cfg;
}

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;
/** The workflows bundled once per test file. */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({
    workflowsPath: path.resolve(__dirname, '../../workflows'),
    logger: silentBundlerLogger,
  });
  return bundle;
}
const silentBundlerLogger = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} };

/** A real fleetops worker on its own task queue, with logs captured in memory for assertions. */
export async function startTestWorker(taskQueue: string, env: Record<string, string> = {}) {
  const logLines: string[] = [];
  const logger = pino({ level: 'debug' }, { write: (l: string) => void logLines.push(l) });
  installRuntime(logger); // the SDK's own log lines land in logLines too (scanned for secrets)
  const config = loadWorkerConfig({ ...process.env, ...env, FLEETOPS_TASK_QUEUE: taskQueue });
  const created = await createFleetWorker({ config, logger, workflowBundle: await workflowBundle() });
  const running = created.worker.run();
  return {
    ...created,
    logLines,
    stop: async () => {
      created.worker.shutdown();
      await running;
      await created.close();
    },
  };
}

export async function testClient(cfg: StackConfig): Promise<{ client: Client; close: () => Promise<void> }> {
  const connection = await Connection.connect({ address: cfg.temporalAddress });
  return { client: new Client({ connection, namespace: 'default' }), close: () => connection.close() };
}

export async function setFaultPlan(cfg: StackConfig, plan: unknown): Promise<void> {
  const res = plan
    ? await proxyAdmin(cfg.awsEndpoint, 'PUT', 'faults', plan)
    : await proxyAdmin(cfg.awsEndpoint, 'DELETE', 'faults');
  if (res.status !== 200) throw new Error(`fault plan rejected: ${res.text}`);
}

export async function proxyStats(cfg: StackConfig): Promise<ProxyStatsSnapshot> {
  return (await proxyAdmin<ProxyStatsSnapshot>(cfg.awsEndpoint, 'GET', 'stats')).json;
}

export type ExecutionLedgerEntry = ChangeSetExecution;
/** Change set executions the AWS proxy saw take effect (to prove none ran twice). */
export async function executions(cfg: StackConfig): Promise<ExecutionLedgerEntry[]> {
  return (await proxyAdmin<{ executions: ExecutionLedgerEntry[] }>(cfg.awsEndpoint, 'GET', 'cloudformation/executions'))
    .json.executions;
}
