import { OpsClients } from '../runtime/clients';
import { CommonOptions, opsContext, shortSha } from '../runtime/context';
import { findInFlightDeployments, formatTraffic, InFlightDeployment } from '../runtime/deployments';
import { getExecutionRevisions, getPipelineInfo, getPipelineState, Revision } from '../runtime/pipeline';
import { oneLine, truncate } from '../runtime/text';

/** One stage's latest state. */
export interface StageStatus {
  readonly name: string;
  /** Latest execution status (`Succeeded`, `InProgress`, `Failed`, ...), or `-` when it never ran. */
  readonly status: string;
  readonly executionId?: string;
  /** The commit the stage is running or last ran. */
  readonly revision?: Revision;
  /** Actions of the stage whose latest execution failed, with their error. */
  readonly failedActions: { readonly name: string; readonly error?: string }[];
  /** Whether the transition into the stage is disabled, and why. */
  readonly inboundDisabled?: string;
}

/** What `deployctl status` shows. */
export interface PipelineStatus {
  readonly pipelineName: string;
  readonly region: string;
  readonly account?: string;
  readonly stages: StageStatus[];
  /** Unfinished CodeDeploy deployments of the running stages. */
  readonly deployments: InFlightDeployment[];
  /** What could not be looked at (e.g. another account's stacks), and how to see it. */
  readonly notes: string[];
}

/** Reads every stage's latest status, its commit, and the CodeDeploy deployments in flight. */
export async function getPipelineStatus(clients: OpsClients, opts: CommonOptions & { pipelineName: string }): Promise<PipelineStatus> {
  const ctx = opsContext(clients, opts);
  const state = await getPipelineState(ctx, opts.pipelineName);
  const info = await getPipelineInfo(ctx, opts.pipelineName);

  const revisions = new Map<string, Revision | undefined>();
  const stages: StageStatus[] = [];
  for (const s of state.stageStates ?? []) {
    const executionId = s.latestExecution?.pipelineExecutionId;
    if (executionId && !revisions.has(executionId)) {
      revisions.set(executionId, pickSourceRevision(await getExecutionRevisions(ctx, opts.pipelineName, executionId)));
    }
    const transition = s.inboundTransitionState;
    stages.push({
      name: s.stageName ?? '',
      status: s.latestExecution?.status ?? '-',
      executionId,
      revision: executionId ? revisions.get(executionId) : undefined,
      failedActions: (s.actionStates ?? [])
        .filter((a) => a.latestExecution?.status === 'Failed')
        .map((a) => ({ name: a.actionName ?? '', error: a.latestExecution?.errorDetails?.message ?? a.latestExecution?.summary })),
      inboundDisabled: transition && transition.enabled === false ? (transition.disabledReason ?? 'disabled') : undefined,
    });
  }

  const running = new Set(stages.filter((s) => s.status === 'InProgress').map((s) => s.name));
  const targets = info.stages.filter((s) => running.has(s.name)).flatMap((s) => s.targets);
  const inFlight = targets.length > 0 ? await findInFlightDeployments(ctx, targets, info.account) : { deployments: [], notes: [] };
  return {
    pipelineName: opts.pipelineName,
    region: opts.region,
    account: info.account,
    stages,
    deployments: inFlight.deployments,
    notes: inFlight.notes,
  };
}

/** The revision that names a commit; CDK Pipelines has one source, so the first that has an id. */
export function pickSourceRevision(revisions: Revision[]): Revision | undefined {
  return revisions.find((r) => r.revisionId) ?? revisions[0];
}

/** Compact, aligned text for a terminal. */
export function formatStatus(s: PipelineStatus): string {
  const lines = [`Pipeline ${s.pipelineName} (${s.account ? `${s.account}/` : ''}${s.region})`];
  const width = Math.max(...s.stages.map((st) => st.name.length), 5);
  for (const st of s.stages) {
    const rev = st.revision
      ? `${shortSha(st.revision.revisionId)}${st.revision.summary ? ` "${truncate(st.revision.summary, 50)}"` : ''}`
      : '';
    const exec = st.executionId ? `exec ${st.executionId.slice(0, 8)}` : '';
    lines.push(`  ${st.name.padEnd(width)}  ${st.status.padEnd(10)}  ${[rev, exec].filter(Boolean).join('  ')}`.trimEnd());
    if (st.inboundDisabled) lines.push(`  ${''.padEnd(width)}  transition disabled: ${st.inboundDisabled}`);
    for (const a of st.failedActions) {
      lines.push(`  ${''.padEnd(width)}  x ${a.name}: ${truncate(oneLine(a.error ?? 'failed'), 140)}`);
    }
    for (const d of s.deployments.filter((dep) => dep.stageName === st.name)) {
      const where = d.stackName ? ` (stack ${d.stackName}, ${d.region})` : ` (${d.region})`;
      const lifecycle = d.lifecycleEvent ? `, lifecycle ${d.lifecycleEvent}` : '';
      lines.push(
        `  ${''.padEnd(width)}  CodeDeploy ${d.deploymentId} ${d.applicationName}/${d.deploymentGroupName}: ${d.status}${lifecycle}${where}`,
      );
      for (const t of d.traffic) lines.push(`  ${''.padEnd(width)}    ${formatTraffic(t)}`);
    }
  }
  for (const n of s.notes) lines.push(`  note: ${n}`);
  return lines.join('\n');
}
