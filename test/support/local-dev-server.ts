import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { FLEET_SEARCH_ATTRIBUTES } from '../../workflows/search-attributes';

/**
 * A Temporal dev server of its own (`temporal server start-dev` from the project venv, in memory, on a
 * free loopback port) with the fleet search attributes registered: real time, real server behaviour.
 */
export async function localDevServerEnv(): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: path.resolve(__dirname, '../../.tools/venv/bin/temporal') },
      ip: '127.0.0.1',
      searchAttributes: FLEET_SEARCH_ATTRIBUTES,
      extraArgs: ['--log-level', 'error'],
    },
  });
}
