import { DETECTION_MODEL, metricAlarmDetectionSeconds } from '../constructs/shared/detection-time';
import type { TemplateIndex } from '../policy/template-index';
import type { TrafficShift } from './types';

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

export { metricAlarmDetectionSeconds };

/** Predefined names (CodeDeployDefault.LambdaCanary10Percent5Minutes, ...ECSLinear10PercentEvery1Minutes) or a custom config. */
export function parseShift(ref: unknown, index: TemplateIndex): TrafficShift {
  if (ref === undefined) return { type: 'all-at-once' };
  if (typeof ref === 'string') {
    if (/AllAtOnce/i.test(ref)) return { type: 'all-at-once' };
    const canary = /Canary(\d+)Percent(\d+)Minutes?$/i.exec(ref);
    if (canary) return { type: 'canary', percent: Number(canary[1]), intervalMinutes: Number(canary[2]) };
    const linear = /Linear(\d+)PercentEvery(\d+)Minutes?$/i.exec(ref);
    if (linear) return { type: 'linear', percent: Number(linear[1]), intervalMinutes: Number(linear[2]) };
    return { type: 'unknown' };
  }
  const custom = index.referenced(ref)?.Properties?.TrafficRoutingConfig;
  if (!custom) return { type: 'unknown' };
  if (custom.Type === 'TimeBasedCanary')
    return { type: 'canary', percent: custom.TimeBasedCanary.CanaryPercentage, intervalMinutes: custom.TimeBasedCanary.CanaryInterval };
  if (custom.Type === 'TimeBasedLinear')
    return { type: 'linear', percent: custom.TimeBasedLinear.LinearPercentage, intervalMinutes: custom.TimeBasedLinear.LinearInterval };
  return { type: 'all-at-once' };
}

export interface Timeline {
  /** [startMinute, sharePercent] steps, ascending. */
  readonly steps: Array<[number, number]>;
  readonly completeAt: number;
}

/** The new version's share of traffic over the deployment; undefined when the shift is unknown. */
export function shareTimeline(shift: TrafficShift): Timeline | undefined {
  if (shift.type === 'all-at-once') return { steps: [[0, 100]], completeAt: 0 };
  if (shift.type === 'canary')
    return {
      steps: [
        [0, shift.percent!],
        [shift.intervalMinutes!, 100],
      ],
      completeAt: shift.intervalMinutes!,
    };
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

/** Two decimals. */
export function round(n: number): number {
  return Math.round(n * 100) / 100;
}
