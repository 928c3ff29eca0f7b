/** Plan mode of an AMI rollout, one line per Auto Scaling group: current image, target image, whether it can be rolled back. Pure. */
import { outcomeKind, type RegionResult } from '../../workflows/operation/account-operation';

/** A region result of an AMI rollout (it names its group). */
export const isAmiGroupResult = (r: RegionResult): boolean => r.group !== undefined;

/** The group would move: planned, onto an image it is not on yet. */
export const amiGroupWouldChange = (r: RegionResult): boolean =>
  isAmiGroupResult(r) && r.outcome === 'planned' && r.fromImage !== r.toImage;

/**
 * `  ▲ 100000000001 eu-west-1 data-pipeline-workers  ami-1 (version 3) → ami-2  can roll back`;
 * `=` already on the target image, `!` would move but cannot be rolled back (the rollout quarantines it),
 * `✖` could not be planned.
 */
export function formatAmiPlanLine(accountId: string, r: RegionResult): string {
  const failed = outcomeKind(r.outcome) === 'failed';
  const mark = failed ? '✖' : r.canRollBack === false ? '!' : amiGroupWouldChange(r) ? '▲' : '=';
  const from = `${r.fromImage ?? '?'}${r.fromVersion ? ` (version ${r.fromVersion})` : ''}`;
  const images = `${from} → ${r.toImage ?? '?'}`;
  const rollBack =
    r.outcome === 'already-current'
      ? 'already on the target image'
      : r.canRollBack === undefined
        ? r.outcome
        : r.canRollBack
          ? 'can roll back'
          : 'cannot roll back';
  return `  ${mark} ${accountId} ${r.region} ${r.group ?? '?'}  ${images}  ${rollBack}${r.reason ? `  ${r.reason}` : ''}`;
}
