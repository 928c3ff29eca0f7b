/**
 * The activities of each registered operation (the worker side of workflows/operations.ts): a new
 * operation adds its activities factory here. Kept apart from the workflow registry because workflow
 * code is bundled into Temporal's sandbox and must not import activity implementations.
 */
import type { AccountCredentials } from '../activities/aws/account-credentials';
import type { AwsClients } from '../activities/aws/aws-clients';
import type { RateLimits } from '../activities/aws/rate-limiter';
import type { FleetFileDeps } from '../activities/fleet-file-access';
import type { VaultKv } from '../activities/vault/vault-kv';
import { createAmiActivities } from '../activities/ami/ami-activities';
import { createRotationActivities } from '../activities/rotation/rotation-activities';
import { createUpgradeActivities } from '../activities/upgrade/upgrade-activities';

/** What every operation's activities share: AWS clients, cross-account credentials, rate limits, Vault, fleet locations. */
export type OperationDeps = {
  clients: AwsClients;
  credentials: AccountCredentials;
  limits: RateLimits;
  vault: VaultKv;
} & FleetFileDeps;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type ActivitiesFactory = (deps: OperationDeps) => Record<string, (...args: any[]) => Promise<unknown>>;

/** Operation name → its activities factory. */
export const operationActivities = new Map<string, ActivitiesFactory>([
  ['upgrade', createUpgradeActivities],
  ['rotate-secret', createRotationActivities],
  ['ami-rollout', createAmiActivities],
]);
