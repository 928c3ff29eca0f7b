/**
 * KMS for sharing encrypted AMIs, inside the rate budgets (family `kms`): in the image account, a grant
 * on the key of the image's snapshots for a consumer account (looked up by its deterministic name first,
 * so a retry or a second campaign never makes another); from inside the consumer account, whether the
 * key is usable there (DescribeKey on the key ARN: allowed by the grant, and the key Enabled).
 */
import {
  CreateGrantCommand,
  DescribeKeyCommand,
  ListGrantsCommand,
  type GrantListEntry,
  type KMSClient,
} from '@aws-sdk/client-kms';
import { ErrorType } from '../../fleet/error-types';
import type { AccountAwsDeps } from './account-region';
import { callAws } from './aws-call';
import { FleetOpsError } from './errors';
import type { Ec2Where } from './ec2-images';

/** What a consumer account may do with the image key: what launching an encrypted AMI (EBS, Auto Scaling) needs. */
export const IMAGE_KEY_GRANT_OPERATIONS = [
  'Decrypt',
  'DescribeKey',
  'CreateGrant',
  'GenerateDataKeyWithoutPlaintext',
  'ReEncryptFrom',
  'ReEncryptTo',
] as const;

/** The grant's name: one per (consumer account, key), the same in every campaign, so it is found, not repeated. */
export const imageKeyGrantName = (consumerAccountId: string) => `fleetops-ami-launch-${consumerAccountId}`;

const rootOf = (accountId: string, keyArn: string) => `arn:${keyArn.split(':')[1] ?? 'aws'}:iam::${accountId}:root`;

function kmsClient(deps: AccountAwsDeps, { account, region, runId }: Ec2Where): KMSClient {
  return deps.clients.kms(region, deps.credentials.provider(account, runId), `${account.id}/${runId}`);
}

function kmsCall<T>(deps: AccountAwsDeps, where: Ec2Where, api: string, send: () => Promise<T>): Promise<T> {
  return callAws(deps.limits, { family: 'kms', api, region: where.region, accountId: where.account.id }, send);
}

/** Every grant on the key (all pages). */
async function grantsOf(deps: AccountAwsDeps, where: Ec2Where, keyArn: string): Promise<GrantListEntry[]> {
  const kms = kmsClient(deps, where);
  const out: GrantListEntry[] = [];
  let marker: string | undefined;
  do {
    const page = await kmsCall(deps, where, 'ListGrants', () =>
      kms.send(new ListGrantsCommand({ KeyId: keyArn, ...(marker ? { Marker: marker } : {}) })),
    );
    out.push(...(page.Grants ?? []));
    marker = page.Truncated ? page.NextMarker : undefined;
  } while (marker);
  return out;
}

/**
 * The grant for `consumerAccountId` on `keyArn` (in the image account, `where`): found by its name and
 * grantee, else created with that name. Returns its id and whether it was created now.
 */
export async function ensureImageKeyGrant(
  deps: AccountAwsDeps,
  where: Ec2Where & { keyArn: string; consumerAccountId: string },
): Promise<{ grantId: string; created: boolean }> {
  const name = imageKeyGrantName(where.consumerAccountId);
  const grantee = rootOf(where.consumerAccountId, where.keyArn);
  const existing = (await grantsOf(deps, where, where.keyArn)).find(
    (g) => g.Name === name && g.GranteePrincipal === grantee,
  );
  if (existing?.GrantId) return { grantId: existing.GrantId, created: false };
  const kms = kmsClient(deps, where);
  const made = await kmsCall(deps, where, 'CreateGrant', () =>
    kms.send(
      new CreateGrantCommand({
        KeyId: where.keyArn,
        GranteePrincipal: grantee,
        Operations: [...IMAGE_KEY_GRANT_OPERATIONS],
        Name: name,
      }),
    ),
  );
  return { grantId: made.GrantId ?? '', created: true };
}

/** The key as the image account sees it: whether AWS or the customer manages it (AWS-managed keys cannot be shared). */
export async function describeImageKey(
  deps: AccountAwsDeps,
  where: Ec2Where & { keyArn: string },
): Promise<{ arn: string; keyManager: string; keyState: string }> {
  const kms = kmsClient(deps, where);
  const out = await kmsCall(deps, where, 'DescribeKey', () =>
    kms.send(new DescribeKeyCommand({ KeyId: where.keyArn })),
  );
  return {
    arn: out.KeyMetadata?.Arn ?? where.keyArn,
    keyManager: out.KeyMetadata?.KeyManager ?? 'CUSTOMER',
    keyState: out.KeyMetadata?.KeyState ?? 'Unknown',
  };
}

/**
 * How long a refusal may be a new grant not yet in effect: KMS grants are eventually consistent (AWS:
 * up to about five minutes; usually seconds). The check asks again every {@link GRANT_RETRY_MS} until
 * then, inside the verify activity's two-minute limit.
 */
export const GRANT_PROPAGATION_MS = 90_000;
const GRANT_RETRY_MS = 10_000;

/**
 * From inside the consumer account (`where`): can it use the key? DescribeKey on the ARN must be allowed
 * (the grant; a refusal is asked again for {@link GRANT_PROPAGATION_MS}) and the key Enabled. A lasting
 * refusal or another state → ImageKeyNotUsable, naming key and state.
 */
export async function checkImageKeyUsable(
  deps: AccountAwsDeps,
  where: Ec2Where & { keyArn: string; imageId: string },
  wait: { propagationMs: number; retryMs: number } = { propagationMs: GRANT_PROPAGATION_MS, retryMs: GRANT_RETRY_MS },
): Promise<{ keyState: string }> {
  const kms = kmsClient(deps, where);
  const deadline = Date.now() + wait.propagationMs;
  let keyState: string;
  for (;;) {
    try {
      const out = await kmsCall(deps, where, 'DescribeKey', () =>
        kms.send(new DescribeKeyCommand({ KeyId: where.keyArn })),
      );
      keyState = out.KeyMetadata?.KeyState ?? 'Unknown';
      break;
    } catch (err) {
      const refused =
        err instanceof FleetOpsError &&
        (err.name === ErrorType.AccountAccessDenied || err.name === ErrorType.AwsRequestRejected);
      if (!refused) throw err;
      if (Date.now() + wait.retryMs <= deadline) {
        await new Promise((r) => setTimeout(r, wait.retryMs));
        continue;
      }
      throw new FleetOpsError(
        ErrorType.ImageKeyNotUsable,
        `image ${where.imageId}: account ${where.account.id} cannot use its KMS key ${where.keyArn} in ${where.region} ` +
          `(${err.context.awsCode ?? err.name}): the image account's grant for the account is missing or was revoked`,
        { accountId: where.account.id, region: where.region, api: 'kms:DescribeKey', awsCode: err.context.awsCode },
      );
    }
  }
  if (keyState !== 'Enabled')
    throw new FleetOpsError(
      ErrorType.ImageKeyNotUsable,
      `image ${where.imageId}: its KMS key ${where.keyArn} is ${keyState}, not Enabled, seen from account ${where.account.id} in ${where.region}`,
      { accountId: where.account.id, region: where.region, api: 'kms:DescribeKey' },
    );
  return { keyState };
}
