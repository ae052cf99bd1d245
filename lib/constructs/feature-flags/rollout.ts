import { z } from 'zod';
import { showValue as show } from '../shared/limits';

/**
 * How a flag change reaches a service's compute: AppConfig hands the new configuration version to
 * a growing share of the agents polling it, then bakes; an environment monitor (the service's health
 * alarm) in ALARM during either phase rolls the deployment back.
 *
 * AppConfig facts (checked 2026-11, AppConfig user guide "Working with deployment strategies" and the
 * AWS::AppConfig::DeploymentStrategy reference): growth type LINEAR or EXPONENTIAL; growth factor
 * 1-100 %; deployment duration and final bake time 0-1440 minutes each. With LINEAR, a step of
 * `growthFactor` % happens every `duration x growthFactor / 100` minutes (the predefined
 * AppConfig.Linear20PercentEvery6Minutes is 20 % over 30 minutes).
 * https://docs.aws.amazon.com/appconfig/latest/userguide/appconfig-creating-deployment-strategy.html
 */
export type FlagRollout =
  /** Every agent gets the new version at once; the monitor watches during the bake only. */
  | { readonly type: 'all-at-once'; readonly bakeMinutes?: number }
  /** `percent` more of the agents every `intervalMinutes`, then `bakeMinutes` of watching. */
  | { readonly type: 'linear'; readonly percent: number; readonly intervalMinutes: number; readonly bakeMinutes: number };

/**
 * Rollouts by stage type, for the configuration's per-type defaults. Both bake at least as long as
 * the services' worst-case alarm detection with the default alarm settings (6 minutes, see
 * lib/constructs/shared/detection-time.ts), so the health alarm can still roll a bad flag back:
 * - pre-production: everyone at once, then 10 minutes of watching;
 * - production: 20 % of the agents every 6 minutes (30 minutes), then 30 minutes of watching.
 */
export const DEFAULT_FLAG_ROLLOUTS: Readonly<Record<'pre-production' | 'production', FlagRollout>> = {
  'pre-production': { type: 'all-at-once', bakeMinutes: 10 },
  production: { type: 'linear', percent: 20, intervalMinutes: 6, bakeMinutes: 30 },
};

/** AppConfig's limits on a deployment strategy, in minutes. */
export const APPCONFIG_STRATEGY_LIMITS = { durationMinutes: 1440, bakeMinutes: 1440 } as const;

/** The AWS::AppConfig::DeploymentStrategy settings of a rollout. */
export interface AppConfigStrategySettings {
  readonly growthType: 'LINEAR';
  readonly growthFactor: number;
  readonly deploymentDurationInMinutes: number;
  readonly finalBakeTimeInMinutes: number;
}

const minutes = (fix: string) => ({
  error: (i: { input?: unknown }) => (i.input === undefined ? `is missing: ${fix}` : `${show(i.input)} is not a number of minutes: ${fix}`),
});
const bake = z
  .number(minutes(`use 0 to ${APPCONFIG_STRATEGY_LIMITS.bakeMinutes}, e.g. 30`))
  .int({ error: (i) => `${show(i.input)} is not a whole number of minutes: use 0 to ${APPCONFIG_STRATEGY_LIMITS.bakeMinutes}` })
  .min(0, { error: (i) => `${show(i.input)} minutes is out of range: use 0 to ${APPCONFIG_STRATEGY_LIMITS.bakeMinutes}` })
  .max(APPCONFIG_STRATEGY_LIMITS.bakeMinutes, {
    error: (i) =>
      `${show(i.input)} minutes is longer than AppConfig's ${APPCONFIG_STRATEGY_LIMITS.bakeMinutes}-minute final bake: use at most ${APPCONFIG_STRATEGY_LIMITS.bakeMinutes}`,
  });

/** A rollout as configuration (e.g. per stage type); the config schema can embed it. */
export const flagRolloutSchema: z.ZodType<FlagRollout> = z
  .discriminatedUnion(
    'type',
    [
      z.strictObject({ type: z.literal('all-at-once'), bakeMinutes: bake.optional() }),
      z.strictObject({
        type: z.literal('linear'),
        percent: z
          .number({
            error: (i) =>
              i.input === undefined
                ? 'is missing: add the percent of agents per step, e.g. 20'
                : `${show(i.input)} is not a percentage: use 1 to 100`,
          })
          .int({ error: (i) => `${show(i.input)} is not a whole percentage: use 1 to 100` })
          .min(1, { error: (i) => `${show(i.input)} is not a step: use 1 to 100 (percent of agents per step)` })
          .max(100, { error: (i) => `${show(i.input)} is not a step: use 1 to 100 (percent of agents per step)` }),
        intervalMinutes: z
          .number(minutes('use 1 or more, e.g. 6'))
          .int({ error: (i) => `${show(i.input)} is not a whole number of minutes: use 1 or more` })
          .min(1, { error: (i) => `${show(i.input)} minutes is too short: use 1 or more` }),
        bakeMinutes: bake,
      }),
    ],
    { error: (i) => `${show((i.input as { type?: unknown })?.type ?? i.input)} is not a rollout type: use "all-at-once" or "linear"` },
  )
  .superRefine((r, ctx) => {
    if (r.type !== 'linear') return;
    const duration = linearDurationMinutes(r);
    if (duration > APPCONFIG_STRATEGY_LIMITS.durationMinutes) {
      ctx.addIssue({
        code: 'custom',
        path: ['intervalMinutes'],
        input: r.intervalMinutes,
        message: `${r.intervalMinutes} minutes x ${Math.ceil(100 / r.percent)} steps of ${r.percent} % take ${duration} minutes, longer than AppConfig's ${APPCONFIG_STRATEGY_LIMITS.durationMinutes}-minute deployment: use a shorter interval or a bigger step`,
      });
    }
  });

function linearDurationMinutes(r: { percent: number; intervalMinutes: number }): number {
  // Whole minutes: AppConfig takes the duration in minutes, so a step that does not divide 100 rounds up.
  return Math.ceil((r.intervalMinutes * 100) / r.percent);
}

/** Validates a rollout; throws one error naming every bad field as `<prefix>.field: ...`. */
export function validateRollout(rollout: FlagRollout, prefix = 'rollout'): FlagRollout {
  const result = flagRolloutSchema.safeParse(rollout, { reportInput: true });
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => `${[prefix, ...i.path.map(String)].join('.')}: ${i.message}`);
  throw new Error(problems.join('\n'));
}

/** AppConfig strategy settings: all-at-once is one 100 % step; linear spreads its steps over the duration. */
export function toAppConfigStrategy(rollout: FlagRollout): AppConfigStrategySettings {
  const r = validateRollout(rollout);
  if (r.type === 'all-at-once') {
    return { growthType: 'LINEAR', growthFactor: 100, deploymentDurationInMinutes: 0, finalBakeTimeInMinutes: r.bakeMinutes ?? 0 };
  }
  return {
    growthType: 'LINEAR',
    growthFactor: r.percent,
    deploymentDurationInMinutes: linearDurationMinutes(r),
    finalBakeTimeInMinutes: r.bakeMinutes,
  };
}

/**
 * AppConfig's predefined strategies a rollout can equal exactly. Using one creates no
 * AWS::AppConfig::DeploymentStrategy, and AppConfig allows only 20 of those per account and region
 * ("Deployment strategies: 20 max", ServiceQuotaExceededException in the AppConfig API reference).
 * Values from https://docs.aws.amazon.com/appconfig/latest/userguide/appconfig-creating-deployment-strategy-predefined.html
 * (AllAtOnce: everyone at once, 10-minute bake; Linear20PercentEvery6Minutes: 20 % every 6 minutes
 * over 30 minutes, 30-minute bake). The other two are exponential or step in seconds, which a
 * FlagRollout cannot express.
 */
export const PREDEFINED_STRATEGIES: Readonly<Record<string, AppConfigStrategySettings>> = {
  'AppConfig.AllAtOnce': { growthType: 'LINEAR', growthFactor: 100, deploymentDurationInMinutes: 0, finalBakeTimeInMinutes: 10 },
  'AppConfig.Linear20PercentEvery6Minutes': {
    growthType: 'LINEAR',
    growthFactor: 20,
    deploymentDurationInMinutes: 30,
    finalBakeTimeInMinutes: 30,
  },
};

/** The predefined strategy a rollout equals, if any (both defaults do). */
export function predefinedStrategyId(rollout: FlagRollout): string | undefined {
  const s = toAppConfigStrategy(rollout);
  return Object.keys(PREDEFINED_STRATEGIES).find((id) => {
    const p = PREDEFINED_STRATEGIES[id];
    return (
      p.growthFactor === s.growthFactor &&
      p.deploymentDurationInMinutes === s.deploymentDurationInMinutes &&
      p.finalBakeTimeInMinutes === s.finalBakeTimeInMinutes
    );
  });
}

/** `linear 20 % every 6 min, bake 30 min` — how deployctl and the docs describe a rollout. */
export function describeStrategy(s: {
  growthType?: string;
  growthFactor?: number;
  deploymentDurationInMinutes?: number;
  finalBakeTimeInMinutes?: number;
}): string {
  const bakeText = `bake ${s.finalBakeTimeInMinutes ?? 0} min`;
  if ((s.deploymentDurationInMinutes ?? 0) === 0 || s.growthFactor === 100) return `all at once, ${bakeText}`;
  const type = (s.growthType ?? 'LINEAR').toLowerCase();
  const every =
    type === 'linear' && s.growthFactor ? `, step every ${round((s.deploymentDurationInMinutes! * s.growthFactor) / 100)} min` : '';
  return `${type} ${s.growthFactor ?? '?'} % over ${s.deploymentDurationInMinutes} min${every}, ${bakeText}`;
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}
