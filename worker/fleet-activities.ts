import type { Logger } from 'pino';
import { AccountCredentials } from '../activities/aws/account-credentials';
import { AwsClients } from '../activities/aws/aws-clients';
import { createCampaignActivities } from '../activities/campaign/campaign-activities';
import { createInventoryActivities } from '../activities/inventory/inventory-activities';
import { RateLimits } from '../activities/aws/rate-limiter';
import { createUpgradeActivities } from '../activities/upgrade/upgrade-activities';
import { createVaultReader, ExternalIdCache } from '../activities/aws/vault-secrets';
import type { WorkerConfig } from './worker-config';

/** Wires every activity with its dependencies (one set per worker process). */
export function createFleetActivities(config: WorkerConfig, _logger: Logger) {
  const clients = new AwsClients({ endpoint: config.awsEndpoint, homeRegion: config.awsRegion });
  const limits = new RateLimits(config.rateBudgets);
  const externalIds = new ExternalIdCache(createVaultReader(config.vault));
  const credentials = new AccountCredentials({ sts: clients.sts(), stsRegion: config.awsRegion, externalIds, limits });
  const activities = {
    ...createInventoryActivities({ clients, credentials, limits }),
    ...createCampaignActivities(),
    ...createUpgradeActivities({ clients, credentials, limits }),
  };
  return { activities, close: () => clients.destroy(), credentials, limits };
}
