import type { Logger } from 'pino';
import { AccountCredentials } from '../activities/aws/account-credentials';
import { AwsClients } from '../activities/aws/aws-clients';
import { IN_PROCESS_GATES, RateLimits, realClock } from '../activities/aws/rate-limiter';
import { SharedBudgetGates } from '../activities/aws/shared-budget-gates';
import { ExternalIdCache } from '../activities/vault/external-id-cache';
import { VaultKv } from '../activities/vault/vault-kv';
import { VaultSession } from '../activities/vault/vault-session';
import { createCampaignActivities } from '../activities/campaign/campaign-activities';
import { createInventoryActivities } from '../activities/inventory/inventory-activities';
import { operations } from '../workflows/operations';
import { operationActivities } from './operation-activities';
import type { WorkerConfig } from './worker-config';

/** Wires every activity with its dependencies (one set per worker process): inventory, engine, each operation. */
export function createFleetActivities(config: WorkerConfig, logger: Logger) {
  const clients = new AwsClients({ endpoint: config.awsEndpoint, homeRegion: config.awsRegion });
  // AWS rate budgets: shared by every worker through FLEETOPS_RATE_STORE when set, else per process
  const sharedGates = config.rateStore
    ? new SharedBudgetGates(config.rateStore.url, config.rateStore.scope)
    : undefined;
  const limits = new RateLimits(config.rateBudgets, realClock, sharedGates ?? IN_PROCESS_GATES);
  // one Vault identity per worker: logs in (token or AppRole) on first use and keeps its token renewed
  const vaultSession = new VaultSession(config.vault, { logger: logger.child({ component: 'vault' }) });
  void vaultSession
    .start()
    .catch((err: Error) =>
      logger.error({ errorType: err.name, error: err.message }, 'vault: first login failed; activities will retry it'),
    );
  const vault = new VaultKv(vaultSession);
  const externalIds = new ExternalIdCache(vault);
  const credentials = new AccountCredentials({ sts: clients.sts(), stsRegion: config.awsRegion, externalIds, limits });
  // fleet files are read only from the configured fleet locations
  const shared = { clients, credentials, limits, vault, fleetDirs: config.fleetDirs };
  const activities: Record<string, (...args: never[]) => Promise<unknown>> = {
    ...createInventoryActivities(shared),
    ...createCampaignActivities(shared),
  };
  for (const op of operations.all()) {
    const factory = operationActivities.get(op.name);
    if (!factory) throw new Error(`operation "${op.name}" has no activities in worker/operation-activities.ts`);
    for (const [name, fn] of Object.entries(factory(shared))) {
      if (activities[name]) throw new Error(`operation "${op.name}": activity ${name} is already registered`);
      activities[name] = fn;
    }
  }
  const close = () => {
    sharedGates?.close();
    vaultSession.stop();
    clients.destroy();
  };
  return { activities, shared, close, credentials, limits, sharedGates, vaultSession };
}
