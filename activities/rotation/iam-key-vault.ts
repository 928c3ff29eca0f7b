/**
 * The Vault side of an `iam-access-key` rotation: each key pair is one KV version
 * `{ rotationToken, accessKeyId, secretAccessKey, previousAccessKeyId? }`, so a retried step finds the
 * key its earlier attempt created. Pairs stay in this process: callers get key ids, versions and hashes.
 */
import { ErrorType } from '../../fleet/error-types';
import { IamAccessKeyVaultValueSchema } from '../../fleet/secret-vault-layout';
import type { AccessKeyPair } from '../aws/iam-access-keys';
import { FleetOpsError } from '../aws/errors';
import { secretHash } from '../aws/secretsmanager';
import type { VaultKv } from '../vault/vault-kv';

/** A key pair version in Vault; `token` is the rotation that wrote it (none for a seeded pair). */
export type KeyVersion = {
  version: number;
  pair: AccessKeyPair;
  token?: string;
  previousAccessKeyId?: string;
};

/** What the loader reads from the `deliverTo` secret: exactly `{ accessKeyId, secretAccessKey }`. */
export function deliveredKeyJson(pair: AccessKeyPair): string {
  return JSON.stringify({ accessKeyId: pair.accessKeyId, secretAccessKey: pair.secretAccessKey });
}

export class IamKeyVault {
  constructor(private readonly vault: VaultKv) {}

  /** The latest version (or `version`), null when there is none or it is not a key pair. */
  async read(path: string, version?: number): Promise<KeyVersion | null> {
    const found = await this.vault.readSecretVersion(path, version);
    if (!found) return null;
    const parsed = IamAccessKeyVaultValueSchema.safeParse(found.data);
    if (!parsed.success) {
      throw new FleetOpsError(
        ErrorType.VaultRequestRejected,
        `Vault ${path} v${found.version}: not an access key pair`,
      );
    }
    const { rotationToken, previousAccessKeyId } = found.data;
    return {
      version: found.version,
      pair: { accessKeyId: parsed.data.accessKeyId, secretAccessKey: parsed.data.secretAccessKey },
      ...(typeof rotationToken === 'string' ? { token: rotationToken } : {}),
      ...(typeof previousAccessKeyId === 'string' ? { previousAccessKeyId } : {}),
    };
  }

  /** Writes the pair created for `token` as a new version, with cas on `cas` (the version read before creating). */
  async write(
    path: string,
    entry: { token: string; pair: AccessKeyPair; previousAccessKeyId?: string },
    cas: number,
  ): Promise<number> {
    const written = await this.vault.writeSecretVersion(
      path,
      {
        rotationToken: entry.token,
        accessKeyId: entry.pair.accessKeyId,
        secretAccessKey: entry.pair.secretAccessKey,
        ...(entry.previousAccessKeyId ? { previousAccessKeyId: entry.previousAccessKeyId } : {}),
      },
      { cas },
    );
    return written.version;
  }

  /** SHA-256 of the delivered JSON of the pair at `version` (null when it is not there). */
  async deliveredHash(path: string, version: number): Promise<string | null> {
    const found = await this.read(path, version);
    return found ? secretHash(deliveredKeyJson(found.pair)) : null;
  }
}
