/**
 * The Vault side of an ExternalId rotation, all at the account's `externalIdRef` (the one place
 * AssumeRole reads the id from). KV versions are immutable, so steps pass version numbers and read
 * the ids back here; the ids never leave this process.
 *
 *  - pending version P: `{ externalId: old, pendingExternalId: new, rotationToken }` — the new id is
 *    durable before any trust policy accepts it, while readers still get the old one;
 *  - live version L:    `{ externalId: new, rotationToken }` — written (cas on P) once the new id works;
 *  - rolled back:       `{ externalId: old }` — a version of its own, so history shows what happened.
 */
import { ErrorType } from '../../fleet/error-types';
import { ExternalIdVaultValueSchema, type ExternalIdVaultValue } from '../../fleet/secret-vault-layout';
import { FleetOpsError } from '../aws/errors';
import { VaultError } from '../vault/vault-errors';
import type { VaultKv } from '../vault/vault-kv';

export type ExternalIdVersion = { version: number; entry: ExternalIdVaultValue };
/** The two ids of one rotation, read from its pending version. */
export type ExternalIdPair = { oldId: string; newId: string };

export class ExternalIdVault {
  constructor(private readonly vault: VaultKv) {}

  /** The latest version at `ref`; ExternalIdMissing when there is none or it holds no externalId. */
  async latest(ref: string): Promise<ExternalIdVersion> {
    const found = await this.vault.readSecretVersion(ref);
    return this.parsed(ref, found?.version, found?.data);
  }

  /** The old and new id of the rotation whose pending version is `version` (written for `token`). */
  async pair(ref: string, version: number, token: string): Promise<ExternalIdPair> {
    const found = await this.vault.readSecretVersion(ref, version);
    const { entry } = this.parsed(ref, version, found?.data);
    if (entry.rotationToken !== token || !entry.pendingExternalId) {
      throw new FleetOpsError(
        ErrorType.RollbackFailed,
        `Vault ${ref} version ${version} is not the pending version of rotation ${token}`,
      );
    }
    return { oldId: entry.externalId, newId: entry.pendingExternalId };
  }

  /**
   * The pending version for `token`: found again when an earlier attempt wrote it (it is the latest, or
   * the one before the live version it led to), else written now with `generate()`'s id (cas on the latest).
   */
  async ensurePending(
    ref: string,
    token: string,
    generate: () => string,
  ): Promise<{ version: number; reused: boolean }> {
    const latest = await this.latest(ref);
    const own = await this.ownPendingVersion(ref, latest, token);
    if (own !== undefined) return { version: own, reused: true };
    try {
      const written = await this.vault.writeSecretVersion(
        ref,
        { externalId: latest.entry.externalId, pendingExternalId: generate(), rotationToken: token },
        { cas: latest.version },
      );
      return { version: written.version, reused: false };
    } catch (err) {
      if (!(err instanceof VaultError && err.name === ErrorType.VaultCasMismatch)) throw err;
      const again = await this.ownPendingVersion(ref, await this.latest(ref), token);
      if (again !== undefined) return { version: again, reused: true };
      throw err;
    }
  }

  /**
   * Makes the new id the one AssumeRole reads: version L `{ externalId: new }` with cas on the pending
   * version. Found again when written before; VaultCasMismatch when someone else wrote after P.
   */
  async promote(
    ref: string,
    pendingVersion: number,
    token: string,
  ): Promise<{ liveVersion: number; written: boolean }> {
    const { newId } = await this.pair(ref, pendingVersion, token);
    const latest = await this.latest(ref);
    if (latest.version > pendingVersion && this.isLiveOf(latest.entry, token, newId))
      return { liveVersion: latest.version, written: false };
    const written = await this.vault.writeSecretVersion(
      ref,
      { externalId: newId, rotationToken: token },
      { cas: pendingVersion },
    );
    return { liveVersion: written.version, written: true };
  }

  /**
   * Puts the old id back as the one AssumeRole reads, when the latest version is this rotation's
   * (pending or live); a later writer's version is left alone. Returns whether Vault now reads the old id.
   */
  async restoreOld(
    ref: string,
    pendingVersion: number,
    token: string,
  ): Promise<{ restored: boolean; readsOld: boolean }> {
    const { oldId, newId } = await this.pair(ref, pendingVersion, token);
    const latest = await this.latest(ref);
    const ours = latest.entry.rotationToken === token;
    if (!ours || (latest.entry.externalId === oldId && !latest.entry.pendingExternalId))
      return { restored: false, readsOld: latest.entry.externalId === oldId };
    if (latest.entry.externalId !== oldId && latest.entry.externalId !== newId)
      return { restored: false, readsOld: false };
    await this.vault.writeSecretVersion(ref, { externalId: oldId }, { cas: latest.version });
    return { restored: true, readsOld: true };
  }

  /** The id AssumeRole reads now (compared in this process only). */
  async currentId(ref: string): Promise<string> {
    return (await this.latest(ref)).entry.externalId;
  }

  private async ownPendingVersion(ref: string, latest: ExternalIdVersion, token: string): Promise<number | undefined> {
    if (latest.entry.rotationToken !== token) return undefined;
    if (latest.entry.pendingExternalId) return latest.version;
    // Latest is this rotation's live version: its pending version is the one before.
    if (latest.version > 1) {
      const before = await this.vault.readSecretVersion(ref, latest.version - 1);
      const parsed = ExternalIdVaultValueSchema.safeParse(before?.data);
      if (parsed.success && parsed.data.rotationToken === token && parsed.data.pendingExternalId)
        return latest.version - 1;
    }
    return undefined;
  }

  private isLiveOf(entry: ExternalIdVaultValue, token: string, newId: string): boolean {
    return entry.rotationToken === token && !entry.pendingExternalId && entry.externalId === newId;
  }

  private parsed(ref: string, version: number | undefined, data: unknown): ExternalIdVersion {
    const parsed = ExternalIdVaultValueSchema.safeParse(data);
    if (version === undefined || !parsed.success) {
      throw new FleetOpsError(
        ErrorType.ExternalIdMissing,
        `Vault ${ref}${version ? ` version ${version}` : ''}: expected { externalId } (a non-empty string)`,
      );
    }
    return { version, entry: parsed.data };
  }
}
