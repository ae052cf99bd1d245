import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { CANARY_JUDGE_METADATA, CanaryJudgeMetadata } from '../constructs/canary-judge/canary-judge';
import { refOf } from '../policy/intrinsics';
import { STAGE_TYPE_METADATA, StageMarker } from '../policy/stage-type';
import { CfnTemplate, DeploymentTarget, TemplateIndex, TemplateResource, CfnValue } from '../policy/template-index';
import { CANARY_TRAFFIC_CHECK_ENV, parseCanaryTrafficCheck } from '../runtime/canary-traffic-settings';
import { alarmReport } from './alarms';
import { flagReports } from './flags';
import { exposureUntil, parseShift, round, shareTimeline } from './hand-model';
import { DEFAULT_REPORT_RPS, REPORT_RUNS, REPORT_SEED, simulateService } from './simulated';
import type { FlagRolloutReport, ReportOptions, ServiceReport, TrafficShift } from './types';

/**
 * The rollback-readiness report, gathered here from a cloud assembly through the policy's template
 * index (lib/policy/template-index.ts), modelled by the simulator (./simulated.ts) or the hand model
 * (./hand-model.ts), and rendered by ./format.ts.
 */

/** A stack of a cloud assembly, with what the report reads of its metadata. */
export interface StackArtifact {
  readonly displayName: string;
  readonly template: CfnTemplate;
  readonly marker?: StageMarker;
  /** Canary judges recorded in the stack's metadata, by construct path. */
  readonly judges: ReadonlyArray<{ readonly path: string; readonly data: CanaryJudgeMetadata }>;
  /** Construct path of each resource, by logical ID (the `aws:cdk:logicalId` metadata). */
  readonly paths: Readonly<Record<string, string>>;
}

/** Reads every stack of a cloud assembly directory (cdk.out), nested stage assemblies included. */
export function readAssembly(dir: string): StackArtifact[] {
  const manifestFile = path.join(dir, 'manifest.json');
  if (!existsSync(manifestFile))
    throw new Error(`${dir} is not a cloud assembly (no manifest.json): run "npx cdk synth" first or pass --app <cdk.out>`);
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf-8')) as { artifacts?: Record<string, CfnValue> };
  const out: StackArtifact[] = [];
  for (const [id, art] of Object.entries(manifest.artifacts ?? {})) {
    if (art.type === 'cdk:cloud-assembly') {
      out.push(...readAssembly(path.join(dir, art.properties.directoryName)));
    } else if (art.type === 'aws:cloudformation:stack') {
      const metadata: Record<string, Array<{ type: string; data: unknown }>> = { ...(art.metadata ?? {}) };
      if (art.additionalMetadataFile)
        Object.assign(metadata, JSON.parse(readFileSync(path.join(dir, art.additionalMetadataFile), 'utf-8')));
      const marker = Object.values(metadata)
        .flat()
        .find((m) => m.type === STAGE_TYPE_METADATA)?.data as StageMarker | undefined;
      const judges = Object.entries(metadata).flatMap(([p, entries]) =>
        entries.filter((m) => m.type === CANARY_JUDGE_METADATA).map((m) => ({ path: p, data: m.data as CanaryJudgeMetadata })),
      );
      const paths = Object.fromEntries(
        Object.entries(metadata).flatMap(([p, entries]) =>
          entries.filter((m) => m.type === 'aws:cdk:logicalId' && typeof m.data === 'string').map((m) => [m.data as string, p]),
        ),
      );
      out.push({
        displayName: art.displayName ?? id,
        template: JSON.parse(readFileSync(path.join(dir, art.properties.templateFile), 'utf-8')),
        marker,
        judges,
        paths,
      });
    }
  }
  return out;
}

/** The canary judge of the service whose resource is `logicalId`: the one recorded in the same service construct. */
function judgeOf(stack: StackArtifact, logicalId: string): CanaryJudgeMetadata | undefined {
  const resourcePath = stack.paths[logicalId];
  if (!resourcePath) return undefined;
  return stack.judges.find((j) => resourcePath.startsWith(`${j.path.slice(0, j.path.lastIndexOf('/'))}/`))?.data;
}

/** The rollback-readiness of every canary-deployed service in the assembly. */
export function buildReport(dir: string, options: ReportOptions = {}): ServiceReport[] {
  if (options.rps !== undefined && !(Number.isFinite(options.rps) && options.rps > 0)) {
    throw new Error(
      `rps: ${JSON.stringify(options.rps)} is not a request rate: use a positive number of requests per second, e.g. ${DEFAULT_REPORT_RPS}`,
    );
  }
  return readAssembly(dir).flatMap((stack) => {
    const index = new TemplateIndex(stack.template);
    const flags = flagReports(index);
    return index.deploymentTargets().map((target) => serviceReport(stack, index, target, flags, options));
  });
}

function serviceReport(
  stack: StackArtifact,
  index: TemplateIndex,
  target: DeploymentTarget,
  flags: FlagRolloutReport[],
  options: ReportOptions,
): ServiceReport {
  const { logicalId: id, kind } = target;
  const slash = stack.displayName.lastIndexOf('/');
  const stage = slash > 0 ? stack.displayName.slice(0, slash) : '(app)';
  const dg = index.get(target.deploymentGroupId)?.Properties;
  const configRef = dg?.DeploymentConfigName;
  const shift = dg ? parseShift(configRef, index) : ({ type: 'all-at-once' } as TrafficShift);
  const watched: Array<{ Name?: unknown }> = (dg?.AlarmConfiguration?.Enabled === false ? [] : dg?.AlarmConfiguration?.Alarms) ?? [];
  const alarmRefs = watched.map((a) => a.Name);
  const alarms = alarmRefs.map((ref) => alarmReport(ref, index));
  const detection = alarms.length > 0 ? Math.max(...alarms.map((a) => a.detectionSeconds)) : undefined;
  const terminationWait = Number(
    dg?.BlueGreenDeploymentConfiguration?.TerminateBlueInstancesOnDeploymentSuccess?.TerminationWaitTimeInMinutes ?? 0,
  );
  const timeline = shareTimeline(shift);
  const deploymentMinutes = timeline ? timeline.completeAt + (kind === 'ecs-service' ? terminationWait : 0) : undefined;
  const exposure = detection !== undefined && timeline ? exposureUntil(timeline, detection / 60) : undefined;
  const stageType = stack.marker?.type ?? 'unmarked';
  const judge = judgeOf(stack, id);
  const rps = judge?.expectedRequestsPerSecond ?? options.rps ?? DEFAULT_REPORT_RPS;
  const simulated =
    stageType !== 'production'
      ? { handModelReason: `${stageType} stage: only production services are simulated` }
      : simulateService({
          alarms: alarmRefs.flatMap((ref) => {
            const alarmId = index.idOfNamed(ref, 'AlarmName');
            return alarmId ? [{ logicalId: alarmId, resource: index.resources[alarmId] }] : [];
          }),
          shift,
          watchedAfterShiftMinutes: kind === 'ecs-service' ? terminationWait : 0,
          rps,
          rpsSource: judge?.expectedRequestsPerSecond !== undefined ? 'expectedRequestsPerSecond' : 'default',
          minRequests: trafficCheckOf(target, index),
          runs: options.runs ?? REPORT_RUNS,
          seed: options.seed ?? REPORT_SEED,
        });
  const simulation = 'handModelReason' in simulated ? undefined : simulated;
  const crashLoop = simulation?.scenarios.find((c) => c.id === 'crash-loop');
  return {
    model: simulation ? 'simulated' : 'hand',
    ...('handModelReason' in simulated ? { handModelReason: simulated.handModelReason } : {}),
    ...(simulation ? { simulation } : {}),
    stage,
    stageType,
    stack: stack.displayName,
    service: id,
    kind,
    deploymentConfig: !dg
      ? 'none (no CodeDeploy deployment group)'
      : typeof configRef === 'string'
        ? configRef
        : configRef === undefined
          ? `CodeDeploy default (all at once)`
          : `custom ${refOf(configRef) ?? JSON.stringify(configRef)}`,
    shift,
    alarms,
    worstCaseToRollbackSeconds: detection,
    deploymentMinutes,
    caughtByCanary: crashLoop
      ? crashLoop.rolledBack >= 0.95
      : detection !== undefined && deploymentMinutes !== undefined && detection / 60 < deploymentMinutes,
    shareAtRollbackPercent: exposure?.share,
    exposureTrafficMinutes: exposure ? round(exposure.trafficMinutes) : undefined,
    bake: stack.marker?.bake,
    deploymentWindow: stack.marker?.deploymentWindow,
    flags,
  };
}

/**
 * The traffic check's minimum as synthesized: CANARY_TRAFFIC_CHECK of the AfterAllowTraffic hook
 * (the alias's CodeDeployLambdaAliasUpdate, or the ECS deployment resource's Hooks).
 */
function trafficCheckOf(target: DeploymentTarget, index: TemplateIndex): number | undefined {
  const deploys = (r: TemplateResource) => refOf(r.Properties?.ServiceName) === target.logicalId;
  const ecsDeployment = () => index.ofType('Custom::EcsCodeDeployDeployment').find(([, r]) => deploys(r))?.[1];
  const hookRef =
    target.kind === 'lambda-alias'
      ? target.resource.UpdatePolicy?.CodeDeployLambdaAliasUpdate?.AfterAllowTrafficHook
      : ecsDeployment()?.Properties?.Hooks?.AfterAllowTraffic;
  const check = parseCanaryTrafficCheck(index.referenced(hookRef)?.Properties?.Environment?.Variables?.[CANARY_TRAFFIC_CHECK_ENV]);
  return check && !('error' in check) ? check.minRequests : undefined;
}
