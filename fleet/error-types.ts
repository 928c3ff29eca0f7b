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
  /** Workflow input failed validation. Never retried. */
  InvalidWorkflowInput: 'InvalidWorkflowInput',
  /** AWS rejected the request as malformed or not allowed (4xx other than throttling). Never retried. */
  AwsRequestRejected: 'AwsRequestRejected',
  /** AWS throttled the request (Throttling, RequestLimitExceeded, …). Retried with backoff. */
  AwsThrottled: 'AwsThrottled',
  /** AWS answered 5xx or the connection failed. Retried with backoff. */
  AwsUnavailable: 'AwsUnavailable',
  /** Vault answered 5xx or could not be reached. Retried with backoff. */
  VaultUnavailable: 'VaultUnavailable',
} as const;
export type ErrorType = (typeof ErrorType)[keyof typeof ErrorType];

export const NON_RETRYABLE_ERROR_TYPES: ErrorType[] = [
  ErrorType.AccountAccessDenied,
  ErrorType.ExternalIdMissing,
  ErrorType.AccountNotInFleet,
  ErrorType.InvalidFleetFile,
  ErrorType.InvalidWorkflowInput,
  ErrorType.AwsRequestRejected,
];
