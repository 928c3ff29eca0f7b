import fs from 'node:fs';
import path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { InvalidFleetFile } from '../fleet/fleet-problems';
import { loadStackConfig, PROJECT_ROOT } from '../stack/stack-config';
import { registerCampaignCommands } from './commands/campaign';
import { registerReleaseCommands } from './commands/release';
import { registerImageCommands } from './commands/image-cli';
import { registerScheduleCommands } from './commands/schedule-cli';
import { runFleetValidate } from './commands/fleet-validate';
import { addInventoryOptions } from './commands/inventory-flags';
import { useLocalStackEnv } from './local-env';

/** The version in package.json (read from the project root: the same from the sources and from dist/). */
function packageVersion(): string {
  return (JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
}

// Commands' implementations load on use (`await import`): they pull in the Temporal client, the AWS SDK
// and Vault, which `fleetops --help` and most commands do not need.
const stackCommands = () => import('./commands/stack');

const int = (flag: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${flag} expects a whole number ≥ 1, got "${v}"`);
  return n;
};

const program = new Command('fleetops')
  .description('Fleet automation for customer AWS accounts on Temporal')
  // `fleetops --version` / `-V` alone is answered by bin/fleetops.js; a commander-level version option
  // would also catch `campaign start --version 1.1.0` (program options are recognised after a subcommand)
  .addHelpText('after', () => `\nfleetops ${packageVersion()} (fleetops --version prints it)`)
  .showHelpAfterError();

const stack = program
  .command('stack')
  .description('the embedded local stack: Temporal dev server + UI, moto + AWS proxy, OpenBao');
stack
  .command('up')
  .description('install (if missing) and start every part; idempotent')
  .option('--json')
  .action(async (o) => (await stackCommands()).runStackUp(o));
stack
  .command('down')
  .description('stop exactly what `stack up` started, by PID')
  .action(async () => (await stackCommands()).runStackDown());
stack
  .command('status')
  .description("each part's health (exit 1 unless all healthy)")
  .option('--json')
  .action(async (o) => {
    process.exitCode = await (await stackCommands()).runStackStatus(o);
  });

const fleet = program.command('fleet').description('the fleet registry (YAML fleet file)');
fleet
  .command('validate <file>')
  .description('check a fleet file; lists every problem with account, field and line')
  .option('--json')
  .action((file, o) => {
    process.exitCode = runFleetValidate(file, o);
  });

const sim = program.command('sim').description('the simulated fleet on the local stack');
sim
  .command('seed')
  .description('write a simulated fleet file and seed roles, pipeline stacks and ExternalIds')
  .requiredOption('--accounts <n>', 'number of accounts', int('--accounts'))
  .option('--out <file>', 'fleet file to write (default: <state dir>/fleet.yaml)')
  .option('--id-base <n>', 'first account id (default 200000000000)', Number)
  .option('--stack-name <name>', 'pipeline stack name (default data-pipeline)')
  .option(
    '--organization',
    'the accounts in one AWS Organization OU, and release images shared with that OU (defaults.imageSharing)',
  )
  .action(async (o) => void (await (await import('./commands/sim-seed')).runSimSeed(o)));
sim
  .command('image')
  .description('simulated image factory (Packer) on the local stack')
  .command('build')
  .description('make an AMI per region in the image account and append the build to a Packer manifest')
  .requiredOption('--name <name>', 'AMI name (Packer ami_name), e.g. pipeline-2026.11.1')
  .option('--regions <list>', "comma-separated regions (default: the regions of the fleet's groups)", (v: string) =>
    v
      .split(',')
      .map((r) => r.trim())
      .filter(Boolean),
  )
  .option('--fleet <file>', 'fleet file naming the image account (default: <state dir>/fleet.yaml)')
  .option('--manifest <file>', 'manifest to write or append to (default: <state dir>/packer-manifest.json)')
  .option(
    '--encrypted',
    "root snapshot encrypted with a customer managed KMS key made in the image account (Packer's encrypt_boot + kms_key_id)",
  )
  .action(async (o) => void (await (await import('./sim/sim-image-build')).runSimImageBuild(o)));
sim
  .command('faults <action> [plan]')
  .description('AWS proxy fault plan: `set FILE|JSON`, `show`, `clear`')
  .action(async (action: string, plan?: string) => {
    if (!['set', 'show', 'clear'].includes(action))
      throw new InvalidArgumentError(`sim faults: unknown action "${action}" (set, show, clear)`);
    await (await import('./commands/sim-faults')).runSimFaults(action as 'set' | 'show' | 'clear', plan);
  });

program
  .command('worker')
  .description(
    "run a worker (Temporal's env config: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_PROFILE…)",
  )
  .option('--local', 'use the local stack for every setting not set in the environment')
  .action(async (o) => {
    if (o.local) useLocalStackEnv(loadStackConfig());
    // loaded on use: the Temporal worker package is the heaviest part of the CLI to load
    const { runWorkerMain } = await import('../worker/main');
    await runWorkerMain();
  });

const inventory = program.command('inventory');
inventory.description(
  "read every selected account's pipeline stack (status, version) through the fleetInventory workflow",
);
addInventoryOptions(inventory)
  .option('--workflow-id <id>', 'workflow id (default inventory-<time>)')
  .option('--local', 'use the local stack for every setting not set in the environment')
  .option('--detach', 'start it and return')
  .option('--json', 'print the report as JSON')
  .action(async (o) => {
    if (o.local) useLocalStackEnv(loadStackConfig());
    const { runInventory } = await import('./commands/inventory');
    const { inventoryExitCode } = await import('./commands/inventory-drift-format');
    process.exitCode = inventoryExitCode(await runInventory({ ...o, tags: o.tag }));
  });

registerCampaignCommands(program);
registerScheduleCommands(program);
registerReleaseCommands(program);
registerImageCommands(program);

const secret = program.command('secret').description('secrets fleetops manages (Vault + the accounts)');
secret
  .command('status <account> [name]')
  .description(
    "an account's secrets (or one): Vault live record and value version, AWS version ids and stages, IAM keys — never a value",
  )
  .option(
    '--fleet <file>',
    'fleet file (default $FLEETOPS_FLEET_FILE, else .fleetops/fleet.yaml; with --local the state dir’s)',
  )
  .option('--local', 'use the local stack for every setting not set in the environment')
  .option('--json', 'print the status as JSON')
  .action(async (account: string, name: string | undefined, o) => {
    await (await import('./commands/secret-status')).runSecretStatus(account, name, o);
  });

program
  .command('demo')
  .description('the local stack, a simulated fleet, a worker and an inventory, end to end')
  .option('--accounts <n>', 'simulated accounts', int('--accounts'), Number(process.env.FLEETOPS_DEMO_ACCOUNTS ?? 200))
  .action(async (o) => (await import('./commands/demo')).runDemo(o));

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof InvalidFleetFile) process.stderr.write(`${err.message}\n`);
  else process.stderr.write(`fleetops: ${(err as Error).message ?? String(err)}\n`);
  process.exitCode = process.exitCode || 1;
});
