import { mkdtempSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RINGS, type FleetAccount, type MaintenanceWindow, type Ring, type SecretEntry } from '../../fleet';
import {
  clearFleetFileCache,
  InvalidFleetFile,
  loadFleetFileCached,
  parseFleetYaml,
  stringifyFleet,
  UnreadableFleetFile,
} from '../../fleet/load-fleet';

const RING_SIZES: Record<Ring, number> = { canary: 40, early: 400, general: 3000, late: 560 };
const LONDON: MaintenanceWindow = {
  days: ['tue', 'wed'],
  start: '02:00',
  durationMinutes: 240,
  timezone: 'Europe/London',
};

const COLLECTOR = {
  kind: 'secretsmanager' as const,
  secretId: 'data-pipeline/collector-api-key',
  generate: { length: 40, alphabet: 'alphanumeric' as const },
  graceSeconds: 3600,
} satisfies SecretEntry;
const LOADER = {
  kind: 'iam-access-key' as const,
  userName: 'data-pipeline-loader',
  deliverTo: 'data-pipeline/loader-credentials',
} satisfies SecretEntry;

/** Mostly the same three secrets; some accounts override a field, replace an entry, or go without one. */
function secretsOf(n: number, regions: string[]): Record<string, SecretEntry> | undefined {
  if (n % 23 === 0) return undefined;
  const secrets: Record<string, SecretEntry> = {
    'collector-api-key':
      n % 13 === 0
        ? { kind: 'secretsmanager', secretId: `acme-${n}/collector`, region: regions[regions.length - 1] }
        : n % 7 === 0
          ? { ...COLLECTOR, secretId: `customer-${n}/collector`, generate: { length: 64, alphabet: 'alphanumeric' } }
          : COLLECTOR,
    'external-id': { kind: 'external-id' },
  };
  if (n % 11 !== 0) secrets['loader-access-key'] = n % 17 === 0 ? { ...LOADER, graceSeconds: 60 } : LOADER;
  return secrets;
}

/** A deterministic, varied fleet of 4,000 accounts (as a simulator would write). */
function simulatedFleet(): FleetAccount[] {
  const out: FleetAccount[] = [];
  let n = 0;
  for (const ring of RINGS) {
    for (let i = 0; i < RING_SIZES[ring]; i++, n++) {
      const id = String(100_000_000 + n * 7919).padStart(12, '0');
      const regions =
        n % 97 === 0
          ? ['cn-north-1']
          : n % 89 === 0
            ? ['us-gov-west-1']
            : n % 5 === 0
              ? ['eu-west-1', 'us-east-1']
              : ['eu-west-1'];
      const partition = regions[0].startsWith('cn-')
        ? 'aws-cn'
        : regions[0].startsWith('us-gov-')
          ? 'aws-us-gov'
          : 'aws';
      const account: FleetAccount = {
        id,
        customer: `customer-${n}`,
        ring,
        regions,
        roleArn:
          n % 50 === 0
            ? `arn:${partition}:iam::${id}:role/custom/FleetOps`
            : `arn:${partition}:iam::${id}:role/FleetOpsExecutionRole`,
        externalIdRef: `secret/data/fleetops/external-ids/${id}`,
        pipeline: { stackName: 'data-pipeline', version: n % 10 === 0 ? '1.5.0-rc.1' : '1.4.2' },
        ...(n % 3 === 0
          ? { maintenanceWindow: n % 6 === 0 ? LONDON : { ...LONDON, timezone: 'America/New_York' } }
          : {}),
        tags: { 'managed-by': 'fleetops', ...(n % 4 === 0 ? { tier: 'enterprise' } : {}) },
        ...(secretsOf(n, regions) ? { secrets: secretsOf(n, regions) } : {}),
        state: n % 401 === 0 ? 'quarantined' : n % 333 === 0 ? 'paused' : 'active',
      };
      if (account.state === 'quarantined') account.reason = `AccessDenied on AssumeRole (#${n})`;
      out.push(account);
    }
  }
  return out;
}

describe('stringifyFleet / parseFleetYaml', () => {
  it('round-trips 4,000 accounts', () => {
    const accounts = simulatedFleet();
    const text = stringifyFleet(accounts);
    const started = performance.now();
    const result = parseFleetYaml(text, 'fleet.yaml');
    const parseMs = performance.now() - started;
    console.log(
      `parseFleetYaml: 4000 accounts, ${(text.length / 1024).toFixed(0)} KiB, ${text.split('\n').length} lines, ${parseMs.toFixed(0)} ms`,
    );
    if (!result.ok) throw new Error(JSON.stringify(result.problems.slice(0, 5)));
    expect(result.accounts).toEqual(accounts);
    // Shared values went to defaults; the common tag too.
    expect(text.startsWith('defaults:\n  roleName: FleetOpsExecutionRole\n  regions: [ eu-west-1 ]\n')).toBe(true);
    expect(text).toContain('  tags: { managed-by: fleetops }');
    expect(text.match(/roleArn:/g)).toHaveLength(accounts.filter((a) => a.roleArn.includes('/custom/')).length);
    // The common secrets went to defaults.secrets, one line each; accounts say only what differs.
    expect(text).toContain(
      '  secrets:\n    collector-api-key: { kind: secretsmanager, secretId: data-pipeline/collector-api-key, generate: { length: 40, alphabet: alphanumeric }, graceSeconds: 3600 }\n',
    );
    expect(text).toContain('secrets: { loader-access-key: { graceSeconds: 60 } }');
    expect(text).toContain('secrets: { collector-api-key: null, external-id: null, loader-access-key: null }');
  });

  it('uses given defaults, writing maintenanceWindow: null to opt an account out', () => {
    const accounts = simulatedFleet().slice(0, 12);
    const text = stringifyFleet(accounts, {
      roleName: 'FleetOpsExecutionRole',
      regions: ['eu-west-1'],
      maintenanceWindow: LONDON,
      pipeline: { stackName: 'data-pipeline' },
    });
    expect(text).toContain('maintenanceWindow: null');
    const result = parseFleetYaml(text, 'fleet.yaml');
    expect(result.ok && result.accounts).toEqual(accounts);
  });

  it('refuses default tags an account does not have', () => {
    const accounts = simulatedFleet().slice(0, 2);
    expect(() => stringifyFleet(accounts, { tags: { tier: 'enterprise' } })).toThrow(/defaults\.tags\.tier/);
  });
});

describe('loadFleetFileCached', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fleet-load-'));
  afterAll(() => {
    clearFleetFileCache();
    rmSync(dir, { recursive: true, force: true });
  });
  const file = join(dir, 'fleet.yaml');
  const accounts = simulatedFleet();

  it('parses once per file version and indexes by id', () => {
    writeFileSync(file, stringifyFleet(accounts));
    const first = loadFleetFileCached(file);
    expect(first.accounts).toHaveLength(4000);
    expect(first.byId.get(accounts[123].id)).toEqual(accounts[123]);
    expect(Object.isFrozen(first.accounts[0].regions)).toBe(true);

    const started = performance.now();
    for (let i = 0; i < 1000; i++) expect(loadFleetFileCached(file)).toBe(first);
    const perCallMs = (performance.now() - started) / 1000;
    console.log(`loadFleetFileCached: ${(perCallMs * 1000).toFixed(1)} µs per cached call`);
    expect(perCallMs).toBeLessThan(2);
  });

  it('reloads when the file changes, and caches an invalid file', () => {
    const before = loadFleetFileCached(file);
    writeFileSync(file, stringifyFleet(accounts.slice(0, 10)));
    const { mtimeMs } = statSync(file);
    utimesSync(file, new Date(), new Date(mtimeMs + 5000));
    const after = loadFleetFileCached(file);
    expect(after).not.toBe(before);
    expect(after.accounts).toHaveLength(10);

    writeFileSync(file, 'accounts:\n  - id: 1\n');
    utimesSync(file, new Date(), new Date(mtimeMs + 10_000));
    let first: unknown;
    try {
      loadFleetFileCached(file);
    } catch (e) {
      first = e;
    }
    expect(first).toBeInstanceOf(InvalidFleetFile);
    expect(() => loadFleetFileCached(file)).toThrow(first as Error);
  });

  it('throws UnreadableFleetFile with the path for a missing file', () => {
    const missing = join(dir, 'gone.yaml');
    expect(() => loadFleetFileCached(missing)).toThrow(UnreadableFleetFile);
    expect(() => loadFleetFileCached(missing)).toThrow(missing);
  });
});
