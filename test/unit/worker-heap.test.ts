import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { workerHeapMb, heapLimitGiven, flagGiven, DEFAULT_HEAP_MB } = require('../../bin/worker-heap.js');

const ROOT = path.resolve(__dirname, '../..');

describe('worker heap limit (FLEETOPS_WORKER_HEAP_MB)', () => {
  it('defaults to a bounded heap; 0 keeps V8 default; whole MiB ≥ 128 are taken', () => {
    expect(workerHeapMb({})).toBe(DEFAULT_HEAP_MB);
    expect(DEFAULT_HEAP_MB).toBeLessThan(400);
    expect(workerHeapMb({ FLEETOPS_WORKER_HEAP_MB: ' ' })).toBe(DEFAULT_HEAP_MB);
    expect(workerHeapMb({ FLEETOPS_WORKER_HEAP_MB: '0' })).toBe(0);
    expect(workerHeapMb({ FLEETOPS_WORKER_HEAP_MB: '512' })).toBe(512);
  });

  it.each(['abc', '64', '-1', '300.5'])('rejects %j naming the variable and what it expects', (v) => {
    expect(() => workerHeapMb({ FLEETOPS_WORKER_HEAP_MB: v })).toThrow(
      `FLEETOPS_WORKER_HEAP_MB: expected 0 (V8's default heap limit) or a whole number of MiB ≥ 128, got "${v}"`,
    );
  });

  it('respects a limit the operator already gave in NODE_OPTIONS', () => {
    expect(heapLimitGiven({ NODE_OPTIONS: '--enable-source-maps --max-old-space-size=1024' })).toBe(true);
    expect(heapLimitGiven({ NODE_OPTIONS: '--enable-source-maps' })).toBe(false);
    expect(heapLimitGiven({ NODE_OPTIONS: '--max_old_space_size=512' })).toBe(true);
    expect(flagGiven('max-semi-space-size', { NODE_OPTIONS: '--max-semi-space-size=8' })).toBe(true);
    expect(flagGiven('max-semi-space-size', { NODE_OPTIONS: '--max-old-space-size=512' })).toBe(false);
  });

  it('`fleetops worker` with a bad value exits 2 before connecting to anything', async () => {
    const run = promisify(execFile)(process.execPath, [path.join(ROOT, 'bin/fleetops.js'), 'worker'], {
      cwd: ROOT,
      env: { ...process.env, FLEETOPS_WORKER_HEAP_MB: '64' },
    });
    const err = await run.then(
      () => undefined,
      (e: { code: number; stderr: string }) => e,
    );
    expect(err?.code).toBe(2);
    expect(err?.stderr).toContain('FLEETOPS_WORKER_HEAP_MB: expected 0');
  });
});
