import { DescribeStackEventsCommand, StackEvent } from '@aws-sdk/client-cloudformation';
import { BatchGetBuildsCommand } from '@aws-sdk/client-codebuild';
import { GetDeploymentCommand } from '@aws-sdk/client-codedeploy';
import {
  ActionExecutionDetail,
  GetPipelineExecutionCommand,
  ListPipelineExecutionsCommand,
  PipelineExecutionSummary,
} from '@aws-sdk/client-codepipeline';
import { OpsClients } from './clients';
import { consoleLinks } from './console-links';
import { arnAccount, call, CommonOptions, OpsContext, opsContext } from './context';
import { getDeploymentTargets, isMissingStack } from './deployments';
import { getPipelineInfo, getPipelineState, listActionExecutions } from './pipeline';

export type FailureCause =
  | 'build-or-test'
  | 'permission-denied'
  | 'cloudformation-resource'
  | 'codedeploy-alarm-rollback'
  | 'lifecycle-hook'
  | 'ecs-health-check'
  | 'timeout'
  | 'missing-artifact'
  | 'source-connection'
  | 'unknown';

/** The explanation of a pipeline execution's failure (or of there being none). */
export interface Diagnosis {
  pipelineName: string;
  executionId?: string;
  /** Whether a failed execution was found. */
  found: boolean;
  stageName?: string;
  actionName?: string;
  /** The error as AWS wrote it, never rewritten. */
  error?: string;
  cause: FailureCause | 'none';
  /** One sentence: what went wrong. */
  summary: string;
  /** What to do about it. */
  fix: string;
  /** Console and log links, most useful first. */
  links: string[];
}

/** What diagnosis gathered about the failed action; input of `classifyFailure`. */
export interface FailureEvidence {
  /** Action category and provider, e.g. Build/CodeBuild, Deploy/CloudFormation. */
  readonly category?: string;
  readonly provider?: string;
  /** The action's error message. */
  readonly actionError?: string;
  /** The first resource that failed in the stack's last operation. */
  readonly stackEvent?: { readonly logicalId?: string; readonly resourceType?: string; readonly reason?: string; readonly stackName?: string };
  /** The CodeDeploy deployment involved, if any. */
  readonly deployment?: {
    readonly deploymentId: string;
    readonly errorCode?: string;
    readonly errorMessage?: string;
    readonly rollbackMessage?: string;
    readonly failedHook?: string;
    readonly hookMessage?: string;
  };
  /** The CodeBuild build, if the action was one. */
  readonly build?: { readonly status?: string; readonly phase?: string; readonly message?: string };
  /** Things diagnosis could not look at (e.g. a stack in another account). */
  readonly notes?: string[];
}

const IN_FLIGHT = new Set(['InProgress', 'Stopping']);

/**
 * Finds the latest failed execution (or explains the given one): the failed stage and action, the
 * error, and a classified cause with a fix. Reads only; never throws on what it cannot enrich
 * (another account's stack, an expired build): that goes into the summary instead.
 */
export async function diagnosePipeline(
  clients: OpsClients,
  opts: { pipelineName: string; executionId?: string; region: string } & Partial<Omit<CommonOptions, 'region'>>,
): Promise<Diagnosis> {
  const ctx = opsContext(clients, opts);
  const { pipelineName } = opts;
  let executionId = opts.executionId;
  let statusSummary: string | undefined;
  let rolledBack: PipelineExecutionSummary | undefined;
  if (!executionId) {
    const { latest, rollback } = await latestFinishedExecution(ctx, pipelineName);
    rolledBack = rollback;
    if (!latest) {
      return none(pipelineName, undefined, `${pipelineName} has no finished execution yet: nothing to diagnose`);
    }
    if (latest.status !== 'Failed') {
      return none(pipelineName, latest.pipelineExecutionId, `no failure: the latest finished execution ${latest.pipelineExecutionId} ${latest.status}`);
    }
    executionId = latest.pipelineExecutionId!;
    statusSummary = latest.statusSummary;
  } else {
    const out = await call(ctx, () => clients.codepipeline.send(new GetPipelineExecutionCommand({ pipelineName, pipelineExecutionId: executionId })));
    const status = out.pipelineExecution?.status;
    if (status !== 'Failed') {
      return none(pipelineName, executionId, `no failure: execution ${executionId} is ${status ?? 'unknown'}`);
    }
    statusSummary = out.pipelineExecution?.statusSummary;
  }

  const links = [consoleLinks.execution(ctx.region, pipelineName, executionId)];
  const failed = await failedActions(ctx, pipelineName, executionId);
  const action = failed[0];
  if (!action) {
    // Failed without a failed action: a stage condition or a pipeline-level problem.
    const verdict = classifyFailure({ actionError: statusSummary });
    return {
      pipelineName,
      executionId,
      found: true,
      error: statusSummary,
      ...verdict,
      summary: `Execution ${executionId} failed without a failed action. ${verdict.summary}`,
      links,
    };
  }

  const info = await getPipelineInfo(ctx, pipelineName);
  const evidence = await gatherEvidence(ctx, action, info.account, await stateError(ctx, pipelineName, action), links);
  const verdict = classifyFailure(evidence);
  const others = failed.slice(1).map((a) => `${a.stageName}/${a.actionName}`);
  const where = `${action.stageName}/${action.actionName}`;
  const notes = [
    ...(evidence.notes ?? []),
    ...(others.length > 0 ? [`Also failed: ${others.join(', ')}.`] : []),
    ...(rolledBack ? [`Since then, rollback execution ${rolledBack.pipelineExecutionId} succeeded${rolledBack.rollbackMetadata?.rollbackTargetPipelineExecutionId ? ` (back to execution ${rolledBack.rollbackMetadata.rollbackTargetPipelineExecutionId})` : ''}.`] : []),
  ];
  return {
    pipelineName,
    executionId,
    found: true,
    stageName: action.stageName,
    actionName: action.actionName,
    error: rawError(evidence),
    cause: verdict.cause,
    summary: [`${where} failed: ${verdict.summary}`, ...notes].join(' '),
    fix: verdict.fix,
    links: [...new Set(links)],
  };
}

function none(pipelineName: string, executionId: string | undefined, summary: string): Diagnosis {
  return { pipelineName, executionId, found: false, cause: 'none', summary, fix: '', links: [] };
}

/**
 * The latest execution that failed or succeeded. Stopped, superseded and cancelled executions were
 * ended on purpose, and a successful rollback execution only undid a failure: look past them (the
 * rollback is returned too, to say so). A failed rollback is a failure of its own.
 */
async function latestFinishedExecution(ctx: OpsContext, pipelineName: string): Promise<{ latest?: PipelineExecutionSummary; rollback?: PipelineExecutionSummary }> {
  const out = await call(ctx, () => ctx.clients.codepipeline.send(new ListPipelineExecutionsCommand({ pipelineName, maxResults: 25 })));
  const finished = (out.pipelineExecutionSummaries ?? []).filter((e) => !IN_FLIGHT.has(e.status ?? '') && (e.status === 'Failed' || e.status === 'Succeeded'));
  const rollback = finished.find((e) => e.executionType === 'ROLLBACK' && e.status === 'Succeeded');
  const latest = finished.find((e) => !(e.executionType === 'ROLLBACK' && e.status === 'Succeeded'));
  return { latest, rollback: rollback && latest && (rollback.startTime?.getTime() ?? 0) >= (latest.startTime?.getTime() ?? 0) ? rollback : undefined };
}

async function failedActions(ctx: OpsContext, pipelineName: string, executionId: string): Promise<ActionExecutionDetail[]> {
  const all = await listActionExecutions(ctx, pipelineName, executionId);
  return all
    .filter((a) => a.status === 'Failed')
    .sort((a, b) => (a.lastUpdateTime?.getTime() ?? 0) - (b.lastUpdateTime?.getTime() ?? 0));
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

async function gatherEvidence(ctx: OpsContext, action: ActionExecutionDetail, pipelineAccount: string | undefined, actionError: string | undefined, links: string[]): Promise<FailureEvidence> {
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
      build = { status: b.buildStatus, phase: phase?.phaseType, message: context ? `${context.statusCode}: ${context.message}` : undefined };
      if (b.logs?.deepLink) links.unshift(b.logs.deepLink);
    }
  }

  let stackEvent: FailureEvidence['stackEvent'];
  const stackName = input.configuration?.StackName;
  if (provider === 'CloudFormation' && stackName) {
    if (foreign) {
      notes.push(`Stack ${stackName} is in account ${account} (${region}): use credentials for it to see the failing resource (\`aws cloudformation describe-stack-events --stack-name ${stackName} --region ${region}\`).`);
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
    notes.push(isMissingStack(err) ? `Could not read ${what}: it no longer exists.` : `Could not read ${what} (${e.name}: ${e.message.split('\n')[0]}).`);
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
    const out = await call(ctx, () => clients.cloudformation.send(new DescribeStackEventsCommand({ StackName: stackName, NextToken: token })));
    for (const ev of out.StackEvents ?? []) {
      operation.push(ev);
      const isStack = ev.ResourceType === 'AWS::CloudFormation::Stack' && ev.LogicalResourceId === ev.StackName;
      if (isStack && /^(CREATE|UPDATE|IMPORT)_IN_PROGRESS$/.test(ev.ResourceStatus ?? '') && ev.ResourceStatusReason === 'User Initiated') break scan;
    }
    token = out.NextToken;
    if (!token) break;
  }
  const failures = operation
    .filter((ev) => /_FAILED$/.test(ev.ResourceStatus ?? '') && !(ev.ResourceType === 'AWS::CloudFormation::Stack' && ev.LogicalResourceId === ev.StackName))
    .reverse();
  return failures.find((ev) => !/cancelled/i.test(ev.ResourceStatusReason ?? '')) ?? failures[0];
}

async function describeFailedDeployment(ctx: OpsContext, clients: OpsClients, deploymentId: string): Promise<NonNullable<FailureEvidence['deployment']>> {
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

/** Everything AWS said, as AWS said it, for the `error` field. */
function rawError(e: FailureEvidence): string | undefined {
  const parts = [e.actionError];
  if (e.build?.message) parts.push(`Build phase ${e.build.phase}: ${e.build.message}`);
  if (e.stackEvent?.reason) parts.push(`${e.stackEvent.logicalId} (${e.stackEvent.resourceType}): ${e.stackEvent.reason}`);
  if (e.deployment?.errorMessage) parts.push(`CodeDeploy ${e.deployment.deploymentId} ${e.deployment.errorCode ?? ''}: ${e.deployment.errorMessage}`.replace(' :', ':'));
  if (e.deployment?.hookMessage) parts.push(`${e.deployment.failedHook}: ${e.deployment.hookMessage}`);
  const text = parts.filter(Boolean).join('\n');
  return text || undefined;
}

const MISSING_ACTION = /not authori[sz]ed to perform:?\s*([A-Za-z0-9-]+:[A-Za-z0-9*]+)/;
const PRINCIPAL = /User:\s*(arn:\S+)/;
const ALARM_NAMES = /(?:Activated alarms?|Alarm names?):\s*([^\n;]+)/i;
const HOOK_NAMES = /\b(BeforeInstall|AfterInstall|AfterAllowTestTraffic|BeforeAllowTraffic|AfterAllowTraffic|ApplicationStop|ApplicationStart|ValidateService)\b/;
const MISSING_ARTIFACT =
  /CannotPullContainerError|manifest (?:for \S+ )?(?:not found|unknown)|image\S* .*(?:does not exist|not found)|NoSuchKey|specified key does not exist|artifact.*(?:not found|does not exist|missing)|REVISION_MISSING|Unable to find the artifact|requested image not found|repository .* does not exist/i;
const HEALTH = /health ?checks?|HEALTH_CONSTRAINTS|unhealthy|cannot reach a steady state/i;
const TIMEOUT = /timed out|time ?out\b|TIMED_OUT|exceeded the (?:maximum )?(?:time|duration)/i;
const SOURCE =
  /codestar-connections|codeconnections|connection is not (?:available|in)|not in (?:the )?AVAILABLE state|Could not access the (?:GitHub )?repository|No Branch \[|repository not found|Could not fetch|webhook/i;
const CFN_RESOURCE = /Resource handler returned message|failed to (?:create|update|delete)|resource\(s\) failed|ROLLBACK_(?:COMPLETE|IN_PROGRESS)|Failed to execute change set/i;

/** Turns the evidence into a cause, a sentence and a fix. Pure: the tests feed it evidence directly too. */
export function classifyFailure(e: FailureEvidence): { cause: FailureCause; summary: string; fix: string } {
  const d = e.deployment;
  const texts = [e.actionError, e.build?.message, e.stackEvent?.reason, d?.errorMessage, d?.rollbackMessage, d?.hookMessage].filter((t): t is string => !!t);
  const all = texts.join('\n');
  const resource = e.stackEvent?.logicalId ? `${e.stackEvent.logicalId} (${e.stackEvent.resourceType})` : undefined;

  const alarm = () => {
    // "<a>, <b>" or "<a, b>": brackets off before splitting, so each name comes out whole.
    const listed = all.match(ALARM_NAMES)?.[1].replace(/[<>]/g, '').split(',') ?? [all.match(/alarms? (\S+) went into ALARM/)?.[1] ?? ''];
    const names = listed.map((n) => n.trim().replace(/\.$/, '').replace(/^<(.*)>$/, '$1')).filter(Boolean);
    const which = names.length > 0 ? `alarm ${names.join(', ')}` : 'one of its alarms';
    return {
      cause: 'codedeploy-alarm-rollback' as const,
      summary: `CodeDeploy${d ? ` deployment ${d.deploymentId}` : ''} stopped and rolled back because ${which} went into ALARM during the traffic shift; the previous version serves all traffic again.`,
      fix: `Look at the alarm's metric for the new version (CloudWatch console, ${names[0] ?? 'the alarm'}), fix the regression and push a new commit; if the alarm was a false positive, adjust its threshold in safe-deploy.config.json (stages[].lambda|ecs.alarms).`,
    };
  };
  const hook = () => {
    const name = d?.failedHook ?? all.match(HOOK_NAMES)?.[1];
    return {
      cause: 'lifecycle-hook' as const,
      summary: `the ${name ?? 'lifecycle'} hook reported Failed${d?.hookMessage ? ` (${d.hookMessage})` : ''}, so CodeDeploy rolled the deployment back.`,
      fix: `Read the ${name ?? 'hook'} function's logs (its CloudWatch log group) for the failed checks; fix the new version or the test, then push or run \`deployctl retry\`.`,
    };
  };

  if (d?.errorCode === 'ALARM_ACTIVE') return alarm();
  if (d?.errorCode === 'HOOK_EXECUTION_FAILURE' || d?.failedHook) return hook();

  const denied = all.match(MISSING_ACTION);
  if (denied || /AccessDenied|Access Denied|UnauthorizedOperation|IAM_ROLE_PERMISSIONS|is not authori[sz]ed/i.test(all)) {
    const principal = all.match(PRINCIPAL)?.[1];
    const actionName = denied?.[1];
    return {
      cause: 'permission-denied',
      summary: `permission denied${actionName ? `: ${principal ?? 'the role'} may not call ${actionName}` : ''}${resource ? ` while deploying ${resource}` : ''}.`,
      fix: actionName
        ? `Grant ${actionName} to ${principal ? principal.replace(/^arn:aws[^:]*:sts::(\d+):assumed-role\/([^/]+)\/.*$/, 'role $2 in account $1') : 'the role that made the call'} (in this app: the construct's grant*/addToPolicy, or for the cdk-* bootstrap roles re-run cdk bootstrap with the right --cloudformation-execution-policies and --trust), then retry.`
        : 'Find the denied call in CloudTrail (errorCode AccessDenied) and grant it to the role that made it, then retry.',
    };
  }
  if (ALARM_NAMES.test(all) || /alarms? (?:was|were|has been|have been) (?:triggered|activated)|went into ALARM|ALARM_ACTIVE/i.test(all)) return alarm();
  if (/lifecycle event|validation (?:Lambda )?functions?|HOOK_EXECUTION_FAILURE/i.test(all) || (d && HOOK_NAMES.test(all))) return hook();
  if (MISSING_ARTIFACT.test(all)) {
    return {
      cause: 'missing-artifact',
      summary: `an artifact or container image the action needs does not exist${resource ? ` (${resource})` : ''}.`,
      fix: 'Check that the build published it (the Assets stage, the ECR image tagged with the commit, the S3 artifact still within retention: see `deployctl artifacts --commit SHA`); re-run the pipeline from the source with `aws codepipeline start-pipeline-execution` if it was cleaned up.',
    };
  }
  if (HEALTH.test(all) || d?.errorCode === 'ECS_UPDATE_ERROR') {
    return {
      cause: 'ecs-health-check',
      summary: `the new ECS tasks did not pass their health checks, so CodeDeploy kept traffic on the old task set${d ? ` (deployment ${d.deploymentId})` : ''}.`,
      fix: "Read the stopped tasks' reason and container logs (ECS console, service events), check the container's health check and the target group's health check path and port, fix and push.",
    };
  }
  if (TIMEOUT.test(all) || d?.errorCode === 'TIMEOUT' || e.build?.status === 'TIMED_OUT') {
    return {
      cause: 'timeout',
      summary: `the action ran out of time${d ? ` (deployment ${d.deploymentId})` : ''}${resource ? ` on ${resource}` : ''}.`,
      fix: 'Find what it waited for (a hook that never reported, tasks that never became healthy, a slow build) in the linked logs; fix that, or raise the timeout if the work is legitimately slow, then `deployctl retry`.',
    };
  }
  if (e.category === 'Source' || SOURCE.test(all)) {
    return {
      cause: 'source-connection',
      summary: 'the source action could not fetch the commit from GitHub through the CodeConnections connection.',
      fix: 'Open Developer Tools > Connections in the console: the connection must be Available (finish the GitHub handshake if Pending) and the GitHub app must have access to the repository; check the branch name in safe-deploy.config.json, then `deployctl retry`.',
    };
  }
  if (e.provider === 'CodeBuild' || e.category === 'Build' || e.category === 'Test') {
    return {
      cause: 'build-or-test',
      summary: `the build or tests failed${e.build?.phase ? ` in phase ${e.build.phase}` : ''}${e.build?.message ? ` (${e.build.message})` : ''}.`,
      fix: 'Open the build log (first link), reproduce locally with `npm ci && npm test && npx cdk synth`, fix and push; retry only for flaky infrastructure.',
    };
  }
  if (e.stackEvent || CFN_RESOURCE.test(all) || e.provider === 'CloudFormation') {
    const failedList = all.match(/resource\(s\) failed to \w+: \[([^\]]+)\]/)?.[1];
    const what = resource ?? (failedList ? failedList : 'a resource');
    return {
      cause: 'cloudformation-resource',
      summary: `CloudFormation could not deploy ${what}${e.stackEvent?.stackName ? ` in stack ${e.stackEvent.stackName}` : ''}${e.stackEvent?.reason ? `: ${e.stackEvent.reason}` : ''}; the stack rolled back.`,
      fix: 'Fix the resource definition or the conflict the reason names (the first failure is the cause, later ones are cancellations), synthesize locally, push.',
    };
  }
  return {
    cause: 'unknown',
    summary: 'deployctl does not recognise this error; it is shown as AWS reported it.',
    fix: 'Read the error and the linked execution; if it is transient, `deployctl retry`.',
  };
}

/** Human-readable form of a diagnosis. */
export function formatDiagnosis(d: Diagnosis): string {
  if (!d.found) return d.summary;
  const lines = [
    `Pipeline ${d.pipelineName}, execution ${d.executionId}: FAILED${d.stageName ? ` in ${d.stageName} / ${d.actionName}` : ''}`,
    `Cause:   ${d.cause}`,
    `Summary: ${d.summary}`,
  ];
  if (d.error) {
    const [first, ...rest] = d.error.split('\n');
    lines.push(`Error:   ${first}`, ...rest.map((l) => `         ${l}`));
  }
  lines.push(`Fix:     ${d.fix}`);
  if (d.links.length > 0) lines.push('Links:', ...d.links.map((l) => `  ${l}`));
  return lines.join('\n');
}
