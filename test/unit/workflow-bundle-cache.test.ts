/**
 * The worker's workflow bundle is built once per version of the code and reused by the next start
 * (worker/bundle-workflows.ts): the key changes with any bundled file or the package lock, and a
 * second start finds the bundle instead of running webpack again.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { bundleKey, bundleWorkflowsOutOfProcess } from '../../worker/bundle-workflows';

function tree(files: Record<string, string>): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetops-bundle-key-'));
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    fs.writeFileSync(path.join(root, rel), text);
  }
  return root;
}

describe('workflow bundle cache', () => {
  it('keys the bundle by every bundled file and the package lock', () => {
    const files = {
      'workflows/a.ts': 'export const a = 1;',
      'fleet/schema.ts': 'export const s = 1;',
      'activities/types.ts': 'export type T = 1;',
      'package-lock.json': '{"v":1}',
      'cli/main.ts': 'not bundled',
    };
    const root = tree(files);
    const key = (r: string) => bundleKey(r, path.join(r, 'package-lock.json'));
    expect(key(root)).toMatch(/^[0-9a-f]{16}$/);
    expect(key(tree(files))).toBe(key(root)); // same code elsewhere: same bundle
    for (const changed of ['workflows/a.ts', 'fleet/schema.ts', 'activities/types.ts', 'package-lock.json']) {
      const other = tree({ ...files, [changed]: `${files[changed as keyof typeof files]} // changed` });
      expect(key(other), changed).not.toBe(key(root));
    }
    expect(key(tree({ ...files, 'workflows/b.ts': '' }))).not.toBe(key(root)); // a new file
    expect(key(tree({ ...files, 'cli/main.ts': 'changed' }))).toBe(key(root)); // not in the bundle
  });

  it('builds the bundle once and reuses it on the next start', { timeout: 120_000 }, async () => {
    const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetops-bundles-'));
    const first = await bundleWorkflowsOutOfProcess(outDir);
    expect(path.basename(first)).toBe(`workflow-bundle-${bundleKey()}.js`);
    const built = fs.statSync(first);
    expect(built.size).toBeGreaterThan(100_000);
    expect(fs.readFileSync(first, 'utf8')).toContain('fleetCampaign');
    const second = await bundleWorkflowsOutOfProcess(outDir);
    expect(second).toBe(first);
    expect(fs.statSync(second).ino).toBe(built.ino); // the same file, not rebuilt
    expect(fs.readdirSync(outDir).filter((f) => f.endsWith('.partial'))).toEqual([]);
  });
});
