import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { classifyVaultError } from '../../activities/vault/vault-errors';
import { ErrorType } from '../../fleet/error-types';
import { createLogger } from '../../worker/logger';
import { loadWorkerConfig } from '../../worker/worker-config';

const base = { FLEETOPS_FLEET_DIRS: '/srv/fleet' };
const configError = (env: Record<string, string>): string => {
  try {
    loadWorkerConfig({ ...base, ...env });
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected the configuration to be refused');
};

describe('Vault login settings', () => {
  it('token login', () => {
    expect(loadWorkerConfig({ ...base, VAULT_TOKEN: 'tok' }).vault).toEqual({
      endpoint: 'http://127.0.0.1:8200',
      auth: { method: 'token', token: 'tok' },
    });
  });

  it('AppRole login with VAULT_SECRET_ID or VAULT_SECRET_ID_FILE; the mount defaults to approle', () => {
    const env = { VAULT_ROLE_ID: 'role', VAULT_SECRET_ID: 'sid', VAULT_ADDR: 'https://vault.example:8200' };
    expect(loadWorkerConfig({ ...base, ...env }).vault).toEqual({
      endpoint: 'https://vault.example:8200',
      auth: { method: 'approle', mount: 'approle', roleId: 'role', secretId: { value: 'sid' } },
    });
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'fleetops-vault-')), 'secret-id');
    fs.writeFileSync(file, 'sid\n');
    const fromFile = { VAULT_ROLE_ID: 'role', VAULT_SECRET_ID_FILE: file, VAULT_APPROLE_MOUNT: 'ops/approle' };
    expect(loadWorkerConfig({ ...base, ...fromFile }).vault.auth).toEqual({
      method: 'approle',
      mount: 'ops/approle',
      roleId: 'role',
      secretId: { file },
    });
  });

  it('an empty variable counts as unset', () => {
    expect(
      loadWorkerConfig({ ...base, VAULT_TOKEN: 'tok', VAULT_ROLE_ID: '', VAULT_SECRET_ID: '' }).vault.auth,
    ).toEqual({
      method: 'token',
      token: 'tok',
    });
  });

  it.each([
    [{}, /Vault login is required[\s\S]*at VAULT_TOKEN/],
    [{ VAULT_TOKEN: 'tok', VAULT_ROLE_ID: 'role', VAULT_SECRET_ID: 'sid' }, /not both/],
    [{ VAULT_SECRET_ID: 'sid' }, /VAULT_ROLE_ID is required/],
    [{ VAULT_ROLE_ID: 'role' }, /VAULT_SECRET_ID or VAULT_SECRET_ID_FILE .* is required/],
    [{ VAULT_ROLE_ID: 'role', VAULT_SECRET_ID: 'sid', VAULT_SECRET_ID_FILE: '/x' }, /not both/],
    [
      { VAULT_ROLE_ID: 'role', VAULT_SECRET_ID_FILE: '/nonexistent/secret-id' },
      /VAULT_SECRET_ID_FILE: expected a readable file, cannot read \/nonexistent\/secret-id \(ENOENT\)/,
    ],
    [{ VAULT_ROLE_ID: 'role', VAULT_SECRET_ID_FILE: os.tmpdir() }, /is not a regular file/],
    [{ VAULT_TOKEN: 'tok', VAULT_APPROLE_MOUNT: '../x' }, /VAULT_APPROLE_MOUNT: expected an auth mount path/],
  ])('refuses %j naming the variable', (env, message) => {
    const text = configError(env as Record<string, string>);
    expect(text).toMatch(/invalid worker configuration/);
    expect(text).toMatch(message);
    expect(text).not.toMatch(/\b(tok|sid)\b/); // the credential values themselves are never quoted
  });
});

describe('classifyVaultError', () => {
  const apiError = (status: number, errors: string[]) =>
    Object.assign(new Error(errors[0] ?? `Status ${status}`), { response: { statusCode: status, body: { errors } } });

  it.each([
    [503, ['Vault is sealed'], 'read', ErrorType.VaultUnavailable, true, /sealed \(HTTP 503\)/],
    [500, ['internal error'], 'read', ErrorType.VaultUnavailable, true, /HTTP 500/],
    [429, ['rate limit quota exceeded'], 'read', ErrorType.VaultUnavailable, true, /HTTP 429/],
    [403, ['1 error occurred:\n\t* permission denied\n\n'], 'read', ErrorType.VaultPermissionDenied, false, /403/],
    [
      400,
      ['check-and-set parameter did not match the current version'],
      'write',
      ErrorType.VaultCasMismatch,
      false,
      /check-and-set/,
    ],
    [400, ['invalid role or secret ID'], 'login', ErrorType.VaultPermissionDenied, false, /AppRole login refused/],
    [400, ['bad request'], 'read', ErrorType.VaultRequestRejected, false, /HTTP 400: bad request/],
    [404, [], 'read', ErrorType.VaultRequestRejected, false, /not found/],
  ] as const)('HTTP %i %j (%s) → %s, retryable %s', (status, errors, op, type, retryable, message) => {
    const e = classifyVaultError(apiError(status, [...errors]), op, 'secret/data/fleetops/accounts/1/x');
    expect(e.name).toBe(type);
    expect(e.retryable).toBe(retryable);
    expect(e.message).toMatch(message);
    expect(e.message).toContain('secret/data/fleetops/accounts/1/x');
  });

  it('a write error never quotes what Vault said (the request held a value)', () => {
    const e = classifyVaultError(apiError(400, ['invalid value "SECRET-VALUE"']), 'write', 'secret/data/a');
    expect(e.name).toBe(ErrorType.VaultRequestRejected);
    expect(e.message).not.toContain('SECRET-VALUE');
  });

  it('a connection error is VaultUnavailable and copies nothing of the request (its headers hold the token)', () => {
    const axiosLike = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), {
      code: 'ECONNREFUSED',
      config: { headers: { 'X-Vault-Token': 's.TOKENTOKENTOKENTOKENTOKEN' } },
    });
    const e = classifyVaultError(axiosLike, 'read', 'secret/data/a');
    expect(e.name).toBe(ErrorType.VaultUnavailable);
    expect(e.retryable).toBe(true);
    expect(JSON.stringify([e.message, e.toFailure(), e.vault, e.context])).not.toContain('TOKENTOKEN');
  });
});

describe('log redaction of Vault credentials', () => {
  it('censors tokens, secret_ids and the Vault token header', () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'info', destination: { write: (l: string) => void lines.push(l) } });
    logger.info(
      {
        auth: { client_token: 's.AAAA', secret_id: 'SID-1' },
        vault: { auth: { method: 'approle', secretId: { value: 'SID-2' }, token: 'TOK-3' } },
        request: { headers: { 'X-Vault-Token': 'TOK-4' } },
      },
      'vault',
    );
    const text = lines.join('');
    for (const secret of ['s.AAAA', 'SID-1', 'SID-2', 'TOK-3', 'TOK-4']) expect(text).not.toContain(secret);
  });
});
