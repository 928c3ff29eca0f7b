import { Context } from '@temporalio/activity';
import { asFailure } from '../aws/errors';
import { ExternalIdRotation, type ExternalIdStep } from './external-id-rotation';
import { IamKeyCleanup, type KeyCleanupStep } from './iam-key-cleanup';
import { IamKeyRotation } from './iam-key-rotation';
import { SecretRotation, type RotationDeps, type RotationStep, type RotationTarget } from './secret-rotation';

export type { RotationPreflight, RotationRevertPreflight, RotationStep, RotationTarget } from './secret-rotation';
export type { IamKeyCreated, IamKeyFinished, IamKeyTested } from './iam-key-rotation';
export type { KeyCleanupResult, KeyCleanupStep } from './iam-key-cleanup';
export type {
  ExternalIdFinished,
  ExternalIdRetired,
  ExternalIdRolledBack,
  ExternalIdStep,
  ExternalIdTested,
} from './external-id-rotation';

/**
 * Activities of the per-account secret rotation (accountSecretRotation), one per step, and of the
 * old IAM key's cleanup (secretKeyCleanup). Values and key secrets are generated, written and compared
 * inside them; they return version ids, key ids, tokens and booleans only. Failures leave as
 * ApplicationFailures with a stable type (VaultUnavailable and AWS 5xx/throttling retryable).
 */
export function createRotationActivities(deps: RotationDeps) {
  const rotation = new SecretRotation(deps);
  const iamKeys = new IamKeyRotation(deps);
  const cleanup = new IamKeyCleanup(deps, iamKeys);
  const externalIds = new ExternalIdRotation(deps);
  return {
    rotationPreflight: (input: RotationStep & { olderThanDays?: number }) => asFailure(() => rotation.preflight(input)),
    rotationCreatePending: (input: RotationStep) => asFailure(() => rotation.create(input)),
    rotationTestPending: (input: RotationStep & { vaultVersion: number }) => asFailure(() => rotation.test(input)),
    rotationFinish: (input: RotationStep & { vaultVersion: number }) => asFailure(() => rotation.finish(input)),
    rotationRollBack: (input: RotationStep & { previousVersionId?: string }) =>
      asFailure(() => rotation.rollBack(input)),
    rotationRevertPreflight: (input: RotationStep & { previousVersionId: string }) =>
      asFailure(() => rotation.revertPreflight(input)),
    rotationHealthAlarm: (input: RotationTarget) => asFailure(() => rotation.healthAlarm(input)),
    iamKeyCreate: (input: RotationStep) =>
      asFailure(() => iamKeys.create(input, Context.current().info.scheduledTimestampMs)),
    iamKeyTest: (input: RotationStep & { vaultVersion: number }) =>
      asFailure(() =>
        iamKeys.test(input, {
          heartbeat: (d) => Context.current().heartbeat(d),
          sleep: (ms) => Context.current().sleep(ms),
        }),
      ),
    iamKeyFinish: (input: RotationStep & { vaultVersion: number }) => asFailure(() => iamKeys.finish(input)),
    iamKeyRollBack: (input: RotationStep & { previousVersionId?: string; vaultVersion: number }) =>
      asFailure(() => iamKeys.rollBack(input)),
    iamKeyDeactivate: (input: KeyCleanupStep) => asFailure(() => cleanup.deactivate(input)),
    iamKeyDelete: (input: KeyCleanupStep) => asFailure(() => cleanup.delete(input)),
    externalIdCreate: (input: RotationStep) => asFailure(() => externalIds.create(input)),
    externalIdSet: (input: ExternalIdStep) => asFailure(() => externalIds.set(input)),
    externalIdTest: (input: ExternalIdStep) => asFailure(() => externalIds.test(input)),
    externalIdFinish: (input: ExternalIdStep) => asFailure(() => externalIds.finish(input)),
    externalIdRollBack: (input: ExternalIdStep) => asFailure(() => externalIds.rollBack(input)),
    externalIdRetire: (input: ExternalIdStep) => asFailure(() => externalIds.retire(input)),
  };
}

export type RotationActivities = ReturnType<typeof createRotationActivities>;
