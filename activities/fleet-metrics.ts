/**
 * fleetops' own worker metrics, served with the Temporal Runtime's on the worker's Prometheus endpoint
 * (FLEETOPS_METRICS_ADDRESS). Labels are bounded sets — API family, API, region, outcome — never an
 * account id or a value.
 *
 * | metric                                   | type      | labels                          |
 * | ---------------------------------------- | --------- | ------------------------------- |
 * | `fleetops_aws_calls_total`               | counter   | family, api, region, outcome    |
 * | `fleetops_rate_limiter_wait_count` (`_sum`, `_bucket`; ms) | histogram | family, region |
 * | `fleetops_credential_cache_total`        | counter   | result (hit, miss)              |
 *
 * `outcome`: ok, throttled (AWS throttled the attempt), error (any other failure). The campaign engine
 * counts accounts itself (workflows/campaign/campaign-metrics.ts).
 */
import type { MetricCounter, MetricHistogram, MetricMeter } from '@temporalio/common';

export type AwsCallOutcome = 'ok' | 'throttled' | 'error';

export interface FleetMetrics {
  /** One attempt of an AWS call (a retried call counts each attempt). */
  awsCall(call: { family: string; api: string; region: string }, outcome: AwsCallOutcome): void;
  /** How long a call waited for its rate budgets (0 when it did not). */
  rateLimiterWait(call: { family: string; region: string }, ms: number): void;
  /** A credentials lookup for an account: served from the cache, or an AssumeRole was needed. */
  credentialCache(result: 'hit' | 'miss'): void;
}

/** Records nothing (unit tests, scripts, a worker without a metrics address). */
export const NO_METRICS: FleetMetrics = {
  awsCall: () => undefined,
  rateLimiterWait: () => undefined,
  credentialCache: () => undefined,
};

/** FleetMetrics on a Temporal MetricMeter (the Runtime's: `Runtime.instance().metricMeter`). */
export class TemporalFleetMetrics implements FleetMetrics {
  private readonly calls: MetricCounter;
  private readonly waits: MetricHistogram;
  private readonly cache: MetricCounter;

  constructor(meter: MetricMeter) {
    this.calls = meter.createCounter(
      'fleetops_aws_calls',
      'calls',
      'AWS call attempts by API family, API, region and outcome',
    );
    this.waits = meter.createHistogram(
      'fleetops_rate_limiter_wait',
      'int',
      'milliseconds',
      'time AWS calls waited for their rate budgets',
    );
    this.cache = meter.createCounter('fleetops_credential_cache', 'lookups', 'account credential lookups by result');
  }

  awsCall(call: { family: string; api: string; region: string }, outcome: AwsCallOutcome): void {
    this.calls.add(1, { family: call.family, api: call.api, region: call.region, outcome });
  }

  rateLimiterWait(call: { family: string; region: string }, ms: number): void {
    this.waits.record(Math.max(0, Math.round(ms)), { family: call.family, region: call.region });
  }

  credentialCache(result: 'hit' | 'miss'): void {
    this.cache.add(1, { result });
  }
}
