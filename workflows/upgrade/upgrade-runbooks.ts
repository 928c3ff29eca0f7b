import { ErrorType } from '../../fleet/error-types';

/** The page an operator follows for each reason an upgrade quarantines an account. */
export const UPGRADE_RUNBOOKS: Partial<Record<string, string>> = {
  [ErrorType.AccountAccessDenied]: 'docs/runbooks/account-access-denied.md',
  [ErrorType.ExternalIdMissing]: 'docs/runbooks/account-access-denied.md',
  [ErrorType.StackMissing]: 'docs/runbooks/stack-missing.md',
  [ErrorType.StackInRollbackFailed]: 'docs/runbooks/update-rollback-failed.md',
  [ErrorType.StackBusy]: 'docs/runbooks/stack-busy.md',
  [ErrorType.StackNotUpdatable]: 'docs/runbooks/stack-not-updatable.md',
  [ErrorType.RollbackFailed]: 'docs/runbooks/rollback-failed.md',
};
