import {
  ActionDeclaration,
  ActionExecutionDetail,
  ListActionExecutionsCommand,
  GetPipelineCommand,
  GetPipelineExecutionCommand,
  GetPipelineStateCommand,
  GetPipelineStateOutput,
  PipelineExecutionNotFoundException,
  StageState,
} from '@aws-sdk/client-codepipeline';
import { arnAccount, call, collectPages, OpsContext, OpsError } from './context';

/** Something a stage deploys that may run a CodeDeploy deployment. */
export interface DeployTarget {
  /** Stage and action that deploy it. */
  readonly stageName: string;
  readonly actionName: string;
  /** A CloudFormation stack (CDK Pipelines) or a CodeDeploy deployment group (CodeDeploy actions). */
  readonly kind: 'stack' | 'deployment-group';
  readonly stackName?: string;
  readonly applicationName?: string;
  readonly deploymentGroupName?: string;
  /** Where it lives. */
  readonly account: string;
  readonly region: string;
}

/** The declaration facts the commands need. */
export interface PipelineInfo {
  readonly name: string;
  /** Account that owns the pipeline (from its ARN). */
  readonly account?: string;
  readonly region: string;
  readonly stages: { readonly name: string; readonly targets: DeployTarget[] }[];
}

/** A source revision (commit) an execution runs. */
export interface Revision {
  /** Source action or artifact name. */
  readonly source?: string;
  /** Commit id for git sources. */
  readonly revisionId?: string;
  /** First line of the commit message. */
  readonly summary?: string;
  readonly url?: string;
}

/** Reads the pipeline declaration: stages and what each one deploys, where. */
export async function getPipelineInfo(ctx: OpsContext, pipelineName: string): Promise<PipelineInfo> {
  const out = await call(ctx, () => ctx.clients.codepipeline.send(new GetPipelineCommand({ name: pipelineName })));
  const account = arnAccount(out.metadata?.pipelineArn);
  const stages = (out.pipeline?.stages ?? []).map((stage) => ({
    name: stage.name ?? '',
    targets: dedupe((stage.actions ?? []).flatMap((a) => deployTarget(stage.name ?? '', a, account, ctx.region) ?? [])),
  }));
  return { name: pipelineName, account, region: ctx.region, stages };
}

/**
 * CDK Pipelines deploys a stack with two CloudFormation actions (Prepare, Deploy) whose action
 * role is the target account's deploy role; a CodeDeploy action names its group directly.
 */
export function deployTarget(
  stageName: string,
  action: ActionDeclaration,
  pipelineAccount: string | undefined,
  pipelineRegion: string,
): DeployTarget | undefined {
  const config = action.configuration ?? {};
  const provider = action.actionTypeId?.provider;
  const account = arnAccount(action.roleArn) ?? arnAccount(config.RoleArn) ?? pipelineAccount ?? 'unknown';
  const region = action.region ?? pipelineRegion;
  const base = { stageName, actionName: action.name ?? '', account, region };
  if (provider === 'CloudFormation' && config.StackName) {
    return { ...base, kind: 'stack', stackName: config.StackName };
  }
  if ((provider === 'CodeDeploy' || provider === 'CodeDeployToECS') && config.ApplicationName && config.DeploymentGroupName) {
    return { ...base, kind: 'deployment-group', applicationName: config.ApplicationName, deploymentGroupName: config.DeploymentGroupName };
  }
  return undefined;
}

function dedupe(targets: DeployTarget[]): DeployTarget[] {
  const seen = new Set<string>();
  return targets.filter((t) => {
    const key = [t.kind, t.account, t.region, t.stackName, t.applicationName, t.deploymentGroupName].join('|');
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

export async function getPipelineState(ctx: OpsContext, pipelineName: string): Promise<GetPipelineStateOutput> {
  return call(ctx, () => ctx.clients.codepipeline.send(new GetPipelineStateCommand({ name: pipelineName })));
}

/** The stage's state, or an error that lists the stages there are. */
export function requireStage(state: GetPipelineStateOutput, pipelineName: string, stageName: string): StageState {
  const stages = state.stageStates ?? [];
  const stage = stages.find((s) => s.stageName === stageName);
  if (!stage) {
    const names = stages.map((s) => s.stageName).join(', ');
    throw new OpsError('stage-not-found', `stage "${stageName}" is not in pipeline ${pipelineName}: use one of ${names || '(none)'}`);
  }
  return stage;
}

/** The source revisions of an execution; empty when the execution has expired from history. */
export async function getExecutionRevisions(ctx: OpsContext, pipelineName: string, executionId: string): Promise<Revision[]> {
  try {
    const out = await call(ctx, () =>
      ctx.clients.codepipeline.send(new GetPipelineExecutionCommand({ pipelineName, pipelineExecutionId: executionId })),
    );
    return (out.pipelineExecution?.artifactRevisions ?? []).map((r) => ({
      source: r.name,
      revisionId: r.revisionId,
      summary: commitMessage(r.revisionSummary),
      url: r.revisionUrl,
    }));
  } catch (err) {
    if (err instanceof PipelineExecutionNotFoundException) return [];
    throw err;
  }
}

/**
 * A CodeConnections source writes the summary as JSON (`{"ProviderType":"GitHub","CommitMessage":"..."}`);
 * other sources write plain text. Either way, keep the first line.
 */
export function commitMessage(summary: string | undefined): string | undefined {
  if (!summary) return undefined;
  let text = summary;
  if (summary.trimStart().startsWith('{')) {
    try {
      const parsed = JSON.parse(summary) as { CommitMessage?: unknown };
      if (typeof parsed.CommitMessage === 'string') text = parsed.CommitMessage;
    } catch {
      // Not JSON after all: show it as written.
    }
  }
  return text.split('\n')[0].trim();
}

/** Every action execution of one pipeline execution. */
export function listActionExecutions(ctx: OpsContext, pipelineName: string, executionId: string): Promise<ActionExecutionDetail[]> {
  return collectPages(ctx, async (token) => {
    const out = await ctx.clients.codepipeline.send(
      new ListActionExecutionsCommand({ pipelineName, filter: { pipelineExecutionId: executionId }, nextToken: token }),
    );
    return { items: out.actionExecutionDetails, next: out.nextToken };
  });
}
