import { ApplicationFailure } from '@temporalio/activity';
import { ErrorType } from '../../fleet/error-types';
import { FleetOpsError } from '../aws/errors';

/** What fleetops asked Vault to do, for error messages and failure details. */
export type VaultOperation = 'login' | 'lookup-self' | 'renew-self' | 'read' | 'write' | 'read-metadata';

/** What a Vault error names: operation, path, HTTP status or network code, and for cas the versions. Never a token or value. */
export type VaultErrorContext = {
  operation: VaultOperation;
  path: string;
  httpStatus?: number;
  networkCode?: string;
  /** The `cas` version the write expected to be current. */
  casVersion?: number;
  /** The version Vault holds as current (read after a cas mismatch; absent when that read failed). */
  currentVersion?: number;
};

/** A classified Vault error: a FleetOpsError whose failure details carry the Vault context. */
export class VaultError extends FleetOpsError {
  constructor(
    name: ErrorType,
    message: string,
    readonly vault: VaultErrorContext,
  ) {
    super(name, message, { api: `vault:${vault.operation}`, httpStatus: vault.httpStatus });
  }

  /** Not found (404): readers turn this into `null`. */
  get notFound(): boolean {
    return this.vault.httpStatus === 404;
  }

  override toFailure(): ApplicationFailure {
    return ApplicationFailure.create({
      type: this.name,
      message: this.message,
      nonRetryable: !this.retryable,
      details: [{ ...this.context, ...this.vault }],
    });
  }
}

/** A cas write found another current version: names the path and both versions, never the value. */
export function casMismatch(path: string, casVersion: number, currentVersion: number | undefined): VaultError {
  const current = currentVersion === undefined ? 'unknown (metadata read failed)' : String(currentVersion);
  return new VaultError(
    ErrorType.VaultCasMismatch,
    `Vault write ${path}: check-and-set expected version ${casVersion} to be current, Vault holds ${current}`,
    { operation: 'write', path, httpStatus: 400, casVersion, currentVersion },
  );
}

/** Whether Vault's answer to a KV v2 write says the `cas` version did not match. */
function isCasMismatch(err: unknown): boolean {
  return vaultMessages(err).some((m) => m.includes('check-and-set parameter did not match'));
}

/**
 * Classifies a node-vault error once. Copies nothing but the HTTP status, Vault's own error text (not
 * for writes, whose request held a value) and the network code: node-vault's and axios' errors carry
 * the request, whose headers hold the token.
 */
export function classifyVaultError(err: unknown, operation: VaultOperation, path: string): VaultError {
  if (err instanceof VaultError) return err;
  if (err instanceof FleetOpsError) return new VaultError(err.name, err.message, { operation, path });
  const status = httpStatus(err);
  const where = `Vault ${operation} ${path}`;
  if (status === undefined) {
    const networkCode = (err as { code?: unknown })?.code;
    const code = typeof networkCode === 'string' ? networkCode : 'no answer';
    return new VaultError(ErrorType.VaultUnavailable, `${where}: Vault unavailable (${code})`, {
      operation,
      path,
      networkCode: code,
    });
  }
  const context = { operation, path, httpStatus: status };
  const said = operation === 'write' ? '' : vaultMessages(err).join('; ').slice(0, 300);
  const detail = `HTTP ${status}${said ? `: ${said}` : ''}`;
  if (status === 503 && vaultMessages(err).some((m) => /sealed/i.test(m)))
    return new VaultError(ErrorType.VaultUnavailable, `${where}: Vault is sealed (HTTP 503)`, context);
  if (status >= 500 || status === 429 || status === 412)
    return new VaultError(ErrorType.VaultUnavailable, `${where}: Vault unavailable (${detail})`, context);
  if (status === 403)
    return new VaultError(
      ErrorType.VaultPermissionDenied,
      `${where}: permission denied (403): fleetops' Vault policy does not allow this`,
      context,
    );
  if (status === 400 && operation === 'write' && isCasMismatch(err))
    return new VaultError(ErrorType.VaultCasMismatch, `${where}: check-and-set version did not match`, context);
  if (operation === 'login')
    return new VaultError(ErrorType.VaultPermissionDenied, `${where}: AppRole login refused (${detail})`, context);
  if (status === 404) return new VaultError(ErrorType.VaultRequestRejected, `${where}: not found (404)`, context);
  return new VaultError(ErrorType.VaultRequestRejected, `${where}: rejected (${detail})`, context);
}

function httpStatus(err: unknown): number | undefined {
  const response = (err as { response?: { statusCode?: unknown; status?: unknown } })?.response;
  const status = response?.statusCode ?? response?.status;
  return typeof status === 'number' ? status : undefined;
}

/** Vault's `errors` array of the response body (node-vault keeps the body on the error). */
function vaultMessages(err: unknown): string[] {
  const errors = (err as { response?: { body?: { errors?: unknown } } })?.response?.body?.errors;
  return Array.isArray(errors)
    ? errors.filter((m): m is string => typeof m === 'string').map((m) => m.replace(/\s+/g, ' ').trim())
    : [];
}
