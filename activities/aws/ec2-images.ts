/**
 * EC2 image calls for AMI rollouts, inside the rate budgets (family `ec2`): sharing an image from the
 * image account (launch permission) and checking, from inside a customer account, that it is visible.
 */
import {
  DescribeImageAttributeCommand,
  DescribeImagesCommand,
  DescribeSnapshotsCommand,
  ModifyImageAttributeCommand,
  type EC2Client,
  type LaunchPermission,
} from '@aws-sdk/client-ec2';
import type { AssumableAccount } from '../../fleet/fleet-schema';
import type { AccountAwsDeps } from './account-region';
import { callAws } from './aws-call';
import { FleetOpsError } from './errors';

/** Where an EC2 call acts: any assumable account (a customer account or the image account). */
export type Ec2Where = { account: AssumableAccount; region: string; runId: string };

export function ec2Client(deps: AccountAwsDeps, { account, region, runId }: Ec2Where): EC2Client {
  return deps.clients.ec2(region, deps.credentials.provider(account, runId), `${account.id}/${runId}`);
}

export function ec2Call<T>(deps: AccountAwsDeps, where: Ec2Where, api: string, send: () => Promise<T>): Promise<T> {
  return callAws(deps.limits, { family: 'ec2', api, region: where.region, accountId: where.account.id }, send);
}

/** Who a launch permission is for: an account, or (`defaults.imageSharing`) an organization or OU. */
export type SharePrincipal =
  | { kind: 'account'; accountId: string }
  | { kind: 'organization'; arn: string }
  | { kind: 'organizational-unit'; arn: string };

function asLaunchPermission(p: SharePrincipal): LaunchPermission {
  if (p.kind === 'account') return { UserId: p.accountId };
  if (p.kind === 'organization') return { OrganizationArn: p.arn };
  return { OrganizationalUnitArn: p.arn };
}

const samePermission = (a: LaunchPermission, b: LaunchPermission) =>
  (a.UserId ?? '') === (b.UserId ?? '') &&
  (a.OrganizationArn ?? '') === (b.OrganizationArn ?? '') &&
  (a.OrganizationalUnitArn ?? '') === (b.OrganizationalUnitArn ?? '');

/** The image's launch permissions (in the image account). */
export async function imageLaunchPermissions(
  deps: AccountAwsDeps,
  req: Ec2Where & { imageId: string },
): Promise<LaunchPermission[]> {
  const ec2 = ec2Client(deps, req);
  const attr = await ec2Call(deps, req, 'DescribeImageAttribute', () =>
    ec2.send(new DescribeImageAttributeCommand({ ImageId: req.imageId, Attribute: 'launchPermission' })),
  );
  return attr.LaunchPermissions ?? [];
}

/**
 * Gives `principal` launch permission on `imageId` (in the image account). Idempotent: the launch
 * permissions are read first; a principal already listed is not added again.
 */
export async function shareImage(
  deps: AccountAwsDeps,
  req: Ec2Where & { imageId: string; principal: SharePrincipal },
): Promise<{ alreadyShared: boolean }> {
  const wanted = asLaunchPermission(req.principal);
  if ((await imageLaunchPermissions(deps, req)).some((p) => samePermission(p, wanted))) return { alreadyShared: true };
  const ec2 = ec2Client(deps, req);
  await ec2Call(deps, req, 'ModifyImageAttribute', () =>
    ec2.send(new ModifyImageAttributeCommand({ ImageId: req.imageId, LaunchPermission: { Add: [wanted] } })),
  );
  return { alreadyShared: false };
}

/**
 * The KMS keys of the image's encrypted EBS snapshots, read in the image account (its own image):
 * DescribeImages for the snapshots, DescribeSnapshots for their `KmsKeyId`. None for an unencrypted image.
 */
export async function imageSnapshotKeys(deps: AccountAwsDeps, req: Ec2Where & { imageId: string }): Promise<string[]> {
  const ec2 = ec2Client(deps, req);
  const out = await ec2Call(deps, req, 'DescribeImages', () =>
    ec2.send(new DescribeImagesCommand({ ImageIds: [req.imageId] })),
  );
  const snapshotIds = (out.Images?.[0]?.BlockDeviceMappings ?? [])
    .filter((m) => m.Ebs?.Encrypted && m.Ebs.SnapshotId)
    .map((m) => m.Ebs!.SnapshotId!);
  if (snapshotIds.length === 0) return [];
  const snaps = await ec2Call(deps, req, 'DescribeSnapshots', () =>
    ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: snapshotIds })),
  );
  return [...new Set((snaps.Snapshots ?? []).map((s) => s.KmsKeyId).filter((k): k is string => !!k))].sort();
}

export type VisibleImage =
  { found: true; imageId: string; state: string; name?: string; encrypted?: true } | { found: false };

/** The image as the account sees it (its own or shared with it); `found: false` when it cannot see it. */
export async function describeImage(deps: AccountAwsDeps, req: Ec2Where & { imageId: string }): Promise<VisibleImage> {
  const ec2 = ec2Client(deps, req);
  try {
    const out = await ec2Call(deps, req, 'DescribeImages', () =>
      ec2.send(new DescribeImagesCommand({ ImageIds: [req.imageId] })),
    );
    const image = out.Images?.find((i) => i.ImageId === req.imageId);
    if (!image) return { found: false };
    return {
      found: true,
      imageId: req.imageId,
      state: image.State ?? 'unknown',
      ...(image.Name ? { name: image.Name } : {}),
      ...((image.BlockDeviceMappings ?? []).some((m) => m.Ebs?.Encrypted) ? { encrypted: true as const } : {}),
    };
  } catch (err) {
    if (err instanceof FleetOpsError && err.context.awsCode?.startsWith('InvalidAMIID')) return { found: false };
    throw err;
  }
}
