import { BatchGetDeploymentsCommand, CodeDeployClient, DeploymentInfo, ListDeploymentsCommand } from '@aws-sdk/client-codedeploy';
import { retry, RetryOptions } from '../../lib/runtime/retry';
import { isRollbackCreator } from './canary-traffic';

/**
 * Whether a judged canary's deployment returns to code that served before (docs/canary-judge.md,
 * "Too little traffic"). A CodePipeline stage rollback redeploys an earlier execution's cloud
 * assembly: CloudFormation publishes a new Lambda version, or registers a new task definition
 * revision, that runs the earlier code, and CodeDeploy runs an ordinary canary for it. Such a
 * deployment is not held. The hooks find the earlier versions or revisions that run the same thing
 * as the target (the Lambda and ECS specifics live in the hooks); this module decides which of them
 * served, from the deployment group's history, so that a re-push of a release that was itself
 * rolled back is still held.
 */

/** An earlier Lambda version or task definition revision that runs the same thing as the target. */
export interface EarlierTwin {
  /** As the deployments' AppSpecs name it: the version number, or the task definition ARN. */
  readonly id: string;
  /** As the reason names it ("version 5", "task definition storefront:12"). */
  readonly label: string;
  /** When it was published or registered: every deployment of it was created later. */
  readonly since: Date;
}

/** The deployment group whose history is read. */
export interface DeploymentGroupRef {
  readonly applicationName: string;
  readonly deploymentGroupName: string;
}

/** The verdict on the twins: the newest one that served, and the ones that were rolled back. */
export interface ServedVerdict {
  readonly served?: EarlierTwin;
  readonly rolledBack: ReadonlyArray<{ readonly twin: EarlierTwin; readonly deploymentId: string; readonly status: string }>;
  /** Set when the history was too long to read whole, so rollbacks were not looked for. */
  readonly note?: string;
}

/**
 * Time the lookup may take. The traffic check's wait ends at a fixed time (the step's end plus the
 * settling allowance) whatever came before it, so the lookup fits in TRAFFIC_CHECK_BUDGET_MS; past
 * this, the hook says it could not tell and counts the canary.
 */
export const RETURN_LOOKUP_BUDGET_MS = 30_000;

/** Most deployments of the group read: 8 BatchGetDeployments calls of 25. */
export const MAX_HISTORY_DEPLOYMENTS = 200;

/** Slack on `since`, in case a version's LastModified or a revision's registeredAt is a little late. */
const SINCE_MARGIN_MS = 60 * 60_000;

/**
 * Which twin served: the newest (the first of `twins`) that the deployment group did not roll back.
 * A twin is rolled back when a deployment of it ended Failed or Stopped and none ended Succeeded
 * (a retry can deploy the very same Lambda version again, since Lambda publishes no new version of
 * unchanged code and configuration: PublishVersion API reference). A twin that no deployment
 * targeted, such as the version or revision the service was created with, served. The history read
 * is the group's Succeeded, Failed and Stopped deployments created since the oldest twin (rollback
 * deployments left out), at most
 * MAX_HISTORY_DEPLOYMENTS; a longer history is not searched for rollbacks and the verdict says so.
 */
export async function servedTwin(
  codedeploy: CodeDeployClient,
  group: DeploymentGroupRef,
  twins: readonly EarlierTwin[],
  targetOf: (appSpecContent: string | undefined) => string | undefined,
  options: { signal?: AbortSignal; retry?: RetryOptions; maxDeployments?: number } = {},
): Promise<ServedVerdict> {
  if (twins.length === 0) return { rolledBack: [] };
  const max = options.maxDeployments ?? MAX_HISTORY_DEPLOYMENTS;
  const since = new Date(Math.min(...twins.map((t) => t.since.getTime())) - SINCE_MARGIN_MS);
  const call = <T>(fn: () => Promise<T>) => retry(fn, options.retry);
  const ids: string[] = [];
  let nextToken: string | undefined;
  do {
    const token = nextToken;
    const page = await call(() =>
      codedeploy.send(
        new ListDeploymentsCommand({
          ...group,
          includeOnlyStatuses: ['Succeeded', 'Failed', 'Stopped'],
          createTimeRange: { start: since },
          nextToken: token,
        }),
        { abortSignal: options.signal },
      ),
    );
    ids.push(...(page.deployments ?? []));
    nextToken = page.nextToken;
  } while (nextToken && ids.length <= max);
  if (ids.length > max) {
    return {
      served: twins[0],
      rolledBack: [],
      note: `the deployment group has more than ${max} deployments since ${since.toISOString()}, so ${twins[0].label} was not checked for a rollback`,
    };
  }
  const infos: DeploymentInfo[] = [];
  for (let i = 0; i < ids.length; i += 25) {
    const batch = ids.slice(i, i + 25);
    const out = await call(() =>
      codedeploy.send(new BatchGetDeploymentsCommand({ deploymentIds: batch }), { abortSignal: options.signal }),
    );
    infos.push(...(out.deploymentsInfo ?? []));
  }
  const succeeded = new Set<string>();
  const ended = new Map<string, { deploymentId: string; status: string }>();
  for (const info of infos) {
    // A rollback's AppSpec is not evidence either way: its target served before the release it
    // undid, and the release it undid is recorded by that release's own Failed or Stopped deployment.
    if (isRollbackCreator(info.creator)) continue;
    const target = targetOf(info.revision?.appSpecContent?.content ?? info.revision?.string?.content);
    if (target === undefined) continue;
    if (info.status === 'Succeeded') succeeded.add(target);
    else if (info.status === 'Failed' || info.status === 'Stopped')
      ended.set(target, { deploymentId: info.deploymentId ?? 'unknown', status: info.status });
  }
  const rolledBack: Array<{ twin: EarlierTwin; deploymentId: string; status: string }> = [];
  for (const twin of twins) {
    const end = ended.get(twin.id);
    if (end === undefined || succeeded.has(twin.id)) return { served: twin, rolledBack };
    rolledBack.push({ twin, ...end });
  }
  return { rolledBack };
}

/** The sentence a held canary's reason carries about twins that were rolled back. */
export function rolledBackNote(verdict: ServedVerdict): string | undefined {
  if (verdict.rolledBack.length === 0) return undefined;
  const list = verdict.rolledBack.map((r) => `${r.twin.label} (deployment ${r.deploymentId} ${r.status})`).join(', ');
  return `it runs the same as ${list}, rolled back, so it is counted as a release`;
}

/** The sentence a reason carries when the lookup itself failed: the canary is then counted. */
export function lookupFailedNote(error: string): string {
  return `could not tell whether it returns to code that served before (${error}), so it is counted as a release`;
}

/**
 * JSON with object keys in sorted order: two configurations compare equal whatever order the API
 * lists their keys in. Array order is kept (layers, container definitions and commands are ordered).
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}
