/**
 * How fast the on-call CLI answers: `npm run bench:cli -- [CAMPAIGN_ID]`.
 *
 * Runs `fleetops --version`, `fleetops --help` and, given a campaign id on the local stack (e.g. the
 * 4,000-account campaign `npm run bench:campaign -- 4000` leaves behind), `fleetops campaign status ID
 * --local` (the memo snapshot) and with `--live` (the status query, answered by the worker), each 5 times as a new process, from the compiled build (dist/, made by the setup step) and
 * from the TypeScript sources through tsx (FLEETOPS_FROM_SOURCE=1); prints the median wall times.
 * Targets: --help < 0.5 s, campaign status of a 4,000-account campaign < 1 s.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..');
const RUNS = 5;

function medianSeconds(args: string[], env: Record<string, string> = {}): number {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const started = process.hrtime.bigint();
    const run = spawnSync(process.execPath, [path.join(ROOT, 'bin/fleetops.js'), ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
      encoding: 'utf8',
    });
    if (run.status !== 0) throw new Error(`fleetops ${args.join(' ')} exited ${run.status}: ${run.stderr}`);
    times.push(Number(process.hrtime.bigint() - started) / 1e9);
  }
  return times.sort((a, b) => a - b)[Math.floor(RUNS / 2)];
}

function main(): void {
  const campaignId = process.argv[2];
  const cases: Array<[string, string[]]> = [
    ['--version', ['--version']],
    ['--help', ['--help']],
    ...(campaignId
      ? ([
          [`campaign status ${campaignId}`, ['campaign', 'status', campaignId, '--local']],
          [`campaign status ${campaignId} --live`, ['campaign', 'status', campaignId, '--local', '--live']],
        ] as Array<[string, string[]]>)
      : []),
  ];
  for (const [what, args] of cases) {
    const compiled = medianSeconds(args);
    const source = medianSeconds(args, { FLEETOPS_FROM_SOURCE: '1' });
    console.log(`${what.padEnd(40)} compiled ${compiled.toFixed(2)} s   from source (tsx) ${source.toFixed(2)} s`);
  }
  if (!campaignId) console.log('(give a campaign id on the local stack to time `campaign status` too)');
}

main();
