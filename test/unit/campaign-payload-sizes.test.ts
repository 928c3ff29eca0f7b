import { describe, expect, it } from 'vitest';
import { windowsAsTable } from '../../activities/campaign/campaign-activities';
import { simulatedFleet } from '../../cli/sim/simulated-fleet';
import type { MaintenanceWindow } from '../../fleet/fleet-schema';
import { planWaves } from '../../fleet/plan-waves';
import { failureBudgetFor, windowLimit } from '../../workflows/campaign/campaign-budget';
import { campaignInputSchema, type FleetCampaignOptions } from '../../workflows/campaign/campaign-input';
import { emptyState, type CampaignState } from '../../workflows/campaign/campaign-state';
import { buildStatus, MAX_STATUS_PROBLEMS } from '../../workflows/campaign/campaign-status';
import { isPacked, packState, unpackState } from '../../workflows/campaign/packed-state';

// Issue 11 item 9 on paper: a 40,000-account campaign's payloads, computed with the engine's own
// functions (plan activity, state, packing, status), each well under Temporal's 2 MB payload limit.
// The run itself, on the time-skipping server: `npm run bench:engine -- 40000`.
// planCampaign with a real fleet file and `windowTable` is covered by test/workflow/campaign-engine.test.ts.

const N = 40_000;
const MB = 1024 * 1024;
const WINDOWS: MaintenanceWindow[] = [
  { days: ['tue', 'wed'], start: '22:00', durationMinutes: 240, timezone: 'Europe/Berlin' },
  { days: ['sat'], start: '02:00', durationMinutes: 180, timezone: 'America/New_York' },
];
const bytes = (x: unknown) => Buffer.byteLength(JSON.stringify(x));

/**
 * Plans N accounts (each with a maintenance window) as the planCampaign activity does — its waves and
 * its window table — without writing and parsing a 40,000-account YAML file (minutes on a busy machine).
 */
function plan40k() {
  const fleet = simulatedFleet(N, { secrets: false, images: false }).map((a, i) => ({
    ...a,
    maintenanceWindow: structuredClone(WINDOWS[i % 2]),
  }));
  const waves = planWaves(fleet, { maxWaveSize: 5000 }).map((w) => ({
    name: w.name,
    ring: w.ring,
    accountIds: w.accountIds,
  }));
  const windows = Object.fromEntries(fleet.map((a) => [a.id, a.maintenanceWindow]));
  return {
    table: { ...windowsAsTable(waves, windows), notSelected: [] },
    perAccount: { waves, windows, notSelected: [] },
  };
}

const input = campaignInputSchema().parse({
  operation: 'upgrade',
  fleetFile: '/fleets/fleet.yaml',
  upgrade: { targetVersion: '1.1.0' },
  maxInFlight: 500,
  failureBudget: { maxFailurePercent: 100 },
}) as FleetCampaignOptions;

/** The state at the end of the last wave: every account finished, `failEvery`-th failed with a reason, some retried. */
function finishedState(plan: ReturnType<typeof plan40k>['table'], failEvery: number): CampaignState {
  const st = emptyState('upgrade-40k');
  st.waves = plan.waves.map(({ windows: _w, ...w }) => ({
    ...w,
    budget: failureBudgetFor(w.accountIds.length, input.failureBudget),
    forgiven: 0,
  }));
  plan.waves.forEach((w) => w.windows?.forEach((i, k) => (st.windows[w.accountIds[k]] = plan.windowTable![i])));
  st.waves
    .flatMap((w) => w.accountIds)
    .forEach((id, i) => {
      st.accounts[id] =
        i % failEvery === 0
          ? {
              s: 'rolled-back',
              a: 1 + (i % 3),
              r: `health alarm data-pipeline-health fired after update (${id})`,
              e: 'HealthCheckFailed',
              rb: 'docs/runbooks/health-alarm.md',
            }
          : { s: 'upgraded', a: 1 };
    });
  st.waveIndex = st.waves.length - 1;
  st.waveState = 'running';
  st.run = 41;
  return st;
}

describe('40,000-account campaign payloads (issue 11 item 9)', () => {
  it('plan, carried state and status each stay under 1 MB; unpacked they would not', () => {
    const plan = plan40k();
    expect(plan.table.waves.flatMap((w) => w.accountIds)).toHaveLength(N);
    expect(plan.table.windowTable).toHaveLength(2);
    expect(bytes(plan.table)).toBeLessThan(MB);
    expect(bytes(plan.perAccount)).toBeGreaterThan(2 * MB); // why planCampaign answers with a window table

    const st = finishedState(plan.table, 100);
    expect(Object.keys(st.windows)).toHaveLength(N);
    const packed = packState(st);
    expect(isPacked(packed)).toBe(true);
    expect(bytes(packed)).toBeLessThan(MB);
    expect(bytes(st)).toBeGreaterThan(2 * MB); // why the carry is packed
    expect(unpackState(JSON.parse(JSON.stringify(packed)))).toEqual(st);

    const wave = st.waves[st.waveIndex];
    const limit = windowLimit(input.maxInFlight, wave.budget, 0, 'strict');
    const status = buildStatus(st, input, '1.1.0', 0, limit);
    expect(status.problems).toHaveLength(N / 100);
    expect(status.problemsOmitted).toBeUndefined();
    expect(bytes(status)).toBeLessThan(MB);
  }, 60_000);

  it('every account failing: the status lists the first problems and counts the rest, under 1 MB', () => {
    const plan = plan40k();
    const st = finishedState(plan.table, 1);
    const packed = packState(st);
    expect(bytes(packed)).toBeLessThan(MB); // reasons carried for the listed problems only
    const again = buildStatus(unpackState(packed), input, '1.1.0', 0, windowLimit(500, 40_000, 0, 'strict'));
    expect(again.problems).toHaveLength(MAX_STATUS_PROBLEMS);
    expect(again.problems.every((p) => p.reason.startsWith('health alarm'))).toBe(true);
    const status = buildStatus(st, input, '1.1.0', 0, windowLimit(500, 40_000, 0, 'strict'));
    expect(status.problems).toHaveLength(MAX_STATUS_PROBLEMS);
    expect(status.problemsOmitted).toBe(N - MAX_STATUS_PROBLEMS);
    expect(status.counts['rolled-back']).toBe(N);
    expect(bytes(status)).toBeLessThan(MB);
  }, 60_000);

  it('a carry written before packing is taken as it is', () => {
    const st = emptyState('old');
    st.accounts['123456789012'] = { s: 'upgraded', a: 1 };
    expect(isPacked(st)).toBe(false);
    expect(unpackState(st)).toBe(st);
  });
});
