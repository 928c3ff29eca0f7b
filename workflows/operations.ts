/**
 * The operation registry: every fleet operation the campaign engine can run. A new operation is its
 * own folders (workflows/<op>/, activities/<op>/) plus its lines here and in worker/operation-activities.ts.
 */
import { OperationRegistry } from './operation/operation-registry';
import { amiRolloutOperation } from './ami/ami-operation';
import { rotateSecretOperation } from './rotation/rotation-operation';
import { upgradeOperation } from './upgrade/upgrade-operation';

/** The operations' child workflows, registered with the worker (workflows/index.ts exports this module). */
export { accountUpgrade } from './upgrade/account-upgrade';
export { accountSecretRotation } from './rotation/account-secret-rotation';
export { secretKeyCleanup } from './rotation/secret-key-cleanup';
export { externalIdCleanup } from './rotation/external-id-cleanup';
export { accountAmiRollout } from './ami/account-ami-rollout';

export const BUILT_IN_OPERATIONS = [upgradeOperation, rotateSecretOperation, amiRolloutOperation] as const;
export type BuiltInOperation = (typeof BUILT_IN_OPERATIONS)[number];

/** Read by the engine, the worker and the CLI; tests may register more (a throwaway operation). */
export const operations = new OperationRegistry(BUILT_IN_OPERATIONS);
