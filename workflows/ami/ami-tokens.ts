/**
 * Deterministic names of an AMI rollout's side effects (pure, for workflow code): the ClientToken of
 * the launch template version with the new image, derived from campaign/account/region/group/attempt,
 * so a retried or replayed step finds the version it made instead of making another.
 */
import { uuidV5 } from '../rotation/uuid-v5';

/** fleetops' namespace for AMI rollout tokens: uuidV5('fleetops.ami-rollout', UUID_NAMESPACE_DNS). */
export const AMI_TOKEN_NAMESPACE = '475aa053-ef64-5947-9de5-dffbb94c9087';

/** ClientToken of CreateLaunchTemplateVersion for one group in one attempt (a UUID: 36 of AWS's 64 characters). */
export function launchTemplateVersionToken(
  campaignId: string,
  accountId: string,
  region: string,
  groupName: string,
  attempt: number,
): string {
  return uuidV5(`ami-rollout/${campaignId}/${accountId}/${region}/${groupName}/${attempt}`, AMI_TOKEN_NAMESPACE);
}

/** The health alarm an AMI rollout watches for a group (and hands the refresh as its AlarmSpecification). */
export const groupHealthAlarm = (groupName: string) => `${groupName}-health`;

/** A numbered launch template version as written on a group (`"3"`), or undefined for `$Latest`/`$Default`. */
export function pinnedVersion(version: string): number | undefined {
  return /^[1-9][0-9]*$/.test(version) ? Number(version) : undefined;
}
