import { Duration, Stack } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import type { HttpCheck, InvokeCheck } from '../../config/service-schema';
import { CANARY_TRAFFIC_CHECK_ENV, canaryTrafficCheckValue, TRAFFIC_CHECK_BUDGET_MS } from '../../runtime/canary-traffic-settings';
import { HandlerFunction, stackScopedFunctionName } from '../handler-function';
import { acknowledgeFindings } from '../shared/acknowledge';
import { hookErrorsAlarm } from '../shared/service-alarms';
import { serviceCheckEnvironment } from '../shared/service-checks';

/** What the hooks of a CanaryLambdaService check. */
export interface LambdaServiceHooksOptions {
  readonly fn: lambda.Function;
  readonly aliasName: string;
  /** Upper bound of each hook's own check. */
  readonly checkTimeout: Duration;
  /** @default - no HTTP check */
  readonly healthCheck?: HttpCheck;
  /** @default - no invoke check */
  readonly invokeCheck?: InvokeCheck;
  /** A judged canary's step must have served the judge's minRequests. @default - no traffic check */
  readonly trafficCheck?: { readonly minRequests: number; readonly stepMinutes: number };
  /** Period of the hook-errors alarm. */
  readonly period: Duration;
}

/**
 * The BeforeAllowTraffic and AfterAllowTraffic hooks of a CanaryLambdaService, running the service's
 * own check (and, for a judged canary, counting the step's requests), and one alarm on their errors.
 * Built into `scope` under its ids.
 */
export function lambdaServiceHooks(
  scope: Construct,
  o: LambdaServiceHooksOptions,
): { preTrafficHook: HandlerFunction; postTrafficHook: HandlerFunction; errorsAlarm: cloudwatch.Alarm } {
  const checkTimeout = o.checkTimeout;
  const hookEnvironment = {
    FUNCTION_NAME: o.fn.functionName,
    ALIAS_NAME: o.aliasName,
    CHECK_TIMEOUT_MS: String(checkTimeout.toMilliseconds()),
    ...serviceCheckEnvironment(o.healthCheck, o.invokeCheck),
  };
  const preTrafficHook = hookFunction(
    scope,
    o.fn,
    'PreTrafficHook',
    'lambda-pre-traffic-hook/index.ts',
    'BeforeAllowTraffic',
    hookEnvironment,
    checkTimeout,
  );
  // A judged canary's step must have served the judge's minRequests: the post-traffic hook counts
  // them, and may wait for the step's last minute to be published.
  const trafficCheck = o.trafficCheck;
  const postTrafficHook = hookFunction(
    scope,
    o.fn,
    'PostTrafficHook',
    'lambda-post-traffic-hook/index.ts',
    'AfterAllowTraffic',
    trafficCheck ? { ...hookEnvironment, [CANARY_TRAFFIC_CHECK_ENV]: canaryTrafficCheckValue(trafficCheck) } : hookEnvironment,
    trafficCheck ? checkTimeout.plus(Duration.millis(TRAFFIC_CHECK_BUDGET_MS)) : checkTimeout,
  );
  if (trafficCheck) {
    postTrafficHook.addToRolePolicy(new iam.PolicyStatement({ actions: ['cloudwatch:GetMetricData'], resources: ['*'] }));
    // A return to code that served before is not held: the hook compares the target with the
    // function's earlier versions (the unqualified function ARN: Service Authorization Reference).
    postTrafficHook.addToRolePolicy(new iam.PolicyStatement({ actions: ['lambda:ListVersionsByFunction'], resources: [o.fn.functionArn] }));
    acknowledgeFindings(postTrafficHook.executionRole, {
      'AwsSolutions-IAM5[Resource::*]':
        "cloudwatch:GetMetricData has no resource-level permissions (IAM service authorization reference for Amazon CloudWatch); the hook reads the canary version's Invocations only.",
    });
  }
  const errorsAlarm = hookErrorsAlarm(
    scope,
    'HookErrorsAlarm',
    [preTrafficHook, postTrafficHook].map((h) => h.fixedName!),
    o.period,
  );
  return { preTrafficHook, postTrafficHook, errorsAlarm };
}

/** A hook whose check may take `checkTime` (CHECK_TIMEOUT_MS stays the service check's own limit). */
function hookFunction(
  scope: Construct,
  fn: lambda.Function,
  id: string,
  entry: string,
  lifecycleEvent: string,
  environment: Record<string, string>,
  checkTime: Duration,
): HandlerFunction {
  const hook = new HandlerFunction(scope, id, {
    entry,
    functionName: stackScopedFunctionName(scope, `${scope.node.id}-${id}`),
    description: `CodeDeploy ${lifecycleEvent} hook of ${scope.node.path}`,
    // Room after the check for reporting to CodeDeploy, with retries.
    timeout: checkTime.plus(Duration.seconds(30)),
    environment,
  });
  // Versions and aliases of the service function only (`<function arn>:<qualifier>`).
  hook.addToRolePolicy(new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [`${fn.functionArn}:*`] }));
  acknowledgeFindings(hook.executionRole, {
    [`AwsSolutions-IAM5[Resource::<${Stack.of(scope).getLogicalId(fn.node.defaultChild as lambda.CfnFunction)}.Arn>:*]`]:
      'The hook invokes the version being deployed (unknown until deployment) and the alias of this one function; the wildcard is the qualifier of that function only.',
  });
  return hook;
}
