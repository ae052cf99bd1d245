import { StopDeploymentCommand } from '@aws-sdk/client-codedeploy';
import { ListPipelineExecutionsCommand, PipelineExecutionSummary, RollbackStageCommand } from '@aws-sdk/client-codepipeline';
import { OpsClients } from './clients';
import { call, CommonOptions, OpsContext, OpsError, opsContext, shortSha } from './context';
import { findInFlightDeployments, InFlightDeployment } from './deployments';
import { getExecutionRevisions, getPipelineInfo, getPipelineState, requireStage, Revision } from './pipeline';
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

/** What `deployctl rollback` did. */
export interface RollbackResult {
  readonly plan: RollbackPlan;
  readonly stoppedDeployments: { readonly deploymentId: string; readonly status?: string; readonly statusMessage?: string }[];
  /** The execution RollbackStage started. */
  readonly rollbackExecutionId: string;
}

export interface RollbackOptions extends CommonOptions {
  readonly pipelineName: string;
  readonly stageName: string;
  /** Execution to roll back to. @default - the stage's last successful execution before the current one */
  readonly targetExecutionId?: string;
}

/** Works out the rollback target and the deployments to stop, without changing anything. */
export async function planRollback(clients: OpsClients, opts: RollbackOptions): Promise<RollbackPlan> {
  const ctx = opsContext(clients, opts);
  const state = await getPipelineState(ctx, opts.pipelineName);
  const stage = requireStage(state, opts.pipelineName, opts.stageName);
  const currentExecutionId = stage.latestExecution?.pipelineExecutionId;
  const currentStatus = stage.latestExecution?.status;
  const targetExecutionId = opts.targetExecutionId ?? (await lastSuccessfulBefore(ctx, opts.pipelineName, opts.stageName, currentExecutionId));
  if (targetExecutionId === currentExecutionId && currentStatus === 'Succeeded') {
    throw new OpsError('refused', `nothing to roll back: stage ${opts.stageName} already runs execution ${targetExecutionId}`);
  }

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
    currentRevision: currentExecutionId ? pickSourceRevision(await getExecutionRevisions(ctx, opts.pipelineName, currentExecutionId)) : undefined,
    targetExecutionId,
    targetRevision: pickSourceRevision(await getExecutionRevisions(ctx, opts.pipelineName, targetExecutionId)),
    deploymentsToStop,
    notes,
  };
}

async function lastSuccessfulBefore(ctx: OpsContext, pipelineName: string, stageName: string, currentExecutionId: string | undefined): Promise<string> {
  let token: string | undefined;
  for (let page = 0; page < 5; page++) {
    const out = await call(ctx, () =>
      ctx.clients.codepipeline.send(
        new ListPipelineExecutionsCommand({ pipelineName, filter: { succeededInStage: { stageName } }, maxResults: 25, nextToken: token }),
      ),
    );
    const found = (out.pipelineExecutionSummaries ?? []).find((e: PipelineExecutionSummary) => e.pipelineExecutionId !== currentExecutionId);
    if (found?.pipelineExecutionId) return found.pipelineExecutionId;
    token = out.nextToken;
    if (!token) break;
  }
  throw new OpsError('refused', `no earlier successful execution of stage ${stageName} to roll back to: pass --to EXECUTION_ID`);
}

export interface ExecuteRollbackOptions extends CommonOptions {
  /** Waits between checks of the stage after stopping a deployment. @default - setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
  /** How long to wait for the stage to stop running after its deployments were stopped. @default 15 minutes */
  readonly stageStopTimeoutMs?: number;
}

/**
 * Stops the stage's in-flight CodeDeploy deployments with automatic rollback (traffic goes back
 * to the old version now), waits for the stage to stop running, then rolls the stage back.
 */
export async function executeRollback(clients: OpsClients, plan: RollbackPlan, opts: ExecuteRollbackOptions): Promise<RollbackResult> {
  const ctx = opsContext(clients, opts);
  const stoppedDeployments: RollbackResult['stoppedDeployments'][number][] = [];
  for (const d of plan.deploymentsToStop) {
    const out = await call(ctx, () =>
      ctx.clientsFor(d.region).codedeploy.send(new StopDeploymentCommand({ deploymentId: d.deploymentId, autoRollbackEnabled: true })),
    );
    stoppedDeployments.push({ deploymentId: d.deploymentId, status: out.status, statusMessage: out.statusMessage });
  }
  if (stoppedDeployments.length > 0) {
    await waitForStageToStop(ctx, plan, opts);
  }
  const out = await call(ctx, () =>
    clients.codepipeline.send(
      new RollbackStageCommand({ pipelineName: plan.pipelineName, stageName: plan.stageName, targetPipelineExecutionId: plan.targetExecutionId }),
    ),
  );
  return { plan, stoppedDeployments, rollbackExecutionId: out.pipelineExecutionId ?? '' };
}

async function waitForStageToStop(ctx: OpsContext, plan: RollbackPlan, opts: ExecuteRollbackOptions): Promise<void> {
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const deadline = Date.now() + (opts.stageStopTimeoutMs ?? 15 * 60_000);
  for (;;) {
    const stage = requireStage(await getPipelineState(ctx, plan.pipelineName), plan.pipelineName, plan.stageName);
    const status = stage.latestExecution?.status;
    if (status !== 'InProgress' && status !== 'Stopping') return;
    if (Date.now() >= deadline) {
      throw new OpsError(
        'refused',
        `stage ${plan.stageName} is still ${status} after its deployments were stopped: run the rollback again once it has finished`,
      );
    }
    await sleep(15_000);
  }
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
    lines.push(`  stopping CodeDeploy deployment ${d.deploymentId} (${d.applicationName}/${d.deploymentGroupName}) first, with automatic rollback`);
  }
  for (const n of p.notes) lines.push(`  note: ${n}`);
  return lines.join('\n');
}

export function formatRollback(r: RollbackResult): string {
  const lines = r.stoppedDeployments.map((d) => `Stopped CodeDeploy deployment ${d.deploymentId}: ${d.status ?? 'Pending'}${d.statusMessage ? ` (${d.statusMessage})` : ''}`);
  lines.push(`Rolling back stage ${r.plan.stageName} to execution ${r.plan.targetExecutionId}${describeRevision(r.plan.targetRevision)}: rollback execution ${r.rollbackExecutionId}.`);
  lines.push(`Follow it with: deployctl status --pipeline ${r.plan.pipelineName}`);
  return lines.join('\n');
}
