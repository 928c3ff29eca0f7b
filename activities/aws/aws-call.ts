import { classifyAwsError, type FleetOpsError } from './errors';
import type { RateLimits } from './rate-limiter';

export type AwsCallTarget = {
  /** AWS API family (SDK service id): sts, cloudformation, ec2, … */
  family: string;
  /** The API name, for errors and logs: AssumeRole, DescribeStacks, … */
  api: string;
  region: string;
  /** The customer account the call acts in, if any (per-account budget). */
  accountId?: string;
  /** Set when this call is the AssumeRole into the account (access denied → AccountAccessDenied). */
  assumingRole?: boolean;
};

export type AwsCallOptions = {
  /** Attempts inside the activity before the classified error goes to Temporal's retry policy. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Called before each retry (e.g. to heartbeat). */
  onRetry?: (error: FleetOpsError, attempt: number) => void;
};

export const DEFAULT_AWS_CALL_OPTIONS: AwsCallOptions = { maxAttempts: 4, baseDelayMs: 200, maxDelayMs: 5000 };

/**
 * Makes one AWS call inside the rate budgets. Every attempt takes a token; a throttling answer slows
 * the budget down; throttling and 5xx are retried here with jittered exponential backoff a few times,
 * then thrown classified (retryable or not) for the activity's retry policy to handle.
 */
export async function callAws<T>(
  limits: RateLimits,
  target: AwsCallTarget,
  call: () => Promise<T>,
  options: AwsCallOptions = DEFAULT_AWS_CALL_OPTIONS,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    await limits.acquire(target.family, target.region, target.accountId, target.assumingRole);
    try {
      const out = await call();
      limits.metrics.awsCall(target, 'ok');
      return out;
    } catch (err) {
      const classified = classifyAwsError(err, {
        accountId: target.accountId,
        region: target.region,
        api: `${target.family}:${target.api}`,
        assumingRole: target.assumingRole,
      });
      const throttled = classified.name === 'AwsThrottled';
      limits.metrics.awsCall(target, throttled ? 'throttled' : 'error');
      if (throttled) limits.throttled(target.family, target.region, target.accountId, target.assumingRole);
      if (!classified.retryable || attempt >= options.maxAttempts) throw classified;
      options.onRetry?.(classified, attempt);
      const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (attempt - 1));
      await new Promise((r) => setTimeout(r, ceiling / 2 + Math.random() * (ceiling / 2)));
    }
  }
}
