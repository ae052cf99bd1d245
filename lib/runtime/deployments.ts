import { ListStackResourcesCommand, StackResourceSummary } from '@aws-sdk/client-cloudformation';
import {
  BatchGetDeploymentTargetsCommand,
  DeploymentInfo,
  DeploymentTarget,
  GetDeploymentCommand,
  ListDeploymentsCommand,
  ListDeploymentTargetsCommand,
} from '@aws-sdk/client-codedeploy';
import { OpsClients } from './clients';
import { IN_FLIGHT_STATUSES } from './codedeploy-status';
import { call, collectPages, OpsContext } from './context';
import { DeployTarget } from './pipeline';

/** How traffic is split between the old and the new version of one target. */
export type TrafficSplit =
  | {
      readonly kind: 'ecs';
      /** CodeDeploy's target id: `<cluster>:<service>`. */
      readonly target: string;
      readonly status?: string;
      readonly taskSets: {
        readonly label?: string;
        readonly trafficWeight?: number;
        readonly running?: number;
        readonly desired?: number;
        readonly status?: string;
      }[];
    }
  | {
      readonly kind: 'lambda';
      readonly functionName?: string;
      readonly alias?: string;
      readonly status?: string;
      readonly currentVersion?: string;
      readonly targetVersion?: string;
      /** Percent of the alias's traffic on the target version. */
      readonly targetPercent?: number;
    };

/** A CodeDeploy deployment that has not finished. */
export interface InFlightDeployment {
  readonly deploymentId: string;
  readonly applicationName?: string;
  readonly deploymentGroupName?: string;
  readonly status?: string;
  readonly region: string;
  /** Stack that owns the deployment group, when found through a stack. */
  readonly stackName?: string;
  readonly stageName: string;
  readonly createTime?: string;
  /** Lifecycle event now running (e.g. `AllowTraffic`, `BeforeAllowTraffic`). */
  readonly lifecycleEvent?: string;
  readonly traffic: TrafficSplit[];
}

/** Deployments found, plus what could not be looked at and why. */
export interface InFlightResult {
  readonly deployments: InFlightDeployment[];
  readonly notes: string[];
}

/**
 * Finds the unfinished CodeDeploy deployments of some deploy targets. A stack's deployment groups
 * come from its resources; one ListDeployments per region (without a group filter, which the API
 * allows) then avoids guessing which application each group belongs to.
 */
export async function findInFlightDeployments(
  ctx: OpsContext,
  targets: DeployTarget[],
  pipelineAccount: string | undefined,
): Promise<InFlightResult> {
  const notes: string[] = [];
  const byRegion = new Map<string, { groups: { stageName: string; stackName?: string; apps: Set<string>; groups: Set<string> }[] }>();
  for (const target of targets) {
    if (pipelineAccount && target.account !== pipelineAccount) {
      const what = target.stackName ? `stack ${target.stackName}` : `deployment group ${target.deploymentGroupName}`;
      notes.push(
        `${target.stageName}: ${what} is in account ${target.account} (${target.region}): use credentials for it to see its deployments`,
      );
      continue;
    }
    const entry = byRegion.get(target.region) ?? { groups: [] };
    byRegion.set(target.region, entry);
    if (target.kind === 'deployment-group') {
      entry.groups.push({
        stageName: target.stageName,
        apps: new Set([target.applicationName!]),
        groups: new Set([target.deploymentGroupName!]),
      });
      continue;
    }
    try {
      const resources = await listStackResources(ctx, ctx.clientsFor(target.region), target.stackName!);
      const physical = (type: string) =>
        new Set(resources.filter((r) => r.ResourceType === type && r.PhysicalResourceId).map((r) => r.PhysicalResourceId!));
      const groups = physical('AWS::CodeDeploy::DeploymentGroup');
      if (groups.size > 0) {
        entry.groups.push({
          stageName: target.stageName,
          stackName: target.stackName,
          apps: physical('AWS::CodeDeploy::Application'),
          groups,
        });
      }
    } catch (err) {
      if (isMissingStack(err)) continue; // Not deployed yet: nothing can be in flight.
      throw err;
    }
  }

  const deployments: InFlightDeployment[] = [];
  for (const [region, { groups }] of byRegion) {
    if (groups.length === 0) continue;
    const clients = ctx.clientsFor(region);
    for (const info of await listInFlight(ctx, clients)) {
      const owner = groups.find(
        (g) => g.groups.has(info.deploymentGroupName ?? '') && (g.apps.size === 0 || g.apps.has(info.applicationName ?? '')),
      );
      if (!owner) continue;
      deployments.push(await describeDeployment(ctx, clients, info, region, owner.stageName, owner.stackName));
    }
  }
  return { deployments, notes };
}

async function listStackResources(ctx: OpsContext, clients: OpsClients, stackName: string): Promise<StackResourceSummary[]> {
  return collectPages(ctx, async (token) => {
    const out = await clients.cloudformation.send(new ListStackResourcesCommand({ StackName: stackName, NextToken: token }));
    return { items: out.StackResourceSummaries, next: out.NextToken };
  });
}

/** CloudFormation says `ValidationError: Stack with id X does not exist`. */
export function isMissingStack(err: unknown): boolean {
  const e = err as { name?: string; message?: string };
  return e?.name === 'ValidationError' && /does not exist/.test(e.message ?? '');
}

async function listInFlight(ctx: OpsContext, clients: OpsClients): Promise<DeploymentInfo[]> {
  const ids = await collectPages(ctx, async (token) => {
    const out = await clients.codedeploy.send(new ListDeploymentsCommand({ includeOnlyStatuses: IN_FLIGHT_STATUSES, nextToken: token }));
    return { items: out.deployments, next: out.nextToken };
  });
  const infos: DeploymentInfo[] = [];
  for (const deploymentId of ids) {
    const out = await call(ctx, () => clients.codedeploy.send(new GetDeploymentCommand({ deploymentId })));
    if (out.deploymentInfo) infos.push(out.deploymentInfo);
  }
  return infos;
}

/** The deployment's targets: ECS task sets or Lambda alias versions, with their traffic weights. */
export async function getDeploymentTargets(ctx: OpsContext, clients: OpsClients, deploymentId: string): Promise<DeploymentTarget[]> {
  const targetIds = await collectPages(ctx, async (token) => {
    const out = await clients.codedeploy.send(new ListDeploymentTargetsCommand({ deploymentId, nextToken: token }));
    return { items: out.targetIds, next: out.nextToken };
  });
  const targets: DeploymentTarget[] = [];
  // BatchGetDeploymentTargets takes at most 25 ids.
  for (let i = 0; i < targetIds.length; i += 25) {
    const ids = targetIds.slice(i, i + 25);
    const out = await call(ctx, () => clients.codedeploy.send(new BatchGetDeploymentTargetsCommand({ deploymentId, targetIds: ids })));
    targets.push(...(out.deploymentTargets ?? []));
  }
  return targets;
}

async function describeDeployment(
  ctx: OpsContext,
  clients: OpsClients,
  info: DeploymentInfo,
  region: string,
  stageName: string,
  stackName?: string,
): Promise<InFlightDeployment> {
  const targets = await getDeploymentTargets(ctx, clients, info.deploymentId!);
  const events = targets.flatMap((t) => t.ecsTarget?.lifecycleEvents ?? t.lambdaTarget?.lifecycleEvents ?? []);
  return {
    deploymentId: info.deploymentId!,
    applicationName: info.applicationName,
    deploymentGroupName: info.deploymentGroupName,
    status: info.status,
    region,
    stackName,
    stageName,
    createTime: info.createTime?.toISOString(),
    lifecycleEvent: events.find((e) => e.status === 'InProgress')?.lifecycleEventName,
    traffic: targets.flatMap((t) => trafficSplit(t) ?? []),
  };
}

/** Reads the traffic split of one deployment target. */
export function trafficSplit(target: DeploymentTarget): TrafficSplit | undefined {
  if (target.ecsTarget) {
    const ecs = target.ecsTarget;
    return {
      kind: 'ecs',
      target: ecs.targetId ?? '',
      status: ecs.status,
      // Blue (the running version) first, whatever order the API uses.
      taskSets: [...(ecs.taskSetsInfo ?? [])]
        .sort((a, b) => labelOrder(a.taskSetLabel) - labelOrder(b.taskSetLabel))
        .map((ts) => ({
          label: ts.taskSetLabel,
          trafficWeight: ts.trafficWeight,
          running: ts.runningCount,
          desired: ts.desiredCount,
          status: ts.status,
        })),
    };
  }
  if (target.lambdaTarget) {
    const fn = target.lambdaTarget.lambdaFunctionInfo;
    const weight = fn?.targetVersionWeight;
    return {
      kind: 'lambda',
      functionName: fn?.functionName,
      alias: fn?.functionAlias,
      status: target.lambdaTarget.status,
      currentVersion: fn?.currentVersion,
      targetVersion: fn?.targetVersion,
      // Lambda routing weights are fractions (0.1 = 10%); accept a percentage too.
      targetPercent: weight === undefined ? undefined : round(weight <= 1 ? weight * 100 : weight),
    };
  }
  return undefined;
}

function labelOrder(label: string | undefined): number {
  return label === 'Blue' ? 0 : label === 'Green' ? 1 : 2;
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}

/** `Blue 90% (2/2 running) -> Green 10% (2/2 running)` or `fn:live v12 90% -> v13 10%`. */
export function formatTraffic(t: TrafficSplit): string {
  if (t.kind === 'ecs') {
    const sets = t.taskSets.map((s) => `${s.label ?? '?'} ${s.trafficWeight ?? 0}% (${s.running ?? 0}/${s.desired ?? 0} running)`);
    return `ECS ${t.target}: ${sets.join(' -> ') || 'no task sets yet'}`;
  }
  const target = t.targetPercent ?? 0;
  return `Lambda ${t.functionName ?? '?'}:${t.alias ?? '?'}: v${t.currentVersion ?? '?'} ${round(100 - target)}% -> v${t.targetVersion ?? '?'} ${target}%`;
}
