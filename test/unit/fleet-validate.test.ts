import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runFleetValidate } from '../../cli/commands/fleet-validate';
import { formatFleetProblems, validateFleet, type FleetProblem } from '../../fleet';
import { InvalidFleetFile, loadFleetFile, parseFleetYaml, UnreadableFleetFile } from '../../fleet/load-fleet';

/** 1-based line of the only line containing `snippet`. */
function lineOf(text: string, snippet: string): number {
  const lines = text.split('\n');
  const hits = lines.flatMap((line, i) => (line.includes(snippet) ? [i + 1] : []));
  if (hits.length !== 1) throw new Error(`snippet ${JSON.stringify(snippet)} found on ${hits.length} lines`);
  return hits[0];
}

// Each planted problem is marked #P on the line it must be reported at; the rest is valid.
const PLANTED = `defaults:
  roleName: FleetOpsExecutionRole
  regions: [eu-west-1]
  pipeline: { stackName: data-pipeline, version: 1.4.2 }
  externalIdRef: secret/data/shared   #P per-account only
accounts:
  - id: "12345678901X"                #P bad id
    customer: acme
    ring: canary
    externalIdRef: secret/data/fleetops/external-ids/acme
  - id: 123456789012                  #P unquoted numeric id
    customer: numeric
    ring: early
    externalIdRef: secret/data/fleetops/external-ids/numeric
  - id: "111111111111"                # first of three
    customer: first
    ring: general
    externalIdRef: secret/data/fleetops/external-ids/first
    colour: blue                      #P unknown field
  - id: "111111111111"                #P duplicate id, second time
    customer: second
    ring: general
    externalIdRef: secret/data/fleetops/external-ids/second
    pipeline: { version: "1.4" }      #P bad semver
    regions: [eu-west-1, eu-west-9]   #P bad region
    roleArn: arn:aws:iam::222222222222:role/FleetOps   #P other account's ARN
  - id: "333333333333"                #P quarantined without reason
    customer: quarantined
    ring: general
    externalIdRef: secret/data/fleetops/external-ids/333333333333
    state: quarantined
    maintenanceWindow:
      days: [tue, tues]               #P bad day
      start: "25:00"                  #P bad start
      durationMinutes: 240
      timezone: Europe/Londn          #P bad timezone
  - id: "444444444444"
    customer: tagged
    ring: general
    externalIdRef: secret/data/fleetops/external-ids/444444444444
    tags: { tier: 1 }                 #P tag value not a string
    state: active
    reason: because                   #P reason without quarantine
  - id: "555555555555"
    customer: both-roles
    ring: early
    externalIdRef: secret/data/fleetops/external-ids/555555555555
    roleName: Role
    roleArn: arn:aws:iam::555555555555:role/Role   #P both roleName and roleArn
    regions: [eu-west-1, cn-north-1]  #P two partitions
    maintenanceWindow: { days: [mon], start: "02:00", durationMinutes: 0, timezone: UTC }  #P duration
  - id: "666666666666"
    customer: ""                      #P empty customer
    ring: beta                        #P bad ring
    externalIdRef: fleetops/external-ids/666   #P not a KV v2 path
    pipeline: { stackName: 9lives }   #P bad stack name
  - id: "111111111111"                #P duplicate id, third time
    customer: third
    ring: late
    externalIdRef: secret/data/fleetops/external-ids/third
`;

type Expected = { index?: number; id?: string; path: string; at: string; message: RegExp };

const EXPECTED: Expected[] = [
  {
    path: 'defaults.externalIdRef',
    at: 'externalIdRef: secret/data/shared',
    message: /"externalIdRef" is not allowed in defaults/,
  },
  {
    index: 0,
    id: '12345678901X',
    path: 'accounts[0].id',
    at: '"12345678901X"',
    message: /expected 12 digits like "123456789012", got "12345678901X"/,
  },
  {
    index: 1,
    id: '123456789012',
    path: 'accounts[1].id',
    at: 'id: 123456789012',
    message: /must be a quoted string: write id: "123456789012".*leading zeros/,
  },
  { index: 2, id: '111111111111', path: 'accounts[2].colour', at: 'colour: blue', message: /unknown field "colour"/ },
  {
    index: 3,
    id: '111111111111',
    path: 'accounts[3].id',
    at: 'second time',
    message: /duplicate id 111111111111: also used by accounts\[2\] \(line 15\), accounts\[8\] \(line 57\)/,
  },
  {
    index: 3,
    id: '111111111111',
    path: 'accounts[3].pipeline.version',
    at: 'bad semver',
    message: /expected semver like 1\.4\.2, got "1\.4"/,
  },
  {
    index: 3,
    id: '111111111111',
    path: 'accounts[3].regions[1]',
    at: 'eu-west-9',
    message: /expected an AWS region name like eu-west-1, got "eu-west-9"/,
  },
  {
    index: 3,
    id: '111111111111',
    path: 'accounts[3].roleArn',
    at: '222222222222',
    message: /role ARN is in account 222222222222, not in this account \(111111111111\)/,
  },
  {
    index: 4,
    id: '333333333333',
    path: 'accounts[4].reason',
    at: 'quarantined without reason',
    message: /required when state is quarantined/,
  },
  {
    index: 4,
    id: '333333333333',
    path: 'accounts[4].maintenanceWindow.days[1]',
    at: 'tues',
    message: /expected a day .*got "tues"/,
  },
  {
    index: 4,
    id: '333333333333',
    path: 'accounts[4].maintenanceWindow.start',
    at: '"25:00"',
    message: /expected a 24h time "HH:MM".*got "25:00"/,
  },
  {
    index: 4,
    id: '333333333333',
    path: 'accounts[4].maintenanceWindow.timezone',
    at: 'Europe/Londn',
    message: /expected an IANA time zone.*got "Europe\/Londn"/,
  },
  {
    index: 5,
    id: '444444444444',
    path: 'accounts[5].tags.tier',
    at: 'tier: 1',
    message: /expected a string tag value.*got 1 \(a number\)/,
  },
  {
    index: 5,
    id: '444444444444',
    path: 'accounts[5].reason',
    at: 'reason: because',
    message: /only allowed when state is quarantined \(state is active\)/,
  },
  {
    index: 6,
    id: '555555555555',
    path: 'accounts[6].roleArn',
    at: 'role/Role ',
    message: /either roleName or roleArn, not both/,
  },
  {
    index: 6,
    id: '555555555555',
    path: 'accounts[6].regions',
    at: 'cn-north-1',
    message: /regions span partitions aws, aws-cn/,
  },
  {
    index: 6,
    id: '555555555555',
    path: 'accounts[6].maintenanceWindow.durationMinutes',
    at: 'durationMinutes: 0',
    message: /whole number of minutes from 1 to 10080.*got 0/,
  },
  {
    index: 7,
    id: '666666666666',
    path: 'accounts[7].customer',
    at: 'customer: ""',
    message: /customer must not be empty/,
  },
  {
    index: 7,
    id: '666666666666',
    path: 'accounts[7].ring',
    at: 'ring: beta',
    message: /expected one of canary, early, general, late, got "beta"/,
  },
  {
    index: 7,
    id: '666666666666',
    path: 'accounts[7].externalIdRef',
    at: 'fleetops/external-ids/666',
    message: /expected a Vault KV v2 path/,
  },
  {
    index: 7,
    id: '666666666666',
    path: 'accounts[7].pipeline.stackName',
    at: '9lives',
    message: /CloudFormation stack name.*got "9lives"/,
  },
  {
    index: 8,
    id: '111111111111',
    path: 'accounts[8].id',
    at: 'third time',
    message: /duplicate id 111111111111: also used by accounts\[2\] \(line 15\), accounts\[3\] \(line 20\)$/,
  },
];

describe('validateFleet / parseFleetYaml: a file planted with many errors', () => {
  const result = parseFleetYaml(PLANTED, 'fleet.yaml');
  const problems = result.ok ? [] : result.problems;

  it('fails', () => {
    expect(result.ok).toBe(false);
  });

  it.each(EXPECTED)('reports $path', (exp) => {
    const hits = problems.filter((p) => p.path === exp.path && exp.message.test(p.message));
    expect(hits, `${exp.path} in:\n${formatFleetProblems('fleet.yaml', problems)}`).toHaveLength(1);
    const [hit] = hits;
    expect(hit.accountIndex).toBe(exp.index);
    expect(hit.accountId).toBe(exp.id);
    expect(hit.line).toBe(lineOf(PLANTED, exp.at));
  });

  it('reports every planted problem and nothing else', () => {
    expect(PLANTED.split('#P').length - 1).toBe(EXPECTED.length);
    expect(problems.map((p) => p.path).sort()).toEqual(EXPECTED.map((e) => e.path).sort());
  });

  it('lists file-level problems first, then by account and line', () => {
    const order = problems.map((p) => [p.accountIndex ?? -1, p.line ?? 0]);
    expect(order).toEqual([...order].sort((a, b) => a[0] - b[0] || a[1] - b[1]));
  });

  it('formats one line per problem with file, line, account and relative path', () => {
    const text = formatFleetProblems('fleet.yaml', problems);
    expect(text.split('\n')).toHaveLength(problems.length);
    expect(text).toContain(
      `fleet.yaml:${lineOf(PLANTED, 'bad semver')} accounts[3] (id 111111111111) pipeline.version: expected semver like 1.4.2, got "1.4"`,
    );
    expect(text).toContain(`fleet.yaml:${lineOf(PLANTED, 'shared')} defaults.externalIdRef: `);
    expect(text).toContain(`fleet.yaml:11 accounts[1] (id 123456789012) id: account id must be a quoted string`);
  });

  it('works without line information (validateFleet on plain data)', () => {
    const plain = validateFleet({
      accounts: [{ id: 5, customer: 'x', ring: 'canary', externalIdRef: 'a/data/b', extra: 1 }],
    });
    expect(plain.ok).toBe(false);
    const paths = plain.ok ? [] : plain.problems.map((p) => `${p.path}|${p.line}`);
    expect(paths.sort()).toEqual(
      [
        'accounts[0].extra',
        'accounts[0].id',
        'accounts[0].pipeline.stackName',
        'accounts[0].pipeline.version',
        'accounts[0].regions',
        'accounts[0].roleName',
      ].map((p) => `${p}|undefined`),
    );
  });
});

describe('validateFleet: valid files', () => {
  const VALID = `defaults:
  roleName: FleetOpsExecutionRole
  regions: [eu-west-1]
  pipeline: { stackName: data-pipeline }
  tags: { managed-by: fleetops, tier: standard }
  maintenanceWindow: { days: [tue, wed], start: "02:00", durationMinutes: 240, timezone: Europe/London }
accounts:
  - id: "012345678901"
    customer: acme
    ring: canary
    regions: [eu-west-1, us-east-1]
    externalIdRef: secret/data/fleetops/external-ids/012345678901
    pipeline: { version: 1.4.2-rc.1+build.5 }
    tags: { tier: enterprise }
  - id: "210987654321"
    customer: cn-customer
    ring: late
    regions: [cn-north-1]
    externalIdRef: kv/fleet/data/ext/210987654321
    pipeline: { stackName: other-stack, version: 2.0.0 }
    maintenanceWindow: null
    state: quarantined
    reason: access denied on AssumeRole
  - id: "999999999999"
    customer: byarn
    ring: general
    roleArn: arn:aws:iam::999999999999:role/team/Custom
    externalIdRef: secret/data/x
    pipeline: { version: 1.0.0 }
    state: paused
`;

  it('resolves defaults', () => {
    const result = parseFleetYaml(VALID, 'fleet.yaml');
    if (!result.ok) throw new Error(formatFleetProblems('fleet.yaml', result.problems));
    const [acme, cn, byArn] = result.accounts;
    expect(acme).toEqual({
      id: '012345678901',
      customer: 'acme',
      ring: 'canary',
      regions: ['eu-west-1', 'us-east-1'],
      roleArn: 'arn:aws:iam::012345678901:role/FleetOpsExecutionRole',
      externalIdRef: 'secret/data/fleetops/external-ids/012345678901',
      pipeline: { stackName: 'data-pipeline', version: '1.4.2-rc.1+build.5' },
      maintenanceWindow: { days: ['tue', 'wed'], start: '02:00', durationMinutes: 240, timezone: 'Europe/London' },
      tags: { 'managed-by': 'fleetops', tier: 'enterprise' },
      state: 'active',
    });
    expect(cn.roleArn).toBe('arn:aws-cn:iam::210987654321:role/FleetOpsExecutionRole');
    expect(cn.maintenanceWindow).toBeUndefined();
    expect('maintenanceWindow' in cn).toBe(false);
    expect(cn.pipeline).toEqual({ stackName: 'other-stack', version: '2.0.0' });
    expect(cn.reason).toBe('access denied on AssumeRole');
    expect(byArn.roleArn).toBe('arn:aws:iam::999999999999:role/team/Custom');
    expect(byArn.state).toBe('paused');
    expect(byArn.regions).toEqual(['eu-west-1']);
    expect(byArn.regions).not.toBe(acme.regions);
  });

  it('reports YAML syntax errors with their line', () => {
    const result = parseFleetYaml('accounts:\n  - id: "1"\n    customer: [unclosed\n', 'f.yaml');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems[0].message).toMatch(/^YAML syntax error/);
    expect(result.problems[0].line).toBeGreaterThanOrEqual(3);
  });

  it('rejects an empty file and an empty account list', () => {
    for (const text of ['', 'accounts: []\n']) {
      const result = parseFleetYaml(text, 'f.yaml');
      expect(result.ok).toBe(false);
    }
  });

  it('rejects semver variants that are not MAJOR.MINOR.PATCH', () => {
    for (const version of ['1.4', 'v1.4.2', '01.4.2', '1.4.2-', '1.4.2+']) {
      const result = validateFleet({
        defaults: { roleName: 'R', regions: ['eu-west-1'] },
        accounts: [
          {
            id: '123456789012',
            customer: 'c',
            ring: 'early',
            externalIdRef: 's/data/x',
            pipeline: { stackName: 's', version },
          },
        ],
      });
      expect(result.ok, version).toBe(false);
    }
  });
});

describe('loadFleetFile and fleetops fleet validate', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fleet-validate-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const bad = join(dir, 'bad.yaml');
  const good = join(dir, 'good.yaml');
  writeFileSync(bad, PLANTED);
  writeFileSync(
    good,
    `defaults: { roleName: R, regions: [eu-west-1], pipeline: { stackName: s, version: 1.0.0 } }
accounts:
  - { id: "000000000001", customer: a, ring: canary, externalIdRef: secret/data/a }
  - { id: "000000000002", customer: b, ring: general, externalIdRef: secret/data/b }
  - { id: "000000000003", customer: c, ring: general, externalIdRef: secret/data/c, state: paused }
`,
  );
  const capture = () => {
    let text = '';
    return { out: { write: (s: string) => (text += s) }, text: () => text };
  };

  it('throws InvalidFleetFile with every problem', () => {
    let error: unknown;
    try {
      loadFleetFile(bad);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidFleetFile);
    const invalid = error as InvalidFleetFile;
    expect(invalid.name).toBe('InvalidFleetFile');
    expect(invalid.problems).toHaveLength(EXPECTED.length);
    expect(invalid.message.split('\n')).toHaveLength(EXPECTED.length);
    expect(invalid.message).toContain(`${bad}:`);
  });

  it('throws a clear error for a missing file', () => {
    const missing = join(dir, 'missing.yaml');
    expect(() => loadFleetFile(missing)).toThrow(UnreadableFleetFile);
    expect(() => loadFleetFile(missing)).toThrow(`fleet file not found: ${missing}`);
  });

  it('prints a summary and returns 0 for a valid file', () => {
    const c = capture();
    expect(runFleetValidate(good, {}, c.out)).toBe(0);
    expect(c.text()).toBe(`✔ ${good}: 3 accounts valid (canary 1, early 0, general 2, late 0; 1 paused)\n`);
  });

  it('prints every problem and a count, returns 1', () => {
    const c = capture();
    expect(runFleetValidate(bad, {}, c.out)).toBe(1);
    const lines = c.text().trimEnd().split('\n');
    expect(lines).toHaveLength(EXPECTED.length + 1);
    expect(lines.at(-1)).toBe(`✖ ${bad}: ${EXPECTED.length} problems`);
  });

  it('returns 2 when the file cannot be read', () => {
    const c = capture();
    expect(runFleetValidate(join(dir, 'nope.yaml'), {}, c.out)).toBe(2);
    expect(c.text()).toContain('fleet file not found');
  });

  it('--json prints {ok, accounts, problems}', () => {
    const c = capture();
    expect(runFleetValidate(bad, { json: true }, c.out)).toBe(1);
    const parsed = JSON.parse(c.text()) as { ok: boolean; accounts: unknown[]; problems: FleetProblem[] };
    expect(parsed.ok).toBe(false);
    expect(parsed.accounts).toEqual([]);
    expect(parsed.problems).toHaveLength(EXPECTED.length);

    const g = capture();
    expect(runFleetValidate(good, { json: true }, g.out)).toBe(0);
    const ok = JSON.parse(g.text()) as { ok: boolean; accounts: Array<{ id: string }>; problems: unknown[] };
    expect(ok.ok).toBe(true);
    expect(ok.accounts.map((a) => a.id)).toEqual(['000000000001', '000000000002', '000000000003']);
    expect(ok.problems).toEqual([]);
  });
});
