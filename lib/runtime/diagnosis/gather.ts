import { DescribeStackEventsCommand, StackEvent } from '@aws-sdk/client-cloudformation';
import { BatchGetBuildsCommand } from '@aws-sdk/client-codebuild';
import { GetDeploymentCommand } from '@aws-sdk/client-codedeploy';
import {
  ActionExecutionDetail,
  GetPipelineExecutionCommand,
  ListPipelineExecutionsCommand,
  PipelineExecutionSummary,
} from '@aws-sdk/client-codepipeline';
import { OpsClients } from '../clients';
import { consoleLinks } from '../console-links';
import { arnAccount, call, CommonOptions, OpsContext, opsContext } from '../context';
import { getDeploymentTargets, isMissingStack } from '../deployments';
import { getPipelineInfo, getPipelineState, listActionExecutions } from '../pipeline';
import type { FailureEvidence } from './types';

/** Which execution to diagnose: the given one, or the latest finished one. */
export type DiagnoseOptions = { pipelineName: string; executionId?: string; region: string } & Partial<Omit<CommonOptions, 'region'>>;

/** What gathering found about the execution: plain facts, no verdict. */
export type ExecutionFacts =
  | {
      readonly failed: false;
      readonly executionId?: string;
      /** Why there is nothing to diagnose, as one sentence. */
      readonly reason: string;
    }
  | {
      readonly failed: true;
      readonly executionId: string;
      /** CodePipeline's summary of the execution's failure. */
      readonly statusSummary?: string;
      /** Console and log links found so far, most useful first (may repeat). */
      readonly links: string[];
      /** A rollback execution that succeeded since (looked for only without a given execution). */
      readonly rolledBack?: PipelineExecutionSummary;
      /** The first action that failed; none when the execution failed without a failed action. */
      readonly action?: FailedActionFacts;
    };

/** The first failed action of an execution and what was found about it. */
export interface FailedActionFacts {
  readonly stageName?: string;
  readonly actionName?: string;
  readonly evidence: FailureEvidence;
  /** The actions that failed after it, as "Stage/Action". */
  readonly alsoFailed: string[];
}

const IN_FLIGHT = new Set(['InProgress', 'Stopping']);

/**
 * Finds the latest failed execution (or reads the given one): the failed stage and action, and the
 * evidence about them. Reads only; never throws on what it cannot enrich (another account's stack,
 * an expired build): that goes into the evidence's notes instead.
 */
export async function gatherExecutionFacts(clients: OpsClients, opts: DiagnoseOptions): Promise<ExecutionFacts> {
  const ctx = opsContext(clients, opts);
  const { pipelineName } = opts;
  let executionId = opts.executionId;
  let statusSummary: string | undefined;
  let rolledBack: PipelineExecutionSummary | undefined;
  if (!executionId) {
    const { latest, rollback } = await latestFinishedExecution(ctx, pipelineName);
    rolledBack = rollback;
    if (!latest) {
      return { failed: false, reason: `${pipelineName} has no finished execution yet: nothing to diagnose` };
    }
    if (latest.status !== 'Failed') {
      const reason = `no failure: the latest finished execution ${latest.pipelineExecutionId} ${latest.status}`;
      return { failed: false, executionId: latest.pipelineExecutionId, reason };
    }
    executionId = latest.pipelineExecutionId!;
    statusSummary = latest.statusSummary;
  } else {
    const out = await call(ctx, () =>
      clients.codepipeline.send(new GetPipelineExecutionCommand({ pipelineName, pipelineExecutionId: executionId })),
    );
    const status = out.pipelineExecution?.status;
    if (status !== 'Failed') {
      return { failed: false, executionId, reason: `no failure: execution ${executionId} is ${status ?? 'unknown'}` };
    }
    statusSummary = out.pipelineExecution?.statusSummary;
  }

  const links = [consoleLinks.execution(ctx.region, pipelineName, executionId)];
  const failed = await failedActions(ctx, pipelineName, executionId);
  const action = failed[0];
  if (!action) {
    // Failed without a failed action: a stage condition or a pipeline-level problem.
    return { failed: true, executionId, statusSummary, links, rolledBack };
  }
  const info = await getPipelineInfo(ctx, pipelineName);
  const evidence = await gatherEvidence(ctx, action, info.account, await stateError(ctx, pipelineName, action), links);
  const alsoFailed = failed.slice(1).map((a) => `${a.stageName}/${a.actionName}`);
  const { stageName, actionName } = action;
  return { failed: true, executionId, statusSummary, links, rolledBack, action: { stageName, actionName, evidence, alsoFailed } };
}

/**
 * The latest execution that failed or succeeded. Stopped, superseded and cancelled executions were
 * ended on purpose, and a successful rollback execution only undid a failure: look past them (the
 * rollback is returned too, to say so). A failed rollback is a failure of its own.
 */
async function latestFinishedExecution(
  ctx: OpsContext,
  pipelineName: string,
): Promise<{ latest?: PipelineExecutionSummary; rollback?: PipelineExecutionSummary }> {
  const out = await call(ctx, () => ctx.clients.codepipeline.send(new ListPipelineExecutionsCommand({ pipelineName, maxResults: 25 })));
  const finished = (out.pipelineExecutionSummaries ?? []).filter(
    (e) => !IN_FLIGHT.has(e.status ?? '') && (e.status === 'Failed' || e.status === 'Succeeded'),
  );
  const rollback = finished.find((e) => e.executionType === 'ROLLBACK' && e.status === 'Succeeded');
  const latest = finished.find((e) => !(e.executionType === 'ROLLBACK' && e.status === 'Succeeded'));
  return {
    latest,
    rollback: rollback && latest && (rollback.startTime?.getTime() ?? 0) >= (latest.startTime?.getTime() ?? 0) ? rollback : undefined,
  };
}
async function failedActions(ctx: OpsContext, pipelineName: string, executionId: string): Promise<ActionExecutionDetail[]> {
  const all = await listActionExecutions(ctx, pipelineName, executionId);
  return all.filter((a) => a.status === 'Failed').sort((a, b) => (a.lastUpdateTime?.getTime() ?? 0) - (b.lastUpdateTime?.getTime() ?? 0));
}

/** GetPipelineState has the action's error message when this is still its latest execution. */
async function stateError(ctx: OpsContext, pipelineName: string, action: ActionExecutionDetail): Promise<string | undefined> {
  const own = action.output?.executionResult?.errorDetails?.message;
  if (own) return own;
  const state = await getPipelineState(ctx, pipelineName);
  const actionState = state.stageStates
    ?.find((s) => s.stageName === action.stageName)
    ?.actionStates?.find((a) => a.actionName === action.actionName);
  const latest = actionState?.latestExecution;
  if (latest && (!latest.actionExecutionId || latest.actionExecutionId === action.actionExecutionId)) {
    return latest.errorDetails?.message ?? latest.summary;
  }
  return action.output?.executionResult?.externalExecutionSummary;
}

const DEPLOYMENT_ID = /\bd-[A-Z0-9]{9}\b/;

async function gatherEvidence(
  ctx: OpsContext,
  action: ActionExecutionDetail,
  pipelineAccount: string | undefined,
  actionError: string | undefined,
  links: string[],
): Promise<FailureEvidence> {
  const input = action.input ?? {};
  const result = action.output?.executionResult;
  const category = input.actionTypeId?.category;
  const provider = input.actionTypeId?.provider;
  const region = input.region ?? ctx.region;
  const account = arnAccount(input.roleArn) ?? arnAccount(input.configuration?.RoleArn) ?? pipelineAccount;
  const foreign = pipelineAccount !== undefined && account !== undefined && account !== pipelineAccount;
  const clients = ctx.clientsFor(region);
  const notes: string[] = [];
  if (result?.externalExecutionUrl) links.push(result.externalExecutionUrl);

  let build: FailureEvidence['build'];
  if (provider === 'CodeBuild' && result?.externalExecutionId) {
    const out = await tolerate(notes, 'the build', () =>
      call(ctx, () => clients.codebuild.send(new BatchGetBuildsCommand({ ids: [result.externalExecutionId!] }))),
    );
    const b = out?.builds?.[0];
    if (b) {
      const phase = b.phases?.find((p) => p.phaseStatus && p.phaseStatus !== 'SUCCEEDED' && p.phaseType !== 'COMPLETED');
      const context = phase?.contexts?.find((c) => c.message);
      build = {
        status: b.buildStatus,
        phase: phase?.phaseType,
        message: context ? `${context.statusCode}: ${context.message}` : undefined,
      };
      if (b.logs?.deepLink) links.unshift(b.logs.deepLink);
    }
  }

  let stackEvent: FailureEvidence['stackEvent'];
  const stackName = input.configuration?.StackName;
  if (provider === 'CloudFormation' && stackName) {
    if (foreign) {
      notes.push(
        `Stack ${stackName} is in account ${account} (${region}): use credentials for it to see the failing resource (\`aws cloudformation describe-stack-events --stack-name ${stackName} --region ${region}\`).`,
      );
    } else {
      const ev = await tolerate(notes, `stack ${stackName}`, () => firstFailingEvent(ctx, clients, stackName));
      if (ev) {
        stackEvent = { logicalId: ev.LogicalResourceId, resourceType: ev.ResourceType, reason: ev.ResourceStatusReason, stackName };
        if (ev.StackId) links.push(consoleLinks.stack(region, ev.StackId));
      }
    }
  }

  let deployment: FailureEvidence['deployment'];
  const deploymentId =
    (provider?.startsWith('CodeDeploy') ? result?.externalExecutionId : undefined) ??
    [stackEvent?.reason, actionError].map((t) => t?.match(DEPLOYMENT_ID)?.[0]).find(Boolean);
  if (deploymentId && !foreign) {
    deployment = await tolerate(notes, `deployment ${deploymentId}`, () => describeFailedDeployment(ctx, clients, deploymentId));
    if (deployment) links.push(consoleLinks.deployment(region, deploymentId));
  }
  return { category, provider, actionError, stackEvent, deployment, build, notes };
}

/** Enrichment is best effort: a failure to read more is noted, never fatal. */
async function tolerate<T>(notes: string[], what: string, fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await fn();
  } catch (err) {
    const e = err as Error;
    notes.push(
      isMissingStack(err)
        ? `Could not read ${what}: it no longer exists.`
        : `Could not read ${what} (${e.name}: ${e.message.split('\n')[0]}).`,
    );
    return undefined;
  }
}

/**
 * The root cause of a stack failure is its FIRST failed resource in the last operation; what
 * follows is mostly "Resource creation cancelled" and the rollback. Events come newest first.
 */
export async function firstFailingEvent(ctx: OpsContext, clients: OpsClients, stackName: string): Promise<StackEvent | undefined> {
  const operation: StackEvent[] = [];
  let token: string | undefined;
  scan: for (let page = 0; page < 10; page++) {
    const out = await call(ctx, () =>
      clients.cloudformation.send(new DescribeStackEventsCommand({ StackName: stackName, NextToken: token })),
    );
    for (const ev of out.StackEvents ?? []) {
      operation.push(ev);
      const isStack = ev.ResourceType === 'AWS::CloudFormation::Stack' && ev.LogicalResourceId === ev.StackName;
      if (isStack && /^(CREATE|UPDATE|IMPORT)_IN_PROGRESS$/.test(ev.ResourceStatus ?? '') && ev.ResourceStatusReason === 'User Initiated')
        break scan;
    }
    token = out.NextToken;
    if (!token) break;
  }
  const failures = operation
    .filter(
      (ev) =>
        /_FAILED$/.test(ev.ResourceStatus ?? '') &&
        !(ev.ResourceType === 'AWS::CloudFormation::Stack' && ev.LogicalResourceId === ev.StackName),
    )
    .reverse();
  return failures.find((ev) => !/cancelled/i.test(ev.ResourceStatusReason ?? '')) ?? failures[0];
}

async function describeFailedDeployment(
  ctx: OpsContext,
  clients: OpsClients,
  deploymentId: string,
): Promise<NonNullable<FailureEvidence['deployment']>> {
  const out = await call(ctx, () => clients.codedeploy.send(new GetDeploymentCommand({ deploymentId })));
  const info = out.deploymentInfo;
  const targets = await getDeploymentTargets(ctx, clients, deploymentId);
  const hook = targets
    .flatMap((t) => t.ecsTarget?.lifecycleEvents ?? t.lambdaTarget?.lifecycleEvents ?? t.instanceTarget?.lifecycleEvents ?? [])
    .find((e) => e.status === 'Failed');
  return {
    deploymentId,
    errorCode: info?.errorInformation?.code,
    errorMessage: info?.errorInformation?.message,
    rollbackMessage: info?.rollbackInfo?.rollbackMessage,
    failedHook: hook?.lifecycleEventName,
    hookMessage: hook?.diagnostics?.message,
  };
}
