import { defineOperation } from '../operation/operation-definition';
import { accountSecretRotation } from './account-secret-rotation';
import { ROTATION_OPERATION, ROTATION_PARAMS_FIELD, RotationParamsSchema } from './rotation-params';
import { ROTATION_RUNBOOKS } from './rotation-runbooks';

/** Secret rotation: every selected account's `rotation.secret` gets a new value from Vault (kind secretsmanager). */
export const rotateSecretOperation = defineOperation({
  name: ROTATION_OPERATION,
  paramsField: ROTATION_PARAMS_FIELD,
  params: RotationParamsSchema,
  childWorkflow: accountSecretRotation,
  doneOutcome: 'rotated',
  target: (p) => p.secret,
  accountSummary: (p, accountId) => `rotate-secret ${accountId} ${p.secret}`,
  cliFlags: [
    {
      flag: '--secret <name>',
      param: 'secret',
      kind: 'text',
      required: true,
      description: 'rotate-secret: the secret to rotate, by its name in the fleet file (e.g. collector-api-key)',
    },
    {
      flag: '--older-than <days>',
      param: 'olderThanDays',
      kind: 'days',
      description: 'rotate-secret: only accounts whose live value is at least this old (30 or 30d)',
    },
    {
      flag: '--health-bake <seconds>',
      param: 'healthBakeSeconds',
      kind: 'seconds',
      description: "how long to watch the pipeline's health alarm after the change (default 300)",
    },
  ],
  runbooks: ROTATION_RUNBOOKS,
  // Not revertible yet (docs/runbooks/revert-a-campaign.md, "Rotation campaigns").
  revertRefusal:
    'a rotation cannot be reverted yet. Per kind: a Secrets Manager secret could go back only while its AWSPREVIOUS version still exists (moving AWSCURRENT back to it; the consumers must accept the old value again); an IAM access key only while the old key still exists and is not deleted (re-activated, the new one deactivated); an ExternalId only within its grace period (the trust policy still accepts the old one). None of these is implemented: rotate again instead (a new value is the safe way forward)',
});
