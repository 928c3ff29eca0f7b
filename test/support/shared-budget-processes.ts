import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import type { LoadResult, LoadSpec } from './shared-budget-load';

const ROOT = path.resolve(__dirname, '../..');
const run = promisify(execFile);

/**
 * Runs `count` load processes (test/support/shared-budget-load.ts) at once, each its own Node process
 * with its own limiter and Valkey connection, starting together `warmupMs` from now; returns each result.
 */
export async function runLoadProcesses(
  count: number,
  spec: Omit<LoadSpec, 'startAt'>,
  warmupMs = 15_000,
): Promise<{ results: LoadResult[]; startAt: number }> {
  const startAt = Date.now() + warmupMs;
  const full: LoadSpec = { ...spec, startAt };
  const outs = await Promise.all(
    Array.from({ length: count }, () =>
      run(
        process.execPath,
        ['--import', 'tsx', path.join(ROOT, 'test/support/shared-budget-load.ts'), JSON.stringify(full)],
        { cwd: ROOT, timeout: warmupMs + spec.seconds * 1000 + 60_000, maxBuffer: 16 * 2 ** 20 },
      ),
    ),
  );
  const results = outs.map((o) => JSON.parse(o.stdout.trim().split('\n').at(-1)!) as LoadResult);
  return { results, startAt };
}
