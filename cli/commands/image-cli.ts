/**
 * The `fleetops image …` commands: flags and help. The implementations (image.ts) load on use: they
 * pull in the AWS SDK and Vault, which `fleetops --help` does not need.
 */
import type { Command } from 'commander';
import type { ImageListOptions, ImagePublishOptions } from './image';

const impl = () => import('./image');

export function registerImageCommands(program: Command): Command {
  const image = program
    .command('image')
    .description('AMI releases: Packer-built images published on the image channel (what --image latest reads)');
  image
    .command('publish')
    .description("check a Packer manifest's AMIs in the image account, tag them and record the release")
    .requiredOption('--manifest <file>', "the manifest Packer's manifest post-processor wrote (packer-manifest.json)")
    .requiredOption('--name <release>', 'release name, e.g. pipeline-2026.11.1')
    .option('--build <name>', "only the last run's builds of this name (default: every build of the last run)")
    .option('--fleet <file>', 'fleet file (image account, regions); releases.yaml is beside it')
    .option('--note <text>', 'what the release is')
    .option('--json', 'machine-readable output only on stdout')
    .option('--local', 'fill unset settings from the local stack')
    .action(async (o: ImagePublishOptions) => void (await (await impl()).runImagePublish(o)));
  image
    .command('list')
    .description('image releases per region, newest build first (latest marked)')
    .option('--fleet <file>', 'fleet file; releases.yaml is beside it')
    .option('--json', 'machine-readable output only on stdout')
    .option('--local', "the local stack's fleet file by default")
    .action(async (o: ImageListOptions) => (await impl()).runImageList(o));
  return image;
}
