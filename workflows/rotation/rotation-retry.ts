import type { RetryPolicy } from '@temporalio/workflow';
import { ACCOUNT_CALL_RETRY } from '../retry-policies';

/**
 * Like ACCOUNT_CALL_RETRY, with room for Vault to come back (sealed, restarted): ~20 minutes of
 * retries before the account is quarantined with the Vault runbook. Every step is idempotent.
 */
export const ROTATION_CALL_RETRY: RetryPolicy = {
  ...ACCOUNT_CALL_RETRY,
  maximumInterval: '60 seconds',
  maximumAttempts: 25,
};
