/**
 * The proxy's EC2 layer against a real moto_server, driven by the AWS SDK v3: an AMI shared with
 * ModifyImageAttribute becomes visible and launchable in the consumer account (and the share is in
 * the ledger) — also through an organization / OU launch permission —, AWS's 1,000 account shares per
 * image are enforced, an image registered on an encrypted snapshot shows it, another account's KMS key
 * is usable through a grant (and CreateGrant is idempotent by name), CreateLaunchTemplateVersion honours
 * SourceVersion and ClientToken. Each gap is first
 * shown on moto itself, then filled through the proxy.
 * Run: FLEETOPS_TEST_PORT_OFFSET=300 npx vitest run test/integration/aws-proxy-ec2.test.ts
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import {
  CopySnapshotCommand,
  CreateLaunchTemplateCommand,
  CreateLaunchTemplateVersionCommand,
  CreateSnapshotCommand,
  CreateTagsCommand,
  CreateVolumeCommand,
  DescribeImageAttributeCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeLaunchTemplateVersionsCommand,
  EC2Client,
  ModifyImageAttributeCommand,
  RegisterImageCommand,
  RunInstancesCommand,
} from '@aws-sdk/client-ec2';
import {
  AutoScalingClient,
  CreateAutoScalingGroupCommand,
  DescribeAutoScalingGroupsCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  CreateGrantCommand,
  CreateKeyCommand,
  DescribeKeyCommand,
  KMSClient,
  ListGrantsCommand,
  RevokeGrantCommand,
} from '@aws-sdk/client-kms';
import { startMotoServer } from '../support/moto-server';
import { proxyAdmin } from '../support/proxy-admin';
import { caught, credentialsIn, type Credentials } from '../support/aws-accounts';
import { createAwsProxy, type AwsProxy } from '../../stack/aws-proxy/server';
import type { ImageShare } from '../../stack/aws-proxy/ec2/image-shares';
import { overlaySourceVersion, launchTemplateDataFields } from '../../stack/aws-proxy/ec2/launch-template-data';
import { parseXml } from '../../stack/aws-proxy/ec2/ec2-xml';

const REGION = 'eu-west-1';
const IMAGE_ACCOUNT = '320000000001';
const CONSUMER = '320000000002';
const STRANGER = '320000000003';

let moto: Awaited<ReturnType<typeof startMotoServer>> | undefined;
let motoUrl = '';
let proxy: AwsProxy;
let proxyUrl = '';

const ec2 = (endpoint: string, credentials: Credentials) =>
  new EC2Client({ endpoint, region: REGION, credentials, maxAttempts: 1 });

async function ec2In(endpoint: string, account: string): Promise<EC2Client> {
  return ec2(endpoint, await credentialsIn(endpoint, account, REGION));
}

async function newImage(client: EC2Client, name: string): Promise<string> {
  const { ImageId } = await client.send(new RegisterImageCommand({ Name: name }));
  return ImageId!;
}

beforeAll(async () => {
  moto = await startMotoServer();
  motoUrl = moto.url;
  proxy = createAwsProxy({ upstream: motoUrl });
  proxyUrl = `http://127.0.0.1:${await proxy.listen(0)}`;
}, 60_000);

afterAll(async () => {
  await proxy?.close();
  await moto?.stop();
});

describe('AMI shared with ModifyImageAttribute', () => {
  it('moto keeps it invisible to the consumer (the gap)', async () => {
    const owner = await ec2In(motoUrl, IMAGE_ACCOUNT);
    const consumer = await ec2In(motoUrl, CONSUMER);
    const imageId = await newImage(owner, 'pipeline-raw');
    await owner.send(
      new ModifyImageAttributeCommand({ ImageId: imageId, LaunchPermission: { Add: [{ UserId: CONSUMER }] } }),
    );
    expect((await caught(consumer.send(new DescribeImagesCommand({ ImageIds: [imageId] })))).name).toBe(
      'InvalidAMIID.NotFound',
    );
    expect((await consumer.send(new DescribeImagesCommand({ Owners: [IMAGE_ACCOUNT] }))).Images).toEqual([]);
  });

  it('through the proxy the consumer sees it by ImageIds, Owners and ExecutableUsers=self; others do not; the ledger records it', async () => {
    await proxyAdmin(proxyUrl, 'DELETE', 'ec2/shares');
    const owner = await ec2In(proxyUrl, IMAGE_ACCOUNT);
    const consumer = await ec2In(proxyUrl, CONSUMER);
    const stranger = await ec2In(proxyUrl, STRANGER);
    const imageId = await newImage(owner, 'pipeline-2026.11.1');
    const unshared = await newImage(owner, 'pipeline-unshared');
    await owner.send(
      new CreateTagsCommand({ Resources: [imageId], Tags: [{ Key: 'release', Value: 'pipeline-2026.11.1' }] }),
    );

    // before the share: invisible, like AWS
    expect((await caught(consumer.send(new DescribeImagesCommand({ ImageIds: [imageId] })))).name).toBe(
      'InvalidAMIID.NotFound',
    );
    await owner.send(
      new ModifyImageAttributeCommand({ ImageId: imageId, LaunchPermission: { Add: [{ UserId: CONSUMER }] } }),
    );

    const byId = (await consumer.send(new DescribeImagesCommand({ ImageIds: [imageId] }))).Images ?? [];
    expect(byId.map((i) => [i.ImageId, i.OwnerId, i.Name, i.State])).toEqual([
      [imageId, IMAGE_ACCOUNT, 'pipeline-2026.11.1', 'available'],
    ]);
    expect(byId[0].Tags ?? []).toEqual([]); // the owner's tags are not shown to the consumer
    const byOwner = (await consumer.send(new DescribeImagesCommand({ Owners: [IMAGE_ACCOUNT] }))).Images ?? [];
    expect(byOwner.map((i) => i.ImageId)).toEqual([imageId]); // not the unshared one
    const executable = (await consumer.send(new DescribeImagesCommand({ ExecutableUsers: ['self'] }))).Images ?? [];
    expect(executable.map((i) => i.ImageId)).toEqual([imageId]);
    const own = (await consumer.send(new DescribeImagesCommand({ Owners: ['self'] }))).Images ?? [];
    expect(own).toEqual([]);
    const byName = await consumer.send(
      new DescribeImagesCommand({ Filters: [{ Name: 'name', Values: ['pipeline-2026.*'] }] }),
    );
    expect(byName.Images?.map((i) => i.ImageId)).toEqual([imageId]);
    const byTag = await consumer.send(
      new DescribeImagesCommand({ Filters: [{ Name: 'tag:release', Values: ['pipeline-2026.11.1'] }] }),
    );
    expect(byTag.Images).toEqual([]);
    // one shared and one not: refused, naming the one it cannot see
    const mixed = await caught(consumer.send(new DescribeImagesCommand({ ImageIds: [imageId, unshared] })));
    expect(mixed.name).toBe('InvalidAMIID.NotFound');
    expect(mixed.message).toContain(unshared);
    expect(mixed.message).not.toContain(imageId);
    // another account still sees nothing
    expect((await caught(stranger.send(new DescribeImagesCommand({ ImageIds: [imageId] })))).name).toBe(
      'InvalidAMIID.NotFound',
    );

    const ledger = await proxyAdmin<{ shares: ImageShare[] }>(proxyUrl, 'GET', 'ec2/shares');
    expect(ledger.json.shares).toEqual([
      expect.objectContaining({
        ownerAccount: IMAGE_ACCOUNT,
        region: REGION,
        imageId,
        userId: CONSUMER,
        active: true,
        adds: 1,
        removes: 0,
      }),
    ]);

    await owner.send(
      new ModifyImageAttributeCommand({ ImageId: imageId, LaunchPermission: { Remove: [{ UserId: CONSUMER }] } }),
    );
    expect((await caught(consumer.send(new DescribeImagesCommand({ ImageIds: [imageId] })))).name).toBe(
      'InvalidAMIID.NotFound',
    );
    const after = await proxyAdmin<{ shares: ImageShare[] }>(proxyUrl, 'GET', 'ec2/shares');
    expect(after.json.shares[0]).toMatchObject({ active: false, adds: 1, removes: 1 });
  });

  it('the consumer launches from it: RunInstances, a launch template, an Auto Scaling group', async () => {
    const owner = await ec2In(proxyUrl, IMAGE_ACCOUNT);
    const consumerCreds = await credentialsIn(proxyUrl, CONSUMER, REGION);
    const consumer = ec2(proxyUrl, consumerCreds);
    const imageId = await newImage(owner, 'pipeline-launch');
    await owner.send(
      new ModifyImageAttributeCommand({ ImageId: imageId, LaunchPermission: { Add: [{ UserId: CONSUMER }] } }),
    );
    const run = await consumer.send(
      new RunInstancesCommand({ ImageId: imageId, MinCount: 1, MaxCount: 1, InstanceType: 't3.micro' }),
    );
    expect(run.Instances?.[0].ImageId).toBe(imageId);

    const lt = await consumer.send(
      new CreateLaunchTemplateCommand({
        LaunchTemplateName: 'pipeline-launch',
        LaunchTemplateData: { ImageId: imageId, InstanceType: 't3.micro' },
      }),
    );
    const asg = new AutoScalingClient({
      endpoint: proxyUrl,
      region: REGION,
      credentials: consumerCreds,
      maxAttempts: 1,
    });
    await asg.send(
      new CreateAutoScalingGroupCommand({
        AutoScalingGroupName: 'pipeline-launch',
        LaunchTemplate: { LaunchTemplateId: lt.LaunchTemplate!.LaunchTemplateId, Version: '1' },
        MinSize: 1,
        MaxSize: 1,
        DesiredCapacity: 1,
        AvailabilityZones: [`${REGION}a`],
      }),
    );
    const group = (await asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['pipeline-launch'] })))
      .AutoScalingGroups![0];
    const instanceIds = (group.Instances ?? []).map((i) => i.InstanceId!);
    expect(instanceIds).toHaveLength(1);
    const described = await consumer.send(new DescribeInstancesCommand({ InstanceIds: instanceIds }));
    expect(described.Reservations?.[0].Instances?.[0].ImageId).toBe(imageId);
  });
});

describe('CreateLaunchTemplateVersion', () => {
  async function template(client: EC2Client, name: string): Promise<string> {
    const lt = await client.send(
      new CreateLaunchTemplateCommand({
        LaunchTemplateName: name,
        LaunchTemplateData: {
          ImageId: 'ami-0000000000000001a',
          InstanceType: 't3.micro',
          UserData: Buffer.from('#!/bin/sh\necho pipeline').toString('base64'),
          SecurityGroupIds: ['sg-0123456789abcdef0'],
          BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { VolumeSize: 20, VolumeType: 'gp3' } }],
        },
      }),
    );
    return lt.LaunchTemplate!.LaunchTemplateId!;
  }

  async function versionData(client: EC2Client, id: string, version: string) {
    const out = await client.send(
      new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: id, Versions: [version] }),
    );
    return out.LaunchTemplateVersions![0].LaunchTemplateData!;
  }

  it('moto ignores SourceVersion; through the proxy the new version is the source overlaid with what was sent', async () => {
    const raw = await ec2In(motoUrl, CONSUMER);
    const rawId = await template(raw, 'lt-source-raw');
    await raw.send(
      new CreateLaunchTemplateVersionCommand({
        LaunchTemplateId: rawId,
        SourceVersion: '1',
        LaunchTemplateData: { ImageId: 'ami-0000000000000002b' },
      }),
    );
    expect((await versionData(raw, rawId, '2')).InstanceType).toBeUndefined(); // the gap

    const client = await ec2In(proxyUrl, CONSUMER);
    const id = await template(client, 'lt-source');
    const v2 = await client.send(
      new CreateLaunchTemplateVersionCommand({
        LaunchTemplateId: id,
        SourceVersion: '1',
        LaunchTemplateData: { ImageId: 'ami-0000000000000002b' },
      }),
    );
    expect(v2.LaunchTemplateVersion?.VersionNumber).toBe(2);
    const data = await versionData(client, id, '2');
    expect(data.ImageId).toBe('ami-0000000000000002b');
    expect(data.InstanceType).toBe('t3.micro');
    expect(Buffer.from(data.UserData!, 'base64').toString()).toBe('#!/bin/sh\necho pipeline');
    expect(data.SecurityGroupIds).toEqual(['sg-0123456789abcdef0']);
    expect(data.BlockDeviceMappings).toEqual([{ DeviceName: '/dev/xvda', Ebs: { VolumeSize: 20, VolumeType: 'gp3' } }]);

    // a sent list replaces the source's list as a whole; $Latest names version 2
    await client.send(
      new CreateLaunchTemplateVersionCommand({
        LaunchTemplateId: id,
        SourceVersion: '$Latest',
        LaunchTemplateData: { SecurityGroupIds: ['sg-0fedcba9876543210'] },
      }),
    );
    const v3 = await versionData(client, id, '3');
    expect(v3.SecurityGroupIds).toEqual(['sg-0fedcba9876543210']);
    expect(v3.ImageId).toBe('ami-0000000000000002b');

    // a version that does not exist is refused, nothing created
    const missing = await caught(
      client.send(
        new CreateLaunchTemplateVersionCommand({ LaunchTemplateId: id, SourceVersion: '9', LaunchTemplateData: {} }),
      ),
    );
    expect(missing.name).toMatch(/InvalidLaunchTemplate/);
  });

  it('moto ignores ClientToken; through the proxy the same token returns the same version and other parameters are refused', async () => {
    const raw = await ec2In(motoUrl, CONSUMER);
    const rawId = await template(raw, 'lt-token-raw');
    const send = (client: EC2Client, id: string, imageId: string) =>
      client.send(
        new CreateLaunchTemplateVersionCommand({
          LaunchTemplateId: id,
          SourceVersion: '1',
          ClientToken: 'campaign-1/320000000002/eu-west-1/pipeline',
          LaunchTemplateData: { ImageId: imageId },
        }),
      );
    expect((await send(raw, rawId, 'ami-0000000000000003c')).LaunchTemplateVersion?.VersionNumber).toBe(2);
    expect((await send(raw, rawId, 'ami-0000000000000003c')).LaunchTemplateVersion?.VersionNumber).toBe(3); // the gap

    const client = await ec2In(proxyUrl, CONSUMER);
    const id = await template(client, 'lt-token');
    const first = await send(client, id, 'ami-0000000000000003c');
    const again = await send(client, id, 'ami-0000000000000003c');
    expect(first.LaunchTemplateVersion?.VersionNumber).toBe(2);
    expect(again.LaunchTemplateVersion?.VersionNumber).toBe(2);
    const mismatch = await caught(send(client, id, 'ami-0000000000000004d'));
    expect(mismatch.name).toBe('IdempotentParameterMismatch');
    const versions = await client.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: id }));
    expect(versions.LaunchTemplateVersions?.map((v) => v.VersionNumber).sort()).toEqual([1, 2]);
  });
});

describe('launch template data (pure)', () => {
  it('turns moto launchTemplateData XML into form fields and overlays what was sent per top-level field', () => {
    const data = parseXml(
      '<launchTemplateData><imageId>ami-1</imageId><instanceType>t3.micro</instanceType>' +
        '<securityGroupIdSet><item>sg-1</item><item>sg-2</item></securityGroupIdSet>' +
        '<tagSpecificationSet><item><resourceType>instance</resourceType><tagSet><item><key>a</key><value>b</value></item></tagSet></item></tagSpecificationSet>' +
        '<licenseSet><item><licenseConfigurationArn>arn:l</licenseConfigurationArn></item></licenseSet></launchTemplateData>',
    );
    const fields = launchTemplateDataFields(data);
    expect(fields).toEqual([
      ['LaunchTemplateData.ImageId', 'ami-1'],
      ['LaunchTemplateData.InstanceType', 't3.micro'],
      ['LaunchTemplateData.SecurityGroupId.1', 'sg-1'],
      ['LaunchTemplateData.SecurityGroupId.2', 'sg-2'],
      ['LaunchTemplateData.TagSpecification.1.ResourceType', 'instance'],
      ['LaunchTemplateData.TagSpecification.1.Tag.1.Key', 'a'],
      ['LaunchTemplateData.TagSpecification.1.Tag.1.Value', 'b'],
      ['LaunchTemplateData.LicenseSpecification.1.LicenseConfigurationArn', 'arn:l'],
    ]);
    const merged = overlaySourceVersion(
      new URLSearchParams('Action=CreateLaunchTemplateVersion&LaunchTemplateData.SecurityGroupId.1=sg-9'),
      fields,
    );
    expect(merged.getAll('LaunchTemplateData.SecurityGroupId.1')).toEqual(['sg-9']);
    expect(merged.has('LaunchTemplateData.SecurityGroupId.2')).toBe(false);
    expect(merged.get('LaunchTemplateData.ImageId')).toBe('ami-1');
  });
});

describe('AWS limit: 1,000 account shares per image and region', () => {
  const accounts = (from: number, n: number) =>
    Array.from({ length: n }, (_, i) => String(330000000000 + from + i).padStart(12, '0'));
  const addAll = (client: EC2Client, imageId: string, ids: string[]) =>
    client.send(
      new ModifyImageAttributeCommand({
        ImageId: imageId,
        LaunchPermission: { Add: ids.map((UserId) => ({ UserId })) },
      }),
    );

  it('moto takes a 1,001st account (the gap); the proxy refuses it with ResourceLimitExceeded, adding nothing', async () => {
    const raw = await ec2In(motoUrl, IMAGE_ACCOUNT);
    const rawImage = await newImage(raw, 'pipeline-limit-raw');
    for (let i = 0; i < 1001; i += 500) await addAll(raw, rawImage, accounts(i, Math.min(500, 1001 - i)));
    const rawShares = await raw.send(
      new DescribeImageAttributeCommand({ ImageId: rawImage, Attribute: 'launchPermission' }),
    );
    expect(rawShares.LaunchPermissions).toHaveLength(1001);

    const owner = await ec2In(proxyUrl, IMAGE_ACCOUNT);
    const imageId = await newImage(owner, 'pipeline-limit');
    for (let i = 0; i < 1000; i += 500) await addAll(owner, imageId, accounts(i, 500));
    const err = await caught(addAll(owner, imageId, [...accounts(998, 2), ...accounts(5000, 2)]));
    expect(err.name).toBe('ResourceLimitExceeded');
    expect(err.message).toContain(imageId);
    expect(err.message).toContain('1000 accounts and the request adds 2');
    const shares = await owner.send(
      new DescribeImageAttributeCommand({ ImageId: imageId, Attribute: 'launchPermission' }),
    );
    expect(shares.LaunchPermissions).toHaveLength(1000);
    // accounts already shared are no addition; an organization share does not count
    await addAll(owner, imageId, accounts(0, 3));
    await owner.send(
      new ModifyImageAttributeCommand({
        ImageId: imageId,
        LaunchPermission: {
          Add: [{ OrganizationArn: 'arn:aws:organizations::320000000009:organization/o-fleetops01' }],
        },
      }),
    );
    // room again after a removal
    await owner.send(
      new ModifyImageAttributeCommand({
        ImageId: imageId,
        LaunchPermission: { Remove: [{ UserId: accounts(0, 1)[0] }] },
      }),
    );
    await addAll(owner, imageId, accounts(5000, 1));
    const after = await owner.send(
      new DescribeImageAttributeCommand({ ImageId: imageId, Attribute: 'launchPermission' }),
    );
    expect(after.LaunchPermissions?.filter((p) => p.UserId)).toHaveLength(1000);
  }, 60_000);
});

describe('AMI shared with an organization or OU', () => {
  const ORG = 'arn:aws:organizations::320000000009:organization/o-fleetops01';
  const OU = 'arn:aws:organizations::320000000009:ou/o-fleetops01/ou-ab12-fleetops1';

  it('moto stores the permission but no account sees the image (the gap); the proxy shows it to the accounts in it', async () => {
    const raw = await ec2In(motoUrl, IMAGE_ACCOUNT);
    const rawImage = await newImage(raw, 'pipeline-org-raw');
    await raw.send(
      new ModifyImageAttributeCommand({ ImageId: rawImage, LaunchPermission: { Add: [{ OrganizationArn: ORG }] } }),
    );
    const rawConsumer = await ec2In(motoUrl, CONSUMER);
    expect((await caught(rawConsumer.send(new DescribeImagesCommand({ ImageIds: [rawImage] })))).name).toBe(
      'InvalidAMIID.NotFound',
    );

    const bad = await proxyAdmin(proxyUrl, 'PUT', 'ec2/organizations', {
      accounts: [{ accountId: CONSUMER, organizationArn: 'o-1' }],
    });
    expect(bad.status).toBe(400);
    expect(bad.json.message).toContain('organizationArn');
    const put = await proxyAdmin<{ accounts: unknown[] }>(proxyUrl, 'PUT', 'ec2/organizations', {
      accounts: [{ accountId: CONSUMER, organizationArn: ORG, organizationalUnitArns: [OU] }],
    });
    expect(put.json.accounts).toHaveLength(1);

    const owner = await ec2In(proxyUrl, IMAGE_ACCOUNT);
    const consumer = await ec2In(proxyUrl, CONSUMER);
    const stranger = await ec2In(proxyUrl, STRANGER);
    const byOu = await newImage(owner, 'pipeline-ou');
    const byOrg = await newImage(owner, 'pipeline-org');
    await owner.send(
      new ModifyImageAttributeCommand({ ImageId: byOu, LaunchPermission: { Add: [{ OrganizationalUnitArn: OU }] } }),
    );
    await owner.send(
      new ModifyImageAttributeCommand({ ImageId: byOrg, LaunchPermission: { Add: [{ OrganizationArn: ORG }] } }),
    );
    const seen = (await consumer.send(new DescribeImagesCommand({ ImageIds: [byOu, byOrg] }))).Images ?? [];
    expect(seen.map((i) => i.ImageId).sort()).toEqual([byOu, byOrg].sort());
    expect((await caught(stranger.send(new DescribeImagesCommand({ ImageIds: [byOrg] })))).name).toBe(
      'InvalidAMIID.NotFound',
    );

    const ledger = await proxyAdmin<{ shares: ImageShare[] }>(proxyUrl, 'GET', 'ec2/shares');
    expect(ledger.json.shares.filter((s) => s.imageId === byOu)).toEqual([
      expect.objectContaining({ kind: 'organizational-unit', principal: OU, active: true, adds: 1 }),
    ]);
    await owner.send(
      new ModifyImageAttributeCommand({ ImageId: byOrg, LaunchPermission: { Remove: [{ OrganizationArn: ORG }] } }),
    );
    expect((await caught(consumer.send(new DescribeImagesCommand({ ImageIds: [byOrg] })))).name).toBe(
      'InvalidAMIID.NotFound',
    );
    await proxyAdmin(proxyUrl, 'DELETE', 'ec2/organizations');
  });
});

describe('AMI on an encrypted snapshot, and the KMS key across accounts', () => {
  const kms = async (endpoint: string, account: string) =>
    new KMSClient({
      endpoint,
      region: REGION,
      credentials: await credentialsIn(endpoint, account, REGION),
      maxAttempts: 1,
    });

  /** A customer managed key and a snapshot encrypted with it (CopySnapshot: moto's CreateSnapshot drops the key). */
  async function encryptedSnapshot(endpoint: string): Promise<{ keyArn: string; snapshotId: string }> {
    const keys = await kms(endpoint, IMAGE_ACCOUNT);
    const client = await ec2In(endpoint, IMAGE_ACCOUNT);
    const keyArn = (await keys.send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
    const volume = await client.send(
      new CreateVolumeCommand({ AvailabilityZone: `${REGION}a`, Size: 8, Encrypted: true, KmsKeyId: keyArn }),
    );
    const snap = await client.send(new CreateSnapshotCommand({ VolumeId: volume.VolumeId! }));
    const copy = await client.send(
      new CopySnapshotCommand({
        SourceSnapshotId: snap.SnapshotId!,
        SourceRegion: REGION,
        Encrypted: true,
        KmsKeyId: keyArn,
      }),
    );
    return { keyArn, snapshotId: copy.SnapshotId! };
  }
  const register = (client: EC2Client, name: string, snapshotId: string) =>
    client.send(
      new RegisterImageCommand({
        Name: name,
        RootDeviceName: '/dev/xvda',
        BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { SnapshotId: snapshotId, VolumeType: 'gp3' } }],
      }),
    );

  it("moto ignores the block devices and finds no other account's key (the gaps)", async () => {
    const { keyArn, snapshotId } = await encryptedSnapshot(motoUrl);
    const owner = await ec2In(motoUrl, IMAGE_ACCOUNT);
    const { ImageId } = await register(owner, 'pipeline-enc-raw', snapshotId);
    const image = (await owner.send(new DescribeImagesCommand({ ImageIds: [ImageId!] }))).Images![0];
    expect(image.BlockDeviceMappings?.[0].Ebs?.SnapshotId).not.toBe(snapshotId);
    expect(image.BlockDeviceMappings?.[0].Ebs?.Encrypted ?? false).toBe(false);
    const consumerKms = await kms(motoUrl, CONSUMER);
    expect((await caught(consumerKms.send(new DescribeKeyCommand({ KeyId: keyArn })))).name).toBe('NotFoundException');
  });

  it('through the proxy: the image shows its encrypted snapshot; the consumer uses the key only through a grant', async () => {
    const { keyArn, snapshotId } = await encryptedSnapshot(proxyUrl);
    const owner = await ec2In(proxyUrl, IMAGE_ACCOUNT);
    expect((await caught(register(owner, 'pipeline-enc-bad', 'snap-0123456789abcdef0'))).name).toBe(
      'InvalidSnapshot.NotFound',
    );
    const imageId = (await register(owner, 'pipeline-enc', snapshotId)).ImageId!;
    const own = (await owner.send(new DescribeImagesCommand({ ImageIds: [imageId] }))).Images![0];
    expect(own.RootDeviceName).toBe('/dev/xvda');
    expect(own.BlockDeviceMappings?.map((m) => [m.DeviceName, m.Ebs?.SnapshotId, m.Ebs?.Encrypted])).toEqual([
      ['/dev/xvda', snapshotId, true],
    ]);
    await owner.send(
      new ModifyImageAttributeCommand({ ImageId: imageId, LaunchPermission: { Add: [{ UserId: CONSUMER }] } }),
    );
    const consumer = await ec2In(proxyUrl, CONSUMER);
    const shared = (await consumer.send(new DescribeImagesCommand({ ImageIds: [imageId] }))).Images![0];
    expect(shared.BlockDeviceMappings?.[0].Ebs?.Encrypted).toBe(true);

    const consumerKms = await kms(proxyUrl, CONSUMER);
    const denied = await caught(consumerKms.send(new DescribeKeyCommand({ KeyId: keyArn })));
    expect(denied.name).toBe('AccessDeniedException');
    expect(denied.message).toContain('kms:DescribeKey');

    const ownerKms = await kms(proxyUrl, IMAGE_ACCOUNT);
    const grant = {
      KeyId: keyArn,
      GranteePrincipal: `arn:aws:iam::${CONSUMER}:root`,
      Operations: ['Decrypt', 'DescribeKey'] as const,
      Name: `fleetops-ami-launch-${CONSUMER}`,
    };
    const first = await ownerKms.send(new CreateGrantCommand({ ...grant, Operations: [...grant.Operations] }));
    const again = await ownerKms.send(new CreateGrantCommand({ ...grant, Operations: [...grant.Operations] }));
    expect(again.GrantId).toBe(first.GrantId);
    expect((await ownerKms.send(new ListGrantsCommand({ KeyId: keyArn }))).Grants).toHaveLength(1);

    const described = await consumerKms.send(new DescribeKeyCommand({ KeyId: keyArn }));
    expect(described.KeyMetadata?.Arn).toBe(keyArn);
    expect(described.KeyMetadata?.KeyState).toBe('Enabled');
    // a stranger has no grant
    const strangerKms = await kms(proxyUrl, STRANGER);
    expect((await caught(strangerKms.send(new DescribeKeyCommand({ KeyId: keyArn })))).name).toBe(
      'AccessDeniedException',
    );
    // the grant revoked: denied again
    await ownerKms.send(new RevokeGrantCommand({ KeyId: keyArn, GrantId: first.GrantId! }));
    expect((await caught(consumerKms.send(new DescribeKeyCommand({ KeyId: keyArn })))).name).toBe(
      'AccessDeniedException',
    );
  });
});
