import { CANARY_TRAFFIC_CHECK_ENV, CanaryTrafficCheck, parseCanaryTrafficCheck } from '../../lib/runtime/canary-traffic-settings';
import { parseServiceCheck, ServiceCheck } from '../../lib/runtime/service-check';

/** Settings every Lambda-deployment hook reads from its environment, validated per invocation. */
export interface LambdaHookConfig {
  /** Name of the function being deployed. */
  readonly functionName: string;
  /** The alias CodeDeploy shifts. */
  readonly aliasName: string;
  /** Upper bound for the whole check, in ms. */
  readonly checkTimeoutMs: number;
  /** The service's own check of a version. */
  readonly check: ServiceCheck;
  /** What a judged canary step must serve (CANARY_TRAFFIC_CHECK); undefined without a judge. */
  readonly trafficCheck?: CanaryTrafficCheck;
}

/** Reads FUNCTION_NAME, ALIAS_NAME, CHECK_TIMEOUT_MS, SERVICE_CHECK and CANARY_TRAFFIC_CHECK; a bad one becomes a readable error. */
export function readHookConfig(env: Record<string, string | undefined>): LambdaHookConfig | { error: string } {
  const problems: string[] = [];
  const functionName = env.FUNCTION_NAME ?? '';
  const aliasName = env.ALIAS_NAME ?? '';
  const checkTimeoutMs = Number(env.CHECK_TIMEOUT_MS ?? '30000');
  if (functionName === '') problems.push('FUNCTION_NAME is not set');
  if (aliasName === '') problems.push('ALIAS_NAME is not set');
  if (!Number.isInteger(checkTimeoutMs) || checkTimeoutMs <= 0)
    problems.push(`CHECK_TIMEOUT_MS ${JSON.stringify(env.CHECK_TIMEOUT_MS)} is not a positive integer`);
  const check = parseServiceCheck(env.SERVICE_CHECK);
  if ('error' in check) problems.push(check.error);
  const trafficCheck = parseCanaryTrafficCheck(env[CANARY_TRAFFIC_CHECK_ENV]);
  if (trafficCheck && 'error' in trafficCheck) problems.push(trafficCheck.error);
  if (problems.length > 0 || 'error' in check || (trafficCheck && 'error' in trafficCheck)) return { error: problems.join('; ') };
  return { functionName, aliasName, checkTimeoutMs, check, ...(trafficCheck ? { trafficCheck } : {}) };
}

/** Whether the AppSpec's `Name` (a name or an ARN) designates the function this hook guards. */
export function isSameFunction(appSpecName: string, functionName: string): boolean {
  return appSpecName === functionName || appSpecName.endsWith(`:function:${functionName}`);
}
