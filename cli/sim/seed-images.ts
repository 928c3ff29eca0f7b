/**
 * The AMI rollout part of the simulated fleet: the image account (ExternalId, execution role) with a
 * base image per region, and per account and region the launch template (version 1 on the base image)
 * and the Auto Scaling group using it at that numbered version. Straight in moto (like the rest of the
 * seed: fast); `sim image build` goes through the proxy. Idempotent: what exists is kept as it is.
 *
 * Groups are kept empty (MinSize 0, DesiredCapacity 0, MaxSize 1): moto would hold a fake instance per
 * group, and the proxy's instance refresh changes the group's launch template without replacing any.
 */
import {
  CreateLaunchTemplateCommand,
  CreateTagsCommand,
  DeregisterImageCommand,
  DescribeImagesCommand,
  EC2Client,
  RegisterImageCommand,
} from '@aws-sdk/client-ec2';
import {
  AutoScalingClient,
  CreateAutoScalingGroupCommand,
  DescribeAutoScalingGroupsCommand,
} from '@aws-sdk/client-auto-scaling';
import type { NodeHttpHandler } from '@smithy/node-http-handler';
import type { AwsCredentialIdentity } from '@smithy/types';
import { resolveAutoScalingGroups } from '../../fleet/fleet-images';
import type { FleetAccount, ImageAccount } from '../../fleet/fleet-schema';
import { SIM_BASE_IMAGE_NAME, SIM_GROUP_TAG } from './simulated-fleet';

/** SDK client options shared by the seed (endpoint, connection pool, retries). */
export type SeedClientOptions = { endpoint: string; maxAttempts: number; requestHandler: NodeHttpHandler };

/** The base image of each region (region → AMI id) in the image account. */
export type BaseImages = Record<string, string>;

/** The instance type of the seeded launch templates. */
export const SIM_INSTANCE_TYPE = 't3.micro';

/** The image accounts of the accounts that have groups (normally exactly one per fleet file). */
export function imageAccountsOf(accounts: readonly FleetAccount[]): ImageAccount[] {
  const byId = new Map<string, ImageAccount>();
  for (const a of accounts)
    if (a.imageAccount && resolveAutoScalingGroups(a).length > 0) byId.set(a.imageAccount.id, a.imageAccount);
  return [...byId.values()];
}

/** Regions where some account has a group of `imageAccount`'s fleet. */
export function baseImageRegions(accounts: readonly FleetAccount[], imageAccountId: string): string[] {
  const regions = new Set<string>();
  for (const a of accounts)
    if (a.imageAccount?.id === imageAccountId) for (const t of resolveAutoScalingGroups(a)) regions.add(t.region);
  return [...regions].sort();
}

/**
 * The base image of each region in the image account: found by name, else registered and tagged. Test
 * files seed in parallel, so two seeders may both register one: each then keeps the lowest image id
 * and deregisters its own if that is not it, so every later seed agrees on one base image.
 */
export async function ensureBaseImages(
  ec2In: (region: string) => EC2Client,
  regions: readonly string[],
): Promise<BaseImages> {
  const out: BaseImages = {};
  await Promise.all(
    regions.map(async (region) => {
      const ec2 = ec2In(region);
      const lowest = async () => {
        const found = await ec2.send(
          new DescribeImagesCommand({ Owners: ['self'], Filters: [{ Name: 'name', Values: [SIM_BASE_IMAGE_NAME] }] }),
        );
        return (found.Images ?? [])
          .map((i) => i.ImageId)
          .filter((id): id is string => Boolean(id))
          .sort()[0];
      };
      const existing = await lowest();
      if (existing) {
        out[region] = existing;
        return;
      }
      const registered = await ec2.send(
        new RegisterImageCommand({
          Name: SIM_BASE_IMAGE_NAME,
          Description: 'fleetops simulated base image (launch template version 1 of every simulated group)',
          Architecture: 'x86_64',
          RootDeviceName: '/dev/xvda',
          VirtualizationType: 'hvm',
        }),
      );
      const imageId = registered.ImageId!;
      await ec2.send(
        new CreateTagsCommand({ Resources: [imageId], Tags: [{ Key: 'fleetops:base-image', Value: 'true' }] }),
      );
      const chosen = (await lowest()) ?? imageId;
      if (chosen !== imageId) await ec2.send(new DeregisterImageCommand({ ImageId: imageId }));
      out[region] = chosen;
    }),
  );
  return out;
}

/**
 * The account's groups (those named in the fleet file; tag-selected entries select existing groups and
 * create none): per region a launch template of the same name, version 1 on the region's base image,
 * and the group on that template at version "1". An existing template or group is left as it is.
 */
export async function seedAccountGroups(
  clients: SeedClientOptions,
  credentials: AwsCredentialIdentity,
  account: FleetAccount,
  baseImages: BaseImages,
): Promise<void> {
  const byRegion = new Map<string, string[]>();
  for (const t of resolveAutoScalingGroups(account))
    if (t.by === 'name') byRegion.set(t.region, [...(byRegion.get(t.region) ?? []), t.name]);
  for (const [region, names] of byRegion) {
    const imageId = baseImages[region];
    if (!imageId) throw new Error(`seed: no base image in ${region} for account ${account.id}`);
    const common = { ...clients, region, credentials };
    const ec2 = new EC2Client(common);
    const asg = new AutoScalingClient(common);
    for (const name of names) {
      // A new template means a new group (two calls on a fresh stack); a template already there means
      // seeded before: keep the group if it exists (moto's CreateAutoScalingGroup would overwrite it).
      if (!(await createLaunchTemplate(ec2, name, imageId))) {
        const existing = await asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }));
        if ((existing.AutoScalingGroups ?? []).length > 0) continue;
      }
      await asg.send(
        new CreateAutoScalingGroupCommand({
          AutoScalingGroupName: name,
          LaunchTemplate: { LaunchTemplateName: name, Version: '1' },
          MinSize: 0,
          MaxSize: 1,
          DesiredCapacity: 0,
          AvailabilityZones: [`${region}a`],
          Tags: [
            {
              Key: SIM_GROUP_TAG.key,
              Value: SIM_GROUP_TAG.value,
              PropagateAtLaunch: true,
              ResourceId: name,
              ResourceType: 'auto-scaling-group',
            },
          ],
        }),
      );
    }
  }
}

/** Creates the template (version 1 on the base image); false when it already exists (kept as it is). */
async function createLaunchTemplate(ec2: EC2Client, name: string, imageId: string): Promise<boolean> {
  try {
    await ec2.send(
      new CreateLaunchTemplateCommand({
        LaunchTemplateName: name,
        VersionDescription: 'seeded: base image',
        LaunchTemplateData: { ImageId: imageId, InstanceType: SIM_INSTANCE_TYPE },
      }),
    );
    return true;
  } catch (err) {
    if (!/AlreadyExists/.test((err as Error).name)) throw err;
    return false; // seeded before: keep it (and its versions)
  }
}
