/**
 * Diagnosis of a failed pipeline execution, in three steps: gather.ts reads what AWS knows (plain
 * facts), rules.ts classifies them through an ordered table of rules, format.ts writes the result
 * for people. Shared by deployctl (`diagnose`, `watch`) and the pipeline-notifier Lambda.
 */
import type { PipelineExecutionSummary } from '@aws-sdk/client-codepipeline';
import type { OpsClients } from '../clients';
import { rawError } from './format';
import { DiagnoseOptions, gatherExecutionFacts } from './gather';
import { classifyFailure } from './rules';
import type { Diagnosis } from './types';

export { firstFailingEvent } from './gather';
export type { DiagnoseOptions, ExecutionFacts, FailedActionFacts } from './gather';
export { formatDiagnosis, rawError } from './format';
export { classifyFailure, CLASSIFICATION_RULES, failureFacts, matchingRule } from './rules';
export type { ClassificationRule, FailureFacts, Verdict } from './rules';
export type { Diagnosis, FailureCause, FailureEvidence } from './types';

/**
 * Finds the latest failed execution (or explains the given one): the failed stage and action, the
 * error, and a classified cause with a fix. Reads only; never throws on what it cannot enrich
 * (another account's stack, an expired build): that goes into the summary instead.
 */
export async function diagnosePipeline(clients: OpsClients, opts: DiagnoseOptions): Promise<Diagnosis> {
  const { pipelineName } = opts;
  const facts = await gatherExecutionFacts(clients, opts);
  if (!facts.failed) {
    return { pipelineName, executionId: facts.executionId, found: false, cause: 'none', summary: facts.reason, fix: '', links: [] };
  }
  const { executionId, statusSummary, links, rolledBack, action } = facts;
  if (!action) {
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

  const { evidence, alsoFailed } = action;
  const verdict = classifyFailure(evidence);
  const where = `${action.stageName}/${action.actionName}`;
  const notes = [
    ...(evidence.notes ?? []),
    ...(alsoFailed.length > 0 ? [`Also failed: ${alsoFailed.join(', ')}.`] : []),
    ...(rolledBack ? [rollbackNote(rolledBack)] : []),
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

function rollbackNote(rollback: PipelineExecutionSummary): string {
  const target = rollback.rollbackMetadata?.rollbackTargetPipelineExecutionId;
  return `Since then, rollback execution ${rollback.pipelineExecutionId} succeeded${target ? ` (back to execution ${target})` : ''}.`;
}
