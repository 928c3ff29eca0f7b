// Workflows bundle for the throwaway-operation test: every real workflow, plus the noop operation
// registered in the same registry the engine reads (at bundle load, as workflows/operations.ts does).
import { operations } from '../../../workflows/operations';
import { noopOperation } from './noop-operation';

export * from '../../../workflows';
export { accountNoop } from './noop-operation';

if (!operations.has(noopOperation.name)) operations.register(noopOperation);
