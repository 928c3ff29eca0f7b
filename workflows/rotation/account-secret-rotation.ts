import {
  ActivityFailure,
  ApplicationFailure,
  TimeoutFailure,
  defineQuery,
  isCancellation,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  ParentClosePolicy,
  sleep,
  startChild,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { RotationActivities, RotationStep } from '../../activities/rotation/rotation-activities';
import { ErrorType } from '../../fleet/error-types';
import {
  ACCOUNT_PROGRESS_QUERY,
  type AccountOperationInput,
  type AccountOperationResult,
  type AccountOutcome,
  type AccountProgress,
  type RegionResult,
} from '../operation/account-operation';
import { accountCurrentDetails } from '../operation/account-details';
import {
  HEALTH_CHECK_BEFORE_CHANGE,
  UNHEALTHY_BEFORE,
  UNHEALTHY_BEFORE_RUNBOOK,
  unhealthyStop,
} from '../operation/health-before';
import { FLEET_ACCOUNT_ID, FLEET_CAMPAIGN_ID, FLEET_OPERATION, FLEET_STATE, FLEET_WAVE } from '../search-attributes';
import { parseWorkflowInput } from '../workflow-input';
import { withAccountLease } from '../lease/account-lease-holder';
import { rotationPlanLine } from './rotation-plan';
import {
  AccountSecretRotationInputSchema,
  ROTATION_OPERATION,
  type AccountSecretRotationOptions,
  type RotationRevert,
} from './rotation-params';
import { REVERT_ALARM_RUNBOOK, ROTATION_QUARANTINING, ROTATION_RUNBOOKS } from './rotation-runbooks';
import { ROTATION_CALL_RETRY } from './rotation-retry';
import { externalIdCleanup, externalIdCleanupId } from './external-id-cleanup';
import { secretKeyCleanup, secretKeyCleanupId } from './secret-key-cleanup';
import { rotationToken } from './uuid-v5';
import { AWS_CALL_TIMEOUTS } from '../activity-timeouts';

export const accountProgressQuery = defineQuery<AccountProgress>(ACCOUNT_PROGRESS_QUERY);

export { ROTATION_CALL_RETRY };

const steps = proxyActivities<RotationActivities>({ ...AWS_CALL_TIMEOUTS, retry: ROTATION_CALL_RETRY });
/** The IAM key test waits up to a minute for a new key to be accepted, heartbeating. */
const keyTest = proxyActivities<RotationActivities>({
  startToCloseTimeout: '3 minutes',
  heartbeatTimeout: '30 seconds',
  retry: ROTATION_CALL_RETRY,
});

/** An account's result with one region line; `recorded` adds what a revert needs (secret kind, versions). */
type Done = (outcome: AccountOutcome, reason?: string, recorded?: Partial<RegionResult>) => AccountOperationResult;

type Stop = {
  outcome: 'quarantined' | 'failed' | 'rolled-back' | typeof UNHEALTHY_BEFORE;
  reason: string;
  errorType?: string;
};

class AccountStopped extends Error {
  constructor(readonly stop: Stop) {
    super(stop.reason);
    this.name = 'AccountStopped';
  }
}

/** An activity's failure (after its retries) as the account's stop; cancellation and bugs pass through. */
async function step<T>(call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (err) {
    if (isCancellation(err) || !(err instanceof ActivityFailure)) throw err;
    const cause = err.cause;
    const type =
      cause instanceof ApplicationFailure
        ? (cause.type ?? 'Error')
        : cause instanceof TimeoutFailure
          ? 'ActivityTimeout'
          : (cause?.name ?? 'Error');
    const outcome = ROTATION_QUARANTINING.includes(type) ? 'quarantined' : 'failed';
    throw new AccountStopped({ outcome, errorType: type, reason: cause?.message ?? err.message });
  }
}

/**
 * Rotates one account's `secretsmanager` secret (`rotation.secret`), the Secrets Manager four steps
 * run by fleetops itself, Vault first so AWSCURRENT never names a value Vault does not hold:
 *
 * 1. preflight: secret not in the account → skipped; `iam-access-key` runs rotateKey (the same steps
 *    with the user's key, then the old key's cleanup); `external-id` runs rotateExternalId;
 *    AWSPENDING on someone else's version → quarantined; this token AWSCURRENT → already-current;
 *    live value younger than `olderThanDays` → skipped (not due). A due account whose `<stack>-health`
 *    alarm is already in ALARM → unhealthy-before (nothing changed). Plan mode stops here with a report.
 * 2. create: value generated in the activity, new Vault version (cas), PutSecretValue AWSPENDING
 *    with ClientRequestToken = UUIDv5(campaign/account/secret/attempt);
 * 3. test: AWSPENDING read back by VersionId, compared by hash with Vault → mismatch rolls back;
 * 4. finish: AWSCURRENT → the new version (old one AWSPREVIOUS), live record written;
 * 5. health gate: `<stack>-health` watched for `healthBakeSeconds`; ALARM → AWSCURRENT and the live
 *    record back (rolled-back).
 *
 * Only version ids, tokens, version numbers and booleans pass through here: never a value.
 */
export async function accountSecretRotation(rawInput: AccountOperationInput): Promise<AccountOperationResult> {
  const input = parseWorkflowInput('accountSecretRotation', AccountSecretRotationInputSchema, rawInput);
  return withAccountLease(input, () => new AccountSecretRotationRun(input).run());
}

class AccountSecretRotationRun {
  private current: AccountProgress = { phase: 'starting' };
  private region = '-';
  private readonly where: RotationStep;

  constructor(private readonly input: AccountSecretRotationOptions) {
    const { campaignId, accountId, fleetFile, attempt, rotation } = input;
    this.where = {
      fleetFile,
      accountId,
      campaignId,
      secret: rotation.secret,
      token: rotationToken(campaignId, accountId, rotation.secret, attempt),
    };
  }

  /** What it does now: answers the progress query and is the live details the Temporal UI shows. */
  private get progress(): AccountProgress {
    return this.current;
  }

  private set progress(p: AccountProgress) {
    this.current = p;
    this.publishDetails();
  }

  private publishDetails(result?: AccountOperationResult): void {
    const { campaignId, wave, attempt } = this.input;
    const summary = `rotate-secret ${this.input.accountId} ${this.input.rotation.secret}`;
    setCurrentDetails(
      accountCurrentDetails({ summary, campaignId, wave, attempt, progress: this.current, regions: [], result }),
    );
  }

  async run(): Promise<AccountOperationResult> {
    setHandler(accountProgressQuery, () => this.progress);
    const { campaignId, accountId, wave } = this.input;
    upsertSearchAttributes([
      { key: FLEET_CAMPAIGN_ID, value: campaignId },
      { key: FLEET_OPERATION, value: ROTATION_OPERATION },
      { key: FLEET_ACCOUNT_ID, value: accountId },
      ...(wave ? [{ key: FLEET_WAVE, value: wave }] : []),
      { key: FLEET_STATE, value: 'running' },
    ]);
    try {
      return this.finish(await this.rotate());
    } catch (err) {
      if (isCancellation(err)) {
        upsertSearchAttributes([{ key: FLEET_STATE, value: 'cancelled' }]);
        throw err;
      }
      if (!(err instanceof AccountStopped)) throw err;
      const { outcome, reason, errorType } = err.stop;
      return this.finish({
        accountId,
        outcome,
        reason,
        ...(errorType ? { errorType } : {}),
        regions: [{ region: this.region, outcome, reason }],
      });
    }
  }

  private async rotate(): Promise<AccountOperationResult> {
    const { accountId, plan, rotation } = this.input;
    if (rotation.revert) return this.revert(rotation.revert);
    this.progress = { phase: 'preflight' };
    const found = await step(
      steps.rotationPreflight({
        ...this.where,
        ...(rotation.olderThanDays !== undefined ? { olderThanDays: rotation.olderThanDays } : {}),
      }),
    );
    this.region = found.region ?? '-';
    if (found.status === 'due' && patched(HEALTH_CHECK_BEFORE_CHANGE)) await this.healthBefore();
    if (plan) {
      return { accountId, outcome: 'planned', regions: [rotationPlanLine(rotation.secret, found)] };
    }
    const done: Done = (outcome, reason, recorded) => ({
      accountId,
      outcome,
      ...(reason ? { reason } : {}),
      regions: [{ region: this.region, outcome, ...(reason ? { reason } : {}), ...recorded }],
    });
    switch (found.status) {
      case 'skipped':
      case 'not-due':
        return done('skipped', found.reason);
      case 'already-current':
        return done('already-current', found.reason);
      case 'pending-left-behind':
        throw new AccountStopped({
          outcome: 'quarantined',
          errorType:
            found.kind === 'external-id' ? ErrorType.ExternalIdPendingLeftBehind : ErrorType.SecretPendingLeftBehind,
          reason: found.reason ?? 'AWSPENDING left behind',
        });
      case 'two-key-limit':
        throw new AccountStopped({
          outcome: 'quarantined',
          errorType: ErrorType.IamTwoKeyLimit,
          reason: found.reason ?? 'IAM user has two keys',
        });
      case 'due':
        break;
    }
    if (found.kind === 'iam-access-key') return this.rotateKey(found.secretId ?? '?', done);
    if (found.kind === 'external-id') return this.rotateExternalId(found.secretId ?? '?', done);

    this.progress = { phase: 'creating', region: this.region };
    const created = await step(steps.rotationCreatePending(this.where));
    this.progress = { phase: 'testing', region: this.region };
    const tested = await step(steps.rotationTestPending({ ...this.where, vaultVersion: created.vaultVersion }));
    if (!tested.matches) {
      await this.rollBack(steps.rotationRollBack(this.where));
      throw new AccountStopped({
        outcome: 'rolled-back',
        errorType: ErrorType.SecretTestFailed,
        reason: `version ${this.where.token} of ${found.secretId} read back from AWS ${tested.found ? 'does not match' : 'is missing, not'} Vault version ${created.vaultVersion}; AWSPENDING removed, AWSCURRENT untouched`,
      });
    }
    this.progress = { phase: 'finishing', region: this.region };
    const finished = await step(steps.rotationFinish({ ...this.where, vaultVersion: created.vaultVersion }));
    await this.healthGate(`AWSCURRENT back on ${finished.previousVersionId ?? '?'}`, () =>
      this.rollBack(
        steps.rotationRollBack({
          ...this.where,
          ...(finished.previousVersionId ? { previousVersionId: finished.previousVersionId } : {}),
        }),
      ),
    );
    return done(
      'rotated',
      `${found.secretId}: Vault v${created.vaultVersion} is AWSCURRENT (version ${this.where.token}), previous ${finished.previousVersionId ?? '?'} AWSPREVIOUS`,
      {
        secretKind: 'secretsmanager',
        ...(found.secretId ? { secretId: found.secretId } : {}),
        ...(finished.previousVersionId ? { fromVersion: finished.previousVersionId } : {}),
        toVersion: this.where.token,
      },
    );
  }

  /**
   * The `iam-access-key` kind: new key (room made, stored in Vault at once) and its pair AWSPENDING on
   * the deliverTo secret; test (GetCallerIdentity with the new key, deliverTo hash); finish; health gate
   * (ALARM → deliverTo back, new key deactivated, old key active); then the old key's cleanup is started
   * as its own workflow (abandoned by this one) so the campaign's window does not wait out the grace.
   */
  private async rotateKey(deliverTo: string, done: Done): Promise<AccountOperationResult> {
    this.progress = { phase: 'creating', region: this.region };
    const created = await step(steps.iamKeyCreate(this.where));
    const at = { ...this.where, vaultVersion: created.vaultVersion };
    this.progress = { phase: 'testing', region: this.region };
    const tested = await step(keyTest.iamKeyTest(at));
    if (!tested.matches) {
      await this.rollBack(steps.iamKeyRollBack(at));
      throw new AccountStopped({
        outcome: 'rolled-back',
        errorType: ErrorType.SecretTestFailed,
        reason: `new key ${created.accessKeyId} ${tested.callerMatches ? 'signs as the user' : 'was not accepted by STS as the user within a minute'}; ${deliverTo} version ${this.where.token} ${!tested.found ? 'is missing' : tested.deliverMatches ? 'matches Vault' : 'does not match Vault'}; new key deactivated, AWSCURRENT untouched`,
      });
    }
    this.progress = { phase: 'finishing', region: this.region };
    const finished = await step(steps.iamKeyFinish(at));
    const previousVersionId = finished.previousVersionId;
    await this.healthGate(`AWSCURRENT back on ${previousVersionId ?? '?'}`, () =>
      this.rollBack(steps.iamKeyRollBack({ ...at, ...(previousVersionId ? { previousVersionId } : {}) })),
    );
    const old = finished.previousAccessKeyId;
    if (old && old !== finished.accessKeyId) {
      const { campaignId, accountId, fleetFile, rotation } = this.input;
      await startChild(secretKeyCleanup, {
        workflowId: secretKeyCleanupId(campaignId, accountId, old),
        parentClosePolicy: ParentClosePolicy.ABANDON,
        args: [
          {
            campaignId,
            accountId,
            fleetFile,
            secret: rotation.secret,
            accessKeyId: old,
            graceSeconds: finished.graceSeconds,
            deleteAfterSeconds: finished.deleteAfterSeconds,
          },
        ],
      });
    }
    return done(
      'rotated',
      `${deliverTo}: key ${finished.accessKeyId} (Vault v${created.vaultVersion}) is live as version ${this.where.token}; old key ${old ?? '?'} deactivated after ${finished.graceSeconds} s, deleted after ${finished.deleteAfterSeconds} s`,
      { secretKind: 'iam-access-key' },
    );
  }

  /**
   * The `external-id` kind: the new id pending in Vault; set (the role's trust policy accepts old and
   * new); test (AssumeRole with each); finish (Vault hands out the new id); health gate (ALARM → Vault
   * back on the old id, the new one out of the policy); then the old id's removal from the policy after
   * the grace, as its own workflow (abandoned by this one) so the campaign's window does not wait.
   */
  private async rotateExternalId(role: string, done: Done): Promise<AccountOperationResult> {
    this.progress = { phase: 'creating', region: this.region };
    const created = await step(steps.externalIdCreate(this.where));
    const at = { ...this.where, vaultVersion: created.vaultVersion };
    this.progress = { phase: 'setting', region: this.region };
    await step(steps.externalIdSet(at));
    this.progress = { phase: 'testing', region: this.region };
    const tested = await step(steps.externalIdTest(at));
    if (!tested.matches) {
      await this.rollBack(steps.externalIdRollBack(at));
      throw new AccountStopped({
        outcome: 'rolled-back',
        errorType: ErrorType.SecretTestFailed,
        reason: `AssumeRole of ${role} with the new ExternalId ${tested.newAccepted ? 'works' : 'is denied'}, with the old one ${tested.oldAccepted ? 'works' : 'is denied'}; new id taken out of the trust policy, Vault still hands out the old one`,
      });
    }
    this.progress = { phase: 'finishing', region: this.region };
    const finished = await step(steps.externalIdFinish(at));
    await this.healthGate('Vault hands out the old ExternalId again, the new one is out of the trust policy', () =>
      this.rollBack(steps.externalIdRollBack(at)),
    );
    const { campaignId, accountId, fleetFile, rotation } = this.input;
    await startChild(externalIdCleanup, {
      workflowId: externalIdCleanupId(campaignId, accountId, this.where.token),
      parentClosePolicy: ParentClosePolicy.ABANDON,
      args: [
        {
          campaignId,
          accountId,
          fleetFile,
          secret: rotation.secret,
          token: this.where.token,
          vaultVersion: created.vaultVersion,
          graceSeconds: finished.graceSeconds,
        },
      ],
    });
    return done(
      'rotated',
      `${role}: ExternalId Vault v${finished.liveVersion} is live; the trust policy accepts the old one (v${finished.previousVersion}) for ${finished.graceSeconds} s more`,
      { secretKind: 'external-id' },
    );
  }

  /**
   * A revert (`fleetops campaign revert`) of a `secretsmanager` rotation: AWSCURRENT back from the
   * version the rotation made current (`fromVersionId`) to the one before (`toVersionId`), Vault's live
   * record back to the one from before, then the health gate. Only while AWSCURRENT is still on the
   * rotation's version: a secret rotated again since is left alone (skipped), one already back counts
   * as already-current, and one whose previous version is gone is quarantined (nothing changed). ALARM
   * after the revert quarantines the account: the old value goes back only by a new rotation.
   */
  private async revert(revert: RotationRevert): Promise<AccountOperationResult> {
    const { accountId, plan } = this.input;
    this.region = revert.region;
    const at = { ...this.where, token: revert.fromVersionId, previousVersionId: revert.toVersionId };
    this.progress = { phase: 'preflight', region: this.region };
    const found = await step(steps.rotationRevertPreflight(at));
    this.region = found.region;
    const what = `${found.secretId} in ${found.region}`;
    const back = `AWSCURRENT from version ${revert.fromVersionId} back to ${revert.toVersionId}`;
    const recorded = {
      secretKind: 'secretsmanager',
      secretId: found.secretId,
      fromVersion: revert.fromVersionId,
      toVersion: revert.toVersionId,
    };
    const done = (
      outcome: AccountOutcome,
      reason: string,
      extra: Partial<RegionResult> = {},
    ): AccountOperationResult => ({
      accountId,
      outcome,
      reason,
      regions: [{ region: this.region, outcome, reason, ...extra }],
    });
    if (found.secretId !== revert.secretId || found.region !== revert.region)
      throw new AccountStopped({
        outcome: 'failed',
        errorType: ErrorType.InvalidWorkflowInput,
        reason: `the fleet file now names secret ${what} for ${this.input.rotation.secret}, not ${revert.secretId} in ${revert.region} (the secret the reverted rotation changed): nothing changed`,
      });
    switch (found.status) {
      case 'already-reverted':
        return done('already-current', `${what}: version ${revert.toVersionId} is AWSCURRENT already`);
      case 'moved-on':
        return done(
          'skipped',
          `${what}: AWSCURRENT is on version ${found.currentVersionId ?? '(none)'}, not the reverted rotation's ${revert.fromVersionId} (rotated again since): left alone`,
        );
      case 'previous-gone':
        throw new AccountStopped({
          outcome: 'quarantined',
          errorType: ErrorType.SecretRevertImpossible,
          reason: `${what}: version ${revert.toVersionId}, AWSCURRENT before the rotation, no longer exists; AWSCURRENT stays on ${revert.fromVersionId}, nothing changed`,
        });
      case 'revertible':
        break;
    }
    await this.healthBefore();
    if (plan) return done('planned', `${what}: would move ${back} and restore Vault's live record from before`);
    this.progress = { phase: 'reverting', region: this.region };
    await this.rollBack(steps.rotationRollBack(at));
    await this.healthGate(`AWSCURRENT stays on ${revert.toVersionId}`, () => Promise.resolve(), 'quarantined');
    return done('rotated', `${what}: reverted, ${back}; Vault's live record restored`, recorded);
  }

  /**
   * The `<stack>-health` alarm read before anything changes: already in ALARM → unhealthy-before
   * (nothing changed, not counted against the budget; plan mode: "would skip: unhealthy").
   */
  private async healthBefore(): Promise<void> {
    this.progress = { phase: 'checking-health', region: this.region };
    const { alarms } = await step(steps.rotationHealthAlarm(this.where));
    const stop = unhealthyStop([{ region: this.region, alarms }], this.input.plan);
    if (stop) throw new AccountStopped({ outcome: UNHEALTHY_BEFORE, reason: stop.reason });
  }

  /**
   * Watches `<stack>-health` for healthBakeSeconds; ALARM rolls the rotation back (`undoneAs` says how)
   * and stops the account as `onAlarm` (rolled-back; a revert, which has nothing to roll back to: quarantined).
   */
  private async healthGate(
    undoneAs: string,
    undo: () => Promise<void>,
    onAlarm: 'rolled-back' | 'quarantined' = 'rolled-back',
  ): Promise<void> {
    const bakeMs = this.input.rotation.healthBakeSeconds * 1000;
    const pollMs = this.input.rotation.healthPollSeconds * 1000;
    this.progress = { phase: 'baking', region: this.region };
    for (let waitedMs = 0; ;) {
      const { alarms } = await step(steps.rotationHealthAlarm(this.where));
      const firing = alarms.filter((a) => a.state === 'ALARM');
      if (firing.length) {
        await undo();
        throw new AccountStopped({
          outcome: onAlarm,
          errorType: ErrorType.HealthAlarm,
          reason: `alarm ${firing.map((a) => a.name).join(', ')} in ALARM in ${this.region} after ${this.input.rotation.revert ? 'reverting the rotation of' : 'rotating'} ${this.input.rotation.secret}; ${undoneAs}`,
        });
      }
      if (waitedMs >= bakeMs) return;
      const next = Math.min(pollMs, bakeMs - waitedMs);
      await sleep(next);
      waitedMs += next;
    }
  }

  /** Undoes the rotation; if that fails, the account is quarantined (an operator must look). */
  private async rollBack(call: Promise<unknown>): Promise<void> {
    this.progress = { phase: 'rolling-back', region: this.region };
    try {
      await step(call);
    } catch (err) {
      if (!(err instanceof AccountStopped)) throw err;
      throw new AccountStopped({
        outcome: 'quarantined',
        errorType: ErrorType.RollbackFailed,
        reason: `rolling back the rotation of ${this.input.rotation.secret} failed: ${err.stop.reason}`,
      });
    }
  }

  /** The page for a quarantine or rollback of this child: a revert's alarm has its own. */
  private runbookFor(errorType: string): string | undefined {
    if (this.input.rotation.revert && errorType === ErrorType.HealthAlarm) return REVERT_ALARM_RUNBOOK;
    return ROTATION_RUNBOOKS[errorType];
  }

  private finish(result: AccountOperationResult): AccountOperationResult {
    this.progress = { phase: 'done' };
    upsertSearchAttributes([{ key: FLEET_STATE, value: result.outcome }]);
    const runbook =
      result.outcome === UNHEALTHY_BEFORE
        ? UNHEALTHY_BEFORE_RUNBOOK
        : result.errorType && result.outcome !== 'failed'
          ? this.runbookFor(result.errorType)
          : undefined;
    const final = { ...result, ...(runbook ? { runbook } : {}) };
    this.publishDetails(final);
    return final;
  }
}
