import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { CANARY_TRAFFIC_CHECK_ENV, parseCanaryTrafficCheck } from '../runtime/canary-traffic-settings';
import { STAGE_TYPE_METADATA, StageMarker } from '../policy/stage-type';
import { CANARY_JUDGE_METADATA, CanaryJudgeMetadata } from '../constructs/canary-judge/canary-judge';
import { DETECTION_MODEL, metricAlarmDetectionSeconds } from '../constructs/shared/detection-time';
import { describeStrategy, PREDEFINED_STRATEGIES } from '../constructs/feature-flags/rollout';
import { DEFAULT_REPORT_RPS, formatSimulatedReadiness, REPORT_RUNS, REPORT_SEED, SimulatedReadiness, simulateService } from './simulated';

/**
 * Production services are simulated (./simulated.ts): seeded bad releases replayed through their
 * alarms as synthesized give the median and p95 time to rollback, the bad version's share of the
 * requests until then, and whether the canary step outlasts detection. Where the simulator cannot
 * apply (pre-production stages, linear shifts, alarms it cannot evaluate) the report keeps the
 * hand model below and says why.
 *
 * The hand model (documented in the README section of the report):
 *
 *   detection  = (M + 1) x P + metricDelay + evaluationInterval + codeDeployPoll
 *
 * for a metric alarm with period P that fires on M breaching datapoints (DatapointsToAlarm, or
 * EvaluationPeriods when unset). Worst case: errors start just after a period boundary, so that
 * partial period may not breach; then M full periods must. CloudWatch publishes the datapoint
 * about `metricDelay` later, evaluates the alarm every minute (every 10 s for periods under a
 * minute), and CodeDeploy sees the alarm state at its next poll. A composite alarm fires when
 * its children do: its worst case is the slowest child (the failure may trip only that one).
 * Several alarms on a deployment group: the slowest counts, for the same reason.
 *
 * Exposure integrates the new version's traffic share from the start of the shift until
 * rollback starts (or the deployment ends): canary p% until the interval, then 100%; linear
 * +p% every interval. If detection comes after the deployment has completed, CodeDeploy no longer
 * rolls back automatically: the report flags it ("caught by canary: no").
 */
export const MODEL = DETECTION_MODEL;

export interface AlarmReport {
  readonly name: string;
  readonly kind: 'metric' | 'composite';
  readonly periodSeconds?: number;
  readonly evaluationPeriods?: number;
  readonly datapointsToAlarm?: number;
  /** Worst case from first errors to CodeDeploy seeing the alarm. */
  readonly detectionSeconds: number;
  readonly children?: AlarmReport[];
}

export interface TrafficShift {
  readonly type: 'canary' | 'linear' | 'all-at-once' | 'unknown';
  readonly percent?: number;
  readonly intervalMinutes?: number;
}

/**
 * A feature-flag deployment (AppConfig) of a service's stack: how a flag change rolls out, which
 * alarms watch it, and whether they can fire before AppConfig stops watching (after rollout + bake).
 */
export interface FlagRolloutReport {
  /** The AppConfig environment (the service's name). */
  readonly environment: string;
  /** The strategy: a predefined name, or `custom`. */
  readonly strategy: string;
  /** `linear 20 % over 30 min, step every 6 min, bake 30 min` */
  readonly description: string;
  /** Minutes AppConfig watches the monitors: rollout plus bake; undefined when unknown. */
  readonly watchedMinutes?: number;
  /** The environment's monitors. */
  readonly monitors: AlarmReport[];
  /** Worst case from a bad flag change's first errors to the slowest monitor firing. */
  readonly detectionSeconds?: number;
  /** Whether the monitors fire while AppConfig still watches, so a bad flag change is rolled back automatically. */
  readonly rolledBackAutomatically: boolean;
}

export interface ServiceReport {
  /** How the detection figures in the text were obtained: simulated, or the worst-case hand model. */
  readonly model: 'simulated' | 'hand';
  /** Why the hand model is used, when it is. */
  readonly handModelReason?: string;
  /** The simulated readiness (production services the simulator applies to). */
  readonly simulation?: SimulatedReadiness;
  readonly stage: string;
  readonly stageType: StageMarker['type'] | 'unmarked';
  readonly stack: string;
  readonly service: string;
  readonly kind: 'lambda-alias' | 'ecs-service';
  readonly deploymentConfig: string;
  readonly shift: TrafficShift;
  readonly alarms: AlarmReport[];
  /** Hand model: worst case from a bad release's first errors to rollback start; undefined without alarms. */
  readonly worstCaseToRollbackSeconds?: number;
  /** Minutes from the start of the shift until CodeDeploy considers the deployment done. */
  readonly deploymentMinutes?: number;
  /**
   * Whether a bad release is rolled back before the deployment completes: simulated, a crash loop
   * rolled back in at least 95% of the runs; by the hand model, worst-case detection before completion.
   */
  readonly caughtByCanary: boolean;
  /** Hand model: share of traffic on the new version just before rollback starts, percent. */
  readonly shareAtRollbackPercent?: number;
  /** Hand model: integral of the new version's share until rollback, in minutes of full traffic. */
  readonly exposureTrafficMinutes?: number;
  readonly bake?: StageMarker['bake'];
  readonly deploymentWindow?: StageMarker['deploymentWindow'];
  /** The feature-flag deployments of the service's stack (empty when it declares no flags). */
  readonly flags: FlagRolloutReport[];
}

type Resource = { Type: string; Properties?: Record<string, any>; UpdatePolicy?: Record<string, any> };
type Resources = Record<string, Resource>;

interface StackArtifact {
  readonly displayName: string;
  readonly template: { Resources?: Resources };
  readonly marker?: StageMarker;
  /** Canary judges recorded in the stack's metadata, by construct path. */
  readonly judges: ReadonlyArray<{ readonly path: string; readonly data: CanaryJudgeMetadata }>;
  /** Construct path of each resource, by logical ID (the `aws:cdk:logicalId` metadata). */
  readonly paths: Readonly<Record<string, string>>;
}

/** Options of the report. */
export interface ReportOptions {
  /** Request rate of services whose expected traffic the assembly does not record. @default DEFAULT_REPORT_RPS */
  readonly rps?: number;
  /** Seeded runs per service and bad release. @default REPORT_RUNS */
  readonly runs?: number;
  /** @default REPORT_SEED */
  readonly seed?: number;
}

/** Reads every stack of a cloud assembly directory (cdk.out), nested stage assemblies included. */
export function readAssembly(dir: string): StackArtifact[] {
  const manifestFile = path.join(dir, 'manifest.json');
  if (!existsSync(manifestFile)) throw new Error(`${dir} is not a cloud assembly (no manifest.json): run "npx cdk synth" first or pass --app <cdk.out>`);
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf-8')) as { artifacts?: Record<string, any> };
  const out: StackArtifact[] = [];
  for (const [id, art] of Object.entries(manifest.artifacts ?? {})) {
    if (art.type === 'cdk:cloud-assembly') {
      out.push(...readAssembly(path.join(dir, art.properties.directoryName)));
    } else if (art.type === 'aws:cloudformation:stack') {
      const metadata: Record<string, Array<{ type: string; data: unknown }>> = { ...(art.metadata ?? {}) };
      if (art.additionalMetadataFile) Object.assign(metadata, JSON.parse(readFileSync(path.join(dir, art.additionalMetadataFile), 'utf-8')));
      const marker = Object.values(metadata)
        .flat()
        .find((m) => m.type === STAGE_TYPE_METADATA)?.data as StageMarker | undefined;
      const judges = Object.entries(metadata).flatMap(([p, entries]) => entries.filter((m) => m.type === CANARY_JUDGE_METADATA).map((m) => ({ path: p, data: m.data as CanaryJudgeMetadata })));
      const paths = Object.fromEntries(
        Object.entries(metadata).flatMap(([p, entries]) => entries.filter((m) => m.type === 'aws:cdk:logicalId' && typeof m.data === 'string').map((m) => [m.data as string, p])),
      );
      out.push({ displayName: art.displayName ?? id, template: JSON.parse(readFileSync(path.join(dir, art.properties.templateFile), 'utf-8')), marker, judges, paths });
    }
  }
  return out;
}

/** The rollback-readiness of every canary-deployed service in the assembly. */
export function buildReport(dir: string, options: ReportOptions = {}): ServiceReport[] {
  if (options.rps !== undefined && !(Number.isFinite(options.rps) && options.rps > 0)) {
    throw new Error(`rps: ${JSON.stringify(options.rps)} is not a request rate: use a positive number of requests per second, e.g. ${DEFAULT_REPORT_RPS}`);
  }
  return readAssembly(dir).flatMap((stack) => stackReports(stack, options));
}

function stackReports(stack: StackArtifact, options: ReportOptions): ServiceReport[] {
  const resources = stack.template.Resources ?? {};
  const slash = stack.displayName.lastIndexOf('/');
  const stage = slash > 0 ? stack.displayName.slice(0, slash) : '(app)';
  const out: ServiceReport[] = [];
  const flags = flagReports(resources);
  for (const [id, r] of Object.entries(resources)) {
    let dgId: string | undefined;
    let kind: ServiceReport['kind'];
    if (r.Type === 'AWS::Lambda::Alias') {
      kind = 'lambda-alias';
      dgId = refOf(r.UpdatePolicy?.CodeDeployLambdaAliasUpdate?.DeploymentGroupName);
    } else if (r.Type === 'AWS::ECS::Service') {
      kind = 'ecs-service';
      dgId = Object.entries(resources).find(
        ([, g]) => g.Type === 'AWS::CodeDeploy::DeploymentGroup' && (g.Properties?.ECSServices ?? []).some((s: { ServiceName?: unknown }) => refOf(s.ServiceName) === id),
      )?.[0];
    } else {
      continue;
    }
    const dg = dgId ? resources[dgId]?.Properties : undefined;
    const configRef = dg?.DeploymentConfigName;
    const shift = dg ? parseShift(configRef, resources) : ({ type: 'all-at-once' } as TrafficShift);
    const alarms = ((dg?.AlarmConfiguration?.Enabled === false ? [] : dg?.AlarmConfiguration?.Alarms) ?? []).map((a: { Name?: unknown }) => alarmReport(a.Name, resources));
    const detection = alarms.length > 0 ? Math.max(...alarms.map((a: AlarmReport) => a.detectionSeconds)) : undefined;
    const terminationWait = Number(dg?.BlueGreenDeploymentConfiguration?.TerminateBlueInstancesOnDeploymentSuccess?.TerminationWaitTimeInMinutes ?? 0);
    const timeline = shareTimeline(shift);
    const deploymentMinutes = timeline ? timeline.completeAt + (kind === 'ecs-service' ? terminationWait : 0) : undefined;
    const exposure = detection !== undefined && timeline ? exposureUntil(timeline, detection / 60) : undefined;
    const stageType = stack.marker?.type ?? 'unmarked';
    const alarmRefs: unknown[] = ((dg?.AlarmConfiguration?.Enabled === false ? [] : dg?.AlarmConfiguration?.Alarms) ?? []).map((a: { Name?: unknown }) => a.Name);
    const judge = judgeOf(stack, id);
    const rps = judge?.expectedRequestsPerSecond ?? options.rps ?? DEFAULT_REPORT_RPS;
    const simulated =
      stageType !== 'production'
        ? { handModelReason: `${stageType} stage: only production services are simulated` }
        : simulateService({
            alarms: alarmRefs.flatMap((ref) => {
              const alarmId = alarmIdOf(ref, resources);
              return alarmId ? [{ logicalId: alarmId, resource: resources[alarmId] }] : [];
            }),
            shift,
            watchedAfterShiftMinutes: kind === 'ecs-service' ? terminationWait : 0,
            rps,
            rpsSource: judge?.expectedRequestsPerSecond !== undefined ? 'expectedRequestsPerSecond' : 'default',
            minRequests: trafficCheckOf(kind, id, resources),
            runs: options.runs ?? REPORT_RUNS,
            seed: options.seed ?? REPORT_SEED,
          });
    const simulation = 'handModelReason' in simulated ? undefined : simulated;
    const crashLoop = simulation?.scenarios.find((c) => c.id === 'crash-loop');
    out.push({
      model: simulation ? 'simulated' : 'hand',
      ...('handModelReason' in simulated ? { handModelReason: simulated.handModelReason } : {}),
      ...(simulation ? { simulation } : {}),
      stage,
      stageType,
      stack: stack.displayName,
      service: id,
      kind,
      deploymentConfig: !dg ? 'none (no CodeDeploy deployment group)' : typeof configRef === 'string' ? configRef : configRef === undefined ? `CodeDeploy default (all at once)` : `custom ${refOf(configRef) ?? JSON.stringify(configRef)}`,
      shift,
      alarms,
      worstCaseToRollbackSeconds: detection,
      deploymentMinutes,
      caughtByCanary: crashLoop ? crashLoop.rolledBack >= 0.95 : detection !== undefined && deploymentMinutes !== undefined && detection / 60 < deploymentMinutes,
      shareAtRollbackPercent: exposure?.share,
      exposureTrafficMinutes: exposure ? round(exposure.trafficMinutes) : undefined,
      bake: stack.marker?.bake,
      deploymentWindow: stack.marker?.deploymentWindow,
      flags,
    });
  }
  return out;
}

/** Each AppConfig deployment of a stack: its strategy (predefined or the stack's own) and its environment's monitors. */
function flagReports(resources: Resources): FlagRolloutReport[] {
  return Object.values(resources)
    .filter((r) => r.Type === 'AWS::AppConfig::Deployment')
    .map((d) => {
      const p = d.Properties ?? {};
      const env = resources[refOf(p.EnvironmentId) ?? '']?.Properties ?? {};
      const strategyRef = p.DeploymentStrategyId;
      const own = resources[refOf(strategyRef) ?? '']?.Properties;
      const settings =
        typeof strategyRef === 'string'
          ? PREDEFINED_STRATEGIES[strategyRef]
          : own && { growthType: own.GrowthType, growthFactor: own.GrowthFactor, deploymentDurationInMinutes: own.DeploymentDurationInMinutes, finalBakeTimeInMinutes: own.FinalBakeTimeInMinutes };
      const monitors = ((env.Monitors ?? []) as Array<{ AlarmArn?: unknown }>).map((m) => alarmReport(m.AlarmArn, resources));
      const detections = monitors.map((m) => m.detectionSeconds);
      const detectionSeconds = detections.length > 0 && detections.every((x) => !Number.isNaN(x)) ? Math.max(...detections) : undefined;
      const watchedMinutes = settings ? Number(settings.deploymentDurationInMinutes ?? 0) + Number(settings.finalBakeTimeInMinutes ?? 0) : undefined;
      return {
        environment: typeof env.Name === 'string' ? env.Name : (refOf(p.EnvironmentId) ?? 'unknown'),
        strategy: typeof strategyRef === 'string' ? strategyRef : 'custom',
        description: settings ? describeStrategy(settings) : 'unknown strategy',
        watchedMinutes,
        monitors,
        detectionSeconds,
        rolledBackAutomatically: detectionSeconds !== undefined && watchedMinutes !== undefined && detectionSeconds / 60 < watchedMinutes,
      };
    });
}

/** Predefined names (CodeDeployDefault.LambdaCanary10Percent5Minutes, ...ECSLinear10PercentEvery1Minutes) or a custom config. */
export function parseShift(ref: unknown, resources: Resources): TrafficShift {
  if (ref === undefined) return { type: 'all-at-once' };
  if (typeof ref === 'string') {
    if (/AllAtOnce/i.test(ref)) return { type: 'all-at-once' };
    const canary = /Canary(\d+)Percent(\d+)Minutes?$/i.exec(ref);
    if (canary) return { type: 'canary', percent: Number(canary[1]), intervalMinutes: Number(canary[2]) };
    const linear = /Linear(\d+)PercentEvery(\d+)Minutes?$/i.exec(ref);
    if (linear) return { type: 'linear', percent: Number(linear[1]), intervalMinutes: Number(linear[2]) };
    return { type: 'unknown' };
  }
  const custom = resources[refOf(ref) ?? '']?.Properties?.TrafficRoutingConfig;
  if (!custom) return { type: 'unknown' };
  if (custom.Type === 'TimeBasedCanary') return { type: 'canary', percent: custom.TimeBasedCanary.CanaryPercentage, intervalMinutes: custom.TimeBasedCanary.CanaryInterval };
  if (custom.Type === 'TimeBasedLinear') return { type: 'linear', percent: custom.TimeBasedLinear.LinearPercentage, intervalMinutes: custom.TimeBasedLinear.LinearInterval };
  return { type: 'all-at-once' };
}

export { metricAlarmDetectionSeconds };

/** The logical ID of an alarm a deployment group names (by Ref or by literal name), if in the template. */
function alarmIdOf(nameRef: unknown, resources: Resources): string | undefined {
  const id = refOf(nameRef) ?? Object.entries(resources).find(([, r]) => r.Properties?.AlarmName === nameRef)?.[0];
  return id && resources[id] ? id : undefined;
}

/** The canary judge of the service whose resource is `logicalId`: the one recorded in the same service construct. */
function judgeOf(stack: StackArtifact, logicalId: string): CanaryJudgeMetadata | undefined {
  const resourcePath = stack.paths[logicalId];
  if (!resourcePath) return undefined;
  return stack.judges.find((j) => resourcePath.startsWith(`${j.path.slice(0, j.path.lastIndexOf('/'))}/`))?.data;
}

/**
 * The traffic check's minimum as synthesized: CANARY_TRAFFIC_CHECK of the AfterAllowTraffic hook
 * (the alias's CodeDeployLambdaAliasUpdate, or the ECS deployment resource's Hooks).
 */
function trafficCheckOf(kind: ServiceReport['kind'], id: string, resources: Resources): number | undefined {
  const hookRef =
    kind === 'lambda-alias'
      ? resources[id]?.UpdatePolicy?.CodeDeployLambdaAliasUpdate?.AfterAllowTrafficHook
      : Object.values(resources).find((r) => r.Type === 'Custom::EcsCodeDeployDeployment' && refOf(r.Properties?.ServiceName) === id)?.Properties?.Hooks?.AfterAllowTraffic;
  const hook = resources[refOf(hookRef) ?? ''];
  const check = parseCanaryTrafficCheck(hook?.Properties?.Environment?.Variables?.[CANARY_TRAFFIC_CHECK_ENV]);
  return check && !('error' in check) ? check.minRequests : undefined;
}

function alarmReport(nameRef: unknown, resources: Resources, depth = 0): AlarmReport {
  const id = refOf(nameRef) ?? Object.entries(resources).find(([, r]) => r.Properties?.AlarmName === nameRef)?.[0];
  const r = id ? resources[id] : undefined;
  const name = typeof r?.Properties?.AlarmName === 'string' ? r.Properties.AlarmName : (id ?? String(nameRef));
  if (r?.Type === 'AWS::CloudWatch::Alarm') {
    const p = r.Properties ?? {};
    const period = Number(p.Period ?? Math.max(...(p.Metrics ?? []).map((m: any) => Number(m.MetricStat?.Period ?? m.Period ?? 0)), 0));
    const n = Number(p.EvaluationPeriods);
    const m = Number(p.DatapointsToAlarm ?? n);
    return { name, kind: 'metric', periodSeconds: period, evaluationPeriods: n, datapointsToAlarm: m, detectionSeconds: metricAlarmDetectionSeconds(period, m) };
  }
  if (r?.Type === 'AWS::CloudWatch::CompositeAlarm' && depth < 5) {
    const childIds = [...new Set(referencedIds(r.Properties?.AlarmRule).filter((c) => resources[c]?.Type?.startsWith('AWS::CloudWatch::') && c !== id))];
    const children = childIds.map((c) => alarmReport({ Ref: c }, resources, depth + 1));
    return { name, kind: 'composite', children, detectionSeconds: children.length > 0 ? Math.max(...children.map((c) => c.detectionSeconds)) : Number.NaN };
  }
  // An alarm defined elsewhere: nothing to compute from.
  return { name, kind: 'metric', detectionSeconds: Number.NaN };
}

interface Timeline {
  /** [startMinute, sharePercent] steps, ascending. */
  readonly steps: Array<[number, number]>;
  readonly completeAt: number;
}

function shareTimeline(shift: TrafficShift): Timeline | undefined {
  if (shift.type === 'all-at-once') return { steps: [[0, 100]], completeAt: 0 };
  if (shift.type === 'canary') return { steps: [[0, shift.percent!], [shift.intervalMinutes!, 100]], completeAt: shift.intervalMinutes! };
  if (shift.type === 'linear') {
    const steps: Array<[number, number]> = [];
    let share = shift.percent!;
    let t = 0;
    for (; share < 100; share += shift.percent!, t += shift.intervalMinutes!) steps.push([t, share]);
    steps.push([t, 100]);
    return { steps, completeAt: t };
  }
  return undefined;
}

/** Share just before `minutes`, and the integral of the share up to then (in full-traffic minutes). */
export function exposureUntil(timeline: Timeline, minutes: number): { share: number; trafficMinutes: number } {
  let area = 0;
  let share = 0;
  timeline.steps.forEach(([start, s], i) => {
    const end = i + 1 < timeline.steps.length ? timeline.steps[i + 1][0] : Number.POSITIVE_INFINITY;
    if (start >= minutes) return;
    area += (Math.min(end, minutes) - start) * s;
    share = s;
  });
  return { share, trafficMinutes: area / 100 };
}

function refOf(v: unknown): string | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as Record<string, unknown>;
  if (typeof o.Ref === 'string') return o.Ref;
  const g = o['Fn::GetAtt'];
  return Array.isArray(g) && typeof g[0] === 'string' ? g[0] : undefined;
}

function referencedIds(v: unknown): string[] {
  if (Array.isArray(v)) return v.flatMap(referencedIds);
  if (typeof v !== 'object' || v === null) return [];
  const own = refOf(v);
  return [...(own ? [own] : []), ...Object.values(v).flatMap(referencedIds)];
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

/** Human-readable report, one block per service. */
export function formatReport(reports: ServiceReport[]): string {
  if (reports.length === 0) return 'No Lambda alias or ECS service found in the assembly.';
  const min = (s?: number) => (s === undefined || Number.isNaN(s) ? 'unknown' : `${round(s / 60)} min`);
  const lines: string[] = [];
  for (const r of reports) {
    lines.push(`${r.stage} (${r.stageType}) ${r.stack} ${r.kind} ${r.service}`);
    const shift =
      r.shift.type === 'canary'
        ? `canary ${r.shift.percent}% for ${r.shift.intervalMinutes} min, then 100%`
        : r.shift.type === 'linear'
          ? `linear +${r.shift.percent}% every ${r.shift.intervalMinutes} min`
          : r.shift.type;
    lines.push(`  deployment config: ${r.deploymentConfig} (${shift}; done after ${r.deploymentMinutes ?? 'unknown'} min)`);
    if (r.alarms.length === 0) lines.push('  alarms: NONE - a bad release is never rolled back automatically');
    const sim = r.simulation;
    if (sim) {
      for (const a of r.alarms) {
        const left = sim.notSimulated.find((n) => n.alarm === a.name);
        lines.push(`  alarm ${a.name}: ${describeAlarm(a)}${left ? `, not simulated (${shortReason(left.reason)})` : ''}`);
      }
      lines.push(...formatSimulatedReadiness(sim));
      if (sim.notSimulated.length > 0) lines.push('  alarms not simulated can only make a rollback sooner.');
    } else {
      for (const a of r.alarms) {
        lines.push(`  alarm ${a.name}: ${describeAlarm(a)}, worst-case detection ${min(a.detectionSeconds)}`);
        for (const c of a.children ?? []) lines.push(`    child ${c.name}: ${describeAlarm(c)}, worst-case detection ${min(c.detectionSeconds)}`);
      }
      lines.push(`  hand model (worst case), not simulated: ${r.handModelReason ?? 'unknown reason'}`);
      lines.push(`  worst case from first errors to rollback start: ${min(r.worstCaseToRollbackSeconds)}`);
      lines.push(
        `  caught by canary: ${r.caughtByCanary ? 'yes' : 'NO - the deployment completes before the alarms can fire; only the bake gate and pipeline rollback remain'}`,
      );
      if (r.exposureTrafficMinutes !== undefined) {
        lines.push(`  exposure before rollback: ${r.shareAtRollbackPercent}% of traffic at rollback, ${r.exposureTrafficMinutes} full-traffic minutes`);
      }
    }
    lines.push(`  bake: ${r.bake ? `${r.bake.minutes} min and ${r.bake.minRequests} requests` : 'none'}`);
    const w = r.deploymentWindow;
    lines.push(
      `  deployment window: ${w ? `${w.windows.map((x) => `${x.days.join(',')} ${x.start}-${x.end}`).join('; ')} ${w.timeZone}${(w.blockedDates ?? []).length ? `, blocked ${w.blockedDates!.join(', ')}` : ''}` : 'any time'}`,
    );
    for (const f of r.flags) {
      lines.push(`  feature flags (${f.environment}): ${f.strategy === 'custom' ? '' : `${f.strategy}, `}${f.description}; AppConfig watches ${f.watchedMinutes ?? 'unknown'} min`);
      if (f.monitors.length === 0) lines.push('    monitors: NONE - a bad flag change is never rolled back automatically');
      for (const m of f.monitors) lines.push(`    monitor ${m.name}: worst-case detection ${min(m.detectionSeconds)}`);
      lines.push(
        `    bad flag change rolled back automatically: ${f.rolledBackAutomatically ? 'yes' : 'NO - AppConfig stops watching before the alarms can fire; raise the stage\'s flags.rollout.bakeMinutes'}`,
      );
    }
  }
  lines.push(
    '',
    'Simulated: seeded deployments of a crash loop (99% errors, failing health checks) and of +2 points of errors over a 0.2% baseline, replayed through the ' +
      `alarms as synthesized (lib/simulate; model: metrics visible ${MODEL.metricDelaySeconds} s after their minute, alarms evaluated every ${MODEL.evaluationIntervalSeconds} s, CodeDeploy polls every ${MODEL.codeDeployPollSeconds} s).`,
    `Hand model: detection = (M+1) x period + ${MODEL.metricDelaySeconds}s metric delay + ${MODEL.evaluationIntervalSeconds}s alarm evaluation + ${MODEL.codeDeployPollSeconds}s CodeDeploy poll (README, "Rollback-readiness report").`,
  );
  return lines.join('\n');
}

/** `AWS/Lambda Errors Sum ["FunctionName"]: ... has no role` reads as "no simulated series for AWS/Lambda Errors by FunctionName". */
function shortReason(reason: string): string {
  const metric = /^(\S+ \S+) \S+ \[([^\]]*)\]: .*no role/.exec(reason);
  return metric ? `no simulated series for ${metric[1]} by ${metric[2].replace(/"/g, '').replace(/,/g, ', ') || 'no dimension'}` : reason;
}

function describeAlarm(a: AlarmReport): string {
  if (a.kind === 'composite') return `composite of ${a.children?.length ?? 0}`;
  if (a.periodSeconds === undefined) return 'defined outside the assembly';
  return `period ${a.periodSeconds}s, ${a.datapointsToAlarm} of ${a.evaluationPeriods} datapoints`;
}
