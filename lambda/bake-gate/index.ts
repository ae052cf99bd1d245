import type { Logger } from '@aws-lambda-powertools/logger';
import { AppConfigClient } from '@aws-sdk/client-appconfig';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import {
  CodePipelineClient,
  FailureType,
  GetPipelineExecutionCommand,
  GetPipelineStateCommand,
  PutJobFailureResultCommand,
  PutJobSuccessResultCommand,
} from '@aws-sdk/client-codepipeline';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import type { CodePipelineEvent, Context } from 'aws-lambda';
import { errorLine } from '../../lib/runtime/errors';
import { gateEnvironmentSchema, GateParameters, gateParametersSchema, parseJsonWith } from '../../lib/runtime/gate-settings';
import { BOUNDED_HTTP } from '../../lib/runtime/http';
import { isTransientError, retry, RetryOptions } from '../../lib/runtime/retry';
import { withTimeout } from '../shared/codedeploy-hook';
import { createLogger } from '../shared/logger';
import { evaluateGate, GateDecision, GateDeps, GateTarget, parseGateState } from './gate';
import { ArtifactReader, readArtifactWithJobCredentials, readGates } from './release-manifest';

/** Dependencies of `handleGateJob`; tests inject mocks. */
export interface GateJobDeps {
  readonly codepipeline: CodePipelineClient;
  readonly cloudWatchFor: GateDeps['cloudWatchFor'];
  /** AppConfig clients for targets whose services have feature flags. @default - none: such a target fails the gate */
  readonly appConfigFor?: GateDeps['appConfigFor'];
  readonly logger: Logger;
  readonly now: () => Date;
  /** Pause before asking CodePipeline to call again, so waits do not spin. */
  readonly sleep: (ms: number) => Promise<void>;
  /** Milliseconds to pause before a continuation. */
  readonly pollIntervalMs: number;
  /**
   * Pipeline name: for the override log's look-up of who started the execution, and to tell a first
   * deployment (nothing to guard yet) from a deployed target whose role or alarm is missing.
   * @default - neither: a missing role or alarm always fails the gate
   */
  readonly pipelineName?: string;
  /** Reads the input artifact (the cloud assembly). @default - S3 with the job's artifact credentials */
  readonly readArtifact?: ArtifactReader;
  readonly retry?: RetryOptions;
  /**
   * Time left in this invocation (Lambda's `context.getRemainingTimeInMillis`): the evaluation and
   * the pause before a continuation then end `reportReserveMs` before the function's timeout, so the
   * job is always reported. @default - unbounded
   */
  readonly remainingTimeMs?: () => number;
  /** Time kept for reporting, with `remainingTimeMs`. @default 15000 */
  readonly reportReserveMs?: number;
}

/** Time the gate keeps for reporting (with retries) before Lambda's timeout. */
export const GATE_REPORT_RESERVE_MS = 15_000;

/** What the handler did with a job. */
export interface GateJobResult {
  readonly jobId: string;
  readonly outcome: 'succeeded' | 'continued' | 'failed';
  readonly reason: string;
}

const MAX_MESSAGE = 4900;

/**
 * Runs one gate evaluation and always reports it: success, success with a continuation token
 * (keep waiting), or failure, including for malformed parameters and SDK errors. An event without
 * a job id cannot be reported: the invocation then fails (so the function's Errors metric and its
 * alarm show it) instead of returning as if all were well, while CodePipeline times the action out.
 */
export async function handleGateJob(event: CodePipelineEvent | undefined, deps: GateJobDeps): Promise<GateJobResult> {
  const job = event?.['CodePipeline.job'];
  const jobId = typeof job?.id === 'string' && job.id ? job.id : undefined;
  if (!jobId) {
    deps.logger.error('Malformed CodePipeline job event; nothing to report against', { keys: Object.keys(event ?? {}) });
    throw new Error(
      `malformed CodePipeline job event: no CodePipeline.job.id (keys: ${Object.keys(event ?? {}).join(', ') || 'none'}); the action will time out`,
    );
  }
  const timeLeft = () =>
    deps.remainingTimeMs ? Math.max(0, deps.remainingTimeMs() - (deps.reportReserveMs ?? GATE_REPORT_RESERVE_MS)) : undefined;
  let decision: GateDecision;
  try {
    if (!Number.isFinite(deps.pollIntervalMs) || deps.pollIntervalMs < 0) {
      throw new Error(
        `gate misconfigured: POLL_INTERVAL_SECONDS gives a poll interval of ${deps.pollIntervalMs} ms; set it to a number of seconds >= 0`,
      );
    }
    const params = parseGateParameters(job?.data?.actionConfiguration?.configuration?.UserParameters);
    const state = parseGateState(job?.data?.continuationToken, deps.now());
    const evaluate = async () => {
      const gates = await readGates(job?.data, deps.readArtifact ?? readArtifactWithJobCredentials);
      const settings = gates[params.gate];
      if (!settings)
        throw new Error(
          `the release manifest has no gate ${JSON.stringify(params.gate)} (gates: ${Object.keys(gates).join(', ') || 'none'})`,
        );
      return evaluateGate(settings, params, state, {
        cloudWatchFor: deps.cloudWatchFor,
        appConfigFor: deps.appConfigFor,
        now: deps.now,
        logOverride: async (details: Record<string, unknown>) => {
          const triggeredBy = await whoStarted(deps, params.executionId);
          deps.logger.warn('Deployment window overridden by operator', { ...details, triggeredBy });
        },
        deployedBefore: latestRunSucceeded(deps),
      });
    };
    const budget = timeLeft();
    decision = budget === undefined ? await evaluate() : await withTimeout(evaluate, budget, new AbortController());
  } catch (err) {
    decision = { kind: 'fail', reason: `gate error: ${errorLine(err)}` };
  }
  deps.logger.info('Gate decision', { jobId, decision: decision.kind, reason: decision.reason });
  try {
    if (decision.kind === 'fail') {
      await retry(
        () =>
          deps.codepipeline.send(
            new PutJobFailureResultCommand({
              jobId,
              failureDetails: { type: FailureType.JobFailed, message: decision.reason.slice(0, MAX_MESSAGE) },
            }),
          ),
        { ...deps.retry, shouldRetry: isTransientError },
      );
      return { jobId, outcome: 'failed', reason: decision.reason };
    }
    if (decision.kind === 'wait') await deps.sleep(Math.min(deps.pollIntervalMs, timeLeft() ?? Infinity));
    await retry(
      () =>
        deps.codepipeline.send(
          new PutJobSuccessResultCommand({
            jobId,
            continuationToken: decision.kind === 'wait' ? JSON.stringify(decision.state) : undefined,
            executionDetails: { summary: decision.reason.slice(0, 2000) },
          }),
        ),
      { ...deps.retry, shouldRetry: isTransientError },
    );
    return { jobId, outcome: decision.kind === 'wait' ? 'continued' : 'succeeded', reason: decision.reason };
  } catch (err) {
    deps.logger.error('Could not report the gate result to CodePipeline', { jobId, error: errorLine(err) });
    throw err; // Lambda's async retry runs the whole evaluation again.
  }
}

/** Parses and checks UserParameters; throws a message that names the bad field. */
export function parseGateParameters(raw: string | undefined): GateParameters {
  if (!raw) throw new Error('UserParameters is empty: the gate action needs its JSON parameters (rendered by DeploymentSafety)');
  return parseJsonWith(gateParametersSchema, raw, 'UserParameters');
}

/** The poll interval and pipeline name from the function's environment; NaN (reported at each job) when it is invalid. */
export function readGateEnvironment(env: Record<string, string | undefined>): Pick<GateJobDeps, 'pollIntervalMs' | 'pipelineName'> {
  const parsed = gateEnvironmentSchema.safeParse({ POLL_INTERVAL_SECONDS: '60', ...env });
  if (!parsed.success) return { pollIntervalMs: Number.NaN };
  return { pollIntervalMs: Number(parsed.data.POLL_INTERVAL_SECONDS) * 1000, pipelineName: parsed.data.PIPELINE_NAME };
}

/**
 * Whether the latest run of an action of a stage succeeded (one GetPipelineState per invocation).
 * Without a pipeline name it answers yes, so a missing role or alarm fails the gate.
 */
function latestRunSucceeded(deps: GateJobDeps): (stageName: string, actionName: string) => Promise<boolean> {
  let state: Promise<Map<string, string | undefined>> | undefined;
  return async (stageName, actionName) => {
    if (!deps.pipelineName) return true;
    state ??= retry(() => deps.codepipeline.send(new GetPipelineStateCommand({ name: deps.pipelineName })), {
      ...deps.retry,
      shouldRetry: isTransientError,
    }).then(
      (out) =>
        new Map(
          (out.stageStates ?? []).flatMap((s) =>
            (s.actionStates ?? []).map((a): [string, string | undefined] => [`${s.stageName}/${a.actionName}`, a.latestExecution?.status]),
          ),
        ),
    );
    return (await state).get(`${stageName}/${actionName}`) === 'Succeeded';
  };
}

async function whoStarted(deps: GateJobDeps, executionId: string | undefined): Promise<string | undefined> {
  if (!deps.pipelineName || !executionId || executionId.startsWith('#{')) return undefined;
  try {
    const out = await deps.codepipeline.send(
      new GetPipelineExecutionCommand({ pipelineName: deps.pipelineName, pipelineExecutionId: executionId }),
    );
    const t = out.pipelineExecution?.trigger;
    return t ? `${t.triggerType ?? 'unknown'}: ${t.triggerDetail ?? 'unknown'}` : undefined;
  } catch (err) {
    deps.logger.warn('Could not look up who started the execution', { executionId, error: errorLine(err) });
    return undefined;
  }
}

/** Clients acting as a target's GateReaderRole: one AssumeRole per role and region, cached until near expiry. */
export function crossAccountClients(
  sts: STSClient,
  sessionName: string,
): { cloudWatchFor: (target: GateTarget) => Promise<CloudWatchClient>; appConfigFor: (target: GateTarget) => Promise<AppConfigClient> } {
  const cache = new Map<string, { cloudWatch: CloudWatchClient; appConfig: AppConfigClient; expires: number }>();
  const clientsFor = async (target: GateTarget) => {
    const key = `${target.roleArn}|${target.region}`;
    const hit = cache.get(key);
    if (hit && hit.expires > Date.now() + 120_000) return hit;
    const out = await sts.send(new AssumeRoleCommand({ RoleArn: target.roleArn, RoleSessionName: sessionName, DurationSeconds: 900 }));
    const c = out.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken) throw new Error(`AssumeRole ${target.roleArn} returned no credentials`);
    const credentials = {
      accessKeyId: c.AccessKeyId,
      secretAccessKey: c.SecretAccessKey,
      sessionToken: c.SessionToken,
      expiration: c.Expiration,
    };
    const entry = {
      cloudWatch: new CloudWatchClient({ region: target.region, requestHandler: BOUNDED_HTTP, credentials }),
      appConfig: new AppConfigClient({ region: target.region, requestHandler: BOUNDED_HTTP, credentials }),
      expires: c.Expiration?.getTime() ?? Date.now() + 900_000,
    };
    cache.set(key, entry);
    return entry;
  };
  return { cloudWatchFor: async (t) => (await clientsFor(t)).cloudWatch, appConfigFor: async (t) => (await clientsFor(t)).appConfig };
}

/** Assumes the target's GateReaderRole and caches a CloudWatch client per role and region. */
export function crossAccountCloudWatch(sts: STSClient, sessionName: string): (target: GateTarget) => Promise<CloudWatchClient> {
  return crossAccountClients(sts, sessionName).cloudWatchFor;
}

const logger = createLogger('bake-gate');
const gateEnvironment = readGateEnvironment(process.env);
const codepipeline = new CodePipelineClient({ requestHandler: BOUNDED_HTTP });
const { cloudWatchFor, appConfigFor } = crossAccountClients(new STSClient({ requestHandler: BOUNDED_HTTP }), 'safe-deploy-bake-gate');

export const handler = async (event: CodePipelineEvent, context?: Pick<Context, 'getRemainingTimeInMillis'>): Promise<GateJobResult> =>
  handleGateJob(event, {
    codepipeline,
    cloudWatchFor,
    appConfigFor,
    logger,
    now: () => new Date(),
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    ...gateEnvironment,
    remainingTimeMs: context && (() => context.getRemainingTimeInMillis()),
  });
