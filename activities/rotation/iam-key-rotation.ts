/**
 * One rotation step per method of an `iam-access-key` secret: the IAM user's new key, stored in Vault
 * at once, delivered through the `deliverTo` Secrets Manager secret with the same four steps as the
 * `secretsmanager` kind (PendingVersionStages, same token). Every step reads before it writes, so a
 * retry finds its own earlier work. Methods return key ids, version ids and booleans — never a secret.
 */
import { ErrorType } from '../../fleet/error-types';
import type { FleetAccount } from '../../fleet/fleet-schema';
import { resolveAccountSecrets, type ResolvedSecret } from '../../fleet/fleet-secrets';
import { secretLiveRecordPath, secretVaultPath } from '../../fleet/secret-vault-layout';
import type { PollHooks } from '../aws/account-region';
import { FleetOpsError } from '../aws/errors';
import {
  callerArnWith,
  createAccessKey,
  deleteAccessKey,
  listAccessKeys,
  setAccessKeyStatus,
  type AccessKeyState,
  type IamUserCall,
} from '../aws/iam-access-keys';
import { describeSecretVersions, secretHash, versionWithStage } from '../aws/secretsmanager';
import { fleetAccount } from '../fleet-file-access';
import { VaultError } from '../vault/vault-errors';
import { deliveredKeyJson, IamKeyVault, type KeyVersion } from './iam-key-vault';
import { PendingVersionStages, type PendingVersionAt } from './pending-version-stages';
import { RotationVault } from './rotation-vault';
import type { RotationDeps, RotationPreflight, RotationStep, RotationTarget } from './secret-rotation';

export type IamKeySecret = Extract<ResolvedSecret, { kind: 'iam-access-key' }>;

/** How long the test step retries a new key that AWS does not accept yet (it propagates in seconds). */
const PROPAGATION_WAIT_MS = 60_000;
const PROPAGATION_POLL_MS = 1_000;
/** Clock slack when telling whether a key was created during this step (AWS's clock against ours). */
const CLOCK_SLACK_MS = 2_000;

export type IamKeyCreated = {
  vaultVersion: number;
  accessKeyId: string;
  previousAccessKeyId?: string;
  keyReused: boolean;
  awsReused: boolean;
  deletedKeyIds: string[];
};
export type IamKeyTested = {
  matches: boolean;
  found: boolean;
  callerMatches: boolean;
  deliverMatches: boolean;
  waitedMs: number;
};
export type IamKeyFinished = {
  previousVersionId?: string;
  moved: boolean;
  accessKeyId: string;
  previousAccessKeyId?: string;
  graceSeconds: number;
  deleteAfterSeconds: number;
};

export class IamKeyRotation {
  private readonly keys: IamKeyVault;
  private readonly vault: RotationVault;
  private readonly stages: PendingVersionStages;

  constructor(
    private readonly deps: RotationDeps,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.keys = new IamKeyVault(deps.vault);
    this.vault = new RotationVault(deps.vault);
    this.stages = new PendingVersionStages(deps);
  }

  /**
   * The user's keys, the deliverTo versions, the live record: already current (this token's key is
   * live), two-key limit (no key may be deleted to make room), AWSPENDING left behind, or due.
   * `found` holds what the secretsmanager preflight found for the deliverTo secret (live record, not due).
   */
  async preflight(step: RotationStep, account: FleetAccount, secret: IamKeySecret): Promise<RotationPreflight> {
    const keys = await listAccessKeys(this.deps, this.user(account, secret, step));
    const state = await describeSecretVersions(this.deps, this.at(account, secret, step));
    const live = await this.vault.liveRecord(secretLiveRecordPath(account.id, secret.name));
    const latest = await this.keys.read(secretVaultPath(account.id, secret.name));
    const mine = latest?.token === step.token ? latest : undefined;
    const liveKeyId = live?.record.accessKeyId ?? (mine ? undefined : latest?.pair.accessKeyId);
    const found: RotationPreflight = {
      status: 'due',
      kind: 'iam-access-key',
      secretId: secret.deliverTo,
      region: secret.region,
      versions: state.versions,
      keys: keys.map((k) => ({ accessKeyId: k.accessKeyId, status: k.status, live: k.accessKeyId === liveKeyId })),
      ...(live
        ? {
            live: {
              vaultVersion: live.record.vaultVersion,
              rotatedAt: live.record.rotatedAt,
              ageDays: Math.floor(((this.now().getTime() - Date.parse(live.record.rotatedAt)) / 86_400_000) * 10) / 10,
              campaignId: live.record.campaignId,
              ...(live.record.awsVersionId ? { awsVersionId: live.record.awsVersionId } : {}),
            },
          }
        : {}),
    };
    const current = versionWithStage(state, 'AWSCURRENT');
    const pending = versionWithStage(state, 'AWSPENDING');
    if (current === step.token && mine && live?.record.accessKeyId === mine.pair.accessKeyId)
      return { ...found, status: 'already-current', reason: `key ${mine.pair.accessKeyId} is live already` };
    if (pending && pending !== step.token && pending !== current) {
      return {
        ...found,
        status: 'pending-left-behind',
        reason: `${secret.deliverTo} in ${secret.region}: AWSPENDING is on version ${pending}, which this rotation did not make (someone else's rotation is unfinished)`,
      };
    }
    const ours = mine && keys.some((k) => k.accessKeyId === mine.pair.accessKeyId);
    if (keys.length >= 2 && !ours && !keys.some((k) => k.accessKeyId !== liveKeyId && k.status === 'Inactive')) {
      return { ...found, status: 'two-key-limit', reason: this.twoKeyReason(account, secret, keys, liveKeyId) };
    }
    return found;
  }

  /**
   * Makes room (deletes an inactive key that is not live), creates the key and records it in Vault
   * right away, then puts the pair JSON as version `token` (AWSPENDING) on the deliverTo secret.
   *
   * Why no key is orphaned: CreateAccessKey is the only non-idempotent call, and the Vault write (cas on
   * the version read before) follows it at once. A crash between the two leaves a key that Vault does not
   * know; the retry of this step (same token) finds it: not the live key, not in Vault, created since
   * this step was first scheduled (preflight, just before, saw no such active key — else it would have
   * quarantined), so it is this step's own and is deleted before creating again. A crash after the write
   * finds the token in Vault's latest version and reuses the key. A cas mismatch (someone else wrote the
   * path) deletes the key just made before failing. The user never has more than two keys: AWS enforces
   * it and room is made before creating.
   */
  async create(step: RotationStep, stepScheduledAtMs: number): Promise<IamKeyCreated> {
    const { account, secret } = this.resolve(step);
    const path = secretVaultPath(account.id, secret.name);
    const user = this.user(account, secret, step);
    const keys = await listAccessKeys(this.deps, user);
    const latest = await this.keys.read(path);
    let mine: KeyVersion | undefined =
      latest?.token === step.token && keys.some((k) => k.accessKeyId === latest.pair.accessKeyId) ? latest : undefined;
    const deletedKeyIds: string[] = [];
    const keyReused = mine !== undefined;
    if (!mine) {
      const live = await this.vault.liveRecord(secretLiveRecordPath(account.id, secret.name));
      const previousAccessKeyId =
        latest?.token === step.token
          ? latest.previousAccessKeyId
          : (live?.record.accessKeyId ?? latest?.pair.accessKeyId);
      // Keys this step made in an earlier attempt (not live, unknown to Vault, created since the step was
      // first scheduled) go first; then, if the user still has two keys, an inactive stale one makes room.
      const others = keys.filter((k) => k.accessKeyId !== previousAccessKeyId);
      const ownCrashed = others.filter(
        (k) => k.status === 'Active' && k.createdAt >= stepScheduledAtMs - CLOCK_SLACK_MS,
      );
      const stale = others.filter((k) => k.status === 'Inactive');
      const remove = [...ownCrashed];
      if (keys.length - remove.length >= 2) {
        if (!stale.length)
          throw new FleetOpsError(
            ErrorType.IamTwoKeyLimit,
            this.twoKeyReason(account, secret, keys, previousAccessKeyId),
          );
        remove.push(stale[0]);
      }
      for (const key of remove) {
        await deleteAccessKey(this.deps, { ...user, accessKeyId: key.accessKeyId });
        deletedKeyIds.push(key.accessKeyId);
      }
      const pair = await createAccessKey(this.deps, user);
      try {
        const version = await this.keys.write(
          path,
          { token: step.token, pair, ...(previousAccessKeyId ? { previousAccessKeyId } : {}) },
          latest?.version ?? 0,
        );
        mine = { version, pair, token: step.token, ...(previousAccessKeyId ? { previousAccessKeyId } : {}) };
      } catch (err) {
        if (err instanceof VaultError && err.name === ErrorType.VaultCasMismatch)
          await deleteAccessKey(this.deps, { ...user, accessKeyId: pair.accessKeyId });
        throw err;
      }
    }
    const pair = mine.pair;
    const { reused: awsReused } = await this.stages.ensurePending(this.at(account, secret, step), () =>
      deliveredKeyJson(pair),
    );
    return {
      vaultVersion: mine.version,
      accessKeyId: pair.accessKeyId,
      ...(mine.previousAccessKeyId ? { previousAccessKeyId: mine.previousAccessKeyId } : {}),
      keyReused,
      awsReused,
      deletedKeyIds,
    };
  }

  /**
   * STS GetCallerIdentity signed with the new key (retried while AWS does not accept it yet, up to a
   * minute, heartbeating) must name the user; the deliverTo AWSPENDING must hash like Vault's pair.
   */
  async test(step: RotationStep & { vaultVersion: number }, hooks: PollHooks = {}): Promise<IamKeyTested> {
    const { account, secret } = this.resolve(step);
    const path = secretVaultPath(account.id, secret.name);
    const key = await this.keys.read(path, step.vaultVersion);
    if (!key || key.token !== step.token)
      return { matches: false, found: false, callerMatches: false, deliverMatches: false, waitedMs: 0 };
    const expectedArn = `arn:aws:iam::${account.id}:user/${secret.userName}`;
    const started = Date.now();
    let arn: string | undefined;
    for (;;) {
      try {
        arn = await callerArnWith(this.deps, { accountId: account.id, pair: key.pair });
        break;
      } catch (err) {
        const notYet = err instanceof FleetOpsError && err.name === ErrorType.AccountAccessDenied;
        if (!notYet || Date.now() - started >= PROPAGATION_WAIT_MS) {
          if (notYet) break;
          throw err;
        }
        hooks.heartbeat?.({ waitingForKey: key.pair.accessKeyId, waitedMs: Date.now() - started });
        await (hooks.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms))))(PROPAGATION_POLL_MS);
      }
    }
    const callerMatches = arn === expectedArn;
    const aws = await this.stages.pendingHash(this.at(account, secret, step));
    const deliverMatches = aws.hash !== null && aws.hash === secretHash(deliveredKeyJson(key.pair));
    return {
      matches: callerMatches && deliverMatches,
      found: aws.found,
      callerMatches,
      deliverMatches,
      waitedMs: Date.now() - started,
    };
  }

  /** deliverTo AWSCURRENT → version `token`; the live record names the new key. */
  async finish(step: RotationStep & { vaultVersion: number }): Promise<IamKeyFinished> {
    const { account, secret } = this.resolve(step);
    const key = await this.keyOf(account, secret, step, step.vaultVersion);
    const made = await this.stages.makeCurrent(this.at(account, secret, step));
    await this.vault.ensureLiveRecord(secretLiveRecordPath(account.id, secret.name), {
      kind: 'iam-access-key',
      vaultVersion: step.vaultVersion,
      awsVersionId: step.token,
      accessKeyId: key.pair.accessKeyId,
      rotatedAt: this.now().toISOString(),
      campaignId: step.campaignId,
    });
    return {
      ...made,
      accessKeyId: key.pair.accessKeyId,
      ...(key.previousAccessKeyId ? { previousAccessKeyId: key.previousAccessKeyId } : {}),
      graceSeconds: secret.graceSeconds,
      deleteAfterSeconds: secret.deleteAfterSeconds,
    };
  }

  /**
   * Undoes this rotation: deliverTo AWSCURRENT back on `previousVersionId`, the new key deactivated
   * (kept, so what happened can be seen), the old key active, the live record from before put back.
   */
  async rollBack(
    step: RotationStep & { previousVersionId?: string; vaultVersion: number },
  ): Promise<{ restoredCurrent: boolean; deactivated?: string; reactivated?: string }> {
    const { account, secret } = this.resolve(step);
    const key = await this.keyOf(account, secret, step, step.vaultVersion);
    const { restoredCurrent } = await this.stages.moveBack({
      ...this.at(account, secret, step),
      ...(step.previousVersionId ? { previousVersionId: step.previousVersionId } : {}),
    });
    const user = this.user(account, secret, step);
    const keys = await listAccessKeys(this.deps, user);
    const status = (id: string | undefined) => keys.find((k) => k.accessKeyId === id)?.status;
    let reactivated: string | undefined;
    let deactivated: string | undefined;
    if (key.previousAccessKeyId && status(key.previousAccessKeyId) === 'Inactive') {
      await setAccessKeyStatus(this.deps, { ...user, accessKeyId: key.previousAccessKeyId, status: 'Active' });
      reactivated = key.previousAccessKeyId;
    }
    if (status(key.pair.accessKeyId) === 'Active') {
      await setAccessKeyStatus(this.deps, { ...user, accessKeyId: key.pair.accessKeyId, status: 'Inactive' });
      deactivated = key.pair.accessKeyId;
    }
    await this.vault.restoreLiveRecord(secretLiveRecordPath(account.id, secret.name), step.token);
    return {
      restoredCurrent,
      ...(deactivated ? { deactivated } : {}),
      ...(reactivated ? { reactivated } : {}),
    };
  }

  private async keyOf(account: FleetAccount, secret: IamKeySecret, step: RotationStep, version: number) {
    const key = await this.keys.read(secretVaultPath(account.id, secret.name), version);
    if (!key || key.token !== step.token) {
      throw new FleetOpsError(
        ErrorType.RollbackFailed,
        `Vault ${secretVaultPath(account.id, secret.name)} v${version} is not the key of rotation ${step.token}`,
      );
    }
    return key;
  }

  private twoKeyReason(
    account: FleetAccount,
    secret: IamKeySecret,
    keys: AccessKeyState[],
    liveKeyId: string | undefined,
  ): string {
    const list = keys.map((k) => `${k.accessKeyId} (${k.status}${k.accessKeyId === liveKeyId ? ', live' : ''})`);
    return `IAM user ${secret.userName} in account ${account.id} has two keys, ${list.join(' and ')}, and neither is an inactive stale key fleetops may delete`;
  }

  /** The account and its `iam-access-key` secret. */
  resolve(target: RotationTarget): { account: FleetAccount; secret: IamKeySecret } {
    const account = fleetAccount(this.deps, target.fleetFile, target.accountId);
    const secret = resolveAccountSecrets(account)[target.secret];
    if (secret?.kind !== 'iam-access-key') {
      throw new FleetOpsError(
        ErrorType.InvalidWorkflowInput,
        `account ${account.id}: secret ${target.secret} is ${secret ? `kind ${secret.kind}` : 'not in the fleet file'}, not an iam-access-key secret`,
      );
    }
    return { account, secret };
  }

  user(account: FleetAccount, secret: IamKeySecret, target: RotationTarget): IamUserCall {
    return { account, runId: target.campaignId, userName: secret.userName };
  }

  private at(account: FleetAccount, secret: IamKeySecret, step: RotationStep): PendingVersionAt {
    return { account, region: secret.region, runId: step.campaignId, secretId: secret.deliverTo, token: step.token };
  }
}
