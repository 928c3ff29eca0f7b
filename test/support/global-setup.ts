import fs from 'node:fs';
import { stackDown, stackUp } from '../../stack/local-stack';
import { loadStackConfig } from '../../stack/stack-config';
import { TEST_STACK_ENV } from './test-env';

/**
 * Brings the real local stack up once for the whole test run (fresh state) and down at the end.
 * FLEETOPS_TEST_STACK=off skips it, for offline files only (e.g. test/workflow/history-replay.test.ts).
 */
export default async function setup(): Promise<() => Promise<void>> {
  if (process.env.FLEETOPS_TEST_STACK === 'off') return async () => undefined;
  const cfg = loadStackConfig({ ...process.env, ...TEST_STACK_ENV });
  await stackDown(cfg, () => undefined); // a stack left over by an interrupted run
  fs.rmSync(cfg.stateDir, { recursive: true, force: true });
  const { seconds } = await stackUp(cfg, () => undefined);
  process.stderr.write(`[test] local stack up in ${seconds.toFixed(1)} s (${cfg.stateDir})\n`);
  return async () => {
    await stackDown(cfg, () => undefined);
  };
}
