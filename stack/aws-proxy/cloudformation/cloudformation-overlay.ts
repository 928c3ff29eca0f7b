/**
 * What the proxy knows about CloudFormation stacks and change sets beyond moto: simulated stack
 * statuses laid over moto's (an update in progress, a rollback), the change sets it saw created
 * (target version, ARN, whether and how they were executed) and stack ARNs. Statuses are computed
 * from recorded times against the `now` passed in — no timers. In memory only, bounded.
 */
import type { UpdateOutcome } from './cloudformation-faults';

export interface StackRef {
  account: string;
  region: string;
  stackName: string;
}

export function stackKey(ref: StackRef): string {
  return [ref.account, ref.region, ref.stackName].join('\u0000');
}

export type InProgressStatus = 'UPDATE_IN_PROGRESS' | 'UPDATE_ROLLBACK_IN_PROGRESS';
export type TerminalStatus = 'UPDATE_COMPLETE' | 'UPDATE_ROLLBACK_COMPLETE' | 'UPDATE_ROLLBACK_FAILED';

/** A simulated status of one stack: `inProgress` until `endsAt`, then `terminal`. */
export interface StackOverlay extends StackRef {
  stackId?: string;
  startedAt: number;
  endsAt: number;
  inProgress: InProgressStatus;
  terminal: TerminalStatus;
  /** What started it, for the admin view, e.g. `ExecuteChangeSet upgrade-2-0-0`. */
  cause: string;
}

export function terminalStatusFor(outcome: UpdateOutcome): TerminalStatus {
  if (outcome === 'rolled-back') return 'UPDATE_ROLLBACK_COMPLETE';
  if (outcome === 'rollback-failed') return 'UPDATE_ROLLBACK_FAILED';
  return 'UPDATE_COMPLETE';
}

/** The overlay's status at `now`; undefined once it no longer differs from what moto reports (a finished applied update). */
export function overlayStatus(overlay: StackOverlay, now: number): string | undefined {
  if (now < overlay.endsAt) return overlay.inProgress;
  return overlay.terminal === 'UPDATE_COMPLETE' ? undefined : overlay.terminal;
}

/** Whether CreateChangeSet / ExecuteChangeSet / UpdateStack are refused in this stack status. */
export function blocksUpdates(status: string | undefined): boolean {
  return status !== undefined && (status.endsWith('_IN_PROGRESS') || status === 'UPDATE_ROLLBACK_FAILED');
}

export type ChangeSetType = 'CREATE' | 'UPDATE' | 'IMPORT';

export interface ChangeSetExecutionRecord {
  at: number;
  /** When the simulated update ends (== at when it is instantaneous). */
  endsAt: number;
  outcome: UpdateOutcome;
}

export interface ChangeSetRecord extends StackRef {
  changeSetName: string;
  arn: string;
  stackId: string;
  type: ChangeSetType;
  /** Target `PipelineVersion` (undefined when not given explicitly). */
  version: string | undefined;
  /** When CreateChangeSet took effect (ms since the epoch, proxy clock). */
  createdAt?: number;
  execution?: ChangeSetExecutionRecord;
  /** Another update of the stack ran after this change set was created. */
  obsolete?: boolean;
}

/** The ExecutionStatus the proxy reports for a change set at `now` (undefined: moto's is right). */
export function changeSetExecutionStatus(record: ChangeSetRecord, now: number): string | undefined {
  const ex = record.execution;
  if (ex) {
    if (now < ex.endsAt) return 'EXECUTE_IN_PROGRESS';
    return ex.outcome === 'applied' ? 'EXECUTE_COMPLETE' : 'EXECUTE_FAILED';
  }
  return record.obsolete ? 'OBSOLETE' : undefined;
}

function boundedSet<K, V>(map: Map<K, V>, key: K, value: V, max: number): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > max) {
    const oldest = map.keys().next();
    if (!oldest.done) map.delete(oldest.value);
  }
}

export class CloudFormationOverlay {
  private readonly overlays = new Map<string, StackOverlay>();
  private readonly stackIds = new Map<string, string>();
  private readonly changeSetsByArn = new Map<string, ChangeSetRecord>();
  private readonly changeSetsByStack = new Map<string, Set<ChangeSetRecord>>();
  /** stackKey + name → ARN of the latest change set with that name on that stack. */
  private readonly changeSetArnsByName = new Map<string, string>();

  constructor(private readonly maxEntries = 200_000) {}

  // ---- stacks

  setOverlay(overlay: StackOverlay): void {
    boundedSet(this.overlays, stackKey(overlay), overlay, this.maxEntries);
    if (overlay.stackId) this.rememberStackId(overlay, overlay.stackId);
  }

  overlayOf(ref: StackRef): StackOverlay | undefined {
    return this.overlays.get(stackKey(ref));
  }

  /** Restores a previous overlay (or none), e.g. when moto refused an update the proxy had marked in progress. */
  restoreOverlay(ref: StackRef, previous: StackOverlay | undefined): void {
    if (previous) this.overlays.set(stackKey(ref), previous);
    else this.overlays.delete(stackKey(ref));
  }

  /** The simulated status of a stack at `now`, if any (a stack id that differs from the overlay's is another stack). */
  statusOf(ref: StackRef, now: number, stackId?: string): string | undefined {
    const overlay = this.overlays.get(stackKey(ref));
    if (!overlay) return undefined;
    if (stackId && overlay.stackId && stackId !== overlay.stackId) return undefined;
    return overlayStatus(overlay, now);
  }

  rememberStackId(ref: StackRef, stackId: string): void {
    boundedSet(this.stackIds, stackKey(ref), stackId, this.maxEntries);
  }

  stackIdOf(ref: StackRef): string | undefined {
    return this.stackIds.get(stackKey(ref));
  }

  /** The stack was deleted or created anew: forget its overlay and id. */
  forgetStack(ref: StackRef): void {
    this.overlays.delete(stackKey(ref));
    this.stackIds.delete(stackKey(ref));
  }

  // ---- change sets

  rememberChangeSet(record: ChangeSetRecord): void {
    const previous = this.changeSetsByArn.get(record.arn);
    if (previous) this.forgetChangeSet(previous);
    this.changeSetsByArn.set(record.arn, record);
    const key = stackKey(record);
    const ofStack = this.changeSetsByStack.get(key) ?? new Set<ChangeSetRecord>();
    ofStack.add(record);
    this.changeSetsByStack.set(key, ofStack);
    this.changeSetArnsByName.set(`${key}\u0000${record.changeSetName}`, record.arn);
    this.rememberStackId(record, record.stackId);
    if (this.changeSetsByArn.size > this.maxEntries) {
      const oldest = this.changeSetsByArn.values().next();
      if (!oldest.done) this.forgetChangeSet(oldest.value);
    }
  }

  changeSetByArn(arn: string): ChangeSetRecord | undefined {
    return this.changeSetsByArn.get(arn);
  }

  changeSetByName(ref: StackRef, changeSetName: string): ChangeSetRecord | undefined {
    const arn = this.changeSetArnsByName.get(`${stackKey(ref)}\u0000${changeSetName}`);
    return arn ? this.changeSetsByArn.get(arn) : undefined;
  }

  forgetChangeSet(record: ChangeSetRecord): void {
    if (this.changeSetsByArn.get(record.arn) === record) this.changeSetsByArn.delete(record.arn);
    const key = stackKey(record);
    const ofStack = this.changeSetsByStack.get(key);
    ofStack?.delete(record);
    if (ofStack?.size === 0) this.changeSetsByStack.delete(key);
    const nameKey = `${key}\u0000${record.changeSetName}`;
    if (this.changeSetArnsByName.get(nameKey) === record.arn) this.changeSetArnsByName.delete(nameKey);
  }

  /**
   * Marks the stack's other unexecuted change sets OBSOLETE, as CloudFormation does after an update;
   * returns a function that undoes it.
   */
  obsoleteOthers(ref: StackRef, except?: string): () => void {
    const marked: ChangeSetRecord[] = [];
    for (const record of this.changeSetsByStack.get(stackKey(ref)) ?? []) {
      if (record.arn === except || record.execution || record.obsolete) continue;
      record.obsolete = true;
      marked.push(record);
    }
    return () => {
      for (const record of marked) record.obsolete = false;
    };
  }

  // ---- admin

  snapshot(now: number): { stacks: Array<StackOverlay & { status: string }>; changeSets: number; stackIds: number } {
    const stacks = [...this.overlays.values()].map((o) => ({ ...o, status: overlayStatus(o, now) ?? o.terminal }));
    return { stacks, changeSets: this.changeSetsByArn.size, stackIds: this.stackIds.size };
  }

  reset(): void {
    this.overlays.clear();
    this.stackIds.clear();
    this.changeSetsByArn.clear();
    this.changeSetsByStack.clear();
    this.changeSetArnsByName.clear();
  }
}
