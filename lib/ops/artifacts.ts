import { ListPipelineExecutionsCommand, PipelineExecutionSummary } from '@aws-sdk/client-codepipeline';
import { OpsClients } from '../runtime/clients';
import { call, CommonOptions, OpsError, opsContext } from '../runtime/context';
import { commitMessage, listActionExecutions } from '../runtime/pipeline';

/** Where the build outputs of one commit are. */
export interface CommitArtifacts {
  readonly pipelineName: string;
  /** The full commit id. */
  readonly commit: string;
  readonly commitMessage?: string;
  /** The newest execution that ran the commit, and its status. */
  readonly executionId: string;
  readonly status?: string;
  /** Other executions of the same commit (retries, re-runs), newest first. */
  readonly otherExecutionIds: string[];
  /** Every output artifact the execution's actions wrote. */
  readonly artifacts: { readonly stageName?: string; readonly actionName?: string; readonly name?: string; readonly s3Uri: string }[];
  /**
   * The ECS services' images the release ran, from the Images stage's output variables: tagged by the
   * content hash of their build context, so an unchanged service reuses the image an earlier commit
   * built (`built: false`); the image's `org.opencontainers.image.revision` label names that commit.
   */
  readonly images: { readonly service: string; readonly repository?: string; readonly tag?: string; readonly built: boolean }[];
}

const MAX_PAGES = 10;

/** Finds the execution that built `commit` (full or abbreviated, at least 7 hex digits) and its artifacts. */
export async function findCommitArtifacts(
  clients: OpsClients,
  opts: CommonOptions & { pipelineName: string; commit: string },
): Promise<CommitArtifacts> {
  const ctx = opsContext(clients, opts);
  const commit = opts.commit.toLowerCase();
  if (!/^[0-9a-f]{7,40}$/.test(commit)) {
    throw new OpsError('input', `--commit ${JSON.stringify(opts.commit)} is not a commit id: use at least 7 hex digits, e.g. 3f9c2e1`);
  }
  const matches: { summary: PipelineExecutionSummary; revisionId: string; message?: string }[] = [];
  let token: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const out = await call(ctx, () =>
      clients.codepipeline.send(new ListPipelineExecutionsCommand({ pipelineName: opts.pipelineName, maxResults: 100, nextToken: token })),
    );
    for (const summary of out.pipelineExecutionSummaries ?? []) {
      const rev = summary.sourceRevisions?.find((r) => r.revisionId?.toLowerCase().startsWith(commit));
      if (rev) matches.push({ summary, revisionId: rev.revisionId!, message: commitMessage(rev.revisionSummary) });
    }
    token = out.nextToken;
    if (!token) break;
  }
  if (matches.length === 0) {
    throw new OpsError(
      'not-found',
      `no execution of ${opts.pipelineName} ran commit ${opts.commit} (searched the last ${MAX_PAGES * 100} executions; CodePipeline keeps 12 months of history)`,
    );
  }
  const distinct = new Set(matches.map((m) => m.revisionId));
  if (distinct.size > 1) {
    throw new OpsError('input', `--commit ${opts.commit} is ambiguous (${[...distinct].join(', ')}): give more digits`);
  }
  // Prefer the newest execution that succeeded: its artifacts are the ones that were deployed.
  const best = matches.find((m) => m.summary.status === 'Succeeded') ?? matches[0];
  const executionId = best.summary.pipelineExecutionId!;
  const details = await listActionExecutions(ctx, opts.pipelineName, executionId);
  const artifacts = details.flatMap((d) =>
    (d.output?.outputArtifacts ?? [])
      .filter((a) => a.s3location?.bucket && a.s3location.key)
      .map((a) => ({
        stageName: d.stageName,
        actionName: d.actionName,
        name: a.name,
        s3Uri: `s3://${a.s3location!.bucket}/${a.s3location!.key}`,
      })),
  );
  const images = details
    .filter((d) => d.actionName?.startsWith('Image-') && d.output?.outputVariables?.IMAGE_TAG)
    .map((d) => ({
      service: d.actionName!.slice('Image-'.length),
      repository: d.output!.outputVariables!.IMAGE_REPOSITORY,
      tag: d.output!.outputVariables!.IMAGE_TAG,
      built: d.output!.outputVariables!.IMAGE_BUILT === 'true',
    }));
  return {
    pipelineName: opts.pipelineName,
    commit: best.revisionId,
    commitMessage: best.message,
    executionId,
    status: best.summary.status,
    otherExecutionIds: matches.map((m) => m.summary.pipelineExecutionId!).filter((id) => id !== executionId),
    artifacts,
    images,
  };
}

export function formatCommitArtifacts(a: CommitArtifacts): string {
  const lines = [`Commit ${a.commit}: execution ${a.executionId} (${a.status ?? 'unknown'})`];
  if (a.otherExecutionIds.length > 0) lines.push(`  also ran in: ${a.otherExecutionIds.join(', ')}`);
  for (const art of a.artifacts) lines.push(`  ${art.stageName}/${art.actionName} ${art.name}: ${art.s3Uri}`);
  if (a.artifacts.length === 0) lines.push('  no S3 artifacts recorded (expired from the action history)');
  for (const img of a.images) {
    lines.push(
      `  image ${img.service}: ${img.repository ?? '?'}:${img.tag} (${img.built ? 'built by this commit' : 'unchanged, reused from the commit in its revision label'})`,
    );
  }
  if (a.images.length === 0) lines.push('  no container images recorded (no ECS service, or expired from the action history)');
  return lines.join('\n');
}
