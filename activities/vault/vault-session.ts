import fs from 'node:fs';
import NodeVault from 'node-vault';
import { ErrorType } from '../../fleet/error-types';
import { classifyVaultError, VaultError, type VaultOperation } from './vault-errors';

/** How fleetops logs in: a given token, or AppRole (role_id + secret_id, the secret_id possibly from a mounted file). */
export type VaultAuth =
  | { method: 'token'; token: string }
  | { method: 'approle'; mount: string; roleId: string; secretId: { value: string } | { file: string } };

export type VaultSettings = { endpoint: string; namespace?: string; auth: VaultAuth };

type SessionLogger = {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
};

export type VaultSessionOptions = {
  logger?: SessionLogger;
  /** Per-request timeout; a Vault that does not answer is VaultUnavailable (retryable). Default 10 s. */
  requestTimeoutMs?: number;
  /** Fraction of a token's TTL after which it is renewed (or replaced). Default 2/3. */
  refreshFraction?: number;
  now?: () => number;
};

/** Headers of one request: the token of the lease it runs under. */
export type VaultRequestOptions = { headers: Record<string, string> };

/** The token in use, when it expires and what the next refresh does. Never leaves this file. */
type Lease = {
  readonly token: string;
  /** Epoch ms; undefined: the token never expires (e.g. a root token). */
  readonly expiresAt?: number;
  /** The TTL the token was issued with: a renewal granting less means the max TTL is near. */
  readonly issuedTtlMs: number;
  /** What the refresh timer does: renew-self, log in again (AppRole), or nothing. */
  next: 'renew' | 'login' | 'none';
};

/** Don't refresh more often than this, however short the TTL; the retry delay after a failed refresh stays within these. */
const MIN_REFRESH_MS = 500;
const MAX_RETRY_MS = 30_000;
/** A token this close to expiry is treated as expired: a request would race it. */
const EXPIRY_MARGIN_MS = 250;

/**
 * fleetops' Vault identity: logs in (AppRole) or adopts the given token, renews the token at 2/3 of its
 * TTL with renew-self, logs in again when renewal fails or the max TTL is reached, and runs each Vault
 * call with a valid token. The refresh timer is unref'd (it never keeps the process alive); `stop()` ends
 * it on worker shutdown. No token or secret_id is ever logged or put in an error.
 */
export class VaultSession {
  /** Counters for tests and the worker log; no token. */
  readonly stats = { logins: 0, renewals: 0, refreshFailures: 0 };
  private readonly client: NodeVault.client;
  private readonly now: () => number;
  private readonly refreshFraction: number;
  private lease?: Lease;
  private acquiring?: Promise<Lease>;
  private timer?: NodeJS.Timeout;
  private stopped = false;
  /** Refreshes failed in a row (backoff once the token has expired). */
  private failuresInRow = 0;

  constructor(
    private readonly settings: VaultSettings,
    private readonly opts: VaultSessionOptions = {},
  ) {
    this.now = opts.now ?? Date.now;
    this.refreshFraction = opts.refreshFraction ?? 2 / 3;
    this.client = NodeVault({
      apiVersion: 'v1',
      endpoint: settings.endpoint,
      namespace: settings.namespace,
      // node-vault's debug output prints request bodies (secret_id, secret values): never enable it
      debug: () => undefined,
      requestOptions: { timeout: opts.requestTimeoutMs ?? 10_000 },
    });
  }

  get authMethod(): VaultAuth['method'] {
    return this.settings.auth.method;
  }

  /** When the current token expires (epoch ms), undefined when it never does or there is none yet. */
  get expiresAt(): number | undefined {
    return this.lease?.expiresAt;
  }

  /** Obtains the first token now rather than at the first request, so a refused credential shows at start. */
  async start(): Promise<void> {
    await this.currentLease();
  }

  /** Ends the refresh timer; later calls still work (they log in on demand) but nothing is scheduled. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /**
   * Runs one Vault call with a valid token, its errors classified. A 403 is checked with lookup-self: when
   * Vault no longer knows the token (expired, revoked) an AppRole session logs in again and runs the call
   * once more; when the token is valid, the policy denies the call (VaultPermissionDenied).
   */
  async call<T>(
    operation: VaultOperation,
    path: string,
    fn: (client: NodeVault.client, options: VaultRequestOptions) => Promise<T>,
  ): Promise<T> {
    const lease = await this.currentLease();
    try {
      return await fn(this.client, requestOptions(lease));
    } catch (err) {
      const e = classifyVaultError(err, operation, path);
      if (e.name !== ErrorType.VaultPermissionDenied || (await this.isValid(lease))) throw e;
      const fresh = await this.replace(lease);
      try {
        return await fn(this.client, requestOptions(fresh));
      } catch (err2) {
        throw classifyVaultError(err2, operation, path);
      }
    }
  }

  /** AppRole login: a new token. The secret_id file is read at every login (an agent may rotate it). */
  private async login(): Promise<Lease> {
    const auth = this.settings.auth;
    if (auth.method !== 'approle') throw new Error('VaultSession.login: only an AppRole session logs in');
    const path = `auth/${auth.mount}/login`;
    const body: unknown = await this.client
      .write(path, { role_id: auth.roleId, secret_id: readSecretId(auth.secretId, path) })
      .catch((err: unknown) => Promise.reject(classifyVaultError(err, 'login', path)));
    const granted = parseAuth(body, 'login', path);
    this.stats.logins++;
    const lease = this.adopt({
      token: granted.token,
      ttlSeconds: granted.ttlSeconds,
      issuedTtlMs: granted.ttlSeconds * 1000,
      next: granted.renewable ? 'renew' : 'login',
    });
    this.opts.logger?.info(
      { ttlSeconds: granted.ttlSeconds, renewable: granted.renewable, mount: auth.mount },
      'vault: logged in with AppRole',
    );
    return lease;
  }

  /**
   * renew-self: extends the token. A lease shorter than the token's issued TTL (capped by its max TTL)
   * or a token no longer renewable means the next refresh logs in again (AppRole) — a given token cannot
   * be replaced, so the worker warns instead.
   */
  private async renew(lease: Lease): Promise<Lease> {
    const path = 'auth/token/renew-self';
    const body: unknown = await this.client
      .write(path, {}, requestOptions(lease))
      .catch((err: unknown) => Promise.reject(classifyVaultError(err, 'renew-self', path)));
    const granted = parseAuth(body, 'renew-self', path);
    this.stats.renewals++;
    if (this.lease !== lease) return this.currentLease(); // replaced while renewing
    const last = granted.ttlSeconds * 1000 < lease.issuedTtlMs || !granted.renewable;
    const renewed = this.adopt({
      token: lease.token,
      ttlSeconds: granted.ttlSeconds,
      issuedTtlMs: lease.issuedTtlMs,
      next: !last ? 'renew' : this.settings.auth.method === 'approle' ? 'login' : 'none',
    });
    this.opts.logger?.debug({ ttlSeconds: granted.ttlSeconds, maxTtlReached: last }, 'vault: token renewed');
    if (last && this.settings.auth.method === 'token') this.warnTokenExpires(renewed);
    return renewed;
  }

  /** lookup-self of the given VAULT_TOKEN: its remaining TTL and whether it can be renewed. */
  private async lookupSelf(): Promise<Lease> {
    const auth = this.settings.auth;
    if (auth.method !== 'token') throw new Error('VaultSession.lookupSelf: only a token session adopts a token');
    const path = 'auth/token/lookup-self';
    const body: unknown = await this.client.read(path, requestOptions({ token: auth.token })).catch((err: unknown) => {
      const e = classifyVaultError(err, 'lookup-self', path);
      if (e.name !== ErrorType.VaultPermissionDenied) return Promise.reject(e);
      return Promise.reject(
        new VaultError(
          ErrorType.VaultPermissionDenied,
          'Vault refused VAULT_TOKEN (lookup-self answered 403): the token is unknown, expired or revoked, or its policy lacks auth/token/lookup-self',
          e.vault,
        ),
      );
    });
    const data = (body as { data?: { ttl?: unknown; creation_ttl?: unknown; period?: unknown; renewable?: unknown } })
      ?.data;
    const ttlSeconds = typeof data?.ttl === 'number' ? data.ttl : 0;
    const issued = Math.max(num(data?.creation_ttl), num(data?.period), ttlSeconds);
    const lease = this.adopt({
      token: auth.token,
      ttlSeconds,
      issuedTtlMs: issued * 1000,
      next: ttlSeconds === 0 ? 'none' : data?.renewable === true ? 'renew' : 'none',
    });
    this.opts.logger?.info({ ttlSeconds, renewable: data?.renewable === true }, 'vault: using VAULT_TOKEN');
    if (lease.next === 'none' && lease.expiresAt !== undefined) this.warnTokenExpires(lease);
    return lease;
  }

  /** The lease to use now: the current one while it is valid, else a new one. */
  private async currentLease(): Promise<Lease> {
    if (this.lease && !this.expired(this.lease)) return this.lease;
    return this.acquire();
  }

  /** One acquisition at a time: concurrent callers share it. */
  private acquire(): Promise<Lease> {
    this.acquiring ??= (this.settings.auth.method === 'approle' ? this.login() : this.lookupSelf()).finally(() => {
      this.acquiring = undefined;
    });
    return this.acquiring;
  }

  /** A token Vault no longer knows: log in again (AppRole) unless another caller already did. */
  private async replace(stale: Lease): Promise<Lease> {
    if (this.lease && this.lease !== stale && !this.expired(this.lease)) return this.lease;
    if (this.settings.auth.method !== 'approle') {
      throw new VaultError(
        ErrorType.VaultPermissionDenied,
        'Vault no longer accepts VAULT_TOKEN (expired or revoked): give the worker a new token, or use AppRole',
        { operation: 'lookup-self', path: 'auth/token/lookup-self', httpStatus: 403 },
      );
    }
    if (this.lease === stale) this.lease = undefined;
    return this.acquire();
  }

  /** Whether Vault still knows this token (lookup-self answers 200). */
  private async isValid(lease: Lease): Promise<boolean> {
    const path = 'auth/token/lookup-self';
    try {
      await this.client.read(path, requestOptions(lease));
      return true;
    } catch (err) {
      const e = classifyVaultError(err, 'lookup-self', path);
      if (e.name === ErrorType.VaultPermissionDenied) return false;
      throw e;
    }
  }

  private adopt(t: { token: string; ttlSeconds: number; issuedTtlMs: number; next: Lease['next'] }): Lease {
    const lease: Lease = {
      token: t.token,
      expiresAt: t.ttlSeconds > 0 ? this.now() + t.ttlSeconds * 1000 : undefined,
      issuedTtlMs: t.issuedTtlMs,
      next: t.ttlSeconds > 0 ? t.next : 'none',
    };
    this.lease = lease;
    this.scheduleRefresh(lease, this.refreshFraction * t.ttlSeconds * 1000);
    return lease;
  }

  /** One unref'd timer for the current lease. */
  private scheduleRefresh(lease: Lease, delayMs: number): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.stopped || lease.next === 'none') return;
    this.timer = setTimeout(() => void this.refresh(lease), Math.max(MIN_REFRESH_MS, delayMs));
    this.timer.unref();
  }

  /**
   * Timer: renew, or log in again. On failure try again sooner: a third of the time left while the token
   * is valid, then 1 s doubling up to 30 s (a Vault outage).
   */
  private async refresh(lease: Lease): Promise<void> {
    if (this.stopped || this.lease !== lease) return;
    try {
      if (lease.next === 'renew') await this.renew(lease);
      else await this.acquire();
      this.failuresInRow = 0;
    } catch (err) {
      const e = classifyVaultError(err, lease.next === 'renew' ? 'renew-self' : 'login', '(token refresh)');
      this.stats.refreshFailures++;
      this.failuresInRow++;
      // renew-self refused: Vault no longer knows the token, log in now
      const gone = e.name === ErrorType.VaultPermissionDenied && lease.next === 'renew';
      if (gone || this.expired(lease)) lease.next = this.settings.auth.method === 'approle' ? 'login' : 'none';
      this.opts.logger?.warn(
        { errorType: e.name, error: e.message, next: lease.next },
        'vault: token refresh failed; trying again',
      );
      if (lease.next === 'none') return this.warnTokenExpires(lease);
      const left = (lease.expiresAt ?? this.now()) - this.now();
      const backoff = Math.min(MAX_RETRY_MS, 1000 * 2 ** (this.failuresInRow - 1));
      this.scheduleRefresh(lease, gone ? 0 : left > 3000 ? Math.min(MAX_RETRY_MS, left / 3) : backoff);
    }
  }

  private expired(lease: Lease): boolean {
    return lease.expiresAt !== undefined && this.now() >= lease.expiresAt - EXPIRY_MARGIN_MS;
  }

  private warnTokenExpires(lease: Lease): void {
    this.opts.logger?.warn(
      { expiresAt: lease.expiresAt ? new Date(lease.expiresAt).toISOString() : undefined },
      'vault: VAULT_TOKEN cannot be renewed further and expires: give the worker a new token, or use AppRole',
    );
  }
}

function requestOptions(lease: { token: string }): VaultRequestOptions {
  return { headers: { 'X-Vault-Token': lease.token } };
}

function readSecretId(secretId: { value: string } | { file: string }, path: string): string {
  if ('value' in secretId) return secretId.value;
  let value: string;
  try {
    value = fs.readFileSync(secretId.file, 'utf8').trim();
  } catch (err) {
    throw new VaultError(
      ErrorType.VaultPermissionDenied,
      `VAULT_SECRET_ID_FILE ${secretId.file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
      { operation: 'login', path },
    );
  }
  if (!value) {
    throw new VaultError(ErrorType.VaultPermissionDenied, `VAULT_SECRET_ID_FILE ${secretId.file} is empty`, {
      operation: 'login',
      path,
    });
  }
  return value;
}

/** The `auth` block of a login or renew-self answer; the token is checked, never echoed. */
function parseAuth(
  body: unknown,
  operation: VaultOperation,
  path: string,
): { token: string; ttlSeconds: number; renewable: boolean } {
  const auth = (body as { auth?: { client_token?: unknown; lease_duration?: unknown; renewable?: unknown } })?.auth;
  if (typeof auth?.client_token !== 'string' || auth.client_token === '') {
    throw new VaultError(ErrorType.VaultRequestRejected, `Vault ${operation} ${path}: the answer holds no token`, {
      operation,
      path,
    });
  }
  return { token: auth.client_token, ttlSeconds: num(auth.lease_duration), renewable: auth.renewable === true };
}

function num(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}
