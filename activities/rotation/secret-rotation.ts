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
import {
  describeSecretVersions,
  moveVersionStage,
  putPendingVersion,
  readVersionHash,
  versionWithStage,
  type SecretVersionStages,
} from '../aws/secretsmanager';
import { fleetAccount, type FleetFileDeps } from '../fleet-file-access';
import type { VaultKv } from '../vault/vault-kv';
import { RotationVault } from './rotation-vault';

/** Which rotation a step belongs to: the account (from the fleet file), the secret's name, the campaign (role session). */
export type RotationTarget = { fleetFile: string; accountId: string; secret: string; campaignId: string };
/** A step of one rotation: `token` is its ClientRequestToken, the new version's VersionId. */
export type RotationStep = RotationTarget & { token: string };

/** What preflight found: the secret, its live record and AWS versions, and what the rotation should do. */
export type RotationPreflight = {
  status: 'due' | 'not-due' | 'skipped' | 'already-current' | 'pending-left-behind';
  reason?: string;
  secretId?: string;
  region?: string;
  /** VersionId → staging labels. */
  versions?: Record<string, string[]>;
  live?: { vaultVersion: number; rotatedAt: string; ageDays: number; campaignId: string; awsVersionId?: string };
};

export type RotationDeps = AccountAwsDeps & FleetFileDeps & { vault: VaultKv };

type SecretsManagerSecret = Extract<ResolvedSecret, { kind: 'secretsmanager' }>;
const DAY_MS = 86_400_000;

export class SecretRotation {
  private readonly vault: RotationVault;

  constructor(
    private readonly deps: RotationDeps,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.vault = new RotationVault(deps.vault);
  }

  /** Reads the fleet file, the live record and the AWS versions; decides due / not due / skip / quarantine. */
  async preflight(step: RotationStep & { olderThanDays?: number }): Promise<RotationPreflight> {
    const account = fleetAccount(this.deps, step.fleetFile, step.accountId);
    const secret = resolveAccountSecrets(account)[step.secret];
    if (!secret)
      return { status: 'skipped', reason: `the fleet file gives account ${account.id} no secret ${step.secret}` };
    if (secret.kind !== 'secretsmanager')
      return { status: 'skipped', reason: `secret ${step.secret} is kind ${secret.kind}: kind not supported yet` };
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
    const at = { ...this.where(account, secret, step), secretId: secret.secretId };
    const state = await describeSecretVersions(this.deps, at);
    const awsReused = step.token in state.versions;
    if (!awsReused) await putPendingVersion(this.deps, { ...at, token: step.token, value: written.value });
    return { vaultVersion: written.version, versionId: step.token, vaultReused: written.reused, awsReused };
  }

  /** Reads version `token` back from AWS and compares its hash with Vault's `vaultVersion`. */
  async test(step: RotationStep & { vaultVersion: number }): Promise<{ matches: boolean; found: boolean }> {
    const { account, secret } = this.resolve(step);
    const at = { ...this.where(account, secret, step), secretId: secret.secretId };
    const state = await describeSecretVersions(this.deps, at);
    if (!(step.token in state.versions)) return { matches: false, found: false };
    const aws = await readVersionHash(this.deps, { ...at, versionId: step.token });
    const vault = await this.vault.valueHash(secretVaultPath(account.id, secret.name), step.vaultVersion);
    return { matches: aws !== null && aws === vault, found: true };
  }

  /**
   * Moves AWSCURRENT to version `token` (the old one becomes AWSPREVIOUS), drops its AWSPENDING label
   * and records it live in Vault. Returns the version that was current before (for a rollback).
   */
  async finish(step: RotationStep & { vaultVersion: number }): Promise<{ previousVersionId?: string; moved: boolean }> {
    const { account, secret } = this.resolve(step);
    const at = { ...this.where(account, secret, step), secretId: secret.secretId };
    const state = await describeSecretVersions(this.deps, at);
    if (!(step.token in state.versions)) {
      throw new FleetOpsError(
        ErrorType.SecretTestFailed,
        `${secret.secretId} in ${secret.region}: version ${step.token} is gone before it was made current`,
      );
    }
    const current = versionWithStage(state, 'AWSCURRENT');
    const moved = current !== step.token;
    const previousVersionId = moved ? current : versionWithStage(state, 'AWSPREVIOUS');
    if (moved)
      await moveVersionStage(this.deps, { ...at, stage: 'AWSCURRENT', moveTo: step.token, removeFrom: current });
    if (state.versions[step.token].includes('AWSPENDING'))
      await moveVersionStage(this.deps, { ...at, stage: 'AWSPENDING', removeFrom: step.token });
    await this.vault.ensureLiveRecord(secretLiveRecordPath(account.id, secret.name), {
      kind: 'secretsmanager',
      vaultVersion: step.vaultVersion,
      awsVersionId: step.token,
      rotatedAt: this.now().toISOString(),
      campaignId: step.campaignId,
    });
    return { ...(previousVersionId ? { previousVersionId } : {}), moved };
  }

  /**
   * Undoes this rotation in AWS and in the live record: AWSCURRENT back on `previousVersionId` if it is
   * on `token`, AWSPENDING taken off `token`, the live record from before put back. The new Vault value
   * version stays (Vault keeps every version; the live record says which one is live).
   */
  async rollBack(step: RotationStep & { previousVersionId?: string }): Promise<{ restoredCurrent: boolean }> {
    const { account, secret } = this.resolve(step);
    const at = { ...this.where(account, secret, step), secretId: secret.secretId };
    const state: SecretVersionStages = await describeSecretVersions(this.deps, at);
    const current = versionWithStage(state, 'AWSCURRENT');
    let restoredCurrent = false;
    if (current === step.token) {
      if (!step.previousVersionId)
        throw new FleetOpsError(
          ErrorType.RollbackFailed,
          `${secret.secretId} in ${secret.region}: version ${step.token} is AWSCURRENT and no previous version is known`,
        );
      await moveVersionStage(this.deps, {
        ...at,
        stage: 'AWSCURRENT',
        moveTo: step.previousVersionId,
        removeFrom: step.token,
      });
      restoredCurrent = true;
    }
    if (state.versions[step.token]?.includes('AWSPENDING'))
      await moveVersionStage(this.deps, { ...at, stage: 'AWSPENDING', removeFrom: step.token });
    await this.vault.restoreLiveRecord(secretLiveRecordPath(account.id, secret.name), step.token);
    return { restoredCurrent };
  }

  /** The pipeline's `<stack>-health` alarm in the secret's region. */
  async healthAlarm(target: RotationTarget): Promise<{ alarms: AlarmState[]; missing: string[] }> {
    const { account, secret } = this.resolve(target);
    return describeAlarmStates(this.deps, {
      ...this.where(account, secret, target),
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

  private where(account: FleetAccount, secret: SecretsManagerSecret, target: RotationTarget): AccountRegion {
    return { account, region: secret.region, runId: target.campaignId };
  }
}
