/**
 * The reading side of `deployctl watch`: clients that share one token bucket and back off on
 * throttling, and a poller that turns one round of reads into a WatchSnapshot. Each round reads
 * each resource at most once; what does not change during a release (the pipeline declaration,
 * a stack's deployment groups, a deployment's targets and configuration) is read once and kept.
 */
import { CloudFormationClient, ListStackResourcesCommand } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { CodeBuildClient } from '@aws-sdk/client-codebuild';
import {
  BatchGetDeploymentTargetsCommand,
  CodeDeployClient,
  DeploymentTarget,
  GetDeploymentCommand,
  GetDeploymentConfigCommand,
  GetDeploymentGroupCommand,
  ListDeploymentTargetsCommand,
} from '@aws-sdk/client-codedeploy';
import {
  ActionExecutionDetail,
  CodePipelineClient,
  GetPipelineCommand,
  GetPipelineExecutionCommand,
  GetPipelineStateCommand,
  ListPipelineExecutionsCommand,
  PipelineExecutionSummary,
} from '@aws-sdk/client-codepipeline';
import { CLIENT_SETTINGS, OpsClients } from '../runtime/clients';
import { arnAccount, collectPages, isRetryableAnswer, OpsContext, OpsError } from '../runtime/context';
import { DeploymentWindowSpec, evaluateDeploymentWindow } from '../runtime/deployment-window';
import { isMissingStack, trafficSplit } from '../runtime/deployments';
import { commitMessage, deployTarget, listActionExecutions, Revision } from '../runtime/pipeline';
import { isTransientError } from '../runtime/retry';
import { describeError } from './errors';
import { pickSourceRevision } from './status';
import {
  AlarmState,
  AlarmView,
  DeploymentView,
  GateProgress,
  nextTrafficShift,
  parseGateSummary,
  StageStatus,
  StageView,
  TERMINAL_EXECUTION,
  TrafficRule,
  WatchSnapshot,
} from './watch-model';

/** The operator functions' clients plus CloudWatch, for the deployment groups' alarms. */
export interface WatchClients extends OpsClients {
  readonly cloudwatch: CloudWatchClient;
}

export type WatchClientsForRegion = (region: string) => WatchClients;

/**
 * Clients for watch: like createClients, but the SDK makes one attempt per call, so that every
 * request goes through watch's token bucket and its backoff decides when to try again.
 */
export function createWatchClients(region: string): WatchClients {
  const config = { region, ...CLIENT_SETTINGS, maxAttempts: 1 };
  return {
    codepipeline: new CodePipelineClient(config),
    codedeploy: new CodeDeployClient(config),
    cloudformation: new CloudFormationClient(config),
    codebuild: new CodeBuildClient(config),
    cloudwatch: new CloudWatchClient(config),
  };
}

/** Adds a CloudWatch client (same region and settings) to clients made elsewhere. */
export function withCloudWatch(clients: OpsClients, region: string): WatchClients {
  const existing = (clients as Partial<WatchClients>).cloudwatch;
  return { ...clients, cloudwatch: existing ?? new CloudWatchClient({ region, ...CLIENT_SETTINGS, maxAttempts: 1 }) };
}

/** Waits `ms`, or rejects when `signal` aborts. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

/**
 * A token bucket (in its GCRA form): at most `burst` calls at once, then `ratePerSecond`. Any
 * window of T seconds holds at most `burst + ratePerSecond * T` calls. Reservations are made
 * synchronously, so concurrent callers cannot overdraw it, and the wait is computed, not polled:
 * a clock that does not move (tests) cannot make it spin.
 */
export class TokenBucket {
  private tat = Number.NEGATIVE_INFINITY;
  private readonly emission: number;

  constructor(
    readonly ratePerSecond: number,
    readonly burst: number,
    private readonly now: () => number,
    private readonly sleep: Sleep,
  ) {
    this.emission = 1000 / ratePerSecond;
  }

  async take(signal?: AbortSignal): Promise<void> {
    const t = this.now();
    const tat = Math.max(this.tat, t);
    const wait = tat - (this.burst - 1) * this.emission - t;
    this.tat = tat + this.emission;
    if (wait > 0) await this.sleep(wait, signal);
  }
}

/** What a rate-limited client does around each call. */
export interface CallPolicy {
  readonly bucket: TokenBucket;
  readonly sleep: Sleep;
  readonly signal?: AbortSignal;
  /** Random number in [0, 1) for the jitter. @default Math.random */
  readonly random?: () => number;
  /** First retry delay; doubles per attempt. @default 1000 */
  readonly baseDelayMs?: number;
  /** Longest retry delay. @default 60000 */
  readonly maxDelayMs?: number;
  /** Whether an error is worth another attempt; anything else is thrown to the caller. */
  readonly shouldRetry: (err: unknown) => boolean;
  readonly onRetry?: (info: { readonly error: unknown; readonly attempt: number; readonly delayMs: number }) => void;
  readonly onSuccess?: () => void;
}

/** Delay before retry `attempt` (1-based): exponential, capped, with jitter over its upper half. */
export function backoffDelay(attempt: number, random: () => number, baseMs = 1000, maxMs = 60_000): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** (attempt - 1));
  return Math.round(ceiling * (0.5 + random() / 2));
}

type Sender = { send(command: unknown, options?: unknown): Promise<unknown> };

/**
 * The same client whose `send` first takes a token from the bucket, and retries what the policy
 * calls transient with exponential backoff and jitter, for as long as it takes. Other errors,
 * and an abort, go to the caller.
 */
export function limitClient<C extends object>(client: C, policy: CallPolicy): C {
  const random = policy.random ?? Math.random;
  return new Proxy(client, {
    get(target, prop, receiver) {
      if (prop !== 'send') return Reflect.get(target, prop, receiver);
      return async (command: unknown, options?: Record<string, unknown>) => {
        for (let attempt = 1; ; attempt++) {
          policy.signal?.throwIfAborted();
          await policy.bucket.take(policy.signal);
          try {
            const out = await (target as unknown as Sender).send(
              command,
              policy.signal ? { ...options, abortSignal: policy.signal } : options,
            );
            policy.onSuccess?.();
            return out;
          } catch (err) {
            policy.signal?.throwIfAborted();
            if (!policy.shouldRetry(err)) throw err;
            const delayMs = backoffDelay(attempt, random, policy.baseDelayMs, policy.maxDelayMs);
            policy.onRetry?.({ error: err, attempt, delayMs });
            await policy.sleep(delayMs, policy.signal);
          }
        }
      };
    },
  });
}

export function limitClients(clients: WatchClients, policy: CallPolicy): WatchClients {
  return {
    codepipeline: limitClient(clients.codepipeline, policy),
    codedeploy: limitClient(clients.codedeploy, policy),
    cloudformation: limitClient(clients.cloudformation, policy),
    codebuild: limitClient(clients.codebuild, policy),
    cloudwatch: limitClient(clients.cloudwatch, policy),
  };
}

const NETWORK = /ECONNRESET|ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EPIPE|ENETUNREACH|EHOSTUNREACH|socket hang up|NetworkingError/;

/** A request that got no answer: the network, DNS, or a timeout. */
export function isNetworkError(err: unknown): boolean {
  const e = err as { name?: string; message?: string; code?: string } | null;
  return !!e && (e.name === 'TimeoutError' || NETWORK.test(`${e.name ?? ''} ${e.message ?? ''} ${e.code ?? ''}`));
}

/**
 * Errors watch waits out. Throttling and 5xx answers always; network errors only once a round of
 * reads has succeeded (a wrong region or endpoint then fails fast, as in every other verb, while a
 * laptop that loses Wi-Fi for a minute in a four-hour release does not end the watch).
 */
export function watchShouldRetry(err: unknown, hasConnected: boolean): boolean {
  if (isRetryableAnswer(err) || (isTransientError(err) && !isNetworkError(err))) return true;
  return hasConnected && (isNetworkError(err) || isTransientError(err));
}

/** Credentials problems end the watch wherever they happen: every later call would fail too. */
export function isCredentialsError(err: unknown): boolean {
  const e = (err ?? {}) as { name?: string; message?: string };
  return (
    e.name === 'CredentialsProviderError' ||
    /Could not load credentials|ExpiredToken|TokenRefreshRequired|token (?:has|is) expired/i.test(`${e.name ?? ''} ${e.message ?? ''}`) ||
    /InvalidClientTokenId|UnrecognizedClientException|InvalidSignatureException|SignatureDoesNotMatch/.test(e.name ?? '')
  );
}

const PROGRAMMING_ERRORS = new Set(['TypeError', 'RangeError', 'ReferenceError', 'SyntaxError']);

// ---- The declaration ---------------------------------------------------------------------------

/** A stack or deployment group a stage deploys. */
interface DeclaredTarget {
  readonly key: string;
  readonly stackName?: string;
  readonly applicationName?: string;
  readonly deploymentGroupName?: string;
  readonly account: string;
  readonly region: string;
  /** Actions whose start means CodeDeploy may be deploying this target. */
  readonly deployActions: string[];
  readonly foreign: boolean;
}

interface DeclaredStage {
  readonly name: string;
  readonly actionCount: number;
  /** Set for a bake gate stage: its action and parameters. */
  readonly gate?: {
    readonly actionName: string;
    readonly bake?: { minutes: number; minRequests: number };
    readonly window?: DeploymentWindowSpec;
  };
  readonly targets: DeclaredTarget[];
}

interface Declaration {
  readonly version?: number;
  readonly account?: string;
  readonly stages: DeclaredStage[];
}

/**
 * Bake gate parameters, when an action is the bake gate (a Lambda invoke action with its
 * UserParameters). Pipelines today name the gate (`{"gate": "Gate-Prod-Wave1", ...}`) and keep its
 * settings in the release manifest: then the bake and window are known only from its summaries.
 * Older pipeline versions carry the settings themselves.
 */
export function gateParameters(
  provider: string | undefined,
  userParameters: string | undefined,
): { bake?: { minutes: number; minRequests: number }; window?: DeploymentWindowSpec } | undefined {
  if (provider !== 'Lambda' || !userParameters) return undefined;
  try {
    const p = JSON.parse(userParameters) as {
      gate?: unknown;
      stageName?: unknown;
      maxWaitMinutes?: unknown;
      bake?: { minutes: number; minRequests: number };
      window?: DeploymentWindowSpec;
    };
    if (typeof p.gate === 'string' && p.gate) return {};
    if (typeof p.stageName !== 'string' || typeof p.maxWaitMinutes !== 'number') return undefined;
    return { bake: p.bake, window: p.window };
  } catch {
    return undefined; // Another Lambda action: not a gate.
  }
}

// ---- Per-group state kept between rounds -------------------------------------------------------

interface GroupState {
  readonly region: string;
  readonly stackName?: string;
  readonly stage: string;
  /** Candidate applications; the first that GetDeploymentGroup accepts is the group's. */
  candidates: string[];
  applicationName: string;
  readonly deploymentGroupName: string;
  platform?: 'Lambda' | 'ECS' | 'Server';
  alarms: string[];
  configName?: string;
  terminationWaitMinutes?: number;
  deployment?: {
    readonly id: string;
    status?: string;
    configName?: string;
    targetIds?: string[];
    targets: DeploymentTarget[];
    targetsDone: boolean;
    done: boolean;
    error?: string;
  };
  /** Set once the group was read after its deploy action ended. */
  settled: boolean;
  /** Why the group cannot be read (then it is not read again). */
  unreadable?: string;
  finalView?: DeploymentView;
}

const TERMINAL_TARGET = new Set(['Succeeded', 'Failed', 'Skipped']);
const TERMINAL_DEPLOYMENT = new Set(['Succeeded', 'Failed', 'Stopped']);

/** Where the poller reads from, and what it reports on the side. */
export interface PollerDeps {
  readonly pipelineName: string;
  /** The pipeline's region. */
  readonly region: string;
  /** Rate-limited clients of the pipeline's region. */
  readonly clients: WatchClients;
  /** Rate-limited clients of any region. */
  readonly clientsFor: WatchClientsForRegion;
  readonly now: () => number;
}

/** Reads a followed execution, round by round. */
export class WatchPoller {
  private declaration?: Declaration;
  private readonly ctx: OpsContext;
  private readonly stackGroups = new Map<string, GroupState[]>();
  private readonly groups = new Map<string, GroupState>();
  private readonly rules = new Map<string, TrafficRule | null>();
  private readonly alarmStates = new Map<string, AlarmView>();
  /** Regions whose alarms could not be read (denied): not asked again, though groups read later name alarms there. */
  private readonly alarmsUnreadable = new Set<string>();
  private readonly notes: string[] = [];
  private readonly revisions = new Map<string, Revision | undefined>();
  private windowCache?: { key: string; value: GateProgress['window'] };
  private readonly seenRunning = new Set<string>();

  constructor(private readonly deps: PollerDeps) {
    // Retries happen in the rate-limited clients; one attempt here.
    this.ctx = { clients: deps.clients, region: deps.region, clientsFor: deps.clientsFor, retry: { attempts: 1 } };
  }

  /** The execution to follow when none is given: the latest one in progress, else the latest. */
  async latestExecution(): Promise<PipelineExecutionSummary> {
    const out = await this.deps.clients.codepipeline.send(
      new ListPipelineExecutionsCommand({ pipelineName: this.deps.pipelineName, maxResults: 10 }),
    );
    const all = out.pipelineExecutionSummaries ?? [];
    const found = all.find((e) => e.status === 'InProgress' || e.status === 'Stopping') ?? all[0];
    if (!found?.pipelineExecutionId) {
      throw new OpsError(
        'not-found',
        `${this.deps.pipelineName} has no execution to watch yet: push a commit, or start one with \`aws codepipeline start-pipeline-execution --name ${this.deps.pipelineName}\``,
      );
    }
    return found;
  }

  /**
   * After `executionId` was superseded: the newer execution that runs the same commit (CDK
   * Pipelines restarts itself after UpdatePipeline changed the pipeline), or the one that took over.
   */
  async successor(executionId: string, revisionId: string | undefined): Promise<{ restart?: string; supersededBy?: string }> {
    const out = await this.deps.clients.codepipeline.send(
      new ListPipelineExecutionsCommand({ pipelineName: this.deps.pipelineName, maxResults: 25 }),
    );
    const all = out.pipelineExecutionSummaries ?? [];
    const index = all.findIndex((e) => e.pipelineExecutionId === executionId);
    // Newest first: the executions before ours in the list started after it.
    const newer = (index < 0 ? all : all.slice(0, index)).reverse();
    const restart = revisionId
      ? newer.find((e) => e.executionType !== 'ROLLBACK' && (e.sourceRevisions ?? []).some((r) => r.revisionId === revisionId))
      : undefined;
    if (restart?.pipelineExecutionId) return { restart: restart.pipelineExecutionId };
    return { supersededBy: (newer.find((e) => e.status === 'InProgress') ?? newer[0])?.pipelineExecutionId };
  }

  /** One round of reads: the execution, its actions, and the CodeDeploy details of running stages. */
  async poll(executionId: string): Promise<WatchSnapshot> {
    const { pipelineName, clients } = this.deps;
    const exec = (await clients.codepipeline.send(new GetPipelineExecutionCommand({ pipelineName, pipelineExecutionId: executionId })))
      .pipelineExecution;
    const status = exec?.status ?? 'Unknown';
    if (!this.declaration || (exec?.pipelineVersion !== undefined && this.declaration.version !== exec.pipelineVersion)) {
      this.declaration = await this.readDeclaration(exec?.pipelineVersion);
    }
    if (!this.revisions.has(executionId)) {
      this.revisions.set(
        executionId,
        pickSourceRevision(
          (exec?.artifactRevisions ?? []).map((r) => ({
            source: r.name,
            revisionId: r.revisionId,
            summary: commitMessage(r.revisionSummary),
            url: r.revisionUrl,
          })),
        ),
      );
    }
    const actions = latestAttempts(await listActionExecutions(this.ctx, pipelineName, executionId));
    const ended = TERMINAL_EXECUTION.has(status);
    const now = new Date(this.deps.now());
    const decl = this.declaration;

    const stages: StageView[] = [];
    const byStage = new Map<string, ActionExecutionDetail[]>();
    for (const a of actions) {
      const list = byStage.get(a.stageName ?? '') ?? [];
      list.push(a);
      byStage.set(a.stageName ?? '', list);
    }
    const declaredNames = new Set(decl.stages.map((s) => s.name));
    const extra = [...byStage.keys()].filter((n) => n && !declaredNames.has(n));
    const all: DeclaredStage[] = [...decl.stages, ...extra.map((name) => ({ name, actionCount: 0, targets: [] }))];
    for (const declared of all) {
      const own = byStage.get(declared.name) ?? [];
      const stageStatus = stageStatusOf(own, declared.actionCount, ended);
      const started = own.map((a) => a.startTime?.getTime()).filter((t): t is number => t !== undefined);
      const updated = own.map((a) => a.lastUpdateTime?.getTime() ?? a.startTime?.getTime()).filter((t): t is number => t !== undefined);
      const view: StageView = {
        name: declared.name,
        status: stageStatus,
        startedAt: started.length > 0 ? new Date(Math.min(...started)).toISOString() : undefined,
        endedAt:
          ['Succeeded', 'Failed', 'Stopped'].includes(stageStatus) && updated.length > 0
            ? new Date(Math.max(...updated)).toISOString()
            : undefined,
        running: own
          .filter((a) => a.status === 'InProgress')
          .map((a) => ({ name: a.actionName ?? '', provider: a.input?.actionTypeId?.provider })),
        failed: own.filter((a) => a.status === 'Failed').map((a) => ({ name: a.actionName ?? '', error: actionError(a) })),
        gate: declared.gate ? await this.gateProgress(declared, own, stageStatus, executionId, now) : undefined,
        deployments: await this.stageDeployments(declared, own, stageStatus, now),
      };
      stages.push(view);
    }
    await this.refreshAlarms(stages);
    const withAlarms = stages.map((s) => ({ ...s, deployments: s.deployments.map((d) => ({ ...d, alarms: this.alarmsOf(d) })) }));
    const startTimes = actions.map((a) => a.startTime?.getTime()).filter((t): t is number => t !== undefined);
    return {
      pipelineName,
      region: this.deps.region,
      account: decl.account,
      executionId,
      status,
      statusSummary: exec?.statusSummary,
      revision: this.revisions.get(executionId),
      startedAt: startTimes.length > 0 ? new Date(Math.min(...startTimes)).toISOString() : undefined,
      observedAt: now.toISOString(),
      stages: withAlarms,
      notes: [...this.notes],
    };
  }

  private note(message: string): void {
    if (!this.notes.includes(message)) this.notes.push(message);
  }

  /** The pipeline structure the execution runs (GetPipeline of its version). */
  private async readDeclaration(version: number | undefined): Promise<Declaration> {
    const out = await this.deps.clients.codepipeline.send(new GetPipelineCommand({ name: this.deps.pipelineName, version }));
    const account = arnAccount(out.metadata?.pipelineArn);
    const stages = (out.pipeline?.stages ?? []).map((stage): DeclaredStage => {
      const name = stage.name ?? '';
      const targets = new Map<string, DeclaredTarget & { deployActions: string[] }>();
      let gate: DeclaredStage['gate'];
      for (const action of stage.actions ?? []) {
        const params = gateParameters(action.actionTypeId?.provider, action.configuration?.UserParameters);
        if (params && !gate) gate = { actionName: action.name ?? '', ...params };
        const t = deployTarget(name, action, account, this.deps.region);
        if (!t) continue;
        const key = [t.kind, t.account, t.region, t.stackName, t.applicationName, t.deploymentGroupName].join('|');
        const existing = targets.get(key);
        // A CDK Pipelines stack has Prepare (creates a change set) and Deploy (executes it): CodeDeploy runs in the second.
        const deploys = action.configuration?.ActionMode !== 'CHANGE_SET_REPLACE';
        if (existing) {
          if (deploys) existing.deployActions.push(action.name ?? '');
          continue;
        }
        targets.set(key, {
          key,
          stackName: t.stackName,
          applicationName: t.applicationName,
          deploymentGroupName: t.deploymentGroupName,
          account: t.account,
          region: t.region,
          deployActions: deploys ? [action.name ?? ''] : [],
          foreign: account !== undefined && t.account !== account,
        });
      }
      return { name, actionCount: (stage.actions ?? []).length, gate, targets: [...targets.values()] };
    });
    return { version: out.pipeline?.version, account, stages };
  }

  private async gateProgress(
    declared: DeclaredStage,
    own: ActionExecutionDetail[],
    status: StageStatus,
    executionId: string,
    now: Date,
  ): Promise<GateProgress> {
    const gate = declared.gate!;
    const action = own.find((a) => a.actionName === gate.actionName);
    let summary = action?.output?.executionResult?.externalExecutionSummary ?? action?.output?.executionResult?.errorDetails?.message;
    if (!summary && action?.status === 'InProgress') {
      // While the gate waits, its latest summary may only be on the action's state.
      const state = await this.deps.clients.codepipeline.send(new GetPipelineStateCommand({ name: this.deps.pipelineName }));
      const stage = state.stageStates?.find((s) => s.stageName === declared.name);
      const latest = stage?.actionStates?.find((a) => a.actionName === gate.actionName)?.latestExecution;
      if (
        stage?.latestExecution?.pipelineExecutionId === executionId &&
        (!latest?.actionExecutionId || latest.actionExecutionId === action.actionExecutionId)
      ) {
        summary = latest?.summary;
      }
    }
    const parsed = parseGateSummary(summary);
    const progress: GateProgress = {
      ...parsed,
      requiredMinutes: parsed.requiredMinutes ?? gate.bake?.minutes,
      requiredRequests: parsed.requiredRequests ?? gate.bake?.minRequests,
    };
    if (!gate.window || status !== 'InProgress') return progress;
    return { ...progress, window: this.windowAt(declared.name, gate.window, now) };
  }

  /** The window is evaluated at most once a minute: finding when a closed one opens is not cheap. */
  private windowAt(stage: string, spec: DeploymentWindowSpec, now: Date): GateProgress['window'] {
    const key = `${stage}|${Math.floor(now.getTime() / 60_000)}`;
    if (this.windowCache?.key !== key) {
      const d = evaluateDeploymentWindow(spec, now);
      this.windowCache = { key, value: { open: d.open, reason: d.reason, nextOpen: d.nextOpen } };
    }
    return this.windowCache.value;
  }

  private async stageDeployments(
    declared: DeclaredStage,
    own: ActionExecutionDetail[],
    status: StageStatus,
    now: Date,
  ): Promise<DeploymentView[]> {
    // Details are read for stages seen running, not for those that ended before watch started.
    if (status === 'InProgress') this.seenRunning.add(declared.name);
    if (!this.seenRunning.has(declared.name)) return [];
    const views: DeploymentView[] = [];
    for (const target of declared.targets) {
      const deployActions = own.filter((a) => target.deployActions.includes(a.actionName ?? ''));
      if (deployActions.length === 0) continue; // Not deploying yet.
      if (target.foreign) {
        const what = target.stackName ? `stack ${target.stackName}` : `deployment group ${target.deploymentGroupName}`;
        if (status === 'InProgress')
          this.note(
            `${declared.name}: ${what} is in account ${target.account} (${target.region}): use credentials for it to see its deployments`,
          );
        continue;
      }
      const since = Math.min(...deployActions.map((a) => a.startTime?.getTime() ?? Number.POSITIVE_INFINITY));
      const deploying = deployActions.some((a) => a.status === 'InProgress');
      for (const group of await this.groupsOf(declared.name, target, deploying)) {
        // Read while the stack deploys, and once more after it has, for the final state.
        if ((deploying || !group.settled) && !group.unreadable) {
          await this.readGroup(group, since);
          if (!deploying) group.settled = true;
        }
        views.push(this.view(group, now));
      }
    }
    return views;
  }

  /**
   * The deployment groups of a target: named by a CodeDeploy action, or found in the stack's
   * resources (once; a stack still deploying may not have them yet, one that has deployed and has
   * none, such as a platform stack, has none).
   */
  private async groupsOf(stage: string, target: DeclaredTarget, deploying: boolean): Promise<GroupState[]> {
    const cached = this.stackGroups.get(target.key);
    if (cached) return cached;
    const make = (candidates: string[], deploymentGroupName: string): GroupState => {
      const key = `${target.region}|${candidates.join(',')}|${deploymentGroupName}`;
      const existing = this.groups.get(key);
      if (existing) return existing;
      const g: GroupState = {
        region: target.region,
        stackName: target.stackName,
        stage,
        candidates,
        applicationName: candidates[0] ?? '',
        deploymentGroupName,
        alarms: [],
        settled: false,
      };
      this.groups.set(key, g);
      return g;
    };
    if (!target.stackName) {
      const groups = [make([target.applicationName!], target.deploymentGroupName!)];
      this.stackGroups.set(target.key, groups);
      return groups;
    }
    try {
      const clients = this.deps.clientsFor(target.region);
      const resources = await collectPages(this.ctx, async (token) => {
        const out = await clients.cloudformation.send(new ListStackResourcesCommand({ StackName: target.stackName, NextToken: token }));
        return { items: out.StackResourceSummaries, next: out.NextToken };
      });
      const physical = (type: string) =>
        resources.filter((r) => r.ResourceType === type && r.PhysicalResourceId).map((r) => r.PhysicalResourceId!);
      const apps = physical('AWS::CodeDeploy::Application');
      const names = physical('AWS::CodeDeploy::DeploymentGroup');
      if (names.length > 0 && apps.length === 0) return []; // Created in this update, not yet complete: look again next round.
      const groups = names.map((n) => make(apps, n));
      // A stack being created may not have its groups yet: an empty answer is kept once it has deployed.
      if (groups.length > 0 || !deploying) this.stackGroups.set(target.key, groups);
      return groups;
    } catch (err) {
      if (isMissingStack(err)) return []; // First deploy: the stack does not exist yet.
      this.tolerate(err, `${stage}: cannot read stack ${target.stackName} (${target.region})`);
      this.stackGroups.set(target.key, []);
      return [];
    }
  }

  /**
   * One read of a group: until this release's deployment exists, GetDeploymentGroup (which names
   * its last attempted deployment); then the deployment's targets while traffic shifts; then the
   * deployment itself until it ends (an ECS deployment waits to terminate the old task set).
   */
  private async readGroup(g: GroupState, since: number): Promise<void> {
    const cd = this.deps.clientsFor(g.region).codedeploy;
    const where = `${g.stage}: deployment group ${g.deploymentGroupName} (${g.region})`;
    try {
      if (!g.deployment) {
        const info = await this.getDeploymentGroup(g, cd);
        if (!info) return;
        const last = info.lastAttemptedDeployment;
        if (!last?.deploymentId || (last.createTime?.getTime() ?? 0) < since) return; // This release's deployment is not there yet.
        g.deployment = { id: last.deploymentId, status: last.status, targets: [], targetsDone: false, done: false };
        const d = (await cd.send(new GetDeploymentCommand({ deploymentId: last.deploymentId }))).deploymentInfo;
        g.deployment.status = d?.status ?? last.status;
        g.deployment.configName = d?.deploymentConfigName ?? g.configName;
        g.deployment.targetIds = await collectPages(this.ctx, async (token) => {
          const out = await cd.send(new ListDeploymentTargetsCommand({ deploymentId: last.deploymentId, nextToken: token }));
          return { items: out.targetIds, next: out.nextToken };
        });
        await this.rule(g.region, g.deployment.configName, cd);
      }
      const dep = g.deployment;
      if (dep.done) return;
      if (!dep.targetsDone && (dep.targetIds?.length ?? 0) > 0) {
        const targets: DeploymentTarget[] = [];
        for (let i = 0; i < dep.targetIds!.length; i += 25) {
          const out = await cd.send(
            new BatchGetDeploymentTargetsCommand({ deploymentId: dep.id, targetIds: dep.targetIds!.slice(i, i + 25) }),
          );
          targets.push(...(out.deploymentTargets ?? []));
        }
        dep.targets = targets;
        const statuses = targets.map((t) => t.lambdaTarget?.status ?? t.ecsTarget?.status ?? t.instanceTarget?.status);
        dep.targetsDone = statuses.length > 0 && statuses.every((s) => TERMINAL_TARGET.has(s ?? ''));
        if (!dep.targetsDone) {
          if (statuses.some((s) => s === 'InProgress' || s === 'Ready')) dep.status = 'InProgress';
          return;
        }
      }
      const d = (await cd.send(new GetDeploymentCommand({ deploymentId: dep.id }))).deploymentInfo;
      dep.status = d?.status ?? dep.status;
      dep.done = TERMINAL_DEPLOYMENT.has(dep.status ?? '');
      const e = d?.errorInformation;
      if (e?.message || e?.code) dep.error = [e.code, e.message].filter(Boolean).join(': ');
    } catch (err) {
      g.unreadable = this.tolerate(err, `cannot read ${where}`);
    }
  }

  private async getDeploymentGroup(g: GroupState, cd: CodeDeployClient) {
    const candidates = g.candidates.length > 0 ? g.candidates : [g.applicationName];
    for (let i = 0; i < candidates.length; i++) {
      try {
        const info = (
          await cd.send(new GetDeploymentGroupCommand({ applicationName: candidates[i], deploymentGroupName: g.deploymentGroupName }))
        ).deploymentGroupInfo;
        g.applicationName = candidates[i];
        g.candidates = [candidates[i]];
        g.platform = info?.computePlatform;
        g.alarms =
          info?.alarmConfiguration?.enabled === false
            ? []
            : (info?.alarmConfiguration?.alarms ?? []).map((a) => a.name ?? '').filter(Boolean);
        g.configName = info?.deploymentConfigName;
        g.terminationWaitMinutes =
          info?.blueGreenDeploymentConfiguration?.terminateBlueInstancesOnDeploymentSuccess?.terminationWaitTimeInMinutes;
        return info;
      } catch (err) {
        const name = (err as { name?: string })?.name ?? '';
        if (i < candidates.length - 1 && /DeploymentGroupDoesNotExist|ApplicationDoesNotExist/.test(name)) continue;
        throw err;
      }
    }
    return undefined;
  }

  /** The traffic rule of a deployment configuration; predefined ones (CodeDeployDefault.*) are read the same way. */
  private async rule(region: string, configName: string | undefined, cd: CodeDeployClient): Promise<TrafficRule | undefined> {
    if (!configName) return undefined;
    const key = `${region}|${configName}`;
    if (!this.rules.has(key)) {
      const info = (await cd.send(new GetDeploymentConfigCommand({ deploymentConfigName: configName }))).deploymentConfigInfo;
      const r = info?.trafficRoutingConfig;
      let rule: TrafficRule | null = null;
      if (r?.type === 'TimeBasedCanary' && r.timeBasedCanary) {
        rule = {
          type: 'TimeBasedCanary',
          percent: r.timeBasedCanary.canaryPercentage ?? 0,
          intervalMinutes: r.timeBasedCanary.canaryInterval ?? 0,
        };
      } else if (r?.type === 'TimeBasedLinear' && r.timeBasedLinear) {
        rule = {
          type: 'TimeBasedLinear',
          percent: r.timeBasedLinear.linearPercentage ?? 0,
          intervalMinutes: r.timeBasedLinear.linearInterval ?? 0,
        };
      } else if (r?.type === 'AllAtOnce') {
        rule = { type: 'AllAtOnce' };
      }
      this.rules.set(key, rule);
    }
    return this.rules.get(key) ?? undefined;
  }

  /** One DescribeAlarms per region for the alarms of the groups read this round. */
  private async refreshAlarms(stages: StageView[]): Promise<void> {
    const byRegion = new Map<string, Set<string>>();
    for (const stage of stages) {
      for (const d of stage.deployments) {
        const g = this.groupOf(d);
        if (!g || g.unreadable || g.alarms.length === 0 || this.alarmsUnreadable.has(g.region)) continue;
        const active = stage.status === 'InProgress' && !(g.deployment?.done ?? false);
        const lastLook = !!g.deployment?.done && !this.alarmStates.has(`${g.region}|${g.alarms[0]}`);
        if (!active && !lastLook) continue;
        const names = byRegion.get(g.region) ?? new Set<string>();
        g.alarms.forEach((n) => names.add(n));
        byRegion.set(g.region, names);
      }
    }
    for (const [region, set] of byRegion) {
      const names = [...set];
      try {
        const cw = this.deps.clientsFor(region).cloudwatch;
        const seen = new Set<string>();
        for (let i = 0; i < names.length; i += 100) {
          let token: string | undefined;
          do {
            const out = await cw.send(
              new DescribeAlarmsCommand({
                AlarmNames: names.slice(i, i + 100),
                AlarmTypes: ['MetricAlarm', 'CompositeAlarm'],
                NextToken: token,
              }),
            );
            for (const a of [...(out.MetricAlarms ?? []), ...(out.CompositeAlarms ?? [])]) {
              if (!a.AlarmName) continue;
              seen.add(a.AlarmName);
              this.alarmStates.set(`${region}|${a.AlarmName}`, {
                name: a.AlarmName,
                state: (a.StateValue ?? 'UNKNOWN') as AlarmState,
                reason: a.StateReason,
              });
            }
            token = out.NextToken;
          } while (token);
        }
        for (const n of names)
          if (!seen.has(n)) this.alarmStates.set(`${region}|${n}`, { name: n, state: 'UNKNOWN', reason: 'alarm not found' });
      } catch (err) {
        this.tolerate(err, `cannot read the deployment groups' alarms in ${region}`);
        this.alarmsUnreadable.add(region);
        for (const g of this.groups.values()) if (g.region === region) g.alarms = [];
      }
    }
  }

  private groupOf(d: Pick<DeploymentView, 'region' | 'deploymentGroupName' | 'applicationName'>): GroupState | undefined {
    for (const g of this.groups.values()) {
      if (g.region === d.region && g.deploymentGroupName === d.deploymentGroupName && g.applicationName === d.applicationName) return g;
    }
    return undefined;
  }

  private alarmsOf(d: DeploymentView): AlarmView[] {
    const g = this.groupOf(d);
    if (!g) return [];
    return g.alarms.map((n) => this.alarmStates.get(`${g.region}|${n}`)).filter((a): a is AlarmView => !!a);
  }

  private view(g: GroupState, now: Date): DeploymentView {
    // A finished deployment's view no longer changes.
    if (g.finalView) return g.finalView;
    const view = this.computeView(g, now);
    if (g.deployment?.done) g.finalView = view;
    return view;
  }

  private computeView(g: GroupState, now: Date): DeploymentView {
    const dep = g.deployment;
    const splits = (dep?.targets ?? []).map(trafficSplit).filter((t): t is NonNullable<typeof t> => !!t);
    const traffic = splits[0];
    const events = (dep?.targets ?? []).flatMap((t) => t.ecsTarget?.lifecycleEvents ?? t.lambdaTarget?.lifecycleEvents ?? []);
    const allow = events.find((e) => e.lifecycleEventName === 'AllowTraffic');
    const rule = dep?.configName ? (this.rules.get(`${g.region}|${dep.configName}`) ?? undefined) : undefined;
    let percent: number | undefined;
    if (traffic?.kind === 'lambda') percent = traffic.targetPercent;
    if (traffic?.kind === 'ecs') percent = traffic.taskSets.find((s) => s.label === 'Green')?.trafficWeight;
    if (dep?.status === 'Succeeded') percent = 100;
    const shift = allow?.status === 'InProgress' ? nextTrafficShift(rule, allow.startTime, now) : undefined;
    const lastEnd = events.filter((e) => e.endTime).map((e) => e.endTime!.getTime());
    const allSucceeded = events.length > 0 && events.every((e) => e.status === 'Succeeded');
    const blueTerminationAt =
      g.platform === 'ECS' && g.terminationWaitMinutes && allSucceeded && !dep?.done && lastEnd.length > 0
        ? new Date(Math.max(...lastEnd) + g.terminationWaitMinutes * 60_000).toISOString()
        : undefined;
    return {
      region: g.region,
      stackName: g.stackName,
      applicationName: g.applicationName,
      deploymentGroupName: g.deploymentGroupName,
      platform: g.platform,
      deploymentId: dep?.id,
      status: dep?.status,
      lifecycleEvent: events.find((e) => e.status === 'InProgress')?.lifecycleEventName,
      trafficPercent: percent,
      traffic,
      rule,
      nextShift: shift ? { at: shift.at.toISOString(), toPercent: shift.toPercent } : undefined,
      blueTerminationAt,
      error: dep?.error,
      alarms: [],
    };
  }

  /**
   * Details are best effort, like status's notes: a denied or missing resource becomes a note and
   * is not read again. Credentials problems and deployctl's own bugs still end the watch.
   */
  private tolerate(err: unknown, what: string): string {
    const name = (err as { name?: string })?.name ?? '';
    if (
      isCredentialsError(err) ||
      (PROGRAMMING_ERRORS.has(name) && !(err as { $metadata?: unknown })?.$metadata) ||
      (err as Error)?.name === 'AbortError'
    )
      throw err;
    const message = `${what}: ${describeError(err)}`;
    this.note(message);
    return message;
  }
}

/** The latest attempt of each action (a retried stage runs its failed actions again). */
export function latestAttempts(all: ActionExecutionDetail[]): ActionExecutionDetail[] {
  const latest = new Map<string, ActionExecutionDetail>();
  for (const a of all) {
    const key = `${a.stageName}|${a.actionName}`;
    const seen = latest.get(key);
    if (!seen || (a.startTime?.getTime() ?? 0) >= (seen.startTime?.getTime() ?? 0)) latest.set(key, a);
  }
  return [...latest.values()];
}

/** A stage's status from its actions in this execution. */
export function stageStatusOf(actions: ActionExecutionDetail[], declaredCount: number, executionEnded: boolean): StageStatus {
  if (actions.length === 0) return executionEnded ? 'Skipped' : 'Pending';
  const statuses = actions.map((a) => a.status);
  if (statuses.includes('InProgress')) return 'InProgress';
  if (statuses.includes('Failed')) return 'Failed';
  if (statuses.includes('Abandoned')) return 'Stopped';
  if (statuses.every((s) => s === 'Succeeded') && actions.length >= declaredCount) return 'Succeeded';
  // Between two run orders of the stage.
  return executionEnded ? 'Stopped' : 'InProgress';
}

function actionError(a: ActionExecutionDetail): string | undefined {
  const r = a.output?.executionResult;
  return r?.errorDetails?.message ?? r?.externalExecutionSummary;
}
