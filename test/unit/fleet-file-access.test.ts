import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { FleetOpsError } from '../../activities/aws/errors';
import { fleetAccount, loadFleetForActivity, resolveAllowedFleetFile } from '../../activities/fleet-file-access';
import { simulatedFleet } from '../../cli/sim/simulated-fleet';
import { ErrorType, NON_RETRYABLE_ERROR_TYPES } from '../../fleet/error-types';
import { clearFleetFileCache, loadFleetFileCached, stringifyFleet, UnreadableFleetFile } from '../../fleet/load-fleet';
import { loadWorkerConfig } from '../../worker/worker-config';

// Real directories and real symlinks: <root>/fleet is the fleet location, <root>/outside is not.
const root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'fleetops-access-')));
const fleetDir = path.join(root, 'fleet');
const outside = path.join(root, 'outside');
const SECRET = 'hunter2-db-password-S3cr3t';
const secretFile = path.join(outside, 'db_password');
const fleetFile = path.join(fleetDir, 'fleet.yaml');
const accounts = simulatedFleet(3);
const deps = { fleetDirs: [fleetDir] };

fs.mkdirSync(path.join(fleetDir, 'sub'), { recursive: true });
fs.mkdirSync(outside);
fs.writeFileSync(secretFile, `${SECRET}\n`);
fs.writeFileSync(fleetFile, stringifyFleet(accounts));
fs.writeFileSync(path.join(fleetDir, 'sub', 'nested.yaml'), stringifyFleet(accounts));
fs.symlinkSync(secretFile, path.join(fleetDir, 'leak.yaml')); // symlink inside pointing out
fs.symlinkSync(outside, path.join(fleetDir, 'out')); // directory symlink pointing out
fs.symlinkSync('/etc/passwd', path.join(fleetDir, 'passwd.yaml'));
fs.symlinkSync(fleetFile, path.join(fleetDir, 'alias.yaml')); // symlink staying inside: allowed
fs.symlinkSync(fleetDir, path.join(root, 'fleet-link')); // the location reached through a symlink
fs.mkdirSync(path.join(root, 'fleet-evil')); // shares the location's name as a prefix
fs.writeFileSync(path.join(root, 'fleet-evil', 'fleet.yaml'), stringifyFleet(accounts));
execFileSync('mkfifo', [path.join(fleetDir, 'pipe.yaml')]);

afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
beforeEach(() => clearFleetFileCache());

/** The error thrown by loading `file` through the guard. */
function refusal(file: unknown, dirs: readonly string[] = [fleetDir]): FleetOpsError {
  try {
    loadFleetForActivity({ fleetDirs: dirs }, file as string);
  } catch (err) {
    expect(err).toBeInstanceOf(FleetOpsError);
    return err as FleetOpsError;
  }
  throw new Error(`${String(file)} was allowed`);
}

function expectNotAllowed(file: unknown, why: string, dirs?: readonly string[]): FleetOpsError {
  const err = refusal(file, dirs);
  expect(err.name).toBe(ErrorType.FleetFileNotAllowed);
  expect(err.message).toContain(why);
  expect(err.message).toContain('workers read fleet files only from the configured fleet locations');
  expect(err.message).not.toContain(SECRET);
  expect(err.message).not.toContain('root:x:0:0');
  expect(err.message).not.toMatch(/PATH=|HOME=/);
  return err;
}

describe('fleet file access (the worker-side guard)', () => {
  it('allows a regular file inside a location, nested folders, symlinks staying inside, the location via a symlink', () => {
    expect(resolveAllowedFleetFile(fleetFile, [fleetDir])).toBe(fleetFile);
    expect(loadFleetForActivity(deps, fleetFile).accounts.map((a) => a.id)).toEqual(accounts.map((a) => a.id));
    expect(loadFleetForActivity(deps, path.join(fleetDir, 'sub', 'nested.yaml')).accounts).toHaveLength(3);
    expect(resolveAllowedFleetFile(path.join(fleetDir, 'alias.yaml'), [fleetDir])).toBe(fleetFile);
    // Configured as a symlink, typed either way.
    const viaLink = path.join(root, 'fleet-link', 'fleet.yaml');
    expect(resolveAllowedFleetFile(viaLink, [path.join(root, 'fleet-link')])).toBe(fleetFile);
    expect(resolveAllowedFleetFile(fleetFile, [path.join(root, 'fleet-link')])).toBe(fleetFile);
    // Typed through a symlink outside every location: refused before anything is looked at.
    expectNotAllowed(viaLink, 'outside the fleet locations');
    expect(fleetAccount(deps, fleetFile, accounts[1].id).id).toBe(accounts[1].id);
    // Several locations.
    expect(resolveAllowedFleetFile(fleetFile, [outside, fleetDir])).toBe(fleetFile);
  });

  it('refuses a file outside every location without reading it, naming the rule and the locations only', () => {
    const err = expectNotAllowed(secretFile, 'outside the fleet locations');
    expect(err.message).toContain(JSON.stringify(secretFile)); // the typed path is input: echoed, quoted
    expect(err.message).toContain(`Fleet locations: ${fleetDir}`);
    expectNotAllowed('/etc/passwd', 'outside the fleet locations');
    expectNotAllowed('/proc/self/environ', 'outside the fleet locations');
    expectNotAllowed(path.join(root, 'fleet-evil', 'fleet.yaml'), 'outside the fleet locations'); // prefix is not inside
    expectNotAllowed(fleetFile, 'outside the fleet locations', []);
    expect(refusal(fleetFile, []).message).toContain('none configured');
  });

  it('refuses ".." traversal, even when it would land inside', () => {
    expectNotAllowed(`${fleetDir}/../outside/db_password`, 'contains ".."');
    expectNotAllowed(`${fleetDir}/../../../../etc/passwd`, 'contains ".."');
    expectNotAllowed(`${fleetDir}/sub/../fleet.yaml`, 'contains ".."');
  });

  it('refuses symlinks inside a location that lead out of it (file or directory)', () => {
    expectNotAllowed(path.join(fleetDir, 'leak.yaml'), 'leads (through a symlink) outside');
    expectNotAllowed(path.join(fleetDir, 'out', 'db_password'), 'leads (through a symlink) outside');
    expectNotAllowed(path.join(fleetDir, 'passwd.yaml'), 'leads (through a symlink) outside');
    // A missing file behind a symlink pointing out: refused too, so nothing about outside is revealed.
    expectNotAllowed(path.join(fleetDir, 'out', 'no-such-file'), 'leads (through a symlink) outside');
  });

  it('refuses relative paths, non-regular files, the location itself, empty and odd input', () => {
    expectNotAllowed('fleet.yaml', 'not an absolute path');
    expectNotAllowed('../outside/db_password', 'not an absolute path');
    expectNotAllowed(path.join(fleetDir, 'pipe.yaml'), 'not a regular file'); // a FIFO: would block a read
    expectNotAllowed(fleetDir, 'not a regular file');
    expectNotAllowed(path.join(fleetDir, 'sub'), 'not a regular file');
    expectNotAllowed('', 'not a path');
    expectNotAllowed(42, 'not a path');
    expectNotAllowed(`${fleetFile}\0`, 'NUL');
    // A huge typed path is echoed bounded.
    expect(refusal(`/${'a'.repeat(100_000)}`).message.length).toBeLessThan(1000);
  });

  it('a missing file is "not found" only inside a location; outside, existence is not revealed', () => {
    const inside = refusal(path.join(fleetDir, 'missing.yaml'));
    expect(inside.name).toBe(ErrorType.InvalidFleetFile);
    expect(inside.message).toContain('fleet file not found');
    expectNotAllowed(path.join(outside, 'missing.yaml'), 'outside the fleet locations');
    expect(() => resolveAllowedFleetFile(path.join(fleetDir, 'missing.yaml'), [fleetDir])).toThrow(UnreadableFleetFile);
  });

  it('is non-retryable, with a stable ApplicationFailure type', () => {
    expect(NON_RETRYABLE_ERROR_TYPES).toContain(ErrorType.FleetFileNotAllowed);
    const failure = refusal(secretFile).toFailure();
    expect(failure.type).toBe('FleetFileNotAllowed');
    expect(failure.nonRetryable).toBe(true);
  });

  it('the cached loader in regular-file mode never follows a symlink as the last component', () => {
    expect(() => loadFleetFileCached(path.join(fleetDir, 'leak.yaml'), { regularFileOnly: true })).toThrow(
      UnreadableFleetFile,
    );
    expect(loadFleetFileCached(fleetFile, { regularFileOnly: true }).accounts).toHaveLength(3);
  });

  it('an invalid allowed file: problems quoted, but bounded in count and length', () => {
    const bad = path.join(fleetDir, 'bad.yaml');
    const longKey = 'k'.repeat(20_000);
    const lines = ['accounts:'];
    for (let i = 0; i < 500; i++) lines.push(`  - id: 'x${i}'`, `    ${longKey}: 1`);
    fs.writeFileSync(bad, `${lines.join('\n')}\n`);
    const err = refusal(bad);
    expect(err.name).toBe(ErrorType.InvalidFleetFile);
    expect(err.message.length).toBeLessThanOrEqual(8000);
    expect(err.message).toContain('more problems');
    for (const line of err.message.split('\n')) expect(line.length).toBeLessThanOrEqual(300);

    const syntax = path.join(fleetDir, 'syntax.yaml');
    fs.writeFileSync(syntax, `accounts: [${'"'.repeat(1)}${'z'.repeat(50_000)}\n`);
    const syntaxErr = refusal(syntax);
    expect(syntaxErr.name).toBe(ErrorType.InvalidFleetFile);
    expect(syntaxErr.message.length).toBeLessThanOrEqual(8000);
  });
});

describe('FLEETOPS_FLEET_DIRS', () => {
  const env = { VAULT_TOKEN: 't' };
  it('is required, split like PATH, resolved to absolute directories', () => {
    expect(() => loadWorkerConfig(env)).toThrow(/FLEETOPS_FLEET_DIRS/);
    expect(() => loadWorkerConfig({ ...env, FLEETOPS_FLEET_DIRS: ' : ' })).toThrow(/FLEETOPS_FLEET_DIRS/);
    expect(loadWorkerConfig({ ...env, FLEETOPS_FLEET_DIRS: `/srv/fleet${path.delimiter}rel/dir` }).fleetDirs).toEqual([
      '/srv/fleet',
      path.resolve('rel/dir'),
    ]);
  });
});
