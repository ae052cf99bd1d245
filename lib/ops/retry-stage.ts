import { RetryStageExecutionCommand } from '@aws-sdk/client-codepipeline';
import { OpsClients } from '../runtime/clients';
import { call, CommonOptions, OpsError, opsContext } from '../runtime/context';
import { getPipelineState, requireStage } from '../runtime/pipeline';

/** What `deployctl retry` did. */
export interface RetryResult {
  readonly pipelineName: string;
  readonly stageName: string;
  /** The execution whose failed actions run again. */
  readonly pipelineExecutionId: string;
  readonly retriedActions: string[];
}

/**
 * Retries the failed actions of a failed stage (the named one, else the one that failed).
 * Refuses, with the reason, when there is nothing to retry.
 */
export async function retryFailedStage(
  clients: OpsClients,
  opts: CommonOptions & { pipelineName: string; stageName?: string },
): Promise<RetryResult> {
  const ctx = opsContext(clients, opts);
  const state = await getPipelineState(ctx, opts.pipelineName);
  let stage;
  if (opts.stageName) {
    stage = requireStage(state, opts.pipelineName, opts.stageName);
    const status = stage.latestExecution?.status;
    if (status !== 'Failed') {
      throw new OpsError('refused', `nothing to retry: stage ${opts.stageName} has not failed (latest status: ${status ?? 'never ran'})`);
    }
  } else {
    const failed = (state.stageStates ?? []).filter((s) => s.latestExecution?.status === 'Failed');
    if (failed.length === 0) {
      const summary = (state.stageStates ?? []).map((s) => `${s.stageName} ${s.latestExecution?.status ?? '-'}`).join(', ');
      throw new OpsError('refused', `nothing to retry: no stage of ${opts.pipelineName} has failed (${summary})`);
    }
    stage = failed[0];
  }
  const stageName = stage.stageName!;
  const pipelineExecutionId = stage.latestExecution!.pipelineExecutionId!;
  const out = await call(ctx, () =>
    clients.codepipeline.send(
      new RetryStageExecutionCommand({ pipelineName: opts.pipelineName, stageName, pipelineExecutionId, retryMode: 'FAILED_ACTIONS' }),
    ),
  );
  return {
    pipelineName: opts.pipelineName,
    stageName,
    pipelineExecutionId: out.pipelineExecutionId ?? pipelineExecutionId,
    retriedActions: (stage.actionStates ?? []).filter((a) => a.latestExecution?.status === 'Failed').map((a) => a.actionName ?? ''),
  };
}

export function formatRetry(r: RetryResult): string {
  const actions = r.retriedActions.length > 0 ? ` (${r.retriedActions.join(', ')})` : '';
  return `Retrying the failed actions of stage ${r.stageName}${actions} in execution ${r.pipelineExecutionId}.\nFollow it with: deployctl status --pipeline ${r.pipelineName}`;
}
