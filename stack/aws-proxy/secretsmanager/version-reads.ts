/**
 * GetSecretValue without VersionId or VersionStage: moto answers with the version it last made
 * current through PutSecretValue/UpdateSecret (its "default version"), which UpdateSecretVersionStage
 * does not move — so after a stage move it returns a stale value. AWS answers with AWSCURRENT:
 * the request is forwarded with `VersionStage: AWSCURRENT`.
 *
 * Fault plan `secretsmanager.staleVersionReadsFor`: a read by VersionId in those accounts answers with
 * AWSCURRENT (see secretsmanager-faults.ts).
 */
import type { LayerResponse } from '../core/service-layer';
import type { SecretsCall } from './secrets-call';
import { AWSCURRENT } from './secrets-calls';
import type { SecretsManagerPlan } from './secretsmanager-faults';

export function getSecretValue(call: SecretsCall, plan?: SecretsManagerPlan): Promise<LayerResponse> {
  if (call.param('VersionId') && plan?.staleVersionReadsFor.includes(call.req.info.account ?? '')) {
    const { VersionId: _dropped, ...rest } = call.params;
    return call.forward('fault(stale-version-read)', { ...rest, VersionStage: AWSCURRENT });
  }
  if (call.param('VersionId') || call.param('VersionStage')) return call.forward();
  return call.forward('forwarded(AWSCURRENT)', { ...call.params, VersionStage: AWSCURRENT });
}
