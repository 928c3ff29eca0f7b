/**
 * Where fleetops keeps secrets in Vault (KV v2 at `secret/`), and what each entry holds. Pure:
 * workflows pass these paths (references), never the values.
 *
 *  - value:       `secret/data/fleetops/accounts/<id>/<name>`  — one KV version per value, written with `cas`
 *                 (`external-id` is the exception: its value stays at the account's `externalIdRef`)
 *  - live record: `secret/data/fleetops/live/<id>/<name>`      — which value version is live in the account
 *
 * The live records are a tree of their own so that reading status (`secret status`, `--older-than`)
 * needs read access to `fleetops/live/*` only, never to a value; a logical name can never collide
 * with a record (as `<name>-live` could), and each record's KV versions are the rotation history.
 */
import { z } from 'zod';
import {
  ACCOUNT_ID_PATTERN,
  SECRET_KINDS,
  SECRET_NAME_PATTERN,
  type FleetAccount,
  type SecretKind,
} from './fleet-schema';

export const SECRET_VALUES_PREFIX = 'secret/data/fleetops/accounts';
export const SECRET_LIVE_RECORDS_PREFIX = 'secret/data/fleetops/live';

function checked(accountId: string, name: string): void {
  if (!ACCOUNT_ID_PATTERN.test(accountId)) throw new Error(`not an account id: ${JSON.stringify(accountId)}`);
  if (!SECRET_NAME_PATTERN.test(name)) throw new Error(`not a secret name: ${JSON.stringify(name)}`);
}

/** KV v2 path of a secret's value: `secret/data/fleetops/accounts/<id>/<name>`. */
export function secretVaultPath(accountId: string, name: string): string {
  checked(accountId, name);
  return `${SECRET_VALUES_PREFIX}/${accountId}/${name}`;
}

/** KV v2 path of a secret's live record: `secret/data/fleetops/live/<id>/<name>`. */
export function secretLiveRecordPath(accountId: string, name: string): string {
  checked(accountId, name);
  return `${SECRET_LIVE_RECORDS_PREFIX}/${accountId}/${name}`;
}

/**
 * Where the value of an account's secret is: the account's `externalIdRef` for `external-id` (the one
 * place AssumeRole reads it from; a copy would be a second source of truth), else secretVaultPath.
 */
export function secretValueRef(
  account: Pick<FleetAccount, 'id' | 'externalIdRef'>,
  name: string,
  kind: SecretKind,
): string {
  return kind === 'external-id' ? account.externalIdRef : secretVaultPath(account.id, name);
}

/** The data of a value entry, per kind (the field names are the contract with the loaders). */
export const SecretsManagerVaultValueSchema = z.object({ value: z.string().min(1) });
export const IamAccessKeyVaultValueSchema = z.object({
  accessKeyId: z.string().min(16),
  secretAccessKey: z.string().min(1),
});
/**
 * The entry at an account's `externalIdRef`. `externalId` is the one AssumeRole uses. While a rotation
 * runs, `pendingExternalId` holds the new id (durable before any trust policy accepts it) and
 * `rotationToken` names the rotation that wrote the version; once live, the new id moves to
 * `externalId` in a version of its own. Readers other than the rotation look at `externalId` only.
 */
export const ExternalIdVaultValueSchema = z.object({
  externalId: z.string().min(1),
  pendingExternalId: z.string().min(1).optional(),
  rotationToken: z.string().min(1).optional(),
});
export type ExternalIdVaultValue = z.infer<typeof ExternalIdVaultValueSchema>;
export type IamAccessKeyVaultValue = z.infer<typeof IamAccessKeyVaultValueSchema>;

/**
 * The live record: which Vault version of the value is live in the account, since when, by whom.
 * `awsVersionId`: the Secrets Manager VersionId holding it (for `iam-access-key`, of the `deliverTo`
 * secret); `accessKeyId`: the IAM key (never its secret).
 */
export const SecretLiveRecordSchema = z.strictObject({
  kind: z.enum(SECRET_KINDS),
  vaultVersion: z.number().int().min(1),
  rotatedAt: z.iso.datetime(),
  campaignId: z.string().min(1),
  awsVersionId: z.string().min(1).optional(),
  accessKeyId: z.string().min(16).optional(),
});
export type SecretLiveRecord = z.infer<typeof SecretLiveRecordSchema>;
