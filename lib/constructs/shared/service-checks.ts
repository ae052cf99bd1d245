import type { IConstruct } from 'constructs';
import type { HttpCheck, InvokeCheck } from '../../config/service-schema';
import type { ServiceCheck } from '../../runtime/service-check';

/** CodeDeploy watches at most this many alarms per deployment group (AlarmConfiguration.Alarms). */
export const MAX_DEPLOYMENT_GROUP_ALARMS = 10;

/** Fails synth when more alarms than CodeDeploy takes watch `scope`'s deployment group (counted once the app is complete). */
export function validateDeploymentGroupAlarmCount(scope: IConstruct, alarms: readonly unknown[]): void {
  scope.node.addValidation({
    validate: () =>
      alarms.length > MAX_DEPLOYMENT_GROUP_ALARMS
        ? [
            `${scope.node.path}: ${alarms.length} alarms watch the deployment group, CodeDeploy allows at most ${MAX_DEPLOYMENT_GROUP_ALARMS}: combine some with metric math`,
          ]
        : [],
  });
}

/** Lambda allows 4 KB of environment in all; a check's JSON must leave room for the rest. */
const MAX_CHECK_JSON = 2048;

/**
 * The `SERVICE_CHECK` environment variable of a Lambda service's hooks: the service's own check,
 * as JSON, so the hook handlers assume nothing about the service's API.
 */
export function serviceCheckEnvironment(healthCheck?: HttpCheck, invokeCheck?: InvokeCheck): { SERVICE_CHECK: string } {
  const check: ServiceCheck = healthCheck
    ? { type: 'http', path: healthCheck.path, expectedStatus: healthCheck.expectedStatus ?? 200, bodyContains: healthCheck.bodyContains }
    : invokeCheck
      ? { type: 'invoke', payload: invokeCheck.payload, bodyContains: invokeCheck.bodyContains }
      : { type: 'none' };
  const json = JSON.stringify(check);
  if (json.length > MAX_CHECK_JSON) {
    throw new Error(
      `the service's ${check.type} check is ${json.length} characters as JSON: keep it under ${MAX_CHECK_JSON} (Lambda allows 4 KB of environment variables in all); shorten the payload`,
    );
  }
  return { SERVICE_CHECK: json };
}
