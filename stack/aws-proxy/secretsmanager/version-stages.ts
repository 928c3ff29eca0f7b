/**
 * Staging-label moves moto gets wrong.
 *
 * RotateSecret: AWS refuses it while a previous rotation is unfinished — AWSPENDING on a version
 * that is not AWSCURRENT — and accepts AWSPENDING on the AWSCURRENT version (a finished rotation).
 * moto's check is inverted. The layer refuses the unfinished case itself, and in the finished case
 * takes AWSPENDING off the current version before forwarding (RotateSecret moves it to the new
 * version anyway).
 *
 * UpdateSecretVersionStage of AWSCURRENT without RemoveFromVersionId: when no version is current
 * (a secret whose first value never became current), AWS attaches AWSCURRENT to MoveToVersionId;
 * moto fails with an internal error (HTTP 500). The layer makes the move through calls moto handles
 * (see attachCurrent) and answers as AWS does.
 */
import type { LayerResponse } from '../core/service-layer';
import type { SecretsCall } from './secrets-call';
import {
  AWSCURRENT,
  AWSPENDING,
  AWSPREVIOUS,
  jsonAnswer,
  motoError,
  secretsError,
  versionWith,
  type SecretsMoto,
  type VersionStages,
} from './secrets-calls';

export async function rotateSecret(call: SecretsCall): Promise<LayerResponse> {
  const secretId = call.param('SecretId');
  if (!secretId) return call.forward();
  const described = await call.moto.describe(secretId);
  if (!described.ok) return call.forward();
  const stages = described.value.VersionIdsToStages ?? {};
  const pending = versionWith(stages, AWSPENDING);
  if (pending === undefined) return call.forward();
  if (!stages[pending].includes(AWSCURRENT)) {
    return secretsError(
      'InvalidRequestException',
      "A previous rotation isn't complete. That rotation will be reattempted.",
      'refused(rotation-in-progress)',
    );
  }
  const cleared = await call.moto.updateStage(secretId, AWSPENDING, { removeFrom: pending });
  if (!cleared.ok) return motoError(cleared, 'upstream-refused');
  return call.forward('forwarded(pending-cleared)');
}

export async function updateSecretVersionStage(call: SecretsCall): Promise<LayerResponse> {
  const secretId = call.param('SecretId');
  const moveTo = call.param('MoveToVersionId');
  if (!secretId || call.param('VersionStage') !== AWSCURRENT || call.param('RemoveFromVersionId') || !moveTo) {
    return call.forward();
  }
  const described = await call.moto.describe(secretId);
  if (!described.ok) return call.forward();
  const stages = described.value.VersionIdsToStages ?? {};
  // Some version is current (moto refuses as AWS does) or the target does not exist (moto refuses): forward.
  if (versionWith(stages, AWSCURRENT) !== undefined || !Object.hasOwn(stages, moveTo)) return call.forward();

  const attached = await attachCurrent(call.moto, secretId, stages, moveTo);
  if (attached) return attached;
  return jsonAnswer({ ARN: described.value.ARN, Name: described.value.Name }, 'simulated(current-attached)');
}

/**
 * Attaches AWSCURRENT to `target` when no version carries it, leaving every other label in place.
 * moto can only do that by rewriting an AWSPENDING version through PutSecretValue with the version's
 * own token and value (which also re-dates it, takes AWSPREVIOUS off every version and replaces the
 * labels of moto's "default version" with AWSPREVIOUS); the labels are then put back as they were.
 * Returns an error answer, or undefined on success.
 */
async function attachCurrent(
  moto: SecretsMoto,
  secretId: string,
  before: VersionStages,
  target: string,
): Promise<LayerResponse | undefined> {
  const value = await moto.valueOf(secretId, target);
  if (!value.ok) {
    return secretsError(
      'InternalServiceError',
      `aws-proxy cannot attach AWSCURRENT to version ${target}: moto holds no value for it (${value.message})`,
      'unsupported(current-on-empty-version)',
      500,
    );
  }
  if (!before[target].includes(AWSPENDING)) {
    const holder = versionWith(before, AWSPENDING);
    const moved = await moto.updateStage(secretId, AWSPENDING, { removeFrom: holder, moveTo: target });
    if (!moved.ok) return motoError(moved, 'upstream-refused');
  }
  const wanted: VersionStages = {
    ...before,
    [target]: [...before[target].filter((s) => s !== AWSPREVIOUS), AWSCURRENT],
  };
  const { SecretString, SecretBinary } = value.value;
  const put = await moto.call('PutSecretValue', {
    SecretId: secretId,
    ClientRequestToken: target,
    ...(SecretString !== undefined ? { SecretString } : {}),
    ...(SecretBinary !== undefined ? { SecretBinary } : {}),
    VersionStages: wanted[target],
  });
  if (!put.ok) return motoError(put, 'upstream-refused');
  return restoreStages(moto, secretId, wanted);
}

/** Moves labels until moto's versions carry exactly `wanted` (AWSCURRENT excepted, which is in place). */
async function restoreStages(
  moto: SecretsMoto,
  secretId: string,
  wanted: VersionStages,
): Promise<LayerResponse | undefined> {
  const now = await moto.describe(secretId);
  if (!now.ok) return motoError(now, 'upstream-refused');
  const actual = now.value.VersionIdsToStages ?? {};
  for (const [id, labels] of Object.entries(actual)) {
    for (const label of labels) {
      if (label === AWSCURRENT || (wanted[id] ?? []).includes(label)) continue;
      const removed = await moto.updateStage(secretId, label, { removeFrom: id });
      if (!removed.ok) return motoError(removed, 'upstream-refused');
    }
  }
  for (const [id, labels] of Object.entries(wanted)) {
    for (const label of labels) {
      if (label === AWSCURRENT || (actual[id] ?? []).includes(label)) continue;
      const added = await moto.updateStage(secretId, label, { moveTo: id });
      if (!added.ok) return motoError(added, 'upstream-refused');
    }
  }
  return undefined;
}
