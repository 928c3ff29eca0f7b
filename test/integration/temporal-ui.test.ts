import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { runSimSeed } from '../../cli/commands/sim-seed';
import { loadFleetFile } from '../../fleet/load-fleet';
import type { FleetAccount } from '../../fleet/fleet-schema';
import { statusQuery, type CampaignStatus } from '../../workflows/campaign/campaign-messages';
import type { CampaignReport } from '../../workflows/campaign/fleet-campaign';
import { campaignMetadata } from '../../cli/commands/campaign-start';
import type { FleetCampaignInput } from '../../workflows/campaign/campaign-input';
import { cleanUp } from '../support/cleanup';
import { secretsIn } from '../support/history-scan';
import { TemporalUi, UI_OUTPUT_DIR } from '../support/temporal-ui';
import { setFaultPlan, startTestWorker, testClient, testStack } from '../support/test-stack';

// The Temporal UI as the operator's console, driven in headless Chromium (Debian's chromium with
// playwright-core) on the real local stack: the steps of docs/runbooks/start-and-steer-from-the-ui.md.
// Screenshots land in test-output/ui/ (a failed step saves FAILED-<step>.png there too).
const cfg = testStack();
const TASK_QUEUE = 'ui-test';
const RUN = Date.now().toString(36);
let fleetFile: string;
let fleet: FleetAccount[];
let pauseFleetFile: string;
let poisoned: string[];
let ui: TemporalUi;
let worker: Awaited<ReturnType<typeof startTestWorker>>;
let temporal: Awaited<ReturnType<typeof testClient>>;

/** The campaign started from the UI's form: 6 accounts, 2 of them poisoned at 1.1.0 (rolled back). */
const uiCampaignId = `ui-upgrade-${RUN}`;
/** What the operator types as the campaign's summary in the form (More options → User Metadata). */
const uiSummary = 'upgrade → 1.1.0 · all accounts (started from the UI)';

/** A workflow's user metadata as the UI reads it: static summary/details (describe) and current details (query). */
async function metadataOf(workflowId: string) {
  const handle = temporal.client.workflow.getHandle(workflowId);
  const d = await handle.describe();
  const meta = await handle.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
  return { summary: await d.staticSummary(), details: await d.staticDetails(), current: meta.currentDetails ?? '' };
}

beforeAll(async () => {
  fs.rmSync(UI_OUTPUT_DIR, { recursive: true, force: true });
  ({ file: fleetFile } = await runSimSeed({
    accounts: 6,
    idBase: 340_000_000_000,
    out: path.join(cfg.stateDir, 'ui-fleet.yaml'),
    quiet: true,
  }));
  ({ file: pauseFleetFile } = await runSimSeed({
    accounts: 2,
    idBase: 341_000_000_000,
    out: path.join(cfg.stateDir, 'ui-pause-fleet.yaml'),
    quiet: true,
  }));
  fleet = loadFleetFile(fleetFile);
  poisoned = [fleet[1].id, fleet[4].id];
  await setFaultPlan(cfg, {
    rules: [],
    cloudformation: { poisonedVersions: [{ version: '1.1.0', accounts: poisoned }] },
  });
  worker = await startTestWorker(TASK_QUEUE);
  temporal = await testClient(cfg);
  ui = await TemporalUi.launch(cfg.temporalUiUrl);
});

afterAll(() =>
  cleanUp({
    browser: () => ui?.close(),
    faultPlan: () => setFaultPlan(cfg, null),
    worker: () => worker?.stop(),
    temporal: () => temporal?.close(),
  }),
);

async function until<T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  let last = await read();
  while (!ok(last)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 300));
    last = await read();
  }
  return last;
}

describe('the Temporal UI as the operator console (headless Chromium)', () => {
  it('starts fleetCampaign from "Start Workflow" with one JSON input, and the campaign runs', async () => {
    const input = {
      operation: 'upgrade',
      fleetFile,
      upgrade: { targetVersion: '1.1.0', healthBakeSeconds: 1, healthPollSeconds: 1 },
      maxInFlight: 3,
      failureBudget: { maxFailures: 6 },
    };
    await ui.step('fill and submit the Start Workflow form', () =>
      ui.startWorkflow({
        workflowId: uiCampaignId,
        taskQueue: TASK_QUEUE,
        workflowType: 'fleetCampaign',
        input,
        summary: uiSummary,
        screenshot: '01-start-workflow-form',
      }),
    );
    const handle = temporal.client.workflow.getHandle(uiCampaignId);
    await ui.step('the campaign page shows it running, with account children', async () => {
      await ui.openWorkflow(uiCampaignId);
      await ui.waitForStatus('Running');
      await ui.page.getByRole('link', { name: 'fleetCampaign' }).first().waitFor();
      // progress: the status query through the client sees accounts start
      await until(
        'an account to start',
        () => handle.query(statusQuery),
        (s) => s.phase === 'running' && s.total > 0,
      );
      // the timeline names each account child by its summary line
      await ui.page
        .getByText(/^upgrade \d{12} → 1\.1\.0$/)
        .first()
        .waitFor();
      await ui.shot('02-campaign-running');
    });
    const report: CampaignReport = await ui.step('the campaign completes', () => handle.result());
    expect(report.phase).toBe('completed');
    expect(report.total).toBe(6);
    expect(report.counts).toEqual({ upgraded: 4, 'rolled-back': 2 });
    expect(report.problems.map((p) => p.accountId).sort()).toEqual([...poisoned].sort());
    await ui.step('the campaign page shows it completed with its result', async () => {
      await ui.openWorkflow(uiCampaignId);
      await ui.waitForStatus('Completed');
      const result = await ui.boxText('Result');
      expect(result).toContain('"phase": "completed"');
      expect(result).toContain('"upgraded": 4');
      expect(result).toContain('"rolled-back": 2');
      await ui.shot('03-campaign-completed');
    });
  });

  it('user metadata: the campaign and each account child carry a summary and live details (read back through the client)', async () => {
    // The campaign: the summary typed in the form; the live details it keeps itself.
    const campaign = await metadataOf(uiCampaignId);
    expect(campaign.summary).toBe(uiSummary);
    expect(campaign.current).toContain('**Phase: completed**');
    expect(campaign.current).toContain('**Waves** (failures / budget)');
    expect(campaign.current).toMatch(/- canary-1 \(canary\): done · 1 of 1 done · failures 0 \/ 6/);
    expect(campaign.current).toContain('6 of 6 accounts done');
    for (const id of poisoned) expect(campaign.current).toContain(`\`${id}\` rolled-back`);
    // Each child: a summary line, static details naming the campaign, live details ending in its outcome.
    const rolledBack = await metadataOf(`${uiCampaignId}/${poisoned[0]}`);
    expect(rolledBack.summary).toBe(`upgrade ${poisoned[0]} → 1.1.0`);
    expect(rolledBack.details).toContain(`campaign \`${uiCampaignId}\``);
    expect(rolledBack.current).toContain('**Outcome: rolled-back**');
    expect(rolledBack.current).toMatch(
      /- eu-\w+-\d: rolled-back · 1\.0\.0 → 1\.1\.0 · update .* rolled it back to 1\.0\.0/,
    );
    const upgraded = fleet.find((a) => !poisoned.includes(a.id))!.id;
    const ok = await metadataOf(`${uiCampaignId}/${upgraded}`);
    expect(ok.summary).toBe(`upgrade ${upgraded} → 1.1.0`);
    expect(ok.current).toContain('**Outcome: upgraded**');
    expect(ok.current).toMatch(/- eu-\w+-\d: upgraded · 1\.0\.0 → 1\.1\.0/);
    // ids, versions and states only: nothing a secret scan would flag
    const all = [campaign, rolledBack, ok].flatMap((m) => [m.summary ?? '', m.details ?? '', m.current]).join('\n');
    expect(secretsIn(all)).toEqual([]);

    await ui.step('the campaign page: User Metadata tab', async () => {
      await ui.openWorkflow(uiCampaignId);
      await ui.userMetadata([uiSummary, 'Phase: completed', 'canary-1 (canary): done', `${poisoned[0]} rolled-back`]);
      await ui.shot('03b-campaign-user-metadata');
    });
    await ui.step('a rolled-back child: User Metadata tab', async () => {
      await ui.openWorkflow(`${uiCampaignId}/${poisoned[0]}`);
      await ui.userMetadata([`upgrade ${poisoned[0]} → 1.1.0`, 'Outcome: rolled-back', uiCampaignId]);
      await ui.shot('03c-child-user-metadata');
    });
  });

  it('bad JSON fields: the workflow fails at once and the UI shows the message naming each field', async () => {
    const workflowId = `ui-bad-input-${RUN}`;
    await ui.step('submit the form with three bad fields', () =>
      ui.startWorkflow({
        workflowId,
        taskQueue: TASK_QUEUE,
        workflowType: 'fleetCampaign',
        input: {
          operation: 'upgrade',
          fleetFile,
          maxInFlight: 0,
          select: { rings: ['canary', 'nightly'] },
          upgrade: { targetVersion: 'one-point-one' },
        },
      }),
    );
    const err = await temporal.client.workflow
      .getHandle(workflowId)
      .result()
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const cause = (err as WorkflowFailedError).cause;
    expect(cause).toBeInstanceOf(ApplicationFailure);
    expect((cause as ApplicationFailure).type).toBe('InvalidWorkflowInput');
    const described = await temporal.client.workflow.getHandle(workflowId).describe();
    const ms = (described.closeTime?.getTime() ?? 0) - described.startTime.getTime();
    expect(ms).toBeLessThan(5_000); // at once: no activity, no retry
    await ui.step('the workflow page shows FAILED and each bad field', async () => {
      await ui.openWorkflow(workflowId);
      await ui.waitForStatus('Failed');
      const result = await ui.boxText('Result');
      expect(result).toContain('invalid fleetCampaign input');
      for (const field of ['at maxInFlight', 'at select.rings[1]', 'at upgrade.targetVersion']) {
        expect(result).toContain(field);
      }
      await ui.shot('04-bad-input-failed');
    });
    for (const field of ['maxInFlight', 'select.rings', 'upgrade.targetVersion']) {
      expect((cause as ApplicationFailure).message).toContain(field);
    }
  });

  it('the workflow list filtered by FleetCampaignId and FleetState = "rolled-back" finds the rolled-back accounts', async () => {
    const query = `FleetCampaignId = "${uiCampaignId}" AND FleetState = "rolled-back"`;
    // Visibility is eventually consistent: the client sees the same list first.
    const listed = await until(
      'the rolled-back children in visibility',
      async () => {
        const ids: string[] = [];
        for await (const wf of temporal.client.workflow.list({ query })) ids.push(wf.workflowId);
        return ids.sort();
      },
      (ids) => ids.length === 2,
      20_000,
    );
    expect(listed).toEqual(poisoned.map((id) => `${uiCampaignId}/${id}`).sort());
    await ui.step('type the filter into the list query box', async () => {
      await ui.filterWorkflows(query);
      for (const id of listed) await ui.page.getByRole('link', { name: id, exact: true }).waitFor();
      await ui.page.getByRole('button', { name: /^2 Completed$/i }).waitFor();
    });
    const rows = await ui.page
      .getByRole('row')
      .filter({ hasText: `${uiCampaignId}/` })
      .count();
    expect(rows).toBe(2);
    await ui.shot('05-list-filter-rolled-back');
  });

  it('the runbook names the labels, query and signal these tests use', () => {
    const runbook = fs.readFileSync(
      path.resolve(__dirname, '../../docs/runbooks/start-and-steer-from-the-ui.md'),
      'utf8',
    );
    for (const text of [
      'Workflows → Start Workflow',
      'Workflow Type: `fleetCampaign`',
      'More options → User Metadata → Summary',
      'User Metadata → Current Details',
      'FleetCampaignId = "upgrade-1.1.0-2025-03-04" AND FleetState = "rolled-back"',
      'More Actions → Send a Signal',
      '`pause`',
    ]) {
      expect(runbook).toContain(text);
    }
  });

  it('pause from the signal dialog: the campaign phase becomes paused', async () => {
    const workflowId = `ui-pause-${RUN}`;
    // A campaign that stays busy: one account at a time, each watching its health alarm for 60 s.
    const input: FleetCampaignInput = {
      operation: 'upgrade',
      fleetFile: pauseFleetFile,
      upgrade: { targetVersion: '1.2.0', healthBakeSeconds: 60, healthPollSeconds: 1 },
      maxInFlight: 1,
    };
    // Started as `fleetops campaign start` starts it: with its static summary and details.
    const handle = await temporal.client.workflow.start('fleetCampaign', {
      taskQueue: TASK_QUEUE,
      workflowId,
      args: [input],
      ...campaignMetadata(input),
    });
    try {
      await until(
        'the campaign running an account',
        () => handle.query(statusQuery),
        (s) => s.inFlight === 1,
      );
      const reason = 'paused from the Temporal UI by the on-call';
      await ui.step('open the campaign and send pause from the signal dialog', async () => {
        await ui.openWorkflow(workflowId);
        await ui.sendSignal('pause', { reason }, '06-signal-dialog-pause');
      });
      const status: CampaignStatus = await until(
        'phase paused',
        () => handle.query(statusQuery),
        (s) => s.phase === 'paused',
        20_000,
      );
      expect(status.phaseReason).toBe(reason);
      const meta = await metadataOf(workflowId);
      expect(meta.summary).toBe('upgrade → 1.2.0 · all accounts');
      expect(meta.current).toContain(`**Phase: paused** — ${reason}`);
      await ui.step(
        'the campaign page after the signal: the pause in its history, phase paused in its details',
        async () => {
          await ui.openWorkflow(workflowId);
          await ui.waitForStatus('Running');
          await ui.page.getByRole('tab', { name: /Event History/ }).click();
          await ui.page.getByText('Workflow Execution Signaled').first().waitFor();
          await ui.shot('07-campaign-signaled');
          await ui.userMetadata(['upgrade → 1.2.0 · all accounts', `Phase: paused — ${reason}`]);
          await ui.shot('08-campaign-paused-details');
        },
      );
    } finally {
      await handle.terminate('UI test done').catch(() => undefined);
    }
  });
});
