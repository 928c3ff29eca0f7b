import { defineOperation } from '../operation/operation-definition';
import { accountSecretRotation } from './account-secret-rotation';
import { ROTATION_OPERATION, ROTATION_PARAMS_FIELD, RotationParamsSchema } from './rotation-params';
import { ROTATION_RUNBOOKS } from './rotation-runbooks';
import { rotationRevert } from './rotation-revert';

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
  // `campaign revert`: a secretsmanager rotation goes back to the version current before it; the other
  // kinds are refused, each with why (rotation-revert.ts, docs/runbooks/revert-a-campaign.md).
  revert: rotationRevert,
});
