/**
 * One AWS call as an activity (its budget wait and in-activity retries included). The worker
 * heartbeats every running activity that has a heartbeat timeout (worker/activity-keepalive.ts), so an
 * attempt on a SIGKILLed worker, or one lost between server and worker, is retried after 20 s instead
 * of after the whole start-to-close timeout. Timeouts are not part of replay: changing them is safe.
 */
export const AWS_CALL_TIMEOUTS = { startToCloseTimeout: '2 minutes', heartbeatTimeout: '20 seconds' } as const;
