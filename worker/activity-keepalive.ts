import type { Context } from '@temporalio/activity';
import type {
  ActivityExecuteInput,
  ActivityInboundCallsInterceptor,
  ActivityInterceptors,
  Next,
} from '@temporalio/worker';

/** Keep-alive heartbeats per heartbeat timeout: a few, so one late beat under load does not time the attempt out. */
const BEATS_PER_TIMEOUT = 4;

/**
 * Heartbeats every running activity that was given a heartbeat timeout, whether or not its own code
 * heartbeats. The timeout is how fast the server notices an attempt no worker is running: the worker
 * was SIGKILLed, or the task was lost between server and worker (marked started, never received).
 * Without it the server waits out the whole start-to-close timeout (2 minutes for one AWS call), and
 * the campaign waits with it. An attempt shorter than the beat interval never heartbeats, so quick
 * calls cost no extra request.
 *
 * The keep-alive beat carries no details: no fleetops activity reads heartbeat details on retry.
 * Local activities cannot heartbeat and are left alone.
 */
export class ActivityKeepAlive implements ActivityInboundCallsInterceptor {
  constructor(private readonly ctx: Context) {}

  async execute(input: ActivityExecuteInput, next: Next<ActivityInboundCallsInterceptor, 'execute'>): Promise<unknown> {
    const timeoutMs = this.ctx.info.heartbeatTimeoutMs;
    if (this.ctx.info.isLocal || !timeoutMs) return next(input);
    const beat = setInterval(() => this.ctx.heartbeat(), Math.max(250, timeoutMs / BEATS_PER_TIMEOUT));
    try {
      return await next(input);
    } finally {
      clearInterval(beat);
    }
  }
}

/** The worker's activity interceptor factory (Worker.create `interceptors.activity`). */
export function activityKeepAlive(ctx: Context): ActivityInterceptors {
  return { inbound: new ActivityKeepAlive(ctx) };
}
