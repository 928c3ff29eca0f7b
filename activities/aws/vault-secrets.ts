import NodeVault from 'node-vault';
import { ErrorType } from '../../fleet/error-types';
import { FleetOpsError } from './errors';

export type VaultConfig = { endpoint: string; token: string; namespace?: string };

/** Reads a KV v2 secret's data; errors never carry the token or the value. */
export type VaultReader = { readKv(path: string): Promise<Record<string, unknown>> };

export function createVaultReader(cfg: VaultConfig): VaultReader {
  const client = NodeVault({ apiVersion: 'v1', endpoint: cfg.endpoint, token: cfg.token, namespace: cfg.namespace });
  return {
    async readKv(path) {
      try {
        const body = (await client.read(path)) as { data?: { data?: Record<string, unknown> } };
        const data = body?.data?.data;
        if (!data) throw new FleetOpsError(ErrorType.ExternalIdMissing, `Vault ${path}: no KV v2 data at this path`);
        return data;
      } catch (err) {
        throw classifyVaultError(err, path);
      }
    },
  };
}

/** Maps node-vault/axios errors to classified errors. Deliberately copies nothing but status and code: axios errors hold request headers (the token). */
function classifyVaultError(err: unknown, path: string): FleetOpsError {
  if (err instanceof FleetOpsError) return err;
  const e = err as { response?: { statusCode?: number; status?: number }; code?: string };
  const status = e.response?.statusCode ?? e.response?.status;
  if (status === 404) return new FleetOpsError(ErrorType.ExternalIdMissing, `Vault ${path}: secret not found (404)`);
  if (status === 403)
    return new FleetOpsError(
      ErrorType.ExternalIdMissing,
      `Vault ${path}: permission denied (403) for the worker's Vault token`,
    );
  if (status !== undefined && status < 500)
    return new FleetOpsError(ErrorType.ExternalIdMissing, `Vault ${path}: HTTP ${status}`);
  return new FleetOpsError(
    ErrorType.VaultUnavailable,
    `Vault ${path}: unavailable (${status ? `HTTP ${status}` : (e.code ?? 'no answer')})`,
  );
}

/**
 * ExternalIds from Vault, cached in memory for `ttlMs`; concurrent callers for the same path share
 * one read. The value stays inside the worker process.
 */
export class ExternalIdCache {
  private readonly cache = new Map<string, { value: string; expiresAt: number }>();
  private readonly pending = new Map<string, Promise<string>>();

  constructor(
    private readonly vault: VaultReader,
    private readonly ttlMs = 10 * 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  async get(ref: string): Promise<string> {
    const hit = this.cache.get(ref);
    if (hit && hit.expiresAt > this.now()) return hit.value;
    let p = this.pending.get(ref);
    if (!p) {
      p = this.load(ref).finally(() => this.pending.delete(ref));
      this.pending.set(ref, p);
    }
    return p;
  }

  invalidate(ref: string): void {
    this.cache.delete(ref);
  }

  private async load(ref: string): Promise<string> {
    const data = await this.vault.readKv(ref);
    const value = data.externalId;
    if (typeof value !== 'string' || value.length === 0) {
      throw new FleetOpsError(
        ErrorType.ExternalIdMissing,
        `Vault ${ref}: expected a non-empty string field "externalId"`,
      );
    }
    this.cache.set(ref, { value, expiresAt: this.now() + this.ttlMs });
    return value;
  }
}
