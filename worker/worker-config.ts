import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { VaultAuth, VaultSettings } from '../activities/vault/vault-session';
import { unsharableBudgets } from '../activities/aws/shared-budget-windows';
import { DEFAULT_RATE_BUDGETS, parseRateBudgets, type RateBudgets } from '../fleet/rate-budgets';

/** An optional variable; set but empty counts as unset. */
const optionalString = z
  .string()
  .trim()
  .optional()
  .transform((v) => v || undefined);

/** A `host:port` to listen on (IPv6 in brackets), or `off` (undefined: nothing served). */
function listenAddress(variable: string, fallback: string) {
  return z
    .string()
    .trim()
    .default(fallback)
    .refine(
      (v) => v === 'off' || /^(\[[0-9a-fA-F:]+\]|[\w.-]+):\d{1,5}$/.test(v),
      `${variable}: expected host:port like ${fallback}, or off`,
    )
    .transform((v) => (v === 'off' ? undefined : v));
}

const WorkerEnv = z.object({
  FLEETOPS_TASK_QUEUE: z.string().min(1).default('fleetops'),
  /** Custom AWS endpoint (the local stack's proxy); unset for real AWS. */
  FLEETOPS_AWS_ENDPOINT: z.url().optional(),
  AWS_REGION: z.string().min(1).default('us-east-1'),
  VAULT_ADDR: z.url().default('http://127.0.0.1:8200'),
  VAULT_NAMESPACE: optionalString,
  /** Token login: a Vault token (renewed with renew-self when renewable). */
  VAULT_TOKEN: optionalString,
  /** AppRole login: role_id plus a secret_id, given inline or as a file (re-read at every login). */
  VAULT_ROLE_ID: optionalString,
  VAULT_SECRET_ID: optionalString,
  VAULT_SECRET_ID_FILE: optionalString,
  VAULT_APPROLE_MOUNT: z
    .string()
    .regex(/^[\w-][\w.-]*(?:\/[\w-][\w.-]*)*$/, 'VAULT_APPROLE_MOUNT: expected an auth mount path like "approle"')
    .default('approle'),
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
  /**
   * Server-enforced ceiling for activities per second on the task queue, across all workers; overrides
   * the rate budgets' `taskQueueActivitiesPerSecond` (default 500).
   */
  FLEETOPS_TASK_QUEUE_ACTIVITIES_PER_SECOND: z.coerce.number().positive().optional(),
  /**
   * Valkey/Redis URL (redis://host:port) where every worker counts the shared AWS rate budgets; unset:
   * each worker counts its own (docs/rate-budgets.md). `fleetops worker --local` sets the local stack's.
   */
  FLEETOPS_RATE_STORE: z
    .string()
    .trim()
    .optional()
    .transform((v) => v || undefined)
    .refine(
      (v) => v === undefined || /^rediss?:\/\/[^\s]+$/.test(v),
      'FLEETOPS_RATE_STORE: expected a redis:// or rediss:// URL like redis://127.0.0.1:6379',
    ),
  /** Budgets are shared by the workers with the same store and scope (one scope per fleet/AWS identity). */
  FLEETOPS_RATE_SCOPE: z
    .string()
    .regex(/^[\w.-]+$/, 'FLEETOPS_RATE_SCOPE: letters, digits, ".", "_" and "-" only')
    .default('fleetops'),
  FLEETOPS_MAX_CONCURRENT_ACTIVITIES: z.coerce.number().int().positive().default(200),
  /** Workflows kept in the worker's cache (sticky execution); bounds memory at thousands of child workflows. */
  FLEETOPS_MAX_CACHED_WORKFLOWS: z.coerce.number().int().min(0).default(250),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'),
  /**
   * Where the worker serves Prometheus metrics (`/metrics`): `host:port`, loopback by default; `off`
   * serves none. Bind a non-loopback address only on a network you trust (no authentication).
   */
  FLEETOPS_METRICS_ADDRESS: listenAddress('FLEETOPS_METRICS_ADDRESS', '127.0.0.1:9464'),
  /**
   * Where the worker answers its liveness and readiness probes (`/healthz`, `/readyz`): `host:port`,
   * loopback by default; `off` serves none (worker/health-server.ts).
   */
  FLEETOPS_HEALTH_ADDRESS: listenAddress('FLEETOPS_HEALTH_ADDRESS', '127.0.0.1:9465'),
  /**
   * On SIGTERM/SIGINT the worker stops polling and gives its in-flight activities this long to finish
   * before it cancels them (Temporal's shutdownGraceTime); a supervisor's kill timeout must be longer.
   */
  FLEETOPS_SHUTDOWN_GRACE_SECONDS: z.coerce
    .number()
    .int('FLEETOPS_SHUTDOWN_GRACE_SECONDS: expected whole seconds')
    .min(0, 'FLEETOPS_SHUTDOWN_GRACE_SECONDS: expected 0 or more seconds')
    .default(30),
});

const VAULT_LOGIN_HELP =
  'set VAULT_TOKEN (token login) or VAULT_ROLE_ID with VAULT_SECRET_ID or VAULT_SECRET_ID_FILE (AppRole login)';

/** Exactly one Vault login: a token, or AppRole with role_id and exactly one of secret_id / secret_id file. */
const WorkerEnvChecked = WorkerEnv.superRefine((e, ctx) => {
  const issue = (variable: string, message: string) => ctx.addIssue({ code: 'custom', path: [variable], message });
  const appRole = e.VAULT_ROLE_ID ?? e.VAULT_SECRET_ID ?? e.VAULT_SECRET_ID_FILE;
  if (e.VAULT_TOKEN && appRole) return issue('VAULT_TOKEN', `Vault login: ${VAULT_LOGIN_HELP}, not both`);
  if (!e.VAULT_TOKEN && !appRole) return issue('VAULT_TOKEN', `Vault login is required: ${VAULT_LOGIN_HELP}`);
  if (e.VAULT_TOKEN) return;
  if (!e.VAULT_ROLE_ID) issue('VAULT_ROLE_ID', 'VAULT_ROLE_ID is required for AppRole login (the role_id of the role)');
  if (e.VAULT_SECRET_ID && e.VAULT_SECRET_ID_FILE)
    issue('VAULT_SECRET_ID_FILE', 'AppRole login: set VAULT_SECRET_ID or VAULT_SECRET_ID_FILE, not both');
  else if (!e.VAULT_SECRET_ID && !e.VAULT_SECRET_ID_FILE)
    issue(
      'VAULT_SECRET_ID',
      'AppRole login: VAULT_SECRET_ID or VAULT_SECRET_ID_FILE (a file holding the secret_id) is required',
    );
  else if (e.VAULT_SECRET_ID_FILE) {
    const problem = unreadableFile(e.VAULT_SECRET_ID_FILE);
    if (problem) issue('VAULT_SECRET_ID_FILE', `VAULT_SECRET_ID_FILE: expected a readable file, ${problem}`);
  }
});

export type WorkerConfig = {
  taskQueue: string;
  awsEndpoint?: string;
  awsRegion: string;
  /** Vault: address, namespace and the login (token or AppRole); never logged whole (it holds the credential). */
  vault: VaultSettings;
  /** FLEETOPS_FLEET_DIRS: absolute directories; fleet files are read only from inside them. */
  fleetDirs: string[];
  rateBudgets: RateBudgets;
  /** Where the rate budgets are counted across workers; undefined: in this process. */
  rateStore?: { url: string; scope: string };
  taskQueueActivitiesPerSecond: number;
  maxConcurrentActivities: number;
  maxCachedWorkflows: number;
  logLevel: z.infer<typeof WorkerEnv>['LOG_LEVEL'];
  /** host:port of the Prometheus endpoint; undefined: no metrics served. */
  metricsAddress?: string;
  /** host:port of the liveness/readiness endpoints; undefined: none served. */
  healthAddress?: string;
  /** Seconds in-flight activities get to finish after a shutdown signal before they are cancelled. */
  shutdownGraceSeconds: number;
};

/** Worker settings from the environment; a bad value fails at start with the variable named. */
export function loadWorkerConfig(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  const parsed = WorkerEnvChecked.safeParse(env);
  if (!parsed.success) throw new Error(`invalid worker configuration (environment):\n${z.prettifyError(parsed.error)}`);
  const e = parsed.data;
  const rateBudgets = e.FLEETOPS_RATE_BUDGETS ? readRateBudgets(e.FLEETOPS_RATE_BUDGETS) : DEFAULT_RATE_BUDGETS;
  const unsharable = e.FLEETOPS_RATE_STORE ? unsharableBudgets(rateBudgets) : [];
  if (unsharable.length)
    throw new Error(`invalid rate budgets (FLEETOPS_RATE_BUDGETS) for the shared store:\n- ${unsharable.join('\n- ')}`);
  return {
    taskQueue: e.FLEETOPS_TASK_QUEUE,
    awsEndpoint: e.FLEETOPS_AWS_ENDPOINT,
    awsRegion: e.AWS_REGION,
    vault: { endpoint: e.VAULT_ADDR, namespace: e.VAULT_NAMESPACE, auth: vaultAuth(e) },
    fleetDirs: e.FLEETOPS_FLEET_DIRS,
    rateBudgets,
    ...(e.FLEETOPS_RATE_STORE ? { rateStore: { url: e.FLEETOPS_RATE_STORE, scope: e.FLEETOPS_RATE_SCOPE } } : {}),
    taskQueueActivitiesPerSecond:
      e.FLEETOPS_TASK_QUEUE_ACTIVITIES_PER_SECOND ?? rateBudgets.taskQueueActivitiesPerSecond,
    maxConcurrentActivities: e.FLEETOPS_MAX_CONCURRENT_ACTIVITIES,
    maxCachedWorkflows: e.FLEETOPS_MAX_CACHED_WORKFLOWS,
    logLevel: e.LOG_LEVEL,
    ...(e.FLEETOPS_METRICS_ADDRESS ? { metricsAddress: e.FLEETOPS_METRICS_ADDRESS } : {}),
    ...(e.FLEETOPS_HEALTH_ADDRESS ? { healthAddress: e.FLEETOPS_HEALTH_ADDRESS } : {}),
    shutdownGraceSeconds: e.FLEETOPS_SHUTDOWN_GRACE_SECONDS,
  };
}

function vaultAuth(e: z.infer<typeof WorkerEnv>): VaultAuth {
  if (e.VAULT_TOKEN) return { method: 'token', token: e.VAULT_TOKEN };
  return {
    method: 'approle',
    mount: e.VAULT_APPROLE_MOUNT,
    roleId: e.VAULT_ROLE_ID!, // checked by WorkerEnvChecked
    secretId: e.VAULT_SECRET_ID ? { value: e.VAULT_SECRET_ID } : { file: e.VAULT_SECRET_ID_FILE! },
  };
}

function unreadableFile(file: string): string | undefined {
  try {
    if (!fs.statSync(file).isFile()) return `${file} is not a regular file`;
    fs.accessSync(file, fs.constants.R_OK);
    return undefined;
  } catch (err) {
    return `cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`;
  }
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
