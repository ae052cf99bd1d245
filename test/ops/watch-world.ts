/**
 * A scripted release for `deployctl watch` tests: the pipeline CDK Pipelines builds from
 * safe-deploy.config.json (Source, Build, UpdatePipeline, Assets, Beta, Gate-Prod-Wave1,
 * Prod-Wave1, Gate-Prod-Wave2, Prod-Wave2 with two regions; a Lambda and an ECS service per
 * target), played against a simulated clock. Every mocked AWS call answers with the state at the
 * clock's time, in the shapes the APIs return, and is recorded (time, service, command, region).
 * The clock only moves when watch sleeps, so hours of release run in milliseconds.
 */
import { CloudWatchClient, DescribeAlarmsCommand, MetricAlarm } from '@aws-sdk/client-cloudwatch';
import { DescribeStackEventsCommand, ListStackResourcesCommand } from '@aws-sdk/client-cloudformation';
import {
  BatchGetDeploymentTargetsCommand,
  DeploymentTarget,
  GetDeploymentCommand,
  GetDeploymentConfigCommand,
  GetDeploymentGroupCommand,
  LifecycleEvent,
  ListDeploymentTargetsCommand,
} from '@aws-sdk/client-codedeploy';
import {
  ActionDeclaration,
  GetPipelineCommand,
  GetPipelineExecutionCommand,
  GetPipelineStateCommand,
  ListActionExecutionsCommand,
  ListPipelineExecutionsCommand,
  StageDeclaration,
} from '@aws-sdk/client-codepipeline';
import { mockClient } from 'aws-sdk-client-mock';
import type { TrafficRule } from '../../lib/ops/watch-model';
import { answerCommands } from '../support/sdk-answers';
import * as f from './fixtures';

export const T0 = Date.parse('2026-11-03T14:00:00Z'); // Tuesday 09:00 in New York: inside the window
const isoCache = new Map<number, Date>();
const ISO = (minute: number) => {
  let d = isoCache.get(minute);
  if (!d) {
    d = new Date(T0 + minute * 60_000);
    isoCache.set(minute, d);
  }
  return d;
};

export interface Scenario {
  /** Account of the production stages. @default f.PIPELINE_ACCOUNT (readable with the pipeline's credentials) */
  readonly prodAccount?: string;
  /** `traffic`: after its 60 minutes the gate waits for requests (300 -> 500 over 15 minutes). @default 'time' */
  readonly gate?: 'time' | 'traffic';
  /** Stage whose Lambda canary is stopped by its error-rate alarm (CodeDeploy rolls back, the stage fails). */
  readonly failLambdaIn?: string;
  /** Whether ListActionExecutions carries the running gate's summary. @default true */
  readonly summaryInList?: boolean;
  /** Minutes (from, to) during which every call is throttled (ThrottlingException). */
  readonly throttle?: readonly { readonly from: number; readonly to: number }[];
  /** The execution is superseded by a restart of the same commit after UpdatePipeline. */
  readonly restartAfterUpdatePipeline?: boolean;
  /** Commands (e.g. `DescribeAlarms`) the caller may not call: AccessDeniedException. */
  readonly deny?: readonly string[];
}

interface ScriptedAction {
  readonly stage: string;
  readonly name: string;
  readonly provider: string;
  readonly category: 'Source' | 'Build' | 'Deploy' | 'Approval' | 'Invoke';
  readonly runOrder: number;
  readonly region: string;
  readonly account: string;
  readonly stackName?: string;
  readonly actionMode?: 'CHANGE_SET_REPLACE' | 'CHANGE_SET_EXECUTE';
  readonly userParameters?: string;
  /** Duration of actions that do not deploy or gate. */
  readonly minutes: number;
  played: boolean;
  start: number;
  end: number;
  result: 'Succeeded' | 'Failed';
  error?: string;
  summary?: (minute: number) => string | undefined;
  readonly id: string;
  executionId: string;
}

interface ScriptedDeployment {
  readonly id: string;
  readonly region: string;
  readonly stackName: string;
  readonly kind: 'lambda' | 'ecs';
  readonly rule: TrafficRule;
  readonly configName: string;
  readonly created: number;
  readonly events: { name: string; start: number; end: number; failed?: boolean }[];
  readonly allowStart: number;
  readonly allowEnd: number;
  readonly done: number;
  readonly result: 'Succeeded' | 'Stopped';
  readonly terminationWait: number;
}

export const groupNames = (stackName: string) => ({
  applicationName: `${stackName}-ServiceDeploymentGroupApplication-1A2B3C4D5E6F`,
  deploymentGroupName: `${stackName}-ServiceDeploymentGroup-6F5E4D3C2B1A`,
});
export const alarmNames = (stackName: string, kind: 'lambda' | 'ecs') =>
  kind === 'lambda'
    ? [`${stackName}-ServiceErrorRateAlarm36AFDBF5-1QX3RZ8V0K2M`, `${stackName}-ServiceLatencyAlarmFD74A5A8-7HG2JD0S1LQP`, `${stackName}-ServiceThrottlesAlarm74F95215-3NB8VC6X2ZAW`]
    : ['Blue-5xxRate', 'Blue-p99Latency', 'Blue-UnhealthyHosts', 'Green-5xxRate', 'Green-p99Latency', 'Green-UnhealthyHosts'].map((n) => `${stackName}-${n}`);

const throttled = () =>
  Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $fault: 'client', $metadata: { ...f.metadata, httpStatusCode: 400 }, $retryable: { throttling: true } });

const denied = (service: string, command: string) =>
  Object.assign(
    new Error(`User: arn:aws:sts::${f.PIPELINE_ACCOUNT}:assumed-role/ReleaseWatcher/alice is not authorized to perform: ${service}:${command} because no identity-based policy allows the ${service}:${command} action`),
    { name: 'AccessDeniedException', $fault: 'client', $metadata: { ...f.metadata, httpStatusCode: 400 } },
  );

/** All the mocks watch talks to. */
export const watchMocks = () => ({ ...f.mocks(), cloudwatch: mockClient(CloudWatchClient) });
export type WatchMocks = ReturnType<typeof watchMocks>;

export class ReleaseWorld {
  clock = T0;
  readonly calls: { at: number; service: string; command: string; region: string }[] = [];
  readonly actions: ScriptedAction[] = [];
  readonly deployments: ScriptedDeployment[] = [];
  /** Minute the execution ends, and how. */
  endMinute = 0;
  endStatus: 'Succeeded' | 'Failed' = 'Succeeded';
  readonly executionId = f.EXEC_CURRENT;
  readonly restartId = '8e1f2a3b-4c5d-4e6f-8a7b-9c0d1e2f3a4b';
  private readonly alarmFires = new Map<string, number>();
  private readonly stages: { name: string; actions: ScriptedAction[] }[] = [];
  readonly prodAccount: string;

  constructor(readonly scenario: Scenario = {}) {
    this.prodAccount = scenario.prodAccount ?? f.PIPELINE_ACCOUNT;
    this.script();
  }

  readonly now = () => this.clock;
  readonly sleep = async (ms: number) => {
    this.clock += ms;
  };
  minute(): number {
    return (this.clock - T0) / 60_000;
  }

  /** Calls per simulated minute, from the first call to the last. */
  callsPerMinute(): number[] {
    const counts: number[] = [];
    for (const c of this.calls) {
      const m = Math.floor((c.at - T0) / 60_000);
      while (counts.length <= m) counts.push(0);
      counts[m]++;
    }
    return counts;
  }

  // ---- The script ------------------------------------------------------------------------------

  private script(): void {
    let t = 0;
    let failed = false;
    let n = 0;
    const add = (stage: string, runOrder: number, a: Omit<ScriptedAction, 'stage' | 'runOrder' | 'start' | 'end' | 'result' | 'id' | 'executionId' | 'minutes' | 'played'> & { minutes?: number }) => {
      n++;
      const action: ScriptedAction = { minutes: 1, ...a, stage, runOrder, played: false, start: 0, end: 0, result: 'Succeeded', id: `${n.toString(16).padStart(2, '0')}b2c3d4-aaaa-4bbb-8ccc-ddddeeeeffff`, executionId: this.executionId };
      const s = this.stages.find((x) => x.name === stage) ?? { name: stage, actions: [] };
      if (!this.stages.includes(s)) this.stages.push(s);
      s.actions.push(action);
      return action;
    };
    const home = { region: f.REGION, account: f.PIPELINE_ACCOUNT };
    add('Source', 1, { ...home, name: 'example-org_safe-deploy', provider: 'CodeStarSourceConnection', category: 'Source', minutes: 0.5 });
    add('Build', 1, { ...home, name: 'Synth', provider: 'CodeBuild', category: 'Build', minutes: 4.5 });
    add('UpdatePipeline', 1, { ...home, name: 'SelfMutate', provider: 'CodeBuild', category: 'Build', minutes: 1 });
    add('Assets', 1, { ...home, name: 'FileAssets', provider: 'CodeBuild', category: 'Build', minutes: 2 });
    const service = (stage: string, region: string, account: string, prefix: string, firstOrder: number) => {
      for (const svc of ['EcsService', 'LambdaService']) {
        const stackName = `${stage.split('-')[0]}-${region}-${svc}`;
        add(stage, firstOrder, { region, account, stackName, name: `${prefix}${svc}.Prepare`, provider: 'CloudFormation', category: 'Deploy', actionMode: 'CHANGE_SET_REPLACE', minutes: 1 });
      }
      for (const svc of ['EcsService', 'LambdaService']) {
        const stackName = `${stage.split('-')[0]}-${region}-${svc}`;
        add(stage, firstOrder + 1, { region, account, stackName, name: `${prefix}${svc}.Deploy`, provider: 'CloudFormation', category: 'Deploy', actionMode: 'CHANGE_SET_EXECUTE' });
      }
    };
    add('Beta', 1, { ...home, name: 'PublishImage', provider: 'CodeBuild', category: 'Build', minutes: 2 });
    service('Beta', f.REGION, f.PIPELINE_ACCOUNT, 'us-east-1-', 2);
    add('Beta', 4, { ...home, name: 'SmokeTest-Beta-us-east-1', provider: 'CodeBuild', category: 'Build', minutes: 2 });
    const gate = (stage: string, observe: string[], guard: string[]) =>
      add(`Gate-${stage}`, 1, {
        ...home,
        name: 'BakeGate',
        provider: 'Lambda',
        category: 'Invoke',
        userParameters: JSON.stringify({
          stageName: stage,
          bake: { minutes: 60, minRequests: 500 },
          window: { timeZone: 'America/New_York', windows: [{ days: ['MON', 'TUE', 'WED', 'THU'], start: '09:00', end: '16:00' }], blockedDates: ['2026-12-24', '2026-12-25'] },
          observe: observe.map((r) => ({ account: this.prodAccount, region: r, roleArn: `arn:aws:iam::${this.prodAccount}:role/safe-deploy-gate-reader-Prod-${r}`, healthAlarmNames: [] })),
          guard: guard.map((r) => ({ account: this.prodAccount, region: r, roleArn: `arn:aws:iam::${this.prodAccount}:role/safe-deploy-gate-reader-Prod-${r}`, healthAlarmNames: [] })),
          override: '#{variables.SafetyOverride}',
          executionId: '#{codepipeline.PipelineExecutionId}',
          maxWaitMinutes: 180,
        }),
      });
    const prod = (stage: string, regions: string[]) => {
      for (const r of regions) {
        const prefix = regions.length > 1 ? `Prod-${r}.` : '';
        add(stage, 1, { region: r, account: this.prodAccount, name: `${prefix}SecurityCheck-Prod-${r}.Check`, provider: 'CodeBuild', category: 'Build', minutes: 2 });
        add(stage, 2, { region: r, account: this.prodAccount, name: `${prefix}SecurityCheck-Prod-${r}.Confirm`, provider: 'Manual', category: 'Approval', minutes: 0.2 });
        service(stage, r, this.prodAccount, regions.length > 1 ? `Prod-${r}.` : `Prod-${r}-`, 3);
      }
    };
    gate('Prod-Wave1', ['us-east-1'], ['us-east-1']);
    prod('Prod-Wave1', ['us-east-1']);
    gate('Prod-Wave2', ['us-east-1'], ['us-west-2', 'eu-west-1']);
    prod('Prod-Wave2', ['us-west-2', 'eu-west-1']);

    // Play it: stages one after the other, run orders in sequence, actions of a run order together.
    for (const stage of this.stages) {
      const orders = [...new Set(stage.actions.map((a) => a.runOrder))].sort((a, b) => a - b);
      for (const order of orders) {
        const group = stage.actions.filter((a) => a.runOrder === order);
        for (const a of group) {
          a.played = true;
          a.start = t;
          a.end = t + this.duration(a, t);
          this.actions.push(a);
        }
        t = Math.max(...group.map((a) => a.end));
        if (group.some((a) => a.result === 'Failed')) failed = true;
        if (failed) break;
      }
      if (failed) break;
    }
    this.endMinute = t;
    this.endStatus = failed ? 'Failed' : 'Succeeded';
  }

  private duration(a: ScriptedAction, start: number): number {
    if (a.provider === 'Lambda') return this.scriptGate(a, start);
    if (a.actionMode !== 'CHANGE_SET_EXECUTE') return a.minutes;
    const kind = a.stackName!.endsWith('LambdaService') ? 'lambda' : 'ecs';
    const prod = a.stage.startsWith('Prod');
    const rule: TrafficRule = prod ? { type: 'TimeBasedCanary', percent: 10, intervalMinutes: 10 } : { type: 'AllAtOnce' };
    const c = start + 1;
    const events: ScriptedDeployment['events'] = [];
    let allowStart: number;
    if (kind === 'lambda') {
      events.push({ name: 'BeforeAllowTraffic', start: c, end: c + 0.5 });
      allowStart = c + 0.5;
    } else {
      events.push({ name: 'BeforeInstall', start: c, end: c + 0.2 }, { name: 'Install', start: c + 0.2, end: c + 2 }, { name: 'AfterInstall', start: c + 2, end: c + 2.2 });
      events.push({ name: 'AllowTestTraffic', start: c + 2.2, end: c + 2.4 }, { name: 'AfterAllowTestTraffic', start: c + 2.4, end: c + 3.5 }, { name: 'BeforeAllowTraffic', start: c + 3.5, end: c + 3.7 });
      allowStart = c + 3.7;
    }
    const shift = rule.type === 'AllAtOnce' ? 0.5 : rule.intervalMinutes;
    const fails = kind === 'lambda' && this.scenario.failLambdaIn === a.stage;
    let done: number;
    let allowEnd = allowStart + shift;
    if (fails) {
      // The error-rate alarm fires 4 minutes into the canary; CodeDeploy stops and rolls back.
      this.alarmFires.set(alarmNames(a.stackName!, 'lambda')[0], allowStart + 4);
      allowEnd = allowStart + 4.5;
      events.push({ name: 'AllowTraffic', start: allowStart, end: allowEnd, failed: true });
      done = allowEnd + 0.5;
    } else {
      events.push({ name: 'AllowTraffic', start: allowStart, end: allowEnd }, { name: 'AfterAllowTraffic', start: allowEnd, end: allowEnd + 0.5 });
      done = allowEnd + 0.5 + (kind === 'ecs' && prod ? 30 : 0);
    }
    const code = `${a.stage === 'Beta' ? 'B' : a.stage.endsWith('1') ? 'P' : 'Q'}${a.region === 'eu-west-1' ? 'E' : a.region === 'us-west-2' ? 'W' : 'U'}`;
    this.deployments.push({
      id: `d-${code}${kind === 'lambda' ? 'LMBDA' : 'ECSSV'}01`.slice(0, 11).padEnd(11, '0'),
      region: a.region,
      stackName: a.stackName!,
      kind,
      rule,
      configName: prod ? `${a.stackName}-DeploymentConfig4FADF16C-9ZYXWVUT` : kind === 'lambda' ? 'CodeDeployDefault.LambdaAllAtOnce' : 'CodeDeployDefault.ECSAllAtOnce',
      created: c,
      events,
      allowStart,
      allowEnd,
      done,
      result: fails ? 'Stopped' : 'Succeeded',
      terminationWait: kind === 'ecs' && prod ? 30 : 0,
    });
    if (fails) {
      a.result = 'Failed';
      a.error = `Stack ${a.stackName} failed to update: the following resource(s) failed to update: [ServiceAliasLive4E7C9B2A]. Deployment ${this.deployments[this.deployments.length - 1].id} was stopped (UPDATE_ROLLBACK_COMPLETE)`;
      return done + 3 - start;
    }
    return done + 0.5 - start;
  }

  /** The bake gate: 60 minutes of bake, then (scenario `traffic`) 15 more waiting for requests. */
  private scriptGate(a: ScriptedAction, start: number): number {
    const stage = a.stage.replace(/^Gate-/, '');
    const waitForTraffic = this.scenario.gate === 'traffic';
    const passAt = waitForTraffic ? 75 : 60;
    a.summary = (minute: number) => {
      const elapsed = Math.floor(minute - start); // the gate evaluates once a minute
      if (elapsed < 0) return undefined;
      const fmt = (n: number) => String(Math.round(n * 10) / 10);
      if (elapsed >= passAt) return `${stage}: baked ${fmt(passAt + 0.2)} minutes (needs 60), ${waitForTraffic ? 500 : 612} requests (needs 500), alarms quiet`;
      if (elapsed < 60) return `baking: ${fmt(elapsed + 0.1)} of 60 minutes elapsed`;
      return `baking: ${300 + Math.floor(((elapsed - 60) / 15) * 200)} of 500 requests served after ${fmt(elapsed + 0.1)} minutes`;
    };
    return passAt + 0.3;
  }

  // ---- What AWS answers ------------------------------------------------------------------------

  private restartMinute(): number | undefined {
    if (!this.scenario.restartAfterUpdatePipeline) return undefined;
    return this.actions.find((a) => a.stage === 'UpdatePipeline')!.end;
  }

  executionStatus(id: string, m: number): string {
    const restart = this.restartMinute();
    if (restart !== undefined && id === this.executionId) return m < restart + 0.2 ? 'InProgress' : 'Superseded';
    return m < this.endMinute ? 'InProgress' : this.endStatus;
  }

  /** Actions of an execution as ListActionExecutions shows them at minute m. */
  actionDetails(executionId: string, m: number) {
    const restart = this.restartMinute();
    const visible = this.actions.filter((a) => {
      if (a.start > m) return false;
      if (restart === undefined) return executionId === this.executionId;
      // The first execution stops after UpdatePipeline; the restart runs everything again from minute `restart`.
      return executionId === this.executionId ? a.start < restart : a.start >= restart || a.stage === 'Source' || a.stage === 'Build' || a.stage === 'UpdatePipeline';
    });
    return visible.map((a) => {
      const running = m < a.end;
      const status = running ? 'InProgress' : a.result;
      const summary = a.summary?.(m);
      const inList = this.scenario.summaryInList ?? true;
      return {
        pipelineExecutionId: executionId,
        actionExecutionId: a.id,
        pipelineVersion: 7,
        stageName: a.stage,
        actionName: a.name,
        startTime: ISO(a.start),
        lastUpdateTime: ISO(running ? m : a.end),
        status: status as 'Succeeded',
        input: {
          actionTypeId: { category: a.category, owner: 'AWS' as const, provider: a.provider, version: '1' },
          configuration: a.stackName ? { StackName: a.stackName, ActionMode: a.actionMode! } : {},
          resolvedConfiguration: {},
          roleArn: a.provider === 'CloudFormation' ? `arn:aws:iam::${a.account}:role/cdk-hnb659fds-deploy-role-${a.account}-${a.region}` : undefined,
          region: a.region,
          inputArtifacts: [],
        },
        output:
          running && !(summary && inList)
            ? undefined
            : {
                outputArtifacts: [],
                executionResult: {
                  externalExecutionId: a.provider === 'CodeBuild' ? `SafeDeployPipeline-${a.name}:0b6f7c1e-3d2a-4e5b-9c8d-7f6e5d4c3b2a` : undefined,
                  externalExecutionSummary: a.result === 'Failed' && !running ? a.error : summary,
                  errorDetails: a.result === 'Failed' && !running ? { code: 'JobFailed', message: a.error } : undefined,
                },
              },
      };
    });
  }

  private deploymentAt(d: ScriptedDeployment, m: number) {
    const status = m < d.created + 0.1 ? 'Created' : m < d.done ? 'InProgress' : d.result;
    const target = this.targetAt(d, m);
    return {
      deploymentInfo: {
        ...groupNames(d.stackName),
        deploymentId: d.id,
        deploymentConfigName: d.configName,
        status: status as 'InProgress',
        creator: d.kind === 'lambda' ? 'CloudFormation' : 'user',
        createTime: ISO(d.created),
        completeTime: m >= d.done ? ISO(d.done) : undefined,
        computePlatform: d.kind === 'lambda' ? ('Lambda' as const) : ('ECS' as const),
        deploymentStyle: { deploymentType: 'BLUE_GREEN' as const, deploymentOption: 'WITH_TRAFFIC_CONTROL' as const },
        errorInformation:
          d.result === 'Stopped' && m >= d.allowEnd
            ? {
                code: 'ALARM_ACTIVE' as const,
                message: `One or more alarms have been activated according to the Amazon CloudWatch metrics you selected, and the affected deployments have been stopped. Activated alarms: <${alarmNames(d.stackName, 'lambda')[0]}>`,
              }
            : undefined,
        rollbackInfo: d.result === 'Stopped' && m >= d.allowEnd ? { rollbackMessage: 'Deployment stopped by an alarm; traffic moved back to the original version' } : undefined,
        deploymentOverview: { Pending: 0, InProgress: target.status === 'InProgress' ? 1 : 0, Succeeded: target.status === 'Succeeded' ? 1 : 0, Failed: target.status === 'Failed' ? 1 : 0, Skipped: 0, Ready: 0 },
      },
    };
  }

  private targetAt(d: ScriptedDeployment, m: number): { status: string; target: DeploymentTarget } {
    const events: LifecycleEvent[] = d.events.map((e) => ({
      lifecycleEventName: e.name,
      status: m < e.start ? 'Pending' : m < e.end ? 'InProgress' : e.failed ? 'Failed' : 'Succeeded',
      startTime: m >= e.start ? ISO(e.start) : undefined,
      endTime: m >= e.end ? ISO(e.end) : undefined,
      diagnostics: e.failed && m >= e.end ? { errorCode: 'UnknownError' as const, scriptName: '', message: 'Deployment stopped by alarm', logTail: '' } : undefined,
    }));
    const last = d.events[d.events.length - 1];
    const status = m < d.events[0].start ? 'Pending' : m < last.end ? 'InProgress' : d.result === 'Stopped' ? 'Failed' : 'Succeeded';
    let weight = 0;
    if (m >= d.allowStart) weight = d.rule.type === 'TimeBasedCanary' ? d.rule.percent : 100;
    if (m >= d.allowEnd) weight = d.result === 'Stopped' ? 0 : 100;
    const lastUpdatedAt = ISO(Math.min(m, last.end));
    if (d.kind === 'lambda') {
      const fn = `${d.stackName}-ServiceFunction243F2A49-AbCdEf123456`;
      return {
        status,
        target: {
          deploymentTargetType: 'LambdaTarget',
          lambdaTarget: {
            deploymentId: d.id,
            targetId: `${fn}:live`,
            targetArn: `arn:aws:lambda:${d.region}:${this.accountOf(d)}:function:${fn}:live`,
            status: status as 'InProgress',
            lastUpdatedAt,
            lifecycleEvents: events,
            lambdaFunctionInfo: { functionName: fn, functionAlias: 'live', currentVersion: '41', targetVersion: '42', targetVersionWeight: weight / 100 },
          },
        },
      };
    }
    const env = d.stackName.split('-')[0].toLowerCase();
    return {
      status,
      target: {
        deploymentTargetType: 'ECSTarget',
        ecsTarget: {
          deploymentId: d.id,
          targetId: `safe-deploy-${env}:safe-deploy-${env}-web`,
          targetArn: `arn:aws:ecs:${d.region}:${this.accountOf(d)}:service/safe-deploy-${env}/safe-deploy-${env}-web`,
          status: status as 'InProgress',
          lastUpdatedAt,
          lifecycleEvents: events,
          taskSetsInfo: [
            { identifer: 'ecs-svc/1234567890123456789', desiredCount: 2, pendingCount: 0, runningCount: 2, status: 'ACTIVE', trafficWeight: weight, targetGroup: { name: 'safe-d-Green-1ABC' }, taskSetLabel: 'Green' },
            { identifer: 'ecs-svc/9876543210987654321', desiredCount: 2, pendingCount: 0, runningCount: 2, status: 'PRIMARY', trafficWeight: 100 - weight, targetGroup: { name: 'safe-d-Blue-2DEF' }, taskSetLabel: 'Blue' },
          ],
        },
      },
    };
  }

  private accountOf(d: ScriptedDeployment): string {
    return d.stackName.startsWith('Beta') ? f.PIPELINE_ACCOUNT : this.prodAccount;
  }

  /** The pipeline declaration, as GetPipeline returns it (built from the same script). */
  declaration() {
    const stages: StageDeclaration[] = this.stagesDeclared().map((s) => ({
      name: s.name,
      actions: s.actions.map(
        (a): ActionDeclaration => ({
          name: a.name,
          actionTypeId: { category: a.category, owner: 'AWS', provider: a.provider, version: '1' },
          runOrder: a.runOrder,
          region: a.region === f.REGION ? undefined : a.region,
          roleArn: a.provider === 'CloudFormation' ? `arn:aws:iam::${a.account}:role/cdk-hnb659fds-deploy-role-${a.account}-${a.region}` : undefined,
          configuration: a.stackName
            ? { StackName: a.stackName, ActionMode: a.actionMode!, ChangeSetName: 'PipelineChange', RoleArn: `arn:aws:iam::${a.account}:role/cdk-hnb659fds-cfn-exec-role-${a.account}-${a.region}` }
            : a.userParameters
              ? { FunctionName: 'SafeDeployPipeline-SafetyBakeGate9DEF6784-Ab12Cd34Ef56', UserParameters: a.userParameters }
              : {},
        }),
      ),
    }));
    const base = f.getPipelineOutput();
    return { ...base, pipeline: { ...base.pipeline!, stages, executionMode: 'SUPERSEDED' as const } };
  }

  /** Every declared stage, including those a failed execution never reached. */
  private stagesDeclared() {
    return this.stages;
  }

  // ---- Installing the answers on the mocks ------------------------------------------------------

  /** Answers every command of the mocked clients (test/support/sdk-answers.ts). */
  install(m: WatchMocks): void {
    /* eslint-disable @typescript-eslint/no-explicit-any */
    type Any = Record<string, any>;
    const tables = new Map<unknown, ReturnType<typeof answerCommands>>();
    const on = <I extends Any, O>(client: any, command: unknown, service: string, _name: string, answer: (input: I, minute: number, region: string) => O) => {
      let add = tables.get(client);
      if (!add) {
        add = answerCommands(client, service, (call) => {
          this.calls.push({ at: this.clock, service: call.service, command: call.command, region: call.region });
          const minute = this.minute();
          if ((this.scenario.throttle ?? []).some((w) => minute >= w.from && minute < w.to)) throw throttled();
          if (this.scenario.deny?.includes(call.command)) throw denied(call.service, call.command);
        });
        tables.set(client, add);
      }
      add(command, (input, where) => answer(input as I, this.minute(), where.region));
    };
    /* eslint-enable @typescript-eslint/no-explicit-any */

    on<Any, unknown>(m.codepipeline, GetPipelineCommand, 'codepipeline', 'GetPipeline', () => this.declaration());
    on<Any, unknown>(m.codepipeline, GetPipelineExecutionCommand, 'codepipeline', 'GetPipelineExecution', (input, minute) => {
      const e = f.execution(input.pipelineExecutionId, f.SHA_CURRENT, 'Add the orders endpoint', this.executionStatus(input.pipelineExecutionId, minute));
      return { pipelineExecution: { ...e.pipelineExecution, executionMode: 'SUPERSEDED' } };
    });
    on<Any, unknown>(m.codepipeline, ListActionExecutionsCommand, 'codepipeline', 'ListActionExecutions', (input, minute) => ({
      actionExecutionDetails: this.actionDetails(input.filter.pipelineExecutionId, minute).reverse(),
    }));
    on<Any, unknown>(m.codepipeline, GetPipelineStateCommand, 'codepipeline', 'GetPipelineState', (_input, minute) => {
      const current = this.restartMinute() !== undefined && minute >= this.restartMinute()! ? this.restartId : this.executionId;
      const details = this.actionDetails(current, minute);
      return f.getPipelineStateOutput(
        this.stagesDeclared().map((s) => {
          const own = details.filter((d) => d.stageName === s.name);
          return {
            stageName: s.name,
            inboundTransitionState: { enabled: true },
            latestExecution: own.length > 0 ? { pipelineExecutionId: current, status: own.some((d) => d.status === ('InProgress' as string)) ? 'InProgress' : 'Succeeded' } : undefined,
            actionStates: s.actions.map((a) => {
              const d = own.find((x) => x.actionName === a.name);
              return {
                actionName: a.name,
                latestExecution: d ? { actionExecutionId: d.actionExecutionId, status: d.status, lastStatusChange: d.lastUpdateTime, summary: a.summary?.(minute) } : undefined,
              };
            }),
          } as never;
        }),
      );
    });
    on<Any, unknown>(m.codepipeline, ListPipelineExecutionsCommand, 'codepipeline', 'ListPipelineExecutions', (_input, minute) => {
      const summary = (id: string, start: number) => ({
        pipelineExecutionId: id,
        status: this.executionStatus(id, minute) as 'InProgress',
        startTime: ISO(start),
        lastUpdateTime: ISO(minute),
        sourceRevisions: [{ actionName: 'example-org_safe-deploy', revisionId: f.SHA_CURRENT, revisionSummary: '{"ProviderType":"GitHub","CommitMessage":"Add the orders endpoint"}' }],
        trigger: { triggerType: 'Webhook' as const },
        executionMode: 'SUPERSEDED' as const,
        executionType: 'STANDARD' as const,
      });
      const list = [summary(this.executionId, 0), { ...summary(f.EXEC_PREVIOUS, -1440), status: 'Succeeded' as const, sourceRevisions: [{ actionName: 'example-org_safe-deploy', revisionId: f.SHA_PREVIOUS }] }];
      const restart = this.restartMinute();
      if (restart !== undefined && minute >= restart) list.unshift({ ...summary(this.restartId, restart), trigger: { triggerType: 'CloudFormationStackUpdate' as never } });
      return { pipelineExecutionSummaries: list };
    });
    on<Any, unknown>(m.cloudformation, ListStackResourcesCommand, 'cloudformation', 'ListStackResources', (input) => {
      const stack = input.StackName as string;
      if (!this.stages.some((s) => s.actions.some((a) => a.stackName === stack))) {
        throw Object.assign(new Error(`Stack with id ${stack} does not exist`), { name: 'ValidationError', $metadata: f.metadata });
      }
      const g = groupNames(stack);
      return {
        StackResourceSummaries: [
          { LogicalResourceId: 'ServiceDeploymentGroupApplication2E566B76', PhysicalResourceId: g.applicationName, ResourceType: 'AWS::CodeDeploy::Application', LastUpdatedTimestamp: ISO(-20000), ResourceStatus: 'CREATE_COMPLETE' },
          { LogicalResourceId: 'ServiceDeploymentGroupE338BE38', PhysicalResourceId: g.deploymentGroupName, ResourceType: 'AWS::CodeDeploy::DeploymentGroup', LastUpdatedTimestamp: ISO(-20000), ResourceStatus: 'CREATE_COMPLETE' },
          { LogicalResourceId: 'DeploymentConfig4FADF16C', PhysicalResourceId: `${stack}-DeploymentConfig4FADF16C-9ZYXWVUT`, ResourceType: 'AWS::CodeDeploy::DeploymentConfig', LastUpdatedTimestamp: ISO(-20000), ResourceStatus: 'CREATE_COMPLETE' },
        ],
      };
    });
    on<Any, unknown>(m.cloudformation, DescribeStackEventsCommand, 'cloudformation', 'DescribeStackEvents', (input) => {
      const stack = input.StackName as string;
      const d = this.deployments.find((x) => x.stackName === stack && x.result === 'Stopped');
      const at = (min: number) => ISO(min).toISOString();
      return {
        StackEvents: d
          ? [
              f.stackEvent(stack, stack, 'AWS::CloudFormation::Stack', 'UPDATE_ROLLBACK_COMPLETE', undefined, at(d.done + 3)),
              f.stackEvent(stack, 'ServiceAliasLive4E7C9B2A', 'AWS::Lambda::Alias', 'UPDATE_FAILED', `CodeDeploy deployment ${d.id} was stopped: One or more alarms have been activated`, at(d.done)),
              f.stackEvent(stack, stack, 'AWS::CloudFormation::Stack', 'UPDATE_IN_PROGRESS', 'User Initiated', at(d.created - 1)),
            ]
          : [],
      };
    });
    on<Any, unknown>(m.codedeploy, GetDeploymentGroupCommand, 'codedeploy', 'GetDeploymentGroup', (input, minute) => {
      const stack = (input.deploymentGroupName as string).replace(/-ServiceDeploymentGroup-.*$/, '');
      if (input.applicationName !== groupNames(stack).applicationName) {
        throw Object.assign(new Error('No application found for name'), { name: 'ApplicationDoesNotExistException', $metadata: f.metadata });
      }
      const kind = stack.endsWith('LambdaService') ? 'lambda' : 'ecs';
      const d = this.deployments.find((x) => x.stackName === stack && x.created <= minute);
      const prod = stack.startsWith('Prod');
      const previous = { deploymentId: `d-${kind === 'lambda' ? 'OLDLMBDA0' : 'OLDECSSV0'}`, status: 'Succeeded' as const, createTime: ISO(-1440), endTime: ISO(-1420) };
      return {
        deploymentGroupInfo: {
          ...groupNames(stack),
          deploymentGroupId: '7d0f1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b',
          deploymentConfigName: prod ? `${stack}-DeploymentConfig4FADF16C-9ZYXWVUT` : kind === 'lambda' ? 'CodeDeployDefault.LambdaAllAtOnce' : 'CodeDeployDefault.ECSAllAtOnce',
          computePlatform: kind === 'lambda' ? ('Lambda' as const) : ('ECS' as const),
          alarmConfiguration: { enabled: true, ignorePollAlarmFailure: false, alarms: alarmNames(stack, kind).map((name) => ({ name })) },
          autoRollbackConfiguration: { enabled: true, events: ['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_REQUEST', 'DEPLOYMENT_STOP_ON_ALARM'] },
          deploymentStyle: { deploymentType: 'BLUE_GREEN' as const, deploymentOption: 'WITH_TRAFFIC_CONTROL' as const },
          blueGreenDeploymentConfiguration:
            kind === 'ecs' ? { terminateBlueInstancesOnDeploymentSuccess: { action: 'TERMINATE' as const, terminationWaitTimeInMinutes: prod ? 30 : 0 }, deploymentReadyOption: { actionOnTimeout: 'CONTINUE_DEPLOYMENT' as const } } : undefined,
          lastSuccessfulDeployment: previous,
          lastAttemptedDeployment: d ? { deploymentId: d.id, status: this.deploymentAt(d, minute).deploymentInfo.status, createTime: ISO(d.created) } : previous,
        },
      };
    });
    const dep = (id: string) => {
      const d = this.deployments.find((x) => x.id === id);
      if (!d) throw Object.assign(new Error(`The deployment ${id} could not be found`), { name: 'DeploymentDoesNotExistException', $metadata: f.metadata });
      return d;
    };
    on<Any, unknown>(m.codedeploy, GetDeploymentCommand, 'codedeploy', 'GetDeployment', (input, minute) => this.deploymentAt(dep(input.deploymentId), minute));
    on<Any, unknown>(m.codedeploy, ListDeploymentTargetsCommand, 'codedeploy', 'ListDeploymentTargets', (input, minute) => {
      const d = dep(input.deploymentId);
      const t = this.targetAt(d, minute).target;
      return { targetIds: [t.lambdaTarget?.targetId ?? t.ecsTarget!.targetId!] };
    });
    on<Any, unknown>(m.codedeploy, BatchGetDeploymentTargetsCommand, 'codedeploy', 'BatchGetDeploymentTargets', (input, minute) => ({
      deploymentTargets: [this.targetAt(dep(input.deploymentId), minute).target],
    }));
    on<Any, unknown>(m.codedeploy, GetDeploymentConfigCommand, 'codedeploy', 'GetDeploymentConfig', (input) => {
      const name = input.deploymentConfigName as string;
      const custom = !name.startsWith('CodeDeployDefault.');
      return {
        deploymentConfigInfo: {
          deploymentConfigId: 'a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d',
          deploymentConfigName: name,
          computePlatform: /Lambda/.test(name) ? ('Lambda' as const) : ('ECS' as const),
          createTime: ISO(-20000),
          trafficRoutingConfig: custom ? { type: 'TimeBasedCanary' as const, timeBasedCanary: { canaryPercentage: 10, canaryInterval: 10 } } : { type: 'AllAtOnce' as const },
        },
      };
    });
    on<Any, unknown>(m.cloudwatch, DescribeAlarmsCommand, 'cloudwatch', 'DescribeAlarms', (input, minute) => ({
      MetricAlarms: (input.AlarmNames as string[]).map((name): MetricAlarm => {
        const fires = this.alarmFires.get(name);
        const alarm = fires !== undefined && minute >= fires && minute < fires + 8;
        return {
          AlarmName: name,
          AlarmArn: `arn:aws:cloudwatch:${f.REGION}:${f.PIPELINE_ACCOUNT}:alarm:${name}`,
          StateValue: alarm ? 'ALARM' : 'OK',
          StateReason: alarm
            ? 'Threshold Crossed: 2 out of the last 3 datapoints [4.2 (03/11/26 15:30:00), 3.8 (03/11/26 15:29:00)] were greater than the threshold (1.0) (minimum 2 datapoints for OK -> ALARM transition).'
            : 'Threshold Crossed: no datapoints were received for 3 periods and 3 missing datapoints were treated as [NonBreaching].',
          StateUpdatedTimestamp: ISO(alarm ? fires! : -60),
          ComparisonOperator: 'GreaterThanThreshold',
          EvaluationPeriods: 3,
          DatapointsToAlarm: 2,
          Threshold: 1,
          TreatMissingData: 'notBreaching',
        };
      }),
      CompositeAlarms: [],
    }));
  }
}
