import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { httpOk, waitUntil } from '../../stack/processes';

const MOTO_SERVER = path.resolve(__dirname, '../../.tools/venv/bin/moto_server');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** A private moto_server on a free loopback port (for proxy tests that need a clean emulator); stop() ends it by PID. */
export async function startMotoServer(): Promise<{ url: string; stop: () => Promise<void> }> {
  if (!fs.existsSync(MOTO_SERVER)) throw new Error(`${MOTO_SERVER} missing (run: node scripts/ensure-setup.js)`);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const moto = spawn(MOTO_SERVER, ['-H', '127.0.0.1', '-p', String(port)], {
    env: { ...process.env, MOTO_EC2_LOAD_DEFAULT_AMIS: 'false' },
    stdio: 'ignore',
  });
  const stop = async () => {
    if (moto.pid === undefined || moto.exitCode !== null || moto.signalCode !== null) return;
    const exited = new Promise((r) => moto.once('exit', r));
    process.kill(moto.pid, 'SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    if (moto.exitCode === null && moto.signalCode === null) process.kill(moto.pid, 'SIGKILL');
  };
  try {
    await waitUntil('moto_server', () => httpOk(`${url}/moto-api/config`), 30_000);
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, stop };
}
