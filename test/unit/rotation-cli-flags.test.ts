import { describe, expect, it } from 'vitest';
import { campaignInputFromFlags } from '../../cli/commands/campaign-flags';

const fleet = '/srv/fleet.yaml';

describe('campaign start --operation rotate-secret', () => {
  it('--secret, --older-than (days) and --health-bake become rotation parameters', () => {
    const { campaignId, input } = campaignInputFromFlags(
      { operation: 'rotate-secret', fleet, secret: 'collector-api-key', olderThan: '30d', healthBake: '2m' },
      new Date('2026-11-26T10:00:00Z'),
    );
    expect(campaignId).toContain('collector-api-key');
    expect(input).toMatchObject({
      operation: 'rotate-secret',
      rotation: { secret: 'collector-api-key', olderThanDays: 30, healthBakeSeconds: 120 },
    });
    expect(
      campaignInputFromFlags(
        { operation: 'rotate-secret', fleet, secret: 'collector-api-key', olderThan: '7' },
        new Date(),
      ).input,
    ).toMatchObject({ rotation: { olderThanDays: 7 } });
  });

  it('names a missing --secret, a bad --older-than and an upgrade-only flag', () => {
    expect(() => campaignInputFromFlags({ operation: 'rotate-secret', fleet }, new Date())).toThrow(
      '--secret: required with --operation rotate-secret',
    );
    expect(() =>
      campaignInputFromFlags(
        { operation: 'rotate-secret', fleet, secret: 'collector-api-key', olderThan: '4w' },
        new Date(),
      ),
    ).toThrow('--older-than');
    expect(() =>
      campaignInputFromFlags(
        { operation: 'rotate-secret', fleet, secret: 'collector-api-key', version: '1.2.3' },
        new Date(),
      ),
    ).toThrow('--version: applies to --operation upgrade');
  });
});
