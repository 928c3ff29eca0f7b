/**
 * ClientRequestToken idempotency on PutSecretValue, UpdateSecret and CreateSecret (the token becomes
 * the new version's VersionId). AWS: a token that names an existing version with the same value is
 * ignored (success, nothing changes); with a different value the request fails with
 * ResourceExistsException. moto refuses the different value only when the version does not carry
 * AWSPENDING; on an AWSPENDING version it overwrites the value (and replaces the version's labels),
 * which is the rotation case. The layer looks the token up first and answers both cases itself.
 */
import type { LayerResponse } from '../core/service-layer';
import type { SecretsCall } from './secrets-call';
import { jsonAnswer, secretsError } from './secrets-calls';

/** The secret a token-carrying request writes to (`Name` for CreateSecret). */
function secretIdOf(call: SecretsCall): string | undefined {
  return call.req.info.action === 'CreateSecret' ? call.param('Name') : call.param('SecretId');
}

export async function versionWithToken(call: SecretsCall): Promise<LayerResponse> {
  const token = call.param('ClientRequestToken');
  const secretId = secretIdOf(call);
  const secretString = call.params.SecretString;
  const secretBinary = call.params.SecretBinary;
  const writesValue = secretString !== undefined || secretBinary !== undefined;
  if (!token || !secretId || !writesValue) return call.forward();

  const described = await call.moto.describe(secretId);
  if (!described.ok || !Object.hasOwn(described.value.VersionIdsToStages ?? {}, token)) return call.forward();

  const existing = await call.moto.valueOf(secretId, token);
  // A version without a value (RotateSecret's empty AWSPENDING) is filled by moto as AWS does.
  if (!existing.ok) return call.forward();

  const { ARN, Name, VersionId, VersionStages, SecretString, SecretBinary } = existing.value;
  if (SecretString === secretString && SecretBinary === secretBinary) {
    const answer =
      call.req.info.action === 'PutSecretValue' ? { ARN, Name, VersionId, VersionStages } : { ARN, Name, VersionId };
    return jsonAnswer(answer, 'replayed-token');
  }
  return secretsError(
    'ResourceExistsException',
    `You can't use ClientRequestToken ${token} because that value is already in use for a version of secret ${ARN}.`,
    'refused(token-reused)',
  );
}
