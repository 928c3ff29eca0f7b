/**
 * The pure fleet domain, safe for workflow code. File loading (yaml, node:fs) is in
 * `fleet/load-fleet` and deliberately not re-exported here.
 */
export * from './aws-regions';
export * from './fleet-schema';
export * from './fleet-problems';
export * from './validate-fleet';
export * from './select-accounts';
export * from './plan-waves';
export * from './maintenance-window';
export * from './pipeline-stack';
export * from './fleet-secrets';
export * from './secret-vault-layout';
export * from './secret-values';
export * from './fleet-images';
export * from './image-release-schema';
export * from './image-release';
