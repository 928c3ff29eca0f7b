/** Running `fleetops …` as an operator would, and the commands a runbook tells them to run. */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const ROOT = path.resolve(__dirname, '../..');

export type CliResult = { code: number; stdout: string; stderr: string };

/** A runner of `fleetops …` on `taskQueue`; it never throws: exit code and output. */
export function fleetopsCli(taskQueue: string): (...args: string[]) => Promise<CliResult> {
  return (...args) =>
    promisify(execFile)(process.execPath, [path.join(ROOT, 'bin/fleetops.js'), ...args], {
      cwd: ROOT,
      env: { ...process.env, FLEETOPS_TASK_QUEUE: taskQueue },
    }).then(
      ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
      (e: CliResult) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
    );
}

/** The `npx fleetops …` lines of a runbook's `## Commands` block (docs/runbooks/<page>). */
export function runbookCommands(page: string): string[] {
  const md = fs.readFileSync(path.join(ROOT, 'docs/runbooks', page), 'utf8');
  const block = /## Commands\n+```sh\n([\s\S]*?)```/.exec(md)?.[1] ?? '';
  return block.split('\n').filter((l) => l.startsWith('npx fleetops '));
}
