import fs from 'node:fs';
import path from 'node:path';
import { stringifyFleet } from '../../fleet/load-fleet';
import { loadStackConfig } from '../../stack/stack-config';
import { ProgressBar } from '../progress-bar';
import { seedLocalStack } from '../sim/seed-local-stack';
import { seedOrganization, sharingWithOu } from '../sim/seed-organization';
import { simulatedFleet } from '../sim/simulated-fleet';

/** `fleetops sim seed`: writes a simulated fleet file and seeds the local stack with it. */
export async function runSimSeed(o: {
  accounts: number;
  out?: string;
  quiet?: boolean;
  idBase?: number;
  stackName?: string;
  /** One organization, the accounts in one OU, images shared with the OU (`defaults.imageSharing`). */
  organization?: boolean;
}): Promise<{ file: string; seconds: number }> {
  if (!Number.isInteger(o.accounts) || o.accounts < 1 || o.accounts > 100_000) {
    throw new Error(`--accounts: expected a whole number from 1 to 100000, got ${o.accounts}`);
  }
  const cfg = loadStackConfig();
  const file = path.resolve(o.out ?? path.join(cfg.stateDir, 'fleet.yaml'));
  if (
    o.idBase !== undefined &&
    (!Number.isInteger(o.idBase) || o.idBase < 100_000_000_000 || o.idBase + o.accounts > 999_999_999_999)
  ) {
    throw new Error(`--id-base: expected a 12-digit number leaving room for ${o.accounts} accounts, got ${o.idBase}`);
  }
  const fleet = simulatedFleet(o.accounts, { idBase: o.idBase, stackName: o.stackName });
  const accounts = o.organization ? sharingWithOu(fleet) : fleet;
  const started = Date.now();
  const bar = o.quiet ? undefined : new ProgressBar('seeding');
  await seedLocalStack(cfg, accounts, (done, total) => bar?.update(done, total));
  bar?.finish();
  if (o.organization) await seedOrganization(cfg, accounts);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, stringifyFleet(accounts));
  const seconds = (Date.now() - started) / 1000;
  if (!o.quiet) process.stderr.write(`seeded ${o.accounts} accounts in ${seconds.toFixed(1)} s; fleet file ${file}\n`);
  return { file, seconds };
}
