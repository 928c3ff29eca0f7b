import { describe, expect, it } from 'vitest';
import { AccountAmiRolloutInputSchema, AmiParamsSchema } from '../../workflows/ami/ami-params';
import {
  AMI_TOKEN_NAMESPACE,
  groupHealthAlarm,
  launchTemplateVersionToken,
  pinnedVersion,
} from '../../workflows/ami/ami-tokens';
import { UUID_NAMESPACE_DNS, uuidV5 } from '../../workflows/rotation/uuid-v5';
import { amiRolloutOperation } from '../../workflows/ami/ami-operation';
import { campaignInputFromFlags } from '../../cli/commands/campaign-flags';

describe('ami-rollout parameters and names', () => {
  it('defaults and each bad field named', () => {
    expect(AmiParamsSchema.parse({ image: 'pipeline-2026.11.1' })).toEqual({
      image: 'pipeline-2026.11.1',
      healthBakeSeconds: 300,
      healthPollSeconds: 30,
      minHealthyPercentage: 90,
      checkpoints: [],
      busyRefreshWaitSeconds: 1800,
    });
    const r = AccountAmiRolloutInputSchema.safeParse({
      campaignId: 'c',
      fleetFile: '/f.yaml',
      accountId: '123456789012',
      operation: 'ami-rollout',
      ami: { image: 'latest', minHealthyPercentage: 101, checkpoints: [50, 20], other: 1 },
    });
    expect(r.success).toBe(false);
    const paths = r.error!.issues.map((i) => i.path.join('.'));
    expect(paths).toEqual(expect.arrayContaining(['ami.image', 'ami.minHealthyPercentage', 'ami.checkpoints', 'ami']));
  });

  it('tokens are deterministic UUIDs per campaign/account/region/group/attempt', () => {
    expect(uuidV5('fleetops.ami-rollout', UUID_NAMESPACE_DNS)).toBe(AMI_TOKEN_NAMESPACE);
    const t = launchTemplateVersionToken('c1', '123456789012', 'eu-west-1', 'g', 1);
    expect(t).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(launchTemplateVersionToken('c1', '123456789012', 'eu-west-1', 'g', 1)).toBe(t);
    expect(launchTemplateVersionToken('c1', '123456789012', 'eu-west-1', 'g', 2)).not.toBe(t);
    expect(launchTemplateVersionToken('c1', '123456789012', 'us-east-1', 'g', 1)).not.toBe(t);
  });

  it('only a numbered version can be rolled back to; the alarm is <group>-health', () => {
    expect(pinnedVersion('3')).toBe(3);
    expect(pinnedVersion('$Latest')).toBeUndefined();
    expect(pinnedVersion('$Default')).toBeUndefined();
    expect(pinnedVersion('0')).toBeUndefined();
    expect(groupHealthAlarm('data-pipeline-workers')).toBe('data-pipeline-workers-health');
  });

  it('declares --image (required) and latest on the image channel', () => {
    expect(amiRolloutOperation.cliFlags.find((f) => f.required)?.flag).toBe('--image <release>');
    expect(amiRolloutOperation.latest).toEqual({ param: 'image', channel: 'image' });
  });
});

describe('campaign start --operation ami-rollout', () => {
  const NOW = new Date('2026-11-26T10:00:00Z');
  it('--image (a name or latest), --min-healthy and --health-bake become ami parameters; the image names the campaign', () => {
    const { campaignId, input } = campaignInputFromFlags(
      { operation: 'ami-rollout', image: 'latest', minHealthy: '80', healthBake: '2m', fleet: 'fleet.yaml' },
      NOW,
    );
    expect((input as unknown as { ami: unknown }).ami).toMatchObject({
      image: 'latest',
      minHealthyPercentage: 80,
      healthBakeSeconds: 120,
    });
    expect(campaignId).toContain('ami-rollout');
  });

  it('refuses a bad image name and a missing --image, naming the flag', () => {
    expect(() =>
      campaignInputFromFlags({ operation: 'ami-rollout', image: 'no spaces', fleet: 'fleet.yaml' }, NOW),
    ).toThrow(/--image/);
    expect(() => campaignInputFromFlags({ operation: 'ami-rollout', fleet: 'fleet.yaml' }, NOW)).toThrow(/--image/);
  });
});
