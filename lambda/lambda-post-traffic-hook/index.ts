import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { FunctionConfiguration, ListVersionsByFunctionCommand } from '@aws-sdk/client-lambda';
import { errorLine } from '../../lib/runtime/errors';
import { BOUNDED_HTTP } from '../../lib/runtime/http';
import { retry } from '../../lib/runtime/retry';
import { isRollbackCreator, judgeCanaryTraffic, stepWindow, sumCounts, TrafficWaitOptions } from '../shared/canary-traffic';
import type { CheckResult, HookIds } from '../shared/codedeploy-hook';
import { withinTimeout } from '../shared/codedeploy-hook';
import { getDeploymentTarget, LambdaDeploymentTarget, parseAppSpec } from '../shared/lambda-deployment';
import { LambdaHookDeps, lambdaHookHandler, smokeTestTarget } from '../shared/lambda-hook';
import { canonicalJson, EarlierTwin, lookupFailedNote, RETURN_LOOKUP_BUDGET_MS, rolledBackNote, servedTwin } from '../shared/served-before';

/** Clients and settings the check needs; tests pass mocks, and a clock for the traffic check's wait. */
export interface PostTrafficDeps extends LambdaHookDeps {
  /** Clock and pacing of the traffic check's wait for the step's last minute. @default - real time */
  readonly wait?: Omit<TrafficWaitOptions, 'signal'>;
  /** Time the lookup of earlier versions may take. @default RETURN_LOOKUP_BUDGET_MS */
  readonly returnLookupMs?: number;
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
 * before the shift to 100% and never includes it. A rollback (its creator, or a target older than
 * the current version) and a return to code that served before (`returnsToServedCode`) pass
 * uncounted; a lookup that fails or outlasts RETURN_LOOKUP_BUDGET_MS is said in the reason, and the
 * canary is counted.
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
  if (!target.createTime)
    return { status: 'Failed', reason: 'cannot tell when the canary step started: GetDeployment returned no createTime' };
  const cloudwatch = deps.cloudwatch;
  if (!cloudwatch) return { status: 'Failed', reason: 'hook misconfigured: no CloudWatch client for the traffic check' };
  let earlier: { returnsTo?: string; note?: string };
  try {
    earlier = await withinTimeout(deps.returnLookupMs ?? RETURN_LOOKUP_BUDGET_MS, signal, (s) => returnsToServedCode(target, s, deps));
  } catch (err) {
    if (signal.aborted) throw err;
    earlier = { note: lookupFailedNote(errorLine(err)) };
  }
  if (earlier.returnsTo) return { status: 'Succeeded', reason: `canary traffic not counted: ${earlier.returnsTo}` };
  const fn = deps.config.functionName;
  const alias = deps.config.aliasName;
  const window = stepWindow(target.createTime, check.stepMinutes);
  const read = async () => {
    const sums = await sumCounts(
      cloudwatch,
      [
        {
          id: 'canary',
          namespace: 'AWS/Lambda',
          metricName: 'Invocations',
          dimensions: { FunctionName: fn, Resource: `${fn}:${alias}`, ExecutedVersion: target.targetVersion },
        },
      ],
      window,
      { signal, retry: deps.retry },
    );
    return {
      count: sums.canary,
      detail: `AWS/Lambda Invocations of version ${target.targetVersion} through ${alias}${earlier.note ? `; ${earlier.note}` : ''}`,
    };
  };
  return judgeCanaryTraffic(read, check, window, { ...deps.wait, signal });
}

/** Pages of ListVersionsByFunction read (Lambda returns up to 50 versions a page): 1,000 versions. */
export const MAX_VERSION_PAGES = 20;

/** Earlier versions compared with the target, the nearest below the current version first. */
const MAX_TWINS = 5;

/**
 * Whether the target version returns to code that served before the current version (a CodePipeline
 * stage rollback: CloudFormation publishes the earlier code as a new, higher version). The target's
 * twins are the versions numbered below the current one that run the same thing (`runsLike`); the
 * newest that the deployment group did not roll back (`servedTwin`) makes this a return. Throws when
 * the versions cannot be read; the caller then counts the canary and says why.
 */
export async function returnsToServedCode(
  target: LambdaDeploymentTarget,
  signal: AbortSignal,
  deps: LambdaHookDeps,
): Promise<{ returnsTo?: string; note?: string }> {
  const current = Number(target.currentVersion);
  if (!Number.isInteger(current)) return {};
  if (!target.group) throw new Error('GetDeployment returned no application or deployment group');
  const versions: FunctionConfiguration[] = [];
  let marker: string | undefined;
  for (let page = 0; ; page++) {
    if (page === MAX_VERSION_PAGES)
      throw new Error(
        `${deps.config.functionName} has more than ${MAX_VERSION_PAGES * 50} versions; ListVersionsByFunction was not read to the end`,
      );
    const token = marker;
    const out = await retry(
      () =>
        deps.lambda.send(new ListVersionsByFunctionCommand({ FunctionName: deps.config.functionName, MaxItems: 50, Marker: token }), {
          abortSignal: signal,
        }),
      deps.retry,
    );
    versions.push(...(out.Versions ?? []));
    marker = out.NextMarker;
    if (!marker) break;
  }
  const next = versions.find((v) => v.Version === target.targetVersion);
  if (!next) throw new Error(`ListVersionsByFunction does not list version ${target.targetVersion}`);
  if (next.Environment?.Error)
    throw new Error(
      `the environment of version ${target.targetVersion} is unreadable: ${next.Environment.Error.ErrorCode ?? ''} ${next.Environment.Error.Message ?? ''}`.trim(),
    );
  const same = runsLike(next);
  const twins: EarlierTwin[] = versions
    .filter((v) => Number.isInteger(Number(v.Version)) && Number(v.Version) < current && runsLike(v) === same)
    .sort((a, b) => Number(b.Version) - Number(a.Version))
    .slice(0, MAX_TWINS)
    .map((v) => ({ id: v.Version!, label: `version ${v.Version}`, since: lastModified(v) }));
  const verdict = await servedTwin(deps.codedeploy, target.group, twins, lambdaTargetOf, { signal, retry: deps.retry });
  if (verdict.served) {
    return {
      returnsTo:
        `version ${target.targetVersion} runs the same code and configuration as ${verdict.served.label} (CodeSha256 ${next.CodeSha256}), which served before version ${target.currentVersion}, the one it replaces: ` +
        `a return to what served (a pipeline stage rollback), which is never held${verdict.note ? ` (${verdict.note})` : ''}`,
    };
  }
  return { note: rolledBackNote(verdict) };
}

/**
 * What a version runs, for comparing versions: its code (CodeSha256, or the image digest of an
 * image function) and the configuration that decides how that code behaves (runtime, handler,
 * architecture, layers, environment variables, memory, timeout, ephemeral storage, image config).
 * A stage rollback republishes all of them from the earlier template; a forward release changes at
 * least one. Role, description and VPC are left out: they do not make the code something else.
 */
export function runsLike(c: FunctionConfiguration): string {
  return canonicalJson({
    code: c.CodeSha256,
    packageType: c.PackageType,
    runtime: c.Runtime,
    handler: c.Handler,
    architectures: c.Architectures,
    layers: (c.Layers ?? []).map((l) => l.Arn),
    environment: c.Environment?.Error ? { unreadable: c.Environment.Error.ErrorCode ?? 'error' } : (c.Environment?.Variables ?? {}),
    memorySize: c.MemorySize,
    timeout: c.Timeout,
    ephemeralStorage: c.EphemeralStorage?.Size,
    imageConfig: c.ImageConfigResponse?.ImageConfig,
  });
}

/** The version a past deployment of the alias targeted, from its AppSpec. */
function lambdaTargetOf(content: string | undefined): string | undefined {
  if (content === undefined) return undefined;
  try {
    return parseAppSpec(content).targetVersion;
  } catch {
    return undefined;
  }
}

/** A version's LastModified ("2026-11-22T09:58:31.123+0000"): every deployment of it was created later. */
function lastModified(v: FunctionConfiguration): Date {
  const t = v.LastModified ? new Date(v.LastModified) : undefined;
  // Unreadable: read the group's history from the start (bounded by MAX_HISTORY_DEPLOYMENTS).
  return t && !Number.isNaN(t.getTime()) ? t : new Date(0);
}

/** Versions only grow: a target older than the current version is a rollback (CloudFormation's, or an operator's). */
function isOlderVersion(target: LambdaDeploymentTarget): boolean {
  const [current, next] = [Number(target.currentVersion), Number(target.targetVersion)];
  return Number.isInteger(current) && Number.isInteger(next) && next < current;
}

export const handler = lambdaHookHandler('lambda-post-traffic-hook', checkLiveAlias, {
  cloudwatch: new CloudWatchClient({ requestHandler: BOUNDED_HTTP }),
});
