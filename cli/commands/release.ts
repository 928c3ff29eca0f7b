/**
 * `fleetops release publish | list`: the release channels `latest` reads (`releases.yaml` beside the
 * fleet file; see fleet/release-channel.ts). Publishing is how a new pipeline version becomes what
 * `--version latest` campaigns and schedules run from their next start on.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import {
  ChannelNameSchema,
  newestRelease,
  releaseFileOf,
  withRelease,
  type Release,
  type ReleaseFile,
} from '../../fleet/release-channel';
import { formatReleaseFile, parseReleaseFile } from '../../fleet/release-file';
import { SEMVER_PATTERN } from '../../fleet/fleet-schema';
import { PIPELINE_RELEASE_CHANNEL } from '../../workflows/upgrade/upgrade-operation';

type ReleaseOptions = { fleet: string; channel: string; note?: string; json?: boolean };

function readReleaseFile(file: string): ReleaseFile {
  let text = '';
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  return parseReleaseFile(text, file);
}

function checkChannel(channel: string): void {
  const parsed = ChannelNameSchema.safeParse(channel);
  if (!parsed.success) throw new Error(`--channel "${channel}": ${parsed.error.issues[0].message}`);
}

/** Appends VERSION to the channel; exit 1 naming what is wrong (bad semver, already published). */
export function runReleasePublish(version: string, o: ReleaseOptions, now = new Date()): Release {
  if (!SEMVER_PATTERN.test(version)) throw new Error(`release "${version}": expected semver like 1.4.2`);
  checkChannel(o.channel);
  const file = releaseFileOf(path.resolve(o.fleet));
  const release: Release = { version, publishedAt: now.toISOString(), ...(o.note ? { note: o.note } : {}) };
  const next = withRelease(readReleaseFile(file), o.channel, release);
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, formatReleaseFile(next));
  fs.renameSync(tmp, file);
  const newest = newestRelease(next, o.channel);
  if (o.json) process.stdout.write(`${JSON.stringify({ channel: o.channel, file, release, latest: newest })}\n`);
  else
    process.stdout.write(
      `published ${version} on channel ${o.channel} (${file}); latest is now ${newest?.version}` +
        `${newest?.version !== version ? ' (a higher version was published before)' : ''}\n`,
    );
  return release;
}

export function runReleaseList(o: ReleaseOptions): void {
  checkChannel(o.channel);
  const file = releaseFileOf(path.resolve(o.fleet));
  const releases = readReleaseFile(file)[o.channel] ?? [];
  const latest = newestRelease({ [o.channel]: releases }, o.channel);
  if (o.json) {
    process.stdout.write(
      `${JSON.stringify({ channel: o.channel, file, latest: latest ?? null, releases }, null, 2)}\n`,
    );
    return;
  }
  if (!releases.length) {
    process.stdout.write(`no release on channel ${o.channel} (${file})\n`);
    return;
  }
  for (const r of releases)
    process.stdout.write(
      `${r.version === latest?.version ? '*' : ' '} ${r.version.padEnd(12)} ${r.publishedAt}${r.note ? `  ${r.note}` : ''}\n`,
    );
  process.stdout.write(`latest (*) = the highest version: ${latest?.version}\n`);
}

export function registerReleaseCommands(program: Command): Command {
  const release = program
    .command('release')
    .description('release channels: what `--version latest` resolves to when a campaign starts');
  const common = (c: Command) =>
    c
      .option(
        '--fleet <file>',
        'fleet file; the channels live in releases.yaml beside it',
        process.env.FLEETOPS_FLEET_FILE ?? '.fleetops/fleet.yaml',
      )
      .option('--channel <name>', 'release channel', PIPELINE_RELEASE_CHANNEL)
      .option('--json', 'machine-readable output only on stdout');
  common(release.command('publish <version>').description('publish a version on a channel (latest = highest)'))
    .option('--note <text>', 'what the release is')
    .action((version: string, o: ReleaseOptions) => void runReleasePublish(version, o));
  common(release.command('list').description("a channel's releases, latest marked")).action((o: ReleaseOptions) =>
    runReleaseList(o),
  );
  return release;
}
