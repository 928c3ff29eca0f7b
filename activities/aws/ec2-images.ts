/**
 * EC2 image calls for AMI rollouts, inside the rate budgets (family `ec2`): sharing an image from the
 * image account (launch permission) and checking, from inside a customer account, that it is visible.
 */
import {
  DescribeImageAttributeCommand,
  DescribeImagesCommand,
  ModifyImageAttributeCommand,
  type EC2Client,
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

/**
 * Gives `consumerAccountId` launch permission on `imageId` (in the image account). Idempotent: the
 * launch permissions are read first; an account already listed is not added again.
 */
export async function shareImage(
  deps: AccountAwsDeps,
  req: Ec2Where & { imageId: string; consumerAccountId: string },
): Promise<{ alreadyShared: boolean }> {
  const ec2 = ec2Client(deps, req);
  const attr = await ec2Call(deps, req, 'DescribeImageAttribute', () =>
    ec2.send(new DescribeImageAttributeCommand({ ImageId: req.imageId, Attribute: 'launchPermission' })),
  );
  if ((attr.LaunchPermissions ?? []).some((p) => p.UserId === req.consumerAccountId)) return { alreadyShared: true };
  await ec2Call(deps, req, 'ModifyImageAttribute', () =>
    ec2.send(
      new ModifyImageAttributeCommand({
        ImageId: req.imageId,
        LaunchPermission: { Add: [{ UserId: req.consumerAccountId }] },
      }),
    ),
  );
  return { alreadyShared: false };
}

export type VisibleImage = { found: true; imageId: string; state: string; name?: string } | { found: false };

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
    };
  } catch (err) {
    if (err instanceof FleetOpsError && err.context.awsCode?.startsWith('InvalidAMIID')) return { found: false };
    throw err;
  }
}
