/**
 * ListSecretVersionIds: moto answers every version's `CreatedDate` (and `LastAccessedDate`) with the
 * time of the request, so every version looks just made. AWS answers when each version was created:
 * the layer takes each version's `CreatedDate` from moto's GetSecretValue by VersionId (which moto
 * answers with the version's real creation time; the value stays in the proxy) and answers with those.
 * `LastAccessedDate` is left out (AWS gives it per day and only once a version was read).
 */
import type { LayerResponse } from '../core/service-layer';
import type { SecretsCall } from './secrets-call';
import { jsonAnswer, motoError } from './secrets-calls';

type VersionEntry = { VersionId?: string; CreatedDate?: number; LastAccessedDate?: number; [k: string]: unknown };

export async function listSecretVersionIds(call: SecretsCall): Promise<LayerResponse> {
  const secretId = call.param('SecretId');
  if (!secretId) return call.forward();
  const listed = await call.moto.call<{ Versions?: VersionEntry[]; [k: string]: unknown }>(
    'ListSecretVersionIds',
    call.params,
  );
  if (!listed.ok) return motoError(listed, 'forwarded(error)');
  const versions: VersionEntry[] = [];
  for (const v of listed.value.Versions ?? []) {
    const { LastAccessedDate: _unknown, ...entry } = v;
    if (!v.VersionId) {
      versions.push(entry);
      continue;
    }
    const read = await call.moto.call<{ CreatedDate?: number }>('GetSecretValue', {
      SecretId: secretId,
      VersionId: v.VersionId,
    });
    versions.push(
      read.ok && typeof read.value.CreatedDate === 'number' ? { ...entry, CreatedDate: read.value.CreatedDate } : entry,
    );
  }
  return jsonAnswer({ ...listed.value, Versions: versions }, 'version-created-dates');
}
