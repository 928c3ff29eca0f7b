/**
 * The customer's pipeline stack through CloudFormation: reads, change sets, waits and rollback.
 * Every function takes the deps and one request object naming the account, region and run.
 */
export { isStackBusy, readPipelineStack, type PipelineStackState } from './stack-reads';
export {
  createChangeSet,
  deleteChangeSet,
  describeChangeSet,
  executeChangeSet,
  EXECUTED_STATUSES,
  type ChangeSetChange,
  type ChangeSetRef,
  type ChangeSetState,
  type CreateChangeSetRequest,
} from './change-sets';
export { rollbackStack, type RollbackStackRequest } from './stack-updates';
export { waitForChangeSet, waitForStackStatus, type PollOptions } from './waits';
