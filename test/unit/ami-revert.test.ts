import { describe, expect, it } from 'vitest';
import { revertInput } from '../../cli/commands/campaign-revert';
import type { RevertPlan } from '../../cli/commands/campaign-revert-plan';
import { amiRevert } from '../../workflows/ami/ami-revert';
import { AmiParamsSchema } from '../../workflows/ami/ami-params';

// What an AMI rollout's revert takes back per account (ami-revert.ts) and how its parameters are checked.
const A = '100000000001';
const LT = 'lt-0123456789abcdef0';
const LT2 = 'lt-0fedcba987654321f';

describe('amiRevert', () => {
  it('takes each moved group from M back to N on its recorded template; other groups listed as left alone', () => {
    expect(
      amiRevert({
        accountId: A,
        outcome: 'rolled-out',
        regions: [
          {
            region: 'eu-west-1',
            group: 'w',
            launchTemplateId: LT,
            outcome: 'rolled-out',
            fromVersion: '1',
            toVersion: '2',
          },
          { region: 'eu-west-1', group: 'l', launchTemplateId: LT2, outcome: 'already-current', fromVersion: '4' },
          {
            region: 'us-east-1',
            group: 'w',
            launchTemplateId: LT2,
            outcome: 'rolled-out',
            fromVersion: '3',
            toVersion: '5',
          },
        ],
      }),
    ).toEqual({
      params: {
        revertGroups: [
          { region: 'eu-west-1', group: 'w', launchTemplateId: LT, fromVersion: 2, toVersion: 1 },
          { region: 'us-east-1', group: 'w', launchTemplateId: LT2, fromVersion: 5, toVersion: 3 },
        ],
      },
      leftAloneParts: [
        { state: 'already-current', reason: 'eu-west-1 group l not moved by the campaign (already-current)' },
      ],
    });
  });

  it('leaves alone an account the rollout did not change (rolled back, quarantined, skipped), saying why', () => {
    expect(amiRevert({ accountId: A, outcome: 'rolled-back', reason: 'alarm', regions: [] })).toEqual({
      leftAlone: 'rolled-back: alarm',
    });
    expect(amiRevert({ accountId: A, outcome: 'skipped', regions: [] })).toEqual({ leftAlone: 'skipped' });
    expect(amiRevert({ accountId: A, outcome: 'quarantined', reason: 'busy', regions: [] })).toEqual({
      leftAlone: 'quarantined: busy',
    });
  });

  it('refuses a result of older code that does not record the launch template', () => {
    const step = amiRevert({
      accountId: A,
      outcome: 'rolled-out',
      regions: [{ region: 'eu-west-1', group: 'w', outcome: 'rolled-out', fromVersion: '1', toVersion: '2' }],
    });
    expect(step).toHaveProperty('refused');
    expect((step as { refused: string }).refused).toContain(
      `account ${A}: its result does not record the launch template and both versions (N before, M after) of eu-west-1 w`,
    );
  });

  it('the parameters refuse a bad revert group, naming the field', () => {
    const bad = AmiParamsSchema.safeParse({
      image: 'img-1',
      revertGroups: [{ region: 'eu-west-1', group: 'w', launchTemplateId: 'nope', fromVersion: 2, toVersion: 0 }],
    });
    expect(bad.success).toBe(false);
    const paths = bad.error!.issues.map((i) => i.path.join('.'));
    expect(paths).toEqual(['revertGroups.0.launchTemplateId', 'revertGroups.0.toVersion']);
  });

  it("a revert campaign's input carries the rollout's parameters and each account's groups", () => {
    const plan: RevertPlan = {
      operation: 'ami-rollout',
      params: { image: 'img-2', healthBakeSeconds: 5 },
      fleetFile: '/fleet/fleet.yaml',
      changed: 1,
      revert: {
        of: 'ami-rollout-img-2',
        targets: [
          {
            params: {
              revertGroups: [{ region: 'eu-west-1', group: 'w', launchTemplateId: LT, fromVersion: 2, toVersion: 1 }],
            },
            accountIds: [A],
          },
        ],
        leftAlone: [],
      },
    };
    const { input } = revertInput(plan.revert.of, plan, { failureBudget: '1' });
    expect(input).toMatchObject({ operation: 'ami-rollout', ami: { image: 'img-2' }, revert: plan.revert });
  });
});
