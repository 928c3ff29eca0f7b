import fs from 'node:fs';
import path from 'node:path';
import { ApplicationFailure, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { registerCampaignCommands } from '../../cli/commands/campaign';
import { checkCampaignAction, explainUpdateError } from '../../cli/commands/campaign-control';
import {
  campaignInputFromFlags,
  defaultCampaignId,
  flagOfInputPath,
  InvalidCampaignFlags,
  parseFailureBudget,
  type CampaignStartFlags,
} from '../../cli/commands/campaign-flags';
import { campaignListQuery, formatCampaignList } from '../../cli/commands/campaign-list';
import { CAMPAIGN_WORKFLOW_TYPE } from '../../cli/commands/campaign-client';
import { SNAPSHOT_LIST_LIMIT, snapshotOf } from '../../workflows/campaign/campaign-snapshot';
import { fleetCampaign } from '../../workflows/campaign/fleet-campaign';
import {
  campaignExitCode,
  formatCampaignLine,
  formatAsOf,
  formatCampaignStatus,
  formatDuration,
  formatFinalSummary,
  formatPlanReport,
  tally,
  type CampaignResult,
} from '../../cli/commands/campaign-status-view';
import type { CampaignStatus } from '../../workflows/campaign/campaign-messages';

const NOW = new Date('2025-03-04T13:05:59Z');
const start = (over: Partial<CampaignStartFlags> = {}) =>
  campaignInputFromFlags({ operation: 'upgrade', version: '1.4.2', fleet: 'fleet.yaml', ...over }, NOW);
const problemsOf = (over: Partial<CampaignStartFlags>): string[] => {
  try {
    start(over);
  } catch (err) {
    if (err instanceof InvalidCampaignFlags) return err.problems;
    throw err;
  }
  throw new Error('expected InvalidCampaignFlags');
};

describe('campaign start: flags → fleetCampaign input', () => {
  it('builds the input with the engine defaults and a default campaign id', () => {
    const { campaignId, input } = start();
    expect(campaignId).toBe('upgrade-1.4.2-202503041305');
    expect(input).toMatchObject({
      campaignId,
      operation: 'upgrade',
      fleetFile: path.resolve('fleet.yaml'),
      upgrade: { targetVersion: '1.4.2', onStatefulChange: 'skip', healthBakeSeconds: 300 },
      plan: false,
      maxInFlight: 20,
      failureBudget: { maxFailurePercent: 10, onExceeded: 'pause' },
      respectMaintenanceWindows: true,
    });
    expect(input.select).toBeUndefined();
  });

  it('maps every flag', () => {
    const { campaignId, input } = start({
      rings: ['canary', 'early'],
      accounts: ['123456789012'],
      tag: ['tier=enterprise'],
      regions: ['eu-west-1'],
      plan: true,
      maxInFlight: '50',
      failureBudget: '3',
      onBudget: 'cancel',
      maxWaveSize: 'canary=2,general=100',
      waveBake: '15m',
      leaseWait: '10m',
      approveBefore: 'early,general',
      stateful: 'approve',
      healthBake: '90s',
      ignoreMaintenanceWindows: true,
    });
    expect(campaignId).toBe('upgrade-1.4.2-202503041305-plan');
    expect(input).toMatchObject({
      plan: true,
      maxInFlight: 50,
      failureBudget: { maxFailures: 3, onExceeded: 'cancel' },
      maxWaveSize: { canary: 2, general: 100 },
      waveBakeSeconds: 900,
      leaseWaitSeconds: 600,
      approvalBefore: ['early', 'general'],
      respectMaintenanceWindows: false,
      upgrade: { targetVersion: '1.4.2', onStatefulChange: 'approve', healthBakeSeconds: 90 },
      select: {
        ids: ['123456789012'],
        rings: ['canary', 'early'],
        tags: { tier: 'enterprise' },
        regions: ['eu-west-1'],
      },
    });
    expect(start({ campaignId: 'fix-acme', approveBefore: 'all', maxWaveSize: '25' })).toMatchObject({
      campaignId: 'fix-acme',
      input: { campaignId: 'fix-acme', approvalBefore: 'all', maxWaveSize: 25 },
    });
  });

  it('reads --failure-budget as a count or a percent', () => {
    expect(start({ failureBudget: '5%' }).input.failureBudget).toEqual({ maxFailurePercent: 5, onExceeded: 'pause' });
    expect(start({ failureBudget: '2.5%' }).input.failureBudget).toMatchObject({ maxFailurePercent: 2.5 });
    expect(start({ failureBudget: '5' }).input.failureBudget).toEqual({ maxFailures: 5, onExceeded: 'pause' });
    // --on-budget alone keeps the default limit instead of silently dropping it
    expect(start({ onBudget: 'cancel' }).input.failureBudget).toEqual({ maxFailurePercent: 10, onExceeded: 'cancel' });
    expect(parseFailureBudget('12x')).toEqual({
      ok: false,
      problem: expect.stringContaining('--failure-budget "12x": expected'),
    });
  });

  it('names the flag, the value and the expected form for each bad flag, all at once', () => {
    expect(problemsOf({ failureBudget: '12x' })).toEqual([
      '--failure-budget "12x": expected a number of accounts per wave (5) or a percent of the wave (10%)',
    ]);
    const problems = problemsOf({
      version: undefined,
      maxInFlight: '900',
      waveBake: '5x',
      approveBefore: 'early,middle',
      rings: ['foo'],
      onBudget: 'stop',
      failureBudget: '0',
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^--rings "foo": .*canary/),
        expect.stringMatching(/^--version: required with --operation upgrade/),
        expect.stringMatching(/^--wave-bake "5x": expected seconds \(300\) or a duration like 90s/),
        expect.stringMatching(/^--approve-before "early,middle": expected "all" or .*unknown: middle/),
        expect.stringMatching(/^--max-in-flight "900": .*500/),
        expect.stringMatching(/^--on-budget "stop": .*pause.*cancel/),
        expect.stringMatching(/^--failure-budget "0": /),
      ]),
    );
    expect(problems).toHaveLength(7);
    expect(
      problemsOf({ version: '1.2', stateful: 'maybe', campaignId: 'a b', maxWaveSize: 'huge=3', tag: ['oops'] }),
    ).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^--version "1.2": expected semver/),
        expect.stringMatching(/^--stateful "maybe": .*approve.*skip/),
        expect.stringMatching(/^--campaign-id "a b": expected letters/),
        expect.stringMatching(/^--max-wave-size "huge=3": expected a number \(50\) or per ring/),
        '--tag oops: expected KEY=VALUE',
      ]),
    );
    expect(() => start({ failureBudget: '12x' })).toThrow('invalid campaign: --failure-budget "12x"');
  });

  it('takes --concurrency-mode strict or soft (default strict) and names the flag when it is neither', () => {
    expect(start().input.concurrencyMode).toBe('strict');
    expect(start({ concurrencyMode: 'soft' }).input.concurrencyMode).toBe('soft');
    expect(start({ concurrencyMode: ' strict ' }).input.concurrencyMode).toBe('strict');
    const problems = problemsOf({ concurrencyMode: 'loose' });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^--concurrency-mode "loose": .*strict.*soft/);
    expect(flagOfInputPath(['concurrencyMode'])).toBe('--concurrency-mode');
  });

  it('maps input schema paths to flags and makes ids from odd versions', () => {
    expect(flagOfInputPath(['failureBudget', 'maxFailurePercent'])).toBe('--failure-budget');
    expect(flagOfInputPath(['failureBudget', 'onExceeded'])).toBe('--on-budget');
    expect(flagOfInputPath(['upgrade', 'targetVersion'])).toBe('--version');
    expect(flagOfInputPath(['approvalBefore', 1])).toBe('--approve-before');
    expect(defaultCampaignId('upgrade', '2.0.0-rc.1+build.5', NOW)).toBe('upgrade-2.0.0-rc.1-build.5-202503041305');
  });
});

const wave = (over: Partial<CampaignStatus['waves'][number]>): CampaignStatus['waves'][number] => ({
  index: 0,
  name: 'canary-1',
  ring: 'canary',
  size: 2,
  counts: {},
  failures: 0,
  failureBudget: 1,
  state: 'pending',
  ...over,
});

const STATUS: CampaignStatus = {
  campaignId: 'upgrade-1.4.2-202503041200',
  operation: 'upgrade',
  plan: false,
  phase: 'paused',
  phaseReason: 'failure budget of wave general-1 used up',
  currentWave: 'general-1',
  total: 12,
  counts: { upgraded: 5, 'already-current': 1, skipped: 1, quarantined: 1, failed: 1, running: 0, pending: 3 },
  inFlight: 0,
  window: 4,
  waves: [
    wave({ index: 0, name: 'canary-1', ring: 'canary', size: 2, counts: { upgraded: 2 }, state: 'done' }),
    wave({
      index: 1,
      name: 'general-1',
      ring: 'general',
      size: 7,
      counts: { upgraded: 3, 'already-current': 1, skipped: 1, quarantined: 1, failed: 1 },
      failures: 2,
      failureBudget: 2,
      state: 'running',
    }),
    wave({ index: 2, name: 'late-1', ring: 'late', size: 3, counts: { pending: 3 }, failureBudget: 1 }),
  ],
  problems: [
    {
      accountId: '200000000003',
      wave: 'general-1',
      state: 'quarantined',
      errorType: 'StackInRollbackFailed',
      reason: 'data-pipeline in eu-west-1 is UPDATE_ROLLBACK_FAILED',
      runbook: 'docs/runbooks/update-rollback-failed.md',
    },
    {
      accountId: '200000000004',
      wave: 'general-1',
      state: 'failed',
      errorType: 'AccountAccessDenied',
      reason: 'AssumeRole refused',
      runbook: 'docs/runbooks/account-access-denied.md',
    },
    {
      accountId: '200000000005',
      wave: 'general-1',
      state: 'skipped',
      reason: 'stateful change (AWS::RDS::DBInstance replaced) and onStatefulChange=skip',
    },
  ],
  notSelected: [
    { id: '200000000009', reason: 'paused' },
    { id: '200000000010', reason: 'quarantined: old problem' },
  ],
  awaitingApproval: [],
  startedAt: '2025-03-04T12:00:00.000Z',
  etaSeconds: 600,
  run: 2,
};

describe('campaign status view', () => {
  it('renders the header, one table row per wave, the failing accounts with runbooks and what to do next', () => {
    const text = formatCampaignStatus(STATUS, { now: NOW });
    const lines = text.split('\n');
    expect(lines[0]).toBe(
      'campaign upgrade-1.4.2-202503041200 — upgrade, started 2025-03-04 12:00:00Z (1h05m ago), run 2',
    );
    expect(text).toContain('  phase     paused — failure budget of wave general-1 used up');
    expect(text).toContain('  wave      general-1 (2 of 3)');
    expect(text).toMatch(/progress {2}\[#+\.+\] 9\/12 75% {2}eta 10m00s/);
    expect(text).toContain(
      'accounts  upgraded 5 · already-current 1 · skipped 1 · quarantined 1 · failed 1 · pending 3',
    );
    expect(text).toContain('window    0 in flight, window 4');
    const row = (name: string) =>
      lines
        .find((l) => l.trim().startsWith(name))
        ?.trim()
        .split(/\s{2,}/);
    expect(
      lines.some((l) => /WAVE\s+RING\s+SIZE\s+STATE\s+PENDING\s+RUNNING\s+OK\s+SKIPPED\s+FAILED\s+BUDGET/.test(l)),
    ).toBe(true);
    expect(row('canary-1')).toEqual(['canary-1', 'canary', '2', 'done', '0', '0', '2', '0', '0', '0/1']);
    expect(row('general-1 ')).toEqual(['general-1', 'general', '7', 'running', '0', '0', '4', '1', '2', '2/2 used up']);
    expect(row('late-1')).toEqual(['late-1', 'late', '3', 'pending', '3', '0', '0', '0', '0', '0/1']);
    expect(text).toContain('problems (3): StackInRollbackFailed × 1, AccountAccessDenied × 1, skipped × 1');
    expect(text).toContain(
      '  ✖ 200000000003  general-1  quarantined  StackInRollbackFailed: data-pipeline in eu-west-1 is UPDATE_ROLLBACK_FAILED\n      runbook: docs/runbooks/update-rollback-failed.md',
    );
    expect(text).toContain('  – 200000000005  general-1  skipped: stateful change');
    expect(text).toContain('not selected: 2 (paused 1, quarantined 1)');
    expect(text).toContain(
      'paused: npx fleetops campaign resume upgrade-1.4.2-202503041200  or  npx fleetops campaign cancel upgrade-1.4.2-202503041200 --reason "…"  (docs/runbooks/failure-budget-exceeded.md)',
    );
  });

  it('says which concurrency mode runs and why the window is smaller than maxInFlight', () => {
    const strict = formatCampaignStatus(
      {
        ...STATUS,
        phase: 'running',
        inFlight: 1,
        window: 1,
        maxInFlight: 50,
        concurrencyMode: 'strict',
        windowReason: 'window 1 of 50: 1 failure left in the budget',
      },
      { now: NOW },
    );
    expect(strict).toContain('  window    1 in flight, window 1 of 50: 1 failure left in the budget\n');
    expect(strict).toMatch(/\n {2}mode {6}strict — never more accounts at once than failures left in the budget/);
    const soft = formatCampaignStatus(
      { ...STATUS, phase: 'running', inFlight: 50, window: 50, maxInFlight: 50, concurrencyMode: 'soft' },
      { now: NOW },
    );
    expect(soft).toContain('  window    50 in flight, window 50 of 50\n');
    expect(soft).toMatch(/\n {2}mode {6}soft — maxInFlight until the budget is spent; .* may pass it/);
    // a status from before soft mode (no mode, no maxInFlight) renders as before
    expect(formatCampaignStatus(STATUS, { now: NOW })).not.toContain('  mode ');
  });

  it('a memo snapshot: says how old it is, counts and tallies what its lists left out', () => {
    const problems = Array.from({ length: 25 }, (_, i) => ({
      accountId: `3000000000${String(i).padStart(2, '0')}`,
      wave: 'general-1',
      state: 'failed' as const,
      errorType: i < 20 ? 'AccountAccessDenied' : undefined,
      reason: 'x',
    }));
    const snapshot = snapshotOf({ ...STATUS, phase: 'running', problems }, '2025-03-04T13:05:49.000Z');
    expect(snapshot.problems).toHaveLength(SNAPSHOT_LIST_LIMIT);
    const text = formatCampaignStatus(snapshot, { now: NOW });
    expect(text).toContain('problems (25): AccountAccessDenied × 20, failed × 5');
    expect(text).toContain('… and 5 more (campaign status upgrade-1.4.2-202503041200 --json lists them)');
    expect(text).toContain('as of     2025-03-04 13:05:49Z (10s ago; --live asks the campaign itself)');
    expect(text).toContain('not selected: 2 (paused 1, quarantined 1)');
    expect(formatAsOf('2025-03-04T12:55:59.000Z', NOW)).toContain(
      '(10m00s ago — nothing changed since, or no worker runs the campaign;',
    );
    expect(formatCampaignStatus(STATUS, { now: NOW })).not.toContain('as of');
  });

  it('caps the failing accounts listed and points at approvals', () => {
    const many: CampaignStatus = {
      ...STATUS,
      phase: 'running',
      phaseReason: undefined,
      problems: Array.from({ length: 8 }, (_, i) => ({
        accountId: `30000000000${i}`,
        wave: 'general-1',
        state: 'failed' as const,
        reason: 'x',
      })),
      awaitingApproval: ['400000000001'],
    };
    const text = formatCampaignStatus(many, { now: NOW, maxProblems: 3 });
    expect(text).toContain('… and 5 more (campaign status upgrade-1.4.2-202503041200 --json lists them)');
    expect(text).toContain('awaiting approval of a stateful change (1): 400000000001');
    expect(text).toContain('npx fleetops campaign approve upgrade-1.4.2-202503041200 --account <id>');
    expect(text).not.toContain('campaign resume');
    const gate = formatCampaignStatus(
      { ...STATUS, phase: 'awaiting-approval', phaseReason: undefined, currentWave: 'late-1', problems: [] },
      { now: NOW },
    );
    expect(gate).toContain(
      'wave late-1 waits for approval: npx fleetops campaign approve upgrade-1.4.2-202503041200 --wave late-1',
    );
    expect(gate).not.toContain('problems');
  });

  it("lists the accounts waiting for another campaign's lease and takes --lease-wait", () => {
    const waiting: CampaignStatus = {
      ...STATUS,
      phase: 'running',
      phaseReason: undefined,
      waitingForLease: [{ accountId: '400000000002', waitingFor: 'rotate-x', reason: 'waiting for rotate-x' }],
    };
    const text = formatCampaignStatus(waiting, { now: NOW });
    expect(text).toContain("waiting for another campaign's lease on the account (1):");
    expect(text).toContain('  400000000002: waiting for rotate-x');
    expect(formatCampaignStatus(STATUS, { now: NOW })).not.toContain('lease');
    expect(start().input.leaseWaitSeconds).toBe(3600);
    expect(start({ leaseWait: '90s' }).input.leaseWaitSeconds).toBe(90);
    const problems = problemsOf({ leaseWait: '0' });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^--lease-wait/);
  });

  it('renders a plan report and one-line summaries', () => {
    const report = formatPlanReport([
      {
        accountId: '100000000001',
        regions: [
          {
            region: 'eu-west-1',
            outcome: 'planned',
            fromVersion: '1.0.0',
            toVersion: '1.4.2',
            plan: { added: 1, modified: 2, replaced: 1, removed: 0, needsApproval: ['AWS::RDS::DBInstance'] },
          },
        ],
      },
      {
        accountId: '100000000002',
        regions: [
          {
            region: 'eu-west-1',
            outcome: 'already-current',
            plan: { added: 0, modified: 0, replaced: 0, removed: 0, needsApproval: [] },
          },
        ],
      },
      { accountId: '100000000003', regions: [{ region: 'us-east-1', outcome: 'failed', reason: 'stack not found' }] },
    ]);
    expect(report[0]).toBe('plan: 3 accounts — 1 would change, 1 unchanged, 1 could not be planned');
    expect(report).toContain(
      '  ▲ 100000000001 eu-west-1 1.0.0 → 1.4.2  planned  +1 ~2 replace 1 remove 0  needs approval: AWS::RDS::DBInstance',
    );
    expect(report).toContain('  ✖ 100000000003 us-east-1  failed  stack not found');
    const withPlan: CampaignResult = { ...STATUS, plan: true, phase: 'completed', planReport: [] };
    expect(formatCampaignStatus(withPlan, { now: NOW })).toContain('(plan: preview only, nothing changes)');
    expect(formatCampaignLine(STATUS, NOW)).toBe(
      '13:05:59 upgrade-1.4.2-202503041200 paused general-1 9/12 ok 6 failed 2 skipped 1 in flight 0 eta 10m00s',
    );
    expect(formatFinalSummary({ ...STATUS, phase: 'completed', phaseReason: undefined })).toBe(
      '✖ campaign upgrade-1.4.2-202503041200 completed: 6 ok, 2 failed, 1 skipped, 3 not done, of 12\n',
    );
    expect(formatDuration(3 * 3600 + 120)).toBe('3h02m');
  });

  it('exits 0 only for a completed campaign without failed accounts', () => {
    const done = (counts: CampaignStatus['counts'], phase: CampaignStatus['phase'] = 'completed') =>
      campaignExitCode({ ...STATUS, phase, counts });
    expect(done({ upgraded: 10, skipped: 2, 'already-current': 1 })).toBe(0);
    expect(done({ upgraded: 10, quarantined: 1 })).toBe(1);
    expect(done({ upgraded: 10, 'rolled-back': 1 })).toBe(1);
    expect(done({ upgraded: 10 }, 'cancelled')).toBe(1);
    expect(done({ upgraded: 10 }, 'paused')).toBe(1);
    expect(campaignExitCode(undefined)).toBe(1);
    expect(done({ upgraded: 10, 'unhealthy-before': 2 })).toBe(0); // left alone, not failed
    expect(tally(STATUS.counts)).toEqual({
      done: 9,
      ok: 6,
      failed: 2,
      skipped: 1,
      unhealthy: 0,
      running: 0,
      pending: 3,
    });
  });
});

describe('campaign control and list', () => {
  it('checks account ids and wave names before sending anything', () => {
    expect(() => checkCampaignAction({ kind: 'retry', accountId: '1234' })).toThrow(
      'ACCOUNT "1234": expected a 12-digit account id',
    );
    expect(() => checkCampaignAction({ kind: 'approve', accountId: 'x' })).toThrow('--account "x"');
    expect(() => checkCampaignAction({ kind: 'approve', wave: 'General 1' })).toThrow(
      '--wave "General 1": expected a wave name like canary-1',
    );
    expect(() => checkCampaignAction({ kind: 'skip', accountId: '123456789012' })).not.toThrow();
  });

  it("explains a rejected update with the validator's message", () => {
    const rejected = new WorkflowUpdateFailedError(
      'Workflow Update failed',
      ApplicationFailure.create({ message: 'account 123456789012 is not in campaign c1' }),
    );
    expect((explainUpdateError(rejected, 'c1', 'default', 'retry', 60) as Error).message).toBe(
      'campaign c1 refused to retry: account 123456789012 is not in campaign c1',
    );
    expect(
      (explainUpdateError(new WorkflowNotFoundError('gone', 'c1', undefined), 'c1', 'default', 'pause', 60) as Error)
        .message,
    ).toBe('campaign c1 in namespace default closed before it took the pause request');
  });

  it('lists campaigns one per line', () => {
    expect(CAMPAIGN_WORKFLOW_TYPE).toBe(fleetCampaign.name); // the CLI's constant is the workflow's name
    expect(campaignListQuery(false)).toBe("WorkflowType = 'fleetCampaign' AND ExecutionStatus = 'Running'");
    expect(campaignListQuery(true)).toBe("WorkflowType = 'fleetCampaign' AND ExecutionStatus != 'ContinuedAsNew'");
    const text = formatCampaignList(
      [
        {
          campaignId: 'upgrade-1.4.2-202503041200',
          status: 'Running',
          state: 'paused',
          wave: 'general-1',
          startedAt: '2025-03-04T12:00:03.123Z',
        },
        { campaignId: 'upgrade-1.4.1-x', status: 'Completed', startedAt: '2025-02-01T08:30:00.000Z' },
      ],
      true,
    );
    expect(text.split('\n')).toEqual([
      'CAMPAIGN                    STATUS     STATE   WAVE       STARTED (UTC)',
      'upgrade-1.4.2-202503041200  Running    paused  general-1  2025-03-04 12:00',
      'upgrade-1.4.1-x             Completed  —       —          2025-02-01 08:30',
      '',
    ]);
    expect(formatCampaignList([], false)).toBe('no running campaigns (--all lists finished ones too)\n');
  });
});

describe('runbooks', () => {
  const dir = path.resolve(__dirname, '../../docs/runbooks');
  const pages = [
    'failure-budget-exceeded',
    'update-rollback-failed',
    'stack-missing',
    'stack-busy',
    'account-access-denied',
    'stateful-change-approval',
    'worker-down',
    'revert-a-campaign',
  ];
  const program = new Command('fleetops');
  const campaign = registerCampaignCommands(program);

  it.each(pages)('%s.md ends with fleetops commands that exist', (page) => {
    const text = fs.readFileSync(path.join(dir, `${page}.md`), 'utf8').trimEnd();
    const last = /```sh\n([\s\S]*?)\n```$/.exec(text);
    expect(last, `${page}.md must end with a sh block`).not.toBeNull();
    const commands = (last?.[1] ?? '')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l.startsWith('npx fleetops '));
    expect(commands.length).toBeGreaterThan(0);
    for (const line of commands.filter((l) => l.startsWith('npx fleetops campaign '))) {
      const words = (line.replace(/\s#.*$/, '').match(/"[^"]*"|'[^']*'|\S+/g) ?? []).slice(3);
      const sub = campaign.commands.find((c) => c.name() === words[0]);
      expect(sub, `${page}.md: unknown command "campaign ${words[0]}"`).toBeDefined();
      const flags = words.filter((w) => w.startsWith('--'));
      for (const flag of flags)
        expect(
          sub?.options.some((o) => o.long === flag),
          `${page}.md: campaign ${words[0]} has no ${flag}`,
        ).toBe(true);
      const positional = words
        .slice(1)
        .filter(
          (w, i, all) =>
            !w.startsWith('--') &&
            !(all[i - 1]?.startsWith('--') && sub?.options.find((o) => o.long === all[i - 1])?.required),
        );
      expect(positional.length, `${page}.md: ${line}`).toBe(sub?.registeredArguments.length);
    }
  });
});
