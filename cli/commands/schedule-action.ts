/**
 * What a schedule starts: the words after `--` in `fleetops schedule create NAME … -- <command>`, a
 * `campaign start …` or an `inventory …` command line, parsed with the very options of those commands
 * and checked exactly as they check them (flags, fleet file, selection) — before the schedule exists.
 */
import { Command, CommanderError } from 'commander';
import { fleetInventory, type FleetInventoryInput } from '../../workflows/fleet-inventory';
import { fleetCampaign } from '../../workflows/campaign/fleet-campaign';
import type { FleetCampaignInput } from '../../workflows/campaign/campaign-input';
import { operations } from '../../workflows/operations';
import { addCampaignStartOptions } from './campaign';
import { InvalidCampaignFlags, type CampaignStartFlags } from './campaign-flags';
import { checkCampaignStart } from './campaign-start';
import { addInventoryOptions, checkInventoryStart, type InventoryCliOptions } from './inventory-flags';

export type ScheduledAction =
  | { kind: 'campaign'; workflowType: typeof fleetCampaign; input: FleetCampaignInput; what: string }
  | { kind: 'inventory'; workflowType: typeof fleetInventory; input: FleetInventoryInput; what: string };

/** The action could not be built; `problems` has one line per bad flag. */
export class InvalidScheduledAction extends Error {
  override readonly name = 'InvalidScheduledAction';
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
  }
}

/** Flags of the interactive commands that make no sense for a scheduled run, and why. */
const NOT_FOR_SCHEDULES: Record<string, string> = {
  '--campaign-id': "each run's campaign id is <schedule name>-<scheduled time> (unique per run)",
  '--workflow-id': "each run's workflow id is <schedule name>-<scheduled time> (unique per run)",
  '--watch': 'a scheduled run has no terminal to watch it in (`schedule describe NAME` shows its runs)',
  '--detach': 'scheduled runs are always detached',
  '--json': 'give --json before --, to `schedule create` itself',
  '--local': 'give --local before --, to `schedule create` itself',
};

const EXAMPLE = 'e.g. -- campaign start --operation upgrade --version latest, or -- inventory --rings canary';

/**
 * `campaign start --operation upgrade …` / `inventory …` (or campaign options alone, `--operation …`) →
 * the workflow and its one JSON input. Throws InvalidScheduledAction naming every bad flag.
 */
export function scheduledActionFromArgs(words: string[]): ScheduledAction {
  if (words.length === 0) throw new InvalidScheduledAction([`what to run: give it after -- (${EXAMPLE})`]);
  let kind: 'campaign' | 'inventory';
  let rest: string[];
  if (words[0] === 'inventory') [kind, rest] = ['inventory', words.slice(1)];
  else if (words[0] === 'campaign' && words[1] === 'start') [kind, rest] = ['campaign', words.slice(2)];
  else if (words[0].startsWith('--')) [kind, rest] = ['campaign', words];
  else
    throw new InvalidScheduledAction([
      `after --: "${words.slice(0, 2).join(' ')}": expected "campaign start OPTIONS" or "inventory OPTIONS" (${EXAMPLE})`,
    ]);

  const refused = rest
    .map((w) => w.split('=')[0])
    .filter((w) => w in NOT_FOR_SCHEDULES)
    .map((w) => `${w}: ${NOT_FOR_SCHEDULES[w]}`);
  if (refused.length) throw new InvalidScheduledAction([...new Set(refused)]);

  const cmd = new Command(kind === 'campaign' ? 'campaign start' : 'inventory')
    .exitOverride()
    .allowExcessArguments(false)
    .configureOutput({ writeOut: () => {}, writeErr: () => {} });
  if (kind === 'campaign') addCampaignStartOptions(cmd);
  else addInventoryOptions(cmd);
  try {
    cmd.parse(rest, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError)
      throw new InvalidScheduledAction([`${cmd.name()}: ${err.message.replace(/^error: /, '')}`]);
    throw err;
  }

  if (kind === 'inventory') {
    const o = cmd.opts<InventoryCliOptions & { tag?: string[] }>();
    const { input, preview } = checkInventoryStart({ ...o, tags: o.tag });
    return {
      kind,
      workflowType: fleetInventory,
      input,
      what: `${input.drift ? 'drift inventory' : 'inventory'} of ${preview.selected.length} accounts in ${input.fleetFile}`,
    };
  }

  let checked: ReturnType<typeof checkCampaignStart>;
  try {
    checked = checkCampaignStart(cmd.opts<CampaignStartFlags>());
  } catch (err) {
    if (err instanceof InvalidCampaignFlags) throw new InvalidScheduledAction(err.problems);
    throw err;
  }
  // No campaign id in the input: the engine takes the workflow id, which Temporal makes unique per run.
  const { campaignId: _unused, ...input } = checked.input;
  const op = operations.get(input.operation);
  const target = op.target((input as Record<string, unknown>)[op.paramsField]);
  return {
    kind,
    workflowType: fleetCampaign,
    input,
    what:
      `${input.plan ? 'plan of ' : ''}${op.name}${target ? ` to ${target}` : ''} over ${checked.preview.selected.length} accounts ` +
      `(${checked.waves.length} wave${checked.waves.length === 1 ? '' : 's'}) in ${input.fleetFile}`,
  };
}
