/**
 * Seeds an account's secrets (as its fleet entry declares them) on the local stack: the value in
 * Vault first (the source of truth, KV v2 written with `cas`), then the account's copy in AWS, then
 * the live record. Idempotent: a second run finds each piece in place and changes nothing; a piece
 * that disagrees with Vault (e.g. moto restarted alone) is brought back in line with Vault.
 * No value is logged, printed or put in an error message.
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  CreateAccessKeyCommand,
  CreateUserCommand,
  DeleteAccessKeyCommand,
  ListAccessKeysCommand,
  type IAMClient,
} from '@aws-sdk/client-iam';
import type { FleetAccount } from '../../fleet/fleet-schema';
import { resolveAccountSecrets, type ResolvedSecret } from '../../fleet/fleet-secrets';
import {
  IamAccessKeyVaultValueSchema,
  secretLiveRecordPath,
  SecretLiveRecordSchema,
  SecretsManagerVaultValueSchema,
  secretVaultPath,
  type IamAccessKeyVaultValue,
  type SecretLiveRecord,
} from '../../fleet/secret-vault-layout';
import { generateSecretValue } from '../../fleet/secret-values';
import type { StackConfig } from '../../stack/stack-config';
import { SecretsManagerError, type SecretsManagerCall } from './secrets-manager-calls';
import { kvRead, kvWrite } from './vault-kv';

/** The live records' `campaignId` for what the simulator seeded. */
export const SIM_SEED_CAMPAIGN = 'sim-seed';

export type SeedSecretsDeps = {
  cfg: Pick<StackConfig, 'vaultAddr' | 'vaultDevToken'>;
  /** IAM in the account. */
  iam: IAMClient;
  /** Secrets Manager in the account, per region. */
  secretsManager: (region: string) => SecretsManagerCall;
  now?: () => Date;
};

/** Seeds every secret of the account; `externalIdVersion` is the Vault version of its ExternalId. */
export async function seedAccountSecrets(
  deps: SeedSecretsDeps,
  account: FleetAccount,
  externalIdVersion: number,
): Promise<void> {
  const secrets = Object.values(resolveAccountSecrets(account));
  await Promise.all(
    secrets.map(async (secret) => {
      const live = await seedSecret(deps, account, secret, externalIdVersion);
      await ensureLiveRecord(deps, account.id, secret.name, live);
    }),
  );
}

type LiveFacts = Omit<SecretLiveRecord, 'rotatedAt' | 'campaignId'>;

function seedSecret(
  deps: SeedSecretsDeps,
  account: FleetAccount,
  secret: ResolvedSecret,
  externalIdVersion: number,
): Promise<LiveFacts> {
  switch (secret.kind) {
    case 'secretsmanager':
      return seedSecretsManagerValue(deps, account, secret);
    case 'iam-access-key':
      return seedIamAccessKey(deps, account, secret);
    case 'external-id':
      // The value stays at the account's externalIdRef (seeded with the role); only the live record is new.
      return Promise.resolve({ kind: 'external-id', vaultVersion: externalIdVersion });
  }
}

async function seedSecretsManagerValue(
  deps: SeedSecretsDeps,
  account: FleetAccount,
  secret: Extract<ResolvedSecret, { kind: 'secretsmanager' }>,
): Promise<LiveFacts> {
  const path = secretVaultPath(account.id, secret.name);
  let version: number;
  let value: string;
  const generated = generateSecretValue(secret.generate, randomBytes);
  const written = await kvWrite(deps.cfg, path, { value: generated }, 0);
  if (written !== 'cas-mismatch') {
    ({ version } = written);
    value = generated;
  } else {
    // Seeded or rotated before: keep the version that is live (a rotation rolled back leaves a newer,
    // rejected version in Vault that must not become current).
    const live = await kvRead(deps.cfg, secretLiveRecordPath(account.id, secret.name));
    const liveVersion = typeof live?.data.vaultVersion === 'number' ? live.data.vaultVersion : undefined;
    const existing = await kvRead(deps.cfg, path, liveVersion);
    const parsed = SecretsManagerVaultValueSchema.safeParse(existing?.data);
    if (!existing || !parsed.success) throw new Error(`Vault ${path}: the entry there is not a { value } secret`);
    ({ version } = existing);
    ({ value } = parsed.data);
  }
  const awsVersionId = await ensureAwsSecret(
    deps,
    secret.region,
    secret.secretId,
    value,
    token(account.id, secret.name, version),
  );
  return { kind: secret.kind, vaultVersion: version, awsVersionId };
}

async function seedIamAccessKey(
  deps: SeedSecretsDeps,
  account: FleetAccount,
  secret: Extract<ResolvedSecret, { kind: 'iam-access-key' }>,
): Promise<LiveFacts> {
  const path = secretVaultPath(account.id, secret.name);
  const existing = await kvRead(deps.cfg, path);
  const stored = existing ? IamAccessKeyVaultValueSchema.safeParse(existing.data) : undefined;
  if (stored && !stored.success) throw new Error(`Vault ${path}: the entry there is not an access key pair`);

  const UserName = secret.userName;
  let userIsNew = true;
  try {
    await deps.iam.send(new CreateUserCommand({ UserName }));
  } catch (err) {
    if (!/^EntityAlreadyExists/.test((err as Error).name)) throw err;
    userIsNew = false;
  }
  let pair: IamAccessKeyVaultValue | undefined;
  let version = existing?.version ?? 0;
  if (!userIsNew) {
    const keys = (await deps.iam.send(new ListAccessKeysCommand({ UserName }))).AccessKeyMetadata ?? [];
    if (stored?.success && keys.some((k) => k.AccessKeyId === stored.data.accessKeyId && k.Status === 'Active')) {
      pair = stored.data;
    } else {
      // Keys of the simulated user that Vault does not hold (an interrupted seed): nobody can use them.
      for (const key of keys)
        await deps.iam.send(new DeleteAccessKeyCommand({ UserName, AccessKeyId: key.AccessKeyId }));
    }
  }
  if (!pair) {
    const created = (await deps.iam.send(new CreateAccessKeyCommand({ UserName }))).AccessKey;
    if (!created?.AccessKeyId || !created.SecretAccessKey)
      throw new Error(`iam:CreateAccessKey for ${UserName}: no key in the answer`);
    pair = { accessKeyId: created.AccessKeyId, secretAccessKey: created.SecretAccessKey };
    const written = await kvWrite(deps.cfg, path, pair, version);
    if (written === 'cas-mismatch')
      throw new Error(`Vault ${path}: changed by someone else while seeding; run sim seed again`);
    ({ version } = written);
  }
  const awsVersionId = await ensureAwsSecret(
    deps,
    secret.region,
    secret.deliverTo,
    JSON.stringify(pair),
    token(account.id, secret.name, version),
  );
  return { kind: secret.kind, vaultVersion: version, accessKeyId: pair.accessKeyId, awsVersionId };
}

/**
 * Makes the Secrets Manager secret's AWSCURRENT value `value`: creates the secret, or (it exists)
 * leaves it if it already holds the value, else puts the value as a new current version. Returns the VersionId.
 */
async function ensureAwsSecret(
  deps: SeedSecretsDeps,
  region: string,
  secretId: string,
  value: string,
  clientRequestToken: string,
): Promise<string> {
  const sm = deps.secretsManager(region);
  const secret = [value];
  try {
    const created = await sm(
      'CreateSecret',
      { Name: secretId, SecretString: value, ClientRequestToken: clientRequestToken },
      secret,
    );
    return versionIdOf(created, secretId);
  } catch (err) {
    if (!(err instanceof SecretsManagerError && err.type === 'ResourceExistsException')) throw err;
  }
  // moto answers a GetSecretValue without VersionStage with a stale version: always ask for AWSCURRENT.
  const current = await sm('GetSecretValue', { SecretId: secretId, VersionStage: 'AWSCURRENT' }, secret);
  if (typeof current.SecretString === 'string' && sha256(current.SecretString) === sha256(value)) {
    return versionIdOf(current, secretId);
  }
  const put = await sm(
    'PutSecretValue',
    { SecretId: secretId, SecretString: value, ClientRequestToken: clientRequestToken },
    secret,
  );
  return versionIdOf(put, secretId);
}

function versionIdOf(out: Record<string, unknown>, secretId: string): string {
  if (typeof out.VersionId !== 'string') throw new Error(`secretsmanager ${secretId}: no VersionId in the answer`);
  return out.VersionId;
}

/** Writes the live record unless the one there already says the same. */
async function ensureLiveRecord(
  deps: SeedSecretsDeps,
  accountId: string,
  name: string,
  facts: LiveFacts,
): Promise<void> {
  const path = secretLiveRecordPath(accountId, name);
  const record: SecretLiveRecord = SecretLiveRecordSchema.parse({
    ...facts,
    rotatedAt: (deps.now?.() ?? new Date()).toISOString(),
    campaignId: SIM_SEED_CAMPAIGN,
  });
  const first = await kvWrite(deps.cfg, path, record, 0);
  if (first !== 'cas-mismatch') return;
  const existing = await kvRead(deps.cfg, path);
  const there = SecretLiveRecordSchema.safeParse(existing?.data);
  const same =
    there.success &&
    there.data.kind === facts.kind &&
    there.data.vaultVersion === facts.vaultVersion &&
    there.data.awsVersionId === facts.awsVersionId &&
    there.data.accessKeyId === facts.accessKeyId;
  if (same) return;
  const again = await kvWrite(deps.cfg, path, record, existing?.version ?? 0);
  if (again === 'cas-mismatch')
    throw new Error(`Vault ${path}: changed by someone else while seeding; run sim seed again`);
}

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/** A ClientRequestToken (UUID-shaped, 36 chars) derived from the account, secret and Vault version. */
function token(accountId: string, name: string, vaultVersion: number): string {
  const h = sha256(`fleetops/${SIM_SEED_CAMPAIGN}/${accountId}/${name}/${vaultVersion}`);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}
