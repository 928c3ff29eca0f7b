import { ErrorType } from '../../fleet/error-types';

/** The page an operator follows for each reason an AMI rollout quarantines (or rolls back) an account. */
export const AMI_RUNBOOKS: Partial<Record<string, string>> = {
  [ErrorType.AccountAccessDenied]: 'docs/runbooks/account-access-denied.md',
  [ErrorType.ExternalIdMissing]: 'docs/runbooks/account-access-denied.md',
  [ErrorType.ImageNotVisible]: 'docs/runbooks/ami-image-not-visible.md',
  [ErrorType.ImageKeyNotUsable]: 'docs/runbooks/ami-image-not-visible.md',
  [ErrorType.ImageShareLimitExceeded]: 'docs/runbooks/ami-share-limit.md',
  [ErrorType.LaunchTemplateVersionNotPinned]: 'docs/runbooks/ami-group-on-latest.md',
  [ErrorType.InstanceRefreshBusy]: 'docs/runbooks/ami-foreign-instance-refresh.md',
  [ErrorType.InstanceRefreshRolledBack]: 'docs/runbooks/ami-refresh-rolled-back.md',
  [ErrorType.InstanceRefreshRollbackFailed]: 'docs/runbooks/ami-rollback-failed.md',
};

/** Error types that quarantine the account (an operator must look); rolled-back outcomes keep their runbook too. */
export const AMI_QUARANTINING: string[] = [
  ErrorType.AccountAccessDenied,
  ErrorType.ExternalIdMissing,
  ErrorType.ImageNotVisible,
  ErrorType.ImageKeyNotUsable,
  ErrorType.ImageShareLimitExceeded,
  ErrorType.LaunchTemplateVersionNotPinned,
  ErrorType.InstanceRefreshBusy,
  ErrorType.InstanceRefreshRollbackFailed,
];
