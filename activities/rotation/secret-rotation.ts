/**
 * One rotation step per method (preflight, create, test, finish, roll back, health alarm) of a
 * `secretsmanager` secret in one account. Every step reads the state first and does only what is
 * missing, so a retry or a replayed schedule finds its own earlier work. Methods return version ids,
 * tokens, version numbers and booleans — never a value.
 */
import { randomBytes } from 'node:crypto';
import { ErrorType } from '../../fleet/error-types';
import type { FleetAccount } from '../../fleet/fleet-schema';
import { resolveAccountSecrets, type ResolvedSecret } from '../../fleet/fleet-secrets';
import { healthAlarmName } from '../../fleet/pipeline-stack';
import { generateSecretValue } from '../../fleet/secret-values';
import { secretLiveRecordPath, secretVaultPath } from '../../fleet/secret-vault-layout';
import type { AccountAwsDeps, AccountRegion } from '../aws/account-region';
import { describeAlarmStates, type AlarmState } from '../aws/cloudwatch';
import { FleetOpsError } from '../aws/errors';
import { describeSecretVersions, versionWithStage } from '../aws/secretsmanager';
import { fleetAccount, type FleetFileDeps } from '../fleet-file-access';
import type { VaultKv } from '../vault/vault-kv';
import { ExternalIdRotation } from './external-id-rotation';
import { IamKeyRotation } from './iam-key-rotation';
import { PendingVersionStages, type PendingVersionAt } from './pending-version-stages';
import { RotationVault } from './rotation-vault';

/** Which rotation a step belongs to: the account (from the fleet file), the secret's name, the campaign (role session). */
export type RotationTarget = { fleetFile: string; accountId: string; secret: string; campaignId: string };
/** A step of one rotation: `token` is its ClientRequestToken, the new version's VersionId. */
export type RotationStep = RotationTarget & { token: string };

/** What preflight found: the secret, its live record and AWS versions, and what the rotation should do. */
export type RotationPreflight = {
  status: 'due' | 'not-due' | 'skipped' | 'already-current' | 'pending-left-behind' | 'two-key-limit';
  reason?: string;
  /** Set for kinds other than secretsmanager (the workflow runs that kind's steps). */
  kind?: 'iam-access-key' | 'external-id';
  /** external-id: how many ExternalIds the role's trust policy accepts, and whether Vault's current one. */
  trust?: { acceptedIds: number; acceptsCurrent: boolean };
  /** Set when this rotation's own earlier work is there (a not-due check does not stop it). */
  inProgress?: boolean;
  /** iam-access-key: the user's keys (ids and states; `live`: the one the live record names). */
  keys?: Array<{ accessKeyId: string; status: string; live: boolean }>;
  secretId?: string;
  region?: string;
  /** VersionId → staging labels. */
  versions?: Record<string, string[]>;
  live?: { vaultVersion: number; rotatedAt: string; ageDays: number; campaignId: string; awsVersionId?: string };
};

/**
 * Where a secret stands before a revert of a rotation (`token`: the version it made AWSCURRENT) back to
 * `previousVersionId`: `revertible` — AWSCURRENT is on `token` and the previous version still exists;
 * `already-reverted` — AWSCURRENT is on the previous version; `moved-on` — on a third version (rotated
 * again since: the revert leaves it alone); `previous-gone` — on `token`, but the previous version no
 * longer exists.
 */
export type RotationRevertPreflight = {
  status: 'revertible' | 'already-reverted' | 'moved-on' | 'previous-gone';
  secretId: string;
  region: string;
  currentVersionId?: string;
};

export type RotationDeps = AccountAwsDeps & FleetFileDeps & { vault: VaultKv };

type SecretsManagerSecret = Extract<ResolvedSecret, { kind: 'secretsmanager' }>;
const DAY_MS = 86_400_000;

export class SecretRotation {
  private readonly vault: RotationVault;
  private readonly stages: PendingVersionStages;

  constructor(
    private readonly deps: RotationDeps,
    private readonly now: () => Date = () => new Date(),
    private readonly iamKeys: IamKeyRotation = new IamKeyRotation(deps, now),
    private readonly externalIds: ExternalIdRotation = new ExternalIdRotation(deps, now),
  ) {
    this.vault = new RotationVault(deps.vault);
    this.stages = new PendingVersionStages(deps);
  }

  /** Reads the fleet file, the live record and the AWS versions; decides due / not due / skip / quarantine. */
  async preflight(step: RotationStep & { olderThanDays?: number }): Promise<RotationPreflight> {
    const account = fleetAccount(this.deps, step.fleetFile, step.accountId);
    const secret = resolveAccountSecrets(account)[step.secret];
    if (!secret)
      return { status: 'skipped', reason: `the fleet file gives account ${account.id} no secret ${step.secret}` };
    if (secret.kind === 'iam-access-key')
      return this.notDue(await this.iamKeys.preflight(step, account, secret), step.token, step.olderThanDays);
    if (secret.kind === 'external-id')
      return this.notDue(await this.externalIds.preflight(step, account, secret), step.token, step.olderThanDays);
    const state = await describeSecretVersions(this.deps, {
      ...this.where(account, secret, step),
      secretId: secret.secretId,
    });
    const live = await this.vault.liveRecord(secretLiveRecordPath(account.id, secret.name));
    const found: RotationPreflight = {
      status: 'due',
      secretId: secret.secretId,
      region: secret.region,
      versions: state.versions,
      ...(live
        ? {
            live: {
              vaultVersion: live.record.vaultVersion,
              rotatedAt: live.record.rotatedAt,
              ageDays: Math.floor(((this.now().getTime() - Date.parse(live.record.rotatedAt)) / DAY_MS) * 10) / 10,
              campaignId: live.record.campaignId,
              ...(live.record.awsVersionId ? { awsVersionId: live.record.awsVersionId } : {}),
            },
          }
        : {}),
    };
    const current = versionWithStage(state, 'AWSCURRENT');
    const pending = versionWithStage(state, 'AWSPENDING');
    if (current === step.token)
      return { ...found, status: 'already-current', reason: `version ${step.token} is AWSCURRENT already` };
    if (pending && pending !== step.token && pending !== current) {
      return {
        ...found,
        status: 'pending-left-behind',
        reason: `${secret.secretId} in ${secret.region}: AWSPENDING is on version ${pending}, which this rotation did not make (someone else's rotation is unfinished)`,
      };
    }
    const inProgress = step.token in state.versions;
    if (step.olderThanDays !== undefined && found.live && !inProgress && found.live.ageDays < step.olderThanDays) {
      return {
        ...found,
        status: 'not-due',
        reason: `not due: rotated ${found.live.ageDays} d ago (${found.live.rotatedAt}), younger than ${step.olderThanDays} d`,
      };
    }
    return found;
  }

  /** not-due when the live value is younger than `olderThanDays` (unless this token's version is there). */
  private notDue(found: RotationPreflight, token: string, olderThanDays: number | undefined): RotationPreflight {
    const inProgress = found.inProgress ?? token in (found.versions ?? {});
    if (found.status !== 'due' || olderThanDays === undefined || !found.live || inProgress) return found;
    if (found.live.ageDays >= olderThanDays) return found;
    return {
      ...found,
      status: 'not-due',
      reason: `not due: rotated ${found.live.ageDays} d ago (${found.live.rotatedAt}), younger than ${olderThanDays} d`,
    };
  }

  /**
   * Generates the value here, writes it to Vault as a new version (cas; a retry reuses the version
   * written for this token), then puts it in AWS as version `token` labelled AWSPENDING (unless there).
   */
  async create(
    step: RotationStep,
  ): Promise<{ vaultVersion: number; versionId: string; vaultReused: boolean; awsReused: boolean }> {
    const { account, secret } = this.resolve(step);
    const written = await this.vault.ensureValueVersion(secretVaultPath(account.id, secret.name), step.token, () =>
      generateSecretValue(secret.generate, randomBytes),
    );
    const { reused: awsReused } = await this.stages.ensurePending(this.at(account, secret, step), () => written.value);
    return { vaultVersion: written.version, versionId: step.token, vaultReused: written.reused, awsReused };
  }

  /** Reads version `token` back from AWS and compares its hash with Vault's `vaultVersion`. */
  async test(step: RotationStep & { vaultVersion: number }): Promise<{ matches: boolean; found: boolean }> {
    const { account, secret } = this.resolve(step);
    const aws = await this.stages.pendingHash(this.at(account, secret, step));
    if (!aws.found) return { matches: false, found: false };
    const vault = await this.vault.valueHash(secretVaultPath(account.id, secret.name), step.vaultVersion);
    return { matches: aws.hash !== null && aws.hash === vault, found: true };
  }

  /**
   * Moves AWSCURRENT to version `token` (the old one becomes AWSPREVIOUS), drops its AWSPENDING label
   * and records it live in Vault. Returns the version that was current before (for a rollback).
   */
  async finish(step: RotationStep & { vaultVersion: number }): Promise<{ previousVersionId?: string; moved: boolean }> {
    const { account, secret } = this.resolve(step);
    const made = await this.stages.makeCurrent(this.at(account, secret, step));
    await this.vault.ensureLiveRecord(secretLiveRecordPath(account.id, secret.name), {
      kind: 'secretsmanager',
      vaultVersion: step.vaultVersion,
      awsVersionId: step.token,
      rotatedAt: this.now().toISOString(),
      campaignId: step.campaignId,
    });
    return made;
  }

  /**
   * Undoes this rotation in AWS and in the live record: AWSCURRENT back on `previousVersionId` if it is
   * on `token`, AWSPENDING taken off `token`, the live record from before put back. The new Vault value
   * version stays (Vault keeps every version; the live record says which one is live).
   */
  async rollBack(step: RotationStep & { previousVersionId?: string }): Promise<{ restoredCurrent: boolean }> {
    const { account, secret } = this.resolve(step);
    const { restoredCurrent } = await this.stages.moveBack({
      ...this.at(account, secret, step),
      ...(step.previousVersionId ? { previousVersionId: step.previousVersionId } : {}),
    });
    await this.vault.restoreLiveRecord(secretLiveRecordPath(account.id, secret.name), step.token);
    return { restoredCurrent };
  }

  /** Where AWSCURRENT is before a revert (see RotationRevertPreflight); reads only. */
  async revertPreflight(step: RotationStep & { previousVersionId: string }): Promise<RotationRevertPreflight> {
    const { account, secret } = this.resolve(step);
    const state = await describeSecretVersions(this.deps, this.at(account, secret, step));
    const current = versionWithStage(state, 'AWSCURRENT');
    const found = {
      secretId: secret.secretId,
      region: secret.region,
      ...(current ? { currentVersionId: current } : {}),
    };
    if (current === step.previousVersionId) return { ...found, status: 'already-reverted' };
    if (current !== step.token) return { ...found, status: 'moved-on' };
    if (!(step.previousVersionId in state.versions)) return { ...found, status: 'previous-gone' };
    return { ...found, status: 'revertible' };
  }

  /** The pipeline's `<stack>-health` alarm in the secret's region (the deliverTo secret's for iam-access-key). */
  async healthAlarm(target: RotationTarget): Promise<{ alarms: AlarmState[]; missing: string[] }> {
    const account = fleetAccount(this.deps, target.fleetFile, target.accountId);
    const secret = resolveAccountSecrets(account)[target.secret];
    // external-id (IAM is global): the pipeline's first region, where its health alarm is.
    const region = secret && 'region' in secret ? secret.region : account.regions[0];
    return describeAlarmStates(this.deps, {
      account,
      region,
      runId: target.campaignId,
      alarmNames: [healthAlarmName(account.pipeline.stackName)],
    });
  }

  /** The account and its `secretsmanager` secret (preflight has skipped every other case). */
  private resolve(target: RotationTarget): { account: FleetAccount; secret: SecretsManagerSecret } {
    const account = fleetAccount(this.deps, target.fleetFile, target.accountId);
    const secret = resolveAccountSecrets(account)[target.secret];
    if (secret?.kind !== 'secretsmanager') {
      throw new FleetOpsError(
        ErrorType.InvalidWorkflowInput,
        `account ${account.id}: secret ${target.secret} is ${secret ? `kind ${secret.kind}` : 'not in the fleet file'}, not a secretsmanager secret`,
      );
    }
    return { account, secret };
  }

  private at(account: FleetAccount, secret: SecretsManagerSecret, step: RotationStep): PendingVersionAt {
    return { ...this.where(account, secret, step), secretId: secret.secretId, token: step.token };
  }

  private where(account: FleetAccount, secret: SecretsManagerSecret, target: RotationTarget): AccountRegion {
    return { account, region: secret.region, runId: target.campaignId };
  }
}
