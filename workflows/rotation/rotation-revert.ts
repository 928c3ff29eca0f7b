/**
 * How `fleetops campaign revert` takes back a rotation, one account at a time, from the account's last
 * child result: a `secretsmanager` secret the rotation moved (AWSCURRENT from version `fromVersion` to
 * `toVersion`) goes back to `fromVersion`; an account the rotation did not change is left alone. The
 * other kinds are refused, each with why (their old value is gone or about to be). Pure
 * (workflow-safe): used by the CLI's planner and the unit tests.
 */
import type { AccountOperationResult } from '../operation/account-operation';
import type { RevertStep } from '../operation/operation-definition';
import type { RotationRevert } from './rotation-params';

/** The rotation's done outcome. */
const ROTATED = 'rotated';

/** Why a rotation of each kind other than `secretsmanager` is not taken back. */
export const ROTATION_REVERT_REFUSALS: Record<string, string> = {
  'iam-access-key':
    'an IAM access key rotation cannot be reverted: the old key is deactivated after the grace and deleted after that, and its secret half exists nowhere else; rotate again (docs/runbooks/revert-a-campaign.md, "IAM access key and ExternalId rotations")',
  'external-id':
    'an ExternalId rotation cannot be reverted: the old id leaves the role\'s trust policy after the grace, and handing it out again would lock fleetops out of the account; rotate again (docs/runbooks/revert-a-campaign.md, "IAM access key and ExternalId rotations")',
};

export function rotationRevert(result: AccountOperationResult): RevertStep {
  if (result.outcome !== ROTATED)
    return { leftAlone: result.reason ? `${result.outcome}: ${result.reason}` : result.outcome };
  const r = result.regions[0];
  const kind = r?.secretKind;
  if (kind && kind !== 'secretsmanager')
    return {
      refused: `account ${result.accountId}: ${ROTATION_REVERT_REFUSALS[kind] ?? `secret kind ${kind} has no revert`}`,
    };
  if (!r || !kind || !r.secretId || !r.toVersion)
    return {
      refused: `account ${result.accountId}: its result does not record the secret and the versions before and after (a rotation by fleetops before rotation revert was added); put AWSCURRENT back by hand (docs/runbooks/revert-a-campaign.md)`,
    };
  if (!r.fromVersion || r.fromVersion === r.toVersion)
    return { leftAlone: `${r.secretId}: no other version was AWSCURRENT before the rotation (nothing to go back to)` };
  const revert: RotationRevert = {
    region: r.region,
    secretId: r.secretId,
    fromVersionId: r.toVersion,
    toVersionId: r.fromVersion,
  };
  return { params: { revert } };
}
