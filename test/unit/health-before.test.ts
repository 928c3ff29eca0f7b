import { describe, expect, it } from 'vitest';
import { formatFinalSummary, formatPlanReport, formatProblems, tally } from '../../cli/commands/campaign-status-view';
import { campaignCurrentDetails } from '../../workflows/campaign/campaign-metadata';
import type { CampaignStatus } from '../../workflows/campaign/campaign-messages';
import { isFailure } from '../../workflows/campaign/campaign-state';
import { outcomeKind } from '../../workflows/operation/account-operation';
import { UNHEALTHY_BEFORE, unhealthyStop } from '../../workflows/operation/health-before';

const reading = (state: string, reason?: string) => ({
  region: 'eu-west-1',
  alarms: [{ name: 'data-pipeline-health', state, ...(reason ? { reason } : {}) }],
});

describe('health before the change', () => {
  it('only an alarm in ALARM stops the account; OK, INSUFFICIENT_DATA and a missing alarm let it go on', () => {
    expect(unhealthyStop([reading('OK'), reading('INSUFFICIENT_DATA')], false)).toBeUndefined();
    expect(unhealthyStop([{ region: 'eu-west-1', alarms: [] }], false)).toBeUndefined();
    const stop = unhealthyStop(
      [reading('OK'), { ...reading('ALARM', 'Threshold Crossed'), region: 'us-east-1' }],
      false,
    );
    expect(stop).toEqual({
      outcome: 'unhealthy-before',
      reason: 'alarm data-pipeline-health in ALARM in us-east-1 (Threshold Crossed) before the change; not touched',
    });
  });

  it('plan mode says it would skip the account', () => {
    expect(unhealthyStop([reading('ALARM', 'x')], true)?.reason).toBe(
      'would skip: unhealthy — alarm data-pipeline-health in ALARM in eu-west-1 (x)',
    );
  });

  it('is a neutral outcome: never counted against the failure budget', () => {
    expect(outcomeKind(UNHEALTHY_BEFORE)).toBe('neutral');
    expect(isFailure(UNHEALTHY_BEFORE)).toBe(false);
    expect(isFailure('rolled-back')).toBe(true);
  });
});

describe('unhealthy-before in the CLI and the UI details', () => {
  const status: CampaignStatus = {
    campaignId: 'c1',
    operation: 'upgrade',
    target: '1.1.0',
    plan: false,
    phase: 'completed',
    total: 3,
    counts: { upgraded: 2, 'unhealthy-before': 1 },
    inFlight: 0,
    window: 0,
    waves: [],
    problems: [
      {
        accountId: '111111111111',
        wave: 'general-1',
        state: 'unhealthy-before',
        reason: 'alarm data-pipeline-health in ALARM in eu-west-1 (down) before the change; not touched',
        runbook: 'docs/runbooks/unhealthy-before.md',
      },
    ],
    notSelected: [],
    awaitingApproval: [],
    startedAt: '2026-11-26T00:00:00Z',
    etaSeconds: 0,
    run: 1,
  };

  it('tally counts it as skipped and says how many were unhealthy; the summary names them', () => {
    expect(tally(status.counts)).toMatchObject({ ok: 2, failed: 0, skipped: 1, unhealthy: 1 });
    expect(formatFinalSummary(status)).toBe(
      '✔ campaign c1 completed: 2 ok, 0 failed, 1 skipped (1 unhealthy-before: alarm in ALARM, not touched), 0 not done, of 3\n',
    );
  });

  it('problems list the account with its alarm and runbook, not as a failure', () => {
    const lines = formatProblems(status);
    expect(lines[0]).toBe('problems (1): unhealthy-before × 1');
    expect(lines[1]).toMatch(
      /^ {2}– 111111111111 {2}general-1 {2}unhealthy-before: alarm data-pipeline-health in ALARM/,
    );
    expect(lines[2]).toBe('      runbook: docs/runbooks/unhealthy-before.md');
    expect(campaignCurrentDetails(status)).toMatch(
      /`111111111111` unhealthy-before \(general-1\): alarm data-pipeline-health/,
    );
  });

  it('the plan report counts and lists accounts it would skip as unhealthy', () => {
    const lines = formatPlanReport([
      {
        accountId: '111111111111',
        regions: [
          {
            region: 'eu-west-1',
            outcome: 'unhealthy-before',
            reason: 'would skip: unhealthy — alarm a in ALARM in eu-west-1',
          },
        ],
      },
      { accountId: '222222222222', regions: [{ region: 'eu-west-1', outcome: 'already-current' }] },
    ]);
    expect(lines[0]).toBe(
      'plan: 2 accounts — 0 would change, 1 unchanged, 0 could not be planned, 1 would skip: unhealthy',
    );
    expect(lines[1]).toBe('  – 111111111111 eu-west-1  would skip: unhealthy — alarm a in ALARM in eu-west-1');
  });
});
