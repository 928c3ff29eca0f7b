import { describe, expect, it } from 'vitest';
import { planWaves, WavePlanOptionsSchema, type Ring } from '../../fleet';

const accounts = (ring: Ring, n: number, from = 0) =>
  Array.from({ length: n }, (_, i) => ({ id: String(from + i).padStart(12, '0'), ring }));

describe('planWaves', () => {
  it('orders rings canary → early → general → late regardless of input order', () => {
    const input = [
      ...accounts('late', 1, 0),
      ...accounts('general', 1, 1),
      ...accounts('canary', 1, 2),
      ...accounts('early', 1, 3),
    ];
    const waves = planWaves(input);
    expect(waves.map((w) => [w.index, w.name, w.ring])).toEqual([
      [0, 'canary-1', 'canary'],
      [1, 'early-1', 'early'],
      [2, 'general-1', 'general'],
      [3, 'late-1', 'late'],
    ]);
  });

  it('splits each ring by a single cap, keeping account order', () => {
    const waves = planWaves([...accounts('general', 5, 0), ...accounts('canary', 2, 100)], { maxWaveSize: 2 });
    expect(waves.map((w) => w.name)).toEqual(['canary-1', 'general-1', 'general-2', 'general-3']);
    expect(waves.map((w) => w.accountIds.length)).toEqual([2, 2, 2, 1]);
    expect(waves.slice(1).flatMap((w) => w.accountIds)).toEqual(accounts('general', 5, 0).map((a) => a.id));
  });

  it('uses per-ring caps; rings without a cap form one wave; empty rings produce none', () => {
    const input = [...accounts('canary', 40, 0), ...accounts('general', 3000, 1000), ...accounts('late', 560, 5000)];
    const waves = planWaves(input, { maxWaveSize: { canary: 10, general: 1000 } });
    expect(waves.map((w) => `${w.name}:${w.accountIds.length}`)).toEqual([
      'canary-1:10',
      'canary-2:10',
      'canary-3:10',
      'canary-4:10',
      'general-1:1000',
      'general-2:1000',
      'general-3:1000',
      'late-1:560',
    ]);
    expect(waves.map((w) => w.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('returns no waves for no accounts and rejects bad caps', () => {
    expect(planWaves([])).toEqual([]);
    expect(() => planWaves(accounts('early', 1), { maxWaveSize: 0 })).toThrow(RangeError);
    expect(() => planWaves(accounts('early', 1), { maxWaveSize: { early: 1.5 } })).toThrow(RangeError);
    expect(WavePlanOptionsSchema.safeParse({ maxWaveSize: { middle: 3 } }).success).toBe(false);
    expect(WavePlanOptionsSchema.safeParse({ maxWaveSize: { canary: 3 } }).success).toBe(true);
  });
});
