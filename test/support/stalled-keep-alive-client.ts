/**
 * A client of the AWS proxy whose event loop stalls between two requests, as a busy test process or
 * worker does: one request, a synchronous stall of STALL_MS, then a second request on the pooled
 * keep-alive socket before the client's own idle timer or the server's FIN could be processed.
 *
 *   node --import tsx test/support/stalled-keep-alive-client.ts <fetch|aws-sdk> <proxyUrl> <stallMs>
 *
 * `fetch` is Node's global fetch (undici), as test/support/proxy-admin.ts and `fleetops sim faults` use it;
 * `aws-sdk` is an STS client with the SDK's default node:http keep-alive agent, as activities use one.
 * Prints one JSON line: `{ first, second }`, each `"ok"` or the request's error (with its cause).
 */
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';

const [mode, proxyUrl, stallArg] = process.argv.slice(2);
const stallMs = Number(stallArg);
if ((mode !== 'fetch' && mode !== 'aws-sdk') || !proxyUrl || !Number.isFinite(stallMs)) {
  throw new Error('usage: stalled-keep-alive-client.ts <fetch|aws-sdk> <proxyUrl> <stallMs>');
}

const sts = new STSClient({
  endpoint: proxyUrl,
  region: 'eu-west-1',
  credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  maxAttempts: 1,
});

async function request(): Promise<void> {
  if (mode === 'aws-sdk') {
    await sts.send(new GetCallerIdentityCommand({}));
    return;
  }
  const res = await fetch(`${proxyUrl}/__fleetops/health`);
  await res.text();
  if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
}

function describeError(err: unknown): string {
  const e = err as Error & { code?: string; cause?: Error & { code?: string } };
  const cause = e.cause ? ` (cause: ${e.cause.code ?? e.cause.name}: ${e.cause.message})` : '';
  return `${e.code ?? e.name}: ${e.message}${cause}`;
}

async function attempt(): Promise<string> {
  try {
    await request();
    return 'ok';
  } catch (err) {
    return describeError(err);
  }
}

async function main(): Promise<void> {
  const first = await attempt();
  await new Promise((resolve) => setTimeout(resolve, 100)); // the socket goes back to the pool, idle
  // Block the event loop: no timer (the pool's idle timeout) and no I/O (the server's FIN) is processed.
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, stallMs);
  const second = await attempt();
  process.stdout.write(JSON.stringify({ first, second }) + '\n');
  sts.destroy();
}

void main();
