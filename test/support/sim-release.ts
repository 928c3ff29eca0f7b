import path from 'node:path';
import { runImagePublish } from '../../cli/commands/image';
import { runSimImageBuild } from '../../cli/sim/sim-image-build';

/**
 * `sim image build` + `image publish` of release `name` for the fleet file (manifest written into
 * `dir`), the publish's output silenced; returns the release's AMI per region.
 */
export async function publishSimRelease(o: {
  name: string;
  fleetFile: string;
  dir: string;
}): Promise<Record<string, string>> {
  const built = await runSimImageBuild({
    name: o.name,
    fleet: o.fleetFile,
    manifest: path.join(o.dir, `${o.name}.json`),
    quiet: true,
  });
  const write = process.stdout.write;
  process.stdout.write = (() => true) as typeof process.stdout.write;
  try {
    await runImagePublish({ manifest: built.manifest, name: o.name, fleet: o.fleetFile });
  } finally {
    process.stdout.write = write;
  }
  return Object.fromEntries(built.images.map((i) => [i.region, i.imageId]));
}
