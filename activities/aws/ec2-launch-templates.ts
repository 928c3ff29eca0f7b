/**
 * Launch template calls for AMI rollouts, inside the rate budgets (family `ec2`): read a version, make
 * the version with the new image (deterministic ClientToken, looked up before it is created), make a
 * version the default.
 */
import {
  CreateLaunchTemplateVersionCommand,
  DescribeLaunchTemplateVersionsCommand,
  DescribeLaunchTemplatesCommand,
  ModifyLaunchTemplateCommand,
} from '@aws-sdk/client-ec2';
import type { AccountAwsDeps } from './account-region';
import { ec2Call, ec2Client, type Ec2Where } from './ec2-images';

export type LaunchTemplateVersionState = {
  launchTemplateId: string;
  launchTemplateName: string;
  version: number;
  imageId?: string;
  description?: string;
  defaultVersion: number;
};

/** What fleetops writes into a version it made, so a retry finds it by its token. */
export const versionDescription = (clientToken: string) => `fleetops ${clientToken}`;

async function defaultVersionOf(deps: AccountAwsDeps, req: Ec2Where & { launchTemplateId: string }): Promise<number> {
  const ec2 = ec2Client(deps, req);
  const out = await ec2Call(deps, req, 'DescribeLaunchTemplates', () =>
    ec2.send(new DescribeLaunchTemplatesCommand({ LaunchTemplateIds: [req.launchTemplateId] })),
  );
  return out.LaunchTemplates?.[0]?.DefaultVersionNumber ?? 1;
}

/** One version (a number, `$Latest` or `$Default`) of a launch template, with the template's default version. */
export async function readLaunchTemplateVersion(
  deps: AccountAwsDeps,
  req: Ec2Where & { launchTemplateId: string; version: string },
): Promise<LaunchTemplateVersionState> {
  const ec2 = ec2Client(deps, req);
  const out = await ec2Call(deps, req, 'DescribeLaunchTemplateVersions', () =>
    ec2.send(
      new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: req.launchTemplateId, Versions: [req.version] }),
    ),
  );
  const v = out.LaunchTemplateVersions?.[0];
  if (!v) throw new Error(`launch template ${req.launchTemplateId} has no version ${req.version}`);
  return {
    launchTemplateId: v.LaunchTemplateId ?? req.launchTemplateId,
    launchTemplateName: v.LaunchTemplateName ?? '',
    version: v.VersionNumber ?? 0,
    ...(v.LaunchTemplateData?.ImageId ? { imageId: v.LaunchTemplateData.ImageId } : {}),
    ...(v.VersionDescription ? { description: v.VersionDescription } : {}),
    defaultVersion: await defaultVersionOf(deps, req),
  };
}

/**
 * The version M = source version N with `imageId`: found by its token (a version whose description is
 * `fleetops <token>`) before anything is created; else CreateLaunchTemplateVersion(SourceVersion=N,
 * ImageId, ClientToken) — which AWS answers with the same version for the same token.
 */
export async function ensureImageVersion(
  deps: AccountAwsDeps,
  req: Ec2Where & { launchTemplateId: string; sourceVersion: number; imageId: string; clientToken: string },
): Promise<{ version: number; created: boolean }> {
  const ec2 = ec2Client(deps, req);
  const description = versionDescription(req.clientToken);
  let nextToken: string | undefined;
  do {
    const page = await ec2Call(deps, req, 'DescribeLaunchTemplateVersions', () =>
      ec2.send(
        new DescribeLaunchTemplateVersionsCommand({
          LaunchTemplateId: req.launchTemplateId,
          NextToken: nextToken,
        }),
      ),
    );
    const mine = page.LaunchTemplateVersions?.find(
      (v) => v.VersionDescription === description && v.LaunchTemplateData?.ImageId === req.imageId,
    );
    if (mine?.VersionNumber !== undefined) return { version: mine.VersionNumber, created: false };
    nextToken = page.NextToken;
  } while (nextToken);
  const out = await ec2Call(deps, req, 'CreateLaunchTemplateVersion', () =>
    ec2.send(
      new CreateLaunchTemplateVersionCommand({
        LaunchTemplateId: req.launchTemplateId,
        SourceVersion: String(req.sourceVersion),
        VersionDescription: description,
        LaunchTemplateData: { ImageId: req.imageId },
        ClientToken: req.clientToken,
      }),
    ),
  );
  const version = out.LaunchTemplateVersion?.VersionNumber;
  if (version === undefined)
    throw new Error(`CreateLaunchTemplateVersion on ${req.launchTemplateId} returned no version`);
  return { version, created: true };
}

/** Makes `version` the template's default (idempotent: already the default → nothing sent). */
export async function setDefaultVersion(
  deps: AccountAwsDeps,
  req: Ec2Where & { launchTemplateId: string; version: number },
): Promise<{ changed: boolean }> {
  if ((await defaultVersionOf(deps, req)) === req.version) return { changed: false };
  const ec2 = ec2Client(deps, req);
  await ec2Call(deps, req, 'ModifyLaunchTemplate', () =>
    ec2.send(
      new ModifyLaunchTemplateCommand({ LaunchTemplateId: req.launchTemplateId, DefaultVersion: String(req.version) }),
    ),
  );
  return { changed: true };
}
