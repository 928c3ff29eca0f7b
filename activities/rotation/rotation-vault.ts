/**
 * The Vault side of a rotation: value versions (each tagged with the rotation token that wrote it, so
 * a retried create finds its own write) and live records. Values stay in this process: callers get
 * version numbers and hashes.
 */
import { ErrorType } from '../../fleet/error-types';
import {
  SecretLiveRecordSchema,
  SecretsManagerVaultValueSchema,
  type SecretLiveRecord,
} from '../../fleet/secret-vault-layout';
import { FleetOpsError } from '../aws/errors';
import { secretHash } from '../aws/secretsmanager';
import { VaultError } from '../vault/vault-errors';
import type { SecretVersion, VaultKv } from '../vault/vault-kv';

/** A value version as the rotation sees it: the value itself only for the PutSecretValue right after. */
export type ValueVersion = { version: number; value: string; reused: boolean };

/** How many earlier live-record versions a rollback looks through for the record to restore. */
const LIVE_HISTORY_LOOKBACK = 10;

export class RotationVault {
  constructor(private readonly vault: VaultKv) {}

  /**
   * The value version written for `token`: Vault's latest version if it was (a retry), else a new
   * version with `generate()`'s value, written with cas on the latest version.
   */
  async ensureValueVersion(path: string, token: string, generate: () => string): Promise<ValueVersion> {
    const latest = await this.vault.readSecretVersion(path);
    const mine = this.writtenFor(latest, token);
    if (mine) return mine;
    const value = generate();
    try {
      const written = await this.vault.writeSecretVersion(
        path,
        { value, rotationToken: token },
        {
          cas: latest?.version ?? 0,
        },
      );
      return { version: written.version, value, reused: false };
    } catch (err) {
      if (!(err instanceof VaultError && err.name === ErrorType.VaultCasMismatch)) throw err;
      // An earlier attempt of this step may have written just before it failed: look again.
      const again = this.writtenFor(await this.vault.readSecretVersion(path), token);
      if (again) return again;
      throw err;
    }
  }

  /** SHA-256 of the value at one version (null when the version is gone or holds no value). */
  async valueHash(path: string, version: number): Promise<string | null> {
    const found = await this.vault.readSecretVersion(path, version);
    const parsed = SecretsManagerVaultValueSchema.safeParse(found?.data);
    return parsed.success ? secretHash(parsed.data.value) : null;
  }

  /** The live record (null when there is none or it does not parse), with its KV version. */
  async liveRecord(path: string): Promise<{ record: SecretLiveRecord; version: number } | null> {
    const found = await this.vault.readSecretVersion(path);
    const parsed = SecretLiveRecordSchema.safeParse(found?.data);
    return found && parsed.success ? { record: parsed.data, version: found.version } : null;
  }

  /** Writes `record` as the live record unless the current one already names the same Vault and AWS versions. */
  async ensureLiveRecord(path: string, record: SecretLiveRecord): Promise<{ written: boolean }> {
    const same = (r: SecretLiveRecord | undefined) =>
      r?.vaultVersion === record.vaultVersion && r.awsVersionId === record.awsVersionId;
    const existing = await this.liveRecord(path);
    if (same(existing?.record)) return { written: false };
    const current = await this.vault.readMetadata(path);
    try {
      await this.vault.writeSecretVersion(path, SecretLiveRecordSchema.parse(record), {
        cas: current?.currentVersion ?? 0,
      });
      return { written: true };
    } catch (err) {
      if (!(err instanceof VaultError && err.name === ErrorType.VaultCasMismatch)) throw err;
      if (same((await this.liveRecord(path))?.record)) return { written: false };
      throw err;
    }
  }

  /**
   * Puts back the live record from before `awsVersionId` went live: the latest earlier KV version that
   * names another AWS version. Nothing to do when the current record does not name `awsVersionId`.
   */
  restoreLiveRecord(path: string, awsVersionId: string): Promise<{ restored: boolean }> {
    return this.restoreLiveRecordWhere(path, (r) => r.awsVersionId === awsVersionId, awsVersionId);
  }

  /**
   * Puts back the live record from before this rotation's: the latest earlier KV version for which
   * `isThisRotation` is false. Nothing to do when the current record is not this rotation's.
   */
  async restoreLiveRecordWhere(
    path: string,
    isThisRotation: (record: SecretLiveRecord) => boolean,
    what: string,
  ): Promise<{ restored: boolean }> {
    const existing = await this.liveRecord(path);
    if (!existing || !isThisRotation(existing.record)) return { restored: false };
    for (let v = existing.version - 1; v >= Math.max(1, existing.version - LIVE_HISTORY_LOOKBACK); v--) {
      const parsed = SecretLiveRecordSchema.safeParse((await this.vault.readSecretVersion(path, v))?.data);
      if (!parsed.success || isThisRotation(parsed.data)) continue;
      await this.vault.writeSecretVersion(path, parsed.data, { cas: existing.version });
      return { restored: true };
    }
    throw new FleetOpsError(
      ErrorType.RollbackFailed,
      `Vault ${path}: no earlier live record to restore (the last ${LIVE_HISTORY_LOOKBACK} versions all name ${what})`,
    );
  }

  private writtenFor(found: SecretVersion | null, token: string): ValueVersion | undefined {
    if (!found || found.data.rotationToken !== token) return undefined;
    const parsed = SecretsManagerVaultValueSchema.safeParse(found.data);
    if (!parsed.success) {
      throw new FleetOpsError(
        ErrorType.VaultRequestRejected,
        `Vault ${found.path} version ${found.version}: written for this rotation but holds no { value }`,
      );
    }
    return { version: found.version, value: parsed.data.value, reused: true };
  }
}
