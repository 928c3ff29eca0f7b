/**
 * How long the server waits for a heartbeat before it retries an attempt elsewhere. The worker
 * heartbeats every running activity that has a heartbeat timeout (worker/activity-keepalive.ts), so an
 * attempt on a SIGKILLed worker, or one lost between server and worker, is retried after this instead
 * of after its whole start-to-close timeout. A slow attempt keeps heartbeating and is not cut short.
 * Timeouts are not part of replay: changing them is safe for running workflows.
 */
export const KEEPALIVE_HEARTBEAT_TIMEOUT = '20 seconds';

/** One AWS call as an activity, its budget wait and in-activity retries included. */
export const AWS_CALL_TIMEOUTS = {
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: KEEPALIVE_HEARTBEAT_TIMEOUT,
} as const;

/** Reading the fleet file, planning and similar local work as an activity task. */
export const LOCAL_CALL_TIMEOUTS = {
  startToCloseTimeout: '1 minute',
  heartbeatTimeout: KEEPALIVE_HEARTBEAT_TIMEOUT,
} as const;
