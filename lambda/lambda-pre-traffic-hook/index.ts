import type { CheckResult, HookIds } from '../shared/codedeploy-hook';
import { LambdaHookDeps, lambdaHookHandler, smokeTestDeployment } from '../shared/lambda-hook';

/** Clients and settings the check needs; tests pass mocks. */
export type PreTrafficDeps = LambdaHookDeps;

/**
 * BeforeAllowTraffic: the alias still points at the old version. Finds the new version in the
 * deployment's AppSpec and runs the service's own check on it directly, so a broken build never gets traffic.
 */
export function checkNewVersion(ids: HookIds, signal: AbortSignal, deps: PreTrafficDeps): Promise<CheckResult> {
  return smokeTestDeployment(ids, signal, deps, (target) => target.targetVersion);
}

export const handler = lambdaHookHandler('lambda-pre-traffic-hook', checkNewVersion);
