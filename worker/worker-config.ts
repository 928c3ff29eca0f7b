import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { DEFAULT_RATE_BUDGETS, parseRateBudgets, type RateBudgets } from '../fleet/rate-budgets';

const WorkerEnv = z.object({
  FLEETOPS_TASK_QUEUE: z.string().min(1).default('fleetops'),
  /** Custom AWS endpoint (the local stack's proxy); unset for real AWS. */
  FLEETOPS_AWS_ENDPOINT: z.url().optional(),
  AWS_REGION: z.string().min(1).default('us-east-1'),
  VAULT_ADDR: z.url().default('http://127.0.0.1:8200'),
  VAULT_TOKEN: z
    .string()
    .min(1, "VAULT_TOKEN is required: a Vault token that can read the accounts' externalIdRef paths"),
  VAULT_NAMESPACE: z.string().optional(),
  /**
   * Fleet locations: the only directories the worker reads fleet files from (a workflow input's
   * `fleetFile` must resolve inside one). Separated like PATH; relative ones resolve against the cwd.
   */
  FLEETOPS_FLEET_DIRS: z
    .string()
    .min(1, 'FLEETOPS_FLEET_DIRS is required: the directories workers may read fleet files from (`:`-separated)')
    .transform((value) =>
      value
        .split(path.delimiter)
        .map((dir) => dir.trim())
        .filter((dir) => dir !== '')
        .map((dir) => path.resolve(dir)),
    )
    .refine((dirs) => dirs.length > 0, 'FLEETOPS_FLEET_DIRS: no directory given'),
  /** Rate budgets: inline JSON or a path to a JSON file (see fleet/rate-budgets.ts). */
  FLEETOPS_RATE_BUDGETS: z.string().optional(),
  /** Server-enforced ceiling for activities per second on the task queue, across all workers. */
  FLEETOPS_TASK_QUEUE_ACTIVITIES_PER_SECOND: z.coerce.number().positive().default(500),
  FLEETOPS_MAX_CONCURRENT_ACTIVITIES: z.coerce.number().int().positive().default(200),
  /** Workflows kept in the worker's cache (sticky execution); bounds memory at thousands of child workflows. */
  FLEETOPS_MAX_CACHED_WORKFLOWS: z.coerce.number().int().min(0).default(250),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'),
});

export type WorkerConfig = {
  taskQueue: string;
  awsEndpoint?: string;
  awsRegion: string;
  vault: { endpoint: string; token: string; namespace?: string };
  /** FLEETOPS_FLEET_DIRS: absolute directories; fleet files are read only from inside them. */
  fleetDirs: string[];
  rateBudgets: RateBudgets;
  taskQueueActivitiesPerSecond: number;
  maxConcurrentActivities: number;
  maxCachedWorkflows: number;
  logLevel: z.infer<typeof WorkerEnv>['LOG_LEVEL'];
};

/** Worker settings from the environment; a bad value fails at start with the variable named. */
export function loadWorkerConfig(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  const parsed = WorkerEnv.safeParse(env);
  if (!parsed.success) throw new Error(`invalid worker configuration (environment):\n${z.prettifyError(parsed.error)}`);
  const e = parsed.data;
  return {
    taskQueue: e.FLEETOPS_TASK_QUEUE,
    awsEndpoint: e.FLEETOPS_AWS_ENDPOINT,
    awsRegion: e.AWS_REGION,
    vault: { endpoint: e.VAULT_ADDR, token: e.VAULT_TOKEN, namespace: e.VAULT_NAMESPACE },
    fleetDirs: e.FLEETOPS_FLEET_DIRS,
    rateBudgets: e.FLEETOPS_RATE_BUDGETS ? readRateBudgets(e.FLEETOPS_RATE_BUDGETS) : DEFAULT_RATE_BUDGETS,
    taskQueueActivitiesPerSecond: e.FLEETOPS_TASK_QUEUE_ACTIVITIES_PER_SECOND,
    maxConcurrentActivities: e.FLEETOPS_MAX_CONCURRENT_ACTIVITIES,
    maxCachedWorkflows: e.FLEETOPS_MAX_CACHED_WORKFLOWS,
    logLevel: e.LOG_LEVEL,
  };
}

function readRateBudgets(value: string): RateBudgets {
  const inline = value.trimStart().startsWith('{');
  const source = inline ? 'FLEETOPS_RATE_BUDGETS' : value;
  let raw: unknown;
  try {
    raw = JSON.parse(inline ? value : fs.readFileSync(value, 'utf8'));
  } catch (err) {
    throw new Error(`FLEETOPS_RATE_BUDGETS: cannot read JSON from ${source}: ${(err as Error).message}`);
  }
  return parseRateBudgets(raw, source);
}
