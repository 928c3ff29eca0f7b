/**
 * Vault KV v2 over HTTP for the simulator: read an entry with its version, write with `cas`. Errors
 * carry the path and HTTP status only (never the token or a value).
 */
import type { StackConfig } from '../../stack/stack-config';

export type KvEntry = { data: Record<string, unknown>; version: number };
type VaultAccess = Pick<StackConfig, 'vaultAddr' | 'vaultDevToken'>;

const headers = (cfg: VaultAccess) => ({ 'X-Vault-Token': cfg.vaultDevToken, 'Content-Type': 'application/json' });
const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The current version of a KV v2 entry (`path` like `secret/data/...`), or undefined if there is none. */
export async function kvRead(cfg: VaultAccess, path: string, atVersion?: number): Promise<KvEntry | undefined> {
  const query = atVersion !== undefined ? `?version=${atVersion}` : '';
  const res = await fetch(`${cfg.vaultAddr}/v1/${path}${query}`, { headers: headers(cfg) });
  if (res.status === 404) return undefined;
  if (!res.ok) throw new Error(`Vault ${path}: read failed with HTTP ${res.status}`);
  const body: unknown = await res.json();
  const data = isRecord(body) && isRecord(body.data) ? body.data : {};
  const version = isRecord(data.metadata) ? data.metadata.version : undefined;
  if (!isRecord(data.data) || typeof version !== 'number') return undefined; // deleted or destroyed version
  return { data: data.data, version };
}

/**
 * Writes a new version only if the entry's current version is `cas` (0: only if there is none).
 * Returns the new version, or `cas-mismatch` when someone else's version is there.
 */
export async function kvWrite(
  cfg: VaultAccess,
  path: string,
  data: Record<string, unknown>,
  cas: number,
): Promise<{ version: number } | 'cas-mismatch'> {
  const res = await fetch(`${cfg.vaultAddr}/v1/${path}`, {
    method: 'POST',
    headers: headers(cfg),
    body: JSON.stringify({ options: { cas }, data }),
  });
  if (res.status === 400) {
    const text = await res.text();
    if (/check-and-set/i.test(text)) return 'cas-mismatch';
    throw new Error(`Vault ${path}: write refused with HTTP 400`);
  }
  if (!res.ok) throw new Error(`Vault ${path}: write failed with HTTP ${res.status}`);
  const body: unknown = await res.json();
  const version = isRecord(body) && isRecord(body.data) ? body.data.version : undefined;
  if (typeof version !== 'number') throw new Error(`Vault ${path}: write answered without a version`);
  return { version };
}
