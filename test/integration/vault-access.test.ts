import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { VaultError } from '../../activities/vault/vault-errors';
import { VaultKv } from '../../activities/vault/vault-kv';
import { VaultSession, type VaultAuth } from '../../activities/vault/vault-session';
import { ErrorType } from '../../fleet/error-types';
import { createLogger } from '../../worker/logger';
import { testStack } from '../support/test-stack';

/**
 * Vault access on the local stack's OpenBao: AppRole login under docs/vault-policy.hcl (and nothing
 * else: token_no_default_policy), token renewal and re-login, the policy's limits, KV v2 cas writes,
 * and Vault unreachable or sealed (a stand-in server: the shared dev server is never sealed).
 */
const cfg = testStack();
const run = `t${Date.now().toString(36)}`;
const ROLE = `fleetops-${run}`;
const POLICY = `fleetops-${run}`;
const ACCOUNT = '300000000001';
const EXTERNAL_ID_REF = `secret/data/fleetops/external-ids/${run}-${ACCOUNT}`;
const accountSecret = (name: string) => `secret/data/fleetops/accounts/${run}-${ACCOUNT}/${name}`;
let roleId: string;
let secretId: string;

/** Vault's HTTP API with the dev root token (setup only; fleetops itself never has it here). */
async function asRoot(method: string, apiPath: string, body?: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${cfg.vaultAddr}/v1/${apiPath}`, {
    method,
    headers: { 'X-Vault-Token': cfg.vaultDevToken, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`root ${method} ${apiPath}: HTTP ${res.status} ${text}`);
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}

const sessions: VaultSession[] = [];
const logLines: string[] = [];
function appRoleSession(auth: Partial<Extract<VaultAuth, { method: 'approle' }>> = {}, endpoint = cfg.vaultAddr) {
  const logger = createLogger({ level: 'debug', destination: { write: (l: string) => void logLines.push(l) } });
  const session = new VaultSession(
    { endpoint, auth: { method: 'approle', mount: 'approle', roleId, secretId: { value: secretId }, ...auth } },
    { logger, requestTimeoutMs: 2000 },
  );
  sessions.push(session);
  return { session, kv: new VaultKv(session) };
}
function tokenSession(token: string, endpoint = cfg.vaultAddr) {
  const session = new VaultSession({ endpoint, auth: { method: 'token', token } }, { requestTimeoutMs: 2000 });
  sessions.push(session);
  return { session, kv: new VaultKv(session) };
}

async function thrown(p: Promise<unknown>): Promise<VaultError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(VaultError);
  return err as VaultError;
}

beforeAll(async () => {
  const auths = (await asRoot('GET', 'sys/auth')) as { data?: Record<string, unknown> };
  if (!auths.data?.['approle/']) await asRoot('POST', 'sys/auth/approle', { type: 'approle' });
  await asRoot('PUT', `sys/policies/acl/${POLICY}`, {
    policy: fs.readFileSync(path.resolve(__dirname, '../../docs/vault-policy.hcl'), 'utf8'),
  });
  await asRoot('POST', `auth/approle/role/${ROLE}`, {
    token_policies: [POLICY],
    token_no_default_policy: true,
    token_ttl: '3s',
    token_max_ttl: '8s',
  });
  roleId = ((await asRoot('GET', `auth/approle/role/${ROLE}/role-id`)).data as { role_id: string }).role_id;
  secretId = ((await asRoot('POST', `auth/approle/role/${ROLE}/secret-id`)).data as { secret_id: string }).secret_id;
  await asRoot('POST', EXTERNAL_ID_REF, { data: { externalId: `ext-${run}` } });
  await asRoot('POST', 'secret/data/other', { data: { other: 'not-for-fleetops' } });
});

afterEach(() => {
  for (const s of sessions.splice(0)) s.stop();
});

afterAll(() => {
  // nothing a log line may hold: the secret_id, a token (OpenBao's are `s.` + 24 characters), a value
  const text = logLines.join('');
  expect(text).not.toContain(secretId);
  expect(text).not.toMatch(/\bs\.[A-Za-z0-9]{24}\b/);
  expect(text).not.toContain(`ext-${run}`);
});

describe('AppRole login under the fleetops policy', () => {
  it('renewal keeps the token working past its first TTL; past the max TTL the session logs in again', async () => {
    const { session, kv } = appRoleSession();
    const started = Date.now();
    await session.start();
    expect(session.stats).toMatchObject({ logins: 1, renewals: 0 });
    expect(await kv.readKv(EXTERNAL_ID_REF)).toEqual({ externalId: `ext-${run}` });

    await sleep(4500 - (Date.now() - started)); // past the 3 s TTL: only renewal keeps this token alive
    expect(await kv.readKv(EXTERNAL_ID_REF)).toEqual({ externalId: `ext-${run}` });
    expect(session.stats.logins).toBe(1);
    expect(session.stats.renewals).toBeGreaterThanOrEqual(1);

    await sleep(10_000 - (Date.now() - started)); // past the 8 s max TTL: a new login, made before it ran out
    expect(await kv.readKv(EXTERNAL_ID_REF)).toEqual({ externalId: `ext-${run}` });
    expect(session.stats.logins).toBe(2);
    expect(session.stats.renewals).toBeGreaterThanOrEqual(3);
    expect(session.stats.refreshFailures).toBe(0);
    expect(session.expiresAt).toBeGreaterThan(Date.now());
  });

  it('a token that expired (no refresh ran) or was revoked is replaced by a new login', async () => {
    const { session, kv } = appRoleSession();
    await session.start();
    session.stop(); // no renewal: the token expires
    await sleep(3500);
    expect(await kv.readKv(EXTERNAL_ID_REF)).toEqual({ externalId: `ext-${run}` });
    expect(session.stats.logins).toBe(2);

    // revoke every token of the role behind the session's back: the 403 is checked, then a new login
    const accessors = ((await asRoot('GET', 'auth/token/accessors?list=true')).data as { keys: string[] }).keys;
    for (const accessor of accessors) {
      const info = (await asRoot('POST', 'auth/token/lookup-accessor', { accessor }).catch(() => ({}))) as {
        data?: { meta?: { role_name?: string } };
      };
      if (info.data?.meta?.role_name === ROLE) await asRoot('POST', 'auth/token/revoke-accessor', { accessor });
    }
    expect(await kv.readKv(EXTERNAL_ID_REF)).toEqual({ externalId: `ext-${run}` });
    expect(session.stats.logins).toBe(3);
  });

  it('reads the secret_id from VAULT_SECRET_ID_FILE; a wrong secret_id is VaultPermissionDenied, never quoted', async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'fleetops-vault-')), 'secret-id');
    fs.writeFileSync(file, `${secretId}\n`, { mode: 0o600 });
    const fromFile = appRoleSession({ secretId: { file } });
    expect(await fromFile.kv.readKv(EXTERNAL_ID_REF)).toEqual({ externalId: `ext-${run}` });

    const wrong = appRoleSession({ secretId: { value: 'wrong-secret-id-0123456789' } });
    const err = await thrown(wrong.kv.readSecretVersion(accountSecret('any')));
    expect(err.name).toBe(ErrorType.VaultPermissionDenied);
    expect(err.retryable).toBe(false);
    expect(err.message).toMatch(/AppRole login refused/);
    expect(err.message).not.toContain('wrong-secret-id');
    expect(JSON.stringify(err.toFailure())).not.toContain('wrong-secret-id');
  });

  it('the policy allows the fleetops paths and denies every other one with VaultPermissionDenied', async () => {
    const { session, kv } = appRoleSession();
    await kv.writeSecretVersion(accountSecret('policy'), { value: 'v1' }, { cas: 0 });
    expect((await kv.readSecretVersion(accountSecret('policy')))?.data).toEqual({ value: 'v1' });
    expect((await kv.readMetadata(accountSecret('policy')))?.currentVersion).toBe(1);
    expect(await kv.readKv(EXTERNAL_ID_REF)).toEqual({ externalId: `ext-${run}` });

    const other = await thrown(kv.readSecretVersion('secret/data/other'));
    expect(other.name).toBe(ErrorType.VaultPermissionDenied);
    expect(other.retryable).toBe(false);
    expect(other.message).toContain('secret/data/other');
    expect(other.toFailure()).toMatchObject({ type: 'VaultPermissionDenied', nonRetryable: true });
    // ExternalIds are written with cas by their rotation (same value here: later tests read it), and
    // their metadata is readable; a path beside them is not
    const rewritten = await kv.writeSecretVersion(EXTERNAL_ID_REF, { externalId: `ext-${run}` }, { cas: 1 });
    expect(rewritten.version).toBe(2);
    expect((await kv.readMetadata(EXTERNAL_ID_REF))?.currentVersion).toBe(2);
    const write = await thrown(kv.writeSecretVersion('secret/data/fleetops/other/x', { value: 'x' }, { cas: 0 }));
    expect(write.name).toBe(ErrorType.VaultPermissionDenied);
    const metadata = await thrown(kv.readMetadata('secret/data/fleetops/other/x'));
    expect(metadata.name).toBe(ErrorType.VaultPermissionDenied);
    // a denial with a valid token is not mistaken for an expired one: no new login
    expect(session.stats.logins).toBe(1);
  });
});

describe('KV v2 check-and-set writes', () => {
  it('create with cas 0, update with the current version, refuse a stale version naming path and versions', async () => {
    const { kv } = appRoleSession();
    const p = accountSecret('collector-api-key');
    expect(await kv.readSecretVersion(p)).toBeNull();
    expect(await kv.readMetadata(p)).toBeNull();

    const v1 = await kv.writeSecretVersion(p, { value: 'first-value' }, { cas: 0 });
    expect(v1.version).toBe(1);
    const v2 = await kv.writeSecretVersion(p, { value: 'second-value' }, { cas: 1 });
    expect(v2.version).toBe(2);

    const stale = await thrown(kv.writeSecretVersion(p, { value: 'third-value' }, { cas: 1 }));
    expect(stale.name).toBe(ErrorType.VaultCasMismatch);
    expect(stale.retryable).toBe(false);
    expect(stale.vault).toMatchObject({ path: p, casVersion: 1, currentVersion: 2 });
    expect(stale.message).toContain(p);
    expect(stale.message).toMatch(/expected version 1 .*holds 2/);
    const failure = stale.toFailure();
    expect(failure).toMatchObject({ type: 'VaultCasMismatch', nonRetryable: true });
    expect(failure.details).toEqual([expect.objectContaining({ path: p, casVersion: 1, currentVersion: 2 })]);
    const again = await thrown(kv.writeSecretVersion(p, { value: 'third-value' }, { cas: 0 }));
    expect(again.name).toBe(ErrorType.VaultCasMismatch);
    for (const e of [stale, again]) expect(JSON.stringify([e.message, e.toFailure()])).not.toMatch(/-value/);

    expect(await kv.readSecretVersion(p)).toMatchObject({ version: 2, data: { value: 'second-value' } });
    expect(await kv.readSecretVersion(p, 1)).toMatchObject({ version: 1, data: { value: 'first-value' } });
    expect(await kv.readSecretVersion(p, 7)).toBeNull();
    const meta = await kv.readMetadata(p);
    expect(meta).toMatchObject({ path: p, currentVersion: 2 });
    expect(meta!.versions.map((v) => v.version)).toEqual([1, 2]);
    for (const v of meta!.versions) expect(Date.parse(v.createdTime)).toBeGreaterThan(Date.now() - 60_000);
    expect(meta!.versions[0].createdTime).toBe((await kv.readSecretVersion(p, 1))!.createdTime);
  });

  it('refuses a path that is not a KV v2 data path before calling Vault', async () => {
    const { kv } = appRoleSession();
    const err = await thrown(kv.writeSecretVersion('sys/policies/acl/x', { a: 1 }, { cas: 0 }));
    expect(err.name).toBe(ErrorType.VaultRequestRejected);
  });
});

describe('Vault unavailable', () => {
  let server: http.Server | undefined;
  afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

  /** A stand-in Vault answering every request with one status and body. */
  async function standIn(status: number, body: unknown): Promise<string> {
    server = http.createServer((_req, res) => {
      res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  it('nothing listening: VaultUnavailable, retryable, for a login and for a read', async () => {
    const closed = await standIn(200, {});
    await new Promise<void>((resolve) => server!.close(() => resolve()));
    server = undefined;
    for (const { kv } of [appRoleSession({}, closed), tokenSession('some-token', closed)]) {
      const err = await thrown(kv.readSecretVersion(accountSecret('x')));
      expect(err.name).toBe(ErrorType.VaultUnavailable);
      expect(err.retryable).toBe(true);
      expect(err.toFailure().nonRetryable).toBe(false);
      expect(err.message).toMatch(/ECONNREFUSED/);
      expect(err.message).not.toContain('some-token');
    }
  });

  it('sealed (503) and other 5xx: VaultUnavailable, retryable', async () => {
    const sealed = await standIn(503, { errors: ['Vault is sealed'] });
    const err = await thrown(tokenSession('some-token', sealed).kv.readSecretVersion(accountSecret('x')));
    expect(err.name).toBe(ErrorType.VaultUnavailable);
    expect(err.retryable).toBe(true);
    expect(err.message).toMatch(/sealed \(HTTP 503\)/);
    const login = await thrown(appRoleSession({}, sealed).kv.readKv(EXTERNAL_ID_REF));
    expect(login.name).toBe(ErrorType.VaultUnavailable);
  });
});

describe('token login', () => {
  it('a valid token (the dev root token: no TTL) works without renewal; an unknown one is VaultPermissionDenied', async () => {
    const root = tokenSession(cfg.vaultDevToken);
    expect(await root.kv.readKv(EXTERNAL_ID_REF)).toEqual({ externalId: `ext-${run}` });
    expect(root.session.expiresAt).toBeUndefined();
    const unknown = await thrown(tokenSession('not-a-real-token').kv.readSecretVersion(accountSecret('x')));
    expect(unknown.name).toBe(ErrorType.VaultPermissionDenied);
    expect(unknown.message).toMatch(/VAULT_TOKEN/);
    expect(unknown.message).not.toContain('not-a-real-token');
  });
});
