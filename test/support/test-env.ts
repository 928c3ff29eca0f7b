/**
 * One local stack for the whole run, on its own ports and state folder so it never collides with a
 * `npm run demo` stack: test/support/global-setup.ts brings it up and takes it down.
 */
export const TEST_STACK_ENV = {
  FLEETOPS_STATE_DIR: '.fleetops-test',
  FLEETOPS_TEMPORAL_PORT: '17233',
  FLEETOPS_TEMPORAL_UI_PORT: '18233',
  FLEETOPS_MOTO_PORT: '15000',
  FLEETOPS_AWS_PORT: '14566',
  FLEETOPS_VAULT_PORT: '18200',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
};
