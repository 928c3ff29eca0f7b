/** Ordering selected accounts into waves by ring (canary → early → general → late). Pure. */
import { z } from 'zod';
import { RINGS, type FleetAccount, type Ring } from './fleet-schema';

const WaveSize = z.number().int().min(1);

export const WavePlanOptionsSchema = z.strictObject({
  /** Largest wave: one cap for every ring, or per ring (rings not listed: one wave for the whole ring). */
  maxWaveSize: z
    .union([
      WaveSize,
      z.strictObject({ canary: WaveSize, early: WaveSize, general: WaveSize, late: WaveSize }).partial(),
    ])
    .optional(),
});
export type WavePlanOptions = z.input<typeof WavePlanOptionsSchema>;

export type Wave = {
  /** 0-based position in the plan. */
  index: number;
  /** `<ring>-<n>`, n from 1 within the ring: canary-1, general-2. */
  name: string;
  ring: Ring;
  accountIds: string[];
};

/**
 * Rings in order canary → early → general → late; each ring split, in the given account order,
 * into waves of at most its cap. Empty rings produce no wave. Throws RangeError on a cap that is
 * not a positive integer.
 */
export function planWaves(
  accounts: readonly Pick<FleetAccount, 'id' | 'ring'>[],
  options: WavePlanOptions = {},
): Wave[] {
  const waves: Wave[] = [];
  for (const ring of RINGS) {
    const cap = waveCap(options.maxWaveSize, ring);
    const ids = accounts.filter((account) => account.ring === ring).map((account) => account.id);
    for (let start = 0, n = 1; start < ids.length; start += cap, n++) {
      waves.push({ index: waves.length, name: `${ring}-${n}`, ring, accountIds: ids.slice(start, start + cap) });
    }
  }
  return waves;
}

function waveCap(maxWaveSize: WavePlanOptions['maxWaveSize'], ring: Ring): number {
  const cap = typeof maxWaveSize === 'number' ? maxWaveSize : maxWaveSize?.[ring];
  if (cap === undefined) return Number.POSITIVE_INFINITY;
  if (!Number.isInteger(cap) || cap < 1)
    throw new RangeError(`maxWaveSize for ${ring} must be a positive integer, got ${cap}`);
  return cap;
}
