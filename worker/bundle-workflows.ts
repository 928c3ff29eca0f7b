import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { bundleWorkflowCode } from '@temporalio/worker';

const ROOT = path.resolve(__dirname, '..'); // the project, or dist/ when running compiled
const PACKAGE_LOCK = path.resolve(ROOT, path.basename(ROOT) === 'dist' ? '..' : '.', 'package-lock.json');
const WORKFLOWS = path.join(ROOT, 'workflows');
/** Folders whose files the workflow bundle may include (workflows import schemas and types from them). */
const BUNDLED_DIRS = ['workflows', 'fleet', 'activities'];
/** Cached bundles kept besides the one in use (other checkouts, recent versions). */
const KEEP_BUNDLES = 8;

/**
 * The workflow bundle for the code on disk, built once and reused: by the worker's next start (a
 * worker restarted after a crash polls again in seconds, not after webpack's ~10–25 s) and by every
 * other worker process of the same code. The bundle is keyed by a hash of every file it may include
 * and of the installed packages, so a changed source file always gets a new bundle; it is built in a
 * short-lived child process so webpack's memory (a few hundred MB at peak) never counts against the
 * long-running worker, and written under a temporary name then renamed, so concurrent starts never
 * read half a file.
 */
export async function bundleWorkflowsOutOfProcess(outDir: string): Promise<string> {
  fs.mkdirSync(outDir, { recursive: true });
  const out = path.join(outDir, `workflow-bundle-${bundleKey()}.js`);
  if (fs.existsSync(out)) {
    const now = new Date();
    fs.utimesSync(out, now, now); // recently used: kept by pruneBundles
    return out;
  }
  const partial = `${out}.${process.pid}.partial`;
  const viaTsx = __filename.endsWith('.ts') ? ['--import', 'tsx'] : []; // compiled JavaScript runs as is
  try {
    await promisify(execFile)(process.execPath, [...viaTsx, __filename, partial], { maxBuffer: 16 * 1024 * 1024 });
    fs.renameSync(partial, out);
  } finally {
    fs.rmSync(partial, { force: true });
  }
  pruneBundles(outDir, out);
  return out;
}

/** sha256 of the bundled folders' files (path and content) and of the installed packages (package-lock.json). */
export function bundleKey(root = ROOT, packageLock = PACKAGE_LOCK): string {
  const hash = crypto.createHash('sha256');
  hash.update(fs.existsSync(packageLock) ? fs.readFileSync(packageLock) : 'no package-lock.json');
  const files: string[] = [];
  const visit = (dir: string) => {
    if (!fs.existsSync(dir)) return;
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) visit(full);
      else if (/\.(ts|js|json)$/.test(entry.name)) files.push(full);
    }
  };
  for (const dir of BUNDLED_DIRS) visit(path.join(root, dir));
  for (const file of files.sort()) {
    hash.update(`${path.relative(root, file)}\n`);
    hash.update(fs.readFileSync(file));
  }
  return hash.digest('hex').slice(0, 16);
}

/** Removes all but the most recently used cached bundles (never `inUse`). */
function pruneBundles(outDir: string, inUse: string): void {
  const bundles = fs
    .readdirSync(outDir)
    .filter((name) => /^workflow-bundle-[0-9a-f]+\.js$/.test(name))
    .map((name) => path.join(outDir, name))
    .filter((file) => file !== inUse)
    .map((file) => ({ file, used: fs.statSync(file, { throwIfNoEntry: false })?.mtimeMs ?? 0 }))
    .sort((a, b) => b.used - a.used);
  for (const { file } of bundles.slice(KEEP_BUNDLES)) fs.rmSync(file, { force: true });
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
