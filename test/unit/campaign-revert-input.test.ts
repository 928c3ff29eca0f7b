import { describe, expect, it } from 'vitest';
import { revertInput } from '../../cli/commands/campaign-revert';
import type { RevertPlan } from '../../cli/commands/campaign-revert-plan';
import { campaignInputSchema } from '../../workflows/campaign/campaign-input';
import { upgradeRevert } from '../../workflows/upgrade/upgrade-operation';

// What a revert takes back per account (the upgrade's revert rule) and how its input is checked.
const A = '100000000001';
const B = '100000000002';

describe('upgradeRevert', () => {
  it('takes back only the regions the campaign upgraded, each to the version it ran before', () => {
    expect(
      upgradeRevert({
        accountId: A,
        outcome: 'upgraded',
        regions: [
          { region: 'eu-west-1', outcome: 'upgraded', fromVersion: '1.0.1', toVersion: '1.2.0' },
          { region: 'us-east-1', outcome: 'already-current', fromVersion: '1.2.0', toVersion: '1.2.0' },
          { region: 'ap-south-1', outcome: 'upgraded', fromVersion: '1.0.3', toVersion: '1.2.0' },
        ],
      }),
    ).toEqual({ params: { targetVersion: '1.0.1', regionVersions: { 'eu-west-1': '1.0.1', 'ap-south-1': '1.0.3' } } });
  });

  it('leaves alone what the campaign did not change, or cannot be taken back, saying why', () => {
    expect(upgradeRevert({ accountId: A, outcome: 'rolled-back', reason: 'alarm', regions: [] })).toEqual({
      leftAlone: 'rolled-back: alarm',
    });
    expect(upgradeRevert({ accountId: A, outcome: 'already-current', regions: [] })).toEqual({
      leftAlone: 'already-current',
    });
    expect(
      upgradeRevert({ accountId: A, outcome: 'upgraded', regions: [{ region: 'eu-west-1', outcome: 'upgraded' }] }),
    ).toEqual({ leftAlone: 'the version before the upgrade is unknown in eu-west-1' });
  });
});

const plan: RevertPlan = {
  operation: 'upgrade',
  params: { targetVersion: '1.2.0', healthBakeSeconds: 60 },
  fleetFile: '/fleet/fleet.yaml',
  changed: 2,
  revert: {
    of: 'upgrade-1.2.0-202601010000',
    targets: [
      { params: { targetVersion: '1.0.1', regionVersions: { 'eu-west-1': '1.0.1' } }, accountIds: [A] },
      { params: { targetVersion: '1.0.0', regionVersions: { 'eu-west-1': '1.0.0' } }, accountIds: [B] },
    ],
    leftAlone: [{ accountId: '100000000003', state: 'rolled-back' }],
  },
};

describe('revert input', () => {
  it("carries the reverted campaign's parameters and fleet file, the revert, allowDowngrade and the flags' controls", () => {
    const { campaignId, input } = revertInput(
      plan.revert.of,
      plan,
      { maxInFlight: '3', failureBudget: '1' },
      new Date('2026-02-03T04:05:00Z'),
    );
    expect(campaignId).toBe('revert-upgrade-1.2.0-202601010000-202602030405');
    expect(input).toMatchObject({
      operation: 'upgrade',
      fleetFile: '/fleet/fleet.yaml',
      maxInFlight: 3,
      failureBudget: { maxFailures: 1 },
      allowDowngrade: true,
      upgrade: { targetVersion: '1.2.0', healthBakeSeconds: 60 },
      revert: plan.revert,
    });
    expect(input.select).toBeUndefined();
  });

  it('names a bad control flag', () => {
    expect(() => revertInput(plan.revert.of, plan, { maxInFlight: 'many' })).toThrow('--max-in-flight "many"');
  });

  it('refuses select, an account twice and parameters the operation would refuse, naming each', () => {
    const { input } = revertInput(plan.revert.of, plan, {});
    const bad = campaignInputSchema().safeParse({
      ...input,
      select: { ids: [A] },
      revert: {
        ...plan.revert,
        targets: [
          { params: { targetVersion: '1.0' }, accountIds: [A] },
          { params: {}, accountIds: [A] },
        ],
      },
    });
    expect(bad.success).toBe(false);
    const issues = bad.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(issues).toHaveLength(3);
    expect(issues[0]).toMatch(/^select: a revert takes the accounts campaign upgrade-1.2.0-202601010000 changed/);
    expect(issues[1]).toMatch(/^revert\.targets\.0\.params\.targetVersion: /);
    expect(issues[2]).toBe(`revert.targets.1.accountIds: listed more than once: ${A}`);
  });
});
