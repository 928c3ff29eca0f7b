/**
 * The contract of a customer's pipeline CloudFormation stack, shared by the activities that read and
 * move it, the workflows, the simulator that seeds it and the local AWS proxy that emulates it.
 * Pure: safe for workflow code.
 */

/** The stack parameter that carries the pipeline version (semver). */
export const PIPELINE_VERSION_PARAMETER = 'PipelineVersion';

/** The suffix of the pipeline's health alarm name: `<stack>-health`. */
export const HEALTH_ALARM_SUFFIX = '-health';

/** The pipeline's health alarm, watched by upgrade campaigns during the bake. */
export function healthAlarmName(stackName: string): string {
  return `${stackName}${HEALTH_ALARM_SUFFIX}`;
}
