import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { runSimSeed } from '../../cli/commands/sim-seed';
import type { CampaignStatus } from '../../workflows/campaign/campaign-messages';
import { startTestWorker, testStack } from '../support/test-stack';
import { fleetopsCli } from '../support/fleetops-cli';

// The runbook CLI (`fleetops campaign …`) against the real engine on the local stack.
const cfg = testStack();
const TASK_QUEUE = 'campaign-cli-test';
let fleetFile: string;
let worker: Awaited<ReturnType<typeof startTestWorker>>;

beforeAll(async () => {
  ({ file: fleetFile } = await runSimSeed({
    accounts: 20,
    idBase: 600_000_000_000,
    out: path.join(cfg.stateDir, 'cli-fleet.yaml'),
    quiet: true,
  }));
  worker = await startTestWorker(TASK_QUEUE);
});
afterAll(async () => worker?.stop());

/** Runs `fleetops …` as an operator would (never throws). */
const fleetops = fleetopsCli(TASK_QUEUE);

async function statusOf(id: string): Promise<CampaignStatus> {
  const r = await fleetops('campaign', 'status', id, '--json');
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as CampaignStatus;
}

describe('fleetops campaign (runbook CLI)', () => {
  it('start → approval gate → pause/resume → approve → watch to completion, with clear errors on bad requests', async () => {
    const id = 'cli-campaign-1';
    const bad = await fleetops(
      'campaign',
      'start',
      '--operation',
      'upgrade',
      '--version',
      '1.1',
      '--fleet',
      fleetFile,
      '--failure-budget',
      '12x',
    );
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('--failure-budget "12x"');
    expect(bad.stderr).toContain('--version');

    const started = await fleetops(
      'campaign',
      'start',
      '--operation',
      'upgrade',
      '--version',
      '1.1.0',
      '--fleet',
      fleetFile,
      '--approve-before',
      'early',
      '--health-bake',
      '1',
      '--failure-budget',
      '50%',
      '--campaign-id',
      id,
      '--json',
    );
    expect(started.code, started.stderr).toBe(0);
    expect(JSON.parse(started.stdout)).toMatchObject({ campaignId: id });

    let s = await statusOf(id);
    for (let i = 0; i < 100 && s.phase !== 'awaiting-approval'; i++) {
      await new Promise((r) => setTimeout(r, 300));
      s = await statusOf(id);
    }
    expect(s.phase).toBe('awaiting-approval');
    expect(s.currentWave).toBe('early-1');
    // The text view of a running campaign is the snapshot in its memo: one describe, no query.
    const snapshotView = await fleetops('campaign', 'status', id);
    expect(snapshotView.code, snapshotView.stderr).toBe(0);
    expect(snapshotView.stdout).toMatch(/phase {5}awaiting-approval — wave early-1/);
    expect(snapshotView.stdout).toMatch(/as of {5}\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ \(\d+s ago;/);
    const liveView = await fleetops('campaign', 'status', id, '--live');
    expect(liveView.stdout).toContain('awaiting-approval');
    expect(liveView.stdout).not.toContain('as of');

    const wrongWave = await fleetops('campaign', 'approve', id, '--wave', 'general-1');
    expect(wrongWave.code).toBe(1);
    expect(wrongWave.stderr).toContain('not the wave waiting for approval (early-1)');
    expect((await fleetops('campaign', 'pause', id, '--reason', 'checking dashboards')).code).toBe(0);
    const again = await fleetops('campaign', 'pause', id);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('already paused');
    expect((await fleetops('campaign', 'resume', id)).code).toBe(0);
    const notInCampaign = await fleetops('campaign', 'retry', id, '999999999999');
    expect(notInCampaign.code).toBe(1);
    expect(notInCampaign.stderr).toContain('999999999999');

    expect((await fleetops('campaign', 'approve', id)).code).toBe(0);
    const watched = await fleetops('campaign', 'status', id, '--watch', '--json');
    expect(watched.code, watched.stderr).toBe(0);
    const final = JSON.parse(watched.stdout) as CampaignStatus;
    expect(final.phase).toBe('completed');
    expect(final.counts.upgraded).toBe(20);

    const finished = await fleetops('campaign', 'pause', id);
    expect(finished.code).toBe(1);
    expect(finished.stderr).toMatch(/already completed/);
    const list = await fleetops('campaign', 'list', '--all', '--json');
    expect(list.stdout).toContain(id);
  }, 300_000);

  it('names an unknown campaign', async () => {
    const r = await fleetops('campaign', 'status', 'no-such-campaign');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('no campaign "no-such-campaign"');
  });
});
