// Every workflow the worker registers. Workflow code is bundled by webpack: keep it deterministic.
export { fleetInventory } from './fleet-inventory';
export { fleetCampaign } from './fleet-campaign';
export { accountUpgrade } from './account-upgrade';
