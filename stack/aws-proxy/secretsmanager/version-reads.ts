/**
 * GetSecretValue without VersionId or VersionStage: moto answers with the version it last made
 * current through PutSecretValue/UpdateSecret (its "default version"), which UpdateSecretVersionStage
 * does not move — so after a stage move it returns a stale value. AWS answers with AWSCURRENT:
 * the request is forwarded with `VersionStage: AWSCURRENT`.
 */
import type { LayerResponse } from '../core/service-layer';
import type { SecretsCall } from './secrets-call';
import { AWSCURRENT } from './secrets-calls';

export function getSecretValue(call: SecretsCall): Promise<LayerResponse> {
  if (call.param('VersionId') || call.param('VersionStage')) return call.forward();
  return call.forward('forwarded(AWSCURRENT)', { ...call.params, VersionStage: AWSCURRENT });
}
