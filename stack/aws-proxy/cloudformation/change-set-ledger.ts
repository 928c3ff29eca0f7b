/**
 * Counts, per (account, region, stack, change set name), how many times a change set execution
 * took effect: forwarded to moto, or simulated as a rollback. Served at
 * `GET /__fleetops/cloudformation/executions` so tests can assert nothing was executed twice.
 */

export interface ChangeSetExecution {
  account: string;
  region: string;
  stackName: string;
  changeSetName: string;
  /** Target `PipelineVersion` of the change set, null when it had none (or it was not known). */
  version: string | null;
  count: number;
  /**
   * Proxy clock (ms since the epoch) of the first execution that took effect: when its change set was
   * created (null: not seen by this proxy), executed, and when its simulated update ends — what a test
   * compares to show two changes of one account never overlapped.
   */
  createdAt: number | null;
  executedAt: number;
  updateEndsAt: number;
}

export class ChangeSetLedger {
  private readonly entries = new Map<string, ChangeSetExecution>();

  record(
    execution: Omit<ChangeSetExecution, 'count' | 'version'> & { version: string | undefined },
  ): ChangeSetExecution {
    const key = [execution.account, execution.region, execution.stackName, execution.changeSetName].join('\u0000');
    const entry = this.entries.get(key) ?? { ...execution, version: execution.version ?? null, count: 0 };
    // the first execution's times stay (a second one is a bug the count shows)
    entry.count++;
    if (execution.version !== undefined) entry.version = execution.version;
    this.entries.set(key, entry);
    return { ...entry };
  }

  /** Sorted by account, region, stack, change set. */
  list(): ChangeSetExecution[] {
    const cmp = (a: ChangeSetExecution, b: ChangeSetExecution): number =>
      a.account.localeCompare(b.account) ||
      a.region.localeCompare(b.region) ||
      a.stackName.localeCompare(b.stackName) ||
      a.changeSetName.localeCompare(b.changeSetName);
    return [...this.entries.values()].map((e) => ({ ...e })).sort(cmp);
  }

  reset(): void {
    this.entries.clear();
  }
}
