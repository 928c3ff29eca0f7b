/**
 * Stable error type names, classified once. Activities throw ApplicationFailures with these types;
 * workflows put the non-retryable ones in `nonRetryableErrorTypes` and record them as reasons.
 */
export const ErrorType = {
  /** AssumeRole refused (trust policy, wrong/missing ExternalId, role missing). Never retried. */
  AccountAccessDenied: 'AccountAccessDenied',
  /** The account's ExternalId is not in Vault at its externalIdRef. Never retried. */
  ExternalIdMissing: 'ExternalIdMissing',
  /** The account is not in the fleet file the workflow was started with. Never retried. */
  AccountNotInFleet: 'AccountNotInFleet',
  /** The fleet file is invalid or unreadable. Never retried. */
  InvalidFleetFile: 'InvalidFleetFile',
  /**
   * The workflow named a fleet file outside the worker's configured fleet locations (FLEETOPS_FLEET_DIRS),
   * or one reached through `..`, a symlink pointing out, or not a regular file. Nothing was read. Never retried.
   */
  FleetFileNotAllowed: 'FleetFileNotAllowed',
  /**
   * An upgrade would move a stack to a version lower than the one it runs, and the campaign did not say
   * `allowDowngrade` (a revert does). The account is skipped, nothing changed.
   */
  DowngradeRefused: 'DowngradeRefused',
  /** Workflow input failed validation. Never retried. */
  InvalidWorkflowInput: 'InvalidWorkflowInput',
  /** AWS rejected the request as malformed or not allowed (4xx other than throttling). Never retried. */
  AwsRequestRejected: 'AwsRequestRejected',
  /** AWS throttled the request (Throttling, RequestLimitExceeded, …). Retried with backoff. */
  AwsThrottled: 'AwsThrottled',
  /** AWS answered 5xx or the connection failed. Retried with backoff. */
  AwsUnavailable: 'AwsUnavailable',
  /** Vault answered 5xx (503: sealed or standby), 429, timed out or could not be reached. Retried with backoff. */
  VaultUnavailable: 'VaultUnavailable',
  /**
   * Vault refused fleetops' identity: a path outside its policy (403, after the token was checked and
   * still valid) or an AppRole login / VAULT_TOKEN it rejects. An operator fixes the policy or credentials. Never retried.
   */
  VaultPermissionDenied: 'VaultPermissionDenied',
  /**
   * A KV v2 check-and-set write found another current version than the one expected (someone else, or an
   * earlier attempt of the same step, wrote first). Retrying the same write cannot succeed: the caller
   * re-reads and decides. Never retried.
   */
  VaultCasMismatch: 'VaultCasMismatch',
  /** Vault rejected the request as malformed (4xx other than 403/404/429, or an invalid path). Never retried. */
  VaultRequestRejected: 'VaultRequestRejected',
  /** The account's pipeline stack does not exist in a region it should run in. Account quarantined. */
  StackMissing: 'StackMissing',
  /** The pipeline stack is in UPDATE_ROLLBACK_FAILED: needs an operator (continue-update-rollback). Account quarantined. */
  StackInRollbackFailed: 'StackInRollbackFailed',
  /** The pipeline stack is in a state no update can start from (ROLLBACK_COMPLETE, DELETE_FAILED, …). Account quarantined. */
  StackNotUpdatable: 'StackNotUpdatable',
  /** The pipeline stack stayed busy with someone else's operation longer than allowed. Account quarantined. */
  StackBusy: 'StackBusy',
  /** CloudFormation could not create the change set (status FAILED). Never retried. */
  ChangeSetFailed: 'ChangeSetFailed',
  /** The stack update failed and CloudFormation rolled it back (UPDATE_ROLLBACK_COMPLETE). */
  UpdateRolledBack: 'UpdateRolledBack',
  /** The stack ended an update in a state fleetops did not expect (e.g. UPDATE_COMPLETE at another version). */
  UnexpectedStackState: 'UnexpectedStackState',
  /** A pipeline health alarm went to ALARM during the bake after an update; the account was rolled back. */
  HealthAlarm: 'HealthAlarm',
  /** Rolling an account back to its previous version failed. Account quarantined. */
  RollbackFailed: 'RollbackFailed',
  /** A secret's AWSPENDING stage sits on a version fleetops did not make (someone else's rotation). Account quarantined. */
  SecretPendingLeftBehind: 'SecretPendingLeftBehind',
  /** The new secret version read back from AWS does not match Vault's (by hash); the rotation was rolled back. */
  SecretTestFailed: 'SecretTestFailed',
  /**
   * The IAM user already has two keys and neither may be deleted (both active, or one active key that is not
   * the live one and was not made by this rotation): no room for a new key. Account quarantined.
   */
  IamTwoKeyLimit: 'IamTwoKeyLimit',
  /**
   * The execution role's trust policy does not state its ExternalId in a form fleetops can edit safely
   * (no Allow statement for sts:AssumeRole with `StringEquals` on `sts:ExternalId`, another operator on
   * it, or a document that does not parse). Account quarantined: nothing was changed.
   */
  TrustPolicyUnsupported: 'TrustPolicyUnsupported',
  /**
   * An ExternalId rotation of another campaign is unfinished at the account's externalIdRef (a pending
   * id written by another rotation token). Account quarantined.
   */
  ExternalIdPendingLeftBehind: 'ExternalIdPendingLeftBehind',
  /** An AMI rollout's image release cannot be resolved for the account (unknown name, a region missing). Never retried. */
  ImageReleaseUnavailable: 'ImageReleaseUnavailable',
  /** The shared image is not visible (or not `available`) from inside the account after sharing. Account quarantined. */
  ImageNotVisible: 'ImageNotVisible',
  /**
   * The image's snapshots are encrypted and the account cannot use the KMS key (no grant, grant revoked,
   * key disabled or pending deletion, or an AWS-managed key, which cannot be shared). Account quarantined.
   */
  ImageKeyNotUsable: 'ImageKeyNotUsable',
  /** Sharing the image with the campaign's accounts would pass AWS's 1,000 accounts per image and region. Never retried. */
  ImageShareLimitExceeded: 'ImageShareLimitExceeded',
  /** An Auto Scaling group the fleet file names does not exist, or launches from no launch template. Never retried. */
  AutoScalingGroupMissing: 'AutoScalingGroupMissing',
  /** The group runs `$Latest`/`$Default`, not a numbered version: a rollback would have nothing to go back to. Account quarantined. */
  LaunchTemplateVersionNotPinned: 'LaunchTemplateVersionNotPinned',
  /** Someone else's instance refresh stayed in progress on the group longer than allowed. Account quarantined. */
  InstanceRefreshBusy: 'InstanceRefreshBusy',
  /** The instance refresh to the new image failed, was cancelled or rolled back; the group is on its previous version. */
  InstanceRefreshRolledBack: 'InstanceRefreshRolledBack',
  /** Putting the group back on its previous launch template version failed (RollbackFailed). Account quarantined. */
  InstanceRefreshRollbackFailed: 'InstanceRefreshRollbackFailed',
  /**
   * A rotation revert cannot take the secret back: the version that was AWSCURRENT before the rotation no
   * longer exists in Secrets Manager. Account quarantined (nothing was changed).
   */
  SecretRevertImpossible: 'SecretRevertImpossible',
} as const;
export type ErrorType = (typeof ErrorType)[keyof typeof ErrorType];

export const NON_RETRYABLE_ERROR_TYPES: ErrorType[] = [
  ErrorType.AccountAccessDenied,
  ErrorType.ExternalIdMissing,
  ErrorType.AccountNotInFleet,
  ErrorType.InvalidFleetFile,
  ErrorType.FleetFileNotAllowed,
  ErrorType.InvalidWorkflowInput,
  ErrorType.AwsRequestRejected,
  ErrorType.VaultPermissionDenied,
  ErrorType.TrustPolicyUnsupported,
  ErrorType.VaultCasMismatch,
  ErrorType.VaultRequestRejected,
  ErrorType.StackMissing,
  ErrorType.StackInRollbackFailed,
  ErrorType.StackBusy,
  ErrorType.StackNotUpdatable,
  ErrorType.ChangeSetFailed,
  ErrorType.UpdateRolledBack,
  ErrorType.UnexpectedStackState,
  ErrorType.HealthAlarm,
  ErrorType.RollbackFailed,
  ErrorType.SecretPendingLeftBehind,
  ErrorType.SecretTestFailed,
  ErrorType.IamTwoKeyLimit,
  ErrorType.ExternalIdPendingLeftBehind,
  ErrorType.ImageReleaseUnavailable,
  ErrorType.ImageNotVisible,
  ErrorType.ImageKeyNotUsable,
  ErrorType.ImageShareLimitExceeded,
  ErrorType.AutoScalingGroupMissing,
  ErrorType.LaunchTemplateVersionNotPinned,
  ErrorType.InstanceRefreshBusy,
  ErrorType.InstanceRefreshRolledBack,
  ErrorType.InstanceRefreshRollbackFailed,
  ErrorType.SecretRevertImpossible,
];
