/**
 * What the lifecycle world needs to know about the pipeline the app builds, extracted from a real
 * synth (stages, actions, rollback conditions, the release manifest's gates, the targets and their
 * stacks and alarms). The scenarios read it from example-pipeline.json, so they run without
 * synthesizing; test/app.test.ts checks the file still matches the app
 * (regenerate with `npx tsx test/lifecycle/generate-fixture.ts`).
 */
import type { TrafficShift } from '../../lib/config/schema';
import { toAppConfigStrategy } from '../../lib/constructs/feature-flags';
import type { PipelineStack } from '../../lib/pipeline/pipeline-stack';
import type { GateSettings } from '../../lib/runtime/gate-settings';

export interface FixtureAction {
  readonly name: string;
  readonly category: string;
  readonly provider: string;
  readonly runOrder: number;
  /** Where the action runs (its role's account; the pipeline's region unless cross-region). */
  readonly account: string;
  readonly region: string;
  readonly stackName?: string;
  /** A Lambda action's UserParameters, variables unresolved (`#{...}`). */
  readonly userParameters?: string;
}

export interface FixtureStage {
  readonly name: string;
  /** `ROLLBACK` when CodePipeline rolls the stage back on failure. */
  readonly onFailure?: string;
  readonly actions: FixtureAction[];
}

export interface FixtureService {
  readonly name: string;
  readonly kind: 'lambda' | 'ecs';
  readonly stackName: string;
  /** The composite health alarm the gates read. */
  readonly healthAlarmName: string;
  readonly deployment: TrafficShift;
  readonly blueTerminationWaitMinutes?: number;
  /** Lambda: the hooks' check. ECS: the test-traffic probes and the container port. */
  readonly healthCheck?: { readonly path: string; readonly expectedStatus?: number; readonly bodyContains?: string };
  readonly testTraffic?: { readonly path: string; readonly expectedStatus?: number; readonly bodyContains?: string }[];
  readonly port?: number;
  /** A judged canary: what its step must serve (the AfterAllowTraffic traffic check). */
  readonly trafficCheck?: { readonly minRequests: number; readonly stepMinutes: number };
  /** Its feature flags: the AppConfig application and environment, this commit's digest, the rollout. */
  readonly flags?: {
    readonly application: string;
    readonly environment: string;
    readonly digest: string;
    readonly deploymentMinutes: number;
    readonly bakeMinutes: number;
  };
}

export interface FixtureTarget {
  /** The CodePipeline stage that deploys it, e.g. "Prod-Wave2". */
  readonly pipelineStage: string;
  /** The CDK Stage's id, e.g. "Prod-us-west-2". */
  readonly id: string;
  readonly type: 'pre-production' | 'production';
  readonly account: string;
  readonly region: string;
  readonly readerRoleName?: string;
  readonly platformStack: string;
  readonly services: FixtureService[];
}

export interface PipelineFixture {
  readonly pipelineName: string;
  readonly account: string;
  readonly region: string;
  readonly executionMode: string;
  readonly variables: { readonly name: string; readonly defaultValue?: string }[];
  readonly stages: FixtureStage[];
  readonly gates: Record<string, GateSettings>;
  readonly targets: FixtureTarget[];
}

/** Reads the fixture from the built pipeline stack and its synthesized template. */
export function pipelineFixture(
  stack: PipelineStack,
  template: { Resources: Record<string, { Type: string; Properties?: any }> },
): PipelineFixture {
  const pipelines = Object.values(template.Resources).filter((r) => r.Type === 'AWS::CodePipeline::Pipeline');
  if (pipelines.length !== 1) throw new Error(`expected one AWS::CodePipeline::Pipeline, found ${pipelines.length}`);
  const p = pipelines[0].Properties;
  const account = stack.account;
  const region = stack.region;
  const accountOf = (roleArn: unknown) => JSON.stringify(roleArn ?? '').match(/:iam::(\d{12}):role/)?.[1] ?? account;
  const stages: FixtureStage[] = p.Stages.map((s: any) => ({
    name: s.Name,
    ...(s.OnFailure?.Result ? { onFailure: s.OnFailure.Result } : {}),
    actions: s.Actions.map((a: any) => ({
      name: a.Name,
      category: a.ActionTypeId.Category,
      provider: a.ActionTypeId.Provider,
      runOrder: a.RunOrder ?? 1,
      account: accountOf(a.RoleArn),
      region: a.Region ?? region,
      ...(a.Configuration?.StackName ? { stackName: a.Configuration.StackName } : {}),
      ...(a.Configuration?.UserParameters ? { userParameters: a.Configuration.UserParameters } : {}),
    })),
  }));
  const targets: FixtureTarget[] = stack.waves.flatMap((w) =>
    w.targets.map((t) => ({
      pipelineStage: w.pipelineStageName,
      id: t.node.id,
      type: w.stage.type,
      account: t.account!,
      region: t.region!,
      ...(t.gateReaderRoleName ? { readerRoleName: t.gateReaderRoleName } : {}),
      platformStack: t.platform.stackName,
      services: t.services.map((s): FixtureService => {
        const c = s.config;
        const judge = s.service.judge;
        const strategy = s.flags ? toAppConfigStrategy(c.flagRollout) : undefined;
        return {
          name: c.name,
          kind: c.kind,
          stackName: s.stackName,
          healthAlarmName: s.service.healthAlarmName,
          deployment: c.deployment,
          ...(c.kind === 'ecs'
            ? { blueTerminationWaitMinutes: c.blueTerminationWaitMinutes, testTraffic: c.testTraffic?.map((x) => ({ ...x })), port: c.port }
            : c.healthCheck
              ? { healthCheck: { ...c.healthCheck } }
              : {}),
          ...(judge && c.deployment.type !== 'all-at-once'
            ? { trafficCheck: { minRequests: judge.minRequests, stepMinutes: c.deployment.intervalMinutes } }
            : {}),
          ...(s.flags && strategy
            ? {
                flags: {
                  application: s.flags.application.applicationIdentifier,
                  environment: s.flags.serviceName,
                  digest: s.flags.contentDigest.slice(0, 16),
                  deploymentMinutes: strategy.deploymentDurationInMinutes,
                  bakeMinutes: strategy.finalBakeTimeInMinutes,
                },
              }
            : {}),
        };
      }),
    })),
  );
  return {
    pipelineName: p.Name,
    account,
    region,
    executionMode: p.ExecutionMode ?? 'SUPERSEDED',
    variables: (p.Variables ?? []).map((v: any) => ({
      name: v.Name,
      ...(v.DefaultValue !== undefined ? { defaultValue: v.DefaultValue } : {}),
    })),
    stages,
    gates: JSON.parse(JSON.stringify(stack.releaseManifest.gates)),
    targets: JSON.parse(JSON.stringify(targets)),
  };
}
