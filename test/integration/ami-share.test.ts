/**
 * The AMI rollout's share step on the real local stack (Temporal, moto + AWS proxy, OpenBao), for what
 * sharing needs beyond a launch permission: an image on snapshots encrypted with a customer managed key
 * (`sim image build --encrypted`) gets one KMS grant per account, made once and found again; a key the
 * account cannot use quarantines it at verify with the runbook; a campaign that would pass AWS's 1,000
 * account shares per image is refused before anything is shared, and `defaults.imageSharing` (an OU)
 * shares the image once instead of per account.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DescribeImageAttributeCommand, EC2Client, ModifyImageAttributeCommand } from '@aws-sdk/client-ec2';
import { DisableKeyCommand, KMSClient, ListGrantsCommand } from '@aws-sdk/client-kms';
import { WorkflowFailedError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runImagePublish } from '../../cli/commands/image';
import { runSimSeed } from '../../cli/commands/sim-seed';
import { runSimImageBuild, type SimImageBuild } from '../../cli/sim/sim-image-build';
import { SIM_CUSTOMER_OU_ARN, seedOrganization, sharingWithOu } from '../../cli/sim/seed-organization';
import type { FleetAccount, ImageAccount } from '../../fleet/fleet-schema';
import { loadFleetFile, stringifyFleet } from '../../fleet/load-fleet';
import type { FleetCampaignInput } from '../../workflows/campaign/campaign-input';
import { fleetCampaign, type CampaignReport } from '../../workflows/campaign/fleet-campaign';
import type { ImageShare } from '../../stack/aws-proxy/ec2/image-shares';
import { accountCredentials } from '../support/account-access';
import { cleanUp } from '../support/cleanup';
import { proxyAdmin } from '../support/proxy-admin';
import { accountResult } from '../support/rotation-campaigns';
import { setFaultPlan, startTestWorker, testClient, testStack } from '../support/test-stack';

const cfg = testStack();
const TASK_QUEUE = 'ami-share-test';
const ID_BASE = 982_000_000_000 + (Date.now() % 100_000) * 10;
const RUN = `share-${Date.now()}`;
const REGION = 'eu-west-1';
const dir = path.join(cfg.stateDir, `ami-share-${ID_BASE}`);
const fleetFile = path.join(dir, 'fleet.yaml');
const OU = SIM_CUSTOMER_OU_ARN;

let accounts: FleetAccount[];
let imageAccount: ImageAccount;
let worker: Awaited<ReturnType<typeof startTestWorker>>;
let temporal: Awaited<ReturnType<typeof testClient>>;

async function release(name: string, encrypted = false): Promise<SimImageBuild> {
  const built = await runSimImageBuild({
    name,
    fleet: fleetFile,
    manifest: path.join(dir, `${name}.json`),
    regions: [REGION],
    quiet: true,
    encrypted,
  });
  await runImagePublish({ manifest: built.manifest, name, fleet: fleetFile, quiet: true });
  return built;
}

function campaign(campaignId: string, image: string, ids: string[]): Promise<CampaignReport> {
  return temporal.client.workflow.execute(fleetCampaign, {
    taskQueue: TASK_QUEUE,
    workflowId: campaignId,
    args: [
      {
        operation: 'ami-rollout',
        fleetFile,
        select: { ids },
        maxInFlight: 4,
        failureBudget: { maxFailures: 2, onExceeded: 'cancel' },
        ami: { image, healthBakeSeconds: 1, healthPollSeconds: 1 },
      } as FleetCampaignInput,
    ],
  });
}

const inImageAccount = async () => {
  const credentials = await accountCredentials(cfg, imageAccount);
  return {
    ec2: new EC2Client({ endpoint: cfg.awsEndpoint, region: REGION, credentials }),
    kms: new KMSClient({ endpoint: cfg.awsEndpoint, region: REGION, credentials }),
  };
};
const shares = async () =>
  (await proxyAdmin<{ shares: ImageShare[] }>(cfg.awsEndpoint, 'GET', 'ec2/shares')).json.shares;

beforeAll(async () => {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  await runSimSeed({ accounts: 3, idBase: ID_BASE, out: fleetFile, quiet: true });
  accounts = loadFleetFile(fleetFile);
  imageAccount = accounts[0].imageAccount!;
  worker = await startTestWorker(TASK_QUEUE);
  temporal = await testClient(cfg);
  await setFaultPlan(cfg, { rules: [], autoscaling: { refreshDurationMs: 1000, pendingMs: 200 } });
}, 120_000);

afterAll(() =>
  cleanUp({
    organizations: () => proxyAdmin(cfg.awsEndpoint, 'DELETE', 'ec2/organizations'),
    faults: () => setFaultPlan(cfg, null),
    worker: () => worker?.stop(),
    temporal: () => temporal?.close(),
  }),
);

describe('sharing an AMI release', () => {
  it(
    'an encrypted image: one KMS grant for the account, found again by a second campaign',
    { timeout: 60_000 },
    async () => {
      const built = await release(`${RUN}-enc`, true);
      const keyArn = built.keys![0].keyArn;
      const account = accounts[0];
      const first = await campaign(`${RUN}-enc-1`, `${RUN}-enc`, [account.id]);
      expect(first.counts).toEqual({ 'rolled-out': 1 });
      const { kms } = await inImageAccount();
      const grantsAfterFirst = (await kms.send(new ListGrantsCommand({ KeyId: keyArn }))).Grants ?? [];
      expect(grantsAfterFirst.map((g) => [g.Name, g.GranteePrincipal])).toEqual([
        [`fleetops-ami-launch-${account.id}`, `arn:aws:iam::${account.id}:root`],
      ]);
      expect(grantsAfterFirst[0].Operations).toEqual(expect.arrayContaining(['Decrypt', 'DescribeKey', 'CreateGrant']));
      // the verify step used the key from inside the account, allowed by the grant
      const kmsLayer = await proxyAdmin<{
        crossAccountUses: Array<{ callerAccount: string; keyArn: string; allowed: boolean }>;
      }>(cfg.awsEndpoint, 'GET', 'kms');
      expect(kmsLayer.json.crossAccountUses.filter((u) => u.keyArn === keyArn)).toEqual([
        expect.objectContaining({ callerAccount: account.id, action: 'DescribeKey', allowed: true }),
      ]);

      const second = await campaign(`${RUN}-enc-2`, `${RUN}-enc`, [account.id]);
      expect(second.counts).toEqual({ 'already-current': 1 });
      const grantsAfterSecond = (await kms.send(new ListGrantsCommand({ KeyId: keyArn }))).Grants ?? [];
      expect(grantsAfterSecond.map((g) => g.GrantId)).toEqual(grantsAfterFirst.map((g) => g.GrantId));
      const share = (await shares()).filter((s) => s.imageId === built.images[0].imageId);
      expect(share).toEqual([expect.objectContaining({ userId: account.id, active: true, adds: 1 })]);
    },
  );

  it('a key the account cannot use quarantines it at verify, with the runbook', { timeout: 60_000 }, async () => {
    const built = await release(`${RUN}-disabled`, true);
    const { kms } = await inImageAccount();
    // by key id: moto's DisableKey does not take an ARN
    await kms.send(new DisableKeyCommand({ KeyId: built.keys![0].keyArn.split('/').pop() }));
    const account = accounts[1];
    const report = await campaign(`${RUN}-disabled`, `${RUN}-disabled`, [account.id]);
    expect(report.counts).toEqual({ quarantined: 1 });
    const r = await accountResult(temporal.client, `${RUN}-disabled`, account.id);
    expect(r).toMatchObject({
      outcome: 'quarantined',
      errorType: 'ImageKeyNotUsable',
      runbook: 'docs/runbooks/ami-image-not-visible.md',
    });
    expect(r.reason).toContain(built.keys![0].keyArn);
    expect(r.reason).toContain('Disabled');
    expect(r.regions.every((g) => g.toVersion === undefined)).toBe(true);
  });

  it(
    'past 1,000 account shares the campaign is refused before sharing; an OU share (defaults.imageSharing) replaces them',
    { timeout: 90_000 },
    async () => {
      const built = await release(`${RUN}-crowded`);
      const imageId = built.images[0].imageId;
      const { ec2 } = await inImageAccount();
      const others = Array.from({ length: 999 }, (_, i) => String(983_000_000_000 + i));
      for (let i = 0; i < others.length; i += 500)
        await ec2.send(
          new ModifyImageAttributeCommand({
            ImageId: imageId,
            LaunchPermission: { Add: others.slice(i, i + 500).map((UserId) => ({ UserId })) },
          }),
        );
      const ids = [accounts[1].id, accounts[2].id];
      const refused = await campaign(`${RUN}-crowded-1`, `${RUN}-crowded`, ids).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(refused).toBeInstanceOf(WorkflowFailedError);
      const cause = (refused as WorkflowFailedError).cause?.cause as { type?: string; message: string };
      expect(cause.type).toBe('ImageShareLimitExceeded');
      for (const part of [imageId, REGION, 'shared with 999 accounts', 'would add 2', 'defaults.imageSharing'])
        expect(cause.message).toContain(part);
      expect((await shares()).filter((s) => s.imageId === imageId && ids.includes(s.userId ?? ''))).toEqual([]);

      // the fleet shares with an OU instead (what `sim seed --organization` sets up): one launch permission,
      // the accounts see the image through it
      fs.writeFileSync(fleetFile, stringifyFleet(sharingWithOu(loadFleetFile(fleetFile))));
      await seedOrganization(
        cfg,
        accounts.filter((a) => ids.includes(a.id)),
      );
      const report = await campaign(`${RUN}-crowded-2`, `${RUN}-crowded`, ids);
      expect(report.counts).toEqual({ 'rolled-out': 2 });
      const imageShares = (await shares()).filter((s) => s.imageId === imageId && s.kind !== 'account');
      expect(imageShares).toEqual([expect.objectContaining({ kind: 'organizational-unit', principal: OU, adds: 1 })]);
      const permissions = await ec2.send(
        new DescribeImageAttributeCommand({ ImageId: imageId, Attribute: 'launchPermission' }),
      );
      expect(permissions.LaunchPermissions?.filter((p) => p.UserId && ids.includes(p.UserId))).toEqual([]);
    },
  );
});
