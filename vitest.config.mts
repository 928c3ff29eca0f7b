import { defineConfig } from 'vitest/config';
import { TEST_STACK_ENV } from './test/support/test-env';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // One local stack for the whole run, on its own ports and state folder (test/support/test-env.ts).
    pool: 'forks',
    env: TEST_STACK_ENV,
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 600_000,
    // Integration files share one stack and measure rates: run files one at a time.
    fileParallelism: false,
  },
});
