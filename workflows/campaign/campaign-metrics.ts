import { metricMeter } from '@temporalio/workflow';

/**
 * The campaign engine's metrics, on the workflow's metric meter (not emitted during replay), served on
 * the worker's Prometheus endpoint: per-account children started and finished, by operation and
 * outcome. Accounts in flight = started − finished.
 *
 * | metric                             | labels                                            |
 * | ---------------------------------- | ------------------------------------------------- |
 * | `fleetops_accounts_started_total`  | operation (+ Temporal's namespace, task_queue, …) |
 * | `fleetops_accounts_total`          | operation, outcome                                |
 */
export function accountStarted(operation: string): void {
  metricMeter
    .createCounter('fleetops_accounts_started', 'accounts', 'per-account children started')
    .add(1, { operation });
}

export function accountFinished(operation: string, outcome: string): void {
  metricMeter
    .createCounter('fleetops_accounts', 'accounts', 'per-account children finished, by outcome')
    .add(1, { operation, outcome });
}
