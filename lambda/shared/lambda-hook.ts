import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CodeDeployClient } from '@aws-sdk/client-codedeploy';
import { LambdaClient } from '@aws-sdk/client-lambda';
import type { Context } from 'aws-lambda';
import { TRAFFIC_CHECK_BUDGET_MS } from '../../lib/runtime/canary-traffic-settings';
import { BOUNDED_HTTP } from '../../lib/runtime/http';
import type { RetryOptions } from '../../lib/runtime/retry';
import { CheckResult, HookIds, HookResult, runHook } from './codedeploy-hook';
import { isSameFunction, LambdaHookConfig, readHookConfig } from './hook-config';
import { getDeploymentTarget, LambdaDeploymentTarget, runServiceCheck } from './lambda-deployment';
import type { CodeDeployLambdaHookEvent } from './lambda-hook-event';
import { createLogger } from './logger';

/** Clients and settings a Lambda-deployment hook's check needs; tests pass mocks. */
export interface LambdaHookDeps {
  readonly codedeploy: CodeDeployClient;
  readonly lambda: LambdaClient;
  readonly config: LambdaHookConfig;
  /** For the hooks that read metrics (the post-traffic hook's traffic check). @default - none */
  readonly cloudwatch?: CloudWatchClient;
  readonly retry?: RetryOptions;
}

/** Which qualifier of the guarded function a hook's smoke request goes to. */
export type SmokeQualifier = (target: LambdaDeploymentTarget, config: LambdaHookConfig) => string;

/**
 * Reads the deployment's AppSpec, refuses a deployment of another function or alias, then runs the
 * service's own check on the qualifier `qualifierOf` picks and expects the deployment's target
 * version to answer it.
 */
export async function smokeTestDeployment(
  ids: HookIds,
  signal: AbortSignal,
  deps: LambdaHookDeps,
  qualifierOf: SmokeQualifier,
): Promise<CheckResult> {
  const target = await getDeploymentTarget(deps.codedeploy, ids.DeploymentId, { signal, retry: deps.retry });
  return smokeTestTarget(target, signal, deps, qualifierOf);
}

/** `smokeTestDeployment` for a deployment target already read. */
export async function smokeTestTarget(
  target: LambdaDeploymentTarget,
  signal: AbortSignal,
  deps: LambdaHookDeps,
  qualifierOf: SmokeQualifier,
): Promise<CheckResult> {
  if (!isSameFunction(target.functionName, deps.config.functionName) || target.alias !== deps.config.aliasName) {
    return {
      status: 'Failed',
      reason: `deployment targets ${target.functionName}:${target.alias}, but this hook guards ${deps.config.functionName}:${deps.config.aliasName}`,
    };
  }
  return runServiceCheck(
    deps.lambda,
    { functionName: deps.config.functionName, qualifier: qualifierOf(target, deps.config), expectVersion: target.targetVersion },
    deps.config.check,
    { signal, retry: deps.retry },
  );
}

/**
 * The Lambda handler of a Lambda-deployment hook: clients and logger are created once (nothing
 * here reads the environment or can throw at import); FUNCTION_NAME, ALIAS_NAME,
 * CHECK_TIMEOUT_MS, SERVICE_CHECK and CANARY_TRAFFIC_CHECK are read per invocation so a
 * misconfiguration is reported as Failed. With a traffic check the check may also take
 * TRAFFIC_CHECK_BUDGET_MS (waiting for the step's last minute to be published). `options` adds the
 * clients only some hooks need and, for tests, retry settings whose sleep does not wait.
 */
export function lambdaHookHandler(
  serviceName: string,
  check: (ids: HookIds, signal: AbortSignal, deps: LambdaHookDeps) => Promise<CheckResult>,
  options: Pick<LambdaHookDeps, 'cloudwatch' | 'retry'> = {},
): (event: CodeDeployLambdaHookEvent, context?: Pick<Context, 'getRemainingTimeInMillis'>) => Promise<HookResult> {
  const codedeploy = new CodeDeployClient({ requestHandler: BOUNDED_HTTP });
  // No request timeout: an invoke lasts as long as the function runs; the check's signal bounds it.
  const lambda = new LambdaClient({});
  const logger = createLogger(serviceName);
  return async (event, context) => {
    const config = readHookConfig(process.env);
    const checkTimeoutMs = 'error' in config ? 1000 : config.checkTimeoutMs + (config.trafficCheck ? TRAFFIC_CHECK_BUDGET_MS : 0);
    return runHook(
      event,
      async (ids, signal) => {
        if ('error' in config) return { status: 'Failed', reason: `hook misconfigured: ${config.error}` };
        return check(ids, signal, { codedeploy, lambda, config, ...options });
      },
      { codedeploy, logger, checkTimeoutMs, retry: options.retry, remainingTimeMs: context && (() => context.getRemainingTimeInMillis()) },
    );
  };
}
