import { proxyActivities, sleep, upsertSearchAttributes } from '@temporalio/workflow';
import { z } from 'zod';
import type { ExternalIdRetired, RotationActivities } from '../../activities/rotation/rotation-activities';
import { ACCOUNT_ID_PATTERN, SecretNameSchema } from '../../fleet/fleet-fields';
import { FLEET_ACCOUNT_ID, FLEET_CAMPAIGN_ID, FLEET_OPERATION, FLEET_STATE } from '../search-attributes';
import { parseWorkflowInput } from '../workflow-input';
import { ROTATION_CALL_RETRY } from './rotation-retry';
import { ROTATION_OPERATION } from './rotation-params';
import { AWS_CALL_TIMEOUTS } from '../activity-timeouts';

/**
 * Input of externalIdCleanup: which rotation (its token and pending Vault version, from which the old
 * id is read back in the activity — the id itself never enters the workflow), and when.
 */
export const ExternalIdCleanupInputSchema = z.strictObject({
  campaignId: z.string().min(1),
  accountId: z.string().regex(ACCOUNT_ID_PATTERN),
  fleetFile: z.string().min(1),
  secret: SecretNameSchema,
  token: z.uuid(),
  vaultVersion: z.number().int().min(1),
  graceSeconds: z.number().int().min(0).max(7_776_000),
});
export type ExternalIdCleanupInput = z.input<typeof ExternalIdCleanupInputSchema>;

const steps = proxyActivities<RotationActivities>({ ...AWS_CALL_TIMEOUTS, retry: ROTATION_CALL_RETRY });

/** One cleanup per (campaign, account, rotation token): a restarted or replayed rotation never starts a second. */
export function externalIdCleanupId(campaignId: string, accountId: string, token: string): string {
  return `${campaignId}/${accountId}/cleanup-external-id-${token}`;
}

/**
 * After an `external-id` rotation: the old ExternalId stays accepted by the trust policy for
 * `graceSeconds` (workers may hold it in their cache), then is removed — unless Vault hands it out
 * again. A durable timer: the campaign's window does not wait for it; a worker restart does not lose it.
 */
export async function externalIdCleanup(rawInput: ExternalIdCleanupInput): Promise<ExternalIdRetired> {
  const input = parseWorkflowInput('externalIdCleanup', ExternalIdCleanupInputSchema, rawInput);
  const { campaignId, accountId, fleetFile, secret, token, vaultVersion, graceSeconds } = input;
  upsertSearchAttributes([
    { key: FLEET_CAMPAIGN_ID, value: campaignId },
    { key: FLEET_OPERATION, value: ROTATION_OPERATION },
    { key: FLEET_ACCOUNT_ID, value: accountId },
    { key: FLEET_STATE, value: 'grace' },
  ]);
  await sleep(graceSeconds * 1000);
  const retired = await steps.externalIdRetire({ campaignId, accountId, fleetFile, secret, token, vaultVersion });
  upsertSearchAttributes([{ key: FLEET_STATE, value: `external-id-${retired.action}` }]);
  return retired;
}
