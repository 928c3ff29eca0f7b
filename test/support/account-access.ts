import { CloudWatchClient, SetAlarmStateCommand } from '@aws-sdk/client-cloudwatch';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { kvRead, type KvEntry } from '../../cli/sim/vault-kv';
import type { AssumableAccount, FleetAccount } from '../../fleet/fleet-schema';
import { healthAlarmName } from '../../fleet/pipeline-stack';
import type { StackConfig } from '../../stack/stack-config';

export type AccountCredentialsValue = { accessKeyId: string; secretAccessKey: string; sessionToken: string };

/** A Vault KV v2 entry (a given version, or the latest) of the local stack; missing → an error naming the path. */
export async function vaultEntry(cfg: StackConfig, path: string, version?: number): Promise<KvEntry> {
  const entry = await kvRead(cfg, path, version);
  if (!entry) throw new Error(`nothing in Vault at ${path}${version ? ` version ${version}` : ''}`);
  return entry;
}

/** Every version's `field` of a Vault KV v2 entry that is a string (the values a history scan looks for). */
export async function vaultValueVersions(cfg: StackConfig, path: string, field = 'value'): Promise<string[]> {
  const latest = await vaultEntry(cfg, path);
  const values: string[] = [];
  for (let v = 1; v <= latest.version; v++) {
    const value = (await vaultEntry(cfg, path, v)).data[field];
    if (typeof value === 'string') values.push(value);
  }
  return values;
}

/** The account's credentials through the proxy, the way fleetops gets them: AssumeRole with the ExternalId from Vault. */
export async function accountCredentials(
  cfg: StackConfig,
  account: AssumableAccount,
  session = 'fleetops-test',
): Promise<AccountCredentialsValue> {
  const externalId = (await vaultEntry(cfg, account.externalIdRef)).data.externalId;
  const sts = new STSClient({ endpoint: cfg.awsEndpoint, region: 'us-east-1' });
  const out = await sts.send(
    new AssumeRoleCommand({ RoleArn: account.roleArn, RoleSessionName: session, ExternalId: String(externalId) }),
  );
  const c = out.Credentials!;
  return { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! };
}

/** Sets the account's pipeline health alarm (`<stack>-health`) in `region` to OK or ALARM. */
export async function setHealthAlarm(
  cfg: StackConfig,
  account: FleetAccount | undefined,
  region: string,
  state: 'OK' | 'ALARM',
  why: string,
): Promise<void> {
  if (!account) return;
  const credentials = await accountCredentials(cfg, account);
  const cw = new CloudWatchClient({ endpoint: cfg.awsEndpoint, region, credentials });
  await cw.send(
    new SetAlarmStateCommand({
      AlarmName: healthAlarmName(account.pipeline.stackName),
      StateValue: state,
      StateReason: `${why} (${state})`,
    }),
  );
}
