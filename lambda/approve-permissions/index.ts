import type { Logger } from '@aws-lambda-powertools/logger';
import { CodePipelineClient, GetPipelineStateCommand, PutApprovalResultCommand } from '@aws-sdk/client-codepipeline';
import { errorLine } from '../../lib/runtime/errors';
import { BOUNDED_HTTP } from '../../lib/runtime/http';
import { retry, RetryOptions } from '../../lib/runtime/retry';
import { createLogger } from '../shared/logger';

/**
 * Approves a wave's permission-broadening confirmation when the check found no security-impacting
 * change: the check (CodeBuild, `cdk diff --security-only`) invokes this function asynchronously,
 * then its action ends and the manual approval action starts; this function waits for that
 * approval to be pending and approves it. A broadening change never reaches here: a person decides.
 */

/** What the check sends. */
export interface ApproveEvent {
  readonly PipelineName: string;
  readonly StageName: string;
  readonly ActionName: string;
}

export interface ApproveDeps {
  readonly codepipeline: CodePipelineClient;
  readonly logger: Logger;
  readonly sleep: (ms: number) => Promise<void>;
  /** How long to wait for the approval to become pending. @default 240000 */
  readonly waitMs?: number;
  /** @default 5000 */
  readonly pollMs?: number;
  readonly retry?: RetryOptions;
}

/** What happened; thrown errors fail the invocation (Lambda retries an async event twice). */
export type ApproveResult = { readonly approved: true; readonly token: string } | { readonly approved: false; readonly reason: string };

export async function approveWhenPending(event: unknown, deps: ApproveDeps): Promise<ApproveResult> {
  const e = event as Partial<ApproveEvent> | null;
  if (typeof e?.PipelineName !== 'string' || typeof e.StageName !== 'string' || typeof e.ActionName !== 'string') {
    // Fail the invocation loudly: the approval then waits for a person instead of passing silently.
    throw new Error(`malformed event: expected { PipelineName, StageName, ActionName } strings, got ${JSON.stringify(event)}`);
  }
  const { PipelineName: pipelineName, StageName: stageName, ActionName: actionName } = e as ApproveEvent;
  const waitMs = deps.waitMs ?? 240_000;
  const pollMs = deps.pollMs ?? 5_000;
  for (let waited = 0; ; waited += pollMs) {
    const state = await retry(() => deps.codepipeline.send(new GetPipelineStateCommand({ name: pipelineName })), deps.retry);
    const action = state.stageStates?.find((s) => s.stageName === stageName)?.actionStates?.find((a) => a.actionName === actionName);
    const token = action?.latestExecution?.status === 'InProgress' ? action.latestExecution.token : undefined;
    if (token) {
      await retry(
        () =>
          deps.codepipeline.send(
            new PutApprovalResultCommand({
              pipelineName,
              stageName,
              actionName,
              token,
              result: { status: 'Approved', summary: 'No security-impacting changes (cdk diff --security-only): approved automatically.' },
            }),
          ),
        deps.retry,
      );
      deps.logger.info('Approved: no permission broadening', { pipelineName, stageName, actionName });
      return { approved: true, token };
    }
    if (waited >= waitMs) {
      const reason = `approval ${stageName}/${actionName} of ${pipelineName} was not pending after ${Math.round(waitMs / 1000)} s (status ${action?.latestExecution?.status ?? 'none'}): left for a person`;
      deps.logger.warn('Not approved', { reason });
      return { approved: false, reason };
    }
    await deps.sleep(pollMs);
  }
}

const codepipeline = new CodePipelineClient({ requestHandler: BOUNDED_HTTP });
const logger = createLogger('approve-permissions');

export const handler = async (event: ApproveEvent): Promise<ApproveResult> => {
  try {
    return await approveWhenPending(event, { codepipeline, logger, sleep: (ms) => new Promise((r) => setTimeout(r, ms)) });
  } catch (err) {
    logger.error('Could not approve', { error: errorLine(err) });
    throw err;
  }
};
