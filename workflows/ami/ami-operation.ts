import { IMAGE_RELEASE_CHANNEL } from '../../fleet/image-release-schema';
import { defineOperation } from '../operation/operation-definition';
import { accountAmiRollout } from './account-ami-rollout';
import { AMI_OPERATION, AMI_PARAMS_FIELD, AmiParamsSchema } from './ami-params';
import { AMI_RUNBOOKS } from './ami-runbooks';
import { amiRevert } from './ami-revert';

/** AMI rollouts: every selected account's Auto Scaling groups move to the image release `ami.image`. */
export const amiRolloutOperation = defineOperation({
  name: AMI_OPERATION,
  paramsField: AMI_PARAMS_FIELD,
  params: AmiParamsSchema,
  childWorkflow: accountAmiRollout,
  doneOutcome: 'rolled-out',
  target: (p) => p.image,
  accountSummary: (p, accountId) => `ami-rollout ${accountId} → ${p.image}`,
  cliFlags: [
    {
      flag: '--image <release>',
      param: 'image',
      kind: 'text',
      required: true,
      description:
        'ami-rollout: the image release to move every Auto Scaling group to, or latest: the newest build on the image channel when the campaign starts',
    },
    {
      flag: '--min-healthy <percent>',
      param: 'minHealthyPercentage',
      kind: 'number',
      description: 'ami-rollout: MinHealthyPercentage of each instance refresh (default 90)',
    },
    {
      flag: '--health-bake <seconds>',
      param: 'healthBakeSeconds',
      kind: 'seconds',
      description: "how long to watch the pipeline's health alarm after the change (default 300)",
    },
  ],
  runbooks: AMI_RUNBOOKS,
  latest: { param: 'image', channel: IMAGE_RELEASE_CHANNEL },
  preflight: 'checkImageShareLimits',
  revert: amiRevert,
});
