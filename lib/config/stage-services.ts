import type { JudgeSettingsInput } from '../constructs/canary-judge/settings';
import { DEFAULT_FLAG_ROLLOUTS, FlagRollout } from '../constructs/feature-flags/rollout';
import { effectiveReservedConcurrency } from './concurrency';
import type { AlarmOverrides, SafeDeployConfig, StageConfig, TrafficShift } from './schema';
import type { EcsServiceConfig, LambdaServiceConfig } from './service-schema';

/** What every service gets from its stage: the stage's per-kind defaults, then its own override. */
interface StageSettings {
  /** How CodeDeploy shifts traffic to a new version in this stage. */
  readonly deployment: TrafficShift;
  /** Alarm threshold overrides in this stage (defaults of the constructs for what is left out). */
  readonly alarms?: AlarmOverrides;
  /** Canary judge settings in this stage (canary deployments judge the canary against its baseline). */
  readonly judge?: JudgeSettingsInput;
  /** How a change of the service's feature flags rolls out in this stage (used when it declares flags). */
  readonly flagRollout: FlagRollout;
}

/** A Lambda service as one stage deploys it. */
export interface StageLambdaService extends LambdaServiceConfig, StageSettings {}

/** An ECS service as one stage deploys it. */
export interface StageEcsService extends EcsServiceConfig, StageSettings {
  /** Minutes blue keeps running after a successful shift. */
  readonly blueTerminationWaitMinutes: number;
}

export type StageService = StageLambdaService | StageEcsService;

/** Every service with the settings `stage` gives it, in config order. */
export function stageServices(
  config: Pick<SafeDeployConfig, 'services'>,
  stage: Pick<StageConfig, 'name' | 'lambda' | 'ecs' | 'services'> & Partial<Pick<StageConfig, 'type' | 'flags'>>,
): StageService[] {
  // Without a stage type, the production rollout: the slower, watched one.
  const flagRollout = stage.flags?.rollout ?? DEFAULT_FLAG_ROLLOUTS[stage.type ?? 'production'];
  return config.services.map((svc): StageService => {
    const override = stage.services?.[svc.name] ?? {};
    const defaults = svc.kind === 'lambda' ? stage.lambda : stage.ecs;
    const deployment = override.deployment ?? defaults?.deployment;
    if (!deployment) {
      // The schema refuses such a config; this guards callers that build stages by hand.
      throw new Error(
        `stage ${JSON.stringify(stage.name)} gives service ${JSON.stringify(svc.name)} no deployment: set "${svc.kind}".deployment or services.${svc.name}.deployment`,
      );
    }
    const alarms = defaults?.alarms || override.alarms ? { ...defaults?.alarms, ...override.alarms } : undefined;
    const judge = defaults?.judge || override.judge ? { ...defaults?.judge, ...override.judge } : undefined;
    if (svc.kind === 'lambda') {
      return { ...svc, deployment, alarms, judge, flagRollout, reservedConcurrency: effectiveReservedConcurrency(svc, override) };
    }
    return {
      ...svc,
      deployment,
      alarms,
      judge,
      flagRollout,
      desiredCount: override.desiredCount ?? svc.desiredCount,
      blueTerminationWaitMinutes: override.blueTerminationWaitMinutes ?? stage.ecs?.blueTerminationWaitMinutes ?? 0,
    };
  });
}
