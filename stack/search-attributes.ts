/**
 * Search attributes fleetops sets on its workflows so the Temporal UI can filter them.
 * Registered by `fleetops stack up` on the dev server; on a real cluster register them once with
 * `temporal operator search-attribute create --name FleetCampaignId --type Keyword` (and so on).
 */
export const FLEET_SEARCH_ATTRIBUTES = {
  FleetCampaignId: 'Keyword',
  FleetOperation: 'Keyword',
  FleetAccountId: 'Keyword',
  FleetWave: 'Keyword',
  FleetState: 'Keyword',
} as const;
