/**
 * One simulated AWS that a lifecycle scenario evolves: the pipeline account (CodePipeline, SNS, the
 * bake gate's STS) and the stage accounts (CloudFormation stacks, CodeDeploy deployment groups and
 * deployments, Lambda aliases, ECS task sets, CloudWatch alarms and metrics). The SDK clients are
 * mocked (aws-sdk-client-mock) to read and write this state, and the product's own code runs
 * against it: the bake gate, the Lambda and ECS hooks, the ECS deployment resource, the
 * permission-check approver, the notifier with deployctl's diagnosis, and deployctl itself.
 *
 * What the world does itself is what AWS does: CodePipeline runs stages and actions and rolls a
 * failed stage back; CloudFormation creates, updates and rolls back stacks; CodeDeploy shifts
 * traffic, calls hooks, watches alarms and rolls back. Where AWS's exact wording is not documented
 * (CloudFormation's and CodePipeline's failure texts) the world's own wording is marked as such;
 * assertions rely on what the product writes, not on those texts.
 *
 * Time is simulated (sim-clock.ts): a release with two one-hour bakes runs in milliseconds.
 */
import * as ac from '@aws-sdk/client-appconfig';
import {
  CloudFormationClient,
  DescribeStackEventsCommand,
  DescribeStacksCommand,
  ListStackResourcesCommand,
  StackEvent,
} from '@aws-sdk/client-cloudformation';
import { CloudWatchClient, DescribeAlarmHistoryCommand, DescribeAlarmsCommand, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { CodeBuildClient } from '@aws-sdk/client-codebuild';
import {
  BatchGetDeploymentTargetsCommand,
  CodeDeployClient,
  ContinueDeploymentCommand,
  CreateDeploymentCommand,
  DeploymentInfo,
  GetDeploymentCommand,
  GetDeploymentGroupCommand,
  LifecycleEvent,
  ListDeploymentsCommand,
  ListDeploymentTargetsCommand,
  PutLifecycleEventHookExecutionStatusCommand,
  StopDeploymentCommand,
} from '@aws-sdk/client-codedeploy';
import * as cd from '@aws-sdk/client-codedeploy';
import {
  CodePipelineClient,
  GetPipelineCommand,
  GetPipelineExecutionCommand,
  GetPipelineStateCommand,
  ListActionExecutionsCommand,
  ListPipelineExecutionsCommand,
  PutApprovalResultCommand,
  PutJobFailureResultCommand,
  PutJobSuccessResultCommand,
  RollbackStageCommand,
} from '@aws-sdk/client-codepipeline';
import * as cp from '@aws-sdk/client-codepipeline';
import { DescribeServicesCommand, ECSClient } from '@aws-sdk/client-ecs';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { strToU8, zipSync } from 'fflate';
import { approveWhenPending } from '../../lambda/approve-permissions/index';
import { crossAccountClients, handleGateJob } from '../../lambda/bake-gate/index';
import { clearManifestCache } from '../../lambda/bake-gate/release-manifest';
import * as ecsDeployment from '../../lambda/ecs-deployment/deployment';
import { checkTestTraffic } from '../../lambda/ecs-test-traffic-hook/index';
import { checkEcsCanaryTraffic } from '../../lambda/ecs-traffic-check-hook/index';
import { checkLiveAlias } from '../../lambda/lambda-post-traffic-hook/index';
import { checkNewVersion } from '../../lambda/lambda-pre-traffic-hook/index';
import { NotifierEvent, notify, Notification } from '../../lambda/pipeline-notifier/index';
import { runHook } from '../../lambda/shared/codedeploy-hook';
import { createLogger } from '../../lambda/shared/logger';
import { CliDeps, main } from '../../lib/ops/cli';
import { TRAFFIC_CHECK_BUDGET_MS } from '../../lib/runtime/canary-traffic-settings';
import type { OpsClients } from '../../lib/runtime/clients';
import { diagnosePipeline } from '../../lib/runtime/diagnosis';
import type { GateSettings } from '../../lib/runtime/gate-settings';
import { parseServiceCheck } from '../../lib/runtime/service-check';
import { pipelineDeclaration } from '../support/pipeline-aws';
import { answerCommands } from '../support/sdk-answers';
import type { FixtureAction, FixtureService, FixtureStage, FixtureTarget, PipelineFixture } from './fixture';
import { SimClock } from './sim-clock';

// The SDK's Node-version notice is noise in test output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

/** Tuesday 3 November 2026, 09:00 in New York: the example's production window opens. */
export const T0 = Date.parse('2026-11-03T14:00:00Z');
export const MINUTE = 60_000;

/** How a version of a service behaves once deployed. */
export type Behaviour =
  /** Answers its checks and its users. */
  | 'healthy'
  /** Answers its health checks, but fails real users' requests: only the alarms can catch it. */
  | 'errors-under-traffic'
  /** Fails its own health check: the hooks catch it before users see it. */
  | 'fails-health-check';

/** What one commit deploys. */
export interface Release {
  readonly commit: string;
  readonly message: string;
  /** Each service's code (same `code` as the deployed one: nothing to deploy) and how it behaves. */
  readonly services: Readonly<Record<string, { readonly code: string; readonly behaviour?: Behaviour }>>;
  /** The commit changes the pipeline's structure: UpdatePipeline self-mutates and the execution restarts. */
  readonly changesPipeline?: boolean;
  /** Gate settings of this release (the release manifest); the example's by default. */
  readonly gates?: (gates: Record<string, GateSettings>) => Record<string, GateSettings>;
  /** `cdk diff --security-only` finds a broadening (new stacks always do). */
  readonly broadensPermissions?: boolean;
}

type ExecStatus = 'InProgress' | 'Succeeded' | 'Failed' | 'Superseded' | 'Stopped';
type RunStatus = 'InProgress' | 'Succeeded' | 'Failed' | 'Abandoned';

interface ActionRun {
  readonly id: string;
  readonly execution: Execution;
  readonly stage: string;
  readonly action: FixtureAction;
  status: RunStatus;
  readonly start: number;
  end?: number;
  summary?: string;
  error?: string;
  token?: string;
  externalId?: string;
}

interface StageRun {
  status: RunStatus;
  readonly start: number;
  end?: number;
}

export interface Execution {
  readonly id: string;
  readonly type: 'STANDARD' | 'ROLLBACK';
  readonly version: number;
  status: ExecStatus;
  readonly release: Release;
  readonly trigger: { readonly triggerType: string; readonly triggerDetail: string };
  readonly start: number;
  end?: number;
  readonly stages: Map<string, StageRun>;
  readonly actions: ActionRun[];
  readonly rollbackTarget?: string;
  /** The SafetyOverride variable. */
  readonly override: string;
}

interface Stack {
  readonly name: string;
  readonly account: string;
  readonly region: string;
  readonly kind: 'platform' | 'lambda' | 'ecs';
  readonly target: FixtureTarget;
  readonly service?: FixtureService;
  readonly id: string;
  status: string;
  readonly events: StackEvent[];
  readonly resources: { LogicalResourceId: string; PhysicalResourceId: string; ResourceType: string }[];
  /** The service code the stack's template holds. */
  code?: string;
}

interface Alarm {
  readonly name: string;
  readonly account: string;
  readonly region: string;
  readonly kind: 'metric' | 'composite';
  readonly rule?: string;
  readonly metrics?: {
    Id: string;
    MetricStat: {
      Metric: { Namespace: string; MetricName: string; Dimensions: { Name: string; Value: string }[] };
      Period: number;
      Stat: string;
    };
  }[];
  state: 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';
  reason: string;
  updated: number;
  readonly history: { t: number; from: string; to: string }[];
}

interface LambdaService {
  readonly stack: Stack;
  readonly functionName: string;
  readonly versions: Map<string, { code: string; behaviour: Behaviour }>;
  alias: { version: string; extra?: { version: string; weight: number } };
}

interface TaskSet {
  readonly id: string;
  readonly taskDefinition: string;
  status: 'PRIMARY' | 'ACTIVE';
  weight: number;
  readonly targetGroup: string;
}

interface EcsService {
  readonly stack: Stack;
  readonly cluster: string;
  readonly serviceName: string;
  readonly family: string;
  readonly taskDefs: Map<string, { code: string; behaviour: Behaviour }>;
  taskSets: TaskSet[];
  revision: number;
  /** Which target group the test listener routes to. */
  testTarget?: string;
}

interface Group {
  readonly app: string;
  readonly name: string;
  readonly account: string;
  readonly region: string;
  readonly platform: 'Lambda' | 'ECS';
  readonly stack: Stack;
  readonly alarms: string[];
  lastSuccessful?: string;
  lastAttempted?: string;
}

interface Deployment {
  readonly id: string;
  readonly group: Group;
  status: 'Created' | 'InProgress' | 'Succeeded' | 'Failed' | 'Stopped';
  readonly creator: string;
  readonly createTime: number;
  completeTime?: number;
  readonly content: string;
  readonly description?: string;
  errorInformation?: { code: string; message: string };
  rollbackInfo?: { rollbackMessage: string };
  readonly events: LifecycleEvent[];
  terminationWaitStarted?: number;
  /** Why it is to stop: an operator's StopDeployment. */
  stopRequested?: boolean;
  /** ContinueDeployment(TERMINATION_WAIT): end the wait for the original task set now. */
  continueRequested?: boolean;
  readonly hooks: Map<string, string>;
  readonly lambda?: { functionName: string; currentVersion: string; targetVersion: string };
  readonly ecs?: { service: EcsService; blue: TaskSet; green?: TaskSet; targetTaskDefinition: string };
}

/** A service's feature flags in one target: AppConfig application, environment and their deployments. */
interface FlagEnvironment {
  readonly account: string;
  readonly region: string;
  readonly appId: string;
  readonly appName: string;
  readonly envId: string;
  readonly envName: string;
  readonly stack: Stack;
  readonly deployments: { number: number; state: string; startedAt: number; description: string; version: string; percent: number }[];
}

interface MetricPoint {
  readonly minute: number;
  /** The service stack that served them. */
  readonly stack: string;
  readonly account: string;
  readonly region: string;
  /** Lambda: function and version; ECS: target group. */
  readonly fn?: string;
  readonly version?: string;
  readonly targetGroup?: string;
  readonly requests: number;
  readonly errors: number;
}

/** How the world's clients authenticate: the account rides in the access key id. */
const credentialsFor = (account: string) => ({ accessKeyId: `AKID${account}`, secretAccessKey: 'simulated', sessionToken: 'simulated' });

const ROLLBACK_STATES = ['FAILURE', 'STOP']; // DeploymentSafety's CodeDeployRollback rule
const hex = (n: number, len: number) => n.toString(16).padStart(len, '0');

export interface WorldOptions {
  readonly fixture: PipelineFixture;
  /** A person approves a pending permission-broadening confirmation after this long. @default 20 minutes; `never` to leave it pending */
  readonly personApprovesAfterMs?: number | 'never';
  /** Time between CodePipeline's failure of a production stage and the start of its automatic rollback. @default 10 seconds */
  readonly autoRollbackDelayMs?: number;
}

export class World {
  readonly clock = new SimClock(T0);
  readonly fixture: PipelineFixture;
  readonly mocks = {
    codepipeline: mockClient(CodePipelineClient),
    codedeploy: mockClient(CodeDeployClient),
    cloudformation: mockClient(CloudFormationClient),
    codebuild: mockClient(CodeBuildClient),
    cloudwatch: mockClient(CloudWatchClient),
    ecs: mockClient(ECSClient),
    lambda: mockClient(LambdaClient),
    sns: mockClient(SNSClient),
    sts: mockClient(STSClient),
    appconfig: mockClient(ac.AppConfigClient),
  };
  /** Feature flags (AppConfig) by `<account>/<region>/<application name>`. */
  readonly flagEnvironments = new Map<string, FlagEnvironment>();
  /** Every AWS call: when, who (account), what. */
  readonly calls: { at: number; account: string; region: string; service: string; command: string; input: any }[] = [];
  readonly executions: Execution[] = [];
  pipelineVersion = 1;
  readonly stacks = new Map<string, Stack>();
  readonly alarms = new Map<string, Alarm>();
  readonly roles = new Set<string>();
  readonly lambdas = new Map<string, LambdaService>();
  readonly ecsServices = new Map<string, EcsService>();
  readonly groups = new Map<string, Group>();
  readonly deployments = new Map<string, Deployment>();
  /** Requests served, by minute since T0. */
  readonly metrics = new Map<number, MetricPoint[]>();
  /** Requests per minute each service's users send, by `<target id>/<service>`. */
  readonly users = new Map<string, number>();
  /** What the notifier published to the topic. */
  readonly published: Notification[] = [];
  /** What the gate decided at each invocation, in order. */
  readonly gateDecisions: { at: number; gate: string; execution: string; outcome: 'continued' | 'succeeded' | 'failed'; reason: string }[] =
    [];
  /** Approvals a person had to give (permission broadening), by stage. */
  readonly personApprovals: string[] = [];
  /** What each lifecycle hook decided and reported, in order. */
  readonly hookReports: { deploymentId: string; stack: string; event: string; status: string; reason: string }[] = [];
  /** CreateDeployment calls the ECS deployment resource made. */
  readonly ecsCreateDeployments: { at: number; deploymentGroupName: string; taskDefinition?: string }[] = [];
  private readonly jobs = new Map<
    string,
    { run: ActionRun; result?: { kind: 'success' | 'failure'; token?: string; summary?: string; message?: string } }
  >();
  private readonly hookStatus = new Map<string, string>();
  /** The latest run of each action, by `<stage>/<action>` (what GetPipelineState shows). */
  private readonly latestRuns = new Map<string, ActionRun>();
  private readonly logger = createLogger('lifecycle-world');
  private counter = 0;
  private structureCommit?: string;
  /** Background work that settle() waits for: automatic rollbacks about to start, notifications. */
  private pending = 0;
  private readonly clientCache = new Map<
    string,
    OpsClients & { cloudwatch: CloudWatchClient; ecs: ECSClient; lambda: LambdaClient; sns: SNSClient; sts: STSClient }
  >();

  constructor(private readonly options: WorldOptions) {
    this.fixture = options.fixture;
    // The gate caches release manifests by artifact location for the life of its container.
    clearManifestCache();
    this.install();
    this.clock.spawn(() => this.traffic());
  }

  /** Restores the mocked clients (call in afterEach). */
  restore(): void {
    Object.values(this.mocks).forEach((m) => m.restore());
  }

  get now(): number {
    return this.clock.now;
  }
  readonly sleep = (ms: number) => this.clock.sleep(ms);

  /** Real SDK clients of an account and region (their `send` is the world's). */
  clientsOf(account: string, region: string) {
    const key = `${account}/${region}`;
    let c = this.clientCache.get(key);
    if (!c) {
      const config = { region, credentials: credentialsFor(account), maxAttempts: 1 };
      c = {
        codepipeline: new CodePipelineClient(config),
        codedeploy: new CodeDeployClient(config),
        cloudformation: new CloudFormationClient(config),
        codebuild: new CodeBuildClient(config),
        cloudwatch: new CloudWatchClient(config),
        ecs: new ECSClient(config),
        lambda: new LambdaClient(config),
        sns: new SNSClient(config),
        sts: new STSClient(config),
      };
      this.clientCache.set(key, c);
    }
    return c;
  }

  // ---- Scenario API ------------------------------------------------------------------------------

  /** A push of `release` to the branch: a new execution starts. */
  push(release: Release, override = 'none'): Execution {
    return this.startExecution(
      release,
      {
        triggerType: 'Webhook',
        triggerDetail: `arn:aws:codeconnections:${this.fixture.region}:${this.fixture.account}:connection/00000000-0000-4000-8000-000000000000`,
      },
      override,
    );
  }

  /** Runs the clock until no execution is in progress (or `limitMs` passes). */
  async settle(limitMs = 24 * 3_600_000): Promise<void> {
    await this.clock.drive(
      this.waitFor(
        () =>
          this.pending === 0 &&
          this.executions.every((e) => e.status !== 'InProgress') &&
          !this.deploymentsInFlight() &&
          !this.flagsInFlight(),
        30_000,
      ),
      limitMs,
    );
  }

  /**
   * Moves the clock to `time` (e.g. the next morning) while nothing runs: no execution, deployment or
   * notification in progress and no alarm firing. Users keep calling, but their quiet minutes need
   * no simulating; the alarms stay as they are and the minutes before `time` hold no requests.
   */
  async idleUntil(time: number): Promise<void> {
    const busy =
      this.pending > 0 || this.executions.some((e) => e.status === 'InProgress') || this.deploymentsInFlight() || this.flagsInFlight();
    if (busy || [...this.alarms.values()].some((a) => a.state === 'ALARM'))
      throw new Error('world: idleUntil while something runs or an alarm fires; use settle() first');
    this.clock.jump(time);
    await this.clock.advance(0);
  }

  /** Runs the clock until `condition` holds. */
  async runUntil(condition: () => boolean, limitMs = 24 * 3_600_000): Promise<void> {
    await this.clock.drive(this.waitFor(condition, 15_000), limitMs);
  }

  /**
   * Runs deployctl as an operator with the pipeline account's credentials, while the world goes on.
   * The pipeline and region are passed explicitly: tests never read safe-deploy.config.json.
   */
  async deployctl(argv: string[], extra: Partial<CliDeps> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
    const out: string[] = [];
    const err: string[] = [];
    const code = await this.clock.drive(
      main([...argv, '--pipeline', this.fixture.pipelineName, '--region', this.fixture.region], {
        clients: (region: string) => this.clientsOf(this.fixture.account, region),
        stdout: { write: (s: string) => out.push(s) },
        stderr: { write: (s: string) => err.push(s) },
        isTTY: false,
        env: {},
        sleep: this.sleep,
        now: () => this.now,
        ...extra,
      }),
    );
    return { code, stdout: out.join(''), stderr: err.join('') };
  }

  /** Sets the requests per minute the users of a service in a target send. */
  setUsers(targetId: string, service: string, perMinute: number): void {
    this.users.set(`${targetId}/${service}`, perMinute);
  }

  latest(): Execution {
    return this.executions[this.executions.length - 1];
  }

  stageStatus(stageName: string, execution?: Execution): RunStatus | undefined {
    const runs = this.executions.filter((e) => (execution ? e === execution : true) && e.stages.has(stageName));
    return runs.length > 0 ? runs[runs.length - 1].stages.get(stageName)!.status : undefined;
  }

  /** Rollback executions of a stage, oldest first. */
  rollbacksOf(stageName: string): Execution[] {
    return this.executions.filter((e) => e.type === 'ROLLBACK' && e.stages.has(stageName));
  }

  stack(name: string): Stack | undefined {
    return this.stacks.get(name);
  }

  /** What a Lambda service's `live` alias serves: its version's code. */
  lambdaServes(stackName: string): string | undefined {
    const fn = [...this.lambdas.values()].find((l) => l.stack.name === stackName);
    return fn ? fn.versions.get(fn.alias.version)?.code : undefined;
  }

  /** What an ECS service's primary task set runs: its task definition's code. */
  ecsServes(stackName: string): string | undefined {
    const svc = [...this.ecsServices.values()].find((s) => s.stack.name === stackName);
    const primary = svc?.taskSets.find((t) => t.status === 'PRIMARY');
    return primary ? svc!.taskDefs.get(primary.taskDefinition)?.code : undefined;
  }

  deploymentsOf(stackName: string): Deployment[] {
    return [...this.deployments.values()].filter((d) => d.group.stack.name === stackName);
  }

  flagsInFlight(): boolean {
    return [...this.flagEnvironments.values()].some((f) =>
      f.deployments.some((d) => ['DEPLOYING', 'BAKING', 'ROLLING_BACK'].includes(d.state)),
    );
  }

  deploymentsInFlight(): boolean {
    return [...this.deployments.values()].some((d) => d.status === 'Created' || d.status === 'InProgress');
  }

  callsTo(command: string): { at: number; account: string; region: string; input: any }[] {
    return this.calls.filter((c) => c.command === command);
  }

  // ---- CodePipeline --------------------------------------------------------------------------------

  private newId(): string {
    const n = ++this.counter;
    return `${hex(n, 8)}-5e1f-4c2a-9b3d-${hex(n * 7919, 12)}`;
  }

  private deploymentId(): string {
    return `d-LC${String(++this.counter).padStart(7, '0')}`;
  }

  private startExecution(
    release: Release,
    trigger: Execution['trigger'],
    override: string,
    rollback?: { stage: string; target: Execution },
  ): Execution {
    const exec: Execution = {
      id: this.newId(),
      type: rollback ? 'ROLLBACK' : 'STANDARD',
      version: this.pipelineVersion,
      status: 'InProgress',
      release,
      trigger,
      start: this.now,
      stages: new Map(),
      actions: [],
      rollbackTarget: rollback?.target.id,
      override,
    };
    this.executions.push(exec);
    this.clock.spawn(() => this.runExecution(exec, rollback?.stage));
    return exec;
  }

  private async runExecution(exec: Execution, onlyStage?: string): Promise<void> {
    const stages = onlyStage ? this.fixture.stages.filter((s) => s.name === onlyStage) : this.fixture.stages;
    for (const stage of stages) {
      if (exec.status !== 'InProgress') return;
      const run: StageRun = { status: 'InProgress', start: this.now };
      exec.stages.set(stage.name, run);
      let failed = false;
      const orders = [...new Set(stage.actions.map((a) => a.runOrder))].sort((a, b) => a - b);
      for (const order of orders) {
        const results = await Promise.all(stage.actions.filter((a) => a.runOrder === order).map((a) => this.runAction(exec, stage, a)));
        if (exec.status !== 'InProgress') return; // superseded by a self-mutation
        if (results.includes('Failed')) {
          failed = true;
          break;
        }
      }
      run.end = this.now;
      if (failed) {
        run.status = 'Failed';
        exec.status = 'Failed';
        exec.end = this.now;
        this.emit({
          'detail-type': 'CodePipeline Pipeline Execution State Change',
          detail: { pipeline: this.fixture.pipelineName, 'execution-id': exec.id, state: 'FAILED' },
        });
        if (stage.onFailure === 'ROLLBACK' && exec.type === 'STANDARD') this.background(() => this.automaticRollback(stage, exec));
        return;
      }
      run.status = 'Succeeded';
    }
    exec.status = 'Succeeded';
    exec.end = this.now;
  }

  /**
   * CodePipeline's rollback on failure: to the most recent execution that succeeded in the stage and
   * was started in the current structure version; none (a first run, or after a pipeline change)
   * means no rollback (stage-rollback-auto.html).
   */
  private async automaticRollback(stage: FixtureStage, failed: Execution): Promise<void> {
    await this.sleep(this.options.autoRollbackDelayMs ?? 10_000);
    const latest = this.latestStageExecution(stage.name);
    if (latest !== failed) return; // an operator's rollback (or a newer execution) got there first
    const target = this.rollbackTargetFor(stage.name);
    if (!target) return;
    this.startExecution(
      target.release,
      { triggerType: 'AutomatedRollback', triggerDetail: `{"FailedPipelineExecutionId":"${failed.id}"}` },
      target.override,
      { stage: stage.name, target },
    );
  }

  private rollbackTargetFor(stageName: string): Execution | undefined {
    return [...this.executions]
      .reverse()
      .find((e) => e.type === 'STANDARD' && e.version === this.pipelineVersion && e.stages.get(stageName)?.status === 'Succeeded');
  }

  private latestStageExecution(stageName: string): Execution | undefined {
    return [...this.executions].reverse().find((e) => e.stages.has(stageName));
  }

  private async runAction(exec: Execution, stage: FixtureStage, action: FixtureAction): Promise<RunStatus> {
    const run: ActionRun = { id: this.newId(), execution: exec, stage: stage.name, action, status: 'InProgress', start: this.now };
    exec.actions.push(run);
    this.latestRuns.set(`${stage.name}/${action.name}`, run);
    let outcome: { status: RunStatus; error?: string; summary?: string };
    try {
      outcome = await this.perform(exec, stage, action, run);
    } catch (err) {
      outcome = { status: 'Failed', error: `world: ${(err as Error).stack ?? err}` };
    }
    if (exec.status === 'Superseded' && outcome.status === 'InProgress') return 'Abandoned';
    run.status = outcome.status;
    run.error = outcome.error;
    if (outcome.summary !== undefined) run.summary = outcome.summary;
    run.end = this.now;
    return run.status;
  }

  private async perform(
    exec: Execution,
    stage: FixtureStage,
    action: FixtureAction,
    run: ActionRun,
  ): Promise<{ status: RunStatus; error?: string; summary?: string }> {
    switch (action.provider) {
      case 'CodeStarSourceConnection':
        await this.sleep(0.5 * MINUTE);
        return { status: 'Succeeded' };
      case 'CloudFormation':
        return this.deployStack(exec, action);
      case 'Lambda':
        return this.gateAction(exec, stage, action, run);
      case 'Manual':
        return this.approval(stage, run);
      case 'CodeBuild':
        if (action.name === 'SelfMutate') return this.selfMutate(exec);
        if (action.name.startsWith('SmokeTest-')) return this.smokeTest(stage);
        if (action.name.endsWith('.Check')) return this.permissionsCheck(exec, stage, action);
        await this.sleep(2 * MINUTE);
        return { status: 'Succeeded' };
      default:
        throw new Error(`no simulation of ${action.provider}`);
    }
  }

  private async selfMutate(exec: Execution): Promise<{ status: RunStatus }> {
    await this.sleep(MINUTE);
    if (exec.release.changesPipeline && this.structureCommit !== exec.release.commit) {
      // CDK Pipelines: the pipeline stack update changes the structure; the execution is superseded
      // and the updated pipeline runs the same commit again.
      this.structureCommit = exec.release.commit;
      this.pipelineVersion++;
      exec.status = 'Superseded';
      exec.end = this.now;
      this.startExecution(
        exec.release,
        {
          triggerType: 'CloudFormationStackUpdate',
          triggerDetail: `arn:aws:cloudformation:${this.fixture.region}:${this.fixture.account}:stack/safe-deploy-pipeline/0`,
        },
        exec.override,
      );
    }
    return { status: 'Succeeded' };
  }

  private async smokeTest(stage: FixtureStage): Promise<{ status: RunStatus; error?: string }> {
    await this.sleep(2 * MINUTE);
    const broken = this.fixture.targets
      .filter((t) => t.pipelineStage === stage.name)
      .flatMap((t) => t.services)
      .filter((s) => this.servedBehaviour(s.stackName) === 'fails-health-check');
    return broken.length > 0
      ? { status: 'Failed', error: `Build terminated with state: FAILED (smoke test of ${broken.map((s) => s.name).join(', ')})` }
      : { status: 'Succeeded' };
  }

  private servedBehaviour(stackName: string): Behaviour | undefined {
    const fn = [...this.lambdas.values()].find((l) => l.stack.name === stackName);
    if (fn) return fn.versions.get(fn.alias.version)?.behaviour;
    const svc = [...this.ecsServices.values()].find((s) => s.stack.name === stackName);
    const primary = svc?.taskSets.find((t) => t.status === 'PRIMARY');
    return primary ? svc!.taskDefs.get(primary.taskDefinition)?.behaviour : undefined;
  }

  /** The wave's `cdk diff --security-only`: new stacks and broadening releases need a person. */
  private async permissionsCheck(
    exec: Execution,
    stage: FixtureStage,
    action: FixtureAction,
  ): Promise<{ status: RunStatus; summary: string }> {
    await this.sleep(2 * MINUTE);
    const stacks = this.fixture.targets
      .filter((t) => t.pipelineStage === stage.name)
      .flatMap((t) => [t.platformStack, ...t.services.map((s) => s.stackName)]);
    const broadens = exec.release.broadensPermissions || stacks.some((s) => !this.stacks.has(s));
    if (!broadens) {
      const event = {
        PipelineName: this.fixture.pipelineName,
        StageName: stage.name,
        ActionName: action.name.replace(/\.Check$/, '.Confirm'),
      };
      const clients = this.clientsOf(this.fixture.account, this.fixture.region);
      this.clock.spawn(() =>
        approveWhenPending(event, {
          codepipeline: clients.codepipeline,
          logger: this.logger,
          sleep: this.sleep,
          retry: { sleep: this.sleep },
        }),
      );
      return { status: 'Succeeded', summary: 'No security-impacting changes detected.' };
    }
    return {
      status: 'Succeeded',
      summary:
        'This wave would make security-impacting changes (or the check could not run). Open the link to review them, then approve or reject.',
    };
  }

  private async approval(stage: FixtureStage, run: ActionRun): Promise<{ status: RunStatus; summary?: string }> {
    run.token = this.newId();
    const asked = this.now;
    const after = this.options.personApprovesAfterMs ?? 20 * MINUTE;
    for (;;) {
      if (run.status !== 'InProgress') return { status: run.status, summary: run.summary };
      if (after !== 'never' && this.now - asked >= after) {
        this.personApprovals.push(stage.name);
        const clients = this.clientsOf(this.fixture.account, this.fixture.region);
        await clients.codepipeline.send(
          new PutApprovalResultCommand({
            pipelineName: this.fixture.pipelineName,
            stageName: stage.name,
            actionName: run.action.name,
            token: run.token,
            result: { status: 'Approved', summary: 'Reviewed the IAM changes' },
          }),
        );
        continue;
      }
      await this.sleep(30_000);
    }
  }

  /** The bake gate's Lambda action: invoked again while it asks to continue. */
  private async gateAction(
    exec: Execution,
    stage: FixtureStage,
    action: FixtureAction,
    run: ActionRun,
  ): Promise<{ status: RunStatus; error?: string; summary?: string }> {
    const params = action
      .userParameters!.replace('#{variables.SafetyOverride}', exec.override)
      .replace('#{codepipeline.PipelineExecutionId}', exec.id);
    const gates = exec.release.gates ? exec.release.gates(JSON.parse(JSON.stringify(this.fixture.gates))) : this.fixture.gates;
    const zip = zipSync({ 'manifest.json': strToU8('{}'), 'safe-deploy.release.json': strToU8(JSON.stringify({ version: 1, gates })) });
    const clients = this.clientsOf(this.fixture.account, this.fixture.region);
    const { cloudWatchFor, appConfigFor } = crossAccountClients(clients.sts, 'safe-deploy-bake-gate');
    let continuationToken: string | undefined;
    for (;;) {
      const jobId = this.newId();
      this.jobs.set(jobId, { run });
      const result = await handleGateJob(
        {
          'CodePipeline.job': {
            id: jobId,
            accountId: this.fixture.account,
            data: {
              actionConfiguration: { configuration: { FunctionName: 'safe-deploy-bake-gate', UserParameters: params } },
              inputArtifacts: [
                {
                  name: 'Synth_Output',
                  revision: null,
                  location: {
                    type: 'S3',
                    s3Location: {
                      bucketName: 'safedeploypipeline-artifacts',
                      objectKey: `${this.fixture.pipelineName}/Synth_Outp/${exec.release.commit}-${exec.id}`,
                    },
                  },
                },
              ],
              outputArtifacts: [],
              artifactCredentials: { accessKeyId: 'ASIAARTIFACTS', secretAccessKey: 'simulated', sessionToken: 'simulated' },
              continuationToken,
            },
          },
        } as never,
        {
          codepipeline: clients.codepipeline,
          cloudWatchFor,
          appConfigFor,
          logger: this.logger,
          now: () => new Date(this.now),
          sleep: this.sleep,
          // The product's default is a minute (POLL_INTERVAL_SECONDS); five keep the simulation light.
          pollIntervalMs: 5 * MINUTE,
          pipelineName: this.fixture.pipelineName,
          readArtifact: async () => zip,
          retry: { sleep: this.sleep },
        },
      );
      this.gateDecisions.push({ at: this.now, gate: stage.name, execution: exec.id, outcome: result.outcome, reason: result.reason });
      const job = this.jobs.get(jobId)!;
      if (!job.result) return { status: 'Failed', error: 'The action timed out: the Lambda function did not report a result' };
      if (job.result.kind === 'failure') return { status: 'Failed', error: job.result.message, summary: job.result.message };
      run.summary = job.result.summary;
      if (!job.result.token) return { status: 'Succeeded', summary: job.result.summary };
      continuationToken = job.result.token;
    }
  }

  // ---- CloudFormation --------------------------------------------------------------------------------

  private targetOf(stackName: string): { target: FixtureTarget; kind: Stack['kind']; service?: FixtureService } {
    for (const target of this.fixture.targets) {
      if (target.platformStack === stackName) return { target, kind: 'platform' };
      const service = target.services.find((s) => s.stackName === stackName);
      if (service) return { target, kind: service.kind, service };
    }
    throw new Error(`world: stack ${stackName} is in no target of the fixture`);
  }

  private event(stack: Stack, logicalId: string, type: string, status: string, reason?: string): void {
    stack.events.unshift({
      StackId: stack.id,
      EventId: this.newId(),
      StackName: stack.name,
      LogicalResourceId: logicalId,
      PhysicalResourceId: logicalId === stack.name ? stack.id : `${stack.name}-${logicalId}`,
      ResourceType: type,
      Timestamp: new Date(this.now),
      ResourceStatus: status as 'CREATE_COMPLETE',
      ResourceStatusReason: reason,
    });
    if (logicalId === stack.name) stack.status = status;
  }

  private async deployStack(exec: Execution, action: FixtureAction): Promise<{ status: RunStatus; error?: string }> {
    const name = action.stackName!;
    const { target, kind, service } = this.targetOf(name);
    let stack = this.stacks.get(name);
    const creating = !stack;
    if (!stack) {
      stack = {
        name,
        account: target.account,
        region: target.region,
        kind,
        target,
        service,
        id: `arn:aws:cloudformation:${target.region}:${target.account}:stack/${name}/${this.newId()}`,
        status: 'REVIEW_IN_PROGRESS',
        events: [],
        resources: [],
      };
      this.stacks.set(name, stack);
    }
    const version = service ? exec.release.services[service.name] : undefined;
    if (!creating && (kind === 'platform' || stack.code === version?.code)) {
      await this.sleep(0.5 * MINUTE); // No updates are to be performed.
      return { status: 'Succeeded' };
    }
    this.event(stack, name, 'AWS::CloudFormation::Stack', creating ? 'CREATE_IN_PROGRESS' : 'UPDATE_IN_PROGRESS', 'User Initiated');
    if (kind === 'platform') {
      await this.sleep(3 * MINUTE);
      if (target.readerRoleName) this.roles.add(`${target.account}/${target.readerRoleName}`);
      stack.resources.push({
        LogicalResourceId: 'GateReaderRole',
        PhysicalResourceId: target.readerRoleName ?? 'role',
        ResourceType: 'AWS::IAM::Role',
      });
      this.event(stack, name, 'AWS::CloudFormation::Stack', 'CREATE_COMPLETE');
      return { status: 'Succeeded' };
    }
    if (creating) {
      await this.sleep(2 * MINUTE);
      if (kind === 'lambda') this.createLambdaService(stack, version!);
      else {
        const failure = await this.createEcsService(stack, version!);
        if (failure) return failure;
      }
      stack.code = version!.code;
      this.deployFlags(stack);
      this.event(stack, name, 'AWS::CloudFormation::Stack', 'CREATE_COMPLETE');
      return { status: 'Succeeded' };
    }
    const failure: { resource: string; rollback?: () => Promise<string | undefined> } | undefined =
      kind === 'lambda' ? await this.updateLambdaService(stack, version!) : await this.updateEcsService(stack, version!);
    if (failure) {
      this.event(
        stack,
        name,
        'AWS::CloudFormation::Stack',
        'UPDATE_ROLLBACK_IN_PROGRESS',
        `The following resource(s) failed to update: [${failure.resource}].`,
      );
      await this.sleep(2 * MINUTE);
      if (failure.rollback) {
        const rolledBack = await failure.rollback();
        if (rolledBack) {
          this.event(
            stack,
            name,
            'AWS::CloudFormation::Stack',
            'UPDATE_ROLLBACK_FAILED',
            `The following resource(s) failed to update: [${failure.resource}].`,
          );
          return {
            status: 'Failed',
            error: `world: stack ${name} failed to update and to roll back (UPDATE_ROLLBACK_FAILED): ${rolledBack}`,
          };
        }
      }
      this.event(stack, name, 'AWS::CloudFormation::Stack', 'UPDATE_ROLLBACK_COMPLETE');
      // The world's wording of CodePipeline's CloudFormation action error (AWS's exact text is not documented).
      return {
        status: 'Failed',
        error: `Stack ${name} failed to update. Current stack status: UPDATE_ROLLBACK_COMPLETE. Reason: The following resource(s) failed to update: [${failure.resource}].`,
      };
    }
    stack.code = version!.code;
    this.deployFlags(stack);
    this.event(stack, name, 'AWS::CloudFormation::Stack', 'UPDATE_COMPLETE');
    return { status: 'Succeeded' };
  }

  /**
   * The stack's AWS::AppConfig::Deployment: a new deployment when the flags' content (digest) is new
   * to the environment. CloudFormation does not wait for the rollout; the gates do.
   */
  private deployFlags(stack: Stack): void {
    const flags = stack.service?.flags;
    if (!flags) return;
    const key = `${stack.account}/${stack.region}/${flags.application}`;
    let env = this.flagEnvironments.get(key);
    if (!env) {
      env = {
        account: stack.account,
        region: stack.region,
        appId: hex(this.counter++, 7),
        appName: flags.application,
        envId: hex(this.counter++, 7),
        envName: flags.environment,
        stack,
        deployments: [],
      };
      this.flagEnvironments.set(key, env);
    }
    const description = `safe-deploy: flags of ${stack.service!.name}, sha256 ${flags.digest}`;
    if (env.deployments[0]?.description === description) return;
    const d = {
      number: env.deployments.length + 1,
      state: 'DEPLOYING',
      startedAt: this.now,
      description,
      version: String(env.deployments.length + 1),
      percent: 0,
    };
    env.deployments.unshift(d);
    this.clock.spawn(async () => {
      // AppConfig watches the service's health alarm while it rolls out and bakes.
      const health = `${stack.account}/${stack.region}/${stack.service!.healthAlarmName}`;
      const steps: [string, number][] = [
        ['DEPLOYING', flags.deploymentMinutes],
        ['BAKING', flags.bakeMinutes],
      ];
      for (const [state, minutes] of steps) {
        d.state = state;
        for (let m = 0; m < minutes; m++) {
          if (this.alarms.get(health)?.state === 'ALARM') {
            d.state = 'ROLLED_BACK';
            return;
          }
          await this.sleep(MINUTE);
          if (state === 'DEPLOYING') d.percent = Math.min(100, Math.round(((m + 1) / minutes) * 100));
        }
        d.percent = 100;
      }
      d.state = 'COMPLETE';
    });
  }

  private prefixOf(service: FixtureService): string {
    return service.healthAlarmName.replace(/-Health$/, '');
  }

  private createAlarms(stack: Stack, metricsOf: (which: 'new' | 'all') => Alarm['metrics']): string[] {
    const prefix = this.prefixOf(stack.service!);
    const metric = (name: string, which: 'new' | 'all'): Alarm => ({
      name,
      account: stack.account,
      region: stack.region,
      kind: 'metric',
      metrics: metricsOf(which),
      state: 'OK',
      reason: 'Threshold Crossed: no datapoints were received for 3 periods and 3 missing datapoints were treated as [NonBreaching].',
      updated: this.now,
      history: [],
    });
    const judge = metric(`${prefix}-ErrorJudge`, 'new');
    const catastrophe = metric(`${prefix}-Catastrophe`, 'all');
    const health: Alarm = {
      name: stack.service!.healthAlarmName,
      account: stack.account,
      region: stack.region,
      kind: 'composite',
      rule: `ALARM("${catastrophe.name}")`,
      state: 'OK',
      reason: 'arn:aws:cloudwatch: transitioned to OK',
      updated: this.now,
      history: [],
    };
    for (const a of [judge, catastrophe, health]) this.alarms.set(`${stack.account}/${stack.region}/${a.name}`, a);
    return [judge.name, catastrophe.name];
  }

  private createGroup(stack: Stack, platform: Group['platform'], alarms: string[]): Group {
    const group: Group = {
      app: `${stack.name}-ServiceDeploymentGroupApplication-${hex(this.counter++, 6).toUpperCase()}`,
      name: `${stack.name}-ServiceDeploymentGroup-${hex(this.counter++, 6).toUpperCase()}`,
      account: stack.account,
      region: stack.region,
      platform,
      stack,
      alarms,
    };
    this.groups.set(`${stack.account}/${stack.region}/${group.app}/${group.name}`, group);
    stack.resources.push(
      {
        LogicalResourceId: 'ServiceDeploymentGroupApplication2E566B76',
        PhysicalResourceId: group.app,
        ResourceType: 'AWS::CodeDeploy::Application',
      },
      {
        LogicalResourceId: 'ServiceDeploymentGroupE338BE38',
        PhysicalResourceId: group.name,
        ResourceType: 'AWS::CodeDeploy::DeploymentGroup',
      },
    );
    return group;
  }

  private groupOf(stack: Stack): Group {
    return [...this.groups.values()].find((g) => g.stack === stack)!;
  }

  private createLambdaService(stack: Stack, version: Release['services'][string]): void {
    const functionName = `${stack.name}-ServiceFunction-${hex(this.counter++, 8).toUpperCase()}`;
    const fn: LambdaService = {
      stack,
      functionName,
      versions: new Map([['1', { code: version.code, behaviour: version.behaviour ?? 'healthy' }]]),
      alias: { version: '1' },
    };
    this.lambdas.set(functionName, fn);
    const dims = (v?: string) => [
      { Name: 'FunctionName', Value: functionName },
      { Name: 'Resource', Value: `${functionName}:live` },
      ...(v ? [{ Name: 'ExecutedVersion', Value: v }] : []),
    ];
    const alarms = this.createAlarms(stack, (which) => {
      const v = which === 'new' ? (fn.alias.extra?.version ?? fn.alias.version) : undefined;
      return ['Errors', 'Invocations'].map((metricName) => ({
        Id: metricName.toLowerCase(),
        MetricStat: { Metric: { Namespace: 'AWS/Lambda', MetricName: metricName, Dimensions: dims(v) }, Period: 60, Stat: 'Sum' },
      }));
    });
    this.createGroup(stack, 'Lambda', alarms);
    stack.resources.push({
      LogicalResourceId: 'ServiceFunction243F2A49',
      PhysicalResourceId: functionName,
      ResourceType: 'AWS::Lambda::Function',
    });
  }

  /** An alias update with a new version: CloudFormation's CodeDeployLambdaAliasUpdate starts a deployment and waits for it. */
  private async updateLambdaService(stack: Stack, version: Release['services'][string]): Promise<{ resource: string } | undefined> {
    const fn = [...this.lambdas.values()].find((l) => l.stack === stack)!;
    const current = fn.alias.version;
    const next = String(Math.max(...[...fn.versions.keys()].map(Number)) + 1);
    fn.versions.set(next, { code: version.code, behaviour: version.behaviour ?? 'healthy' });
    this.event(stack, 'ServiceFunctionCurrentVersion', 'AWS::Lambda::Version', 'CREATE_COMPLETE');
    this.event(stack, 'ServiceAliasLive4E7C9B2A', 'AWS::Lambda::Alias', 'UPDATE_IN_PROGRESS');
    const group = this.groupOf(stack);
    const d = this.newDeployment(
      group,
      'CloudFormation',
      JSON.stringify({
        version: 0.0,
        Resources: [
          {
            ServiceFunction: {
              Type: 'AWS::Lambda::Function',
              Properties: { Name: fn.functionName, Alias: 'live', CurrentVersion: current, TargetVersion: next },
            },
          },
        ],
        Hooks: [{ BeforeAllowTraffic: `${stack.name}-PreTrafficHook` }, { AfterAllowTraffic: `${stack.name}-PostTrafficHook` }],
      }),
      ['BeforeAllowTraffic', 'AllowTraffic', 'AfterAllowTraffic'],
      { lambda: { functionName: fn.functionName, currentVersion: current, targetVersion: next } },
    );
    this.clock.spawn(() => this.runLambdaDeployment(d, fn));
    while (d.status === 'Created' || d.status === 'InProgress') await this.sleep(30_000);
    if (d.status === 'Succeeded') {
      this.event(stack, 'ServiceAliasLive4E7C9B2A', 'AWS::Lambda::Alias', 'UPDATE_COMPLETE');
      return undefined;
    }
    // The world's wording: CloudFormation names the deployment; CodeDeploy has the why.
    this.event(
      stack,
      'ServiceAliasLive4E7C9B2A',
      'AWS::Lambda::Alias',
      'UPDATE_FAILED',
      `CodeDeploy deployment ${d.id} ${d.status === 'Stopped' ? 'was stopped' : 'failed'}; see the deployment in the CodeDeploy console.`,
    );
    fn.versions.delete(next);
    return { resource: 'ServiceAliasLive4E7C9B2A' };
  }

  private async createEcsService(
    stack: Stack,
    version: Release['services'][string],
  ): Promise<{ status: RunStatus; error: string } | undefined> {
    const family = `${stack.name}-TaskDef`;
    const svc: EcsService = {
      stack,
      cluster: `${stack.target.platformStack}-Cluster`,
      serviceName: `${stack.name}-Service`,
      family,
      taskDefs: new Map(),
      taskSets: [],
      revision: 0,
    };
    const td = this.registerTaskDefinition(svc, version);
    svc.taskSets.push({
      id: `ecs-svc/${hex(this.counter++, 19)}`,
      taskDefinition: td,
      status: 'PRIMARY',
      weight: 100,
      targetGroup: `${stack.name}-Blue`,
    });
    this.ecsServices.set(`${stack.account}/${stack.region}/${svc.serviceName}`, svc);
    const tgDims = (tg: string) => [
      { Name: 'TargetGroup', Value: `targetgroup/${tg}/0123456789abcdef` },
      { Name: 'LoadBalancer', Value: `app/${stack.name}-alb/fedcba9876543210` },
    ];
    const alarms = this.createAlarms(stack, (which) =>
      (which === 'new' ? [`${stack.name}-Green`] : [`${stack.name}-Blue`, `${stack.name}-Green`]).flatMap((tg, i) =>
        ['HTTPCode_Target_5XX_Count', 'RequestCount'].map((metricName) => ({
          Id: `${metricName === 'RequestCount' ? 'r' : 'e'}${i}`,
          MetricStat: {
            Metric: { Namespace: 'AWS/ApplicationELB', MetricName: metricName, Dimensions: tgDims(tg) },
            Period: 60,
            Stat: 'Sum',
          },
        })),
      ),
    );
    const group = this.createGroup(stack, 'ECS', alarms);
    stack.resources.push({
      LogicalResourceId: 'ServiceD69D759B',
      PhysicalResourceId: `arn:aws:ecs:${stack.region}:${stack.account}:service/${svc.cluster}/${svc.serviceName}`,
      ResourceType: 'AWS::ECS::Service',
    });
    // The deployment resource's Create: the service already runs what it would deploy.
    const failure = await this.customResource(stack, 'Create', this.ecsProps(svc, group, td));
    if (failure) {
      this.event(stack, stack.name, 'AWS::CloudFormation::Stack', 'ROLLBACK_COMPLETE');
      return { status: 'Failed', error: failure };
    }
    return undefined;
  }

  private registerTaskDefinition(svc: EcsService, version: Release['services'][string]): string {
    svc.revision++;
    const arn = `arn:aws:ecs:${svc.stack.region}:${svc.stack.account}:task-definition/${svc.family}:${svc.revision}`;
    svc.taskDefs.set(arn, { code: version.code, behaviour: version.behaviour ?? 'healthy' });
    return arn;
  }

  private ecsProps(svc: EcsService, group: Group, taskDefinitionArn: string): Record<string, unknown> {
    return {
      ServiceToken: `arn:aws:lambda:${svc.stack.region}:${svc.stack.account}:function:${svc.stack.name}-DeploymentProvider`,
      ApplicationName: group.app,
      DeploymentGroupName: group.name,
      ClusterName: svc.cluster,
      ServiceName: svc.serviceName,
      TaskDefinitionArn: taskDefinitionArn,
      ContainerName: 'web',
      ContainerPort: String(svc.stack.service!.port ?? 8080),
      Hooks: {
        AfterAllowTestTraffic: `arn:aws:lambda:${svc.stack.region}:${svc.stack.account}:function:${svc.stack.name}-TestTrafficHook`,
        ...(svc.stack.service!.trafficCheck
          ? { AfterAllowTraffic: `arn:aws:lambda:${svc.stack.region}:${svc.stack.account}:function:${svc.stack.name}-TrafficCheckHook` }
          : {}),
      },
    };
  }

  /**
   * The ECS deployment custom resource through the Provider framework: onEvent, then isComplete every
   * 30 s (queryInterval) until it completes, throws, or CloudFormation's hour runs out.
   */
  private async customResource(
    stack: Stack,
    requestType: 'Create' | 'Update',
    props: Record<string, unknown>,
    oldProps?: Record<string, unknown>,
  ): Promise<string | undefined> {
    const clients = this.clientsOf(stack.account, stack.region);
    const deps = {
      codedeploy: clients.codedeploy,
      ecs: clients.ecs,
      logger: this.logger,
      retry: { sleep: this.sleep },
      now: () => new Date(this.now),
    };
    const base = {
      RequestType: requestType,
      ServiceToken: props.ServiceToken as string,
      ResponseURL: 'https://cloudformation-custom-resource-response.example/',
      StackId: stack.id,
      RequestId: this.newId(),
      LogicalResourceId: 'ServiceDeployment0F8E1D2C',
      ResourceType: 'Custom::EcsCodeDeployDeployment',
      ResourceProperties: props,
      ...(requestType === 'Update'
        ? { PhysicalResourceId: `${props.ApplicationName}/${props.DeploymentGroupName}`, OldResourceProperties: oldProps }
        : {}),
    } as ecsDeployment.OnEventRequest;
    this.event(stack, 'ServiceDeployment0F8E1D2C', 'Custom::EcsCodeDeployDeployment', `${requestType.toUpperCase()}_IN_PROGRESS`);
    try {
      const started = await ecsDeployment.onEvent(base, deps);
      const deadline = this.now + 3_600_000;
      for (;;) {
        await this.sleep(30_000);
        const r = await ecsDeployment.isComplete({ ...base, ...started }, deps);
        if (r.IsComplete) break;
        if (this.now >= deadline)
          throw new Error('CloudFormation did not receive a response from your Custom Resource within the specified timeout');
      }
    } catch (err) {
      const reason = (err as Error).message;
      this.event(stack, 'ServiceDeployment0F8E1D2C', 'Custom::EcsCodeDeployDeployment', `${requestType.toUpperCase()}_FAILED`, reason);
      return reason;
    }
    this.event(stack, 'ServiceDeployment0F8E1D2C', 'Custom::EcsCodeDeployDeployment', `${requestType.toUpperCase()}_COMPLETE`);
    return undefined;
  }

  /** A new task definition revision: the deployment resource's Update; on failure, CloudFormation's rollback Update. */
  private async updateEcsService(
    stack: Stack,
    version: Release['services'][string],
  ): Promise<{ resource: string; rollback: () => Promise<string | undefined> } | undefined> {
    const svc = [...this.ecsServices.values()].find((s) => s.stack === stack)!;
    const group = this.groupOf(stack);
    const oldTd = `arn:aws:ecs:${stack.region}:${stack.account}:task-definition/${svc.family}:${svc.revision}`;
    const td = this.registerTaskDefinition(svc, version);
    this.event(stack, 'TaskDef54694570', 'AWS::ECS::TaskDefinition', 'UPDATE_COMPLETE');
    const failure = await this.customResource(stack, 'Update', this.ecsProps(svc, group, td), this.ecsProps(svc, group, oldTd));
    if (!failure) return undefined;
    return {
      resource: 'ServiceDeployment0F8E1D2C',
      rollback: async () => {
        const r = await this.customResource(stack, 'Update', this.ecsProps(svc, group, oldTd), this.ecsProps(svc, group, td));
        svc.revision--; // the new revision is deregistered with the rollback
        return r;
      },
    };
  }

  // ---- CodeDeploy --------------------------------------------------------------------------------------

  private newDeployment(
    group: Group,
    creator: string,
    content: string,
    events: string[],
    extra: Pick<Deployment, 'lambda' | 'ecs'>,
    description?: string,
  ): Deployment {
    const d: Deployment = {
      id: this.deploymentId(),
      group,
      status: 'Created',
      creator,
      createTime: this.now,
      content,
      description,
      events: events.map((name) => ({ lifecycleEventName: name, status: 'Pending' })),
      hooks: new Map(),
      ...extra,
    };
    group.lastAttempted = d.id;
    this.deployments.set(d.id, d);
    return d;
  }

  private hookOf(d: Deployment, event: string): string | undefined {
    const hooks = (JSON.parse(d.content).Hooks ?? []) as Record<string, string>[];
    return hooks.find((h) => h[event])?.[event];
  }

  /** Runs a lifecycle event: its hook (if the AppSpec names one) must report within an hour. */
  private async lifecycle(d: Deployment, name: string, work?: () => Promise<void>): Promise<boolean> {
    const ev = d.events.find((e) => e.lifecycleEventName === name)!;
    ev.status = 'InProgress';
    ev.startTime = new Date(this.now);
    if (work) await work();
    const hook = this.hookOf(d, name);
    if (hook) {
      const executionId = this.newId();
      d.hooks.set(executionId, name);
      this.clock.spawn(() => this.invokeHook(d, hook, executionId));
      const deadline = this.now + 3_600_000;
      while (!this.hookStatus.has(executionId) && this.now < deadline && !d.stopRequested) await this.sleep(5_000);
      const status = this.hookStatus.get(executionId) ?? 'Failed';
      if (status !== 'Succeeded') {
        ev.status = 'Failed';
        ev.endTime = new Date(this.now);
        ev.diagnostics = { errorCode: 'ScriptFailed', scriptName: '', message: `The ${name} hook reported ${status}`, logTail: '' };
        return false;
      }
    }
    ev.status = 'Succeeded';
    ev.endTime = new Date(this.now);
    return true;
  }

  /** Calls the hook function the AppSpec names, as CodeDeploy does (asynchronously, with the two ids). */
  private async invokeHook(d: Deployment, fn: string, executionId: string): Promise<void> {
    const stack = d.group.stack;
    const clients = this.clientsOf(stack.account, stack.region);
    const ids = { DeploymentId: d.id, LifecycleEventHookExecutionId: executionId };
    const report = (r: { status: string; reason: string }) =>
      this.hookReports.push({
        deploymentId: d.id,
        stack: stack.name,
        event: d.hooks.get(executionId)!,
        status: r.status,
        reason: r.reason,
      });
    if (d.lambda) {
      const service = stack.service!;
      const check = parseServiceCheck(
        JSON.stringify(
          service.healthCheck
            ? {
                type: 'http',
                path: service.healthCheck.path,
                expectedStatus: service.healthCheck.expectedStatus ?? 200,
                bodyContains: service.healthCheck.bodyContains,
              }
            : { type: 'none' },
        ),
      );
      if ('error' in check) throw new Error(check.error);
      const post = fn.endsWith('PostTrafficHook');
      const trafficCheck = post ? service.trafficCheck : undefined;
      const config = {
        functionName: d.lambda.functionName,
        aliasName: 'live',
        checkTimeoutMs: 30_000,
        check,
        ...(trafficCheck ? { trafficCheck } : {}),
      };
      const deps = {
        codedeploy: clients.codedeploy,
        lambda: clients.lambda,
        cloudwatch: clients.cloudwatch,
        config,
        retry: { sleep: this.sleep },
        wait: this.trafficWait(),
      };
      const timeout = 30_000 + (trafficCheck ? TRAFFIC_CHECK_BUDGET_MS : 0);
      report(
        await runHook(ids, (hookIds, signal) => (post ? checkLiveAlias(hookIds, signal, deps) : checkNewVersion(hookIds, signal, deps)), {
          codedeploy: clients.codedeploy,
          logger: this.logger,
          checkTimeoutMs: timeout,
          retry: { sleep: this.sleep },
        }),
      );
      return;
    }
    if (fn.endsWith('TrafficCheckHook')) {
      const name = stack.name;
      const config = {
        check: stack.service!.trafficCheck!,
        loadBalancer: `app/${name}-alb/fedcba9876543210`,
        targetGroups: [`targetgroup/${name}-Blue/0123456789abcdef`, `targetgroup/${name}-Green/0123456789abcdef`] as [string, string],
        stackId: stack.id,
        clusterName: `${stack.target.platformStack}-Cluster`,
        serviceName: `${name}-Service`,
      };
      const deps = {
        codedeploy: clients.codedeploy,
        cloudwatch: clients.cloudwatch,
        cloudformation: clients.cloudformation,
        ecs: clients.ecs,
        retry: { sleep: this.sleep },
        wait: this.trafficWait(),
      };
      report(
        await runHook(ids, (hookIds, signal) => checkEcsCanaryTraffic(hookIds, signal, config, deps), {
          codedeploy: clients.codedeploy,
          logger: this.logger,
          checkTimeoutMs: TRAFFIC_CHECK_BUDGET_MS,
          retry: { sleep: this.sleep },
        }),
      );
      return;
    }
    const probes = (stack.service!.testTraffic ?? [{ path: '/health' }]).map((p) => ({ ...p }));
    const svc = d.ecs!.service;
    report(
      await runHook(
        ids,
        (_ids, signal) =>
          checkTestTraffic(
            {
              testUrl: `http://${svc.stack.target.id.toLowerCase()}-alb.example:8080`,
              fetch: this.testListenerFetch(svc),
              sleep: this.sleep,
              signal,
            },
            probes,
          ),
        { codedeploy: clients.codedeploy, logger: this.logger, checkTimeoutMs: 45_000, retry: { sleep: this.sleep } },
      ),
    );
  }

  /** The traffic checks' clock: they wait for the step's last minute to be published. */
  private trafficWait() {
    return { now: () => this.now, sleep: (ms: number) => this.sleep(ms) };
  }

  /** The ALB's test listener: it routes to the green task set during the test-traffic window. */
  private testListenerFetch(svc: EcsService): typeof fetch {
    return (async (url: string | URL) => {
      const ts = svc.taskSets.find((t) => t.targetGroup === svc.testTarget) ?? svc.taskSets.find((t) => t.status === 'PRIMARY')!;
      const behaviour = svc.taskDefs.get(ts.taskDefinition)!.behaviour;
      const path = new URL(String(url)).pathname;
      if (behaviour === 'fails-health-check') return new Response('{"status":"broken"}', { status: 500 });
      const name = new URL(String(url)).searchParams.get('name');
      return new Response(path === '/health' ? '{"status":"ok"}' : `Hello, ${name ?? 'world'}!`, { status: 200 });
    }) as typeof fetch;
  }

  /** Whether an alarm of the group is in ALARM; the names. */
  private firingAlarms(group: Group): string[] {
    return group.alarms.filter((n) => this.alarms.get(`${group.account}/${group.region}/${n}`)?.state === 'ALARM');
  }

  /** Watches the alarms and the stop button for `ms`, a minute at a time; returns why to stop, if so. */
  private async watch(d: Deployment, ms: number): Promise<'alarm' | 'stop' | undefined> {
    const until = this.now + ms;
    for (;;) {
      if (d.stopRequested) return 'stop';
      if (this.firingAlarms(d.group).length > 0) return 'alarm';
      if (this.now >= until) return undefined;
      await this.sleep(Math.min(MINUTE, until - this.now));
    }
  }

  private shift(service: FixtureService): { first: number; minutes: number } {
    const s = service.deployment;
    return s.type === 'all-at-once' ? { first: 100, minutes: 0 } : { first: s.percent, minutes: s.intervalMinutes };
  }

  private async runLambdaDeployment(d: Deployment, fn: LambdaService): Promise<void> {
    await this.sleep(10_000);
    d.status = 'InProgress';
    const target = d.lambda!.targetVersion;
    const restore = () => this.restoreAlias(fn, d);
    if (!(await this.lifecycle(d, 'BeforeAllowTraffic'))) return this.failed(d, restore);
    let why: 'alarm' | 'stop' | undefined;
    await this.lifecycle(d, 'AllowTraffic', async () => {
      const { first, minutes } = this.shift(d.group.stack.service!);
      if (first < 100) {
        fn.alias.extra = { version: target, weight: first / 100 };
        why = await this.watch(d, minutes * MINUTE);
      }
      if (!why) {
        fn.alias = { version: target };
        why = await this.watch(d, 0);
      }
    });
    if (why) return this.stopOrAlarm(d, why, restore, 'AllowTraffic');
    if (!(await this.lifecycle(d, 'AfterAllowTraffic'))) return this.failed(d, restore);
    d.status = 'Succeeded';
    d.completeTime = this.now;
    d.group.lastSuccessful = d.id;
  }

  private restoreAlias(fn: LambdaService, d: Deployment): void {
    fn.alias = { version: d.lambda!.currentVersion };
  }

  /** A lifecycle event failed: its hook reported Failed, or an operator stopped the deployment meanwhile. */
  private failed(d: Deployment, rollback: () => void): void {
    if (d.stopRequested) return this.stopOrAlarm(d, 'stop', rollback);
    return this.endDeployment(d, 'Failed', hookFailure(), rollback);
  }

  private stopOrAlarm(d: Deployment, why: 'alarm' | 'stop', rollback: () => void, during?: string): void {
    const ev = during ? d.events.find((e) => e.lifecycleEventName === during) : undefined;
    if (ev) ev.status = 'Failed';
    if (why === 'alarm') {
      const names = this.firingAlarms(d.group);
      return this.endDeployment(
        d,
        'Stopped',
        {
          code: 'ALARM_ACTIVE',
          message: `One or more alarms have been activated according to the Amazon CloudWatch metrics you selected, and the affected deployments have been stopped. Activated alarms: <${names.join(', ')}>`,
        },
        rollback,
      );
    }
    return this.endDeployment(d, 'Stopped', { code: 'MANUAL_STOP', message: 'The deployment was stopped by a user.' }, rollback);
  }

  private endDeployment(d: Deployment, status: 'Failed' | 'Stopped', error: { code: string; message: string }, rollback: () => void): void {
    rollback();
    d.status = status;
    d.completeTime = this.now;
    d.errorInformation = error;
    d.rollbackInfo = { rollbackMessage: 'Traffic was rerouted to the original version (automatic rollback).' };
    for (const e of d.events)
      if (e.status === 'InProgress' || e.status === 'Pending') e.status = e.status === 'InProgress' ? 'Failed' : 'Skipped';
    const stack = d.group.stack;
    // EventBridge in the stage account; RollbackEventForwarder (platform stack) forwards it unless the
    // stage is the pipeline's own account and region, where the pipeline's rule sees it directly.
    const local = stack.account === this.fixture.account && stack.region === this.fixture.region;
    const forwarder = this.stacks.has(stack.target.platformStack);
    const state = status === 'Stopped' ? 'STOP' : 'FAILURE';
    if ((local || forwarder) && ROLLBACK_STATES.includes(state)) {
      this.emit(
        {
          'detail-type': 'CodeDeploy Deployment State-change Notification',
          detail: { application: d.group.app, deploymentGroup: d.group.name, deploymentId: d.id, state, region: stack.region },
        },
        stack.account,
      );
    }
  }

  /** CreateDeployment by the ECS deployment resource: blue/green with the AppSpec's hooks. */
  private async runEcsDeployment(d: Deployment): Promise<void> {
    const { service: svc, blue } = d.ecs!;
    await this.sleep(10_000);
    d.status = 'InProgress';
    const rollback = () => {
      svc.taskSets = svc.taskSets.filter((t) => t !== d.ecs!.green);
      blue.status = 'PRIMARY';
      blue.weight = 100;
      svc.testTarget = undefined;
    };
    if (!(await this.lifecycle(d, 'BeforeInstall'))) return this.failed(d, rollback);
    await this.lifecycle(d, 'Install', async () => {
      await this.sleep(2 * MINUTE);
      const green: TaskSet = {
        id: `ecs-svc/${hex(this.counter++, 19)}`,
        taskDefinition: d.ecs!.targetTaskDefinition,
        status: 'ACTIVE',
        weight: 0,
        targetGroup: blue.targetGroup.endsWith('-Blue') ? `${svc.stack.name}-Green` : `${svc.stack.name}-Blue`,
      };
      svc.taskSets.push(green);
      d.ecs!.green = green;
    });
    if (!(await this.lifecycle(d, 'AfterInstall'))) return this.failed(d, rollback);
    await this.lifecycle(d, 'AllowTestTraffic', async () => {
      svc.testTarget = d.ecs!.green!.targetGroup;
    });
    for (const name of ['AfterAllowTestTraffic', 'BeforeAllowTraffic'])
      if (!(await this.lifecycle(d, name))) return this.failed(d, rollback);
    let why: 'alarm' | 'stop' | undefined;
    await this.lifecycle(d, 'AllowTraffic', async () => {
      const { first, minutes } = this.shift(svc.stack.service!);
      const green = d.ecs!.green!;
      if (first < 100) {
        green.weight = first;
        blue.weight = 100 - first;
        why = await this.watch(d, minutes * MINUTE);
      }
      if (!why) {
        green.weight = 100;
        green.status = 'PRIMARY';
        blue.weight = 0;
        blue.status = 'ACTIVE';
        svc.testTarget = undefined;
      }
    });
    if (why) return this.stopOrAlarm(d, why, rollback, 'AllowTraffic');
    if (!(await this.lifecycle(d, 'AfterAllowTraffic'))) return this.failed(d, rollback);
    // Traffic fully shifted; blue waits out its termination wait, still under the alarms.
    d.terminationWaitStarted = this.now;
    const waitUntil = this.now + (svc.stack.service!.blueTerminationWaitMinutes ?? 0) * MINUTE;
    while (this.now < waitUntil && !d.continueRequested) {
      why = await this.watch(d, Math.min(MINUTE, waitUntil - this.now));
      if (why) return this.stopOrAlarm(d, why, rollback);
    }
    svc.taskSets = svc.taskSets.filter((t) => t !== blue);
    d.status = 'Succeeded';
    d.completeTime = this.now;
    d.group.lastSuccessful = d.id;
  }

  // ---- Users, metrics and alarms --------------------------------------------------------------------

  /** Every minute: the users' requests are served by whatever version takes them; alarms evaluate. */
  private async traffic(): Promise<void> {
    for (;;) {
      await this.sleep(MINUTE);
      const minute = Math.floor((this.now - T0) / MINUTE);
      for (const [key, perMinute] of this.users) {
        const [targetId, serviceName] = key.split('/');
        const target = this.fixture.targets.find((t) => t.id === targetId)!;
        const service = target.services.find((s) => s.name === serviceName)!;
        const stack = this.stacks.get(service.stackName);
        if (!stack || perMinute <= 0) continue;
        const point = { minute, stack: stack.name, account: stack.account, region: stack.region };
        const errorsOf = (b: Behaviour | undefined, n: number) => (b === 'healthy' ? 0 : n);
        if (service.kind === 'lambda') {
          const fn = [...this.lambdas.values()].find((l) => l.stack === stack);
          if (!fn) continue;
          const extra = fn.alias.extra;
          const onExtra = extra ? Math.round(perMinute * extra.weight) : 0;
          const split: [string, number][] = extra
            ? [
                [fn.alias.version, perMinute - onExtra],
                [extra.version, onExtra],
              ]
            : [[fn.alias.version, perMinute]];
          for (const [version, n] of split)
            this.record({ ...point, fn: fn.functionName, version, requests: n, errors: errorsOf(fn.versions.get(version)?.behaviour, n) });
        } else {
          const svc = [...this.ecsServices.values()].find((s) => s.stack === stack);
          if (!svc) continue;
          for (const ts of svc.taskSets.filter((t) => t.weight > 0)) {
            const n = Math.round((perMinute * ts.weight) / 100);
            this.record({
              ...point,
              targetGroup: ts.targetGroup,
              requests: n,
              errors: errorsOf(svc.taskDefs.get(ts.taskDefinition)?.behaviour, n),
            });
          }
        }
      }
      this.evaluateAlarms(minute);
    }
  }

  private record(p: MetricPoint): void {
    const list = this.metrics.get(p.minute) ?? [];
    list.push(p);
    this.metrics.set(p.minute, list);
  }

  /** Sums the points of the last `minutes` whole minutes before `minute` that `match`. */
  private recent(match: (p: MetricPoint) => boolean, minute: number, minutes: number): { requests: number; errors: number }[] {
    const out: { requests: number; errors: number }[] = [];
    for (let m = minute - minutes + 1; m <= minute; m++) {
      const pts = (this.metrics.get(m) ?? []).filter(match);
      out.push({ requests: pts.reduce((a, p) => a + p.requests, 0), errors: pts.reduce((a, p) => a + p.errors, 0) });
    }
    return out;
  }

  /**
   * The world's alarms: the error judge watches the version being deployed (or the green target
   * group), the catastrophe alarm all traffic; in ALARM when 2 of the last 3 minutes broke 1%,
   * back to OK when none did. The composite health alarm follows the catastrophe alarm.
   */
  private evaluateAlarms(minute: number): void {
    const served = new Set<string>();
    for (let m = minute - 2; m <= minute; m++) for (const p of this.metrics.get(m) ?? []) served.add(p.stack);
    for (const stack of this.stacks.values()) {
      if (!stack.service) continue;
      // Without requests in the window every alarm is (or returns to) OK: skip what is already OK.
      if (
        !served.has(stack.name) &&
        ![...this.alarms.values()].some(
          (a) =>
            a.state === 'ALARM' &&
            a.account === stack.account &&
            a.region === stack.region &&
            a.name.startsWith(this.prefixOf(stack.service!)),
        )
      )
        continue;
      const prefix = this.prefixOf(stack.service);
      const get = (n: string) => this.alarms.get(`${stack.account}/${stack.region}/${n}`);
      const fn = [...this.lambdas.values()].find((l) => l.stack === stack);
      const svc = [...this.ecsServices.values()].find((s) => s.stack === stack);
      const of = (p: MetricPoint) =>
        p.account === stack.account &&
        p.region === stack.region &&
        (fn ? p.fn === fn.functionName : p.targetGroup?.startsWith(`${stack.name}-`) === true);
      const newest = fn ? (fn.alias.extra?.version ?? fn.alias.version) : undefined;
      const green =
        svc?.taskSets.find((t) => t.status === 'ACTIVE' && t.weight > 0)?.targetGroup ??
        svc?.taskSets.find((t) => t.status === 'PRIMARY')?.targetGroup;
      const judged = (p: MetricPoint) => of(p) && (fn ? p.version === newest : p.targetGroup === green);
      const breaching = (pts: { requests: number; errors: number }[]) =>
        pts.filter((x) => x.requests > 0 && x.errors / x.requests > 0.01).length;
      for (const [alarm, match] of [
        [get(`${prefix}-ErrorJudge`), judged],
        [get(`${prefix}-Catastrophe`), of],
      ] as const) {
        if (!alarm) continue;
        const b = breaching(this.recent(match, minute, 3));
        if (b >= 2)
          this.setAlarm(
            alarm,
            'ALARM',
            `Threshold Crossed: ${b} out of the last 3 datapoints were greater than the threshold (1.0) (minimum 2 datapoints for OK -> ALARM transition).`,
          );
        else if (b === 0) this.setAlarm(alarm, 'OK', 'Threshold Crossed: no datapoints were breaching.');
      }
      const health = get(stack.service.healthAlarmName);
      const catastrophe = get(`${prefix}-Catastrophe`);
      if (health && catastrophe)
        this.setAlarm(health, catastrophe.state === 'ALARM' ? 'ALARM' : 'OK', `${catastrophe.name} is ${catastrophe.state}`);
    }
  }

  private setAlarm(alarm: Alarm, state: Alarm['state'], reason: string): void {
    if (alarm.state === state) return;
    alarm.history.push({ t: this.now, from: alarm.state, to: state });
    alarm.state = state;
    alarm.reason = reason;
    alarm.updated = this.now;
  }

  // ---- EventBridge and the notifier --------------------------------------------------------------------

  /** An event on the pipeline account's default bus: the notifier's rules invoke it. */
  private emit(e: { 'detail-type': string; detail: any }, source = this.fixture.account): void {
    const event = {
      version: '0',
      id: this.newId(),
      'detail-type': e['detail-type'],
      source: e['detail-type'].startsWith('CodeDeploy') ? 'aws.codedeploy' : 'aws.codepipeline',
      account: source,
      time: new Date(this.now).toISOString(),
      region: e.detail.region ?? this.fixture.region,
      resources: [],
      detail: e.detail,
    } as NotifierEvent;
    const clients = this.clientsOf(this.fixture.account, this.fixture.region);
    this.background(async () => {
      await this.sleep(5_000);
      await notify(event, {
        sns: clients.sns,
        topicArn: `arn:aws:sns:${this.fixture.region}:${this.fixture.account}:safe-deploy-pipeline-Notifications`,
        logger: this.logger,
        diagnose: (pipelineName, executionId, region) =>
          diagnosePipeline(this.clientsOf(this.fixture.account, region), {
            pipelineName,
            executionId,
            region,
            retry: { sleep: this.sleep },
          }),
        retry: { sleep: this.sleep },
      });
    });
  }

  private background(work: () => Promise<unknown>): void {
    this.pending++;
    this.clock.spawn(() => work().finally(() => this.pending--));
  }

  private waitFor(condition: () => boolean, everyMs: number): Promise<void> {
    return (async () => {
      while (!condition()) await this.sleep(everyMs);
    })();
  }

  // ---- The AWS APIs -------------------------------------------------------------------------------------

  /** Answers every command of every mocked client from the world's state (test/support/sdk-answers.ts). */
  private install(): void {
    type Answer = (input: any, where: { account: string; region: string }) => unknown;
    const serve = (mock: unknown, service: string, answers: Map<unknown, Answer>) => {
      const on = answerCommands(mock, service, (call) => {
        this.calls.push({
          at: this.now,
          account: call.account ?? 'unknown',
          region: call.region,
          service,
          command: call.command,
          input: call.input,
        });
      });
      for (const [command, answer] of answers)
        on(command, (input, where) => answer(input, { account: where.account ?? 'unknown', region: where.region }));
    };
    const table = (...entries: [unknown, Answer][]) => new Map(entries);
    serve(
      this.mocks.codepipeline as never,
      'codepipeline',
      table(
        [GetPipelineCommand, () => this.getPipeline()],
        [GetPipelineStateCommand, () => this.getPipelineState()],
        [GetPipelineExecutionCommand, (i) => ({ pipelineExecution: this.describeExecution(this.execution(i.pipelineExecutionId)) })],
        [ListPipelineExecutionsCommand, (i) => this.listExecutions(i)],
        [
          ListActionExecutionsCommand,
          (i) => ({ actionExecutionDetails: this.actionDetails(this.execution(i.filter?.pipelineExecutionId)) }),
        ],
        [
          PutJobSuccessResultCommand,
          (i) => this.jobResult(i.jobId, { kind: 'success', token: i.continuationToken, summary: i.executionDetails?.summary }),
        ],
        [PutJobFailureResultCommand, (i) => this.jobResult(i.jobId, { kind: 'failure', message: i.failureDetails?.message })],
        [PutApprovalResultCommand, (i) => this.putApproval(i)],
        [RollbackStageCommand, (i) => this.rollbackStage(i)],
      ),
    );
    serve(
      this.mocks.codedeploy as never,
      'codedeploy',
      table(
        [GetDeploymentGroupCommand, (i, w) => this.getDeploymentGroup(i, w)],
        [ListDeploymentsCommand, (i, w) => this.listDeployments(i, w)],
        [GetDeploymentCommand, (i, w) => ({ deploymentInfo: this.deploymentInfo(this.deploymentIn(i.deploymentId, w)) })],
        [CreateDeploymentCommand, (i, w) => this.createDeployment(i, w)],
        [StopDeploymentCommand, (i, w) => this.stopDeployment(i, w)],
        [
          ContinueDeploymentCommand,
          (i, w) => {
            const d = this.deploymentIn(i.deploymentId, w);
            if (i.deploymentWaitType !== 'TERMINATION_WAIT' || d.terminationWaitStarted === undefined || d.status !== 'InProgress') {
              throw awsError(
                'InvalidDeploymentStatusException',
                `The deployment ${d.id} is not waiting to terminate its original task set`,
              );
            }
            d.continueRequested = true;
            return {};
          },
        ],
        [
          PutLifecycleEventHookExecutionStatusCommand,
          (i, w) => {
            const d = this.deploymentIn(i.deploymentId, w);
            if (!d.hooks.has(i.lifecycleEventHookExecutionId))
              throw awsError('LifecycleEventAlreadyCompletedException', 'The lifecycle event is already completed');
            this.hookStatus.set(i.lifecycleEventHookExecutionId, i.status);
            return { lifecycleEventHookExecutionId: i.lifecycleEventHookExecutionId };
          },
        ],
        [ListDeploymentTargetsCommand, (i, w) => ({ targetIds: [this.targetId(this.deploymentIn(i.deploymentId, w))] })],
        [
          BatchGetDeploymentTargetsCommand,
          (i, w) => ({ deploymentTargets: [this.deploymentTarget(this.deploymentIn(i.deploymentId, w))] }),
        ],
      ),
    );
    serve(
      this.mocks.cloudformation as never,
      'cloudformation',
      table(
        [
          ListStackResourcesCommand,
          (i, w) => ({
            StackResourceSummaries: this.stackIn(i.StackName, w).resources.map((r) => ({
              ...r,
              ResourceStatus: 'CREATE_COMPLETE',
              LastUpdatedTimestamp: new Date(T0),
            })),
          }),
        ],
        [DescribeStackEventsCommand, (i, w) => ({ StackEvents: this.stackIn(i.StackName, w).events })],
        [
          DescribeStacksCommand,
          (i, w) => {
            const stack = [...this.stacks.values()].find((x) => x.id === i.StackName) ?? this.stackIn(i.StackName, w);
            return { Stacks: [{ StackName: stack.name, StackId: stack.id, StackStatus: stack.status, CreationTime: new Date(T0) }] };
          },
        ],
      ),
    );
    serve(
      this.mocks.cloudwatch as never,
      'cloudwatch',
      table(
        [DescribeAlarmsCommand, (i, w) => this.describeAlarms(i, w)],
        [DescribeAlarmHistoryCommand, (i, w) => this.alarmHistory(i, w)],
        [GetMetricDataCommand, (i, w) => this.metricData(i, w)],
      ),
    );
    serve(this.mocks.ecs as never, 'ecs', table([DescribeServicesCommand, (i, w) => this.describeServices(i, w)]));
    serve(this.mocks.lambda as never, 'lambda', table([InvokeCommand, (i, w) => this.invoke(i, w)]));
    serve(
      this.mocks.sns as never,
      'sns',
      table([
        PublishCommand,
        (i) => {
          this.published.push({ subject: i.Subject, message: i.Message });
          return { MessageId: this.newId() };
        },
      ]),
    );
    serve(this.mocks.sts as never, 'sts', table([AssumeRoleCommand, (i, w) => this.assumeRole(i, w)]));
    const flagsIn = (w: { account: string; region: string }) =>
      [...this.flagEnvironments.values()].filter((f) => f.account === w.account && f.region === w.region);
    const flagEnv = (i: any, w: { account: string; region: string }) => {
      const f = flagsIn(w).find((x) => x.appId === i.ApplicationId && (i.EnvironmentId === undefined || x.envId === i.EnvironmentId));
      if (!f)
        throw awsError('ResourceNotFoundException', `Application ${i.ApplicationId} or environment ${i.EnvironmentId} not found`, 404);
      return f;
    };
    serve(
      this.mocks.appconfig as never,
      'appconfig',
      table(
        [ac.ListApplicationsCommand, (_i, w) => ({ Items: flagsIn(w).map((f) => ({ Id: f.appId, Name: f.appName })) })],
        [
          ac.ListEnvironmentsCommand,
          (i, w) => ({
            Items: flagsIn(w)
              .filter((f) => f.appId === i.ApplicationId)
              .map((f) => ({ ApplicationId: f.appId, Id: f.envId, Name: f.envName, State: 'ReadyForDeployment' })),
          }),
        ],
        [
          ac.ListDeploymentsCommand,
          (i, w) => ({
            Items: flagEnv(i, w).deployments.map((d) => ({
              DeploymentNumber: d.number,
              ConfigurationName: flagEnv(i, w).envName,
              ConfigurationVersion: d.version,
              State: d.state,
              StartedAt: new Date(d.startedAt),
              PercentageComplete: d.percent,
            })),
          }),
        ],
        [
          ac.GetDeploymentCommand,
          (i, w) => {
            const d = flagEnv(i, w).deployments.find((x) => x.number === i.DeploymentNumber);
            if (!d) throw awsError('ResourceNotFoundException', `Deployment ${i.DeploymentNumber} not found`, 404);
            return {
              ApplicationId: i.ApplicationId,
              EnvironmentId: i.EnvironmentId,
              DeploymentNumber: d.number,
              State: d.state,
              PercentageComplete: d.percent,
              Description: d.description,
              ConfigurationVersion: d.version,
            };
          },
        ],
      ),
    );
  }

  private getPipeline() {
    const declared = pipelineDeclaration(this.fixture, this.pipelineVersion);
    return { ...declared, metadata: { ...declared.metadata, created: new Date(T0 - 86_400_000), updated: new Date(T0) } };
  }

  private getPipelineState() {
    return {
      pipelineName: this.fixture.pipelineName,
      pipelineVersion: this.pipelineVersion,
      stageStates: this.fixture.stages.map((s) => {
        const exec = this.latestStageExecution(s.name);
        const run = exec?.stages.get(s.name);
        return {
          stageName: s.name,
          inboundTransitionState: { enabled: true },
          latestExecution:
            exec && run
              ? { pipelineExecutionId: exec.id, status: run.status === 'Abandoned' ? 'Stopped' : run.status, type: exec.type }
              : undefined,
          actionStates: s.actions.map((a) => {
            const latest = this.latestRuns.get(`${s.name}/${a.name}`);
            return {
              actionName: a.name,
              latestExecution: latest
                ? {
                    actionExecutionId: latest.id,
                    status: latest.status,
                    summary: latest.summary,
                    lastStatusChange: new Date(latest.end ?? latest.start),
                    token: latest.status === 'InProgress' ? latest.token : undefined,
                    errorDetails: latest.error ? { code: 'JobFailed', message: latest.error } : undefined,
                  }
                : undefined,
            };
          }),
        };
      }),
      created: new Date(T0 - 86_400_000),
      updated: new Date(T0),
    };
  }

  private execution(id: string): Execution {
    const e = this.executions.find((x) => x.id === id);
    if (!e)
      throw awsError(
        'PipelineExecutionNotFoundException',
        `Pipeline execution with id '${id}' does not exist in pipeline with name '${this.fixture.pipelineName}'`,
      );
    return e;
  }

  private revisionOf(e: Execution) {
    return {
      name: 'example-org_safe-deploy_Source',
      revisionId: e.release.commit,
      revisionSummary: JSON.stringify({ ProviderType: 'GitHub', CommitMessage: e.release.message }),
      revisionUrl: `https://github.com/example-org/safe-deploy/commit/${e.release.commit}`,
    };
  }

  private describeExecution(e: Execution) {
    return {
      pipelineName: this.fixture.pipelineName,
      pipelineVersion: e.version,
      pipelineExecutionId: e.id,
      status: e.status,
      artifactRevisions: [this.revisionOf(e)],
      trigger: e.trigger,
      executionMode: this.fixture.executionMode,
      executionType: e.type,
      ...(e.rollbackTarget ? { rollbackMetadata: { rollbackTargetPipelineExecutionId: e.rollbackTarget } } : {}),
    };
  }

  private listExecutions(i: any) {
    const stage = i.filter?.succeededInStage?.stageName as string | undefined;
    const list = [...this.executions].reverse().filter((e) => !stage || e.stages.get(stage)?.status === 'Succeeded');
    return {
      pipelineExecutionSummaries: list.slice(0, i.maxResults ?? 100).map((e) => ({
        pipelineExecutionId: e.id,
        status: e.status,
        startTime: new Date(e.start),
        lastUpdateTime: new Date(e.end ?? this.now),
        sourceRevisions: [
          {
            actionName: 'example-org_safe-deploy',
            revisionId: e.release.commit,
            revisionSummary: JSON.stringify({ ProviderType: 'GitHub', CommitMessage: e.release.message }),
          },
        ],
        trigger: e.trigger,
        executionMode: this.fixture.executionMode,
        executionType: e.type,
        ...(e.rollbackTarget ? { rollbackMetadata: { rollbackTargetPipelineExecutionId: e.rollbackTarget } } : {}),
      })),
    };
  }

  private actionDetails(e: Execution) {
    return [...e.actions].reverse().map((r) => ({
      pipelineExecutionId: e.id,
      actionExecutionId: r.id,
      pipelineVersion: e.version,
      stageName: r.stage,
      actionName: r.action.name,
      startTime: new Date(r.start),
      lastUpdateTime: new Date(r.end ?? this.now),
      status: r.status,
      input: {
        actionTypeId: { category: r.action.category, owner: 'AWS', provider: r.action.provider, version: '1' },
        configuration: r.action.stackName ? { StackName: r.action.stackName, ActionMode: 'CREATE_UPDATE' } : {},
        resolvedConfiguration: {},
        roleArn:
          r.action.provider === 'CloudFormation'
            ? `arn:aws:iam::${r.action.account}:role/cdk-hnb659fds-deploy-role-${r.action.account}-${r.action.region}`
            : undefined,
        region: r.action.region,
        inputArtifacts: [],
      },
      output:
        r.status === 'InProgress' && !r.summary
          ? undefined
          : {
              outputArtifacts: [],
              executionResult: {
                externalExecutionSummary: r.error ?? r.summary,
                errorDetails: r.error ? { code: 'JobFailed', message: r.error } : undefined,
              },
            },
    }));
  }

  private jobResult(jobId: string, result: NonNullable<ReturnType<World['jobs']['get']>>['result']) {
    const job = this.jobs.get(jobId);
    if (!job) throw awsError('JobNotFoundException', `The job ${jobId} was not found`);
    if (job.result) throw awsError('InvalidJobStateException', `The job ${jobId} is already completed`);
    job.result = result;
    return {};
  }

  private putApproval(i: any) {
    const latest = this.latestRuns.get(`${i.stageName}/${i.actionName}`);
    const run = latest?.status === 'InProgress' ? latest : undefined;
    if (!run) throw awsError('ApprovalAlreadyCompletedException', 'The approval action has already completed');
    if (run.token !== i.token) throw awsError('InvalidApprovalTokenException', 'The token is not valid');
    run.status = i.result.status === 'Approved' ? 'Succeeded' : 'Failed';
    run.summary = i.result.summary;
    return { approvedAt: new Date(this.now) };
  }

  /** RollbackStage, with the conditions AWS documents (stage-rollback.html). */
  private rollbackStage(i: any) {
    const stageName = i.stageName as string;
    const latest = this.latestStageExecution(stageName);
    const run = latest?.stages.get(stageName);
    if (run?.status === 'InProgress')
      throw awsError('UnableToRollbackStageException', `Unable to roll back stage ${stageName}: the stage is in progress.`);
    const target = this.execution(i.targetPipelineExecutionId);
    if (target.type === 'ROLLBACK')
      throw awsError('UnableToRollbackStageException', `Unable to roll back to execution ${target.id}: it is a rollback execution.`);
    if (target.stages.get(stageName)?.status !== 'Succeeded')
      throw awsError(
        'UnableToRollbackStageException',
        `Unable to roll back: execution ${target.id} did not succeed in stage ${stageName}.`,
      );
    if (target.version !== this.pipelineVersion) {
      throw awsError(
        'UnableToRollbackStageException',
        `Unable to roll back stage ${stageName}: execution ${target.id} was not started in the current pipeline version.`,
      );
    }
    const exec = this.startExecution(
      target.release,
      { triggerType: 'ManualRollback', triggerDetail: `arn:aws:sts::${this.fixture.account}:assumed-role/Operator/alice` },
      target.override,
      { stage: stageName, target },
    );
    return { pipelineExecutionId: exec.id };
  }

  private groupIn(app: string, name: string, w: { account: string; region: string }): Group {
    const g = this.groups.get(`${w.account}/${w.region}/${app}/${name}`);
    if (!g) {
      const appExists = [...this.groups.values()].some((x) => x.account === w.account && x.region === w.region && x.app === app);
      throw appExists
        ? awsError('DeploymentGroupDoesNotExistException', `No Deployment Group found for name: ${name}`)
        : awsError('ApplicationDoesNotExistException', `No application found for name: ${app}`);
    }
    return g;
  }

  private getDeploymentGroup(i: any, w: { account: string; region: string }) {
    const g = this.groupIn(i.applicationName, i.deploymentGroupName, w);
    const summary = (id?: string) => {
      const d = id ? this.deployments.get(id) : undefined;
      return d
        ? {
            deploymentId: d.id,
            status: d.status,
            createTime: new Date(d.createTime),
            endTime: d.completeTime ? new Date(d.completeTime) : undefined,
          }
        : undefined;
    };
    return {
      deploymentGroupInfo: {
        applicationName: g.app,
        deploymentGroupName: g.name,
        computePlatform: g.platform,
        alarmConfiguration: { enabled: true, alarms: g.alarms.map((name) => ({ name })) },
        autoRollbackConfiguration: {
          enabled: true,
          events: ['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_REQUEST', 'DEPLOYMENT_STOP_ON_ALARM'],
        },
        lastSuccessfulDeployment: summary(g.lastSuccessful),
        lastAttemptedDeployment: summary(g.lastAttempted),
      },
    };
  }

  private listDeployments(i: any, w: { account: string; region: string }) {
    if (i.applicationName) this.groupIn(i.applicationName, i.deploymentGroupName, w);
    const statuses = i.includeOnlyStatuses as string[] | undefined;
    const ids = [...this.deployments.values()]
      .filter((d) => d.group.account === w.account && d.group.region === w.region)
      .filter((d) => !i.applicationName || (d.group.app === i.applicationName && d.group.name === i.deploymentGroupName))
      .filter((d) => !statuses || statuses.includes(d.status))
      .reverse()
      .map((d) => d.id);
    return { deployments: ids };
  }

  private deploymentIn(id: string, w: { account: string; region: string }): Deployment {
    const d = this.deployments.get(id);
    if (!d || d.group.account !== w.account || d.group.region !== w.region)
      throw awsError('DeploymentDoesNotExistException', `The deployment ${id} could not be found`);
    return d;
  }

  private deploymentInfo(d: Deployment): DeploymentInfo {
    const succeeded = d.status === 'Succeeded' || d.terminationWaitStarted !== undefined;
    return {
      applicationName: d.group.app,
      deploymentGroupName: d.group.name,
      deploymentId: d.id,
      status: d.status,
      creator: d.creator as 'user',
      description: d.description,
      createTime: new Date(d.createTime),
      completeTime: d.completeTime ? new Date(d.completeTime) : undefined,
      computePlatform: d.group.platform,
      revision: { revisionType: 'AppSpecContent', appSpecContent: { content: d.content } },
      errorInformation: d.errorInformation as DeploymentInfo['errorInformation'],
      rollbackInfo: d.rollbackInfo,
      instanceTerminationWaitTimeStarted: d.terminationWaitStarted !== undefined && d.status === 'InProgress' ? true : undefined,
      deploymentOverview: {
        Pending: d.status === 'Created' ? 1 : 0,
        InProgress: d.status === 'InProgress' && !succeeded ? 1 : 0,
        Succeeded: succeeded ? 1 : 0,
        Failed: d.status === 'Failed' || d.status === 'Stopped' ? 1 : 0,
        Skipped: 0,
        Ready: 0,
      },
      deploymentStyle: { deploymentType: 'BLUE_GREEN', deploymentOption: 'WITH_TRAFFIC_CONTROL' },
    };
  }

  private targetId(d: Deployment): string {
    return d.lambda ? `${d.lambda.functionName}:live` : `${d.ecs!.service.cluster}:${d.ecs!.service.serviceName}`;
  }

  private deploymentTarget(d: Deployment) {
    const status = d.status === 'Stopped' ? 'Failed' : d.status === 'Created' ? 'Pending' : d.status;
    if (d.lambda) {
      const fn = this.lambdas.get(d.lambda.functionName)!;
      const weight =
        fn.alias.extra?.version === d.lambda.targetVersion ? fn.alias.extra.weight : fn.alias.version === d.lambda.targetVersion ? 1 : 0;
      return {
        deploymentTargetType: 'LambdaTarget',
        lambdaTarget: {
          deploymentId: d.id,
          targetId: this.targetId(d),
          status,
          lifecycleEvents: d.events,
          lambdaFunctionInfo: {
            functionName: d.lambda.functionName,
            functionAlias: 'live',
            currentVersion: d.lambda.currentVersion,
            targetVersion: d.lambda.targetVersion,
            targetVersionWeight: weight,
          },
        },
      };
    }
    const svc = d.ecs!.service;
    return {
      deploymentTargetType: 'ECSTarget',
      ecsTarget: {
        deploymentId: d.id,
        targetId: this.targetId(d),
        status,
        lifecycleEvents: d.events,
        taskSetsInfo: [d.ecs!.blue, d.ecs!.green]
          .filter((t): t is TaskSet => t !== undefined && svc.taskSets.includes(t))
          .map((t) => ({
            identifer: t.id,
            desiredCount: 2,
            runningCount: 2,
            pendingCount: 0,
            status: t.status,
            trafficWeight: t.weight,
            targetGroup: { name: t.targetGroup },
            taskSetLabel: t === d.ecs!.blue ? 'Blue' : 'Green',
          })),
      },
    };
  }

  private createDeployment(i: any, w: { account: string; region: string }) {
    const g = this.groupIn(i.applicationName, i.deploymentGroupName, w);
    if ([...this.deployments.values()].some((d) => d.group === g && (d.status === 'Created' || d.status === 'InProgress'))) {
      throw awsError('DeploymentLimitExceededException', `The deployment group ${g.name} already has an active deployment`);
    }
    const content = i.revision.appSpecContent.content as string;
    const taskDefinition = JSON.parse(content).Resources[0].TargetService.Properties.TaskDefinition as string;
    this.ecsCreateDeployments.push({ at: this.now, deploymentGroupName: g.name, taskDefinition });
    const svc = [...this.ecsServices.values()].find((s) => s.stack === g.stack)!;
    const blue = svc.taskSets.find((t) => t.status === 'PRIMARY')!;
    const events = [
      'BeforeInstall',
      'Install',
      'AfterInstall',
      'AllowTestTraffic',
      'AfterAllowTestTraffic',
      'BeforeAllowTraffic',
      'AllowTraffic',
      'AfterAllowTraffic',
    ];
    const d = this.newDeployment(
      g,
      'user',
      content,
      events,
      { ecs: { service: svc, blue, targetTaskDefinition: taskDefinition } },
      i.description,
    );
    this.clock.spawn(() => this.runEcsDeployment(d));
    return { deploymentId: d.id };
  }

  private stopDeployment(i: any, w: { account: string; region: string }) {
    const d = this.deploymentIn(i.deploymentId, w);
    if (d.status !== 'Created' && d.status !== 'InProgress')
      throw awsError('DeploymentAlreadyCompletedException', `The deployment ${d.id} has already completed.`);
    d.stopRequested = true;
    return { status: 'Pending', statusMessage: 'Stopping Pending. Stopping to deploy the revision, and rolling back.' };
  }

  private stackIn(name: string, w: { account: string; region: string }): Stack {
    const s = this.stacks.get(name);
    if (!s || s.account !== w.account || s.region !== w.region) throw awsError('ValidationError', `Stack with id ${name} does not exist`);
    return s;
  }

  private alarmIn(name: string, w: { account: string; region: string }): Alarm | undefined {
    return this.alarms.get(`${w.account}/${w.region}/${name}`);
  }

  private describeAlarms(i: any, w: { account: string; region: string }) {
    const found = ((i.AlarmNames ?? []) as string[]).map((n) => this.alarmIn(n, w)).filter((a): a is Alarm => a !== undefined);
    const common = (a: Alarm) => ({
      AlarmName: a.name,
      AlarmArn: `arn:aws:cloudwatch:${a.region}:${a.account}:alarm:${a.name}`,
      StateValue: a.state,
      StateReason: a.reason,
      StateUpdatedTimestamp: new Date(a.updated),
    });
    return {
      MetricAlarms: found
        .filter((a) => a.kind === 'metric')
        .map((a) => ({
          ...common(a),
          Metrics: a.metrics,
          ComparisonOperator: 'GreaterThanThreshold',
          Threshold: 1,
          EvaluationPeriods: 3,
          DatapointsToAlarm: 2,
        })),
      CompositeAlarms: found.filter((a) => a.kind === 'composite').map((a) => ({ ...common(a), AlarmRule: a.rule })),
    };
  }

  private alarmHistory(i: any, w: { account: string; region: string }) {
    const a = this.alarmIn(i.AlarmName, w);
    const from = (i.StartDate as Date | undefined)?.getTime() ?? 0;
    const to = (i.EndDate as Date | undefined)?.getTime() ?? Infinity;
    return {
      AlarmHistoryItems: (a?.history ?? [])
        .filter((h) => h.t >= from && h.t <= to)
        .reverse()
        .map((h) => ({
          AlarmName: a!.name,
          AlarmType: a!.kind === 'metric' ? 'MetricAlarm' : 'CompositeAlarm',
          Timestamp: new Date(h.t),
          HistoryItemType: 'StateUpdate',
          HistorySummary: `Alarm updated from ${h.from} to ${h.to}`,
          HistoryData: JSON.stringify({ version: '1.0', oldState: { stateValue: h.from }, newState: { stateValue: h.to } }),
        })),
    };
  }

  private metricData(i: any, w: { account: string; region: string }) {
    const from = Math.ceil(((i.StartTime as Date).getTime() - T0) / MINUTE);
    const to = Math.floor(((i.EndTime as Date).getTime() - T0) / MINUTE);
    return {
      MetricDataResults: (i.MetricDataQueries as any[]).map((q) => {
        const m = q.MetricStat.Metric;
        const dim = (n: string) => (m.Dimensions as { Name: string; Value: string }[]).find((d) => d.Name === n)?.Value;
        const match = (p: MetricPoint) =>
          p.account === w.account &&
          p.region === w.region &&
          p.minute >= from &&
          p.minute < to &&
          (m.Namespace === 'AWS/Lambda'
            ? p.fn === dim('FunctionName') && (!dim('ExecutedVersion') || p.version === dim('ExecutedVersion'))
            : `targetgroup/${p.targetGroup}/0123456789abcdef` === dim('TargetGroup'));
        const pts: MetricPoint[] = [];
        for (let minute = from; minute < to; minute++) pts.push(...(this.metrics.get(minute) ?? []).filter(match));
        const value = (p: MetricPoint) => (/Error|5XX/.test(m.MetricName) ? p.errors : p.requests);
        return {
          Id: q.Id,
          Label: m.MetricName,
          StatusCode: 'Complete',
          Timestamps: pts.map((p) => new Date(T0 + p.minute * MINUTE)),
          Values: pts.map(value),
        };
      }),
    };
  }

  private describeServices(i: any, w: { account: string; region: string }) {
    const svc = this.ecsServices.get(`${w.account}/${w.region}/${i.services[0]}`);
    if (!svc || svc.cluster !== i.cluster) return { services: [], failures: [{ arn: i.services[0], reason: 'MISSING' }] };
    return {
      services: [
        {
          serviceName: svc.serviceName,
          clusterArn: `arn:aws:ecs:${w.region}:${w.account}:cluster/${svc.cluster}`,
          deploymentController: { type: 'CODE_DEPLOY' },
          taskSets: svc.taskSets.map((t) => ({
            id: t.id,
            taskDefinition: t.taskDefinition,
            status: t.status,
            scale: { value: t.weight, unit: 'PERCENT' },
          })),
        },
      ],
      failures: [],
    };
  }

  /** A function invoked by a hook: the version's behaviour decides the answer. */
  private invoke(i: any, w: { account: string; region: string }) {
    const fn = this.lambdas.get(i.FunctionName);
    if (!fn || fn.stack.account !== w.account || fn.stack.region !== w.region)
      throw awsError('ResourceNotFoundException', `Function not found: ${i.FunctionName}`);
    const version =
      i.Qualifier === 'live' ? (fn.alias.extra && fn.alias.extra.weight >= 0.5 ? fn.alias.extra.version : fn.alias.version) : i.Qualifier;
    const behaviour = fn.versions.get(version)?.behaviour;
    const body =
      behaviour === 'fails-health-check' ? { statusCode: 500, body: '{"status":"broken"}' } : { statusCode: 200, body: '{"status":"ok"}' };
    return { StatusCode: 200, ExecutedVersion: version, Payload: new TextEncoder().encode(JSON.stringify(body)) };
  }

  private assumeRole(i: any, w: { account: string; region: string }) {
    const [, account, name] = (i.RoleArn as string).match(/^arn:aws:iam::(\d{12}):role\/(.+)$/) ?? [];
    if (!this.roles.has(`${account}/${name}`)) {
      throw awsError(
        'AccessDenied',
        `User: arn:aws:sts::${w.account}:assumed-role/safe-deploy-bake-gate/safe-deploy-bake-gate is not authorized to perform: sts:AssumeRole on resource: ${i.RoleArn}`,
        403,
      );
    }
    return {
      Credentials: {
        AccessKeyId: `ASIA${account}`,
        SecretAccessKey: 'simulated',
        SessionToken: 'simulated',
        Expiration: new Date(Date.now() + 3_600_000),
      },
      AssumedRoleUser: {
        AssumedRoleId: `AROA:${i.RoleSessionName}`,
        Arn: `arn:aws:sts::${account}:assumed-role/${name}/${i.RoleSessionName}`,
      },
    };
  }
}

function hookFailure() {
  return { code: 'HOOK_EXECUTION_FAILURE', message: 'The deployment failed because one or more lifecycle event hooks failed.' };
}

const EXCEPTIONS: Record<string, new (opts: { message: string; $metadata: object }) => Error> = {
  PipelineExecutionNotFoundException: cp.PipelineExecutionNotFoundException,
  UnableToRollbackStageException: cp.UnableToRollbackStageException,
  JobNotFoundException: cp.JobNotFoundException,
  InvalidJobStateException: cp.InvalidJobStateException,
  ApprovalAlreadyCompletedException: cp.ApprovalAlreadyCompletedException,
  InvalidApprovalTokenException: cp.InvalidApprovalTokenException,
  DeploymentAlreadyCompletedException: cd.DeploymentAlreadyCompletedException,
  DeploymentDoesNotExistException: cd.DeploymentDoesNotExistException,
  DeploymentGroupDoesNotExistException: cd.DeploymentGroupDoesNotExistException,
  ApplicationDoesNotExistException: cd.ApplicationDoesNotExistException,
  DeploymentLimitExceededException: cd.DeploymentLimitExceededException,
  LifecycleEventAlreadyCompletedException: cd.LifecycleEventAlreadyCompletedException,
};

/** An AWS service error as the SDK raises it (its own exception class where it has one). */
export function awsError(name: string, message: string, status = 400): Error {
  const $metadata = { httpStatusCode: status, requestId: 'simulated', attempts: 1, totalRetryDelay: 0 };
  const Ctor = EXCEPTIONS[name];
  if (Ctor) return new Ctor({ message, $metadata });
  return Object.assign(new Error(message), { name, $fault: 'client', $metadata });
}
