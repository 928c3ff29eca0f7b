/**
 * What a rotation left in one account, for the fleet-scale rotation tests: Vault versions, Secrets
 * Manager stages (version ids and SHA-256 of the values, never a value), IAM keys (ids and states),
 * the ExternalIds a trust policy accepts (compared here, never returned); and `rotationProblems`, the
 * per-account check of "rotated exactly once" for each kind. Also the secrets Vault holds for a set
 * of accounts and a fast scan of many workflow histories for them.
 */
import { createHash } from 'node:crypto';
import { GetRoleCommand, IAMClient, ListAccessKeysCommand } from '@aws-sdk/client-iam';
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  SecretsManagerClient,
  type SecretsManagerClientConfig,
} from '@aws-sdk/client-secrets-manager';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import type { Client } from '@temporalio/client';
import { deliveredKeyJson } from '../../activities/rotation/iam-key-vault';
import { TrustPolicyExternalIds } from '../../activities/rotation/trust-policy-external-ids';
import { mapPool } from '../../cli/map-pool';
import { kvRead, type KvEntry } from '../../cli/sim/vault-kv';
import { resolveAccountSecrets, secretLiveRecordPath, secretVaultPath, type FleetAccount } from '../../fleet';
import type { StackConfig } from '../../stack/stack-config';
import { rotationToken } from '../../workflows/rotation/uuid-v5';
import { accountCredentials, type AccountCredentialsValue } from './account-access';
import { decodedHistoryText, secretsIn } from './history-scan';

export const sha256 = (text: unknown) => createHash('sha256').update(String(text), 'utf8').digest('hex');

/** The three kinds, by the logical names `sim seed` gives them. */
export const SECRETS = {
  secretsmanager: 'collector-api-key',
  'iam-access-key': 'loader-access-key',
  'external-id': 'external-id',
} as const;
export type Kind = keyof typeof SECRETS;
export const KINDS = Object.keys(SECRETS) as Kind[];

/** Every AWS client the checks need, acting in the account (one AssumeRole). Retries throttling generously. */
export async function accountClients(cfg: StackConfig, account: FleetAccount, region = account.regions[0]) {
  const credentials = await accountCredentials(cfg, account, 'rotation-check');
  const common = { endpoint: cfg.awsEndpoint, credentials, maxAttempts: 10 };
  return {
    credentials,
    sm: new SecretsManagerClient({ ...common, region } satisfies SecretsManagerClientConfig),
    iam: new IAMClient({ ...common, region: 'us-east-1' }),
  };
}
export type AccountClients = Awaited<ReturnType<typeof accountClients>>;

/** A secret's stages: version ids per stage and the SHA-256 of AWSCURRENT and AWSPREVIOUS. */
export async function secretStages(sm: SecretsManagerClient, secretId: string) {
  const described = await sm.send(new DescribeSecretCommand({ SecretId: secretId }));
  const stages = described.VersionIdsToStages ?? {};
  const holder = (stage: string) => Object.keys(stages).find((id) => stages[id].includes(stage));
  const hashOf = async (stage: string) =>
    sha256((await sm.send(new GetSecretValueCommand({ SecretId: secretId, VersionStage: stage }))).SecretString);
  const previous = holder('AWSPREVIOUS');
  return {
    current: holder('AWSCURRENT'),
    previous,
    pending: holder('AWSPENDING'),
    currentHash: await hashOf('AWSCURRENT'),
    previousHash: previous ? await hashOf('AWSPREVIOUS') : undefined,
  };
}

/** The IAM user's keys: id → status. */
export async function accessKeys(iam: IAMClient, userName: string): Promise<Record<string, string>> {
  const out = await iam.send(new ListAccessKeysCommand({ UserName: userName }));
  return Object.fromEntries((out.AccessKeyMetadata ?? []).map((k) => [k.AccessKeyId!, k.Status!]));
}

/** The ExternalIds the role's trust policy accepts (stays in the test process). */
export async function trustedExternalIds(iam: IAMClient, account: FleetAccount): Promise<string[]> {
  const role = await iam.send(new GetRoleCommand({ RoleName: account.roleArn.split('/').pop()! }));
  return new TrustPolicyExternalIds(
    decodeURIComponent(role.Role!.AssumeRolePolicyDocument!),
    account.roleArn,
  ).accepted();
}

/** Whether AssumeRole of the account's role is accepted with `externalId`. */
export async function assumeRoleAccepted(cfg: StackConfig, account: FleetAccount, externalId: string) {
  const sts = new STSClient({ endpoint: cfg.awsEndpoint, region: 'us-east-1', maxAttempts: 10 });
  try {
    await sts.send(
      new AssumeRoleCommand({ RoleArn: account.roleArn, RoleSessionName: 'rotation-check', ExternalId: externalId }),
    );
    return true;
  } catch (err) {
    if ((err as Error).name === 'AccessDenied') return false;
    throw err;
  } finally {
    sts.destroy();
  }
}

/** The Secrets Manager secret a kind delivers its value through in the account (none for external-id). */
export function secretIdOf(account: FleetAccount, kind: Kind): string {
  const secret = resolveAccountSecrets(account)[SECRETS[kind]];
  if (secret?.kind === 'secretsmanager') return secret.secretId;
  if (secret?.kind === 'iam-access-key') return secret.deliverTo;
  throw new Error(`account ${account.id}: ${SECRETS[kind]} is delivered through no Secrets Manager secret`);
}

/** The Vault path of a kind's values in the account (the externalIdRef for external-id). */
export function vaultPathOf(account: FleetAccount, kind: Kind): string {
  return kind === 'external-id' ? account.externalIdRef : secretVaultPath(account.id, SECRETS[kind]);
}

/** Vault's entry (latest or `version`); an error naming the path when it is not there. */
export async function vaultAt(cfg: StackConfig, path: string, version?: number): Promise<KvEntry> {
  const entry = await kvRead(cfg, path, version);
  if (!entry) throw new Error(`nothing in Vault at ${path}${version ? ` version ${version}` : ''}`);
  return entry;
}

/** Latest Vault version of each kind's path, per account. */
export async function vaultVersionsBefore(
  cfg: StackConfig,
  accounts: FleetAccount[],
  kinds: Kind[] = KINDS,
): Promise<Record<string, Partial<Record<Kind, number>>>> {
  const out: Record<string, Partial<Record<Kind, number>>> = {};
  await mapPool(accounts, 16, async (a) => {
    out[a.id] = {};
    for (const kind of kinds) out[a.id][kind] = (await vaultAt(cfg, vaultPathOf(a, kind))).version;
  });
  return out;
}

/**
 * Why `account` is not rotated exactly once for `kind` by `campaignId` (attempt 1), from `before` (the
 * Vault version before the campaign); empty when it is. Checks, for every kind: one new Vault version
 * (two for external-id: pending, then live) written for this rotation's token, the live record naming
 * it; secretsmanager / iam-access-key: AWSCURRENT is the token's version and hashes like Vault's new
 * value, AWSPREVIOUS like the old one, no AWSPENDING left; iam-access-key: `cleanedUp` → only the new
 * key, active (else at most two keys, the new one active); external-id: `cleanedUp` → the trust policy
 * accepts only the new id and AssumeRole with the old one is denied (else both accepted).
 * Messages name versions, ids of keys and booleans — never a value.
 */
export async function rotationProblems(
  cfg: StackConfig,
  account: FleetAccount,
  kind: Kind,
  o: { campaignId: string; before: number; cleanedUp: boolean; clients?: AccountClients },
): Promise<string[]> {
  const problems: string[] = [];
  const expect = (ok: boolean, what: string) => void (ok || problems.push(`${account.id} ${kind}: ${what}`));
  const name = SECRETS[kind];
  const secret = resolveAccountSecrets(account)[name];
  const token = rotationToken(o.campaignId, account.id, name, 1);
  const path = vaultPathOf(account, kind);
  const latest = await vaultAt(cfg, path);
  const live = await vaultAt(cfg, secretLiveRecordPath(account.id, name));
  const old = await vaultAt(cfg, path, o.before);
  const clients =
    o.clients ?? (await accountClients(cfg, account, secret && 'region' in secret ? secret.region : undefined));

  if (kind === 'external-id') {
    expect(latest.version === o.before + 2, `Vault ${path} is at v${latest.version}, expected v${o.before + 2}`);
    const pending = await vaultAt(cfg, path, o.before + 1);
    expect(
      pending.data.rotationToken === token && !!pending.data.pendingExternalId,
      'pending version not this rotation',
    );
    expect(pending.data.externalId === old.data.externalId, 'pending version does not keep the old id current');
    expect(latest.data.rotationToken === token && !latest.data.pendingExternalId, 'live version not this rotation');
    expect(latest.data.externalId === pending.data.pendingExternalId, 'live id is not the pending new id');
    expect(latest.data.externalId !== old.data.externalId, 'live id is the old id');
    expect(live.data.vaultVersion === latest.version, `live record names v${String(live.data.vaultVersion)}`);
    const trusted = await trustedExternalIds(clients.iam, account);
    const newTrusted = trusted.includes(String(latest.data.externalId));
    const oldTrusted = trusted.includes(String(old.data.externalId));
    expect(newTrusted, 'trust policy does not accept the new id');
    expect(
      oldTrusted === !o.cleanedUp,
      `trust policy ${oldTrusted ? 'still accepts' : 'no longer accepts'} the old id`,
    );
    expect(trusted.length === (o.cleanedUp ? 1 : 2), `trust policy accepts ${trusted.length} ids`);
    expect(await assumeRoleAccepted(cfg, account, String(latest.data.externalId)), 'AssumeRole with the new id denied');
    if (o.cleanedUp)
      expect(
        !(await assumeRoleAccepted(cfg, account, String(old.data.externalId))),
        'AssumeRole with the old id works',
      );
    return problems;
  }

  expect(latest.version === o.before + 1, `Vault ${path} is at v${latest.version}, expected v${o.before + 1}`);
  expect(latest.data.rotationToken === token, 'Vault latest version not written for this rotation');
  expect(live.data.vaultVersion === latest.version, `live record names v${String(live.data.vaultVersion)}`);
  expect(live.data.awsVersionId === token, 'live record names another AWS version');
  const valueOf = (e: KvEntry) =>
    kind === 'iam-access-key'
      ? deliveredKeyJson({ accessKeyId: String(e.data.accessKeyId), secretAccessKey: String(e.data.secretAccessKey) })
      : String(e.data.value);
  const secretId = secretIdOf(account, kind);
  const stages = await secretStages(clients.sm, secretId);
  expect(stages.current === token, `${secretId} AWSCURRENT is ${stages.current}, not ${token}`);
  expect(stages.pending === undefined, `${secretId} AWSPENDING left on ${stages.pending}`);
  expect(
    stages.currentHash === sha256(valueOf(latest)),
    `${secretId} AWSCURRENT does not hash like Vault v${latest.version}`,
  );
  expect(
    stages.previousHash === sha256(valueOf(old)),
    `${secretId} AWSPREVIOUS does not hash like Vault v${old.version}`,
  );
  if (secret?.kind === 'iam-access-key') {
    const keys = await accessKeys(clients.iam, secret.userName);
    const ids = Object.keys(keys);
    const newId = String(latest.data.accessKeyId);
    expect(newId !== String(old.data.accessKeyId), 'the new key is the old key');
    expect(keys[newId] === 'Active', `new key ${newId} is ${keys[newId] ?? 'missing'}`);
    expect(ids.length <= 2, `${ids.length} keys: ${ids.join(', ')}`);
    if (o.cleanedUp) expect(ids.length === 1, `keys after the cleanup: ${ids.join(', ')}`);
  }
  return problems;
}

/**
 * Everything Vault holds that must never appear in a history or log, for these accounts: every version
 * of each kind's value (collector values, key secrets, ExternalIds current and pending), and the access
 * key ids, which may appear (allowed by id).
 */
export async function vaultSecrets(
  cfg: StackConfig,
  accounts: FleetAccount[],
  kinds: Kind[] = KINDS,
): Promise<{ secrets: string[]; keyIds: string[] }> {
  const secrets = new Set<string>();
  const keyIds = new Set<string>();
  await mapPool(accounts, 16, async (a) => {
    for (const kind of kinds) {
      const path = vaultPathOf(a, kind);
      const latest = await vaultAt(cfg, path);
      for (let v = 1; v <= latest.version; v++) {
        const { data } = v === latest.version ? latest : await vaultAt(cfg, path, v);
        for (const field of ['value', 'secretAccessKey', 'externalId', 'pendingExternalId'])
          if (typeof data[field] === 'string') secrets.add(data[field]);
        if (typeof data.accessKeyId === 'string') keyIds.add(data.accessKeyId);
      }
    }
  });
  return { secrets: [...secrets], keyIds: [...keyIds] };
}

/**
 * Fetches the history of every workflow run matching `query` (concurrently) and scans them all for
 * `secrets` and secret-looking shapes (`secretsIn`, key ids in `keyIds` allowed). Returns how many
 * histories and events were scanned and each leak as `<workflowId>: <what>`.
 */
export async function scanHistories(
  client: Client,
  query: string,
  known: { secrets: string[]; keyIds: string[] },
): Promise<{ histories: number; events: number; leaks: string[] }> {
  const runs: Array<{ workflowId: string; runId: string }> = [];
  for await (const wf of client.workflow.list({ query })) runs.push({ workflowId: wf.workflowId, runId: wf.runId });
  let events = 0;
  const texts = await mapPool(runs, 16, async (r) => {
    const history = await client.workflow.getHandle(r.workflowId, r.runId).fetchHistory();
    events += history.events?.length ?? 0;
    return decodedHistoryText(JSON.stringify(history));
  });
  // One scan of everything, then the histories that leak (if any) named one by one.
  const leaks: string[] = [];
  if (secretsIn(texts.join('\n'), known.secrets, known.keyIds).length) {
    texts.forEach((t, i) =>
      leaks.push(...secretsIn(t, known.secrets, known.keyIds).map((w) => `${runs[i].workflowId}: ${w}`)),
    );
  }
  return { histories: runs.length, events, leaks };
}

export type { AccountCredentialsValue };
