import path from 'node:path';
import { z } from 'zod';

/**
 * Where the project lives: the local stack keeps its venv and state folder under it. The same from the
 * TypeScript sources (`stack/`) and from the compiled JavaScript (`dist/stack/`).
 */
export const PROJECT_ROOT = path.resolve(__dirname, path.basename(path.dirname(__dirname)) === 'dist' ? '../..' : '..');

const port = (fallback: number) => z.coerce.number().int().min(1).max(65535).default(fallback);

const StackEnv = z.object({
  FLEETOPS_STATE_DIR: z.string().min(1).default(path.join(PROJECT_ROOT, '.fleetops')),
  FLEETOPS_TEMPORAL_PORT: port(7233),
  FLEETOPS_TEMPORAL_UI_PORT: port(8233),
  FLEETOPS_MOTO_PORT: port(5000),
  FLEETOPS_AWS_PORT: port(4566),
  FLEETOPS_VAULT_PORT: port(8200),
  FLEETOPS_VALKEY_PORT: port(6379),
});

export type StackConfig = {
  stateDir: string;
  venvBin: string;
  host: '127.0.0.1';
  temporalPort: number;
  temporalUiPort: number;
  motoPort: number;
  awsPort: number;
  vaultPort: number;
  /** Valkey: the store the workers share their AWS rate budgets through (docs/rate-budgets.md). */
  valkeyPort: number;
  /** Root token of the OpenBao dev server: a throwaway local credential, never used outside the local stack. */
  vaultDevToken: string;
  temporalAddress: string;
  temporalUiUrl: string;
  motoUrl: string;
  awsEndpoint: string;
  vaultAddr: string;
  valkeyUrl: string;
};

/** Resolves the local stack's ports and folders from FLEETOPS_* environment variables. */
export function loadStackConfig(env: NodeJS.ProcessEnv = process.env): StackConfig {
  const parsed = StackEnv.safeParse(env);
  if (!parsed.success) throw new Error(`invalid local stack settings:\n${z.prettifyError(parsed.error)}`);
  const e = parsed.data;
  const host = '127.0.0.1' as const;
  return {
    stateDir: path.resolve(e.FLEETOPS_STATE_DIR),
    venvBin: path.join(PROJECT_ROOT, '.tools', 'venv', 'bin'),
    host,
    temporalPort: e.FLEETOPS_TEMPORAL_PORT,
    temporalUiPort: e.FLEETOPS_TEMPORAL_UI_PORT,
    motoPort: e.FLEETOPS_MOTO_PORT,
    awsPort: e.FLEETOPS_AWS_PORT,
    vaultPort: e.FLEETOPS_VAULT_PORT,
    valkeyPort: e.FLEETOPS_VALKEY_PORT,
    vaultDevToken: 'fleetops-local-dev-root',
    temporalAddress: `${host}:${e.FLEETOPS_TEMPORAL_PORT}`,
    temporalUiUrl: `http://${host}:${e.FLEETOPS_TEMPORAL_UI_PORT}`,
    motoUrl: `http://${host}:${e.FLEETOPS_MOTO_PORT}`,
    awsEndpoint: `http://${host}:${e.FLEETOPS_AWS_PORT}`,
    vaultAddr: `http://${host}:${e.FLEETOPS_VAULT_PORT}`,
    valkeyUrl: `redis://${host}:${e.FLEETOPS_VALKEY_PORT}`,
  };
}

/**
 * Environment for processes that use the local stack (worker, CLI, tests): points Temporal's
 * standard env config, the AWS SDK and the Vault client at the loopback services.
 */
export function localStackClientEnv(cfg: StackConfig): Record<string, string> {
  return {
    TEMPORAL_ADDRESS: cfg.temporalAddress,
    TEMPORAL_NAMESPACE: 'default',
    FLEETOPS_AWS_ENDPOINT: cfg.awsEndpoint,
    AWS_ACCESS_KEY_ID: 'fleetops-local',
    AWS_SECRET_ACCESS_KEY: 'fleetops-local',
    AWS_REGION: 'eu-west-1',
    VAULT_ADDR: cfg.vaultAddr,
    VAULT_TOKEN: cfg.vaultDevToken,
    FLEETOPS_RATE_STORE: cfg.valkeyUrl,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
}
