import { describeStrategy, PREDEFINED_STRATEGIES } from '../constructs/feature-flags/rollout';
import { refOf } from '../policy/intrinsics';
import type { TemplateIndex } from '../policy/template-index';
import { alarmReport } from './alarms';
import type { FlagRolloutReport } from './types';

/** Each AppConfig deployment of a stack: its strategy (predefined or the stack's own) and its environment's monitors. */
export function flagReports(index: TemplateIndex): FlagRolloutReport[] {
  return index.ofType('AWS::AppConfig::Deployment').map(([, d]) => {
    const p = d.Properties ?? {};
    const env = index.referenced(p.EnvironmentId)?.Properties ?? {};
    const strategyRef = p.DeploymentStrategyId;
    const own = index.referenced(strategyRef)?.Properties;
    const settings =
      typeof strategyRef === 'string'
        ? PREDEFINED_STRATEGIES[strategyRef]
        : own && {
            growthType: own.GrowthType,
            growthFactor: own.GrowthFactor,
            deploymentDurationInMinutes: own.DeploymentDurationInMinutes,
            finalBakeTimeInMinutes: own.FinalBakeTimeInMinutes,
          };
    const monitors = ((env.Monitors ?? []) as Array<{ AlarmArn?: unknown }>).map((m) => alarmReport(m.AlarmArn, index));
    const detections = monitors.map((m) => m.detectionSeconds);
    const detectionSeconds = detections.length > 0 && detections.every((x) => !Number.isNaN(x)) ? Math.max(...detections) : undefined;
    const watchedMinutes = settings
      ? Number(settings.deploymentDurationInMinutes ?? 0) + Number(settings.finalBakeTimeInMinutes ?? 0)
      : undefined;
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
