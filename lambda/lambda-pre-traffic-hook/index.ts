import { CodeDeployClient } from '@aws-sdk/client-codedeploy';
import { LambdaClient } from '@aws-sdk/client-lambda';
import type { CodeDeployLambdaHookEvent } from '../shared/lambda-hook-event';
import { CheckResult, HookIds, HookResult, runHook } from '../shared/codedeploy-hook';
import { isSameFunction, LambdaHookConfig, readHookConfig } from '../shared/hook-config';
import { getDeploymentTarget, smokeTestHealth } from '../shared/lambda-deployment';
import { createLogger } from '../shared/logger';
import type { RetryOptions } from '../shared/retry';

/** Clients and settings the check needs; tests pass mocks. */
export interface PreTrafficDeps {
  readonly codedeploy: CodeDeployClient;
  readonly lambda: LambdaClient;
  readonly config: LambdaHookConfig;
  readonly retry?: RetryOptions;
}

/**
 * BeforeAllowTraffic: the alias still points at the old version. Finds the new version in the
 * deployment's AppSpec and sends it `GET /health` directly, so a broken build never gets traffic.
 */
export async function checkNewVersion(ids: HookIds, signal: AbortSignal, deps: PreTrafficDeps): Promise<CheckResult> {
  const target = await getDeploymentTarget(deps.codedeploy, ids.DeploymentId, { signal, retry: deps.retry });
  if (!isSameFunction(target.functionName, deps.config.functionName) || target.alias !== deps.config.aliasName) {
    return {
      status: 'Failed',
      reason: `deployment targets ${target.functionName}:${target.alias}, but this hook guards ${deps.config.functionName}:${deps.config.aliasName}`,
    };
  }
  return smokeTestHealth(
    deps.lambda,
    { functionName: deps.config.functionName, qualifier: target.targetVersion, expectVersion: target.targetVersion },
    { signal, retry: deps.retry },
  );
}

const codedeploy = new CodeDeployClient({});
const lambda = new LambdaClient({});
const logger = createLogger('lambda-pre-traffic-hook');
export async function handler(event: CodeDeployLambdaHookEvent): Promise<HookResult> {
  // Read per invocation (it is cheap) so a misconfiguration is reported, not thrown at cold start.
  const config = readHookConfig(process.env);
  const checkTimeoutMs = 'error' in config ? 1000 : config.checkTimeoutMs;
  return runHook(
    event,
    async (ids, signal) => {
      if ('error' in config) return { status: 'Failed', reason: `hook misconfigured: ${config.error}` };
      return checkNewVersion(ids, signal, { codedeploy, lambda, config });
    },
    { codedeploy, logger, checkTimeoutMs },
  );
}
