/**
 * The demo's AMI rollout step: two image releases built and published (`sim image build` → `image
 * publish`); the first is poisoned by the AWS proxy (every instance refresh to it fails at 25 % and
 * rolls back), so its campaign stops in the canary wave with the canaries' groups back on their
 * version N and no later-wave account touched; then the good release rolls through the fleet.
 * Refreshes in the proxy and the health bake are short, to keep the step to a few tens of seconds.
 */
import path from 'node:path';
import type { AccountAwsDeps } from '../../activities/aws/account-region';
import { describeTargetGroups } from '../../activities/aws/autoscaling';
import { resolveAutoScalingGroups } from '../../fleet/fleet-images';
import type { FleetAccount } from '../../fleet/fleet-schema';
import type { StackConfig } from '../../stack/stack-config';
import type { CampaignReport } from '../../workflows/campaign/fleet-campaign';
import { runSimImageBuild } from '../sim/sim-image-build';
import { runCampaignStart } from './campaign-start';
import { runImagePublish } from './image';

/** The proxy's instance refreshes: Pending this long, then 0 → 100 % in refreshDurationMs. */
const REFRESH = { pendingMs: 200, refreshDurationMs: 1000 };

export type DemoAmiOutcome = {
  poisonedCampaignId: string;
  goodCampaignId: string;
  /** Canary accounts with an instance refresh from the poisoned campaign (the fault really hit them). */
  canariesRefreshed: number;
  /** Some canary was refreshed, and every canary group is on the version it had before the poisoned campaign. */
  canaryBack: boolean;
  /** Accounts outside the canary wave with an instance refresh from the poisoned campaign (expected none). */
  touchedOutsideCanary: string[];
};

type GroupVersion = { accountId: string; region: string; groupName: string; version: string };
type RefreshLedger = { refreshes: Array<{ account: string }> };

export class DemoAmiRollout {
  private readonly stamp = new Date()
    .toISOString()
    .replace(/[-:.TZ]/g, '')
    .slice(0, 14);

  constructor(
    private readonly cfg: StackConfig,
    private readonly fleetFile: string,
    private readonly deps: AccountAwsDeps,
    private readonly say: (line: string) => void,
  ) {}

  async run(active: FleetAccount[]): Promise<DemoAmiOutcome> {
    const poisoned = `demo-ami-${this.stamp}-poisoned`;
    const good = `demo-ami-${this.stamp}-good`;
    const poisonedImages = await this.release(poisoned);
    await this.release(good);
    this.say(`    built and published ${poisoned} and ${good}; every instance refresh to ${poisoned} fails at 25 %`);
    const canaries = active.filter((a) => a.ring === 'canary');
    const before = await this.groupVersions(canaries);
    const touchedBefore = await this.refreshesPerAccount();
    await this.setFaults(Object.values(poisonedImages));
    const poisonedCampaignId = `demo-ami-poisoned-${this.stamp}`;
    try {
      await runCampaignStart({
        operation: 'ami-rollout',
        image: poisoned,
        fleet: this.fleetFile,
        campaignId: poisonedCampaignId,
        watch: true,
        maxInFlight: '50',
        failureBudget: '1',
        onBudget: 'cancel',
        healthBake: '1',
      });
    } finally {
      await this.setFaults([]);
    }
    const after = await this.groupVersions(canaries);
    const touchedAfter = await this.refreshesPerAccount();
    const canaryIds = new Set(canaries.map((a) => a.id));
    const canariesRefreshed = canaries.filter((a) => touchedAfter.get(a.id) !== touchedBefore.get(a.id)).length;
    const canaryBack =
      canariesRefreshed > 0 && before.length > 0 && before.every((g, i) => g.version === after[i]?.version);
    const touchedOutsideCanary = [...touchedAfter.keys()].filter(
      (id) => !canaryIds.has(id) && touchedAfter.get(id) !== touchedBefore.get(id),
    );
    this.say(
      canaryBack
        ? `    ✔ the canary wave's groups (${canariesRefreshed} of ${canaries.length} account(s) refreshed to the poisoned image) were rolled back to their version N: ${after.map((g) => `${g.accountId} ${g.region} ${g.groupName} on ${g.version}`).join(', ')}`
        : `    ✖ canary groups not back on N: before ${JSON.stringify(before)}, after ${JSON.stringify(after)}`,
    );
    this.say(
      touchedOutsideCanary.length === 0
        ? `    ✔ no later-wave account touched (no instance refresh outside the ${canaryIds.size} canary account(s))`
        : `    ✖ instance refreshes outside the canary wave: ${touchedOutsideCanary.join(', ')}`,
    );
    const goodCampaignId = `demo-ami-good-${this.stamp}`;
    this.say(`    now the good image ${good} through the fleet…`);
    try {
      await this.setFaults([]);
      await runCampaignStart({
        operation: 'ami-rollout',
        image: good,
        fleet: this.fleetFile,
        campaignId: goodCampaignId,
        watch: true,
        maxInFlight: '50',
        // like the demo's other campaigns: half a wave may fail (the window is the failures still allowed)
        failureBudget: '50%',
        healthBake: '0',
      });
    } finally {
      await fetch(`${this.cfg.awsEndpoint}/__fleetops/faults`, { method: 'DELETE' });
    }
    return { poisonedCampaignId, goodCampaignId, canariesRefreshed, canaryBack, touchedOutsideCanary };
  }

  /** `sim image build` + `image publish` of one release for the demo fleet; its AMI per region. */
  private async release(name: string): Promise<Record<string, string>> {
    const built = await runSimImageBuild({
      name,
      fleet: this.fleetFile,
      manifest: path.join(this.cfg.stateDir, `demo-ami-manifest.json`),
      quiet: true,
    });
    await runImagePublish({ manifest: built.manifest, name, fleet: this.fleetFile, quiet: true });
    return Object.fromEntries(built.images.map((i) => [i.region, i.imageId]));
  }

  /** Short refreshes, and refreshes to these images fail at 25 % (rolled back with AutoRollback). */
  private async setFaults(poisonedImageIds: string[]): Promise<void> {
    const res = await fetch(`${this.cfg.awsEndpoint}/__fleetops/faults`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        rules: [],
        autoscaling: {
          ...REFRESH,
          poisonedImages: poisonedImageIds.map((imageId) => ({ imageId, failAtPercent: 25 })),
        },
      }),
    });
    if (!res.ok) throw new Error(`AWS proxy refused the demo's fault plan: HTTP ${res.status} ${await res.text()}`);
  }

  /** The launch template version each group of the accounts is on, as AWS has it (account credentials). */
  private async groupVersions(accounts: FleetAccount[]): Promise<GroupVersion[]> {
    const out: GroupVersion[] = [];
    for (const account of accounts)
      for (const target of resolveAutoScalingGroups(account)) {
        const where = { account, region: target.region, runId: 'demo' };
        for (const g of await describeTargetGroups(this.deps, { ...where, target }))
          out.push({
            accountId: account.id,
            region: target.region,
            groupName: g.groupName,
            version: g.launchTemplate?.version ?? 'none',
          });
      }
    return out;
  }

  /** Instance refreshes per account in the proxy's ledger. */
  private async refreshesPerAccount(): Promise<Map<string, number>> {
    const res = await fetch(`${this.cfg.awsEndpoint}/__fleetops/autoscaling/refreshes`);
    if (!res.ok) throw new Error(`AWS proxy refresh ledger: HTTP ${res.status}`);
    const counts = new Map<string, number>();
    for (const r of ((await res.json()) as RefreshLedger).refreshes)
      counts.set(r.account, (counts.get(r.account) ?? 0) + 1);
    return counts;
  }
}

/** The good release's campaign completed with every selected account rolled out. */
export function everyAccountRolledOut(report: CampaignReport): boolean {
  const counts = Object.entries(report.counts).filter(([, n]) => (n ?? 0) > 0);
  return (
    report.phase === 'completed' &&
    report.problems.length === 0 &&
    counts.length > 0 &&
    counts.every(([state]) => state === 'rolled-out')
  );
}
