/**
 * Keep-alive between the AWS proxy and clients whose event loop stalls (issue item 7: a campaign
 * test's afterAll failed with `fetch failed` / `SocketError: other side closed` from the proxy).
 *
 * Each client runs in its own process (test/support/stalled-keep-alive-client.ts) so that its event
 * loop can be blocked while the proxy, here in the test process, keeps running: one request, a
 * synchronous stall a little longer than the idle time the proxy advertises, then a second request
 * on the pooled socket. With Node's server defaults the proxy closed that socket during the stall and
 * the second request failed every time (fetch: `other side closed`; AWS SDK: `ECONNRESET: socket hang up`).
 */
import { execFile } from 'node:child_process';
import * as http from 'node:http';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAwsProxy, type AwsProxy } from '../../stack/aws-proxy/server';
import { loadStackConfig } from '../../stack/stack-config';

const CLIENT = path.resolve(__dirname, '../support/stalled-keep-alive-client.ts');
const run = promisify(execFile);

let proxy: AwsProxy;
let proxyUrl = '';
const connections: number[] = [];

beforeAll(async () => {
  // The test run's moto (test/support/global-setup.ts) answers the SDK's GetCallerIdentity.
  proxy = createAwsProxy({ upstream: loadStackConfig().motoUrl });
  proxy.server.on('connection', (socket) => connections.push(socket.remotePort ?? 0));
  proxyUrl = `http://127.0.0.1:${await proxy.listen(0)}`;
});

afterAll(async () => {
  await proxy?.close();
});

/** The `Keep-Alive` header of a fresh response, e.g. `timeout=5`. */
function advertisedKeepAlive(): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${proxyUrl}/__fleetops/health`, { agent: new http.Agent({ keepAlive: true }) }, (res) => {
      res.resume();
      res.on('end', () => {
        req.destroy();
        resolve(res.headers['keep-alive']?.toString());
      });
    });
    req.on('error', reject);
  });
}

async function stalledClient(mode: 'fetch' | 'aws-sdk', stallMs: number): Promise<{ first: string; second: string }> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', CLIENT, mode, proxyUrl, String(stallMs)], {
    env: process.env,
    timeout: stallMs + 30_000,
  });
  return JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as { first: string; second: string };
}

describe('keep-alive with clients that stall', () => {
  it('advertises a short idle time and keeps idle connections a minute longer', async () => {
    expect(await advertisedKeepAlive()).toBe('timeout=5');
    expect(proxy.server.keepAliveTimeout).toBeGreaterThanOrEqual(5_000 + 60_000);
  });

  it('a client stalled past the advertised idle time still finds its pooled socket open (fetch and AWS SDK)', async () => {
    const advertised = Number(/timeout=(\d+)/.exec((await advertisedKeepAlive()) ?? '')?.[1]);
    expect(advertised).toBeGreaterThan(0);
    const stallMs = (advertised + 2) * 1000; // past Node's real close (advertised + 1 s) before the fix
    connections.length = 0;
    const [fetchClient, sdkClient] = await Promise.all([
      stalledClient('fetch', stallMs),
      stalledClient('aws-sdk', stallMs),
    ]);
    const ok = { first: 'ok', second: 'ok' };
    expect({ fetch: fetchClient, awsSdk: sdkClient }).toEqual({ fetch: ok, awsSdk: ok });
    // each client sent both requests on one connection: the second one did use the pooled socket
    expect(connections).toHaveLength(2);
  }, 60_000);
});
