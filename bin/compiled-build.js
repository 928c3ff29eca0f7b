// The compiled JavaScript build of fleetops (dist/, made by `node scripts/ensure-setup.js` with
// tsconfig.build.json), and whether it is current: the CLI and the worker start from it — no
// TypeScript transpiling at every start — and fall back to the sources through tsx when a source file
// changed since the build (development), so a stale build never runs.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const dist = path.join(root, 'dist');
const stampFile = path.join(dist, '.fleetops-build');
const SOURCE_DIRS = ['workflows', 'activities', 'worker', 'fleet', 'cli', 'stack'];
const SOURCE_FILES = ['tsconfig.json', 'tsconfig.build.json', 'package-lock.json'];

/** The newest modification time (ms) of the sources the build is made from. */
function newestSource() {
  let newest = 0;
  const visit = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) visit(full);
      else if (entry.name.endsWith('.ts')) newest = Math.max(newest, fs.statSync(full).mtimeMs);
    }
  };
  for (const dir of SOURCE_DIRS) visit(path.join(root, dir));
  for (const file of SOURCE_FILES) newest = Math.max(newest, fs.statSync(path.join(root, file)).mtimeMs);
  return newest;
}

/** True when dist/ was built after every source file last changed. */
function buildIsCurrent() {
  try {
    return fs.statSync(stampFile).mtimeMs >= newestSource();
  } catch {
    return false;
  }
}

/** Marks the build current (after tsc wrote it). */
function markBuilt() {
  fs.writeFileSync(stampFile, `${new Date().toISOString()}\n`);
}

module.exports = { buildIsCurrent, markBuilt, dist, root };
