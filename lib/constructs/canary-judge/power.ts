import { DETECTION_MODEL } from '../shared/detection-time';
import type { JudgeSettings } from './settings';

/** The traffic a canary step will see, and the regression it must be able to catch. */
export interface PowerQuery {
  /** Expected requests per second through the alias or listener (both versions together). */
  readonly requestsPerSecond: number;
  /** Percentage of the traffic the canary step sends to the new version, e.g. 10. */
  readonly canaryPercent: number;
  /** The service's usual error rate, in percent, e.g. 0.2. */
  readonly baselineErrorPercent: number;
  /** The increase of the error rate to detect, in percentage points, e.g. 2. */
  readonly effectPoints: number;
  /** Probability of catching it. @default 0.95 */
  readonly power?: number;
}

/** What a canary step needs for the power asked. */
export interface PowerResult {
  /** Whether the judge can flag the effect at all (effect above minEffectPoints and minRelativeIncrease). */
  readonly detectable: boolean;
  /** Shortest error window (errorWindowMinutes) that reaches the power; undefined when none within a day does. */
  readonly windowMinutes?: number;
  /** Shortest canary step: the window plus the time from a datapoint to CodeDeploy stopping the deployment. */
  readonly stepMinutes?: number;
  /** Expected canary requests in that window. */
  readonly canaryRequests?: number;
  /** The power reached (at windowMinutes), or the best one found when none reaches the target. */
  readonly power: number;
}

/**
 * Minutes from the end of a one-minute datapoint to CodeDeploy stopping the deployment, rounded up:
 * the bucket itself, its publication delay, the alarm's evaluation interval and CodeDeploy's poll
 * (the same allowances as the rest of the project: ../shared/detection-time.ts).
 */
export const DETECTION_LATENCY_MINUTES = Math.ceil(
  (60 + DETECTION_MODEL.metricDelaySeconds + DETECTION_MODEL.evaluationIntervalSeconds + DETECTION_MODEL.codeDeployPollSeconds) / 60,
);

/**
 * Probability that the error judge flags an error rate `effectPoints` above the baseline when its
 * window of `windowMinutes` is full of canary traffic.
 *
 * The canary's errors are Poisson; the baseline's (nine times more traffic at a 10% canary) are
 * taken at their expectation, and the statistic is the judge's own (conditionalPoissonZ), so the
 * figure is slightly optimistic where the baseline sees only a few errors. It is a sizing aid:
 * `npm run simulate` measures the alarms themselves.
 */
export function judgePower(query: PowerQuery, windowMinutes: number, s: JudgeSettings): number {
  const share = query.canaryPercent / 100;
  const nc = query.requestsPerSecond * share * 60 * windowMinutes;
  const nb = query.requestsPerSecond * (1 - share) * 60 * windowMinutes;
  if (nc < s.minRequests || nb < s.minRequests) return 0;
  const pb = query.baselineErrorPercent / 100;
  const pc = Math.min(1, pb + query.effectPoints / 100);
  const eb = nb * pb;
  const canaryFraction = nc / (nc + nb);
  const flags = (x: number) => {
    const rc = x / nc;
    if (x < 1 || rc - pb < s.minEffectPoints / 100 || rc < (1 + s.minRelativeIncrease) * pb) return false;
    return conditionalPoissonDeviate(x, (x + eb) * canaryFraction) >= s.zThreshold;
  };
  // Smallest canary error count the judge flags: the statistic grows with x.
  let lo = 0;
  let hi = Math.ceil(nc);
  if (!flags(hi)) return 0;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (flags(mid)) hi = mid;
    else lo = mid + 1;
  }
  return poissonTail(nc * pc, lo);
}

/**
 * The shortest error window and canary step that catch an error rate `effectPoints` above the
 * baseline with the power asked (default 95%), or `windowMinutes: undefined` when no window up to a
 * day does. For the synth-time check (CanaryJudge `expectedTraffic`) and for sizing quiet services.
 */
export function requiredCanaryStep(query: PowerQuery, s: JudgeSettings): PowerResult {
  const target = query.power ?? 0.95;
  const pb = query.baselineErrorPercent / 100;
  const pc = pb + query.effectPoints / 100;
  const detectable = query.effectPoints >= s.minEffectPoints && pc >= (1 + s.minRelativeIncrease) * pb;
  if (!detectable) return { detectable, power: 0 };
  let best = 0;
  for (let w = 1; w <= 1440; w++) {
    const p = judgePower(query, w, s);
    best = Math.max(best, p);
    if (p >= target) {
      return {
        detectable,
        windowMinutes: w,
        stepMinutes: w + DETECTION_LATENCY_MINUTES,
        canaryRequests: Math.round(query.requestsPerSecond * (query.canaryPercent / 100) * 60 * w),
        power: p,
      };
    }
  }
  return { detectable, power: best };
}

/**
 * A warning when a canary step of `stepMinutes` with the settings' error window cannot catch the
 * effect with the power asked; undefined when it can.
 */
export function canaryStepWarning(query: PowerQuery & { readonly stepMinutes: number }, s: JudgeSettings): string | undefined {
  const target = query.power ?? 0.95;
  const usable = Math.min(s.errorWindowMinutes, query.stepMinutes - DETECTION_LATENCY_MINUTES);
  const power = usable >= 1 ? judgePower(query, usable, s) : 0;
  if (power >= target) return undefined;
  const need = requiredCanaryStep(query, s);
  const what = `at ${query.requestsPerSecond} requests/s with ${query.canaryPercent}% canary, a ${query.effectPoints}-point error increase over ${query.baselineErrorPercent}% is caught with probability ${power.toFixed(2)} (want ${target})`;
  if (!need.detectable) {
    return `${what}: the effect is below minEffectPoints (${s.minEffectPoints}) or minRelativeIncrease (${s.minRelativeIncrease}); lower them or accept it`;
  }
  if (need.windowMinutes === undefined)
    return `${what}: no window up to a day reaches it; hold such releases for traffic or raise the canary percentage`;
  return `${what}: use errorWindowMinutes >= ${need.windowMinutes} and a canary step of at least ${need.stepMinutes} minutes`;
}

/** The judge's significance deviate (see conditionalPoissonZ in ./metric-math.ts) for k canary errors against `mean` expected. */
export function conditionalPoissonDeviate(k: number, mean: number): number {
  return 3 * Math.sqrt(k) * (1 - 1 / (9 * k) - Math.cbrt(mean / k));
}

/** P(X >= k) for X ~ Poisson(mean). */
export function poissonTail(mean: number, k: number): number {
  if (k <= 0) return 1;
  if (mean <= 0) return 0;
  // P(X < k) by the recurrence P(i) = P(i-1) * mean / i; exp(-mean) underflows for means above
  // ~745, where the normal approximation (with continuity correction) is accurate anyway.
  let term = Math.exp(-mean);
  let cdf = term;
  if (term === 0) {
    const z = (k - 0.5 - mean) / Math.sqrt(mean);
    return 0.5 * erfc(z / Math.SQRT2);
  }
  for (let i = 1; i < k; i++) {
    term *= mean / i;
    cdf += term;
  }
  return Math.max(0, 1 - cdf);
}

/** Complementary error function (Numerical Recipes erfcc, |relative error| < 1.2e-7). */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}
