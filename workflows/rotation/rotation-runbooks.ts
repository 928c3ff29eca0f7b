import { ErrorType } from '../../fleet/error-types';

/** The page an operator follows for each reason a rotation quarantines (or rolls back) an account. */
export const ROTATION_RUNBOOKS: Partial<Record<string, string>> = {
  [ErrorType.SecretPendingLeftBehind]: 'docs/runbooks/secret-awspending-left-behind.md',
  [ErrorType.SecretTestFailed]: 'docs/runbooks/secret-test-failed-rolled-back.md',
  [ErrorType.HealthAlarm]: 'docs/runbooks/secret-test-failed-rolled-back.md',
  [ErrorType.RollbackFailed]: 'docs/runbooks/secret-test-failed-rolled-back.md',
  [ErrorType.VaultUnavailable]: 'docs/runbooks/vault-sealed-or-unreachable.md',
  [ErrorType.VaultPermissionDenied]: 'docs/runbooks/vault-sealed-or-unreachable.md',
  [ErrorType.IamTwoKeyLimit]: 'docs/runbooks/iam-two-key-limit.md',
  [ErrorType.AccountAccessDenied]: 'docs/runbooks/account-access-denied.md',
  [ErrorType.ExternalIdMissing]: 'docs/runbooks/account-access-denied.md',
  [ErrorType.TrustPolicyUnsupported]: 'docs/runbooks/external-id-lockout.md',
  [ErrorType.ExternalIdPendingLeftBehind]: 'docs/runbooks/external-id-lockout.md',
  [ErrorType.SecretRevertImpossible]: 'docs/runbooks/revert-a-campaign.md',
};

/**
 * An alarm during the bake after a revert quarantines the account with nothing rolled back (the old
 * value is the one just taken back): its page is the revert runbook's, not the rotation rollback's.
 */
export const REVERT_ALARM_RUNBOOK = 'docs/runbooks/revert-a-campaign.md#an-alarm-after-a-rotation-revert';

/** Error types that quarantine the account (an operator must look); any other stops it as failed. */
export const ROTATION_QUARANTINING: string[] = [
  ErrorType.SecretPendingLeftBehind,
  ErrorType.IamTwoKeyLimit,
  ErrorType.RollbackFailed,
  ErrorType.VaultUnavailable,
  ErrorType.VaultPermissionDenied,
  ErrorType.AccountAccessDenied,
  ErrorType.ExternalIdMissing,
  ErrorType.TrustPolicyUnsupported,
  ErrorType.ExternalIdPendingLeftBehind,
  ErrorType.SecretRevertImpossible,
];
