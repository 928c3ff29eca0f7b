import { describe, expect, it } from 'vitest';
import { formatAmiPlanLine } from '../../cli/commands/ami-plan-format';
import { formatPlanReport } from '../../cli/commands/campaign-status-view';

const GROUP = 'data-pipeline-workers';

describe('AMI rollout plan lines', () => {
  it('prints per account, region and group the current image, the target image and whether it can roll back', () => {
    const report = formatPlanReport([
      {
        accountId: '100000000001',
        regions: [
          {
            region: 'eu-west-1',
            group: GROUP,
            outcome: 'planned',
            fromVersion: '3',
            fromImage: 'ami-0aaa',
            toImage: 'ami-0bbb',
            canRollBack: true,
          },
          {
            region: 'us-east-1',
            group: GROUP,
            outcome: 'already-current',
            fromVersion: '4',
            fromImage: 'ami-0ccc',
            toImage: 'ami-0ccc',
            canRollBack: true,
          },
        ],
      },
      {
        accountId: '100000000002',
        regions: [
          {
            region: 'eu-west-1',
            group: GROUP,
            outcome: 'planned',
            fromVersion: '$Latest',
            fromImage: 'ami-0aaa',
            toImage: 'ami-0bbb',
            canRollBack: false,
            reason: 'on $Latest: a rollback would have no version to go back to (the rollout quarantines it)',
          },
        ],
      },
      {
        accountId: '100000000003',
        regions: [
          {
            region: 'eu-west-1',
            group: GROUP,
            outcome: 'already-current',
            fromImage: 'ami-0bbb',
            toImage: 'ami-0bbb',
            canRollBack: true,
          },
        ],
      },
    ]);
    expect(report).toEqual([
      'plan: 3 accounts — 2 would change, 1 unchanged, 0 could not be planned',
      `  ▲ 100000000001 eu-west-1 ${GROUP}  ami-0aaa (version 3) → ami-0bbb  can roll back`,
      `  = 100000000001 us-east-1 ${GROUP}  ami-0ccc (version 4) → ami-0ccc  already on the target image`,
      `  ! 100000000002 eu-west-1 ${GROUP}  ami-0aaa (version $Latest) → ami-0bbb  cannot roll back  on $Latest: a rollback would have no version to go back to (the rollout quarantines it)`,
      `  = 100000000003 eu-west-1 ${GROUP}  ami-0bbb → ami-0bbb  already on the target image`,
    ]);
  });

  it('marks a group that could not be planned and keeps unknown images visible', () => {
    expect(
      formatAmiPlanLine('100000000004', {
        region: 'eu-west-1',
        group: GROUP,
        outcome: 'quarantined',
        reason: 'eu-west-1 group data-pipeline-workers launches from no launch template',
      }),
    ).toBe(
      `  ✖ 100000000004 eu-west-1 ${GROUP}  ? → ?  quarantined  eu-west-1 group data-pipeline-workers launches from no launch template`,
    );
  });

  it('limits the listed groups like the other plan lines', () => {
    const many = Array.from({ length: 4 }, (_, i) => ({
      accountId: `10000000001${i}`,
      regions: [
        {
          region: 'eu-west-1',
          group: GROUP,
          outcome: 'planned',
          fromImage: 'ami-0a',
          toImage: 'ami-0b',
          canRollBack: true,
        },
      ],
    }));
    const lines = formatPlanReport(many, 2);
    expect(lines).toHaveLength(4);
    expect(lines[0]).toBe('plan: 4 accounts — 4 would change, 0 unchanged, 0 could not be planned');
    expect(lines[3]).toBe('  … and 2 more (--json lists every account)');
  });
});
