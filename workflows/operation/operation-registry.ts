import type { OperationDefinition } from './operation-definition';

// Definitions are stored type-erased: the engine, worker and CLI handle any registered operation alike.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyOperation = OperationDefinition<string, string, any>;

/** Campaign input fields an operation's parameters field may not take. */
const RESERVED_FIELDS = [
  'campaignId',
  'operation',
  'fleetFile',
  'select',
  'plan',
  'maxInFlight',
  'maxWaveSize',
  'failureBudget',
  'waveBakeSeconds',
  'approvalBefore',
  'respectMaintenanceWindows',
  'accountsPerRun',
  'allowDowngrade',
  'revert',
  'leaseWaitSeconds',
  'carry',
  'accountId',
  'wave',
  'attempt',
];

/** The fleet operations the engine can run, by name. */
export class OperationRegistry {
  private readonly byName = new Map<string, AnyOperation>();

  constructor(operations: readonly AnyOperation[] = []) {
    for (const op of operations) this.register(op);
  }

  /** Adds an operation; a clash of name, parameters field or done outcome is refused. */
  register(op: AnyOperation): void {
    if (!/^[a-z][a-z0-9-]*$/.test(op.name)) throw new Error(`operation name "${op.name}": expected kebab-case`);
    if (this.byName.has(op.name)) throw new Error(`operation "${op.name}" is already registered`);
    if (RESERVED_FIELDS.includes(op.paramsField)) {
      throw new Error(`operation "${op.name}": parameters field "${op.paramsField}" is a campaign input field`);
    }
    for (const other of this.byName.values()) {
      if (other.paramsField === op.paramsField) {
        throw new Error(`operation "${op.name}": parameters field "${op.paramsField}" is taken by "${other.name}"`);
      }
    }
    this.byName.set(op.name, op);
  }

  /** The operation, or an error listing the registered ones. */
  get(name: string): AnyOperation {
    const op = this.byName.get(name);
    if (!op) throw new Error(`unknown operation "${name}"; registered: ${this.names().join(', ')}`);
    return op;
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  names(): string[] {
    return [...this.byName.keys()];
  }

  all(): AnyOperation[] {
    return [...this.byName.values()];
  }
}
