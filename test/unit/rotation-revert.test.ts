import { describe, expect, it } from 'vitest';
import { revertInput } from '../../cli/commands/campaign-revert';
import type { RevertPlan } from '../../cli/commands/campaign-revert-plan';
import type { AccountOperationResult } from '../../workflows/operation/account-operation';
import { operations } from '../../workflows/operations';
import { RotationParamsSchema } from '../../workflows/rotation/rotation-params';
import { rotationRevert } from '../../workflows/rotation/rotation-revert';

// What a rotation's revert takes back per account (rotation-revert.ts) and how its parameters are checked.
const A = '100000000001';
const BEFORE = '0b1e9c3a-0000-4000-8000-000000000001';
const MADE = '5c2f7d10-1111-5111-9111-111111111111';
const SECRET_ID = 'data-pipeline/collector-api-key';

const rotated = (region: Partial<AccountOperationResult['regions'][number]>): AccountOperationResult => ({
  accountId: A,
  outcome: 'rotated',
  regions: [{ region: 'eu-west-1', outcome: 'rotated', ...region }],
});

describe('rotationRevert', () => {
  it('takes a secretsmanager secret from the version the rotation made current back to the one before', () => {
    expect(
      rotationRevert(
        rotated({ secretKind: 'secretsmanager', secretId: SECRET_ID, fromVersion: BEFORE, toVersion: MADE }),
      ),
    ).toEqual({
      params: { revert: { region: 'eu-west-1', secretId: SECRET_ID, fromVersionId: MADE, toVersionId: BEFORE } },
    });
  });

  it('leaves alone an account the rotation did not change, saying why', () => {
    expect(
      rotationRevert({
        accountId: A,
        outcome: 'skipped',
        reason: 'not due',
        regions: [{ region: 'eu-west-1', outcome: 'skipped' }],
      }),
    ).toEqual({ leftAlone: 'skipped: not due' });
    expect(rotationRevert({ accountId: A, outcome: 'rolled-back', regions: [] })).toEqual({ leftAlone: 'rolled-back' });
    expect(rotationRevert(rotated({ secretKind: 'secretsmanager', secretId: SECRET_ID, toVersion: MADE }))).toEqual({
      leftAlone: `${SECRET_ID}: no other version was AWSCURRENT before the rotation (nothing to go back to)`,
    });
  });

  it('refuses the kinds whose old value is gone, each with why', () => {
    const key = rotationRevert(rotated({ secretKind: 'iam-access-key' }));
    expect(key).toHaveProperty('refused');
    expect((key as { refused: string }).refused).toContain(
      `account ${A}: an IAM access key rotation cannot be reverted`,
    );
    const externalId = rotationRevert(rotated({ secretKind: 'external-id' }));
    expect((externalId as { refused: string }).refused).toContain('an ExternalId rotation cannot be reverted');
  });

  it('refuses a result of older code that does not record the versions', () => {
    const old = rotationRevert(rotated({ reason: 'data-pipeline/collector-api-key: Vault v3 is AWSCURRENT' }));
    expect((old as { refused: string }).refused).toContain('does not record the secret and the versions');
  });

  it('the parameters refuse a bad revert, naming the field', () => {
    const bad = RotationParamsSchema.safeParse({
      secret: 'collector-api-key',
      revert: { region: 'moon-1', secretId: SECRET_ID, fromVersionId: 'x', toVersionId: BEFORE },
    });
    expect(bad.success).toBe(false);
    const paths = bad.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(paths).toEqual([
      expect.stringMatching(/^revert\.region: expected an AWS region name/),
      expect.stringMatching(/^revert\.fromVersionId: expected a Secrets Manager VersionId/),
    ]);
  });

  it("a revert campaign's input carries the rotation's parameters and each account's versions", () => {
    expect(operations.get('rotate-secret').revert).toBe(rotationRevert);
    const revert = { region: 'eu-west-1', secretId: SECRET_ID, fromVersionId: MADE, toVersionId: BEFORE };
    const plan: RevertPlan = {
      operation: 'rotate-secret',
      params: { secret: 'collector-api-key', healthBakeSeconds: 30, healthPollSeconds: 5 },
      fleetFile: '/fleet/fleet.yaml',
      changed: 1,
      revert: {
        of: 'rotate-secret-collector-api-key',
        targets: [{ params: { revert }, accountIds: [A] }],
        leftAlone: [],
      },
    };
    const { input } = revertInput(plan.revert.of, plan, { failureBudget: '1' });
    expect(input).toMatchObject({
      operation: 'rotate-secret',
      rotation: { secret: 'collector-api-key', healthBakeSeconds: 30 },
      revert: plan.revert,
    });
  });
});
