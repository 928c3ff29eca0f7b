import { localStackClientEnv, type StackConfig } from '../stack/stack-config';

/**
 * Points this process at the local stack (Temporal, the AWS proxy, OpenBao) for every setting the
 * caller has not set itself. Used by `--local`, the demo and the tests; never implicit for real use.
 * The fleet location is the state folder, where `sim seed` writes `fleet.yaml`.
 */
export function useLocalStackEnv(cfg: StackConfig): void {
  const appRole = Boolean(process.env.VAULT_ROLE_ID); // the caller logs in with AppRole: no dev root token
  for (const [key, value] of Object.entries(localStackClientEnv(cfg))) {
    if (key === 'VAULT_TOKEN' && appRole) continue;
    process.env[key] ??= value;
  }
  process.env.FLEETOPS_FLEET_DIRS ??= cfg.stateDir;
  process.env.FLEETOPS_TEMPORAL_UI_URL ??= cfg.temporalUiUrl;
}
