import fs from 'node:fs';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { bundleWorkflowCode } from '@temporalio/worker';

const WORKFLOWS = path.resolve(__dirname, '../workflows');

/**
 * Bundles the workflow code in a short-lived child process and returns the bundle's path. webpack's
 * memory (a few hundred MB at peak) then never counts against the long-running worker.
 */
export async function bundleWorkflowsOutOfProcess(outDir: string): Promise<string> {
  fs.mkdirSync(outDir, { recursive: true });
  const out = path.join(outDir, `workflow-bundle-${process.pid}.js`);
  const viaTsx = __filename.endsWith('.ts') ? ['--import', 'tsx'] : []; // compiled JavaScript runs as is
  await promisify(execFile)(process.execPath, [...viaTsx, __filename, out], { maxBuffer: 16 * 1024 * 1024 });
  return out;
}

async function main(out: string): Promise<void> {
  const silent = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} };
  const { code } = await bundleWorkflowCode({ workflowsPath: WORKFLOWS, logger: silent });
  fs.writeFileSync(out, code);
}

if (require.main === module) {
  main(process.argv[2]).catch((err) => {
    process.stderr.write(`workflow bundling failed: ${(err as Error).stack ?? err}\n`);
    process.exit(1);
  });
}
