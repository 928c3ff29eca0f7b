import type { Logger } from 'pino';
import { AccountCredentials } from '../activities/account-credentials';
import { AwsClients } from '../activities/aws-clients';
import { createCampaignActivities } from '../activities/campaign-activities';
import { createInventoryActivities } from '../activities/inventory-activities';
import { RateLimits } from '../activities/rate-limiter';
import { createUpgradeActivities } from '../activities/upgrade-activities';
import { createVaultReader, ExternalIdCache } from '../activities/vault-secrets';
import type { WorkerConfig } from './worker-config';

/** Wires every activity with its dependencies (one set per worker process). */
export function createFleetActivities(config: WorkerConfig, _logger: Logger) {
  const clients = new AwsClients({ endpoint: config.awsEndpoint, homeRegion: config.awsRegion });
  const limits = new RateLimits(config.rateBudgets);
  const externalIds = new ExternalIdCache(createVaultReader(config.vault));
  const credentials = new AccountCredentials({ sts: clients.sts(), stsRegion: config.awsRegion, externalIds, limits });
  const fleetFiles = { fleetDirs: config.fleetDirs }; // the only places fleet files are read from
  const activities = {
    ...createInventoryActivities({ clients, credentials, limits, ...fleetFiles }),
    ...createCampaignActivities(fleetFiles),
    ...createUpgradeActivities({ clients, credentials, limits, ...fleetFiles }),
  };
  return { activities, close: () => clients.destroy(), credentials, limits };
}
