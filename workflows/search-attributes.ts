/**
 * Search attributes fleetops sets on its workflows so the Temporal UI can filter them: typed keys,
 * defined once for workflows, CLI and tests. Registered by `fleetops stack up` on the dev server; on a
 * real cluster register them once with
 * `temporal operator search-attribute create --name FleetCampaignId --type Keyword` (and so on).
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const FLEET_CAMPAIGN_ID = defineSearchAttributeKey('FleetCampaignId', SearchAttributeType.KEYWORD);
export const FLEET_OPERATION = defineSearchAttributeKey('FleetOperation', SearchAttributeType.KEYWORD);
export const FLEET_ACCOUNT_ID = defineSearchAttributeKey('FleetAccountId', SearchAttributeType.KEYWORD);
export const FLEET_WAVE = defineSearchAttributeKey('FleetWave', SearchAttributeType.KEYWORD);
export const FLEET_STATE = defineSearchAttributeKey('FleetState', SearchAttributeType.KEYWORD);

/** Every key, for registration (all Keyword). */
export const FLEET_SEARCH_ATTRIBUTES = [FLEET_CAMPAIGN_ID, FLEET_OPERATION, FLEET_ACCOUNT_ID, FLEET_WAVE, FLEET_STATE];
