import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLeaseActivities } from '../../activities/lease/lease-activities';
import type { RotationRevertPreflight } from '../../activities/rotation/secret-rotation';
import type { AccountOperationResult } from '../../workflows/operation/account-operation';
import type { RotationRevert } from '../../workflows/rotation/rotation-params';
import { TimeSkippingWorker, forwardingActivities } from '../support/time-skipping';

// The revert path of accountSecretRotation on Temporal's time-skipping test server, against a stand-in
// of the account's secret (the rotation activities' results; the real ones run in
// test/integration/rotation-revert.test.ts): the edge cases the local stack cannot reach — the old
// version deleted (moto keeps every version), the fleet file naming another secret since — and the
// runbook an alarm after a revert points at.

const ACCOUNT = '700000000002';
const REGION = 'eu-west-1';
const SECRET_ID = 'data-pipeline/collector-api-key';
const ROTATED = '11111111-1111-5111-8111-111111111111'; // the version the rotation made AWSCURRENT
const BEFORE = '22222222-2222-5222-8222-222222222222'; // AWSCURRENT before the rotation

/** The secret as the revert finds it, and what the child did to it. */
class FakeSecret {
  current = ROTATED;
  versions = new Set([ROTATED, BEFORE]);
  secretId = SECRET_ID;
  alarm: 'OK' | 'ALARM' = 'OK';
  /** ALARM once AWSCURRENT moved back (an alarm during the bake after the revert) */
  alarmAfterRevert = false;
  rollBacks = 0;

  activities() {
    return {
      rotationRevertPreflight: async (i: {
        token: string;
        previousVersionId: string;
      }): Promise<RotationRevertPreflight> => {
        const found = { secretId: this.secretId, region: REGION, currentVersionId: this.current };
        if (this.current === i.previousVersionId) return { ...found, status: 'already-reverted' };
        if (this.current !== i.token) return { ...found, status: 'moved-on' };
        if (!this.versions.has(i.previousVersionId)) return { ...found, status: 'previous-gone' };
        return { ...found, status: 'revertible' };
      },
      rotationHealthAlarm: async () => {
        const state = this.alarmAfterRevert && this.current === BEFORE ? 'ALARM' : this.alarm;
        return { alarms: [{ name: 'data-pipeline-health', state }], missing: [] };
      },
      rotationRollBack: async (i: { previousVersionId?: string }) => {
        this.rollBacks++;
        this.current = i.previousVersionId!;
        return { restoredCurrent: true };
      },
    };
  }
}

let ts: TimeSkippingWorker;
let secret = new FakeSecret();
const TASK_QUEUE = 'rotation-revert-child';
let seq = 0;

beforeAll(async () => {
  // the stand-in reads `secret` at call time: each test sets its own
  const fakes = forwardingActivities(() => secret.activities());
  ts = await TimeSkippingWorker.start({
    taskQueue: TASK_QUEUE,
    workflowsPath: path.resolve(__dirname, '../../workflows/index.ts'),
    activities: (env) => ({ ...createLeaseActivities(env.client), ...fakes }),
  });
}, 120_000);

afterAll(() => ts?.stop());

const REVERT: RotationRevert = { region: REGION, secretId: SECRET_ID, fromVersionId: ROTATED, toVersionId: BEFORE };

function revert(): Promise<AccountOperationResult> {
  const campaignId = `rotation-revert-${++seq}`;
  return ts.env.client.workflow.execute('accountSecretRotation', {
    taskQueue: TASK_QUEUE,
    workflowId: `${campaignId}/${ACCOUNT}`,
    args: [
      {
        campaignId,
        fleetFile: '/fleet/fleet.yaml',
        accountId: ACCOUNT,
        operation: 'rotate-secret',
        allowDowngrade: true,
        rotation: { secret: 'collector-api-key', healthBakeSeconds: 60, healthPollSeconds: 10, revert: REVERT },
      },
    ],
  });
}

describe('accountSecretRotation revert path (time-skipping)', () => {
  it('moves AWSCURRENT back and records the versions', async () => {
    secret = new FakeSecret();
    const r = await revert();
    expect(r).toMatchObject({ outcome: 'rotated' });
    expect(r.regions).toEqual([
      expect.objectContaining({ region: REGION, secretId: SECRET_ID, fromVersion: ROTATED, toVersion: BEFORE }),
    ]);
    expect(secret.current).toBe(BEFORE);
    expect(secret.rollBacks).toBe(1);
  });

  it('quarantines, changing nothing, when the version from before the rotation no longer exists', async () => {
    secret = new FakeSecret();
    secret.versions.delete(BEFORE);
    const r = await revert();
    expect(r).toMatchObject({
      outcome: 'quarantined',
      errorType: 'SecretRevertImpossible',
      runbook: 'docs/runbooks/revert-a-campaign.md',
    });
    expect(r.reason).toContain(`version ${BEFORE}, AWSCURRENT before the rotation, no longer exists`);
    expect(secret.rollBacks).toBe(0);
    expect(secret.current).toBe(ROTATED);
  });

  it('fails, changing nothing, when the fleet file now names another secret', async () => {
    secret = new FakeSecret();
    secret.secretId = 'data-pipeline/another-key';
    const r = await revert();
    expect(r).toMatchObject({ outcome: 'failed', errorType: 'InvalidWorkflowInput' });
    expect(r.reason).toContain(`not ${SECRET_ID} in ${REGION}`);
    expect(secret.rollBacks).toBe(0);
  });

  it('leaves a secret rotated again since alone, and one already back counts as already-current', async () => {
    secret = new FakeSecret();
    secret.current = '33333333-3333-5333-8333-333333333333';
    expect(await revert()).toMatchObject({ outcome: 'skipped' });
    secret = new FakeSecret();
    secret.current = BEFORE;
    expect(await revert()).toMatchObject({ outcome: 'already-current' });
    expect(secret.rollBacks).toBe(0);
  });

  it('an account already in ALARM is unhealthy-before, untouched', async () => {
    secret = new FakeSecret();
    secret.alarm = 'ALARM';
    expect(await revert()).toMatchObject({ outcome: 'unhealthy-before' });
    expect(secret.rollBacks).toBe(0);
  });

  it('an alarm during the bake quarantines the account on the old version, pointing at the revert runbook', async () => {
    secret = new FakeSecret();
    secret.alarmAfterRevert = true;
    const r = await revert();
    expect(r).toMatchObject({
      outcome: 'quarantined',
      errorType: 'HealthAlarm',
      runbook: 'docs/runbooks/revert-a-campaign.md#an-alarm-after-a-rotation-revert',
    });
    expect(secret.current).toBe(BEFORE);
    expect(secret.rollBacks).toBe(1);
  });
});
