/**
 * A scripted release for `deployctl watch` tests, played against a simulated clock. The pipeline is
 * the one the app synthesizes from the example configuration (test/lifecycle/example-pipeline.json):
 * its stages, actions, run orders, accounts and regions, stacks, services, deployment settings and
 * gates come from that fixture, so this world follows the product's layout (test/app.test.ts keeps
 * the fixture in step with the app). Every mocked AWS call answers with the state at the clock's
 * time, in the shapes the APIs return, and is recorded (time, service, command, region, resource).
 * The clock only moves when watch sleeps, so hours of release run in milliseconds.
 *
 * What the script adds to the fixture is time: how long each action takes, when CodeDeploy creates a
 * deployment and runs its lifecycle events, what the bake gate writes each minute (its own wording,
 * lambda/bake-gate/gate.ts), and the scenario's failures.
 */
import { DescribeStackEventsCommand, ListStackResourcesCommand } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient, DescribeAlarmsCommand, MetricAlarm } from '@aws-sdk/client-cloudwatch';
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
  GetPipelineCommand,
  GetPipelineExecutionCommand,
  GetPipelineStateCommand,
  ListActionExecutionsCommand,
  ListPipelineExecutionsCommand,
} from '@aws-sdk/client-codepipeline';
import { mockClient } from 'aws-sdk-client-mock';
import type { TrafficRule } from '../../lib/ops/watch-model';
import { examplePipeline, FixtureAction, FixtureService, FixtureTarget, PipelineFixture } from '../lifecycle/fixture';
import {
  actionConfiguration,
  actionRoleArn,
  ecsNames,
  functionName,
  generatedName,
  LOGICAL_IDS,
  pipelineDeclaration,
  serviceDeploymentGroup,
  ServiceDeploymentGroup,
  withProductionAccount,
} from '../support/pipeline-aws';
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

/** The pipeline version the execution runs. */
const PIPELINE_VERSION = 7;

export interface Scenario {
  /**
   * Account of the production targets (the example's are in 222222222222). @default f.PIPELINE_ACCOUNT
   * (every stage readable with the pipeline's credentials)
   */
  readonly prodAccount?: string;
  /**
   * `traffic`: a gate that counts requests (one after a production wave) waits for them once its
   * bake time is over (60% -> 100% of its minimum over 15 minutes). @default 'time'
   */
  readonly gate?: 'time' | 'traffic';
  /** Stage whose Lambda canary is stopped by its error alarm (CodeDeploy rolls back, the stage fails). */
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

interface ScriptedAction extends FixtureAction {
  readonly stage: string;
  readonly id: string;
  start: number;
  end: number;
  result: 'Succeeded' | 'Failed';
  error?: string;
  summary?: (minute: number) => string | undefined;
}

/** A service stack's deployment of this release. */
interface ScriptedDeployment {
  readonly id: string;
  readonly target: FixtureTarget;
  readonly service: FixtureService;
  readonly group: ServiceDeploymentGroup;
  readonly created: number;
  readonly events: { name: string; start: number; end: number; failed?: boolean }[];
  readonly allowStart: number;
  readonly allowEnd: number;
  /** Every lifecycle event done: all traffic on the new version (or, stopped, back on the old one). */
  readonly shifted: number;
  /** CodeDeploy's end: after the old ECS task set's termination wait. */
  readonly done: number;
  readonly result: 'Succeeded' | 'Stopped';
}

const throttled = () =>
  Object.assign(new Error('Rate exceeded'), {
    name: 'ThrottlingException',
    $fault: 'client',
    $metadata: { ...f.metadata, httpStatusCode: 400 },
    $retryable: { throttling: true },
  });

const denied = (account: string, service: string, command: string) =>
  Object.assign(
    new Error(
      `User: arn:aws:sts::${account}:assumed-role/ReleaseWatcher/alice is not authorized to perform: ${service}:${command} ` +
        `because no identity-based policy allows the ${service}:${command} action`,
    ),
    { name: 'AccessDeniedException', $fault: 'client', $metadata: { ...f.metadata, httpStatusCode: 400 } },
  );

const awsError = (name: string, message: string) => Object.assign(new Error(message), { name, $fault: 'client', $metadata: f.metadata });

/** All the mocks watch talks to. */
export const watchMocks = () => ({ ...f.mocks(), cloudwatch: mockClient(CloudWatchClient) });
export type WatchMocks = ReturnType<typeof watchMocks>;

const fmt = (n: number) => String(Math.round(n * 10) / 10);

/** CloudWatch's StateReason of a metric alarm: a judge's metric math decides on one datapoint. */
function stateReason(judge: boolean, alarm: boolean): string {
  if (alarm && judge) {
    return (
      'Threshold Crossed: 1 out of the last 1 datapoints [5.1 (03/11/26 15:20:00)] was greater than or equal to the threshold (4.5) ' +
      '(minimum 1 datapoint for OK -> ALARM transition).'
    );
  }
  if (alarm) {
    return (
      'Threshold Crossed: 2 out of the last 3 datapoints [4.2 (03/11/26 15:30:00), 3.8 (03/11/26 15:29:00)] were greater than the ' +
      'threshold (1.0) (minimum 2 datapoints for OK -> ALARM transition).'
    );
  }
  const n = judge ? 1 : 3;
  const missing = n > 1 ? `${n} periods and ${n} missing datapoints were` : `${n} period and ${n} missing datapoint was`;
  return `Threshold Crossed: no datapoints were received for ${missing} treated as [NonBreaching].`;
}

export class ReleaseWorld {
  clock = T0;
  /** The pipeline being released: the example's, production in the scenario's account. */
  readonly fixture: PipelineFixture;
  /** Every call: when, to what, and the resource it names (a stack, a deployment group or deployment), if any. */
  readonly calls: { at: number; service: string; command: string; region: string; resource?: string }[] = [];
  /** The actions the execution ran, in the order they started. */
  readonly actions: ScriptedAction[] = [];
  readonly deployments: ScriptedDeployment[] = [];
  /** Minute the execution ends, and how. */
  endMinute = 0;
  endStatus: 'Succeeded' | 'Failed' = 'Succeeded';
  readonly executionId = f.EXEC_CURRENT;
  readonly restartId = '8e1f2a3b-4c5d-4e6f-8a7b-9c0d1e2f3a4b';
  private readonly alarmFires = new Map<string, number>();
  private readonly failedStacks = new Map<string, ScriptedDeployment>();

  constructor(readonly scenario: Scenario = {}) {
    const example = examplePipeline();
    this.fixture = withProductionAccount(example, scenario.prodAccount ?? example.account);
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

  /** The target and service a stack belongs to (a platform stack has no service). */
  stackOf(stackName: string): { target: FixtureTarget; service?: FixtureService } | undefined {
    for (const target of this.fixture.targets) {
      if (target.platformStack === stackName) return { target };
      const service = target.services.find((s) => s.stackName === stackName);
      if (service) return { target, service };
    }
    return undefined;
  }

  /** The deployment group of a service, by service name and the target's id (e.g. `greeting-api`, `Prod-us-east-1`). */
  groupOf(serviceName: string, targetId: string): ServiceDeploymentGroup {
    const service = this.fixture.targets.find((t) => t.id === targetId)?.services.find((s) => s.name === serviceName);
    if (!service) throw new Error(`world: no service ${serviceName} in target ${targetId}`);
    return serviceDeploymentGroup(service);
  }

  // ---- The script ------------------------------------------------------------------------------

  private script(): void {
    let t = 0;
    let failed = false;
    let n = 0;
    // Stages one after the other, run orders in sequence, the actions of a run order together.
    for (const stage of this.fixture.stages) {
      const orders = [...new Set(stage.actions.map((a) => a.runOrder))].sort((a, b) => a - b);
      for (const order of orders) {
        const group = stage.actions.filter((a) => a.runOrder === order);
        const started: ScriptedAction[] = [];
        for (const a of group) {
          n++;
          const action: ScriptedAction = {
            ...a,
            stage: stage.name,
            id: `${n.toString(16).padStart(2, '0')}b2c3d4-aaaa-4bbb-8ccc-ddddeeeeffff`,
            start: t,
            end: t,
            result: 'Succeeded',
          };
          action.end = t + this.duration(action);
          this.actions.push(action);
          started.push(action);
        }
        t = Math.max(...started.map((a) => a.end));
        if (started.some((a) => a.result === 'Failed')) failed = true;
        if (failed) break;
      }
      if (failed) break;
    }
    this.endMinute = t;
    this.endStatus = failed ? 'Failed' : 'Succeeded';
  }

  /** Minutes an action takes; deploys and gates script what happens meanwhile. */
  private duration(a: ScriptedAction): number {
    if (a.provider === 'Lambda' && a.userParameters) return this.scriptGate(a);
    if (a.provider === 'CloudFormation') {
      const owner = this.stackOf(a.stackName!);
      if (!owner) throw new Error(`world: stack ${a.stackName} is in no target of the fixture`);
      // A platform stack this release does not change: CloudFormation has nothing to update.
      return owner.service ? this.scriptDeployment(a, owner.target, owner.service) : 1;
    }
    if (a.provider === 'CodeStarSourceConnection') return 0.5;
    if (a.provider === 'Manual') return 0.2; // the permission check's approver: nothing broadened
    if (a.stage === 'Build') return 4.5;
    if (a.stage === 'UpdatePipeline') return 1;
    return 2; // assets, images, smoke tests, the permission check's diff
  }

  /**
   * A service stack's update: CloudFormation reaches the resource that starts the CodeDeploy
   * deployment a minute in (the Lambda alias, or the ECS deployment resource), then waits for it.
   * Lambda: the alias update ends with the deployment. ECS: the deployment resource completes once
   * all traffic is on the new task set; CodeDeploy keeps the old one for the termination wait.
   */
  private scriptDeployment(a: ScriptedAction, target: FixtureTarget, service: FixtureService): number {
    const group = serviceDeploymentGroup(service);
    const rule = group.rule;
    const c = a.start + 1;
    const events: ScriptedDeployment['events'] = [];
    let allowStart: number;
    if (service.kind === 'lambda') {
      events.push({ name: 'BeforeAllowTraffic', start: c, end: c + 0.5 });
      allowStart = c + 0.5;
    } else {
      events.push(
        { name: 'BeforeInstall', start: c, end: c + 0.2 },
        { name: 'Install', start: c + 0.2, end: c + 2 },
        { name: 'AfterInstall', start: c + 2, end: c + 2.2 },
      );
      events.push(
        { name: 'AllowTestTraffic', start: c + 2.2, end: c + 2.4 },
        { name: 'AfterAllowTestTraffic', start: c + 2.4, end: c + 3.5 },
        { name: 'BeforeAllowTraffic', start: c + 3.5, end: c + 3.7 },
      );
      allowStart = c + 3.7;
    }
    const shift =
      rule.type === 'AllAtOnce'
        ? 0.5
        : rule.type === 'TimeBasedCanary'
          ? rule.intervalMinutes
          : rule.intervalMinutes * (Math.ceil(100 / rule.percent) - 1);
    const fails = service.kind === 'lambda' && this.scenario.failLambdaIn === a.stage;
    const serviceIndex = target.services.indexOf(service);
    // d- and 9 characters, as CodeDeploy's: the target's initial and index, the kind, the service's number.
    const kind = service.kind === 'lambda' ? 'LMBDA' : 'ECSSV';
    const id = `d-${target.id[0]}${this.fixture.targets.indexOf(target)}${kind}${String(serviceIndex + 1).padStart(2, '0')}`;
    let allowEnd: number;
    let shifted: number;
    if (fails) {
      // The error alarm fires 4 minutes into the canary; CodeDeploy stops and rolls back.
      this.alarmFires.set(group.errorAlarm, allowStart + 4);
      allowEnd = allowStart + 4.5;
      events.push({ name: 'AllowTraffic', start: allowStart, end: allowEnd, failed: true });
      shifted = allowEnd + 0.5;
    } else {
      allowEnd = allowStart + shift;
      // A judged canary's post-traffic hook waits for the step's last minute of metrics.
      const after = service.trafficCheck ? 1 : 0.5;
      events.push(
        { name: 'AllowTraffic', start: allowStart, end: allowEnd },
        { name: 'AfterAllowTraffic', start: allowEnd, end: allowEnd + after },
      );
      shifted = allowEnd + after;
    }
    const done = shifted + (fails ? 0 : (group.terminationWaitMinutes ?? 0));
    const d: ScriptedDeployment = {
      id,
      target,
      service,
      group,
      created: c,
      events,
      allowStart,
      allowEnd,
      shifted,
      done,
      result: fails ? 'Stopped' : 'Succeeded',
    };
    this.deployments.push(d);
    if (fails) {
      a.result = 'Failed';
      // The world's wording of CodePipeline's CloudFormation action error (as test/lifecycle/world.ts).
      a.error =
        `Stack ${service.stackName} failed to update. Current stack status: UPDATE_ROLLBACK_COMPLETE. ` +
        `Reason: The following resource(s) failed to update: [${LOGICAL_IDS.alias}].`;
      this.failedStacks.set(service.stackName, d);
      return shifted + 3 - a.start;
    }
    // Lambda: CloudFormation completes the alias and the stack. ECS: the resource sees the shift at its next 30 s poll.
    return (service.kind === 'lambda' ? done : shifted + 0.5) + 0.5 - a.start;
  }

  /**
   * The bake gate (its settings are the release manifest's, `fixture.gates`): it evaluates once a
   * minute, and writes what lambda/bake-gate/gate.ts writes. The release does not change the
   * services' flags, so the observed stage's flag deployments are complete from the start.
   */
  private scriptGate(a: ScriptedAction): number {
    const params = JSON.parse(a.userParameters!) as { gate: string };
    const settings = this.fixture.gates[params.gate];
    if (!settings) throw new Error(`world: the release manifest has no gate ${params.gate}`);
    const stage = settings.stageName;
    const flags = settings.observe.reduce((sum, t) => sum + (t.flags ?? []).length, 0);
    const flagsDone = flags > 0 ? `, ${flags} flag deployment${flags > 1 ? 's' : ''} complete` : '';
    const bake = settings.bake;
    const counting = settings.countRequests && !!bake && bake.minRequests > 0;
    const waitForTraffic = counting && this.scenario.gate === 'traffic';
    const bakeMinutes = bake?.minutes ?? 0;
    const passAt = bakeMinutes + (waitForTraffic ? 15 : 0);
    const minRequests = bake?.minRequests ?? 0;
    const served = counting
      ? `${waitForTraffic ? minRequests : minRequests + 112} requests (needs ${minRequests})`
      : 'requests not counted (the previous stage is pre-production)';
    a.summary = (minute: number) => {
      const elapsed = Math.floor(minute - a.start); // the gate evaluates once a minute
      if (elapsed < 0) return undefined;
      if (!bake) return `${stage}: alarms quiet${flagsDone}`;
      if (elapsed >= passAt)
        return `${stage}: baked ${fmt(passAt + 0.2)} minutes (needs ${bakeMinutes}), ${served}, alarms quiet${flagsDone}`;
      if (elapsed < bakeMinutes) return `baking: ${fmt(elapsed + 0.1)} of ${bakeMinutes} minutes elapsed`;
      const requests = Math.floor(minRequests * (0.6 + (0.4 * (elapsed - bakeMinutes)) / 15));
      return `baking: ${requests} of ${minRequests} requests served after ${fmt(elapsed + 0.1)} minutes`;
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
      return executionId === this.executionId
        ? a.start < restart
        : a.start >= restart || a.stage === 'Source' || a.stage === 'Build' || a.stage === 'UpdatePipeline';
    });
    return visible.map((a) => {
      const running = m < a.end;
      const status = running ? 'InProgress' : a.result;
      const summary = a.summary?.(m);
      const inList = this.scenario.summaryInList ?? true;
      return {
        pipelineExecutionId: executionId,
        actionExecutionId: a.id,
        pipelineVersion: PIPELINE_VERSION,
        stageName: a.stage,
        actionName: a.name,
        startTime: ISO(a.start),
        lastUpdateTime: ISO(running ? m : a.end),
        status: status as 'Succeeded',
        input: {
          actionTypeId: { category: a.category as 'Build', owner: 'AWS' as const, provider: a.provider, version: '1' },
          configuration: actionConfiguration(a),
          resolvedConfiguration: actionConfiguration(a),
          roleArn: actionRoleArn(a),
          region: a.region,
          inputArtifacts: [],
        },
        output:
          running && !(summary && inList)
            ? undefined
            : {
                outputArtifacts: [],
                executionResult: {
                  externalExecutionId:
                    a.provider === 'CodeBuild' ? `${this.fixture.pipelineName}-${a.name}:0b6f7c1e-3d2a-4e5b-9c8d-7f6e5d4c3b2a` : undefined,
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
    const stopped = d.result === 'Stopped' && m >= d.allowEnd;
    return {
      deploymentInfo: {
        applicationName: d.group.applicationName,
        deploymentGroupName: d.group.deploymentGroupName,
        deploymentId: d.id,
        deploymentConfigName: d.group.deploymentConfigName,
        status: status as 'InProgress',
        // The Lambda alias update starts it through CloudFormation; the ECS deployment resource calls CreateDeployment.
        creator: d.service.kind === 'lambda' ? 'CloudFormation' : 'user',
        createTime: ISO(d.created),
        completeTime: m >= d.done ? ISO(d.done) : undefined,
        computePlatform: d.group.computePlatform,
        deploymentStyle: { deploymentType: 'BLUE_GREEN' as const, deploymentOption: 'WITH_TRAFFIC_CONTROL' as const },
        instanceTerminationWaitTimeStarted: d.service.kind === 'ecs' && d.result === 'Succeeded' && m >= d.shifted ? true : undefined,
        errorInformation: stopped
          ? {
              code: 'ALARM_ACTIVE' as const,
              message:
                'One or more alarms have been activated according to the Amazon CloudWatch metrics you selected, ' +
                `and the affected deployments have been stopped. Activated alarms: <${d.group.errorAlarm}>`,
            }
          : undefined,
        rollbackInfo: stopped
          ? { rollbackMessage: 'Deployment stopped by an alarm; traffic moved back to the original version' }
          : undefined,
        deploymentOverview: {
          Pending: 0,
          InProgress: target.status === 'InProgress' ? 1 : 0,
          Succeeded: target.status === 'Succeeded' ? 1 : 0,
          Failed: target.status === 'Failed' ? 1 : 0,
          Skipped: 0,
          Ready: 0,
        },
      },
    };
  }

  private targetAt(d: ScriptedDeployment, m: number): { status: string; target: DeploymentTarget } {
    const events: LifecycleEvent[] = d.events.map((e) => ({
      lifecycleEventName: e.name,
      status: m < e.start ? 'Pending' : m < e.end ? 'InProgress' : e.failed ? 'Failed' : 'Succeeded',
      startTime: m >= e.start ? ISO(e.start) : undefined,
      endTime: m >= e.end ? ISO(e.end) : undefined,
      diagnostics:
        e.failed && m >= e.end
          ? { errorCode: 'UnknownError' as const, scriptName: '', message: 'Deployment stopped by alarm', logTail: '' }
          : undefined,
    }));
    const last = d.events[d.events.length - 1];
    const status = m < d.events[0].start ? 'Pending' : m < last.end ? 'InProgress' : d.result === 'Stopped' ? 'Failed' : 'Succeeded';
    const rule = d.group.rule;
    let weight = 0;
    if (m >= d.allowStart) {
      const steps = rule.type === 'TimeBasedLinear' ? 1 + Math.floor((m - d.allowStart) / rule.intervalMinutes) : 1;
      weight = rule.type === 'AllAtOnce' ? 100 : Math.min(100, rule.percent * steps);
    }
    if (m >= d.allowEnd) weight = d.result === 'Stopped' ? 0 : 100;
    const lastUpdatedAt = ISO(Math.min(m, last.end));
    const account = d.target.account;
    if (d.service.kind === 'lambda') {
      const fn = functionName(d.service);
      return {
        status,
        target: {
          deploymentTargetType: 'LambdaTarget',
          lambdaTarget: {
            deploymentId: d.id,
            targetId: `${fn}:live`,
            targetArn: `arn:aws:lambda:${d.target.region}:${account}:function:${fn}:live`,
            status: status as 'InProgress',
            lastUpdatedAt,
            lifecycleEvents: events,
            lambdaFunctionInfo: {
              functionName: fn,
              functionAlias: 'live',
              currentVersion: '41',
              targetVersion: '42',
              targetVersionWeight: weight / 100,
            },
          },
        },
      };
    }
    const names = ecsNames(d.target, d.service);
    const targetGroup = (color: string) => generatedName(d.service.stackName.slice(0, 5), `Servi${color}`, 32);
    return {
      status,
      target: {
        deploymentTargetType: 'ECSTarget',
        ecsTarget: {
          deploymentId: d.id,
          targetId: `${names.cluster}:${names.service}`,
          targetArn: `arn:aws:ecs:${d.target.region}:${account}:service/${names.cluster}/${names.service}`,
          status: status as 'InProgress',
          lastUpdatedAt,
          lifecycleEvents: events,
          taskSetsInfo: [
            {
              identifer: 'ecs-svc/1234567890123456789',
              desiredCount: 2,
              pendingCount: 0,
              runningCount: 2,
              status: 'ACTIVE',
              trafficWeight: weight,
              targetGroup: { name: targetGroup('Green') },
              taskSetLabel: 'Green',
            },
            {
              identifer: 'ecs-svc/9876543210987654321',
              desiredCount: 2,
              pendingCount: 0,
              runningCount: 2,
              status: 'PRIMARY',
              trafficWeight: 100 - weight,
              targetGroup: { name: targetGroup('Blue') },
              taskSetLabel: 'Blue',
            },
          ],
        },
      },
    };
  }

  /** The pipeline declaration, as GetPipeline returns it. */
  declaration() {
    return pipelineDeclaration(this.fixture, PIPELINE_VERSION);
  }

  /** A stack's resources as ListStackResources lists them: what watch and diagnose look for. */
  private stackResources(stackName: string, region: string) {
    const owner = this.stackOf(stackName);
    if (!owner || owner.target.region !== region) throw awsError('ValidationError', `Stack with id ${stackName} does not exist`);
    const resource = (logicalId: string, type: string, physicalId = generatedName(stackName, logicalId, 255)) => ({
      LogicalResourceId: logicalId,
      PhysicalResourceId: physicalId,
      ResourceType: type,
      LastUpdatedTimestamp: ISO(-20000),
      ResourceStatus: 'CREATE_COMPLETE' as const,
    });
    if (!owner.service) {
      return [
        resource(LOGICAL_IDS.cluster, 'AWS::ECS::Cluster'),
        resource('GateReaderRole', 'AWS::IAM::Role', owner.target.readerRoleName ?? 'role'),
      ];
    }
    const s = owner.service;
    const g = serviceDeploymentGroup(s);
    const own =
      s.kind === 'lambda'
        ? [
            resource(LOGICAL_IDS.function, 'AWS::Lambda::Function', functionName(s)),
            resource(
              LOGICAL_IDS.alias,
              'AWS::Lambda::Alias',
              `arn:aws:lambda:${owner.target.region}:${owner.target.account}:function:${functionName(s)}:live`,
            ),
          ]
        : [
            resource(LOGICAL_IDS.ecsService, 'AWS::ECS::Service'),
            resource(LOGICAL_IDS.ecsDeployment, 'Custom::EcsCodeDeployDeployment', `${g.applicationName}/${g.deploymentGroupName}`),
          ];
    return [
      ...(s.deployment.type === 'all-at-once'
        ? []
        : [resource(LOGICAL_IDS.deploymentConfig, 'AWS::CodeDeploy::DeploymentConfig', g.deploymentConfigName)]),
      ...own,
      resource(LOGICAL_IDS.application, 'AWS::CodeDeploy::Application', g.applicationName),
      resource(LOGICAL_IDS.deploymentGroup, 'AWS::CodeDeploy::DeploymentGroup', g.deploymentGroupName),
    ];
  }

  /** The stack events of a failed update, newest first. */
  private stackEvents(stackName: string) {
    const d = this.failedStacks.get(stackName);
    if (!d) return [];
    const stackId = `arn:aws:cloudformation:${d.target.region}:${d.target.account}:stack/${stackName}/1f2e3d4c-5b6a-11ef-8a9b-0e1d2c3b4a59`;
    const event = (logicalId: string, type: string, status: string, reason: string | undefined, minute: number) => ({
      StackId: stackId,
      EventId: `${logicalId}-${status}-${minute}`,
      StackName: stackName,
      LogicalResourceId: logicalId,
      PhysicalResourceId: logicalId === stackName ? stackId : '',
      ResourceType: type,
      Timestamp: ISO(minute),
      ResourceStatus: status as 'UPDATE_FAILED',
      ResourceStatusReason: reason,
    });
    return [
      event(stackName, 'AWS::CloudFormation::Stack', 'UPDATE_ROLLBACK_COMPLETE', undefined, d.shifted + 3),
      event(
        LOGICAL_IDS.alias,
        'AWS::Lambda::Alias',
        'UPDATE_FAILED',
        `CodeDeploy deployment ${d.id} was stopped: One or more alarms have been activated`,
        d.shifted,
      ),
      event(stackName, 'AWS::CloudFormation::Stack', 'UPDATE_IN_PROGRESS', 'User Initiated', d.created - 1),
    ];
  }

  // ---- Installing the answers on the mocks ------------------------------------------------------

  /** Answers every command of the mocked clients (test/support/sdk-answers.ts). */
  install(m: WatchMocks): void {
    type Any = Record<string, any>;
    const tables = new Map<unknown, ReturnType<typeof answerCommands>>();
    const on = (client: any, command: unknown, service: string, answer: (input: Any, minute: number, region: string) => unknown) => {
      let add = tables.get(client);
      if (!add) {
        add = answerCommands(client, service, (call) => {
          const resource = call.input?.StackName ?? call.input?.deploymentGroupName ?? call.input?.deploymentId;
          this.calls.push({
            at: this.clock,
            service: call.service,
            command: call.command,
            region: call.region,
            ...(resource ? { resource } : {}),
          });
          const minute = this.minute();
          if ((this.scenario.throttle ?? []).some((w) => minute >= w.from && minute < w.to)) throw throttled();
          if (this.scenario.deny?.includes(call.command)) throw denied(this.fixture.account, call.service, call.command);
        });
        tables.set(client, add);
      }
      add(command, (input, where) => answer(input as Any, this.minute(), where.region));
    };
    const fx = this.fixture;

    on(m.codepipeline, GetPipelineCommand, 'codepipeline', () => this.declaration());
    on(m.codepipeline, GetPipelineExecutionCommand, 'codepipeline', (input, minute) => {
      const e = f.execution(
        input.pipelineExecutionId,
        f.SHA_CURRENT,
        'Add the orders endpoint',
        this.executionStatus(input.pipelineExecutionId, minute),
      );
      return {
        pipelineExecution: {
          ...e.pipelineExecution,
          pipelineName: fx.pipelineName,
          pipelineVersion: PIPELINE_VERSION,
          executionMode: fx.executionMode,
        },
      };
    });
    on(m.codepipeline, ListActionExecutionsCommand, 'codepipeline', (input, minute) => ({
      actionExecutionDetails: this.actionDetails(input.filter.pipelineExecutionId, minute).reverse(),
    }));
    on(m.codepipeline, GetPipelineStateCommand, 'codepipeline', (_input, minute) => {
      const current = this.restartMinute() !== undefined && minute >= this.restartMinute()! ? this.restartId : this.executionId;
      const details = this.actionDetails(current, minute);
      return {
        ...f.getPipelineStateOutput(
          fx.stages.map((s) => {
            const own = details.filter((d) => d.stageName === s.name);
            return {
              stageName: s.name,
              inboundTransitionState: { enabled: true },
              latestExecution:
                own.length > 0
                  ? {
                      pipelineExecutionId: current,
                      status: own.some((d) => d.status === ('InProgress' as string)) ? 'InProgress' : 'Succeeded',
                    }
                  : undefined,
              actionStates: s.actions.map((a) => {
                const d = own.find((x) => x.actionName === a.name);
                const summary = this.actions.find((x) => x.stage === s.name && x.name === a.name)?.summary?.(minute);
                return {
                  actionName: a.name,
                  latestExecution: d
                    ? { actionExecutionId: d.actionExecutionId, status: d.status, lastStatusChange: d.lastUpdateTime, summary }
                    : undefined,
                };
              }),
            } as never;
          }),
        ),
        pipelineName: fx.pipelineName,
        pipelineVersion: PIPELINE_VERSION,
      };
    });
    on(m.codepipeline, ListPipelineExecutionsCommand, 'codepipeline', (_input, minute) => {
      const source = fx.stages[0].actions[0].name;
      const summary = (id: string, start: number) => ({
        pipelineExecutionId: id,
        status: this.executionStatus(id, minute) as 'InProgress',
        startTime: ISO(start),
        lastUpdateTime: ISO(minute),
        sourceRevisions: [
          {
            actionName: source,
            revisionId: f.SHA_CURRENT,
            revisionSummary: '{"ProviderType":"GitHub","CommitMessage":"Add the orders endpoint"}',
          },
        ],
        trigger: { triggerType: 'Webhook' as const },
        executionMode: fx.executionMode as 'SUPERSEDED',
        executionType: 'STANDARD' as const,
      });
      const list = [
        summary(this.executionId, 0),
        {
          ...summary(f.EXEC_PREVIOUS, -1440),
          status: 'Succeeded' as const,
          sourceRevisions: [{ actionName: source, revisionId: f.SHA_PREVIOUS }],
        },
      ];
      const restart = this.restartMinute();
      if (restart !== undefined && minute >= restart)
        list.unshift({ ...summary(this.restartId, restart), trigger: { triggerType: 'CloudFormationStackUpdate' as never } });
      return { pipelineExecutionSummaries: list };
    });
    on(m.cloudformation, ListStackResourcesCommand, 'cloudformation', (input, _minute, region) => ({
      StackResourceSummaries: this.stackResources(input.StackName, region),
    }));
    on(m.cloudformation, DescribeStackEventsCommand, 'cloudformation', (input) => ({ StackEvents: this.stackEvents(input.StackName) }));
    on(m.codedeploy, GetDeploymentGroupCommand, 'codedeploy', (input, minute, region) => {
      const found = this.fixture.targets
        .filter((t) => t.region === region)
        .flatMap((t) => t.services.map((s) => ({ s, g: serviceDeploymentGroup(s) })))
        .find((x) => x.g.applicationName === input.applicationName);
      if (!found) throw awsError('ApplicationDoesNotExistException', 'No application found for name');
      if (found.g.deploymentGroupName !== input.deploymentGroupName)
        throw awsError('DeploymentGroupDoesNotExistException', `No Deployment Group found for name: ${input.deploymentGroupName}`);
      const { s, g } = found;
      const d = this.deployments.find((x) => x.service === s && x.created <= minute);
      const previous = {
        deploymentId: `d-${s.kind === 'lambda' ? 'OLDLMBDA0' : 'OLDECSSV0'}`,
        status: 'Succeeded' as const,
        createTime: ISO(-1440),
        endTime: ISO(-1420),
      };
      return {
        deploymentGroupInfo: {
          applicationName: g.applicationName,
          deploymentGroupName: g.deploymentGroupName,
          deploymentGroupId: '7d0f1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b',
          deploymentConfigName: g.deploymentConfigName,
          computePlatform: g.computePlatform,
          alarmConfiguration: { enabled: true, ignorePollAlarmFailure: false, alarms: g.alarms.map((name) => ({ name })) },
          autoRollbackConfiguration: {
            enabled: true,
            events: ['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_REQUEST', 'DEPLOYMENT_STOP_ON_ALARM'],
          },
          deploymentStyle: { deploymentType: 'BLUE_GREEN' as const, deploymentOption: 'WITH_TRAFFIC_CONTROL' as const },
          blueGreenDeploymentConfiguration:
            s.kind === 'ecs'
              ? {
                  terminateBlueInstancesOnDeploymentSuccess: {
                    action: 'TERMINATE' as const,
                    terminationWaitTimeInMinutes: g.terminationWaitMinutes,
                  },
                  deploymentReadyOption: { actionOnTimeout: 'CONTINUE_DEPLOYMENT' as const, waitTimeInMinutes: 0 },
                }
              : undefined,
          lastSuccessfulDeployment: previous,
          lastAttemptedDeployment: d
            ? { deploymentId: d.id, status: this.deploymentAt(d, minute).deploymentInfo.status, createTime: ISO(d.created) }
            : previous,
        },
      };
    });
    const dep = (id: string, region: string) => {
      const d = this.deployments.find((x) => x.id === id && x.target.region === region);
      if (!d) throw awsError('DeploymentDoesNotExistException', `The deployment ${id} could not be found`);
      return d;
    };
    on(m.codedeploy, GetDeploymentCommand, 'codedeploy', (input, minute, region) =>
      this.deploymentAt(dep(input.deploymentId, region), minute),
    );
    on(m.codedeploy, ListDeploymentTargetsCommand, 'codedeploy', (input, minute, region) => {
      const t = this.targetAt(dep(input.deploymentId, region), minute).target;
      return { targetIds: [t.lambdaTarget?.targetId ?? t.ecsTarget!.targetId!] };
    });
    on(m.codedeploy, BatchGetDeploymentTargetsCommand, 'codedeploy', (input, minute, region) => ({
      deploymentTargets: [this.targetAt(dep(input.deploymentId, region), minute).target],
    }));
    on(m.codedeploy, GetDeploymentConfigCommand, 'codedeploy', (input) => {
      const name = input.deploymentConfigName as string;
      const g = this.fixture.targets.flatMap((t) => t.services.map(serviceDeploymentGroup)).find((x) => x.deploymentConfigName === name);
      const rule: TrafficRule = g?.rule ?? { type: 'AllAtOnce' };
      return {
        deploymentConfigInfo: {
          deploymentConfigId: 'a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d',
          deploymentConfigName: name,
          computePlatform: g?.computePlatform ?? (/Lambda/.test(name) ? ('Lambda' as const) : ('ECS' as const)),
          createTime: ISO(-20000),
          trafficRoutingConfig:
            rule.type === 'TimeBasedCanary'
              ? { type: rule.type, timeBasedCanary: { canaryPercentage: rule.percent, canaryInterval: rule.intervalMinutes } }
              : rule.type === 'TimeBasedLinear'
                ? { type: rule.type, timeBasedLinear: { linearPercentage: rule.percent, linearInterval: rule.intervalMinutes } }
                : { type: 'AllAtOnce' as const },
        },
      };
    });
    on(m.cloudwatch, DescribeAlarmsCommand, 'cloudwatch', (input, minute, region) => ({
      MetricAlarms: (input.AlarmNames as string[]).map((name): MetricAlarm => {
        const fires = this.alarmFires.get(name);
        const alarm = fires !== undefined && minute >= fires && minute < fires + 8;
        const owner = this.fixture.targets.find(
          (t) => t.region === region && t.services.some((s) => serviceDeploymentGroup(s).alarms.includes(name)),
        );
        // The judge's alarms are metric math over the canary's window: one datapoint decides.
        const judge = name.endsWith('Judge');
        return {
          AlarmName: name,
          AlarmArn: `arn:aws:cloudwatch:${region}:${owner?.account ?? fx.account}:alarm:${name}`,
          StateValue: alarm ? 'ALARM' : 'OK',
          StateReason: stateReason(judge, alarm),
          StateUpdatedTimestamp: ISO(alarm ? fires! : -60),
          ComparisonOperator: judge ? 'GreaterThanOrEqualToThreshold' : 'GreaterThanThreshold',
          EvaluationPeriods: judge ? 1 : 3,
          DatapointsToAlarm: judge ? 1 : 2,
          Threshold: judge ? 4.5 : 1,
          TreatMissingData: 'notBreaching',
        };
      }),
      CompositeAlarms: [],
    }));
  }
}
