/**
 * One local stack for the whole run, on its own ports and state folder so it never collides with a
 * `npm run demo` stack: test/support/global-setup.ts brings it up and takes it down.
 * FLEETOPS_TEST_PORT_OFFSET (default 0) moves every port, so two checkouts can run their suites at once.
 */
const offset = Number(process.env.FLEETOPS_TEST_PORT_OFFSET ?? 0);
if (!Number.isInteger(offset) || offset < 0 || offset > 40_000) {
  throw new Error(
    `FLEETOPS_TEST_PORT_OFFSET must be an integer from 0 to 40000, got "${process.env.FLEETOPS_TEST_PORT_OFFSET}"`,
  );
}
/** A test port, moved by FLEETOPS_TEST_PORT_OFFSET like the shared test stack's. */
export const port = (p: number) => String(p + offset);

export const TEST_STACK_ENV = {
  FLEETOPS_STATE_DIR: '.fleetops-test',
  FLEETOPS_TEMPORAL_PORT: port(17233),
  FLEETOPS_TEMPORAL_UI_PORT: port(18233),
  FLEETOPS_MOTO_PORT: port(15000),
  FLEETOPS_AWS_PORT: port(14566),
  FLEETOPS_VAULT_PORT: port(18200),
  FLEETOPS_VALKEY_PORT: port(16379),
  // Worker processes the tests start serve no metrics unless a test asks (worker-metrics.test.ts).
  FLEETOPS_METRICS_ADDRESS: 'off',
  // … nor health probes (worker-health.test.ts asks for them), and a shutdown cancels in-flight activities
  // at once as before the grace existed (worker-health.test.ts sets one).
  FLEETOPS_HEALTH_ADDRESS: 'off',
  FLEETOPS_SHUTDOWN_GRACE_SECONDS: '0',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
};
