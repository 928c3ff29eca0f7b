/**
 * One load process for the shared-budget test and bench: drives sts:GetCallerIdentity through the AWS
 * proxy with `callAws` (the activities' path) at far more demand than the budgets, its budgets counted
 * in FLEETOPS_RATE_STORE (or in this process when unset), and prints one JSON line of what it did.
 * Three streams run at once, told apart at the proxy by their signing region:
 *  - `family` (eu-west-1): the (sts, region) budget alone;
 *  - `account` (us-east-1): calls inside a few accounts, the per-account budget binds;
 *  - `assumeRole` (eu-central-1): calls counted as AssumeRole from fleetops' own identity (the global budget).
 * Run: tsx test/support/shared-budget-load.ts '<LoadSpec JSON>'
 */
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { z } from 'zod';
import { callAws, type AwsCallTarget } from '../../activities/aws/aws-call';
import { IN_PROCESS_GATES, RateLimits, realClock } from '../../activities/aws/rate-limiter';
import { SharedBudgetGates } from '../../activities/aws/shared-budget-gates';
import { RateBudgetsSchema } from '../../fleet/rate-budgets';

export const LoadSpec = z.strictObject({
  awsEndpoint: z.url(),
  store: z.string().optional(),
  scope: z.string(),
  budgets: z.unknown(),
  accounts: z.array(z.string().regex(/^\d{12}$/)),
  /** Epoch ms at which every process starts calling, so they overlap exactly. */
  startAt: z.number(),
  seconds: z.number().positive(),
  lanesPerStream: z.number().int().positive(),
});
export type LoadSpec = z.infer<typeof LoadSpec>;

export const STREAM_REGIONS = { family: 'eu-west-1', account: 'us-east-1', assumeRole: 'eu-central-1' } as const;
export type Stream = keyof typeof STREAM_REGIONS;

export type LoadResult = {
  pid: number;
  limiter: string;
  /** Calls made per stream, and per account of the `account` stream: [epoch ms admitted, account] pairs. */
  calls: Record<Stream, number>;
  accountCalls: Array<[number, string]>;
  errors: number;
  /** When this process began and stopped calling (epoch ms): it may start after `startAt` on a busy machine. */
  startedAt: number;
  endedAt: number;
};

async function run(spec: LoadSpec): Promise<LoadResult> {
  const gates = spec.store ? new SharedBudgetGates(spec.store, spec.scope) : undefined;
  await gates?.ready();
  const limits = new RateLimits(RateBudgetsSchema.parse(spec.budgets), realClock, gates ?? IN_PROCESS_GATES);
  const result: LoadResult = {
    pid: process.pid,
    limiter: limits.kind,
    calls: { family: 0, account: 0, assumeRole: 0 },
    accountCalls: [],
    errors: 0,
    startedAt: 0,
    endedAt: 0,
  };
  const clients = Object.fromEntries(
    Object.entries(STREAM_REGIONS).map(([stream, region]) => [
      stream,
      new STSClient({
        region,
        endpoint: spec.awsEndpoint,
        maxAttempts: 1,
        credentials: { accessKeyId: 'shared-budget-test', secretAccessKey: 'shared-budget-test' },
      }),
    ]),
  ) as Record<Stream, STSClient>;
  // Warm up each client (SDK set-up, connection) outside the budgets, so the first window's calls are
  // not held back by a cold start and counted in the next window at the proxy.
  await Promise.all(Object.values(clients).map((c) => c.send(new GetCallerIdentityCommand({}))));
  await new Promise((r) => setTimeout(r, Math.max(0, spec.startAt - Date.now())));
  result.startedAt = Date.now();
  const deadline = result.startedAt + spec.seconds * 1000;
  const lane = async (stream: Stream, n: number) => {
    for (let i = n; Date.now() < deadline; i++) {
      const accountId = stream === 'account' ? spec.accounts[i % spec.accounts.length] : undefined;
      const target: AwsCallTarget = {
        family: 'sts',
        api: stream === 'assumeRole' ? 'AssumeRole' : 'GetCallerIdentity',
        region: STREAM_REGIONS[stream],
        accountId,
        assumingRole: stream === 'assumeRole',
      };
      let admittedAt = 0;
      const send = () => {
        admittedAt = Date.now(); // the budgets let this call go now
        return clients[stream].send(new GetCallerIdentityCommand({}));
      };
      try {
        await callAws(limits, target, send, { maxAttempts: 1, baseDelayMs: 0, maxDelayMs: 0 });
        result.calls[stream]++;
        if (accountId) result.accountCalls.push([admittedAt, accountId]);
      } catch {
        result.errors++;
      }
    }
  };
  await Promise.all(
    (Object.keys(STREAM_REGIONS) as Stream[]).flatMap((stream) =>
      Array.from({ length: spec.lanesPerStream }, (_, n) => lane(stream, n)),
    ),
  );
  result.endedAt = Date.now();
  for (const c of Object.values(clients)) c.destroy();
  gates?.close();
  return result;
}

if (require.main === module) {
  run(LoadSpec.parse(JSON.parse(process.argv[2] ?? '{}')))
    .then((r) => process.stdout.write(`${JSON.stringify(r)}\n`))
    .catch((err: Error) => {
      process.stderr.write(`${err.stack ?? err.message}\n`);
      process.exit(1);
    });
}
