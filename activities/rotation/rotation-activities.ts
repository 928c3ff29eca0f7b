import { asFailure } from '../aws/errors';
import { SecretRotation, type RotationDeps, type RotationStep, type RotationTarget } from './secret-rotation';

export type { RotationPreflight, RotationStep, RotationTarget } from './secret-rotation';

/**
 * Activities of the per-account secret rotation (accountSecretRotation), one per step. The value is
 * generated, written and compared inside them; they return version ids, tokens and booleans only.
 * Failures leave as ApplicationFailures with a stable type (VaultUnavailable and AWS 5xx/throttling retryable).
 */
export function createRotationActivities(deps: RotationDeps) {
  const rotation = new SecretRotation(deps);
  return {
    rotationPreflight: (input: RotationStep & { olderThanDays?: number }) => asFailure(() => rotation.preflight(input)),
    rotationCreatePending: (input: RotationStep) => asFailure(() => rotation.create(input)),
    rotationTestPending: (input: RotationStep & { vaultVersion: number }) => asFailure(() => rotation.test(input)),
    rotationFinish: (input: RotationStep & { vaultVersion: number }) => asFailure(() => rotation.finish(input)),
    rotationRollBack: (input: RotationStep & { previousVersionId?: string }) =>
      asFailure(() => rotation.rollBack(input)),
    rotationHealthAlarm: (input: RotationTarget) => asFailure(() => rotation.healthAlarm(input)),
  };
}

export type RotationActivities = ReturnType<typeof createRotationActivities>;
