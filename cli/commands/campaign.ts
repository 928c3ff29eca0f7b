/** The `fleetops campaign …` command group: the runbook CLI of the fleetCampaign engine. */
import { Command, InvalidArgumentError } from 'commander';
import { loadStackConfig } from '../../stack/stack-config';
import { useLocalStackEnv } from '../local-env';
import type { CampaignAction } from './campaign-control';
import type { CampaignRevertOptions } from './campaign-revert';
import type { CampaignStartOptions } from './campaign-start';
import { flagName } from './campaign-flags';
import { operations } from '../../workflows/operations';

// The commands' implementations load on use: they pull in the Temporal client, which `--help` and the
// other commands do not need (fleetops --help answers in a fraction of a second).
const campaignStart = () => import('./campaign-start');
const campaignStatus = () => import('./campaign-status');
const campaignControl = () => import('./campaign-control');
const campaignList = () => import('./campaign-list');
const campaignRevert = () => import('./campaign-revert');

const list = (v: string) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
const collect = (v: string, acc: string[] = []) => [...acc, v];
const seconds = (v: string) => {
  if (!/^\d+$/.test(v) || Number(v) < 1) throw new InvalidArgumentError(`--timeout "${v}": expected whole seconds ≥ 1`);
  return Number(v);
};

type Common = { local?: boolean; json?: boolean };
/** Applies --local, runs the command, sets the exit code it returns. */
const run =
  <O extends Common>(fn: (o: O) => Promise<number>) =>
  async (o: O) => {
    if (o.local) useLocalStackEnv(loadStackConfig());
    process.exitCode = await fn(o);
  };

/** Every registered operation's own flags (a flag two operations share is added once). */
function addOperationFlags(start: Command): void {
  const added = new Set<string>();
  for (const f of operations.all().flatMap((op) => op.cliFlags)) {
    if (added.has(flagName(f))) continue;
    added.add(flagName(f));
    start.option(f.flag, f.description);
  }
}

/**
 * The options that say what a campaign does (operation, fleet, selection, waves, budget, the operations'
 * own flags): `campaign start` and `schedule create … -- campaign start …` parse them alike.
 */
export function addCampaignStartOptions(start: Command): Command {
  start
    .requiredOption('--operation <operation>', `what to do in every account: ${operations.names().join(', ')}`)
    .option(
      '--fleet <file>',
      'fleet file, a path the workers can read too',
      process.env.FLEETOPS_FLEET_FILE ?? '.fleetops/fleet.yaml',
    )
    .option('--rings <rings>', 'comma-separated rings (canary, early, general, late)', list)
    .option('--accounts <ids>', 'comma-separated account ids', list)
    .option('--tag <key=value>', 'only accounts with this tag (repeatable)', collect)
    .option('--regions <regions>', 'accounts in any of these regions', list)
    .option(
      '--plan',
      'preview only: change sets created, described and deleted; per-account report of what would change',
    )
    .option('--allow-downgrade', 'an account may move to an older version than it runs (default: refused, skipped)');
  addCampaignControlOptions(start);
  addOperationFlags(start);
  return start;
}

/** How a campaign runs (window, budget, waves, bake, approvals, maintenance windows): start and revert alike. */
function addCampaignControlOptions(cmd: Command): Command {
  return cmd
    .option('--max-in-flight <n>', 'accounts worked on at once (1-500, default 20)')
    .option(
      '--concurrency-mode <strict|soft>',
      'strict (default): fewer accounts at once as the failure budget runs low, never past it; ' +
        'soft: --max-in-flight until the budget is spent, may pass it by the accounts then in flight',
    )
    .option(
      '--failure-budget <n|n%>',
      'failed accounts a wave may have: a count (5) or a percent of the wave (10%); default 10%',
    )
    .option('--on-budget <action>', 'when a wave uses up its budget: pause (default) or cancel')
    .option('--max-wave-size <n|ring=n,…>', 'largest wave, for every ring (50) or per ring (canary=2,general=100)')
    .option('--wave-bake <seconds>', 'wait between waves (300, or 90s, 15m, 2h)')
    .option(
      '--lease-wait <seconds>',
      'how long an account waits while another campaign changes it, then is skipped (skipped-busy); default 1h',
    )
    .option(
      '--approve-before <rings|all>',
      'rings whose first wave waits for `campaign approve` (early,general), or all',
    )
    .option('--ignore-maintenance-windows', 'start accounts outside their maintenance windows too');
}

export function registerCampaignCommands(program: Command): Command {
  const campaign = program
    .command('campaign')
    .description(
      'fleet campaigns (fleetCampaign workflow): start, watch, pause/resume/cancel, approve, retry/skip accounts',
    );

  const start = campaign
    .command('start')
    .description('validate the selection and options here, then start a campaign (workflow id = campaign id)');
  addCampaignStartOptions(start)
    .option(
      '--campaign-id <id>',
      'campaign id (default <operation>-<target>-<yyyymmddHHMM> UTC, e.g. upgrade-1.4.2-…, -plan appended with --plan)',
    )
    .option(
      '--watch',
      'then follow it as `campaign status --watch` (exit 0 only if it completes with no failed account)',
    )
    .option('--local', 'use the local stack for every setting not set in the environment')
    .option('--json', 'machine-readable output only on stdout');
  start.action(run(async (o: CampaignStartOptions) => (await campaignStart()).runCampaignStart(o)));

  const revert = campaign
    .command('revert <id>')
    .description(
      'a new campaign taking every account campaign <id> changed back to what it ran before (others left alone and listed); shows the plan, starts it with --yes',
    )
    .option('--fleet <file>', "fleet file (default: the reverted campaign's)")
    .option('--yes', 'start it (without: show what it would do, start nothing)');
  addCampaignControlOptions(revert)
    .option('--campaign-id <id>', 'campaign id (default revert-<id>-<yyyymmddHHMM> UTC)')
    .option('--watch', 'then follow it as `campaign status --watch`')
    .option('--local', 'use the local stack for every setting not set in the environment')
    .option('--json', 'machine-readable output only on stdout')
    .action(async (id: string, o: Common & CampaignRevertOptions) =>
      run(async () => (await campaignRevert()).runCampaignRevert(id, o))(o),
    );

  campaign
    .command('status <id>')
    .description("a campaign's phase, waves, counts and failing accounts (its result once it has closed)")
    .option('--watch', 'redraw every second until it closes; exit 0 only if it completed with no failed account')
    .option('--local', 'use the local stack for every setting not set in the environment')
    .option(
      '--live',
      'ask the campaign itself (the status query: needs a worker) instead of reading the snapshot it keeps in its memo (at most 5 s old)',
    )
    .option(
      '--json',
      'machine-readable output only on stdout, every account listed (asks the campaign, as --live does; with --watch: the final status)',
    )
    .action(async (id: string, o: Common & { watch?: boolean; live?: boolean }) =>
      run(async () => (await campaignStatus()).runCampaignStatus(id, o))(o),
    );

  const control = (
    name: string,
    description: string,
    toAction: (args: string[], o: Record<string, string | undefined>) => CampaignAction,
    extra: (c: Command) => Command = (c) => c,
  ) =>
    extra(campaign.command(name).description(description))
      .option('--timeout <seconds>', 'how long to wait for the campaign to take the request (default 60)', seconds)
      .option('--local', 'use the local stack for every setting not set in the environment')
      .option('--json', 'print the new status as JSON on stdout')
      .action(async (...args: unknown[]) => {
        const cmd = args[args.length - 1] as Command;
        const o = cmd.opts<Common & { timeout?: number } & Record<string, string | undefined>>();
        const positional = args.slice(0, -2).map(String);
        await run(async () => {
          await (
            await campaignControl()
          ).runCampaignControl(positional[0], toAction(positional.slice(1), o), {
            json: o.json,
            timeout: o.timeout,
          });
          return 0;
        })(o);
      });

  control(
    'pause <id>',
    'pause: no new account starts; running ones finish',
    (_, o) => ({ kind: 'pause', reason: o.reason }),
    (c) => c.option('--reason <text>', 'why (shown in status)'),
  );
  control(
    'resume <id>',
    'resume a paused campaign',
    () => ({ kind: 'resume' }),
    (c) => c.option('--reason <text>', 'accepted for symmetry with pause; resume records no reason'),
  );
  control(
    'cancel <id>',
    'cancel the campaign: no new account starts',
    (_, o) => ({ kind: 'cancel', reason: o.reason }),
    (c) => c.option('--reason <text>', 'why (shown in status)'),
  );
  control(
    'approve <id>',
    'approve the wave waiting at its gate, or one account waiting on a stateful change',
    (_, o) => ({
      kind: 'approve',
      wave: o.wave,
      accountId: o.account,
    }),
    (c) =>
      c
        .option('--wave <name>', 'the wave to let start (e.g. early-1)')
        .option('--account <id>', 'the account whose stateful change is approved'),
  );
  control('retry <id> <account>', 'run a failed, rolled-back or quarantined account again', ([account]) => ({
    kind: 'retry',
    accountId: account,
  }));
  control('skip <id> <account>', 'leave an account out (pending, failed or waiting on approval)', ([account]) => ({
    kind: 'skip',
    accountId: account,
  }));

  campaign
    .command('list')
    .description('running campaigns (--all: finished ones too), newest first')
    .option('--all', 'include completed, cancelled and failed campaigns')
    .option('--local', 'use the local stack for every setting not set in the environment')
    .option('--json', 'machine-readable output only on stdout')
    .action(
      run(async (o: Common & { all?: boolean }) => {
        await (await campaignList()).runCampaignList(o);
        return 0;
      }),
    );

  return campaign;
}
