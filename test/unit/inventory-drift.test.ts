import { describe, expect, it } from 'vitest';
import {
  accountDrift,
  countDrift,
  emptyDriftCounts,
  formatAge,
  imageDrift,
  MAX_DRIFT_ITEMS_PER_ACCOUNT,
  secretAgeDrift,
  summarizeDrift,
  versionDrift,
  type DriftItem,
  type ImageReleases,
} from '../../fleet/inventory-drift';
import { formatDriftReport, inventoryExitCode } from '../../cli/commands/inventory-drift-format';
import type { FleetInventoryReport } from '../../workflows/fleet-inventory';

const DAY = 86_400_000;
const NOW = Date.parse('2026-11-26T12:00:00Z');

describe('versionDrift', () => {
  it('reports a stack at another version, a stack without a version and a missing stack; not a matching one', () => {
    const items = versionDrift('1.4.0', [
      { region: 'eu-west-1', stackName: 'dp', found: true, version: '1.4.0' },
      { region: 'us-east-1', stackName: 'dp', found: true, version: '1.3.0' },
      { region: 'eu-central-1', stackName: 'dp', found: true, version: null },
      { region: 'ap-south-1', stackName: 'dp', found: false },
    ]);
    expect(items).toEqual([
      { kind: 'version', region: 'us-east-1', subject: 'dp', expected: '1.4.0', actual: '1.3.0' },
      { kind: 'version', region: 'eu-central-1', subject: 'dp', expected: '1.4.0', actual: 'unknown' },
      { kind: 'missing-stack', region: 'ap-south-1', subject: 'dp', expected: '1.4.0', actual: 'missing' },
    ]);
  });

  it('compares versions exactly (a newer stack than the fleet file says is drift too)', () => {
    expect(
      versionDrift('1.4.0', [{ region: 'eu-west-1', stackName: 'dp', found: true, version: '1.5.0' }]),
    ).toHaveLength(1);
  });
});

describe('imageDrift', () => {
  const releases: ImageReleases = {
    newest: { name: 'r2', builtAt: '2026-11-20T12:00:00Z', amis: { 'eu-west-1': 'ami-22222222' } },
    all: [
      { name: 'r1', builtAt: '2026-11-06T12:00:00Z', amis: { 'eu-west-1': 'ami-11111111', 'us-east-1': 'ami-1e' } },
      { name: 'r2', builtAt: '2026-11-20T12:00:00Z', amis: { 'eu-west-1': 'ami-22222222' } },
    ],
  };

  it('no releases: nothing to compare with, no items', () => {
    expect(imageDrift([{ region: 'eu-west-1', groupName: 'g', imageId: 'ami-0' }], undefined, NOW)).toEqual([]);
  });

  it('names the release a behind group runs and its age; an unknown image is "not a published release"', () => {
    const items = imageDrift(
      [
        { region: 'eu-west-1', groupName: 'current', imageId: 'ami-22222222' },
        { region: 'eu-west-1', groupName: 'behind', imageId: 'ami-11111111' },
        { region: 'eu-west-1', groupName: 'base', imageId: 'ami-99999999' },
      ],
      releases,
      NOW,
    );
    expect(items).toEqual([
      {
        kind: 'image',
        region: 'eu-west-1',
        subject: 'behind',
        expected: 'ami-22222222 (release r2)',
        actual: 'ami-11111111 (release r1, built 20.0 d ago)',
      },
      {
        kind: 'image',
        region: 'eu-west-1',
        subject: 'base',
        expected: 'ami-22222222 (release r2)',
        actual: 'ami-99999999 (not a published release)',
      },
    ]);
  });

  it('skips a region the newest release has no AMI for; reports missing groups and templates', () => {
    const items = imageDrift(
      [
        { region: 'us-east-1', groupName: 'g', imageId: 'ami-1e' },
        { region: 'eu-west-1', groupName: 'gone', problem: 'no-such-group' },
        { region: 'eu-west-1', groupName: 'bare', problem: 'no-launch-template' },
        { region: 'eu-west-1', groupName: 'empty', problem: 'no-image' },
      ],
      releases,
      NOW,
    );
    expect(items.map((i) => [i.subject, i.actual])).toEqual([
      ['gone', 'no such group'],
      ['bare', 'no launch template'],
      ['empty', 'no image in its launch template version'],
    ]);
  });
});

describe('secretAgeDrift', () => {
  const secret = (madeAt: string | undefined, extra: object = {}) => ({
    name: 'api-key',
    describe: 'secretsmanager dp/api-key',
    region: 'eu-west-1',
    basis: 'AWSCURRENT created',
    ...(madeAt ? { madeAt } : {}),
    ...extra,
  });

  it('older than the limit is drift; exactly at the limit and younger are not', () => {
    const items = secretAgeDrift(
      [
        secret(new Date(NOW - 91 * DAY).toISOString()),
        secret(new Date(NOW - 90 * DAY).toISOString()),
        secret(new Date(NOW - DAY).toISOString()),
      ],
      90,
      NOW,
    );
    expect(items).toEqual([
      {
        kind: 'secret-age',
        region: 'eu-west-1',
        subject: 'api-key (secretsmanager dp/api-key)',
        expected: 'current value made within 90.0 d',
        actual: `AWSCURRENT created 91.0 d ago (${new Date(NOW - 91 * DAY).toISOString()})`,
      },
    ]);
  });

  it('fractional limits work (seconds), an unreadable time and a problem are drift', () => {
    const items = secretAgeDrift(
      [
        secret(new Date(NOW - 30_000).toISOString()),
        secret(new Date(NOW - 5_000).toISOString()),
        secret(undefined),
        secret(undefined, { problem: 'secret dp/api-key not found' }),
      ],
      20 / 86_400,
      NOW,
    );
    expect(items.map((i) => i.actual)).toEqual([
      expect.stringMatching(/^AWSCURRENT created 30 s ago/),
      'no AWSCURRENT created time found',
      'secret dp/api-key not found',
    ]);
    expect(items[0].expected).toBe('current value made within 20 s');
  });

  it('an item without a region has no region key (IAM, ExternalId)', () => {
    const [item] = secretAgeDrift(
      [{ name: 'x', describe: 'external-id', basis: 'rotated', madeAt: '2020-01-01T00:00:00Z' }],
      90,
      NOW,
    );
    expect(item).not.toHaveProperty('region');
  });
});

describe('accountDrift and summarizeDrift', () => {
  const item = (kind: DriftItem['kind'], n = 0): DriftItem => ({ kind, subject: `s${n}`, expected: 'a', actual: 'b' });

  it('no items: no drift', () => {
    expect(accountDrift('111111111111', [])).toBeUndefined();
  });

  it('bounds the items, counts the rest and still lists every kind', () => {
    const many = [
      ...Array.from({ length: MAX_DRIFT_ITEMS_PER_ACCOUNT + 5 }, (_, i) => item('image', i)),
      item('secret-age'),
    ];
    const d = accountDrift('111111111111', many)!;
    expect(d.items).toHaveLength(MAX_DRIFT_ITEMS_PER_ACCOUNT);
    expect(d.omitted).toBe(6);
    expect(d.kinds).toEqual(['image', 'secret-age']);
  });

  it('counts accounts per kind (an account with two items of a kind counts once)', () => {
    const a = accountDrift('111111111111', [item('version'), item('version', 1), item('image')])!;
    const b = accountDrift('222222222222', [item('secret-age')])!;
    expect(summarizeDrift([a, b])).toEqual({
      driftedAccounts: 2,
      byKind: { version: 1, 'missing-stack': 0, image: 1, 'secret-age': 1 },
    });
  });
});

describe('countDrift', () => {
  it('adds one account at a time, without changing the counts given', () => {
    const item = (kind: DriftItem['kind']): DriftItem => ({ kind, subject: 's', expected: 'a', actual: 'b' });
    const zero = emptyDriftCounts();
    const one = countDrift(zero, accountDrift('111111111111', [item('image'), item('secret-age')])!);
    expect(zero.driftedAccounts).toBe(0);
    expect(one).toEqual({ driftedAccounts: 1, byKind: { version: 0, 'missing-stack': 0, image: 1, 'secret-age': 1 } });
  });
});

describe('drift output and exit status', () => {
  const report = (over: Partial<FleetInventoryReport>): FleetInventoryReport => ({
    fleetFile: 'f',
    total: 2,
    succeeded: 2,
    failed: 0,
    skipped: [],
    unknownIds: [],
    byVersion: {},
    byStackStatus: {},
    accounts: [],
    failures: [],
    startedAt: '',
    finishedAt: '',
    runs: 1,
    ...over,
  });
  const drift = {
    maxSecretAgeDays: 90,
    checkedAccounts: 2,
    driftedAccounts: 1,
    byKind: { version: 1, 'missing-stack': 0, image: 0, 'secret-age': 0 },
    accounts: [
      {
        accountId: '111111111111',
        kinds: ['version' as const],
        items: [{ kind: 'version' as const, region: 'eu-west-1', subject: 'dp', expected: '1.4.0', actual: '1.3.0' }],
      },
    ],
  };

  it('exit 0 without drift, 2 with drift, 1 when an account could not be read (even with drift)', () => {
    expect(inventoryExitCode(undefined)).toBe(0);
    expect(inventoryExitCode(report({}))).toBe(0);
    expect(inventoryExitCode(report({ drift: { ...drift, driftedAccounts: 0, accounts: [] } }))).toBe(0);
    expect(inventoryExitCode(report({ drift }))).toBe(2);
    expect(inventoryExitCode(report({ drift, failed: 1 }))).toBe(1);
  });

  it('groups drifted accounts by kind', () => {
    const text = formatDriftReport(drift);
    expect(text).toContain('Drift: 1 of 2 accounts drifted (version × 1); secret age limit 90 d');
    expect(text).toContain('  version (1 account):\n    111111111111 eu-west-1 dp: expected 1.4.0, actual 1.3.0');
    expect(text).not.toContain('image (');
    expect(formatDriftReport({ ...drift, driftedAccounts: 3, unlisted: 2 })).toContain(
      '  … 2 more drifted account(s) counted above but not listed',
    );
  });
});

describe('formatAge', () => {
  it('seconds, minutes, hours, days', () => {
    expect([
      formatAge(-5),
      formatAge(59_000),
      formatAge(600_000),
      formatAge(5.5 * 3_600_000),
      formatAge(3 * DAY),
    ]).toEqual(['0 s', '59 s', '10 min', '5.5 h', '3.0 d']);
  });
});
