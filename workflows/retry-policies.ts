import type { RetryPolicy } from '@temporalio/common';
import { NON_RETRYABLE_ERROR_TYPES } from '../fleet/error-types';

/** Calls into customer accounts: throttling and 5xx retried with backoff, classified failures not at all. */
export const ACCOUNT_CALL_RETRY: RetryPolicy = {
  initialInterval: '1 second',
  backoffCoefficient: 2,
  maximumInterval: '30 seconds',
  maximumAttempts: 8,
  nonRetryableErrorTypes: NON_RETRYABLE_ERROR_TYPES,
};

/** Reading the fleet file and similar local work. */
export const LOCAL_CALL_RETRY: RetryPolicy = {
  initialInterval: '1 second',
  maximumInterval: '10 seconds',
  maximumAttempts: 5,
  nonRetryableErrorTypes: NON_RETRYABLE_ERROR_TYPES,
};
