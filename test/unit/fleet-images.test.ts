import { describe, expect, it } from 'vitest';
import { formatFleetProblems, type FleetAccount } from '../../fleet';
import { describeGroupTarget, imageRegionsNeeded, resolveAutoScalingGroups } from '../../fleet/fleet-images';
import { parseFleetYaml, stringifyFleet } from '../../fleet/load-fleet';
import { simulatedFleet } from '../../cli/sim/simulated-fleet';

/** 1-based line of the only line containing `snippet`. */
function lineOf(text: string, snippet: string): number {
  const hits = text.split('\n').flatMap((line, i) => (line.includes(snippet) ? [i + 1] : []));
  if (hits.length !== 1) throw new Error(`snippet ${JSON.stringify(snippet)} found on ${hits.length} lines`);
  return hits[0];
}

function parsed(text: string): FleetAccount[] {
  const result = parseFleetYaml(text, 'fleet.yaml');
  if (!result.ok) throw new Error(formatFleetProblems('fleet.yaml', result.problems));
  return result.accounts;
}

function problems(text: string) {
  const result = parseFleetYaml(text, 'fleet.yaml');
  if (result.ok) throw new Error('expected problems');
  return result.problems;
}

const EXAMPLE = `defaults:
  roleName: FleetOpsExecutionRole
  regions: [eu-west-1]
  pipeline: { stackName: data-pipeline, version: 1.4.2 }
  imageAccount: { id: "999999999999", externalIdRef: secret/data/fleetops/external-ids/999999999999 }
  autoScalingGroups:
    - name: data-pipeline-workers                               # in every region of the account
accounts:
  - id: "123456789012"
    customer: acme
    ring: canary
    externalIdRef: secret/data/fleetops/external-ids/123456789012
  - id: "210987654321"
    customer: globex
    ring: general
    regions: [eu-west-1, us-east-1]
    externalIdRef: secret/data/fleetops/external-ids/210987654321
    autoScalingGroups:
      - { region: eu-west-1, name: data-pipeline-workers }
      - { region: us-east-1, tag: { key: "fleetops:pipeline", value: workers } }
  - id: "333333333333"
    customer: initech
    ring: late
    externalIdRef: secret/data/fleetops/external-ids/333333333333
    autoScalingGroups: []                                       # no groups: not part of AMI rollouts
`;

describe('fleet file: image account and Auto Scaling groups', () => {
  it('resolves defaults, per-account lists and the image account', () => {
    const [acme, globex, initech] = parsed(EXAMPLE);
    expect(acme.imageAccount).toEqual({
      id: '999999999999',
      roleArn: 'arn:aws:iam::999999999999:role/FleetOpsExecutionRole',
      externalIdRef: 'secret/data/fleetops/external-ids/999999999999',
    });
    expect(resolveAutoScalingGroups(acme)).toEqual([
      { region: 'eu-west-1', by: 'name', name: 'data-pipeline-workers' },
    ]);
    expect(resolveAutoScalingGroups(globex)).toEqual([
      { region: 'eu-west-1', by: 'name', name: 'data-pipeline-workers' },
      { region: 'us-east-1', by: 'tag', tag: { key: 'fleetops:pipeline', value: 'workers' } },
    ]);
    expect(resolveAutoScalingGroups(initech)).toEqual([]);
    expect(imageRegionsNeeded([acme, globex, initech])).toEqual(['eu-west-1', 'us-east-1']);
    expect(describeGroupTarget(resolveAutoScalingGroups(globex)[1])).toBe(
      'us-east-1 groups tagged fleetops:pipeline=workers',
    );
  });

  it('a group without region goes to every region of the account', () => {
    const two = parsed(
      EXAMPLE.replace('regions: [eu-west-1]\n  pipeline', 'regions: [eu-west-1, us-east-1]\n  pipeline'),
    )[0];
    expect(resolveAutoScalingGroups(two).map(describeGroupTarget)).toEqual([
      'eu-west-1 group data-pipeline-workers',
      'us-east-1 group data-pipeline-workers',
    ]);
  });

  it('round-trips through stringifyFleet (defaults inferred, the image account written once)', () => {
    const accounts = parsed(EXAMPLE);
    expect(parsed(stringifyFleet(accounts))).toEqual(accounts);
    const sim = simulatedFleet(6, { idBase: 500_000_000_000 });
    const text = stringifyFleet(sim);
    expect(text.match(/imageAccount/g)).toHaveLength(1);
    expect(parsed(text)).toEqual(sim);
  });

  it('reports every problem with field, line and account', () => {
    const text = `defaults:
  roleName: FleetOpsExecutionRole
  regions: [eu-west-1]
  pipeline: { stackName: data-pipeline, version: 1.4.2 }
  imageAccount: { id: 999999999999, externalIdRef: secret/data/fleetops/external-ids/999999999999, role: x }
  autoScalingGroups:
    - { name: "a:b" }
    - { name: data-pipeline-workers, tag: { key: k, value: v } }
    - { region: eu-west-1 }
    - { tag: { key: "aws:reserved", value: v, extra: 1 } }
    - { nmae: typo }
accounts:
  - id: "123456789012"
    customer: acme
    ring: canary
    externalIdRef: secret/data/fleetops/external-ids/123456789012
    imageAccount: { id: "999999999999" }
    autoScalingGroups:
      - { region: us-east-1, name: workers }
      - { name: workers }
      - { region: eu-west-1, name: workers }
      - { region: mars-1, name: workers }
      - just-a-name
  - id: "210987654321"
    customer: globex
    ring: general
    regions: [us-east-1]
    externalIdRef: secret/data/fleetops/external-ids/210987654321
    autoScalingGroups: { name: workers }
`;
    const found = problems(text);
    const show = (p: (typeof found)[number]) => `${p.line} ${p.accountId ?? '-'} ${p.path}: ${p.message}`;
    const lines = found.map(show);
    const expectOne = (path: string, line: number, message: RegExp, accountId?: string) => {
      const hit = found.filter((p) => p.path === path && message.test(p.message));
      expect(hit, `${path} ${message}\n${lines.join('\n')}`).toHaveLength(1);
      expect(hit[0].line).toBe(line);
      if (accountId) expect(hit[0].accountId).toBe(accountId);
    };
    expectOne('defaults.imageAccount.id', lineOf(text, 'id: 999999999999,'), /must be a quoted string/);
    expectOne('defaults.imageAccount.role', lineOf(text, 'id: 999999999999,'), /unknown field "role".*roleName/);
    expectOne('defaults.autoScalingGroups[0].name', lineOf(text, '"a:b"'), /Auto Scaling group name/);
    expectOne('defaults.autoScalingGroups[1].tag', lineOf(text, 'data-pipeline-workers, tag'), /either name or tag/);
    expectOne('defaults.autoScalingGroups[2].name', lineOf(text, '{ region: eu-west-1 }'), /required: name .* or tag/);
    expectOne('defaults.autoScalingGroups[3].tag.key', lineOf(text, 'aws:reserved'), /not starting with aws:/);
    expectOne('defaults.autoScalingGroups[3].tag.extra', lineOf(text, 'aws:reserved'), /unknown field "extra"/);
    expectOne('defaults.autoScalingGroups[4].nmae', lineOf(text, 'nmae'), /did you mean "name"/);
    expectOne(
      'accounts[0].imageAccount',
      lineOf(text, 'imageAccount: { id: "999999999999" }'),
      /not allowed per account: set it once in defaults/,
      '123456789012',
    );
    expectOne(
      'accounts[0].autoScalingGroups[0].region',
      lineOf(text, 'region: us-east-1, name: workers'),
      /us-east-1 is not one of the account's regions \(eu-west-1\)/,
      '123456789012',
    );
    expectOne(
      'accounts[0].autoScalingGroups[2]',
      lineOf(text, '{ region: eu-west-1, name: workers }'),
      /eu-west-1 group workers is already listed at autoScalingGroups\[1\]/,
    );
    expectOne('accounts[0].autoScalingGroups[3].region', lineOf(text, 'mars-1'), /AWS region/);
    expectOne('accounts[0].autoScalingGroups[4]', lineOf(text, 'just-a-name'), /expected a group mapping/);
    expectOne(
      'accounts[1].autoScalingGroups',
      lineOf(text, 'autoScalingGroups: { name: workers }'),
      /expected a list of groups/,
      '210987654321',
    );
    // Formatted like every fleet problem: file:line, account, field.
    expect(formatFleetProblems('fleet.yaml', found)).toContain(
      `fleet.yaml:${lineOf(text, 'mars-1')} accounts[0] (id 123456789012) autoScalingGroups[3].region:`,
    );
  });

  it('a default group in a region the account lacks is reported at the account; the image account needs a role', () => {
    const text = `defaults:
  regions: [eu-west-1]
  pipeline: { stackName: data-pipeline, version: 1.4.2 }
  imageAccount: { id: "123456789012", externalIdRef: secret/data/fleetops/external-ids/123456789012 }
  autoScalingGroups:
    - { region: eu-west-1, name: workers }
    - { region: eu-west-1, name: workers }
accounts:
  - id: "123456789012"
    customer: acme
    ring: canary
    roleName: FleetOpsExecutionRole
    regions: [us-east-1]
    externalIdRef: secret/data/fleetops/external-ids/123456789012
`;
    const found = problems(text).map((p) => `${p.path}: ${p.message}`);
    expect(found).toEqual(
      expect.arrayContaining([
        'defaults.imageAccount.roleName: required: set imageAccount.roleName, or roleName in defaults',
        expect.stringMatching(/^defaults\.imageAccount\.id: the image account 123456789012 is also accounts\[0\]/),
        'defaults.autoScalingGroups[1]: the same group is already listed at defaults.autoScalingGroups[0]',
        expect.stringMatching(
          /^accounts\[0\]\.autoScalingGroups: defaults\.autoScalingGroups\[0\] is in region eu-west-1, not one of the account's regions \(us-east-1\)/,
        ),
      ]),
    );
  });
});

describe('fleet file: defaults.imageSharing (an organization or OU instead of per-account shares)', () => {
  const OU = 'arn:aws:organizations::111122223333:ou/o-exampleorgid/ou-ab12-examplou';
  const withSharing = (entry: string) =>
    EXAMPLE.replace('  autoScalingGroups:\n    - name', `  imageSharing: ${entry}\n  autoScalingGroups:\n    - name`);

  it('resolves to every account and round-trips through stringifyFleet', () => {
    const accounts = parsed(withSharing(`{ organizationalUnitArn: "${OU}" }`));
    expect(accounts.map((a) => a.imageSharing)).toEqual(accounts.map(() => ({ kind: 'organizational-unit', arn: OU })));
    const text = stringifyFleet(accounts);
    expect(text.match(/imageSharing/g)).toHaveLength(1);
    expect(parsed(text)).toEqual(accounts);
    const org = parsed(
      withSharing('{ organizationArn: "arn:aws:organizations::111122223333:organization/o-exampleorgid" }'),
    )[0];
    expect(org.imageSharing).toEqual({
      kind: 'organization',
      arn: 'arn:aws:organizations::111122223333:organization/o-exampleorgid',
    });
  });

  it('names a malformed ARN, both or neither, and imageSharing per account', () => {
    const messages = (text: string) => problems(text).map((p) => `${p.path}: ${p.message}`);
    expect(messages(withSharing('{ organizationArn: "o-exampleorgid" }'))).toEqual([
      expect.stringMatching(
        /^defaults\.imageSharing\.organizationArn: .*organization ARN like arn:aws:organizations::/,
      ),
    ]);
    expect(
      messages(
        withSharing(
          `{ organizationArn: "arn:aws:organizations::111122223333:organization/o-exampleorgid", organizationalUnitArn: "${OU}" }`,
        ),
      ),
    ).toEqual([expect.stringMatching(/^defaults\.imageSharing\.organizationalUnitArn: give either/)]);
    expect(messages(withSharing('{}'))).toEqual([
      expect.stringMatching(
        /^defaults\.imageSharing\.organizationArn: required: organizationArn or organizationalUnitArn/,
      ),
    ]);
    const perAccount = EXAMPLE.replace(
      '    customer: acme\n',
      `    customer: acme\n    imageSharing: { organizationalUnitArn: "${OU}" }\n`,
    );
    expect(messages(perAccount)).toEqual([expect.stringMatching(/imageSharing.*not allowed per account/)]);
  });
});
