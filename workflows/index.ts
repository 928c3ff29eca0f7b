// Every workflow the worker registers. Workflow code is bundled by webpack: keep it deterministic.
export { fleetInventory } from './fleet-inventory';
export { fleetCampaign } from './campaign/fleet-campaign';
export * from './operations';
