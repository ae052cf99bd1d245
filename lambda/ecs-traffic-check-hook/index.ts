import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import {
  BatchGetDeploymentTargetsCommand,
  CodeDeployClient,
  DeploymentInfo,
  GetDeploymentCommand,
  ListDeploymentTargetsCommand,
} from '@aws-sdk/client-codedeploy';
import {
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  ECSClient,
  ListTaskDefinitionsCommand,
  TaskDefinition,
} from '@aws-sdk/client-ecs';
import type { Context } from 'aws-lambda';
import {
  CANARY_TRAFFIC_CHECK_ENV,
  CanaryTrafficCheck,
  parseCanaryTrafficCheck,
  TRAFFIC_CHECK_BUDGET_MS,
} from '../../lib/runtime/canary-traffic-settings';
import { errorLine } from '../../lib/runtime/errors';
import { BOUNDED_HTTP } from '../../lib/runtime/http';
import { retry, RetryOptions } from '../../lib/runtime/retry';
import { CanaryCount, isRollbackCreator, judgeCanaryTraffic, stepWindow, sumCounts, TrafficWaitOptions } from '../shared/canary-traffic';
import type { CheckResult, HookIds, HookResult } from '../shared/codedeploy-hook';
import { runHook, withinTimeout } from '../shared/codedeploy-hook';
import { familyRevision, taskDefinitionOf } from '../shared/ecs-appspec';
import type { CodeDeployLambdaHookEvent } from '../shared/lambda-hook-event';
import { createLogger } from '../shared/logger';
import { canonicalJson, EarlierTwin, lookupFailedNote, RETURN_LOOKUP_BUDGET_MS, rolledBackNote, servedTwin } from '../shared/served-before';

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
  /** The ECS cluster and service: the task set being replaced tells which revisions served before. */
  readonly clusterName: string;
  readonly serviceName: string;
}

/** Reads CANARY_TRAFFIC_CHECK, LOAD_BALANCER, TARGET_GROUPS, CLUSTER_NAME, SERVICE_NAME and STACK_ID; a bad one becomes a readable error. */
export function readConfig(env: Record<string, string | undefined>): EcsTrafficCheckConfig | { error: string } {
  const problems: string[] = [];
  const check = parseCanaryTrafficCheck(env[CANARY_TRAFFIC_CHECK_ENV]);
  if (check === undefined) problems.push(`${CANARY_TRAFFIC_CHECK_ENV} is not set`);
  else if ('error' in check) problems.push(check.error);
  const loadBalancer = env.LOAD_BALANCER ?? '';
  if (!/^app\/[^/]+\/[0-9a-f]+$/.test(loadBalancer))
    problems.push(`LOAD_BALANCER ${JSON.stringify(env.LOAD_BALANCER)} is not an ALB dimension value (app/<name>/<id>)`);
  const targetGroups = (env.TARGET_GROUPS ?? '').split(',');
  if (targetGroups.length !== 2 || !targetGroups.every((t) => /^targetgroup\/[^/]+\/[0-9a-f]+$/.test(t))) {
    problems.push(
      `TARGET_GROUPS ${JSON.stringify(env.TARGET_GROUPS)} is not two target group dimension values (targetgroup/<name>/<id>,targetgroup/<name>/<id>)`,
    );
  }
  // ECS cluster and service names: letters, digits, hyphens and underscores, up to 255 (CreateCluster, CreateService).
  const ecsName = (key: 'CLUSTER_NAME' | 'SERVICE_NAME') => {
    const v = env[key] ?? '';
    if (!/^[A-Za-z0-9_-]{1,255}$/.test(v))
      problems.push(`${key} ${JSON.stringify(env[key])} is not an ECS ${key === 'CLUSTER_NAME' ? 'cluster' : 'service'} name`);
    return v;
  };
  const clusterName = ecsName('CLUSTER_NAME');
  const serviceName = ecsName('SERVICE_NAME');
  if (problems.length > 0 || check === undefined || 'error' in check) return { error: problems.join('; ') };
  return {
    check,
    loadBalancer,
    targetGroups: [targetGroups[0], targetGroups[1]],
    clusterName,
    serviceName,
    ...(env.STACK_ID ? { stackId: env.STACK_ID } : {}),
  };
}

/** Clients and pacing of the check; tests pass mocks and a fake clock. */
export interface EcsTrafficCheckDeps {
  readonly codedeploy: CodeDeployClient;
  readonly cloudwatch: CloudWatchClient;
  readonly cloudformation: CloudFormationClient;
  readonly ecs: ECSClient;
  readonly retry?: RetryOptions;
  readonly wait?: Omit<TrafficWaitOptions, 'signal'>;
  /** Time the lookup of earlier revisions may take. @default RETURN_LOOKUP_BUDGET_MS */
  readonly returnLookupMs?: number;
}

/**
 * The check: a rollback passes uncounted (it goes back to what served before, and a refusal would
 * block it), and so does a deployment of a new revision that runs what an earlier revision ran
 * before the one it replaces (a pipeline stage rollback); otherwise the step starts when the ECS target's AllowTraffic lifecycle event does, and
 * the canary is the target group that served fewer requests in it (the judge's rule,
 * JudgeTraffic.applicationTargetGroups: a canary share is below 50%).
 */
export async function checkEcsCanaryTraffic(
  ids: HookIds,
  signal: AbortSignal,
  config: EcsTrafficCheckConfig,
  deps: EcsTrafficCheckDeps,
): Promise<CheckResult> {
  const call = <T>(fn: () => Promise<T>) => retry(fn, deps.retry);
  const info = (
    await call(() => deps.codedeploy.send(new GetDeploymentCommand({ deploymentId: ids.DeploymentId }), { abortSignal: signal }))
  ).deploymentInfo;
  if (isRollbackCreator(info?.creator)) {
    return {
      status: 'Succeeded',
      reason: `canary traffic not counted: the deployment was created by ${info!.creator}, a rollback, which is never held`,
    };
  }
  const rollingBack = config.stackId ? await stackRollingBack(config.stackId, signal, deps) : { rolling: false, note: '' };
  if (rollingBack.rolling) {
    return {
      status: 'Succeeded',
      reason: `canary traffic not counted: ${rollingBack.note}: the deployment goes back to what served before, which is never held`,
    };
  }
  let earlier: { returnsTo?: string; note?: string };
  try {
    earlier = await withinTimeout(deps.returnLookupMs ?? RETURN_LOOKUP_BUDGET_MS, signal, (s) =>
      returnsToServedTaskDefinition(ids.DeploymentId, info, s, config, deps),
    );
  } catch (err) {
    if (signal.aborted) throw err;
    earlier = { note: lookupFailedNote(errorLine(err)) };
  }
  if (earlier.returnsTo) return { status: 'Succeeded', reason: `canary traffic not counted: ${earlier.returnsTo}` };
  const notes = [rollingBack.note, earlier.note].filter(Boolean).join('; ');
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
      detail: `target group ${canary}, the one with fewer requests; ${other} served ${Math.max(sums.tg0, sums.tg1)}${notes ? `; ${notes}` : ''}`,
    };
  };
  return judgeCanaryTraffic(read, config.check, window, { ...deps.wait, signal });
}

/** Revisions of the family compared with the target: the nearest below the one being replaced. */
export const MAX_EARLIER_REVISIONS = 10;

/** Pages of ListTaskDefinitions (up to 100 ARNs each) read to find them. */
const MAX_REVISION_PAGES = 5;

/**
 * Whether the deployment's task definition runs what an earlier revision ran before the one it
 * replaces (a CodePipeline stage rollback: CloudFormation registers the earlier task definition as a
 * new revision). The one being replaced is the task definition of the service's other task set
 * (DescribeServices; at AfterAllowTraffic the original task set still runs, until the termination
 * wait ends); the target's twins are the ACTIVE revisions of its family below that one, the nearest
 * MAX_EARLIER_REVISIONS (ListTaskDefinitions, newest first), that run the same thing
 * (`taskRunsLike`); the newest the deployment group did not roll back (`servedTwin`) makes this a
 * return. Throws when any of it cannot be read; the caller then counts the canary and says why.
 */
export async function returnsToServedTaskDefinition(
  deploymentId: string,
  info: DeploymentInfo | undefined,
  signal: AbortSignal,
  config: Pick<EcsTrafficCheckConfig, 'clusterName' | 'serviceName'>,
  deps: Pick<EcsTrafficCheckDeps, 'codedeploy' | 'ecs' | 'retry'>,
): Promise<{ returnsTo?: string; note?: string }> {
  const call = <T>(fn: () => Promise<T>) => retry(fn, deps.retry);
  const targetArn = taskDefinitionOf(info?.revision?.appSpecContent?.content ?? info?.revision?.string?.content);
  const target = targetArn ? familyRevision(targetArn) : undefined;
  if (!targetArn || !target) throw new Error(`the AppSpec of deployment ${deploymentId} names no task definition revision`);
  if (!info?.applicationName || !info.deploymentGroupName)
    throw new Error(`GetDeployment returned no application or deployment group for ${deploymentId}`);
  const described = await call(() =>
    deps.ecs.send(new DescribeServicesCommand({ cluster: config.clusterName, services: [config.serviceName] }), { abortSignal: signal }),
  );
  const service = described.services?.[0];
  if (!service)
    throw new Error(
      `ECS service ${config.serviceName} of cluster ${config.clusterName} was not found (${described.failures?.[0]?.reason ?? 'no reason given'})`,
    );
  const others = [...new Set((service.taskSets ?? []).map((t) => t.taskDefinition).filter((t): t is string => !!t && t !== targetArn))];
  if (others.length !== 1) {
    throw new Error(
      `the service's other task sets run ${others.length === 0 ? 'no task definition' : others.join(', ')}, so the one being replaced is unknown`,
    );
  }
  const original = familyRevision(others[0]);
  if (!original || original.family !== target.family)
    throw new Error(`the task definition being replaced, ${others[0]}, is not a revision of family ${target.family}`);
  const earlier: string[] = [];
  let nextToken: string | undefined;
  for (let page = 0; page < MAX_REVISION_PAGES && earlier.length < MAX_EARLIER_REVISIONS; page++) {
    const token = nextToken;
    const out = await call(() =>
      deps.ecs.send(
        new ListTaskDefinitionsCommand({ familyPrefix: target.family, status: 'ACTIVE', sort: 'DESC', maxResults: 100, nextToken: token }),
        { abortSignal: signal },
      ),
    );
    for (const arn of out.taskDefinitionArns ?? []) {
      const r = familyRevision(arn);
      // familyPrefix is the full family name, but a sibling family must never count.
      if (r && r.family === target.family && r.revision < original.revision && earlier.length < MAX_EARLIER_REVISIONS) earlier.push(arn);
    }
    nextToken = out.nextToken;
    if (!nextToken) break;
  }
  if (earlier.length === 0) return {};
  const describe = async (arn: string): Promise<TaskDefinition> => {
    const out = await call(() => deps.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: arn }), { abortSignal: signal }));
    if (!out.taskDefinition) throw new Error(`DescribeTaskDefinition returned nothing for ${arn}`);
    return out.taskDefinition;
  };
  const same = taskRunsLike(await describe(targetArn));
  const twins: EarlierTwin[] = [];
  for (const arn of earlier) {
    const td = await describe(arn);
    if (taskRunsLike(td) === same)
      twins.push({
        id: arn,
        label: `task definition ${target.family}:${familyRevision(arn)!.revision}`,
        since: td.registeredAt ?? new Date(0),
      });
  }
  const group = { applicationName: info.applicationName, deploymentGroupName: info.deploymentGroupName };
  const verdict = await servedTwin(deps.codedeploy, group, twins, taskDefinitionOf, { signal, retry: deps.retry });
  if (verdict.served) {
    return {
      returnsTo:
        `task definition ${target.family}:${target.revision} runs the same containers as ${verdict.served.label}, which served before ${target.family}:${original.revision}, the one it replaces: ` +
        `a return to what served (a pipeline stage rollback), which is never held${verdict.note ? ` (${verdict.note})` : ''}`,
    };
  }
  return { note: rolledBackNote(verdict) };
}

/**
 * What a task definition runs, for comparing revisions: its container definitions (images,
 * environment, secrets' sources, commands, ports, ...) and the task's CPU, memory and platform. A
 * stage rollback registers all of them from the earlier template; a forward release changes at
 * least one. Environment and secrets are compared by name, whatever order ECS lists them in.
 */
export function taskRunsLike(td: TaskDefinition): string {
  const byName = <T extends { name?: string }>(list: T[] | undefined) =>
    list ? [...list].sort((a, b) => ((a.name ?? '') < (b.name ?? '') ? -1 : (a.name ?? '') > (b.name ?? '') ? 1 : 0)) : list;
  return canonicalJson({
    containers: (td.containerDefinitions ?? []).map((c) => ({ ...c, environment: byName(c.environment), secrets: byName(c.secrets) })),
    cpu: td.cpu,
    memory: td.memory,
    runtimePlatform: td.runtimePlatform,
  });
}

/**
 * When the canary step started: the `startTime` of the ECS target's AllowTraffic lifecycle event
 * (ListDeploymentTargets, then BatchGetDeploymentTargets: `ecsTarget.lifecycleEvents[]` with
 * `lifecycleEventName`, `startTime`, `endTime`, `status`; CodeDeploy API reference, ECSTarget and
 * LifecycleEvent). AllowTraffic spans the production traffic shift; AfterAllowTraffic follows it.
 */
export async function allowTrafficStart(
  deploymentId: string,
  signal: AbortSignal,
  deps: Pick<EcsTrafficCheckDeps, 'codedeploy' | 'retry'>,
): Promise<{ start: Date } | { error: string }> {
  const call = <T>(fn: () => Promise<T>) => retry(fn, deps.retry);
  const targetIds: string[] = [];
  let nextToken: string | undefined;
  do {
    const token = nextToken;
    const page = await call(() =>
      deps.codedeploy.send(new ListDeploymentTargetsCommand({ deploymentId, nextToken: token }), { abortSignal: signal }),
    );
    targetIds.push(...(page.targetIds ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  if (targetIds.length === 0) return { error: `deployment ${deploymentId} has no targets` };
  const out = await call(() =>
    deps.codedeploy.send(new BatchGetDeploymentTargetsCommand({ deploymentId, targetIds: targetIds.slice(0, 25) }), {
      abortSignal: signal,
    }),
  );
  const events = (out.deploymentTargets ?? []).flatMap((t) => t.ecsTarget?.lifecycleEvents ?? []);
  const allow = events.find((e) => e.lifecycleEventName === 'AllowTraffic');
  if (!allow?.startTime) {
    return {
      error: `the ECS target of deployment ${deploymentId} has no AllowTraffic start (lifecycle events: ${events.map((e) => `${e.lifecycleEventName} ${e.status}`).join(', ') || 'none'})`,
    };
  }
  return { start: allow.startTime };
}

/**
 * Whether the service's stack is rolling back: a CloudFormation rollback of a release whose traffic
 * had fully shifted makes the deployment resource deploy the previous task definition again, as a
 * canary. A status that cannot be read is said in the reason, and the canary is counted.
 */
async function stackRollingBack(
  stackId: string,
  signal: AbortSignal,
  deps: EcsTrafficCheckDeps,
): Promise<{ rolling: boolean; note: string }> {
  try {
    const out = await retry(
      () => deps.cloudformation.send(new DescribeStacksCommand({ StackName: stackId }), { abortSignal: signal }),
      deps.retry,
    );
    const status = out.Stacks?.[0]?.StackStatus ?? 'unknown';
    return /ROLLBACK_IN_PROGRESS$/.test(status)
      ? { rolling: true, note: `stack ${out.Stacks![0].StackName ?? stackId} is in ${status}` }
      : { rolling: false, note: '' };
  } catch (err) {
    if (signal.aborted) throw err;
    return { rolling: false, note: `stack status unreadable (${errorLine(err)}), counted as a release` };
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
      async (ids, signal) =>
        'error' in config
          ? { status: 'Failed', reason: `hook misconfigured: ${config.error}` }
          : checkEcsCanaryTraffic(ids, signal, config, deps),
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
  ecs: new ECSClient({ requestHandler: BOUNDED_HTTP }),
  logger: createLogger('ecs-traffic-check-hook'),
});
