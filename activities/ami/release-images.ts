import fs from 'node:fs';
import { ErrorType } from '../../fleet/error-types';
import { resolveImageRelease } from '../../fleet/image-release';
import { releaseFileOf } from '../../fleet/release-channel';
import { parseReleaseFile } from '../../fleet/release-file';
import { FleetOpsError } from '../aws/errors';
import { resolveAllowedFleetFile } from '../fleet-file-access';

/**
 * The image release `image` (a name or `latest`) for `regions`, read from the release file beside the
 * fleet file (inside the worker's allowed fleet folders). An unreadable file, an unknown release or a
 * missing region is an `ImageReleaseUnavailable` naming what is wrong.
 */
export function readReleaseImages(fleetFile: string, fleetDirs: readonly string[], image: string, regions: string[]) {
  const file = releaseFileOf(fleetFile);
  let text: string;
  try {
    text = fs.readFileSync(resolveAllowedFleetFile(file, fleetDirs), 'utf8');
  } catch (err) {
    throw new FleetOpsError(
      ErrorType.ImageReleaseUnavailable,
      `cannot read the release file ${file}: ${(err as Error).message}`,
    );
  }
  const resolved = resolveImageRelease(parseReleaseFile(text, file), { release: image, regions });
  if (!resolved.ok) throw new FleetOpsError(ErrorType.ImageReleaseUnavailable, resolved.message);
  return resolved;
}
