import { ErrorType } from '../../fleet/error-types';
import { FleetOpsError } from '../aws/errors';
import type { VaultReader } from './vault-kv';

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
