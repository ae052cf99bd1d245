import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { isRollbackCreator, judgeCanaryTraffic, stepWindow, sumCounts, TrafficWaitOptions } from '../shared/canary-traffic';
import type { CheckResult, HookIds } from '../shared/codedeploy-hook';
import { withinTimeout } from '../shared/codedeploy-hook';
import { BOUNDED_HTTP } from '../shared/http';
import { getDeploymentTarget, LambdaDeploymentTarget } from '../shared/lambda-deployment';
import { LambdaHookDeps, lambdaHookHandler, smokeTestTarget } from '../shared/lambda-hook';

/** Clients and settings the check needs; tests pass mocks, and a clock for the traffic check's wait. */
export interface PostTrafficDeps extends LambdaHookDeps {
  /** Clock and pacing of the traffic check's wait for the step's last minute. @default - real time */
  readonly wait?: Omit<TrafficWaitOptions, 'signal'>;
}

/**
 * AfterAllowTraffic: all traffic is on the new version. Invokes the alias the way callers reach it
 * and checks both the answer and that Lambda ran the deployment's target version (a wrong
 * ExecutedVersion means the shift did not take effect). A judged canary (CANARY_TRAFFIC_CHECK set)
 * must then have served the judge's `minRequests` during its step: else the hook fails and
 * CodeDeploy rolls back (CodeDeploy user guide, AppSpec "hooks" for Lambda: AfterAllowTraffic runs
 * "after all traffic is shifted to the Lambda function version"; its failure fails the deployment).
 */
export async function checkLiveAlias(ids: HookIds, signal: AbortSignal, deps: PostTrafficDeps): Promise<CheckResult> {
  const target = await getDeploymentTarget(deps.codedeploy, ids.DeploymentId, { signal, retry: deps.retry });
  const traffic = deps.config.trafficCheck;
  const aliasOf = () => deps.config.aliasName;
  // With a traffic check the hook's budget includes its wait; the service's own check keeps its limit.
  const own = traffic
    ? await withinTimeout(deps.config.checkTimeoutMs, signal, (s) => smokeTestTarget(target, s, deps, aliasOf))
    : await smokeTestTarget(target, signal, deps, aliasOf);
  if (own.status === 'Failed' || !traffic) return own;
  const counted = await checkCanaryTraffic(target, signal, deps);
  return counted.status === 'Failed' ? counted : { status: 'Succeeded', reason: `${own.reason}; ${counted.reason}` };
}

/**
 * Counts the requests the target version served through the alias during the canary step:
 * `AWS/Lambda` `Invocations` (Sum) with FunctionName, Resource = `<fn>:<alias>` and ExecutedVersion
 * = the AppSpec's TargetVersion, the canary series of the judge (JudgeTraffic.lambdaAlias), over
 * the step's whole minutes from the deployment's createTime. CodeDeploy shifts the canary share
 * after the BeforeAllowTraffic hook, seconds after createTime, so the window ends those seconds
 * before the shift to 100% and never includes it.
 */
export async function checkCanaryTraffic(target: LambdaDeploymentTarget, signal: AbortSignal, deps: PostTrafficDeps): Promise<CheckResult> {
  const check = deps.config.trafficCheck;
  if (!check) return { status: 'Succeeded', reason: 'no traffic check: the service has no canary judge' };
  if (isRollbackCreator(target.creator) || isOlderVersion(target)) {
    return {
      status: 'Succeeded',
      reason: `canary traffic not counted: the deployment (created by ${target.creator ?? 'unknown'}) goes back from version ${target.currentVersion} to ${target.targetVersion}, a rollback, which is never held`,
    };
  }
  if (!target.createTime) return { status: 'Failed', reason: 'cannot tell when the canary step started: GetDeployment returned no createTime' };
  const cloudwatch = deps.cloudwatch;
  if (!cloudwatch) return { status: 'Failed', reason: 'hook misconfigured: no CloudWatch client for the traffic check' };
  const fn = deps.config.functionName;
  const alias = deps.config.aliasName;
  const window = stepWindow(target.createTime, check.stepMinutes);
  const read = async () => {
    const sums = await sumCounts(
      cloudwatch,
      [{ id: 'canary', namespace: 'AWS/Lambda', metricName: 'Invocations', dimensions: { FunctionName: fn, Resource: `${fn}:${alias}`, ExecutedVersion: target.targetVersion } }],
      window,
      { signal, retry: deps.retry },
    );
    return { count: sums.canary, detail: `AWS/Lambda Invocations of version ${target.targetVersion} through ${alias}` };
  };
  return judgeCanaryTraffic(read, check, window, { ...deps.wait, signal });
}

/** Versions only grow: a target older than the current version is a rollback (CloudFormation's, or an operator's). */
function isOlderVersion(target: LambdaDeploymentTarget): boolean {
  const [current, next] = [Number(target.currentVersion), Number(target.targetVersion)];
  return Number.isInteger(current) && Number.isInteger(next) && next < current;
}

export const handler = lambdaHookHandler('lambda-post-traffic-hook', checkLiveAlias, { cloudwatch: new CloudWatchClient({ requestHandler: BOUNDED_HTTP }) });
