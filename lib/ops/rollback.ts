import { DeploymentInfo, GetDeploymentCommand, StopDeploymentCommand } from '@aws-sdk/client-codedeploy';
import {
  GetPipelineExecutionCommand,
  ListPipelineExecutionsCommand,
  PipelineExecution,
  PipelineExecutionNotFoundException,
  PipelineExecutionSummary,
  RollbackStageCommand,
  StageState,
} from '@aws-sdk/client-codepipeline';
import { OpsClients } from '../runtime/clients';
import { IN_FLIGHT_STATUSES } from '../runtime/codedeploy-status';
import { call, CommonOptions, OpsContext, OpsError, opsContext, shortSha } from '../runtime/context';
import { findInFlightDeployments, InFlightDeployment } from '../runtime/deployments';
import { commitMessage, getPipelineInfo, getPipelineState, requireStage, Revision } from '../runtime/pipeline';
import { pickSourceRevision } from './status';

/** What a rollback will do; shown before the operator confirms. */
export interface RollbackPlan {
  readonly pipelineName: string;
  readonly region: string;
  readonly stageName: string;
  /** The stage's latest execution and its status. */
  readonly currentExecutionId?: string;
  readonly currentStatus?: string;
  readonly currentRevision?: Revision;
  /** The execution the stage goes back to. */
  readonly targetExecutionId: string;
  readonly targetRevision?: Revision;
  /** CodeDeploy deployments of the stage to stop, with automatic rollback, first. */
  readonly deploymentsToStop: InFlightDeployment[];
  /** What could not be checked (e.g. stacks in another account). */
  readonly notes: string[];
}

/** What happened to one deployment deployctl set out to stop. */
export interface DeploymentStop {
  readonly deploymentId: string;
  /**
   * `stopped`: StopDeployment accepted, CodeDeploy moves traffic back. `already-ended`: CodeDeploy
   * finished first (it rolled back on its own, failed, or succeeded). `gone`: the deployment no
   * longer exists (its deployment group was deleted, e.g. with a stack whose creation rolled back).
   */
  readonly outcome: 'stopped' | 'already-ended' | 'gone';
  /** StopDeployment's status (`Pending`, `Succeeded`), or the deployment's own when it had ended. */
  readonly status?: string;
  readonly statusMessage?: string;
}

/** What `deployctl rollback` did. */
export interface RollbackResult {
  readonly plan: RollbackPlan;
  readonly stoppedDeployments: DeploymentStop[];
  /** The rollback execution of the stage. */
  readonly rollbackExecutionId: string;
  /**
   * Who started it: deployctl (RollbackStage), or CodePipeline's automatic rollback on failure,
   * which started when the stopped deployment failed the stage; deployctl then starts no second one.
   */
  readonly startedBy: 'deployctl' | 'codepipeline';
  /** The execution that rollback goes back to (CodePipeline's own choice when it started it). */
  readonly rolledBackTo: string;
}

export interface RollbackOptions extends CommonOptions {
  readonly pipelineName: string;
  readonly stageName: string;
  /** Execution to roll back to. @default - the stage's last successful execution before the current one */
  readonly targetExecutionId?: string;
}

/**
 * Works out the rollback target and the deployments to stop, without changing anything. Refuses
 * what CodePipeline would refuse, with the reason: a stage already rolling back, and a target that
 * ran an earlier version of the pipeline's structure.
 */
export async function planRollback(clients: OpsClients, opts: RollbackOptions): Promise<RollbackPlan> {
  const ctx = opsContext(clients, opts);
  const state = await getPipelineState(ctx, opts.pipelineName);
  const stage = requireStage(state, opts.pipelineName, opts.stageName);
  const currentExecutionId = stage.latestExecution?.pipelineExecutionId;
  const currentStatus = stage.latestExecution?.status;
  if (isRollingBack(stage)) {
    const rollback = await getExecution(ctx, opts.pipelineName, currentExecutionId!);
    const to = rollback?.rollbackMetadata?.rollbackTargetPipelineExecutionId;
    throw new OpsError(
      'refused',
      `stage ${opts.stageName} is already rolling back${to ? ` to execution ${to}` : ''} (rollback execution ${currentExecutionId}): nothing to do; follow it with \`deployctl watch --execution ${currentExecutionId}\``,
    );
  }
  const targetExecutionId =
    opts.targetExecutionId ?? (await lastSuccessfulBefore(ctx, opts.pipelineName, opts.stageName, currentExecutionId));
  if (targetExecutionId === currentExecutionId && currentStatus === 'Succeeded') {
    throw new OpsError('refused', `nothing to roll back: stage ${opts.stageName} already runs execution ${targetExecutionId}`);
  }
  const target = await getExecution(ctx, opts.pipelineName, targetExecutionId);
  refuseUnrollbackableTarget(target, state.pipelineVersion);

  let deploymentsToStop: InFlightDeployment[] = [];
  let notes: string[] = [];
  if (currentStatus === 'InProgress') {
    const info = await getPipelineInfo(ctx, opts.pipelineName);
    const targets = info.stages.find((s) => s.name === opts.stageName)?.targets ?? [];
    ({ deployments: deploymentsToStop, notes } = await findInFlightDeployments(ctx, targets, info.account));
  }
  return {
    pipelineName: opts.pipelineName,
    region: opts.region,
    stageName: opts.stageName,
    currentExecutionId,
    currentStatus,
    currentRevision: currentExecutionId ? revisionOf(await getExecution(ctx, opts.pipelineName, currentExecutionId)) : undefined,
    targetExecutionId,
    targetRevision: revisionOf(target),
    deploymentsToStop,
    notes,
  };
}

/**
 * CodePipeline rolls a stage back only to a STANDARD execution started in the pipeline's current
 * structure version (stage-rollback.html, "Considerations for rollbacks"); RollbackStage answers
 * anything else with a bare UnableToRollbackStageException. Say why, and what works instead.
 */
function refuseUnrollbackableTarget(target: PipelineExecution | undefined, currentVersion: number | undefined): void {
  if (!target) return; // Expired from the history, or mistyped: CodePipeline's answer names it.
  const id = target.pipelineExecutionId;
  if (target.executionType === 'ROLLBACK') {
    const to = target.rollbackMetadata?.rollbackTargetPipelineExecutionId;
    throw new OpsError(
      'refused',
      `cannot roll back to execution ${id}: it is itself a rollback${to ? ` (to ${to}); pass --to ${to}` : ''}`,
    );
  }
  if (target.pipelineVersion !== undefined && currentVersion !== undefined && target.pipelineVersion !== currentVersion) {
    const commit = pickSourceRevision(revisionsOf(target))?.revisionId;
    throw new OpsError(
      'refused',
      `stage rollback is not possible: execution ${id} ran pipeline version ${target.pipelineVersion} and the pipeline is now version ${currentVersion}; ` +
        `CodePipeline rolls a stage back only within one pipeline structure version. Deploy the old code forward instead: revert the change${commit ? ` (to commit ${shortSha(commit)})` : ''} and push`,
    );
  }
}

/** The stage runs a rollback execution now. */
function isRollingBack(stage: StageState): boolean {
  return stage.latestExecution?.type === 'ROLLBACK' && ['InProgress', 'Stopping'].includes(stage.latestExecution.status ?? '');
}

async function getExecution(ctx: OpsContext, pipelineName: string, executionId: string): Promise<PipelineExecution | undefined> {
  try {
    const out = await call(ctx, () =>
      ctx.clients.codepipeline.send(new GetPipelineExecutionCommand({ pipelineName, pipelineExecutionId: executionId })),
    );
    return out.pipelineExecution;
  } catch (err) {
    if (err instanceof PipelineExecutionNotFoundException || (err as { name?: string })?.name === 'PipelineExecutionNotFoundException')
      return undefined;
    throw err;
  }
}

function revisionsOf(e: PipelineExecution | undefined): Revision[] {
  return (e?.artifactRevisions ?? []).map((r) => ({
    source: r.name,
    revisionId: r.revisionId,
    summary: commitMessage(r.revisionSummary),
    url: r.revisionUrl,
  }));
}

function revisionOf(e: PipelineExecution | undefined): Revision | undefined {
  return pickSourceRevision(revisionsOf(e));
}

/** The latest STANDARD execution that succeeded in the stage (a rollback execution cannot be a target). */
async function lastSuccessfulBefore(
  ctx: OpsContext,
  pipelineName: string,
  stageName: string,
  currentExecutionId: string | undefined,
): Promise<string> {
  let token: string | undefined;
  for (let page = 0; page < 5; page++) {
    const out = await call(ctx, () =>
      ctx.clients.codepipeline.send(
        new ListPipelineExecutionsCommand({ pipelineName, filter: { succeededInStage: { stageName } }, maxResults: 25, nextToken: token }),
      ),
    );
    const found = (out.pipelineExecutionSummaries ?? []).find(
      (e: PipelineExecutionSummary) => e.pipelineExecutionId !== currentExecutionId && e.executionType !== 'ROLLBACK',
    );
    if (found?.pipelineExecutionId) return found.pipelineExecutionId;
    token = out.nextToken;
    if (!token) break;
  }
  throw new OpsError('refused', `no earlier successful execution of stage ${stageName} to roll back to: pass --to EXECUTION_ID`);
}

export interface ExecuteRollbackOptions extends CommonOptions {
  /** Waits between checks of the stage after stopping a deployment. @default - setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Current time in milliseconds, for the wait's deadline. @default Date.now */
  readonly now?: () => number;
  /** How long to wait for the stage to stop running after its deployments were stopped. @default 15 minutes */
  readonly stageStopTimeoutMs?: number;
}

/**
 * Stops the stage's in-flight CodeDeploy deployments with automatic rollback (traffic goes back
 * to the old version now), waits for the stage to stop running, then rolls the stage back.
 *
 * CodeDeploy and CodePipeline keep acting while the operator does: a deployment may end (rolled
 * back by its alarm, or succeeded) between the plan and the stop, and CodePipeline's own rollback
 * on failure may start once the stopped deployment fails the stage. Each is reported and the stage
 * rollback goes on, or is left to the rollback already running; only a state deployctl cannot make
 * sense of is refused.
 */
export async function executeRollback(clients: OpsClients, plan: RollbackPlan, opts: ExecuteRollbackOptions): Promise<RollbackResult> {
  const ctx = opsContext(clients, opts);
  const stoppedDeployments: DeploymentStop[] = [];
  for (const d of plan.deploymentsToStop) {
    stoppedDeployments.push(await stopDeployment(ctx, d));
  }
  if (stoppedDeployments.length > 0) {
    const automatic = await waitForStageToStop(ctx, plan, opts);
    if (automatic) return { plan, stoppedDeployments, ...automatic };
  }
  let out;
  try {
    out = await call(ctx, () =>
      clients.codepipeline.send(
        new RollbackStageCommand({
          pipelineName: plan.pipelineName,
          stageName: plan.stageName,
          targetPipelineExecutionId: plan.targetExecutionId,
        }),
      ),
    );
  } catch (err) {
    // CodePipeline's automatic rollback may have started between the last look and this call.
    const automatic = ['UnableToRollbackStageException', 'ConflictException'].includes((err as { name?: string })?.name ?? '')
      ? await automaticRollback(ctx, plan)
      : undefined;
    if (automatic) return { plan, stoppedDeployments, ...automatic };
    throw err;
  }
  return {
    plan,
    stoppedDeployments,
    rollbackExecutionId: out.pipelineExecutionId ?? '',
    startedBy: 'deployctl',
    rolledBackTo: plan.targetExecutionId,
  };
}

/** StopDeployment with auto-rollback, or what CodeDeploy did first. */
async function stopDeployment(ctx: OpsContext, d: InFlightDeployment): Promise<DeploymentStop> {
  const codedeploy = ctx.clientsFor(d.region).codedeploy;
  try {
    const out = await call(ctx, () =>
      codedeploy.send(new StopDeploymentCommand({ deploymentId: d.deploymentId, autoRollbackEnabled: true })),
    );
    return { deploymentId: d.deploymentId, outcome: 'stopped', status: out.status, statusMessage: out.statusMessage };
  } catch (err) {
    const name = (err as { name?: string })?.name;
    if (name === 'DeploymentDoesNotExistException') {
      return {
        deploymentId: d.deploymentId,
        outcome: 'gone',
        statusMessage:
          'no longer exists: its deployment group was deleted (e.g. with a stack whose creation rolled back); nothing left to stop',
      };
    }
    if (name !== 'DeploymentAlreadyCompletedException') throw err;
  }
  let info: DeploymentInfo | undefined;
  try {
    info = (await call(ctx, () => codedeploy.send(new GetDeploymentCommand({ deploymentId: d.deploymentId })))).deploymentInfo;
  } catch (err) {
    if ((err as { name?: string })?.name !== 'DeploymentDoesNotExistException') throw err;
    return { deploymentId: d.deploymentId, outcome: 'gone', statusMessage: 'completed, and no longer exists' };
  }
  const status = info?.status;
  if (!status || (IN_FLIGHT_STATUSES as string[]).includes(status)) {
    // StopDeployment says it ended, GetDeployment says it has not: the two views have not met yet.
    throw new OpsError(
      'refused',
      `CodeDeploy says deployment ${d.deploymentId} has completed but reports it ${status ?? 'without a status'}: nothing was rolled back yet; run the rollback again in a minute`,
    );
  }
  return { deploymentId: d.deploymentId, outcome: 'already-ended', status, statusMessage: describeEnded(info!) };
}

/** Why a deployment ended, for the operator: the alarm or error CodeDeploy reports, and where traffic is. */
export function describeEnded(info: DeploymentInfo): string {
  const err = info.errorInformation;
  const alarms = err?.message
    ?.match(/Activated alarms?:\s*([^\n]+)/i)?.[1]
    ?.replace(/[<>]/g, '')
    .trim()
    .replace(/\.$/, '');
  const why = alarms
    ? `alarm ${alarms} went into ALARM`
    : err?.code || err?.message
      ? `${err.code ?? 'error'}: ${(err.message ?? '').split('\n')[0]}`
      : undefined;
  if (info.status === 'Succeeded')
    return 'it had succeeded: the new version serves all traffic until the stage rollback deploys the old one';
  const by =
    info.status === 'Stopped' && !alarms ? 'stopped' : `${info.status === 'Stopped' ? 'stopped' : 'failed'}${why ? ` (${why})` : ''}`;
  const traffic =
    info.rollbackInfo?.rollbackMessage ??
    (info.rollbackInfo || info.status === 'Stopped' || err ? 'traffic is back on the previous version' : undefined);
  return `CodeDeploy had already ${by}${traffic ? `; ${traffic.replace(/\.$/, '')}` : ''}`;
}

/**
 * Waits until the stage no longer runs its failed execution. Returns the rollback CodePipeline
 * started on its own (a production stage rolls back on failure), or undefined when the stage ended
 * without one and deployctl should start it.
 */
async function waitForStageToStop(
  ctx: OpsContext,
  plan: RollbackPlan,
  opts: ExecuteRollbackOptions,
): Promise<Pick<RollbackResult, 'rollbackExecutionId' | 'startedBy' | 'rolledBackTo'> | undefined> {
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const now = opts.now ?? Date.now;
  const deadline = now() + (opts.stageStopTimeoutMs ?? 15 * 60_000);
  for (;;) {
    const stage = requireStage(await getPipelineState(ctx, plan.pipelineName), plan.pipelineName, plan.stageName);
    if (stage.latestExecution?.type === 'ROLLBACK' && stage.latestExecution.pipelineExecutionId !== plan.currentExecutionId) {
      return automaticRollback(ctx, plan, stage);
    }
    const status = stage.latestExecution?.status;
    if (status !== 'InProgress' && status !== 'Stopping') return undefined;
    if (now() >= deadline) {
      throw new OpsError(
        'refused',
        `stage ${plan.stageName} is still ${status} after its deployments were stopped: run the rollback again once it has finished`,
      );
    }
    await sleep(15_000);
  }
}

/** The rollback execution the stage runs or ran since the plan was made, if CodePipeline started one. */
async function automaticRollback(
  ctx: OpsContext,
  plan: RollbackPlan,
  known?: StageState,
): Promise<Pick<RollbackResult, 'rollbackExecutionId' | 'startedBy' | 'rolledBackTo'> | undefined> {
  const stage = known ?? requireStage(await getPipelineState(ctx, plan.pipelineName), plan.pipelineName, plan.stageName);
  const id = stage.latestExecution?.pipelineExecutionId;
  if (stage.latestExecution?.type !== 'ROLLBACK' || !id || id === plan.currentExecutionId) return undefined;
  const rollback = await getExecution(ctx, plan.pipelineName, id);
  return {
    rollbackExecutionId: id,
    startedBy: 'codepipeline',
    rolledBackTo: rollback?.rollbackMetadata?.rollbackTargetPipelineExecutionId ?? 'the last successful execution',
  };
}

function describeRevision(r: Revision | undefined): string {
  if (!r) return '';
  return ` (commit ${shortSha(r.revisionId)}${r.summary ? ` "${r.summary}"` : ''})`;
}

/** The question asked before rolling back. */
export function describeRollbackPlan(p: RollbackPlan): string {
  const lines = [
    `Roll back stage ${p.stageName} of ${p.pipelineName} (${p.region})`,
    `  from execution ${p.currentExecutionId ?? '-'} [${p.currentStatus ?? 'never ran'}]${describeRevision(p.currentRevision)}`,
    `  to   execution ${p.targetExecutionId}${describeRevision(p.targetRevision)}`,
  ];
  for (const d of p.deploymentsToStop) {
    lines.push(
      `  stopping CodeDeploy deployment ${d.deploymentId} (${d.applicationName}/${d.deploymentGroupName}) first, with automatic rollback`,
    );
  }
  for (const n of p.notes) lines.push(`  note: ${n}`);
  return lines.join('\n');
}

export function formatRollback(r: RollbackResult): string {
  const lines = r.stoppedDeployments.map((d) => {
    if (d.outcome === 'stopped')
      return `Stopped CodeDeploy deployment ${d.deploymentId}: ${d.status ?? 'Pending'}${d.statusMessage ? ` (${d.statusMessage})` : ''}`;
    if (d.outcome === 'gone') return `CodeDeploy deployment ${d.deploymentId} ${d.statusMessage}`;
    return `CodeDeploy deployment ${d.deploymentId} had already ended before it could be stopped: ${d.status}. ${d.statusMessage}.`;
  });
  if (r.startedBy === 'codepipeline') {
    lines.push(
      `CodePipeline is already rolling back stage ${r.plan.stageName} to execution ${r.rolledBackTo} (its automatic rollback on failure): rollback execution ${r.rollbackExecutionId}; deployctl started no second one.`,
    );
  } else {
    lines.push(
      `Rolling back stage ${r.plan.stageName} to execution ${r.plan.targetExecutionId}${describeRevision(r.plan.targetRevision)}: rollback execution ${r.rollbackExecutionId}.`,
    );
  }
  lines.push(`Follow it with: deployctl status --pipeline ${r.plan.pipelineName}`);
  return lines.join('\n');
}
