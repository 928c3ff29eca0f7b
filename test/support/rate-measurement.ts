import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { callAws } from '../../activities/aws/aws-call';
import { RateLimits } from '../../activities/aws/rate-limiter';
import { RateBudgetsSchema } from '../../fleet/rate-budgets';

export type RateMeasurement = {
  budget: number;
  seconds: number;
  calls: number;
  observedRate: number;
  serverSeenRate: number;
  errorPercent: number;
  finalRate: number;
};

/**
 * Drives sts:GetCallerIdentity through the AWS proxy at far more demand than the budget (many
 * concurrent callers) for `seconds`, through the same `callAws` + `RateLimits` the activities use,
 * and reports the rate the client achieved and the rate the proxy saw.
 */
export async function measureRate(opts: {
  awsEndpoint: string;
  budgetPerSecond: number;
  seconds: number;
  concurrency?: number;
}): Promise<RateMeasurement> {
  const limits = new RateLimits(
    RateBudgetsSchema.parse({ families: { sts: { perSecond: opts.budgetPerSecond, burst: 1 } } }),
  );
  const sts = new STSClient({
    region: 'eu-west-1',
    endpoint: opts.awsEndpoint,
    maxAttempts: 1,
    credentials: { accessKeyId: 'rate-test', secretAccessKey: 'rate-test' },
  });
  const stats = async () =>
    ((await (await fetch(`${opts.awsEndpoint}/__fleetops/stats`)).json()) as { byAction: Record<string, number> })
      .byAction['sts:GetCallerIdentity'] ?? 0;
  const seenBefore = await stats();
  let calls = 0;
  let errors = 0;
  const started = performance.now();
  const deadline = started + opts.seconds * 1000;
  const lane = async () => {
    while (performance.now() < deadline) {
      try {
        await callAws(
          limits,
          { family: 'sts', api: 'GetCallerIdentity', region: 'eu-west-1' },
          () => sts.send(new GetCallerIdentityCommand({})),
          { maxAttempts: 1, baseDelayMs: 0, maxDelayMs: 0 },
        );
        calls++;
      } catch {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency ?? 32 }, lane));
  const seconds = (performance.now() - started) / 1000;
  const seen = (await stats()) - seenBefore;
  sts.destroy();
  return {
    budget: opts.budgetPerSecond,
    seconds,
    calls,
    observedRate: (calls + errors) / seconds,
    serverSeenRate: seen / seconds,
    errorPercent: (100 * errors) / Math.max(1, calls + errors),
    finalRate: limits.familyBucket('sts', 'eu-west-1').currentRate,
  };
}
