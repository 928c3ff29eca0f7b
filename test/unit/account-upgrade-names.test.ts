import { describe, expect, it } from 'vitest';
import {
  CLOUDFORMATION_NAME_MAX,
  clientRequestToken,
  isValidCloudFormationName,
  nameSegment,
  stableHash,
  upgradeChangeSetName,
} from '../../workflows/upgrade/change-set-names';
import { changeKind, reviewChangeSet } from '../../workflows/upgrade/change-set-review';
import { STATEFUL_RESOURCE_TYPES } from '../../workflows/upgrade/upgrade-params';

describe('upgrade change-set names', () => {
  it('are deterministic, readable and valid CloudFormation names', () => {
    const name = upgradeChangeSetName('spring-rollout', '1.1.0');
    expect(name).toMatch(/^fleetops-spring-rollout-[0-9a-f]{12}-v1-1-0$/);
    expect(upgradeChangeSetName('spring-rollout', '1.1.0')).toBe(name);
    expect(isValidCloudFormationName(name)).toBe(true);
  });

  it('differ by campaign and by version, also when ids sanitise alike', () => {
    const names = new Set([
      upgradeChangeSetName('a.b', '1.1.0'),
      upgradeChangeSetName('a_b', '1.1.0'),
      upgradeChangeSetName('a:b', '1.1.0'),
      upgradeChangeSetName('a.b', '1.2.0'),
      upgradeChangeSetName('a.b', '1.1.0-rc.1'),
      upgradeChangeSetName('a.b', '1.1.0-rc-1'),
    ]);
    expect(names.size).toBe(6);
  });

  it('stay valid and within 128 characters for any campaign id and semver', () => {
    const ids = [
      'x'.repeat(300),
      '9-starts-with-digit',
      '---',
      '',
      'émoji-🚀-campaign',
      'a/b/c',
      'UPPER.lower_mixed:01',
    ];
    const versions = ['1.0.0', '10.20.30-beta.1+build.2024.11.22', `1.0.0-${'rc'.repeat(80)}`];
    for (const id of ids) {
      for (const v of versions) {
        const name = upgradeChangeSetName(id, v);
        expect(name.length, name).toBeLessThanOrEqual(CLOUDFORMATION_NAME_MAX);
        expect(isValidCloudFormationName(name), name).toBe(true);
      }
    }
  });

  it('rejects invalid names', () => {
    expect(isValidCloudFormationName('1abc')).toBe(false);
    expect(isValidCloudFormationName('a_b')).toBe(false);
    expect(isValidCloudFormationName('a'.repeat(129))).toBe(false);
    expect(isValidCloudFormationName('')).toBe(false);
  });
});

describe('client request tokens', () => {
  it('name the step, account, region and attempt and are stable', () => {
    const t = clientRequestToken('execute', 'camp-1', '200000000001', 'eu-west-1', 1);
    expect(t).toMatch(/^fleetops-execute-200000000001-eu-west-1-a1-[0-9a-f]{12}$/);
    expect(clientRequestToken('execute', 'camp-1', '200000000001', 'eu-west-1', 1)).toBe(t);
    expect(isValidCloudFormationName(t)).toBe(true);
  });

  it('differ for every step, campaign, account, region and attempt', () => {
    const tokens = new Set([
      clientRequestToken('execute', 'camp-1', '200000000001', 'eu-west-1', 1),
      clientRequestToken('create', 'camp-1', '200000000001', 'eu-west-1', 1),
      clientRequestToken('rollback', 'camp-1', '200000000001', 'eu-west-1', 1),
      clientRequestToken('execute', 'camp-2', '200000000001', 'eu-west-1', 1),
      clientRequestToken('execute', 'camp-1', '200000000002', 'eu-west-1', 1),
      clientRequestToken('execute', 'camp-1', '200000000001', 'us-east-1', 1),
      clientRequestToken('execute', 'camp-1', '200000000001', 'eu-west-1', 2),
    ]);
    expect(tokens.size).toBe(7);
    for (const t of tokens) expect(isValidCloudFormationName(t)).toBe(true);
  });
});

describe('stableHash and nameSegment', () => {
  it('hashes to 16 hex digits, the same every time (FNV-1a 64)', () => {
    expect(stableHash('')).toBe('cbf29ce484222325');
    expect(stableHash('campaign')).toMatch(/^[0-9a-f]{16}$/);
    expect(stableHash('campaign')).toBe(stableHash('campaign'));
    expect(stableHash('campaign')).not.toBe(stableHash('campaigN'));
  });

  it('keeps letters, digits and single inner dashes, trimmed to the limit', () => {
    expect(nameSegment('--a..b__c--', 50)).toBe('a-b-c');
    expect(nameSegment('abc-def', 4)).toBe('abc');
  });
});

describe('change-set review', () => {
  const change = (action: string, logicalId: string, resourceType: string, replacement?: string) => ({
    action,
    logicalId,
    resourceType,
    replacement,
  });

  it('counts adds, modifies, replacements and removals', () => {
    const plan = reviewChangeSet(
      [
        change('Add', 'Queue', 'AWS::SQS::Queue'),
        change('Modify', 'Fn', 'AWS::Lambda::Function', 'False'),
        change('Modify', 'Param', 'AWS::SSM::Parameter', 'True'),
        change('Modify', 'Role', 'AWS::IAM::Role', 'Conditional'),
        change('Remove', 'Old', 'AWS::SNS::Topic'),
      ],
      STATEFUL_RESOURCE_TYPES,
    );
    expect(plan).toEqual({ added: 1, modified: 1, replaced: 2, removed: 1, needsApproval: [] });
  });

  it('lists stateful resources that would be replaced or removed, not those only modified', () => {
    const plan = reviewChangeSet(
      [
        change('Modify', 'StateTable', 'AWS::DynamoDB::Table', 'True'),
        change('Remove', 'Archive', 'AWS::S3::Bucket'),
        change('Modify', 'Db', 'AWS::RDS::DBInstance', 'False'),
        change('Add', 'NewTable', 'AWS::DynamoDB::Table'),
      ],
      STATEFUL_RESOURCE_TYPES,
    );
    expect(plan.needsApproval).toEqual([
      'StateTable (AWS::DynamoDB::Table): replace',
      'Archive (AWS::S3::Bucket): remove',
    ]);
    expect(changeKind(change('Modify', 'X', 'AWS::S3::Bucket', 'Conditional'))).toBe('replaced');
  });

  it('uses the given stateful types only', () => {
    const plan = reviewChangeSet(
      [change('Modify', 'StateTable', 'AWS::DynamoDB::Table', 'True')],
      ['AWS::RDS::DBCluster'],
    );
    expect(plan.needsApproval).toEqual([]);
    expect(plan.replaced).toBe(1);
  });
});
