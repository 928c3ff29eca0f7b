/**
 * What an AMI rollout left in a simulated account, read the way an operator would (the account's own
 * credentials through the proxy): the group's launch template version, the template's default version
 * and every version the template has; and the proxy's ledgers of refreshes, shares and launch template
 * ClientTokens.
 */
import { AutoScalingClient, DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeLaunchTemplateVersionsCommand, DescribeLaunchTemplatesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { SIM_GROUP_NAME } from '../../cli/sim/simulated-fleet';
import type { FleetAccount } from '../../fleet/fleet-schema';
import type { StackConfig } from '../../stack/stack-config';
import { accountCredentials } from './account-access';
import { proxyAdmin } from './proxy-admin';

export type SimGroupState = {
  /** The launch template version the group launches from, as the group has it (`"2"`). */
  version: string;
  defaultVersion: number;
  /** Every version number of the group's launch template, ascending. */
  versions: number[];
  /** The image of each version, by number. */
  images: Record<number, string | undefined>;
};

/** The simulated group `data-pipeline-workers` of `account` in `region`, with its launch template. */
export async function simGroupState(cfg: StackConfig, account: FleetAccount, region: string): Promise<SimGroupState> {
  const credentials = await accountCredentials(cfg, account);
  const asg = new AutoScalingClient({ endpoint: cfg.awsEndpoint, region, credentials });
  const group = (await asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [SIM_GROUP_NAME] })))
    .AutoScalingGroups?.[0];
  const lt = group?.LaunchTemplate;
  if (!lt?.LaunchTemplateId) throw new Error(`${account.id} ${region}: group ${SIM_GROUP_NAME} has no launch template`);
  const ec2 = new EC2Client({ endpoint: cfg.awsEndpoint, region, credentials });
  const template = (await ec2.send(new DescribeLaunchTemplatesCommand({ LaunchTemplateIds: [lt.LaunchTemplateId] })))
    .LaunchTemplates?.[0];
  const all = (await ec2.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: lt.LaunchTemplateId })))
    .LaunchTemplateVersions;
  const versions = (all ?? []).map((v) => v.VersionNumber ?? 0).sort((a, b) => a - b);
  return {
    version: lt.Version ?? '',
    defaultVersion: template?.DefaultVersionNumber ?? 0,
    versions,
    images: Object.fromEntries((all ?? []).map((v) => [v.VersionNumber ?? 0, v.LaunchTemplateData?.ImageId])),
  };
}

export type RefreshLedger = {
  refreshes: Array<{
    account: string;
    region: string;
    groupName: string;
    instanceRefreshId: string;
    startedBy: string;
    status: string;
    percentageComplete: number;
  }>;
  starts: Array<{ account: string; region: string; groupName: string; starts: number }>;
};

/** The proxy's instance refresh ledger (`starts` counts refreshes started per group). */
export async function refreshLedger(cfg: StackConfig): Promise<RefreshLedger> {
  return (await proxyAdmin<RefreshLedger>(cfg.awsEndpoint, 'GET', 'autoscaling/refreshes')).json;
}

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

/** The proxy's EC2 ledger: launch permissions added/removed, launch template ClientTokens seen. */
export async function ec2Ledger(cfg: StackConfig): Promise<Ec2Ledger> {
  return (await proxyAdmin<Ec2Ledger>(cfg.awsEndpoint, 'GET', 'ec2')).json;
}
