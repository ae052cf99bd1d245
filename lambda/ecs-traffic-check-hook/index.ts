import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { BatchGetDeploymentTargetsCommand, CodeDeployClient, GetDeploymentCommand, ListDeploymentTargetsCommand } from '@aws-sdk/client-codedeploy';
import type { Context } from 'aws-lambda';
import { CanaryCount, isRollbackCreator, judgeCanaryTraffic, stepWindow, sumCounts, TrafficWaitOptions } from '../shared/canary-traffic';
import { CANARY_TRAFFIC_CHECK_ENV, CanaryTrafficCheck, parseCanaryTrafficCheck, TRAFFIC_CHECK_BUDGET_MS } from '../shared/canary-traffic-settings';
import type { CheckResult, HookIds, HookResult } from '../shared/codedeploy-hook';
import { describeError, runHook } from '../shared/codedeploy-hook';
import { BOUNDED_HTTP } from '../shared/http';
import type { CodeDeployLambdaHookEvent } from '../shared/lambda-hook-event';
import { createLogger } from '../shared/logger';
import { retry, RetryOptions } from '../shared/retry';

/**
 * CodeDeploy AfterAllowTraffic hook of a judged ECS service: after the shift to 100%, count the
 * requests the canary target group served during the canary step and fail the deployment, so that
 * CodeDeploy rolls back, when they are fewer than the judge needs (docs/canary-judge.md, "Too little
 * traffic"). CodeDeploy runs AfterAllowTraffic "after the second target group serves traffic to the
 * replacement task set"; "the results of a hook function at this lifecycle event can trigger a
 * rollback" (CodeDeploy user guide, AppSpec "hooks" section for an Amazon ECS deployment).
 */

/** What the check reads from its environment. */
export interface EcsTrafficCheckConfig {
  readonly check: CanaryTrafficCheck;
  /** The ALB's `LoadBalancer` dimension value (app/<name>/<id>). */
  readonly loadBalancer: string;
  /** The two target groups' `TargetGroup` dimension values (targetgroup/<name>/<id>). */
  readonly targetGroups: readonly [string, string];
  /** The service's stack: while it rolls back, the deployment goes back to what served before. @default - not checked */
  readonly stackId?: string;
}

/** Reads CANARY_TRAFFIC_CHECK, LOAD_BALANCER, TARGET_GROUPS and STACK_ID; a bad one becomes a readable error. */
export function readConfig(env: Record<string, string | undefined>): EcsTrafficCheckConfig | { error: string } {
  const problems: string[] = [];
  const check = parseCanaryTrafficCheck(env[CANARY_TRAFFIC_CHECK_ENV]);
  if (check === undefined) problems.push(`${CANARY_TRAFFIC_CHECK_ENV} is not set`);
  else if ('error' in check) problems.push(check.error);
  const loadBalancer = env.LOAD_BALANCER ?? '';
  if (!/^app\/[^/]+\/[0-9a-f]+$/.test(loadBalancer)) problems.push(`LOAD_BALANCER ${JSON.stringify(env.LOAD_BALANCER)} is not an ALB dimension value (app/<name>/<id>)`);
  const targetGroups = (env.TARGET_GROUPS ?? '').split(',');
  if (targetGroups.length !== 2 || !targetGroups.every((t) => /^targetgroup\/[^/]+\/[0-9a-f]+$/.test(t))) {
    problems.push(`TARGET_GROUPS ${JSON.stringify(env.TARGET_GROUPS)} is not two target group dimension values (targetgroup/<name>/<id>,targetgroup/<name>/<id>)`);
  }
  if (problems.length > 0 || check === undefined || 'error' in check) return { error: problems.join('; ') };
  return { check, loadBalancer, targetGroups: [targetGroups[0], targetGroups[1]], ...(env.STACK_ID ? { stackId: env.STACK_ID } : {}) };
}

/** Clients and pacing of the check; tests pass mocks and a fake clock. */
export interface EcsTrafficCheckDeps {
  readonly codedeploy: CodeDeployClient;
  readonly cloudwatch: CloudWatchClient;
  readonly cloudformation: CloudFormationClient;
  readonly retry?: RetryOptions;
  readonly wait?: Omit<TrafficWaitOptions, 'signal'>;
}

/**
 * The check: a rollback passes uncounted (it goes back to what served before, and a refusal would
 * block it); otherwise the step starts when the ECS target's AllowTraffic lifecycle event does, and
 * the canary is the target group that served fewer requests in it (the judge's rule,
 * JudgeTraffic.applicationTargetGroups: a canary share is below 50%).
 */
export async function checkEcsCanaryTraffic(ids: HookIds, signal: AbortSignal, config: EcsTrafficCheckConfig, deps: EcsTrafficCheckDeps): Promise<CheckResult> {
  const call = <T>(fn: () => Promise<T>) => retry(fn, deps.retry);
  const info = (await call(() => deps.codedeploy.send(new GetDeploymentCommand({ deploymentId: ids.DeploymentId }), { abortSignal: signal }))).deploymentInfo;
  if (isRollbackCreator(info?.creator)) {
    return { status: 'Succeeded', reason: `canary traffic not counted: the deployment was created by ${info!.creator}, a rollback, which is never held` };
  }
  const rollingBack = config.stackId ? await stackRollingBack(config.stackId, signal, deps) : { rolling: false, note: '' };
  if (rollingBack.rolling) {
    return { status: 'Succeeded', reason: `canary traffic not counted: ${rollingBack.note}: the deployment goes back to what served before, which is never held` };
  }
  const started = await allowTrafficStart(ids.DeploymentId, signal, deps);
  if ('error' in started) return { status: 'Failed', reason: `cannot tell when the canary step started: ${started.error}` };
  const window = stepWindow(started.start, config.check.stepMinutes);
  const [a, b] = config.targetGroups;
  const read = async (): Promise<CanaryCount> => {
    const dims = (tg: string) => ({ LoadBalancer: config.loadBalancer, TargetGroup: tg });
    const sums = await sumCounts(
      deps.cloudwatch,
      [
        { id: 'tg0', namespace: 'AWS/ApplicationELB', metricName: 'RequestCount', dimensions: dims(a) },
        { id: 'tg1', namespace: 'AWS/ApplicationELB', metricName: 'RequestCount', dimensions: dims(b) },
      ],
      window,
      { signal, retry: deps.retry },
    );
    const [canary, other] = sums.tg0 <= sums.tg1 ? [a, b] : [b, a];
    return {
      count: Math.min(sums.tg0, sums.tg1),
      detail: `target group ${canary}, the one with fewer requests; ${other} served ${Math.max(sums.tg0, sums.tg1)}${rollingBack.note ? `; ${rollingBack.note}` : ''}`,
    };
  };
  return judgeCanaryTraffic(read, config.check, window, { ...deps.wait, signal });
}

/**
 * When the canary step started: the `startTime` of the ECS target's AllowTraffic lifecycle event
 * (ListDeploymentTargets, then BatchGetDeploymentTargets: `ecsTarget.lifecycleEvents[]` with
 * `lifecycleEventName`, `startTime`, `endTime`, `status`; CodeDeploy API reference, ECSTarget and
 * LifecycleEvent). AllowTraffic spans the production traffic shift; AfterAllowTraffic follows it.
 */
export async function allowTrafficStart(deploymentId: string, signal: AbortSignal, deps: Pick<EcsTrafficCheckDeps, 'codedeploy' | 'retry'>): Promise<{ start: Date } | { error: string }> {
  const call = <T>(fn: () => Promise<T>) => retry(fn, deps.retry);
  const targetIds: string[] = [];
  let nextToken: string | undefined;
  do {
    const token = nextToken;
    const page = await call(() => deps.codedeploy.send(new ListDeploymentTargetsCommand({ deploymentId, nextToken: token }), { abortSignal: signal }));
    targetIds.push(...(page.targetIds ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  if (targetIds.length === 0) return { error: `deployment ${deploymentId} has no targets` };
  const out = await call(() => deps.codedeploy.send(new BatchGetDeploymentTargetsCommand({ deploymentId, targetIds: targetIds.slice(0, 25) }), { abortSignal: signal }));
  const events = (out.deploymentTargets ?? []).flatMap((t) => t.ecsTarget?.lifecycleEvents ?? []);
  const allow = events.find((e) => e.lifecycleEventName === 'AllowTraffic');
  if (!allow?.startTime) {
    return { error: `the ECS target of deployment ${deploymentId} has no AllowTraffic start (lifecycle events: ${events.map((e) => `${e.lifecycleEventName} ${e.status}`).join(', ') || 'none'})` };
  }
  return { start: allow.startTime };
}

/**
 * Whether the service's stack is rolling back: a CloudFormation rollback of a release whose traffic
 * had fully shifted makes the deployment resource deploy the previous task definition again, as a
 * canary. A status that cannot be read is said in the reason, and the canary is counted.
 */
async function stackRollingBack(stackId: string, signal: AbortSignal, deps: EcsTrafficCheckDeps): Promise<{ rolling: boolean; note: string }> {
  try {
    const out = await retry(() => deps.cloudformation.send(new DescribeStacksCommand({ StackName: stackId }), { abortSignal: signal }), deps.retry);
    const status = out.Stacks?.[0]?.StackStatus ?? 'unknown';
    return /ROLLBACK_IN_PROGRESS$/.test(status) ? { rolling: true, note: `stack ${out.Stacks![0].StackName ?? stackId} is in ${status}` } : { rolling: false, note: '' };
  } catch (err) {
    if (signal.aborted) throw err;
    return { rolling: false, note: `stack status unreadable (${describeError(err)}), counted as a release` };
  }
}

/** What the handler is built from; tests pass mocks. */
export interface TrafficCheckHookDeps extends EcsTrafficCheckDeps {
  readonly logger: ReturnType<typeof createLogger>;
}

/**
 * The hook's handler over its dependencies. The environment is read per invocation: a bad value is
 * reported as Failed, not thrown at import. CHECK_TIMEOUT_MS bounds the whole check (reads and the
 * wait for the step's last minute to be published).
 */
export function trafficCheckHandler(deps: TrafficCheckHookDeps) {
  return async (event: CodeDeployLambdaHookEvent, context?: Pick<Context, 'getRemainingTimeInMillis'>): Promise<HookResult> => {
    const config = readConfig(process.env);
    const checkTimeoutMs = Number(process.env.CHECK_TIMEOUT_MS ?? TRAFFIC_CHECK_BUDGET_MS);
    return runHook(
      event,
      async (ids, signal) => ('error' in config ? { status: 'Failed', reason: `hook misconfigured: ${config.error}` } : checkEcsCanaryTraffic(ids, signal, config, deps)),
      {
        codedeploy: deps.codedeploy,
        logger: deps.logger,
        checkTimeoutMs: Number.isInteger(checkTimeoutMs) && checkTimeoutMs > 0 ? checkTimeoutMs : TRAFFIC_CHECK_BUDGET_MS,
        remainingTimeMs: context && (() => context.getRemainingTimeInMillis()),
        retry: deps.retry,
      },
    );
  };
}

export const handler = trafficCheckHandler({
  codedeploy: new CodeDeployClient({ requestHandler: BOUNDED_HTTP }),
  cloudwatch: new CloudWatchClient({ requestHandler: BOUNDED_HTTP }),
  cloudformation: new CloudFormationClient({ requestHandler: BOUNDED_HTTP }),
  logger: createLogger('ecs-traffic-check-hook'),
});
