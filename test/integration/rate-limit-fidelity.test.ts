import { describe, expect, it } from 'vitest';
import { measureRate } from '../support/rate-measurement';
import { setFaultPlan, testStack } from '../support/test-stack';

const cfg = testStack();

describe('rate-limit fidelity against the real emulator', () => {
  it('holds a 40 calls/s budget within ±5% for ~20 s at ample demand', async () => {
    await setFaultPlan(cfg, null);
    const m = await measureRate({ awsEndpoint: cfg.awsEndpoint, budgetPerSecond: 40, seconds: 20, concurrency: 32 });
    process.stderr.write(
      `[rate-limit] budget 40/s: client ${m.observedRate.toFixed(2)}/s, proxy saw ${m.serverSeenRate.toFixed(2)}/s over ${m.seconds.toFixed(1)} s\n`,
    );
    expect(m.errorPercent).toBe(0);
    expect(Math.abs(m.observedRate - 40) / 40).toBeLessThanOrEqual(0.05);
    expect(Math.abs(m.serverSeenRate - 40) / 40).toBeLessThanOrEqual(0.05);
  }, 60_000);

  it('slows down when AWS throttles (the budget drops below its ceiling)', async () => {
    await setFaultPlan(cfg, {
      seed: 3,
      rules: [{ service: 'sts', actions: ['GetCallerIdentity'], throttleRate: 0.2 }],
    });
    try {
      const m = await measureRate({ awsEndpoint: cfg.awsEndpoint, budgetPerSecond: 40, seconds: 6, concurrency: 32 });
      expect(m.errorPercent).toBeGreaterThan(5);
      expect(m.observedRate).toBeLessThan(40 * 0.9);
      expect(m.finalRate).toBeLessThan(40);
    } finally {
      await setFaultPlan(cfg, null);
    }
  }, 60_000);
});
