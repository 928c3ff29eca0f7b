import { ApplicationFailure } from '@temporalio/activity';
import { ErrorType, NON_RETRYABLE_ERROR_TYPES } from '../../fleet/error-types';

/** Context attached to a classified error: which account, region and API. Never a credential. */
export type ErrorContext = { accountId?: string; region?: string; api?: string; awsCode?: string; httpStatus?: number };

/**
 * A classified fleetops error. `name` is one of the stable ErrorType names, so an ApplicationFailure
 * built from it carries that type and the workflow's retry policy knows whether to retry.
 */
export class FleetOpsError extends Error {
  readonly retryable: boolean;
  constructor(
    override readonly name: ErrorType,
    message: string,
    readonly context: ErrorContext = {},
  ) {
    super(message);
    this.retryable = !NON_RETRYABLE_ERROR_TYPES.includes(name);
  }

  toFailure(): ApplicationFailure {
    return ApplicationFailure.create({
      type: this.name,
      message: this.message,
      nonRetryable: !this.retryable,
      details: [this.context],
    });
  }
}

const THROTTLING_CODES = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
  'PriorRequestNotComplete',
  'EC2ThrottledException',
]);
const ACCESS_DENIED_CODES = new Set([
  'AccessDenied',
  'AccessDeniedException',
  'UnauthorizedOperation',
  'InvalidClientTokenId',
  'UnrecognizedClientException',
  'AuthFailure',
  'SignatureDoesNotMatch',
]);
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'TimeoutError',
  'socket hang up',
]);

type AwsLikeError = {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  $fault?: string;
};

export function isThrottling(err: unknown): boolean {
  const e = err as AwsLikeError;
  return THROTTLING_CODES.has(e?.name ?? '') || e?.$metadata?.httpStatusCode === 429;
}

/**
 * Classifies an AWS SDK error once: throttling and 5xx/network → retryable; access denied →
 * `AccountAccessDenied` when it came from getting into the account; other 4xx → rejected.
 */
export function classifyAwsError(err: unknown, context: ErrorContext & { assumingRole?: boolean }): FleetOpsError {
  if (err instanceof FleetOpsError) return err;
  const e = (err ?? {}) as AwsLikeError;
  const code = e.name ?? e.code ?? 'Error';
  const httpStatus = e.$metadata?.httpStatusCode;
  const { assumingRole, ...ctx } = context;
  const where = [ctx.api, ctx.accountId && `account ${ctx.accountId}`, ctx.region].filter(Boolean).join(' in ');
  const full = { ...ctx, awsCode: code, httpStatus };
  if (isThrottling(err)) return new FleetOpsError(ErrorType.AwsThrottled, `${where}: throttled by AWS (${code})`, full);
  if (ACCESS_DENIED_CODES.has(code) && assumingRole) {
    return new FleetOpsError(
      ErrorType.AccountAccessDenied,
      `${where}: access denied (${code}): ${e.message ?? ''}`.trim(),
      full,
    );
  }
  if ((httpStatus ?? 0) >= 500 || e.$fault === 'server' || NETWORK_CODES.has(code) || NETWORK_CODES.has(e.code ?? '')) {
    return new FleetOpsError(
      ErrorType.AwsUnavailable,
      `${where}: AWS unavailable (${code}${httpStatus ? ` HTTP ${httpStatus}` : ''})`,
      full,
    );
  }
  if (ACCESS_DENIED_CODES.has(code)) {
    return new FleetOpsError(
      ErrorType.AccountAccessDenied,
      `${where}: access denied (${code}): ${e.message ?? ''}`.trim(),
      full,
    );
  }
  return new FleetOpsError(ErrorType.AwsRequestRejected, `${where}: ${code}: ${e.message ?? 'request rejected'}`, full);
}

/** Converts classified errors to ApplicationFailures (type + retryability); anything else is a bug and retries. */
export async function asFailure<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof FleetOpsError) throw err.toFailure();
    throw err;
  }
}
