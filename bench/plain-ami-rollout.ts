/**
 * The AMI bench's baseline: one account's rollout as a plain script (no Temporal), making the same
 * calls as accountAmiRollout through the same activities — release resolved, image shared and verified
 * per region, every group snapshotted (numbered version N), then per group a version M with the image,
 * the instance refresh to it (waited for), the bake on its health alarm, and M the template's default.
 * Any other outcome than rolled-out is an error naming the account and group (the bench expects none).
 */
import type { AmiActivities, AmiRegionPlan, AmiTarget } from '../activities/ami/ami-activities';
import { groupHealthAlarm, launchTemplateVersionToken, pinnedVersion } from '../workflows/ami/ami-tokens';
import type { AmiParams } from '../workflows/ami/ami-params';

type PlainGroup = {
  region: string;
  groupName: string;
  launchTemplateId: string;
  fromVersion: number;
  imageId: string;
  toVersion?: number;
};

export class PlainAmiRollout {
  constructor(
    private readonly ami: AmiActivities,
    private readonly params: AmiParams,
    private readonly fleetFile: string,
    private readonly campaignId: string,
  ) {}

  /** Rolls the account's groups to the image release; returns how many groups moved. */
  async account(accountId: string): Promise<number> {
    const info = await this.ami.amiAccountInfo({ fleetFile: this.fleetFile, accountId, image: this.params.image });
    const groups: PlainGroup[] = [];
    for (const region of info.regions) groups.push(...(await this.prepareRegion(accountId, region)));
    for (const g of groups) await this.rollOutGroup(accountId, g);
    for (const g of groups) await this.setDefault(accountId, g);
    return groups.length;
  }

  private where(accountId: string, region: string): AmiTarget {
    return { fleetFile: this.fleetFile, accountId, region, runId: this.campaignId };
  }

  /** Share + verify the region's image, then the groups not yet on it (each on a numbered version). */
  private async prepareRegion(accountId: string, plan: AmiRegionPlan): Promise<PlainGroup[]> {
    const at = this.where(accountId, plan.region);
    await this.ami.shareImage({ ...at, imageId: plan.imageId });
    const seen = await this.ami.verifyImage({ ...at, imageId: plan.imageId });
    if (!seen.found || seen.state !== 'available')
      throw new Error(`plain: image ${plan.imageId} is not available in account ${accountId} ${plan.region}`);
    const groups: PlainGroup[] = [];
    for (const target of plan.targets) {
      for (const group of await this.ami.describeGroups({ ...at, target })) {
        const lt = group.launchTemplate;
        const fromVersion = lt ? pinnedVersion(lt.version) : undefined;
        if (!lt || fromVersion === undefined)
          throw new Error(
            `plain: account ${accountId} ${plan.region} group ${group.groupName} is not on a numbered version`,
          );
        const current = await this.ami.readLaunchTemplateVersion({
          ...at,
          launchTemplateId: lt.launchTemplateId,
          version: lt.version,
        });
        if (current.imageId === plan.imageId) continue;
        groups.push({
          region: plan.region,
          groupName: group.groupName,
          launchTemplateId: lt.launchTemplateId,
          fromVersion,
          imageId: plan.imageId,
        });
      }
    }
    return groups;
  }

  /** Version M, the refresh to it until it ends, then the bake. */
  private async rollOutGroup(accountId: string, g: PlainGroup): Promise<void> {
    const at = this.where(accountId, g.region);
    const { version } = await this.ami.ensureImageVersion({
      ...at,
      launchTemplateId: g.launchTemplateId,
      sourceVersion: g.fromVersion,
      imageId: g.imageId,
      clientToken: launchTemplateVersionToken(this.campaignId, accountId, g.region, g.groupName, 1),
    });
    g.toVersion = version;
    const started = await this.ami.startGroupRefresh({
      ...at,
      groupName: g.groupName,
      launchTemplateId: g.launchTemplateId,
      version,
      preferences: {
        minHealthyPercentage: this.params.minHealthyPercentage,
        checkpoints: this.params.checkpoints,
        autoRollback: true,
        alarm: groupHealthAlarm(g.groupName),
      },
    });
    if (started.kind === 'busy')
      throw new Error(`plain: account ${accountId} ${g.region} group ${g.groupName} has someone else's refresh`);
    const end = await this.ami.waitForRefresh({
      ...at,
      groupName: g.groupName,
      instanceRefreshId: started.instanceRefreshId,
    });
    if (end.status !== 'Successful')
      throw new Error(`plain: account ${accountId} ${g.region} group ${g.groupName}: refresh ended ${end.status}`);
    await this.bake(accountId, g);
  }

  /** The group's health alarm, checked every healthPollSeconds for healthBakeSeconds. */
  private async bake(accountId: string, g: PlainGroup): Promise<void> {
    const at = this.where(accountId, g.region);
    const bakeMs = this.params.healthBakeSeconds * 1000;
    const pollMs = this.params.healthPollSeconds * 1000;
    for (let waited = 0; ;) {
      const { alarms } = await this.ami.readGroupAlarms({ ...at, alarmNames: [groupHealthAlarm(g.groupName)] });
      if (alarms.some((a) => a.state === 'ALARM'))
        throw new Error(`plain: account ${accountId} ${g.region} group ${g.groupName}: health alarm in ALARM`);
      if (waited >= bakeMs) return;
      const next = Math.min(pollMs, bakeMs - waited);
      await new Promise((r) => setTimeout(r, next));
      waited += next;
    }
  }

  private async setDefault(accountId: string, g: PlainGroup): Promise<void> {
    if (g.toVersion === undefined) return;
    await this.ami.setDefaultLaunchTemplateVersion({
      ...this.where(accountId, g.region),
      launchTemplateId: g.launchTemplateId,
      version: g.toVersion,
    });
  }
}
