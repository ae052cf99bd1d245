import { z } from 'zod';
import { datapointsOverPeriodsMessage, isPeriodCount, oneDayWindowProblem, periodCountField } from './alarm-limits';
import { metricAlarmDetectionSeconds } from './detection-time';
import { numberField, showValue as show } from './limits';

/** Alarm settings with every field decided. */
export interface AlarmSettings {
  readonly errorRatePercent: number;
  readonly p99LatencyMs: number;
  readonly periodSeconds: number;
  readonly evaluationPeriods: number;
  readonly datapointsToAlarm: number;
}

/**
 * Defaults of both canary services, chosen for a canary that takes 10% of traffic for a few minutes:
 * - errorRatePercent 1: a healthy service stays well under 1% errors; above it users notice.
 * - p99LatencyMs 1000: the demo services answer in milliseconds; a p99 over a second is a regression
 *   (cold starts of a 256 MB Node 22 function stay under it).
 * - periodSeconds 60: Lambda and the ALB both publish their metrics once a minute, so this is the
 *   finest useful period.
 * - evaluationPeriods 3, datapointsToAlarm 2: two bad minutes out of three fire the alarm, so one
 *   noisy minute (a cold-start burst) does not roll back, while a real failure does within minutes.
 */
export const DEFAULT_ALARM_SETTINGS: AlarmSettings = {
  errorRatePercent: 1,
  p99LatencyMs: 1000,
  periodSeconds: 60,
  evaluationPeriods: 3,
  datapointsToAlarm: 2,
};

/** Each alarm setting's bounds and message, for the config (per field) and the constructs (after defaults) alike. */
const alarmFields = {
  /** Percentage of requests that fail before the alarm fires. */
  errorRatePercent: numberField(
    (v) => v > 0 && v <= 100,
    (v) => `${show(v)} is not a percentage: use a number greater than 0 and at most 100, e.g. 1`,
  ),
  /** p99 latency, in milliseconds, above which the alarm fires. */
  p99LatencyMs: numberField(
    (v) => Number.isInteger(v) && v > 0,
    (v) => `${show(v)} is not a latency: use a positive whole number of milliseconds, e.g. 1000`,
  ),
  /**
   * Length of one evaluation period, in seconds. A 10 or 30 s (high-resolution) alarm on a
   * once-a-minute metric sees mostly empty periods, which are "not breaching": it would fire later
   * than a 60 s one, or never.
   */
  periodSeconds: numberField(
    (v) => Number.isInteger(v) && v >= 60 && v % 60 === 0,
    (v) =>
      `${show(v)} is not a whole number of minutes, the resolution Lambda and ALB metrics are published at: use a multiple of 60, e.g. 60`,
  ),
  /** Number of periods the alarm looks at. */
  evaluationPeriods: periodCountField(3),
  /** How many of those periods must breach (M of N). */
  datapointsToAlarm: periodCountField(2),
};

/** The checks across fields, made when both fields are given and each is valid on its own. */
function checkAcrossFields(a: Partial<AlarmSettings>, ctx: z.RefinementCtx): void {
  const { periodSeconds: p, evaluationPeriods: e, datapointsToAlarm: d } = a;
  if (e === undefined || !isPeriodCount(e)) return;
  if (d !== undefined && isPeriodCount(d) && d > e) {
    ctx.addIssue({ code: 'custom', path: ['datapointsToAlarm'], message: datapointsOverPeriodsMessage(d, e) });
  }
  const window = p !== undefined && Number.isInteger(p) ? oneDayWindowProblem(e, p / 60) : undefined;
  if (window) ctx.addIssue({ code: 'custom', path: ['evaluationPeriods'], message: window });
}

/** Per-stage overrides of a service's alarm thresholds (the config's `alarms`); what is left out keeps the default. */
export const alarmOverridesSchema = z.object(alarmFields).partial().strict().superRefine(checkAcrossFields);
export type AlarmOverrides = z.infer<typeof alarmOverridesSchema>;

/**
 * Applies overrides to the defaults and validates the result; throws one error naming every bad
 * field, headed `Invalid <constructName> alarm settings:`.
 */
export function resolveAlarmSettings(overrides: AlarmOverrides | undefined, constructName: string): AlarmSettings {
  const s: AlarmSettings = { ...DEFAULT_ALARM_SETTINGS, ...stripUndefined(overrides ?? {}) };
  const parsed = z.object(alarmFields).superRefine(checkAcrossFields).safeParse(s);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `alarms.${i.path.join('.')}: ${i.message}`);
    throw new Error(`Invalid ${constructName} alarm settings:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
  return s;
}

/** Worst-case seconds from a bad release's first errors to CodeDeploy starting the rollback (./detection-time.ts). */
export function worstCaseDetectionSeconds(s: AlarmSettings): number {
  return metricAlarmDetectionSeconds(s.periodSeconds, s.datapointsToAlarm);
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
