import { createHash } from 'node:crypto';
import type { Logger } from '@aws-lambda-powertools/logger';
import {
  BatchGetDeploymentTargetsCommand,
  ContinueDeploymentCommand,
  CodeDeployClient,
  CreateDeploymentCommand,
  DeploymentInfo,
  DeploymentStatus,
  GetDeploymentCommand,
  GetDeploymentGroupCommand,
  LifecycleEvent,
  ListDeploymentsCommand,
  ListDeploymentTargetsCommand,
  StopDeploymentCommand,
} from '@aws-sdk/client-codedeploy';
import { DescribeServicesCommand, ECSClient } from '@aws-sdk/client-ecs';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { IN_FLIGHT_STATUSES, TERMINAL_STATUSES } from '../../lib/runtime/codedeploy-status';
import { errorLine } from '../../lib/runtime/errors';
import { retry, RetryOptions } from '../../lib/runtime/retry';
import { taskDefinitionOf } from '../shared/ecs-appspec';

/**
 * Logic of the custom resource that rolls a new ECS task definition out through CodeDeploy.
 * CloudFormation cannot change the task definition of a CODE_DEPLOY-controlled service, so each
 * new task definition revision becomes a CodeDeploy blue/green deployment that this resource
 * starts (onEvent) and waits for (isComplete), failing the stack update when CodeDeploy rolls back.
 */

/** Lifecycle events of an ECS deployment that can run a Lambda hook. */
export const HOOK_EVENTS = ['BeforeInstall', 'AfterInstall', 'AfterAllowTestTraffic', 'BeforeAllowTraffic', 'AfterAllowTraffic'] as const;
export type HookEvent = (typeof HOOK_EVENTS)[number];

/** The resource's properties, validated (CloudFormation passes every scalar as a string). */
export interface DeploymentProperties {
  readonly applicationName: string;
  readonly deploymentGroupName: string;
  /** The ECS service and its cluster: what the service runs now decides whether to deploy at all. */
  readonly clusterName: string;
  readonly serviceName: string;
  readonly taskDefinitionArn: string;
  readonly containerName: string;
  readonly containerPort: number;
  /** Lambda function (name or ARN) per lifecycle event. */
  readonly hooks: Partial<Record<HookEvent, string>>;
}

/** What the Provider framework passes to onEvent. */
export type OnEventRequest = CloudFormationCustomResourceEvent;

/** What onEvent returns; `Data` is handed to isComplete. */
export interface OnEventResponse {
  readonly PhysicalResourceId: string;
  readonly Data: DeploymentData;
}

/** State passed from onEvent to isComplete (and out as the resource's attributes). */
export interface DeploymentData {
  /** Deployment this request waits for; '' when nothing had to be deployed. */
  readonly DeploymentId: string;
  /** Deployment this request stopped (Delete, or a rollback); '' if none. */
  readonly StoppedDeploymentId: string;
  /** What onEvent decided, for the logs and the stack's attributes. */
  readonly Action: 'created' | 'adopted' | 'no-op' | 'stopped' | 'nothing-to-stop' | 'after-previous';
  /**
   * 'after-previous': the previous release's deployment, whose termination wait onEvent ended; this
   * request's own deployment starts (in isComplete) once it is over.
   */
  readonly PreviousDeploymentId?: string;
  /** 'after-previous': when onEvent ran (ISO 8601), to find the deployment isComplete started. */
  readonly Since?: string;
}

export type IsCompleteRequest = OnEventRequest & OnEventResponse;

export interface IsCompleteResponse {
  readonly IsComplete: boolean;
  readonly Data?: DeploymentData & { readonly Status?: string };
}

/** Injected dependencies. */
export interface DeploymentDeps {
  readonly codedeploy: CodeDeployClient;
  readonly ecs: ECSClient;
  readonly logger: Logger;
  /** Retry of throttled / 5xx calls. @default - 5 attempts from 200 ms */
  readonly retry?: RetryOptions;
  /** The clock. @default - the system clock */
  readonly now?: () => Date;
}

/** A failure CloudFormation shows as the resource's status reason. */
export class DeploymentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DeploymentError';
  }
}

const TASK_DEF_ARN = /^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:task-definition\/[A-Za-z0-9_-]{1,255}:\d+$/;
const NAME = /^[A-Za-z0-9_.+=,@-]{1,100}$/;

/** Validates the resource properties; the message lists every problem. */
export function parseProperties(raw: unknown): DeploymentProperties {
  const p = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const problems: string[] = [];
  const str = (key: string, pattern: RegExp, hint: string): string => {
    const v = p[key];
    if (typeof v !== 'string' || !pattern.test(v)) problems.push(`${key}: ${JSON.stringify(v)} ${hint}`);
    return typeof v === 'string' ? v : '';
  };
  const applicationName = str('ApplicationName', NAME, 'is not a CodeDeploy application name');
  const deploymentGroupName = str('DeploymentGroupName', NAME, 'is not a CodeDeploy deployment group name');
  const clusterName = str('ClusterName', /^[A-Za-z0-9_-]{1,255}$/, 'is not an ECS cluster name');
  const serviceName = str('ServiceName', /^[A-Za-z0-9_-]{1,255}$/, 'is not an ECS service name');
  const taskDefinitionArn = str(
    'TaskDefinitionArn',
    TASK_DEF_ARN,
    'is not a task definition revision ARN (arn:aws:ecs:<region>:<account>:task-definition/<family>:<revision>)',
  );
  const containerName = str('ContainerName', /^[A-Za-z0-9_-]{1,255}$/, 'is not a container name');
  const port = Number(p.ContainerPort);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    problems.push(`ContainerPort: ${JSON.stringify(p.ContainerPort)} is not a port (1-65535)`);
  const hooks: Partial<Record<HookEvent, string>> = {};
  if (p.Hooks !== undefined) {
    if (typeof p.Hooks !== 'object' || p.Hooks === null || Array.isArray(p.Hooks)) {
      problems.push(`Hooks: ${JSON.stringify(p.Hooks)} is not an object of lifecycle event to Lambda function`);
    } else {
      for (const [event, fn] of Object.entries(p.Hooks)) {
        if (!(HOOK_EVENTS as readonly string[]).includes(event))
          problems.push(`Hooks.${event}: not an ECS lifecycle event (use one of ${HOOK_EVENTS.join(', ')})`);
        else if (typeof fn !== 'string' || fn === '')
          problems.push(`Hooks.${event}: ${JSON.stringify(fn)} is not a Lambda function name or ARN`);
        else hooks[event as HookEvent] = fn;
      }
    }
  }
  if (problems.length > 0) throw new DeploymentError(`Invalid ECS deployment resource properties: ${problems.join('; ')}`);
  return { applicationName, deploymentGroupName, clusterName, serviceName, taskDefinitionArn, containerName, containerPort: port, hooks };
}

/** The AppSpec of a deployment of `props.taskDefinitionArn`, as JSON. */
export function buildAppSpec(props: DeploymentProperties): string {
  const appSpec = {
    // A string: CodeDeploy documents the version as "0.0" (a JSON number 0.0 serialises as 0).
    version: '0.0',
    Resources: [
      {
        TargetService: {
          Type: 'AWS::ECS::Service',
          Properties: {
            TaskDefinition: props.taskDefinitionArn,
            LoadBalancerInfo: { ContainerName: props.containerName, ContainerPort: props.containerPort },
          },
        },
      },
    ],
    Hooks: HOOK_EVENTS.filter((e) => props.hooks[e]).map((e) => ({ [e]: props.hooks[e] })),
  };
  return JSON.stringify(appSpec);
}

/** The task definition ARN an AppSpec deploys (re-exported: the traffic-check hook reads AppSpecs too). */
export { taskDefinitionOf };

/** Handles Create, Update and Delete. */
export async function onEvent(event: OnEventRequest, deps: DeploymentDeps): Promise<OnEventResponse> {
  if (
    typeof event !== 'object' ||
    event === null ||
    !['Create', 'Update', 'Delete'].includes((event as { RequestType?: string }).RequestType ?? '')
  ) {
    throw new DeploymentError(
      `Malformed custom resource event: RequestType ${JSON.stringify((event as { RequestType?: unknown } | null)?.RequestType)} is not Create, Update or Delete`,
    );
  }
  if (event.RequestType === 'Delete') return onDelete(event, deps);

  const props = parseProperties(event.ResourceProperties);
  const physicalId = `${props.applicationName}/${props.deploymentGroupName}`;
  const { codedeploy, logger } = deps;
  const call = callWithRetry(deps);
  const group = `deployment group ${props.deploymentGroupName} of CodeDeploy application ${props.applicationName}`;

  let lastSuccessfulId: string | undefined;
  try {
    const info = await call(() =>
      codedeploy.send(
        new GetDeploymentGroupCommand({ applicationName: props.applicationName, deploymentGroupName: props.deploymentGroupName }),
      ),
    );
    if (info.deploymentGroupInfo?.computePlatform && info.deploymentGroupInfo.computePlatform !== 'ECS') {
      throw new DeploymentError(
        `The ${group} is for ${info.deploymentGroupInfo.computePlatform}, not ECS: point the resource at the ECS service's deployment group`,
      );
    }
    lastSuccessfulId = info.deploymentGroupInfo?.lastSuccessfulDeployment?.deploymentId;
  } catch (err) {
    const name = (err as { name?: string }).name;
    if (name === 'DeploymentGroupDoesNotExistException' || name === 'ApplicationDoesNotExistException') {
      throw new DeploymentError(
        `The ${group} does not exist (${name}): create it (EcsDeploymentGroup) before this resource, in the same account and region`,
      );
    }
    throw err;
  }

  // A deployment may already be running for this group.
  const active = await listActiveDeployments(props, deps);
  const oldTaskDef =
    event.RequestType === 'Update' ? (event.OldResourceProperties as { TaskDefinitionArn?: string })?.TaskDefinitionArn : undefined;
  const taskSets = active.length > 0 ? await serviceTaskSets(props, deps) : [];
  for (const d of active) {
    const target = taskDefinitionOf(d.revision?.appSpecContent?.content);
    if (target === props.taskDefinitionArn) {
      // Our own earlier attempt (e.g. a retried invocation): wait for it rather than start another.
      logger.info('Adopting the deployment already in progress for this task definition', {
        deploymentId: d.deploymentId,
        taskDefinitionArn: target,
      });
      return { PhysicalResourceId: physicalId, Data: { DeploymentId: d.deploymentId!, StoppedDeploymentId: '', Action: 'adopted' } };
    }
    if (oldTaskDef !== undefined && target === oldTaskDef && taskSets.some((t) => t.taskDefinition === props.taskDefinitionArn)) {
      // The revision this request wants still runs as the original task set: CloudFormation is
      // rolling back a release whose deployment has not ended (still shifting, or in its termination
      // wait). Stopping with auto-rollback reroutes traffic to that task set at once.
      await call(() => codedeploy.send(new StopDeploymentCommand({ deploymentId: d.deploymentId!, autoRollbackEnabled: true })));
      logger.warn('Stopped the in-flight deployment with auto-rollback: the wanted revision is still running', {
        deploymentId: d.deploymentId,
        taskDefinitionArn: target,
      });
      return { PhysicalResourceId: physicalId, Data: { DeploymentId: '', StoppedDeploymentId: d.deploymentId!, Action: 'stopped' } };
    }
    if (trafficFullyShifted(d)) {
      // The previous release is serving every user and CodeDeploy only waits to remove the task set
      // before it (its termination wait). CodeDeploy runs one deployment per group at a time, and this
      // release has passed its own gates: end the wait now (the ECS console's "Terminate original
      // task set"), then deploy this revision once the previous deployment is over.
      await call(() =>
        codedeploy.send(new ContinueDeploymentCommand({ deploymentId: d.deploymentId!, deploymentWaitType: 'TERMINATION_WAIT' })),
      );
      logger.info("Ended the previous deployment's termination wait; this revision deploys when it is over", {
        previousDeploymentId: d.deploymentId,
        previousTaskDefinitionArn: target,
      });
      return {
        PhysicalResourceId: physicalId,
        Data: {
          DeploymentId: '',
          StoppedDeploymentId: '',
          Action: 'after-previous',
          PreviousDeploymentId: d.deploymentId!,
          Since: deps.now?.().toISOString() ?? new Date().toISOString(),
        },
      };
    }
    throw new DeploymentError(
      `The ${group} already has deployment ${d.deploymentId} in progress (status ${d.status}, task definition ${target ?? 'unknown'}), ` +
        `not started by this stack update: wait for it to finish, or stop it (aws deploy stop-deployment --deployment-id ${d.deploymentId} --auto-rollback-enabled), then retry the update`,
    );
  }

  // What the service serves now (its PRIMARY task set) decides: a revision it already runs is not
  // deployed again. That covers a Create (the service starts with it), the CloudFormation rollback
  // of a release CodeDeploy already rolled back (even the very first, with no successful CodeDeploy
  // deployment yet), and an operator's rollback made outside CloudFormation.
  const serving = event.RequestType === 'Create' ? props.taskDefinitionArn : await servingTaskDefinition(props, deps);
  const current = serving ?? (lastSuccessfulId ? await currentTaskDefinition(lastSuccessfulId, deps) : undefined);
  if (current === props.taskDefinitionArn) {
    logger.info('Task definition already serving; no new deployment', {
      taskDefinitionArn: props.taskDefinitionArn,
      reason:
        event.RequestType === 'Create'
          ? 'the service was created with it'
          : serving
            ? "it is the service's primary task set"
            : `last successful deployment ${lastSuccessfulId} deployed it`,
    });
    return { PhysicalResourceId: physicalId, Data: { DeploymentId: '', StoppedDeploymentId: '', Action: 'no-op' } };
  }

  const deploymentId = await startDeployment(event, props, deps, current);
  return { PhysicalResourceId: physicalId, Data: { DeploymentId: deploymentId, StoppedDeploymentId: '', Action: 'created' } };
}

/** Creates the CodeDeploy deployment of `props.taskDefinitionArn`; returns its id. */
async function startDeployment(
  event: OnEventRequest,
  props: DeploymentProperties,
  deps: DeploymentDeps,
  previous: string | undefined,
): Promise<string> {
  const content = buildAppSpec(props);
  const created = await callWithRetry(deps)(() =>
    deps.codedeploy.send(
      new CreateDeploymentCommand({
        applicationName: props.applicationName,
        deploymentGroupName: props.deploymentGroupName,
        description:
          `CloudFormation ${event.RequestType} of ${event.LogicalResourceId} in ${stackName(event.StackId)}: ${props.taskDefinitionArn}`.slice(
            0,
            512,
          ),
        revision: {
          revisionType: 'AppSpecContent',
          appSpecContent: { content, sha256: createHash('sha256').update(content).digest('hex') },
        },
      }),
    ),
  );
  if (!created.deploymentId) {
    throw new DeploymentError(
      `CodeDeploy returned no deployment id for deployment group ${props.deploymentGroupName} of CodeDeploy application ${props.applicationName}`,
    );
  }
  deps.logger.info('Created deployment', {
    deploymentId: created.deploymentId,
    taskDefinitionArn: props.taskDefinitionArn,
    previous: previous ?? 'unknown',
  });
  return created.deploymentId;
}

async function onDelete(event: Extract<OnEventRequest, { RequestType: 'Delete' }>, deps: DeploymentDeps): Promise<OnEventResponse> {
  const physicalId = event.PhysicalResourceId;
  let props: DeploymentProperties;
  try {
    props = parseProperties(event.ResourceProperties);
  } catch (err) {
    // Never block a stack delete or rollback: with no group to look at there is nothing to stop.
    deps.logger.warn('Delete with unreadable properties; nothing to stop', { error: errorLine(err) });
    return { PhysicalResourceId: physicalId, Data: { DeploymentId: '', StoppedDeploymentId: '', Action: 'nothing-to-stop' } };
  }
  let active: DeploymentInfo[];
  try {
    active = await listActiveDeployments(props, deps);
  } catch (err) {
    const name = (err as { name?: string }).name;
    if (name === 'DeploymentGroupDoesNotExistException' || name === 'ApplicationDoesNotExistException') {
      deps.logger.info('Deployment group already gone; nothing to stop', { error: name });
      return { PhysicalResourceId: physicalId, Data: { DeploymentId: '', StoppedDeploymentId: '', Action: 'nothing-to-stop' } };
    }
    throw err;
  }
  const call = callWithRetry(deps);
  const stopped: string[] = [];
  for (const d of active) {
    await call(() => deps.codedeploy.send(new StopDeploymentCommand({ deploymentId: d.deploymentId!, autoRollbackEnabled: true })));
    deps.logger.warn('Stopped in-flight deployment with auto-rollback', { deploymentId: d.deploymentId, status: d.status });
    stopped.push(d.deploymentId!);
  }
  return {
    PhysicalResourceId: physicalId,
    Data: { DeploymentId: '', StoppedDeploymentId: stopped.join(','), Action: stopped.length > 0 ? 'stopped' : 'nothing-to-stop' },
  };
}

/** Polled by the Provider framework until it returns IsComplete or throws (which fails the resource). */
export async function isComplete(event: IsCompleteRequest, deps: DeploymentDeps): Promise<IsCompleteResponse> {
  const data = event?.Data;
  if (typeof data !== 'object' || data === null || typeof data.DeploymentId !== 'string' || typeof data.StoppedDeploymentId !== 'string') {
    throw new DeploymentError(
      `Malformed isComplete event: Data ${JSON.stringify(data)} lacks DeploymentId/StoppedDeploymentId from onEvent`,
    );
  }
  const stopped = data.StoppedDeploymentId.split(',').filter((id) => id !== '');
  for (const id of stopped) {
    const info = await getDeployment(id, deps);
    if (info && !TERMINAL_STATUSES.has(info.status ?? '')) {
      deps.logger.info('Waiting for the stopped deployment to finish rolling back', { deploymentId: id, status: info.status });
      return { IsComplete: false };
    }
  }
  if (data.Action === 'after-previous') return afterPrevious(event, data, deps);
  if (data.DeploymentId === '') return { IsComplete: true, Data: data };

  const info = await getDeployment(data.DeploymentId, deps);
  if (!info) throw new DeploymentError(`CodeDeploy deployment ${data.DeploymentId} no longer exists: check the deployment group's history`);
  return outcome(event, data, info, deps);
}

/**
 * isComplete of an update that arrived during the previous release's termination wait: waits for
 * that deployment to end, starts this revision's deployment (once: a later poll finds it by its task
 * definition), then follows it like any other.
 */
async function afterPrevious(event: IsCompleteRequest, data: DeploymentData, deps: DeploymentDeps): Promise<IsCompleteResponse> {
  const props = parseProperties(event.ResourceProperties);
  const previous = data.PreviousDeploymentId ? await getDeployment(data.PreviousDeploymentId, deps) : undefined;
  if (previous && IN_FLIGHT_STATUSES.includes(previous.status as DeploymentStatus)) {
    deps.logger.info('Waiting for the previous deployment to remove its original task set', {
      previousDeploymentId: data.PreviousDeploymentId,
      status: previous.status,
    });
    return { IsComplete: false };
  }
  const ours = await deploymentOfSince(props, data.Since, deps);
  if (!ours) {
    const serving = await servingTaskDefinition(props, deps);
    if (serving === props.taskDefinitionArn) {
      deps.logger.info('Task definition already serving; no new deployment', { taskDefinitionArn: props.taskDefinitionArn });
      return { IsComplete: true, Data: { ...data, Action: 'no-op' } };
    }
    await startDeployment(event, props, deps, serving);
    return { IsComplete: false };
  }
  return outcome(event, { ...data, DeploymentId: ours.deploymentId! }, ours, deps);
}

/** The newest deployment of `props.taskDefinitionArn` in the group created since `since`, if any. */
async function deploymentOfSince(
  props: DeploymentProperties,
  since: string | undefined,
  deps: DeploymentDeps,
): Promise<DeploymentInfo | undefined> {
  const start = since ? new Date(since) : undefined;
  if (!start || Number.isNaN(start.getTime()))
    throw new DeploymentError(`Malformed isComplete event: Data.Since ${JSON.stringify(since)} is not a time`);
  const list = await callWithRetry(deps)(() =>
    deps.codedeploy.send(
      new ListDeploymentsCommand({
        applicationName: props.applicationName,
        deploymentGroupName: props.deploymentGroupName,
        createTimeRange: { start },
      }),
    ),
  );
  const infos: DeploymentInfo[] = [];
  for (const id of list.deployments ?? []) {
    const info = await getDeployment(id, deps);
    if (info && taskDefinitionOf(info.revision?.appSpecContent?.content) === props.taskDefinitionArn) infos.push(info);
  }
  return infos.sort((a, b) => (b.createTime?.getTime() ?? 0) - (a.createTime?.getTime() ?? 0))[0];
}

/** Completes, waits or fails on the state of the deployment this request follows. */
async function outcome(
  event: IsCompleteRequest,
  data: DeploymentData,
  info: DeploymentInfo,
  deps: DeploymentDeps,
): Promise<IsCompleteResponse> {
  const call = callWithRetry(deps);
  const status = info.status ?? 'Unknown';
  if (status === 'Succeeded') {
    deps.logger.info('Deployment succeeded', { deploymentId: data.DeploymentId });
    return { IsComplete: true, Data: { ...data, Status: status } };
  }
  if (trafficFullyShifted(info)) {
    // CloudFormation waits at most an hour for a custom resource: the update completes once every
    // user is on the new task set; CodeDeploy keeps the old one for the termination wait, still
    // watching the alarms, and can still roll back to it (notified, and seen by the next bake gate).
    deps.logger.info('Traffic fully shifted; the old task set waits out its termination wait', { deploymentId: data.DeploymentId, status });
    return { IsComplete: true, Data: { ...data, Status: 'TrafficShifted' } };
  }
  if (status === 'Failed' || status === 'Stopped') {
    const hooks = await failedLifecycleEvents(data.DeploymentId, call, deps);
    const message = describeFailure(info, hooks, event.ResourceProperties as { TaskDefinitionArn?: string });
    deps.logger.error('Deployment did not succeed', { deploymentId: data.DeploymentId, status, message });
    throw new DeploymentError(message);
  }
  deps.logger.info('Deployment in progress', { deploymentId: data.DeploymentId, status, overview: info.deploymentOverview });
  return { IsComplete: false };
}

/**
 * Whether a running ECS deployment has moved all production traffic to the new task set and is
 * only waiting to terminate the old one: CodeDeploy marks the target Succeeded (the overview counts
 * it) and sets instanceTerminationWaitTimeStarted before the termination wait, and reports the
 * deployment Succeeded only after it.
 */
export function trafficFullyShifted(info: DeploymentInfo): boolean {
  if (!['InProgress', 'Baking'].includes(info.status ?? '')) return false;
  if (info.instanceTerminationWaitTimeStarted) return true;
  const o = info.deploymentOverview;
  return (o?.Succeeded ?? 0) > 0 && (o?.Failed ?? 0) === 0 && (o?.InProgress ?? 0) === 0 && (o?.Pending ?? 0) === 0;
}

/** A one-paragraph reason for CloudFormation: what failed, which alarm or hook, where to look. */
export function describeFailure(info: DeploymentInfo, hooks: string[] | { error: string }, props?: { TaskDefinitionArn?: string }): string {
  const parts: string[] = [];
  const rolledBack = info.rollbackInfo?.rollbackDeploymentId;
  parts.push(
    `CodeDeploy deployment ${info.deploymentId} of ${props?.TaskDefinitionArn ?? 'the new task definition'} ${info.status === 'Stopped' ? 'was stopped' : 'failed'}` +
      (rolledBack
        ? ` and was rolled back (rollback deployment ${rolledBack})`
        : info.status === 'Failed'
          ? ' and traffic stayed on or returned to the previous task set'
          : ''),
  );
  const err = info.errorInformation;
  if (err?.code === 'ALARM_ACTIVE') {
    const alarms = err.message?.match(/Activated alarms?:\s*(.+)$/i)?.[1]?.trim();
    parts.push(alarms ? `alarm ${alarms} went into ALARM` : `an alarm went into ALARM (${err.message ?? 'no detail'})`);
  } else if (err?.code || err?.message) {
    parts.push(`${err.code ?? 'error'}: ${err.message ?? 'no detail'}`);
  }
  if (Array.isArray(hooks)) {
    if (hooks.length > 0) parts.push(`failed lifecycle hooks: ${hooks.join('; ')}`);
  } else {
    parts.push(`(lifecycle events unreadable: ${hooks.error})`);
  }
  if (info.rollbackInfo?.rollbackMessage) parts.push(`rollback: ${info.rollbackInfo.rollbackMessage}`);
  return `${parts.map((p) => p.replace(/\.+$/, '')).join('. ')}.`;
}

function callWithRetry(deps: DeploymentDeps) {
  return <T>(fn: () => Promise<T>) => retry(fn, deps.retry);
}

async function listActiveDeployments(props: DeploymentProperties, deps: DeploymentDeps): Promise<DeploymentInfo[]> {
  const call = callWithRetry(deps);
  const list = await call(() =>
    deps.codedeploy.send(
      new ListDeploymentsCommand({
        applicationName: props.applicationName,
        deploymentGroupName: props.deploymentGroupName,
        includeOnlyStatuses: IN_FLIGHT_STATUSES,
      }),
    ),
  );
  const infos: DeploymentInfo[] = [];
  for (const id of list.deployments ?? []) {
    const info = await getDeployment(id, deps);
    if (info && IN_FLIGHT_STATUSES.includes(info.status as DeploymentStatus)) infos.push(info);
  }
  return infos;
}

async function getDeployment(deploymentId: string, deps: DeploymentDeps): Promise<DeploymentInfo | undefined> {
  try {
    const out = await callWithRetry(deps)(() => deps.codedeploy.send(new GetDeploymentCommand({ deploymentId })));
    return out.deploymentInfo;
  } catch (err) {
    if ((err as { name?: string }).name === 'DeploymentDoesNotExistException') return undefined;
    throw err;
  }
}

/**
 * The task definition of the service's PRIMARY task set (the one taking production traffic), or
 * undefined when the service cannot say (no task sets yet): then the last successful deployment decides.
 */
async function servingTaskDefinition(props: DeploymentProperties, deps: DeploymentDeps): Promise<string | undefined> {
  const out = await callWithRetry(deps)(() =>
    deps.ecs.send(new DescribeServicesCommand({ cluster: props.clusterName, services: [props.serviceName] })),
  );
  const service = out.services?.[0];
  if (!service) {
    throw new DeploymentError(
      `ECS service ${props.serviceName} of cluster ${props.clusterName} was not found (${out.failures?.[0]?.reason ?? 'no reason given'})`,
    );
  }
  return service.taskSets?.find((t) => t.status === 'PRIMARY')?.taskDefinition ?? undefined;
}

/** The service's task sets (PRIMARY and ACTIVE) with their task definitions. */
async function serviceTaskSets(
  props: DeploymentProperties,
  deps: DeploymentDeps,
): Promise<Array<{ status?: string; taskDefinition?: string }>> {
  const out = await callWithRetry(deps)(() =>
    deps.ecs.send(new DescribeServicesCommand({ cluster: props.clusterName, services: [props.serviceName] })),
  );
  return out.services?.[0]?.taskSets ?? [];
}

async function currentTaskDefinition(deploymentId: string, deps: DeploymentDeps): Promise<string | undefined> {
  const info = await getDeployment(deploymentId, deps);
  return taskDefinitionOf(info?.revision?.appSpecContent?.content);
}

async function failedLifecycleEvents(
  deploymentId: string,
  call: ReturnType<typeof callWithRetry>,
  deps: DeploymentDeps,
): Promise<string[] | { error: string }> {
  try {
    const targets = await call(() => deps.codedeploy.send(new ListDeploymentTargetsCommand({ deploymentId })));
    const ids = targets.targetIds ?? [];
    if (ids.length === 0) return [];
    const out = await call(() => deps.codedeploy.send(new BatchGetDeploymentTargetsCommand({ deploymentId, targetIds: ids })));
    const events: LifecycleEvent[] = (out.deploymentTargets ?? []).flatMap((t) => t.ecsTarget?.lifecycleEvents ?? []);
    return events
      .filter((e) => e.status === 'Failed')
      .map(
        (e) =>
          `${e.lifecycleEventName} (${[e.diagnostics?.errorCode, e.diagnostics?.message].filter(Boolean).join(': ') || 'no diagnostics'})`,
      );
  } catch (err) {
    return { error: errorLine(err) };
  }
}

function stackName(stackId: string | undefined): string {
  return stackId?.split('/')[1] ?? 'unknown stack';
}
