import { describe, expect, it } from 'vitest';
import {
  formatArtifactId,
  imagesFromManifest,
  InvalidPackerManifest,
  parsePackerManifest,
  withManifestBuild,
  type PackerBuild,
} from '../../fleet/packer-manifest';
import { accountImageRegions, resolveImageRelease } from '../../fleet/image-release';
import { newestRelease, withRelease, type Release, type ReleaseFile } from '../../fleet/release-channel';
import { formatReleaseFile, parseReleaseFile } from '../../fleet/release-file';

const AMI = {
  eu1: 'ami-0123456789abcdef0',
  us1: 'ami-0fedcba9876543210',
  eu2: 'ami-00000000000000001',
  old: 'ami-1234abcd',
};

const build = (over: Partial<PackerBuild> = {}): PackerBuild => ({
  name: 'pipeline',
  builder_type: 'amazon-ebs',
  build_time: 1_762_160_000,
  files: null,
  artifact_id: `eu-west-1:${AMI.eu1},us-east-1:${AMI.us1}`,
  packer_run_uuid: 'run-2',
  custom_data: { release: 'pipeline-2026.11.1' },
  ...over,
});

const manifestText = (builds: PackerBuild[], last = 'run-2') => JSON.stringify({ builds, last_run_uuid: last });

function refusal(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidPackerManifest);
    return [...(err as InvalidPackerManifest).problems];
  }
  throw new Error('expected InvalidPackerManifest');
}

describe('Packer manifest', () => {
  it('reads the last run: region → AMI, build names, run uuid, newest build time', () => {
    const text = manifestText([
      build({ packer_run_uuid: 'run-1', artifact_id: `eu-west-1:${AMI.old}`, build_time: 1 }),
      build(),
    ]);
    const got = imagesFromManifest(parsePackerManifest(text, 'm.json'), 'm.json');
    expect(got).toEqual({
      images: {
        'eu-west-1': { region: 'eu-west-1', imageId: AMI.eu1, build: 'pipeline', buildIndex: 1 },
        'us-east-1': { region: 'us-east-1', imageId: AMI.us1, build: 'pipeline', buildIndex: 1 },
      },
      builds: ['pipeline'],
      packerRunUuid: 'run-2',
      buildTime: 1_762_160_000,
    });
  });

  it('merges several builds of the last run; --build picks one; strip_time leaves no time', () => {
    const text = manifestText([
      build({ name: 'eu', artifact_id: `eu-west-1:${AMI.eu1}`, build_time: undefined }),
      build({ name: 'us', artifact_id: `us-east-1:${AMI.us1}`, build_time: undefined }),
    ]);
    const m = parsePackerManifest(text, 'm.json');
    const both = imagesFromManifest(m, 'm.json');
    expect(Object.keys(both.images)).toEqual(['eu-west-1', 'us-east-1']);
    expect(both.builds).toEqual(['eu', 'us']);
    expect(both.buildTime).toBeUndefined();
    expect(Object.keys(imagesFromManifest(m, 'm.json', { build: 'us' }).images)).toEqual(['us-east-1']);
    expect(refusal(() => imagesFromManifest(m, 'm.json', { build: 'nope' }))).toEqual([
      'no build named "nope" in the last run (run-2); its builds: eu, us',
    ]);
  });

  it('writes what it reads (sim image build appends like Packer without -force)', () => {
    const first = withManifestBuild(undefined, build({ packer_run_uuid: 'a' }));
    const second = withManifestBuild(
      first,
      build({ packer_run_uuid: 'b', artifact_id: formatArtifactId([{ region: 'eu-west-1', imageId: AMI.eu2 }]) }),
    );
    expect(second.last_run_uuid).toBe('b');
    expect(second.builds).toHaveLength(2);
    const again = parsePackerManifest(JSON.stringify(second), 'm.json');
    expect(imagesFromManifest(again, 'm.json').images['eu-west-1'].imageId).toBe(AMI.eu2);
  });

  it('refuses malformed manifests, naming the field and the build', () => {
    expect(refusal(() => parsePackerManifest('{ not json', 'm.json'))[0]).toMatch(/^not JSON: /);
    expect(refusal(() => parsePackerManifest(JSON.stringify({ builds: [], last_run_uuid: 'x' }), 'm.json'))).toEqual([
      'builds: the manifest has no builds',
    ]);
    const missing = refusal(() =>
      parsePackerManifest(
        JSON.stringify({ builds: [{ name: 'pipeline', builder_type: 'amazon-ebs', packer_run_uuid: 'x' }] }),
        'm.json',
      ),
    );
    expect(missing).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^builds\[0\]\.artifact_id \(build "pipeline"\): /),
        expect.stringMatching(/^last_run_uuid: /),
      ]),
    );
    const timeAsText = refusal(() =>
      parsePackerManifest(manifestText([build({ build_time: 'yesterday' as never })]), 'm.json'),
    );
    expect(timeAsText[0]).toMatch(/^builds\[0\]\.build_time \(build "pipeline"\): /);
  });

  it('refuses artifact ids that are not region:ami, naming build, region and AMI', () => {
    const m = parsePackerManifest(
      manifestText([
        build({ name: 'a', artifact_id: `eu-west-1:${AMI.eu1},mars-1:${AMI.us1},us-east-1:img-123,justtext` }),
        build({ name: 'b', artifact_id: `eu-west-1:${AMI.eu2}` }),
        build({ name: 'c', builder_type: 'docker', artifact_id: 'sha256:abc' }),
        build({ name: 'd', artifact_id: '' }),
      ]),
      'm.json',
    );
    expect(refusal(() => imagesFromManifest(m, 'm.json'))).toEqual([
      `builds[0] (build "a"): artifact_id part "mars-1:${AMI.us1}": mars-1 is not an AWS region`,
      'builds[0] (build "a"): artifact_id part "us-east-1:img-123": region us-east-1: "img-123" is not an AMI id',
      'builds[0] (build "a"): artifact_id part "justtext" is not region:ami-…',
      `builds[1] (build "b"): region eu-west-1 has two AMIs: ${AMI.eu2} here and ${AMI.eu1} in builds[0] (build "a"); publish one build with --build`,
      'builds[2] (build "c"): builder_type docker does not make AMIs (expected amazon-ebs, amazon-chroot, amazon-instance, amazon-ebssurrogate)',
      'builds[3] (build "d"): artifact_id is empty (expected region:ami-…[,region:ami-…])',
    ]);
    const lost = parsePackerManifest(manifestText([build({ packer_run_uuid: 'run-1' })], 'run-9'), 'm.json');
    expect(refusal(() => imagesFromManifest(lost, 'm.json'))[0]).toMatch(
      /no build has packer_run_uuid = last_run_uuid \(run-9\)/,
    );
  });
});

const imageRelease = (
  version: string,
  builtAt: string,
  amis: Record<string, string>,
  publishedAt = builtAt,
): Release => ({
  version,
  publishedAt,
  image: { account: '999999999999', builtAt, packerRunUuid: 'r', builds: ['pipeline'], amis },
});

describe('image releases on the release channel', () => {
  const file: ReleaseFile = {
    pipeline: [{ version: '1.4.0', publishedAt: '2026-01-01T00:00:00.000Z' }],
    image: [
      imageRelease('pipeline-2026.11.2', '2026-11-02T00:00:00.000Z', { 'eu-west-1': AMI.eu2 }),
      // published later, built earlier: not the newest
      imageRelease(
        'pipeline-2026.11.1',
        '2026-11-01T00:00:00.000Z',
        { 'eu-west-1': AMI.eu1, 'us-east-1': AMI.us1 },
        '2026-11-05T00:00:00.000Z',
      ),
    ],
  };

  it('round-trips through releases.yaml; latest is the newest build', () => {
    expect(parseReleaseFile(formatReleaseFile(file), 'releases.yaml')).toEqual(file);
    expect(newestRelease(file, 'image')?.version).toBe('pipeline-2026.11.2');
    expect(newestRelease(file, 'pipeline')?.version).toBe('1.4.0');
  });

  it('refuses bad records and mixed channels', () => {
    expect(() =>
      parseReleaseFile(
        'image:\n  - { version: latest, publishedAt: "2026-11-01T00:00:00.000Z", image: { account: "999999999999", builtAt: "2026-11-01T00:00:00.000Z", builds: [p], amis: { eu-west-1: ami-0123456789abcdef0 } } }\n',
        'r.yaml',
      ),
    ).toThrow(/image release name/);
    expect(() =>
      parseReleaseFile(
        'image:\n  - { version: x1, publishedAt: "2026-11-01T00:00:00.000Z", image: { account: "999999999999", builtAt: "2026-11-01T00:00:00.000Z", builds: [p], amis: { eu-west-1: nope } } }\n',
        'r.yaml',
      ),
    ).toThrow(/AMI id/);
    expect(() =>
      withRelease(file, 'pipeline', imageRelease('x', '2026-11-01T00:00:00.000Z', { 'eu-west-1': AMI.eu1 })),
    ).toThrow(/channel pipeline holds pipeline versions/);
    expect(() => parseReleaseFile(formatReleaseFile({ mixed: [...file.pipeline, ...file.image] }), 'r.yaml')).toThrow(
      /mixes image releases and pipeline versions/,
    );
  });

  it("resolves a release for an account's regions", () => {
    expect(resolveImageRelease(file, { release: 'pipeline-2026.11.1', regions: ['us-east-1', 'eu-west-1'] })).toEqual({
      ok: true,
      release: 'pipeline-2026.11.1',
      imageAccount: '999999999999',
      images: [
        { region: 'us-east-1', imageId: AMI.us1 },
        { region: 'eu-west-1', imageId: AMI.eu1 },
      ],
    });
    expect(resolveImageRelease(file, { release: 'latest', regions: ['eu-west-1'] })).toMatchObject({
      ok: true,
      release: 'pipeline-2026.11.2',
      images: [{ region: 'eu-west-1', imageId: AMI.eu2 }],
    });
    expect(resolveImageRelease(file, { release: 'latest', regions: ['eu-west-1', 'us-east-1'] })).toEqual({
      ok: false,
      reason: 'missing-regions',
      missingRegions: ['us-east-1'],
      message: 'image release pipeline-2026.11.2 has no AMI in us-east-1 (it has eu-west-1)',
    });
    expect(resolveImageRelease(file, { release: 'nope', regions: [] })).toMatchObject({
      ok: false,
      reason: 'unknown-release',
      message: 'no image release nope on channel image (published: pipeline-2026.11.2, pipeline-2026.11.1)',
    });
    expect(resolveImageRelease({}, { release: 'latest', regions: [] })).toMatchObject({
      ok: false,
      reason: 'no-release',
    });
    expect(resolveImageRelease(file, { release: '1.4.0', regions: [], channel: 'pipeline' })).toMatchObject({
      ok: false,
      reason: 'not-an-image-release',
    });
  });

  it("an account's image regions are those of its groups, in its region order", () => {
    expect(
      accountImageRegions({
        regions: ['us-east-1', 'eu-west-1', 'eu-central-1'],
        autoScalingGroups: [{ region: 'eu-west-1', name: 'a' }, { name: 'b' }],
      }),
    ).toEqual(['us-east-1', 'eu-west-1', 'eu-central-1']);
    expect(
      accountImageRegions({
        regions: ['us-east-1', 'eu-west-1'],
        autoScalingGroups: [{ region: 'eu-west-1', name: 'a' }],
      }),
    ).toEqual(['eu-west-1']);
    expect(accountImageRegions({ regions: ['eu-west-1'] })).toEqual([]);
  });
});
