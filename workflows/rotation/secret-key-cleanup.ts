import { proxyActivities, sleep, upsertSearchAttributes } from '@temporalio/workflow';
import { z } from 'zod';
import type { KeyCleanupResult, RotationActivities } from '../../activities/rotation/rotation-activities';
import { ACCOUNT_ID_PATTERN, SecretNameSchema } from '../../fleet/fleet-fields';
import { FLEET_ACCOUNT_ID, FLEET_CAMPAIGN_ID, FLEET_OPERATION, FLEET_STATE } from '../search-attributes';
import { parseWorkflowInput } from '../workflow-input';
import { ROTATION_CALL_RETRY } from './rotation-retry';
import { ROTATION_OPERATION } from './rotation-params';
import { AWS_CALL_TIMEOUTS } from '../activity-timeouts';

/** Input of secretKeyCleanup: which old key, of which account's secret, and when (seconds after the start). */
export const SecretKeyCleanupInputSchema = z.strictObject({
  campaignId: z.string().min(1),
  accountId: z.string().regex(ACCOUNT_ID_PATTERN),
  fleetFile: z.string().min(1),
  secret: SecretNameSchema,
  accessKeyId: z.string().regex(/^[A-Z0-9]{16,128}$/),
  graceSeconds: z.number().int().min(0).max(7_776_000),
  deleteAfterSeconds: z.number().int().min(0).max(7_776_000),
});
export type SecretKeyCleanupInput = z.input<typeof SecretKeyCleanupInputSchema>;
export type SecretKeyCleanupResult = { accessKeyId: string; deactivate: string; delete: string };

const steps = proxyActivities<RotationActivities>({ ...AWS_CALL_TIMEOUTS, retry: ROTATION_CALL_RETRY });

/**
 * The workflow id of an old key's cleanup: one per (campaign, account, key), so a restarted or
 * replayed rotation never starts a second one. The whole key id (an id, not a secret): a short prefix
 * is not unique (moto's ids share their first 12 characters across accounts).
 */
export function secretKeyCleanupId(campaignId: string, accountId: string, accessKeyId: string): string {
  return `${campaignId}/${accountId}/cleanup-${accessKeyId}`;
}

/**
 * After an `iam-access-key` rotation: the old key stays active for `graceSeconds` (loaders still hold
 * it), is then deactivated — only if it is still not the live key — and deleted at `deleteAfterSeconds`
 * (after the start) — only if it is still inactive. Durable timers: the rotation (and the campaign's
 * window) does not wait for this; a worker restart does not lose it. Key ids only, never a secret.
 */
export async function secretKeyCleanup(rawInput: SecretKeyCleanupInput): Promise<SecretKeyCleanupResult> {
  const input = parseWorkflowInput('secretKeyCleanup', SecretKeyCleanupInputSchema, rawInput);
  const { campaignId, accountId, fleetFile, secret, accessKeyId, graceSeconds, deleteAfterSeconds } = input;
  upsertSearchAttributes([
    { key: FLEET_CAMPAIGN_ID, value: campaignId },
    { key: FLEET_OPERATION, value: ROTATION_OPERATION },
    { key: FLEET_ACCOUNT_ID, value: accountId },
    { key: FLEET_STATE, value: 'grace' },
  ]);
  const step = { campaignId, accountId, fleetFile, secret, accessKeyId };
  await sleep(graceSeconds * 1000);
  const deactivated: KeyCleanupResult = await steps.iamKeyDeactivate(step);
  upsertSearchAttributes([{ key: FLEET_STATE, value: `key-${deactivated.action}` }]);
  await sleep(Math.max(0, deleteAfterSeconds - graceSeconds) * 1000);
  const deleted: KeyCleanupResult = await steps.iamKeyDelete(step);
  upsertSearchAttributes([{ key: FLEET_STATE, value: `key-${deleted.action}` }]);
  return { accessKeyId, deactivate: deactivated.action, delete: deleted.action };
}
