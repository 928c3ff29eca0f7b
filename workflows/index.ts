// Every workflow the worker registers. Workflow code is bundled by webpack: keep it deterministic.
export { fleetInventory } from './fleet-inventory';
export { fleetCampaign } from './campaign/fleet-campaign';
export { accountLease } from './lease/account-lease';
export * from './operations';
