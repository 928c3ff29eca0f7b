/**
 * The release file's YAML text (`releases.yaml` beside the fleet file): parsed and validated, and
 * written back by `fleetops release publish`. No file I/O here; callers read and write the file.
 */
import { parse, stringify } from 'yaml';
import { z } from 'zod';
import { ReleaseFileSchema, type ReleaseFile } from './release-channel';

/** Parses the file's text (empty text: no channel yet); throws naming each bad entry. */
export function parseReleaseFile(text: string, fileName: string): ReleaseFile {
  let raw: unknown;
  try {
    raw = text.trim() === '' ? {} : (parse(text) ?? {});
  } catch (err) {
    throw new Error(`${fileName}: not YAML: ${(err as Error).message}`);
  }
  const parsed = ReleaseFileSchema.safeParse(raw);
  if (!parsed.success) throw new Error(`${fileName}: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

export function formatReleaseFile(file: ReleaseFile): string {
  return (
    '# fleetops release channels (`fleetops release publish`). `latest` = the highest version of a channel.\n' +
    stringify(file)
  );
}
