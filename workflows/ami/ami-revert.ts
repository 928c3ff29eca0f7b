/**
 * How `fleetops campaign revert` takes back an AMI rollout, one account at a time: from the account's
 * last child result, every group the rollout moved (outcome rolled-out: launch template version N → M)
 * goes back to N; every other group (already current, rolled back, quarantined, skipped, never started)
 * is left alone and listed. Pure (workflow-safe): used by the CLI's planner and the unit tests.
 */
import type { AccountOperationResult, RegionResult } from '../operation/account-operation';
import type { RevertStep } from '../operation/operation-definition';
import type { AmiRevertGroup } from './ami-params';
import { pinnedVersion } from './ami-tokens';

/** The rollout's done outcome (of the account and of each group it moved). */
const MOVED = 'rolled-out';

export function amiRevert(result: AccountOperationResult): RevertStep {
  if (result.outcome !== MOVED)
    return { leftAlone: result.reason ? `${result.outcome}: ${result.reason}` : result.outcome };
  const moved = result.regions.filter((r) => r.outcome === MOVED);
  if (!moved.length) return { leftAlone: 'no group was moved' };
  const groups: AmiRevertGroup[] = [];
  const unrecorded: string[] = [];
  for (const r of moved) {
    const g = revertGroupOf(r);
    if (g) groups.push(g);
    else unrecorded.push(`${r.region} ${r.group ?? '(unnamed group)'}`);
  }
  if (unrecorded.length)
    return {
      refused: `account ${result.accountId}: its result does not record the launch template and both versions (N before, M after) of ${unrecorded.join(', ')} — a rollout by fleetops before AMI revert was added; put these groups back by hand (docs/runbooks/revert-a-campaign.md)`,
    };
  const leftAloneParts = result.regions
    .filter((r) => r.outcome !== MOVED)
    .map((r) => ({
      state: r.outcome,
      reason: `${r.region} group ${r.group ?? '?'} not moved by the campaign (${r.outcome}${r.reason ? `: ${r.reason}` : ''})`,
    }));
  return { params: { revertGroups: groups }, ...(leftAloneParts.length ? { leftAloneParts } : {}) };
}

/** The group's way back (M → N), or undefined when the result lacks any of it. */
function revertGroupOf(r: RegionResult): AmiRevertGroup | undefined {
  const n = pinnedVersion(r.fromVersion ?? '');
  const m = pinnedVersion(r.toVersion ?? '');
  if (!r.group || !r.launchTemplateId || n === undefined || m === undefined || n === m) return undefined;
  return { region: r.region, group: r.group, launchTemplateId: r.launchTemplateId, fromVersion: m, toVersion: n };
}
