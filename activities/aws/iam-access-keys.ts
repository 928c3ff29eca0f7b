/**
 * IAM access-key calls in a customer account, inside the rate budgets (family `iam`). A new key's
 * secret comes back from createAccessKey only, for the caller to store in Vault at once: no function
 * here logs it or puts it into an error.
 */
import {
  CreateAccessKeyCommand,
  DeleteAccessKeyCommand,
  ListAccessKeysCommand,
  UpdateAccessKeyCommand,
  type IAMClient,
} from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import type { FleetAccount } from '../../fleet/fleet-schema';
import type { AccountAwsDeps } from './account-region';
import { callAws, type AwsCallOptions } from './aws-call';

/** One of a user's keys: id, status, creation time (epoch ms; 0 when AWS gave none). Never the secret. */
export type AccessKeyState = { accessKeyId: string; status: 'Active' | 'Inactive'; createdAt: number };
export type AccessKeyPair = { accessKeyId: string; secretAccessKey: string };

/** Which user's keys, in which account; `runId` names the role session. */
export type IamUserCall = { account: FleetAccount; runId: string; userName: string };

const IAM_REGION = 'us-east-1';

function client(deps: AccountAwsDeps, { account, runId }: IamUserCall): IAMClient {
  return deps.clients.iam(deps.credentials.provider(account, runId), `${account.id}/${runId}`);
}

function call<T>(
  deps: AccountAwsDeps,
  req: IamUserCall,
  api: string,
  send: () => Promise<T>,
  options?: AwsCallOptions,
): Promise<T> {
  return callAws(deps.limits, { family: 'iam', api, region: IAM_REGION, accountId: req.account.id }, send, options);
}

/** ListAccessKeys: the user's keys (at most two in AWS). */
export async function listAccessKeys(deps: AccountAwsDeps, req: IamUserCall): Promise<AccessKeyState[]> {
  const iam = client(deps, req);
  const out = await call(deps, req, 'ListAccessKeys', () =>
    iam.send(new ListAccessKeysCommand({ UserName: req.userName })),
  );
  return (out.AccessKeyMetadata ?? []).flatMap((k) =>
    k.AccessKeyId
      ? [
          {
            accessKeyId: k.AccessKeyId,
            status: k.Status === 'Active' ? ('Active' as const) : ('Inactive' as const),
            createdAt: k.CreateDate ? new Date(k.CreateDate).getTime() : 0,
          },
        ]
      : [],
  );
}

/** CreateAccessKey (not idempotent in AWS: the caller records the pair in Vault right after). */
export async function createAccessKey(deps: AccountAwsDeps, req: IamUserCall): Promise<AccessKeyPair> {
  const iam = client(deps, req);
  // One attempt only: a retried CreateAccessKey whose first answer was lost would make a second key.
  const out = await call(
    deps,
    req,
    'CreateAccessKey',
    () => iam.send(new CreateAccessKeyCommand({ UserName: req.userName })),
    { maxAttempts: 1, baseDelayMs: 0, maxDelayMs: 0 },
  );
  const key = out.AccessKey;
  if (!key?.AccessKeyId || !key.SecretAccessKey) throw new Error(`iam:CreateAccessKey for ${req.userName}: no key`);
  return { accessKeyId: key.AccessKeyId, secretAccessKey: key.SecretAccessKey };
}

/** UpdateAccessKey: sets a key Active or Inactive. */
export async function setAccessKeyStatus(
  deps: AccountAwsDeps,
  req: IamUserCall & { accessKeyId: string; status: 'Active' | 'Inactive' },
): Promise<void> {
  const iam = client(deps, req);
  await call(deps, req, 'UpdateAccessKey', () =>
    iam.send(new UpdateAccessKeyCommand({ UserName: req.userName, AccessKeyId: req.accessKeyId, Status: req.status })),
  );
}

/** DeleteAccessKey. */
export async function deleteAccessKey(deps: AccountAwsDeps, req: IamUserCall & { accessKeyId: string }): Promise<void> {
  const iam = client(deps, req);
  await call(deps, req, 'DeleteAccessKey', () =>
    iam.send(new DeleteAccessKeyCommand({ UserName: req.userName, AccessKeyId: req.accessKeyId })),
  );
}

/**
 * STS GetCallerIdentity signed with `pair`: the ARN it acts as. Errors are classified (a key AWS does
 * not accept yet is AccountAccessDenied); `options` lets the caller retry while a new key propagates.
 */
export async function callerArnWith(
  deps: AccountAwsDeps,
  req: { accountId: string; pair: AccessKeyPair },
  options?: AwsCallOptions,
): Promise<string | undefined> {
  const sts = deps.clients.stsAs({ accessKeyId: req.pair.accessKeyId, secretAccessKey: req.pair.secretAccessKey });
  // Not destroyed: the client shares the worker's connection pool (destroy would close it).
  const out = await callAws(
    deps.limits,
    { family: 'sts', api: 'GetCallerIdentity', region: IAM_REGION, accountId: req.accountId },
    () => sts.send(new GetCallerIdentityCommand({})),
    options,
  );
  return out.Arn;
}
