import type { RotationPreflight } from '../../activities/rotation/rotation-activities';
import type { RegionResult } from '../operation/account-operation';

/** The rotation steps a due account would run. */
const STEPS = 'create (Vault version + AWSPENDING), test, finish (AWSCURRENT), health gate';
const KEY_STEPS =
  'create key (room made, Vault version, deliverTo AWSPENDING), test (STS with the new key), finish, health gate, old key cleanup';

const EXTERNAL_ID_STEPS =
  'create (pending id in Vault), set (trust policy accepts old and new), test (AssumeRole with each), finish (Vault hands out the new id), health gate, old id out of the policy after the grace';

/**
 * A plan-mode report for one account, as one compact region line: the secret, its live Vault version
 * and age, the AWS versions and their stages, whether it is due, and what would run. Pure.
 */
export function rotationPlanLine(secret: string, found: RotationPreflight): RegionResult {
  const region = found.region ?? '-';
  if (found.status === 'skipped') return { region, outcome: 'skipped', reason: found.reason };
  const live = found.live
    ? `live Vault v${found.live.vaultVersion}, ${found.live.ageDays} d old (rotated ${found.live.rotatedAt} by ${found.live.campaignId})`
    : 'no live record';
  const versions = Object.entries(found.versions ?? {})
    .map(([id, stages]) => `${id}[${stages.join(',') || '-'}]`)
    .join(' ');
  const keys = found.keys
    ? `; keys ${found.keys.map((k) => `${k.accessKeyId}[${k.status}${k.live ? ',live' : ''}]`).join(' ') || 'none'}`
    : '';
  const trust = found.trust
    ? `trust policy accepts ${found.trust.acceptedIds} ExternalId(s), ${found.trust.acceptsCurrent ? "Vault's current one among them" : "NOT Vault's current one"}`
    : undefined;
  const steps = found.kind === 'iam-access-key' ? KEY_STEPS : found.kind === 'external-id' ? EXTERNAL_ID_STEPS : STEPS;
  const verdict =
    found.status === 'due'
      ? `due: would run ${steps}`
      : found.status === 'pending-left-behind' || found.status === 'two-key-limit'
        ? `would quarantine: ${found.reason}`
        : `would skip: ${found.reason}`;
  return {
    region,
    outcome: 'planned',
    reason: `${secret} (${found.secretId}): ${live}; ${trust ?? `AWS ${versions || 'no versions'}${keys}`}; ${verdict}`,
  };
}
