import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { rotationToken, sha1, UUID_NAMESPACE_DNS, uuidV5 } from '../../workflows/rotation/uuid-v5';

describe('UUIDv5 in pure TypeScript (rotation ClientRequestTokens)', () => {
  it('matches the known vectors (Python uuid.uuid5)', () => {
    expect(uuidV5('python.org', UUID_NAMESPACE_DNS)).toBe('886313e1-3b8a-5372-9b90-0c9aee199e5d');
    expect(uuidV5('fleetops.rotation', UUID_NAMESPACE_DNS)).toBe('cb3da290-9ccb-559f-bf07-afba112178f9');
    expect(uuidV5('x'.repeat(100), UUID_NAMESPACE_DNS)).toBe('897f5b43-a3c8-582d-9c8d-9cfe358a534d');
  });

  it('its SHA-1 agrees with node:crypto across block boundaries', () => {
    for (const n of [0, 1, 55, 56, 63, 64, 65, 119, 120, 200]) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 31 + 7) & 0xff);
      expect(Buffer.from(sha1(bytes)).toString('hex')).toBe(createHash('sha1').update(bytes).digest('hex'));
    }
  });

  it('a rotation token is deterministic per campaign/account/secret/attempt and fits Secrets Manager (32-64 chars)', () => {
    const t = rotationToken('c1', '123456789012', 'collector-api-key', 1);
    expect(t).toBe('f379c241-84fd-5322-a37f-827fbeaeaeb0');
    expect(t).toHaveLength(36);
    expect(rotationToken('c1', '123456789012', 'collector-api-key', 1)).toBe(t);
    expect(rotationToken('c1', '123456789012', 'collector-api-key', 2)).not.toBe(t);
    expect(rotationToken('c2', '123456789012', 'collector-api-key', 1)).not.toBe(t);
  });
});
