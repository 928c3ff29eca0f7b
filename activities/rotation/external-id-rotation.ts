/**
 * One rotation step per method of an `external-id` secret: fleetops' own ExternalId for the account,
 * held in Vault at the account's `externalIdRef` and required by its execution role's trust policy.
 * No moment without a working id: the new id is in Vault (pending) before the policy accepts it, the
 * policy accepts old and new before Vault hands out the new one, and the old one is removed from the
 * policy only after the grace (externalIdCleanup), when no worker's cache can still hold it.
 *
 * Every step reads before it writes; methods return version numbers, counts and booleans — never an id.
 */
import { randomBytes } from 'node:crypto';
import { ErrorType } from '../../fleet/error-types';
import type { FleetAccount } from '../../fleet/fleet-schema';
import { resolveAccountSecrets, type ResolvedSecret } from '../../fleet/fleet-secrets';
import { EXTERNAL_ID_FORMAT, generateSecretValue } from '../../fleet/secret-values';
import { secretLiveRecordPath } from '../../fleet/secret-vault-layout';
import { FleetOpsError } from '../aws/errors';
import { readTrustPolicy, roleNameOf, writeTrustPolicy, type RoleCall } from '../aws/iam-trust-policy';
import { fleetAccount } from '../fleet-file-access';
import { ExternalIdVault } from './external-id-vault';
import { RotationVault } from './rotation-vault';
import type { RotationDeps, RotationPreflight, RotationStep, RotationTarget } from './secret-rotation';
import { TrustPolicyExternalIds } from './trust-policy-external-ids';

export type ExternalIdSecret = Extract<ResolvedSecret, { kind: 'external-id' }>;
/** A step after create: `vaultVersion` is the pending version at externalIdRef. */
export type ExternalIdStep = RotationStep & { vaultVersion: number };

export type ExternalIdTested = { matches: boolean; newAccepted: boolean; oldAccepted: boolean };
export type ExternalIdFinished = { liveVersion: number; previousVersion: number; graceSeconds: number };
export type ExternalIdRolledBack = { vaultRestored: boolean; removedFromPolicy: boolean };
export type ExternalIdRetired = { action: 'removed' | 'already-done' | 'kept-live' };

const DAY_MS = 86_400_000;

export class ExternalIdRotation {
  private readonly ids: ExternalIdVault;
  private readonly vault: RotationVault;

  constructor(
    private readonly deps: RotationDeps,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.ids = new ExternalIdVault(deps.vault);
    this.vault = new RotationVault(deps.vault);
  }

  /**
   * Vault's entry and live record, the trust policy's ExternalId statements: already current (this
   * token's id is live), a pending id of another rotation (quarantine), or due. `versions` stays empty;
   * `trust` says how many ids the policy accepts and whether it accepts Vault's current one.
   */
  async preflight(step: RotationStep, account: FleetAccount, secret: ExternalIdSecret): Promise<RotationPreflight> {
    const ref = account.externalIdRef;
    const latest = await this.ids.latest(ref);
    const live = await this.vault.liveRecord(secretLiveRecordPath(account.id, secret.name));
    const policy = new TrustPolicyExternalIds(
      await readTrustPolicy(this.deps, this.role(account, step)),
      account.roleArn,
    );
    const found: RotationPreflight = {
      status: 'due',
      kind: 'external-id',
      secretId: roleNameOf(account.roleArn),
      region: account.regions[0],
      trust: { acceptedIds: policy.accepted().length, acceptsCurrent: policy.accepts(latest.entry.externalId) },
      inProgress: latest.entry.rotationToken === step.token,
      ...(live
        ? {
            live: {
              vaultVersion: live.record.vaultVersion,
              rotatedAt: live.record.rotatedAt,
              ageDays: Math.floor(((this.now().getTime() - Date.parse(live.record.rotatedAt)) / DAY_MS) * 10) / 10,
              campaignId: live.record.campaignId,
            },
          }
        : {}),
    };
    const { entry } = latest;
    if (entry.rotationToken === step.token && !entry.pendingExternalId && live?.record.vaultVersion === latest.version)
      return {
        ...found,
        status: 'already-current',
        reason: `ExternalId version ${latest.version} of this rotation is live already`,
      };
    if (entry.pendingExternalId && entry.rotationToken !== step.token) {
      return {
        ...found,
        status: 'pending-left-behind',
        reason: `Vault ${ref} version ${latest.version} holds a pending ExternalId of another rotation (token ${entry.rotationToken ?? 'none'}), not finished or rolled back`,
      };
    }
    return found;
  }

  /** The new id generated here and written to Vault as pending (cas); a retry finds its own version. */
  async create(step: RotationStep): Promise<{ vaultVersion: number; reused: boolean }> {
    const { account } = this.resolve(step);
    const pending = await this.ids.ensurePending(account.externalIdRef, step.token, () =>
      generateSecretValue(EXTERNAL_ID_FORMAT, randomBytes),
    );
    return { vaultVersion: pending.version, reused: pending.reused };
  }

  /** The trust policy made to accept the new id as well as the old (unchanged when it does already). */
  async set(step: ExternalIdStep): Promise<{ changed: boolean; acceptedIds: number }> {
    const { account } = this.resolve(step);
    const { newId } = await this.ids.pair(account.externalIdRef, step.vaultVersion, step.token);
    const role = this.role(account, step);
    const policy = new TrustPolicyExternalIds(await readTrustPolicy(this.deps, role), account.roleArn);
    const changed = policy.add(newId);
    if (changed) await writeTrustPolicy(this.deps, { ...role, document: policy.toJson() });
    return { changed, acceptedIds: policy.accepted().length };
  }

  /** AssumeRole with the new id, and with the old one (consumers still use it until the grace ends). */
  async test(step: ExternalIdStep): Promise<ExternalIdTested> {
    const { account } = this.resolve(step);
    const { oldId, newId } = await this.ids.pair(account.externalIdRef, step.vaultVersion, step.token);
    const newAccepted = await this.deps.credentials.accepts(account, step.campaignId, newId);
    const oldAccepted = await this.deps.credentials.accepts(account, step.campaignId, oldId);
    return { matches: newAccepted && oldAccepted, newAccepted, oldAccepted };
  }

  /** Vault hands out the new id (live version, cas on the pending one); the live record names it. */
  async finish(step: ExternalIdStep): Promise<ExternalIdFinished> {
    const { account, secret } = this.resolve(step);
    const { liveVersion } = await this.ids.promote(account.externalIdRef, step.vaultVersion, step.token);
    this.deps.credentials.forgetExternalId(account);
    await this.vault.ensureLiveRecord(secretLiveRecordPath(account.id, secret.name), {
      kind: 'external-id',
      vaultVersion: liveVersion,
      rotatedAt: this.now().toISOString(),
      campaignId: step.campaignId,
    });
    return { liveVersion, previousVersion: step.vaultVersion, graceSeconds: secret.graceSeconds };
  }

  /**
   * Undoes this rotation: Vault reads the old id again (when its latest version is this rotation's),
   * then the trust policy stops accepting the new id, and the live record from before is put back. The
   * old id was never removed. Workers that cached the new id re-read Vault when AssumeRole is denied.
   */
  async rollBack(step: ExternalIdStep): Promise<ExternalIdRolledBack> {
    const { account, secret } = this.resolve(step);
    const ref = account.externalIdRef;
    const { newId } = await this.ids.pair(ref, step.vaultVersion, step.token);
    const { restored } = await this.ids.restoreOld(ref, step.vaultVersion, step.token);
    this.deps.credentials.forgetExternalId(account);
    let removedFromPolicy = false;
    if ((await this.ids.currentId(ref)) !== newId) {
      const role = this.role(account, step);
      const policy = new TrustPolicyExternalIds(await readTrustPolicy(this.deps, role), account.roleArn);
      removedFromPolicy = policy.remove(newId);
      if (removedFromPolicy) await writeTrustPolicy(this.deps, { ...role, document: policy.toJson() });
    }
    const pendingVersion = step.vaultVersion;
    await this.vault.restoreLiveRecordWhere(
      secretLiveRecordPath(account.id, secret.name),
      (r) => r.vaultVersion > pendingVersion && r.campaignId === step.campaignId,
      `this rotation's Vault version (after ${pendingVersion})`,
    );
    return { vaultRestored: restored, removedFromPolicy };
  }

  /**
   * After the grace: the old id (read from the pending version) removed from the trust policy, unless
   * it is the id Vault hands out again (a rollback or a later rotation put it back).
   */
  async retire(step: ExternalIdStep): Promise<ExternalIdRetired> {
    const { account } = this.resolve(step);
    const { oldId } = await this.ids.pair(account.externalIdRef, step.vaultVersion, step.token);
    if ((await this.ids.currentId(account.externalIdRef)) === oldId) return { action: 'kept-live' };
    const role = this.role(account, step);
    const policy = new TrustPolicyExternalIds(await readTrustPolicy(this.deps, role), account.roleArn);
    if (!policy.remove(oldId)) return { action: 'already-done' };
    await writeTrustPolicy(this.deps, { ...role, document: policy.toJson() });
    return { action: 'removed' };
  }

  /** The account and its `external-id` secret. */
  resolve(target: RotationTarget): { account: FleetAccount; secret: ExternalIdSecret } {
    const account = fleetAccount(this.deps, target.fleetFile, target.accountId);
    const secret = resolveAccountSecrets(account)[target.secret];
    if (secret?.kind !== 'external-id') {
      throw new FleetOpsError(
        ErrorType.InvalidWorkflowInput,
        `account ${account.id}: secret ${target.secret} is ${secret ? `kind ${secret.kind}` : 'not in the fleet file'}, not an external-id secret`,
      );
    }
    return { account, secret };
  }

  private role(account: FleetAccount, target: RotationTarget): RoleCall {
    return { account, runId: target.campaignId };
  }
}
