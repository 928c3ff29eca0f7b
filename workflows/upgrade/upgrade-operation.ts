import type { AccountOperationResult } from '../operation/account-operation';
import { defineOperation, type RevertStep } from '../operation/operation-definition';
import { accountUpgrade } from './account-upgrade';
import { UPGRADE_OPERATION, UPGRADE_PARAMS_FIELD, UpgradeParamsSchema } from './upgrade-params';
import { UPGRADE_RUNBOOKS } from './upgrade-runbooks';

/** The release channel `--version latest` reads (`fleetops release publish VERSION` publishes on it). */
export const PIPELINE_RELEASE_CHANNEL = 'pipeline';

/** Upgrade campaigns: every selected account's pipeline stack moves to `upgrade.targetVersion`. */
export const upgradeOperation = defineOperation({
  name: UPGRADE_OPERATION,
  paramsField: UPGRADE_PARAMS_FIELD,
  params: UpgradeParamsSchema,
  childWorkflow: accountUpgrade,
  doneOutcome: 'upgraded',
  target: (p) => p.targetVersion,
  // The version an account moves from is per region, read by the child: its live details show it.
  accountSummary: (p, accountId) => `upgrade ${accountId} → ${p.targetVersion}`,
  cliFlags: [
    {
      flag: '--version <semver>',
      param: 'targetVersion',
      kind: 'text',
      required: true,
      description:
        'upgrade: the pipeline version to move every stack to (semver), or latest: the newest release on the pipeline channel when the campaign starts',
    },
    {
      flag: '--stateful <approve|skip>',
      param: 'onStatefulChange',
      kind: 'text',
      description:
        'upgrade: when a change would replace/remove a stateful resource: wait for approval or skip the account (default skip)',
    },
    {
      flag: '--health-bake <seconds>',
      param: 'healthBakeSeconds',
      kind: 'seconds',
      description: "upgrade: how long to watch the pipeline's alarms after an update (default 300)",
    },
    {
      flag: '--busy-stack-wait <seconds>',
      param: 'busyStackWaitSeconds',
      kind: 'seconds',
      description: "upgrade: how long to wait for a stack busy with someone else's update (default 1800)",
    },
  ],
  runbooks: UPGRADE_RUNBOOKS,
  latest: { param: 'targetVersion', channel: PIPELINE_RELEASE_CHANNEL },
  revert: upgradeRevert,
});

/**
 * An upgraded account goes back region by region to the version each upgraded region ran before
 * (`regionVersions`; regions that were already current are not touched). Any other outcome changed
 * nothing that stayed changed (rolled back, skipped, quarantined, failed): left alone.
 */
export function upgradeRevert(result: AccountOperationResult): RevertStep {
  if (result.outcome !== 'upgraded')
    return { leftAlone: result.reason ? `${result.outcome}: ${result.reason}` : result.outcome };
  const upgraded = result.regions.filter((r) => r.outcome === 'upgraded');
  const unknown = upgraded.filter((r) => !r.fromVersion).map((r) => r.region);
  if (unknown.length) return { leftAlone: `the version before the upgrade is unknown in ${unknown.join(', ')}` };
  if (!upgraded.length) return { leftAlone: 'no region was upgraded' };
  const regionVersions = Object.fromEntries(upgraded.map((r) => [r.region, r.fromVersion as string]));
  return { params: { targetVersion: upgraded[0].fromVersion, regionVersions } };
}
