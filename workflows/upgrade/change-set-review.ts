import type { ChangeSetChange } from '../../activities/aws/cloudformation';
import type { RegionPlan } from '../operation/account-operation';

/** Replacement values of a Modify that (may) replace the resource. */
const REPLACING = new Set(['True', 'Conditional']);

export type ChangeKind = 'added' | 'modified' | 'replaced' | 'removed';

/** What a change does to its resource: Add → added, Remove → removed, Modify with Replacement True/Conditional → replaced. */
export function changeKind(change: ChangeSetChange): ChangeKind {
  if (change.action === 'Add' || change.action === 'Import') return 'added';
  if (change.action === 'Remove') return 'removed';
  if (change.replacement && REPLACING.has(change.replacement)) return 'replaced';
  return 'modified';
}

/**
 * Reviews a change set: counts per kind, and the stateful resources (types in `statefulTypes`) it
 * would replace or remove, as `LogicalId (Type): replace|remove`, which need an operator's approval.
 */
export function reviewChangeSet(changes: ChangeSetChange[], statefulTypes: readonly string[]): RegionPlan {
  const plan: RegionPlan = { added: 0, modified: 0, replaced: 0, removed: 0, needsApproval: [] };
  const stateful = new Set(statefulTypes);
  for (const change of changes) {
    const kind = changeKind(change);
    plan[kind]++;
    if ((kind === 'replaced' || kind === 'removed') && stateful.has(change.resourceType)) {
      plan.needsApproval.push(
        `${change.logicalId} (${change.resourceType}): ${kind === 'replaced' ? 'replace' : 'remove'}`,
      );
    }
  }
  return plan;
}
