import { waveAccount } from '../config/load-config';
import type { SafeDeployConfig } from '../config/schema';
import { DEFAULT_FLAG_ROLLOUTS, predefinedStrategyId } from '../constructs/feature-flags/rollout';

/**
 * AppConfig quotas per account and region that the flags of a config use up, from the AppConfig API
 * reference (ServiceQuotaExceededException: "Applications: 100 max ... Deployment strategies: 20 max
 * ... you can request a quota increase"), per account and region as listed in
 * https://docs.aws.amazon.com/general/latest/gr/appconfig.html. Both can be raised, so exceeding
 * them is a warning, not an error.
 */
export const APPCONFIG_QUOTAS = { applications: 100, deploymentStrategies: 20 } as const;

/**
 * What the config's flags create in each account and region: one application per service with flags
 * and target, and a custom deployment strategy per such service when the stage's rollout is none of
 * AppConfig's predefined ones. Returns a warning per quota the config exceeds, with the numbers.
 * (Applications retained from deleted stacks also count; they are not known at synth.)
 */
export function flagQuotaWarnings(config: SafeDeployConfig): string[] {
  const withFlags = config.services.filter((s) => (s.flags?.length ?? 0) > 0).map((s) => s.name);
  if (withFlags.length === 0) return [];
  const use = new Map<string, { applications: number; strategies: number; stages: Set<string>; customStages: Set<string> }>();
  for (const stage of config.stages) {
    const custom = !predefinedStrategyId(stage.flags?.rollout ?? DEFAULT_FLAG_ROLLOUTS[stage.type]);
    for (const wave of stage.waves) {
      for (const region of wave.regions) {
        const key = `${waveAccount(config, stage, wave)}/${region}`;
        const u = use.get(key) ?? { applications: 0, strategies: 0, stages: new Set<string>(), customStages: new Set<string>() };
        u.applications += withFlags.length;
        u.stages.add(stage.name);
        if (custom) {
          u.strategies += withFlags.length;
          u.customStages.add(stage.name);
        }
        use.set(key, u);
      }
    }
  }
  const warnings: string[] = [];
  for (const [where, u] of use) {
    const who = (stages: Set<string>) =>
      `${withFlags.length} service${withFlags.length > 1 ? 's' : ''} with flags (${withFlags.join(', ')}) in stage${stages.size > 1 ? 's' : ''} ${[...stages].join(', ')}`;
    if (u.applications > APPCONFIG_QUOTAS.applications) {
      warnings.push(
        `feature flags: ${where} would hold ${u.applications} AppConfig applications (${who(u.stages)}, one per service and target), more than AppConfig's default quota of ${APPCONFIG_QUOTAS.applications}: request a quota increase or declare flags on fewer services`,
      );
    }
    if (u.strategies > APPCONFIG_QUOTAS.deploymentStrategies) {
      warnings.push(
        `feature flags: ${where} would hold ${u.strategies} custom AppConfig deployment strategies (${who(u.customStages)}), more than AppConfig's default quota of ${APPCONFIG_QUOTAS.deploymentStrategies}: ` +
          'use a predefined rollout there (the stage type\'s default, or { "type": "all-at-once", "bakeMinutes": 10 }, or { "type": "linear", "percent": 20, "intervalMinutes": 6, "bakeMinutes": 30 }) or request a quota increase',
      );
    }
  }
  return warnings;
}
