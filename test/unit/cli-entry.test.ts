import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

// bin/fleetops.js: the compiled build when it is current, else the sources through tsx — the same CLI.
const ROOT = path.resolve(__dirname, '../..');
const run = (args: string[], env: Record<string, string> = {}) =>
  execFileSync(process.execPath, [path.join(ROOT, 'bin/fleetops.js'), ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    encoding: 'utf8',
  });
const version = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

describe('fleetops entry point', () => {
  it('--version and -V print the package version', () => {
    expect(run(['--version'])).toBe(`${version}\n`);
    expect(run(['-V'])).toBe(`${version}\n`);
  });

  it('--help is the same from the compiled build and from the sources', () => {
    const compiled = run(['--help']);
    const source = run(['--help'], { FLEETOPS_FROM_SOURCE: '1' });
    for (const command of ['stack', 'campaign', 'schedule', 'secret', 'inventory', 'worker', 'demo']) {
      expect(compiled).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
    }
    expect(compiled).toBe(source);
    expect(run(['campaign', '--help'])).toBe(run(['campaign', '--help'], { FLEETOPS_FROM_SOURCE: '1' }));
  });

  it('commands whose implementation loads on use run from both (the lazy import resolves TypeScript too)', () => {
    const fail = (env: Record<string, string>) => {
      try {
        run(['campaign', 'status', 'no-such-campaign'], { TEMPORAL_ADDRESS: '127.0.0.1:1', ...env });
        return 'exited 0';
      } catch (err) {
        return String((err as { stderr?: string }).stderr);
      }
    };
    const compiled = fail({});
    expect(compiled).toContain('fleetops: cannot reach Temporal at 127.0.0.1:1');
    expect(fail({ FLEETOPS_FROM_SOURCE: '1' })).toBe(compiled);
  });

  it('a stale build is never run: the build stamp must be newer than every source file', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { buildIsCurrent } = require(path.join(ROOT, 'bin/compiled-build.js')) as { buildIsCurrent: () => boolean };
    const stamp = path.join(ROOT, 'dist', '.fleetops-build');
    if (!fs.existsSync(stamp)) return expect(buildIsCurrent()).toBe(false);
    const before = fs.statSync(stamp);
    try {
      fs.utimesSync(stamp, before.atime, new Date(0));
      expect(buildIsCurrent()).toBe(false);
      fs.utimesSync(stamp, before.atime, new Date());
      expect(buildIsCurrent()).toBe(true);
    } finally {
      fs.utimesSync(stamp, before.atime, before.mtime);
    }
  });
});
