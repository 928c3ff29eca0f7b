import { randomBytes } from 'node:crypto';
import { CloudFormationClient, CreateStackCommand, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient, PutMetricAlarmCommand } from '@aws-sdk/client-cloudwatch';
import { CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { Agent } from 'node:http';
import type { FleetAccount } from '../../fleet/fleet-schema';
import type { StackConfig } from '../../stack/stack-config';
import { mapPool } from '../map-pool';
import { kvRead, kvWrite } from './vault-kv';
import { healthAlarmName, PIPELINE_VERSION_PARAMETER } from '../../fleet/pipeline-stack';
import { EXTERNAL_ID_FORMAT, generateSecretValue } from '../../fleet/secret-values';
import { executionRoleTrustPolicy, PIPELINE_TEMPLATE } from './pipeline-template';
import { secretsManager } from './secrets-manager-calls';
import { seedAccountSecrets } from './seed-secrets';
import { EC2Client } from '@aws-sdk/client-ec2';
import { baseImageRegions, ensureBaseImages, imageAccountsOf, seedAccountGroups, type BaseImages } from './seed-images';

/** The account fleetops itself runs in on the local stack (moto's default account). */
export const FLEETOPS_HOME_ACCOUNT = '123456789012';
const ADMIN_CREDENTIALS = { accessKeyId: 'fleetops-seed', secretAccessKey: 'fleetops-seed' };

export type SeedProgress = (done: number, total: number) => void;

/**
 * Seeds the local stack with a simulated fleet: per account an ExternalId in Vault, the execution
 * role (trust policy requiring that ExternalId) and a pipeline stack at its version in each region,
 * and the account's `secrets` (see seed-secrets.ts), straight in moto; for AMI rollouts the image
 * account (ExternalId, role, a base image per region) and per account and region the launch template
 * and Auto Scaling group of each named group (see seed-images.ts); then the proxy's trust table, so
 * AssumeRole through the proxy needs the ExternalId.
 * Idempotent: existing roles, stacks, images, templates and groups are left as they are; secrets are
 * made to agree with Vault.
 */
export async function seedLocalStack(
  cfg: StackConfig,
  accounts: FleetAccount[],
  progress?: SeedProgress,
  concurrency = 16,
): Promise<void> {
  // One connection pool for every client: thousands of accounts must not mean thousands of sockets.
  const requestHandler = new NodeHttpHandler({ httpAgent: new Agent({ keepAlive: true, maxSockets: concurrency }) });
  const common = { endpoint: cfg.motoUrl, maxAttempts: 5, requestHandler };
  const sts = new STSClient({ ...common, region: 'us-east-1', credentials: ADMIN_CREDENTIALS });
  const trust: Array<{ roleArn: string; externalId: string }> = [];
  const assume = async (roleArn: string) => {
    const c = (await sts.send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'fleetops-seed' })))
      .Credentials!;
    return { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! };
  };
  // The image account(s) first: every account's launch template starts on their base images.
  const baseImages = new Map<string, BaseImages>();
  for (const image of imageAccountsOf(accounts)) {
    const { externalId } = await ensureExternalId(cfg, image.externalIdRef);
    trust.push({ roleArn: image.roleArn, externalId });
    const credentials = await assume(image.roleArn);
    await createRole(new IAMClient({ ...common, region: 'us-east-1', credentials }), image, externalId);
    const ec2In = (region: string) => new EC2Client({ ...common, region, credentials });
    baseImages.set(image.id, await ensureBaseImages(ec2In, baseImageRegions(accounts, image.id)));
  }
  let done = 0;
  await mapPool(accounts, concurrency, async (account) => {
    const { externalId, version: externalIdVersion } = await ensureExternalId(cfg, account.externalIdRef);
    trust.push({ roleArn: account.roleArn, externalId });
    const assumed = await sts.send(
      new AssumeRoleCommand({ RoleArn: account.roleArn, RoleSessionName: 'fleetops-seed' }),
    );
    const c = assumed.Credentials!;
    const credentials = {
      accessKeyId: c.AccessKeyId!,
      secretAccessKey: c.SecretAccessKey!,
      sessionToken: c.SessionToken!,
    };
    const iam = new IAMClient({ ...common, region: 'us-east-1', credentials });
    await createRole(iam, account, externalId);
    const secretsManagerIn = (region: string) => secretsManager(cfg.motoUrl, region, credentials);
    await Promise.all([
      (async () => {
        for (const region of account.regions) {
          const cfn = new CloudFormationClient({ ...common, region, credentials });
          await createPipelineStack(cfn, account);
          await createHealthAlarm(new CloudWatchClient({ ...common, region, credentials }), account);
        }
      })(),
      seedAccountSecrets({ cfg, iam, secretsManager: secretsManagerIn }, account, externalIdVersion),
      account.imageAccount && baseImages.has(account.imageAccount.id)
        ? seedAccountGroups(common, credentials, account, baseImages.get(account.imageAccount.id)!)
        : undefined,
    ]);
    progress?.(++done, accounts.length);
  }).finally(() => requestHandler.destroy());
  for (let i = 0; i < trust.length; i += 1000) await putTrust(cfg, trust.slice(i, i + 1000));
}

async function createRole(iam: IAMClient, account: Pick<FleetAccount, 'roleArn'>, externalId: string): Promise<void> {
  const roleName = account.roleArn.split('/').pop()!;
  try {
    await iam.send(
      new CreateRoleCommand({
        RoleName: roleName,
        AssumeRolePolicyDocument: executionRoleTrustPolicy(FLEETOPS_HOME_ACCOUNT, externalId),
      }),
    );
  } catch (err) {
    if (!/^EntityAlreadyExists/.test((err as Error).name)) throw err; // seeded before: keep it
  }
}

async function createPipelineStack(cfn: CloudFormationClient, account: FleetAccount): Promise<void> {
  try {
    await cfn.send(new DescribeStacksCommand({ StackName: account.pipeline.stackName }));
    return; // already seeded
  } catch (err) {
    if (!/does not exist/.test((err as Error).message)) throw err;
  }
  await cfn.send(
    new CreateStackCommand({
      StackName: account.pipeline.stackName,
      TemplateBody: PIPELINE_TEMPLATE,
      Parameters: [{ ParameterKey: PIPELINE_VERSION_PARAMETER, ParameterValue: account.pipeline.version }],
      Tags: [{ Key: 'fleetops:customer', Value: account.customer }],
    }),
  );
}

/** The pipeline's health alarm, in state OK (PutMetricAlarm is idempotent). */
async function createHealthAlarm(cw: CloudWatchClient, account: FleetAccount): Promise<void> {
  await cw.send(
    new PutMetricAlarmCommand({
      AlarmName: healthAlarmName(account.pipeline.stackName),
      Namespace: 'FleetOps/Pipeline',
      MetricName: 'FailedRecords',
      Statistic: 'Sum',
      Period: 60,
      EvaluationPeriods: 1,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    }),
  );
}

/** Reads the account's ExternalId (and its KV version) from Vault, creating a random one if there is none. */
export async function ensureExternalId(
  cfg: StackConfig,
  ref: string,
): Promise<{ externalId: string; version: number }> {
  const existing = await kvRead(cfg, ref);
  if (typeof existing?.data.externalId === 'string' && existing.data.externalId !== '') {
    return { externalId: existing.data.externalId, version: existing.version };
  }
  const externalId = generateSecretValue(EXTERNAL_ID_FORMAT, randomBytes);
  const written = await kvWrite(cfg, ref, { externalId }, existing?.version ?? 0);
  if (written === 'cas-mismatch') return ensureExternalId(cfg, ref); // another seeder wrote it first
  return { externalId, version: written.version };
}

/** Writes an account's ExternalId to Vault (KV v2). */
export async function writeExternalId(cfg: StackConfig, ref: string, externalId: string): Promise<string> {
  const res = await fetch(`${cfg.vaultAddr}/v1/${ref}`, {
    method: 'POST',
    headers: { 'X-Vault-Token': cfg.vaultDevToken, 'Content-Type': 'application/json' },
    body: JSON.stringify({ data: { externalId } }),
  });
  if (!res.ok) throw new Error(`Vault ${ref}: write failed with HTTP ${res.status}`);
  return externalId;
}

async function putTrust(cfg: StackConfig, entries: Array<{ roleArn: string; externalId: string }>): Promise<void> {
  const res = await fetch(`${cfg.awsEndpoint}/__fleetops/trust`, {
    method: 'PUT',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ entries }),
  });
  if (!res.ok) throw new Error(`AWS proxy trust table update failed: HTTP ${res.status} ${await res.text()}`);
}
