import { CodeDeployClient } from '@aws-sdk/client-codedeploy';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { CheckResult, HookIds, HookResult, runHook } from '../shared/codedeploy-hook';
import { isSameFunction, LambdaHookConfig, readHookConfig } from '../shared/hook-config';
import { getDeploymentTarget, smokeTestHealth } from '../shared/lambda-deployment';
import type { CodeDeployLambdaHookEvent } from '../shared/lambda-hook-event';
import { createLogger } from '../shared/logger';
import type { RetryOptions } from '../shared/retry';

/** Clients and settings the check needs; tests pass mocks. */
export interface PostTrafficDeps {
  readonly codedeploy: CodeDeployClient;
  readonly lambda: LambdaClient;
  readonly config: LambdaHookConfig;
  readonly retry?: RetryOptions;
}

/**
 * AfterAllowTraffic: all traffic is on the new version. Invokes the alias the way callers reach it
 * and checks both the answer and that Lambda ran the deployment's target version (a wrong
 * ExecutedVersion means the shift did not take effect).
 */
export async function checkLiveAlias(ids: HookIds, signal: AbortSignal, deps: PostTrafficDeps): Promise<CheckResult> {
  const target = await getDeploymentTarget(deps.codedeploy, ids.DeploymentId, { signal, retry: deps.retry });
  if (!isSameFunction(target.functionName, deps.config.functionName) || target.alias !== deps.config.aliasName) {
    return {
      status: 'Failed',
      reason: `deployment targets ${target.functionName}:${target.alias}, but this hook guards ${deps.config.functionName}:${deps.config.aliasName}`,
    };
  }
  return smokeTestHealth(
    deps.lambda,
    { functionName: deps.config.functionName, qualifier: deps.config.aliasName, expectVersion: target.targetVersion },
    { signal, retry: deps.retry },
  );
}

const codedeploy = new CodeDeployClient({});
const lambda = new LambdaClient({});
const logger = createLogger('lambda-post-traffic-hook');
export async function handler(event: CodeDeployLambdaHookEvent): Promise<HookResult> {
  // Read per invocation (it is cheap) so a misconfiguration is reported, not thrown at cold start.
  const config = readHookConfig(process.env);
  const checkTimeoutMs = 'error' in config ? 1000 : config.checkTimeoutMs;
  return runHook(
    event,
    async (ids, signal) => {
      if ('error' in config) return { status: 'Failed', reason: `hook misconfigured: ${config.error}` };
      return checkLiveAlias(ids, signal, { codedeploy, lambda, config });
    },
    { codedeploy, logger, checkTimeoutMs },
  );
}
