/**
 * The execution role's trust policy in a customer account (GetRole / UpdateAssumeRolePolicy), inside
 * the rate budgets (family `iam`). fleetops edits the policy of the role it assumes: the role needs
 * `iam:GetRole` and `iam:UpdateAssumeRolePolicy` on itself (README, "Secret rotation": external-id).
 */
import { GetRoleCommand, UpdateAssumeRolePolicyCommand, type IAMClient } from '@aws-sdk/client-iam';
import type { FleetAccount } from '../../fleet/fleet-schema';
import type { AccountAwsDeps } from './account-region';
import { callAws } from './aws-call';

export type RoleCall = { account: FleetAccount; runId: string };

const IAM_REGION = 'us-east-1';

function client(deps: AccountAwsDeps, { account, runId }: RoleCall): IAMClient {
  return deps.clients.iam(deps.credentials.provider(account, runId), `${account.id}/${runId}`);
}

/** The role's name: the last segment of its ARN (paths allowed). */
export function roleNameOf(roleArn: string): string {
  return roleArn.slice(roleArn.lastIndexOf('/') + 1);
}

/** GetRole: the execution role's trust policy document (decoded JSON text). */
export async function readTrustPolicy(deps: AccountAwsDeps, req: RoleCall): Promise<string> {
  const iam = client(deps, req);
  const out = await callAws(
    deps.limits,
    { family: 'iam', api: 'GetRole', region: IAM_REGION, accountId: req.account.id },
    () => iam.send(new GetRoleCommand({ RoleName: roleNameOf(req.account.roleArn) })),
  );
  const encoded = out.Role?.AssumeRolePolicyDocument ?? '';
  // AWS returns the document URL-encoded.
  return encoded.startsWith('{') ? encoded : decodeURIComponent(encoded);
}

/** UpdateAssumeRolePolicy: replaces the execution role's trust policy. */
export async function writeTrustPolicy(deps: AccountAwsDeps, req: RoleCall & { document: string }): Promise<void> {
  const iam = client(deps, req);
  await callAws(
    deps.limits,
    { family: 'iam', api: 'UpdateAssumeRolePolicy', region: IAM_REGION, accountId: req.account.id },
    () =>
      iam.send(
        new UpdateAssumeRolePolicyCommand({ RoleName: roleNameOf(req.account.roleArn), PolicyDocument: req.document }),
      ),
  );
}
