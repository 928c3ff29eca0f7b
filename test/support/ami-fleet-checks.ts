/**
 * What the AMI rollout tests read and prepare on the local stack: image releases (`sim image build` +
 * `image publish`), the proxy's instance refresh ledger, and each group's launch template state as the
 * account sees it (the group's version, the template's default version, the image of the group's version).
 */
import path from 'node:path';
import { AutoScalingClient, DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeLaunchTemplatesCommand, DescribeLaunchTemplateVersionsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { runImagePublish } from '../../cli/commands/image';
import { runSimImageBuild } from '../../cli/sim/sim-image-build';
import { SIM_GROUP_NAME } from '../../cli/sim/simulated-fleet';
import { resolveAutoScalingGroups } from '../../fleet/fleet-images';
import type { FleetAccount } from '../../fleet/fleet-schema';
import type { StackConfig } from '../../stack/stack-config';
import { accountCredentials, type AccountCredentialsValue } from './account-access';
import { proxyAdmin } from './proxy-admin';

/** `GET /__fleetops/autoscaling/refreshes` (docs/aws-proxy-ec2-autoscaling.md). */
export type RefreshLedger = {
  refreshes: Array<{
    account: string;
    region: string;
    groupName: string;
    instanceRefreshId: string;
    startedBy: string;
    status: string;
    percentageComplete: number;
    desired: { version: string; imageId?: string } | null;
  }>;
  starts: Array<{ account: string; region: string; groupName: string; starts: number }>;
};

export async function refreshLedger(cfg: StackConfig): Promise<RefreshLedger> {
  return (await proxyAdmin<RefreshLedger>(cfg.awsEndpoint, 'GET', 'autoscaling/refreshes')).json;
}

/** `GET /__fleetops/ec2`: launch permissions added/removed, launch template ClientTokens seen. */
export type Ec2Ledger = {
  shares: Array<{
    ownerAccount: string;
    region: string;
    imageId: string;
    userId: string;
    active: boolean;
    adds: number;
    removes: number;
  }>;
  launchTemplateVersions: { clientTokens: number; replays: number; mismatches: number };
};

export async function ec2Ledger(cfg: StackConfig): Promise<Ec2Ledger> {
  return (await proxyAdmin<Ec2Ledger>(cfg.awsEndpoint, 'GET', 'ec2')).json;
}

/** One group the fleet file names (by name) for an account. */
export type NamedGroup = { account: FleetAccount; region: string; groupName: string };

/** `account region group`: how ledger entries and expectations are matched. */
export const groupKey = (account: string, region: string, groupName: string) => `${account} ${region} ${groupName}`;

/** Every group the fleet file names for these accounts, by name (tag-selected entries are not expanded). */
export function namedGroupsOf(accounts: readonly FleetAccount[]): NamedGroup[] {
  return accounts.flatMap((account) =>
    resolveAutoScalingGroups(account).flatMap((t) =>
      t.by === 'name' ? [{ account, region: t.region, groupName: t.name }] : [],
    ),
  );
}

/** Builds and publishes an image release beside `fleetFile` (its manifest in `dir`); returns its AMI per region. */
export async function publishRelease(dir: string, fleetFile: string, name: string): Promise<Record<string, string>> {
  const built = await runSimImageBuild({
    name,
    fleet: fleetFile,
    manifest: path.join(dir, `${name}.json`),
    quiet: true,
  });
  await runImagePublish({ manifest: built.manifest, name, fleet: fleetFile, quiet: true });
  return Object.fromEntries(built.images.map((i) => [i.region, i.imageId]));
}

/** A group's launch template as the account sees it. */
export type GroupState = { version: string; defaultVersion: number; imageId?: string };

/**
 * The group's launch template version (as the group has it), the template's default version and, with
 * `withImage`, the image of the group's version. Credentials may be passed to save an AssumeRole per group.
 */
export async function groupState(
  cfg: StackConfig,
  account: FleetAccount,
  region: string,
  opts: { groupName?: string; withImage?: boolean; credentials?: AccountCredentialsValue } = {},
): Promise<GroupState> {
  const groupName = opts.groupName ?? SIM_GROUP_NAME;
  const credentials = opts.credentials ?? (await accountCredentials(cfg, account));
  const clientOptions = { endpoint: cfg.awsEndpoint, region, credentials, maxAttempts: 10 };
  const asg = new AutoScalingClient(clientOptions);
  const ec2 = new EC2Client(clientOptions);
  try {
    const g = (await asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [groupName] })))
      .AutoScalingGroups?.[0];
    if (!g?.LaunchTemplate?.LaunchTemplateId || !g.LaunchTemplate.Version)
      throw new Error(`account ${account.id} ${region}: group ${groupName} is missing or has no launch template`);
    const { LaunchTemplateId, Version } = g.LaunchTemplate;
    const lt = (await ec2.send(new DescribeLaunchTemplatesCommand({ LaunchTemplateIds: [LaunchTemplateId] })))
      .LaunchTemplates![0];
    const state: GroupState = { version: Version, defaultVersion: lt.DefaultVersionNumber! };
    if (opts.withImage) {
      const v = await ec2.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId, Versions: [Version] }));
      state.imageId = v.LaunchTemplateVersions?.[0]?.LaunchTemplateData?.ImageId;
    }
    return state;
  } finally {
    asg.destroy();
    ec2.destroy();
  }
}

/** Every version of a group's launch template, as the account sees it. */
export type TemplateVersions = GroupState & {
  /** Every version number of the group's launch template, ascending. */
  versions: number[];
  /** The image of each version, by number. */
  images: Record<number, string | undefined>;
};

/** groupState of the simulated group plus every version of its launch template (duplicates show here). */
export async function templateVersions(
  cfg: StackConfig,
  account: FleetAccount,
  region: string,
): Promise<TemplateVersions> {
  const credentials = await accountCredentials(cfg, account);
  const state = await groupState(cfg, account, region, { credentials });
  const ec2 = new EC2Client({ endpoint: cfg.awsEndpoint, region, credentials, maxAttempts: 10 });
  try {
    const asg = new AutoScalingClient({ endpoint: cfg.awsEndpoint, region, credentials, maxAttempts: 10 });
    const g = (await asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [SIM_GROUP_NAME] })))
      .AutoScalingGroups?.[0];
    asg.destroy();
    const all = (
      await ec2.send(
        new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: g?.LaunchTemplate?.LaunchTemplateId }),
      )
    ).LaunchTemplateVersions;
    return {
      ...state,
      versions: (all ?? []).map((v) => v.VersionNumber ?? 0).sort((a, b) => a - b),
      images: Object.fromEntries((all ?? []).map((v) => [v.VersionNumber ?? 0, v.LaunchTemplateData?.ImageId])),
    };
  } finally {
    ec2.destroy();
  }
}
