import type { CheckResult, HookIds } from '../shared/codedeploy-hook';
import { LambdaHookDeps, lambdaHookHandler, smokeTestDeployment } from '../shared/lambda-hook';

/** Clients and settings the check needs; tests pass mocks. */
export type PostTrafficDeps = LambdaHookDeps;

/**
 * AfterAllowTraffic: all traffic is on the new version. Invokes the alias the way callers reach it
 * and checks both the answer and that Lambda ran the deployment's target version (a wrong
 * ExecutedVersion means the shift did not take effect).
 */
export function checkLiveAlias(ids: HookIds, signal: AbortSignal, deps: PostTrafficDeps): Promise<CheckResult> {
  return smokeTestDeployment(ids, signal, deps, (_target, config) => config.aliasName);
}

export const handler = lambdaHookHandler('lambda-post-traffic-hook', checkLiveAlias);
