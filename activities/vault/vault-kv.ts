import { ErrorType } from '../../fleet/error-types';
import { KV2_PATH_PATTERN } from '../../fleet/fleet-schema';
import { FleetOpsError } from '../aws/errors';
import { casMismatch, VaultError, type VaultOperation } from './vault-errors';
import type { VaultSession } from './vault-session';

/** One version of a KV v2 secret. `data` is the secret value: it stays inside activities. */
export type SecretVersion = { path: string; version: number; createdTime: string; data: Record<string, unknown> };

/** A KV v2 secret's metadata: versions and their times, never a value. */
export type SecretMetadata = {
  path: string;
  currentVersion: number;
  oldestVersion: number;
  casRequired: boolean;
  createdTime: string;
  updatedTime: string;
  customMetadata: Record<string, string>;
  /** Every version Vault still lists, oldest first. */
  versions: { version: number; createdTime: string; deletionTime?: string; destroyed: boolean }[];
};

/** Reads a KV v2 secret's data (the ExternalIds); errors never carry the token or the value. */
export type VaultReader = { readKv(path: string): Promise<Record<string, unknown>> };

/**
 * KV v2 access through fleetops' Vault session. Paths are KV v2 data paths, `<mount>/data/<path>`
 * (e.g. `secret/data/fleetops/accounts/123456789012/collector-api-key`); metadata is read at the
 * matching `<mount>/metadata/<path>`. Errors are VaultErrors: VaultUnavailable (retryable: no answer,
 * 5xx, sealed), VaultPermissionDenied, VaultCasMismatch, VaultRequestRejected.
 */
export class VaultKv implements VaultReader {
  constructor(private readonly session: VaultSession) {}

  /**
   * The ExternalId read of AssumeRole: the latest version's data. Not there (404, deleted), refused or
   * rejected → ExternalIdMissing, which quarantines the account; Vault unavailable → retried.
   */
  async readKv(path: string): Promise<Record<string, unknown>> {
    try {
      const found = await this.readSecretVersion(path);
      if (!found) throw new FleetOpsError(ErrorType.ExternalIdMissing, `Vault ${path}: no KV v2 data at this path`);
      return found.data;
    } catch (err) {
      if (err instanceof VaultError && err.name !== ErrorType.VaultUnavailable) {
        throw new VaultError(ErrorType.ExternalIdMissing, `${err.message} (reading an ExternalId)`, err.vault);
      }
      throw err;
    }
  }

  /** A version of a secret (the current one when `version` is omitted); null when it does not exist or was deleted or destroyed. */
  async readSecretVersion(path: string, version?: number): Promise<SecretVersion | null> {
    checkDataPath(path, 'read');
    if (version !== undefined) checkVersion(version, 'version', path, 'read');
    const query = version === undefined ? '' : `?version=${version}`;
    const body = await this.orNull(
      this.session.call('read', path, (client, options) => client.read(`${path}${query}`, options)),
    );
    const data = (body as { data?: { data?: unknown; metadata?: { version?: unknown; created_time?: unknown } } })
      ?.data;
    if (!data || !isRecord(data.data)) return null;
    return {
      path,
      version: typeof data.metadata?.version === 'number' ? data.metadata.version : 0,
      createdTime: typeof data.metadata?.created_time === 'string' ? data.metadata.created_time : '',
      data: data.data,
    };
  }

  /**
   * Writes a new version with check-and-set: `cas: 0` creates the secret (refused if it exists),
   * `cas: N` succeeds only while version N is current. A mismatch is VaultCasMismatch naming the path,
   * the expected and the current version — never retried, since the same write cannot succeed: the caller
   * re-reads (it may be its own earlier attempt) and decides.
   */
  async writeSecretVersion(
    path: string,
    data: Record<string, unknown>,
    options: { cas: number },
  ): Promise<{ version: number; createdTime: string }> {
    checkDataPath(path, 'write');
    checkVersion(options.cas, 'cas', path, 'write');
    let body: unknown;
    try {
      body = await this.session.call('write', path, (client, request) =>
        client.write(path, { options: { cas: options.cas }, data }, request),
      );
    } catch (err) {
      if (err instanceof VaultError && err.name === ErrorType.VaultCasMismatch) {
        const current = await this.readMetadata(path).catch(() => null);
        throw casMismatch(path, options.cas, current?.currentVersion);
      }
      throw err;
    }
    const written = (body as { data?: { version?: unknown; created_time?: unknown } })?.data;
    if (typeof written?.version !== 'number') {
      throw new VaultError(ErrorType.VaultRequestRejected, `Vault write ${path}: the answer holds no version`, {
        operation: 'write',
        path,
      });
    }
    return {
      version: written.version,
      createdTime: typeof written.created_time === 'string' ? written.created_time : '',
    };
  }

  /** The secret's metadata (current version, created_time of each version); null when the secret does not exist. */
  async readMetadata(path: string): Promise<SecretMetadata | null> {
    const metadataPath = checkDataPath(path, 'read-metadata');
    const body = await this.orNull(
      this.session.call('read-metadata', metadataPath, (client, options) => client.read(metadataPath, options)),
    );
    const m = (body as { data?: RawMetadata })?.data;
    if (!m) return null;
    const versions = Object.entries(isRecord(m.versions) ? m.versions : {})
      .map(([v, raw]) => {
        const r = (isRecord(raw) ? raw : {}) as {
          created_time?: unknown;
          deletion_time?: unknown;
          destroyed?: unknown;
        };
        return {
          version: Number(v),
          createdTime: str(r.created_time),
          ...(str(r.deletion_time) ? { deletionTime: str(r.deletion_time) } : {}),
          destroyed: r.destroyed === true,
        };
      })
      .filter((v) => Number.isInteger(v.version))
      .sort((a, b) => a.version - b.version);
    return {
      path,
      currentVersion: typeof m.current_version === 'number' ? m.current_version : 0,
      oldestVersion: typeof m.oldest_version === 'number' ? m.oldest_version : 0,
      casRequired: m.cas_required === true,
      createdTime: str(m.created_time),
      updatedTime: str(m.updated_time),
      customMetadata: Object.fromEntries(
        Object.entries(isRecord(m.custom_metadata) ? m.custom_metadata : {}).filter(
          (e): e is [string, string] => typeof e[1] === 'string',
        ),
      ),
      versions,
    };
  }

  private async orNull<T>(call: Promise<T>): Promise<T | null> {
    try {
      return await call;
    } catch (err) {
      if (err instanceof VaultError && err.notFound) return null;
      throw err;
    }
  }
}

type RawMetadata = {
  current_version?: unknown;
  oldest_version?: unknown;
  cas_required?: unknown;
  created_time?: unknown;
  updated_time?: unknown;
  custom_metadata?: unknown;
  versions?: unknown;
};

/** Checks a KV v2 data path and returns its metadata path. */
function checkDataPath(path: string, operation: VaultOperation): string {
  if (!KV2_PATH_PATTERN.test(path)) {
    throw new VaultError(
      ErrorType.VaultRequestRejected,
      `Vault ${operation}: "${path}" is not a KV v2 data path like secret/data/fleetops/accounts/123456789012/name`,
      { operation, path },
    );
  }
  return path.replace('/data/', '/metadata/');
}

function checkVersion(version: number, what: string, path: string, operation: VaultOperation): void {
  if (!Number.isSafeInteger(version) || version < 0) {
    throw new VaultError(ErrorType.VaultRequestRejected, `Vault ${operation} ${path}: ${what} must be an integer ≥ 0`, {
      operation,
      path,
    });
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function str(value: unknown): string {
  return typeof value === 'string' ? value : '';
}
