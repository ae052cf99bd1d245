import type { AlarmOverrides } from '../../config/schema';
import { metricAlarmDetectionSeconds } from './detection-time';

/** Alarm settings with every field decided. */
export type AlarmSettings = Required<AlarmOverrides>;

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

/**
 * Applies overrides to the defaults and validates the result; throws one error naming every bad
 * field, headed `Invalid <constructName> alarm settings:`.
 */
export function resolveAlarmSettings(overrides: AlarmOverrides | undefined, constructName: string): AlarmSettings {
  const s: AlarmSettings = { ...DEFAULT_ALARM_SETTINGS, ...stripUndefined(overrides ?? {}) };
  const problems: string[] = [];
  const show = JSON.stringify;
  if (!(Number.isFinite(s.errorRatePercent) && s.errorRatePercent > 0 && s.errorRatePercent <= 100)) {
    problems.push(`alarms.errorRatePercent: ${show(s.errorRatePercent)} is not a percentage: use a number greater than 0 and at most 100, e.g. 1`);
  }
  if (!(Number.isInteger(s.p99LatencyMs) && s.p99LatencyMs > 0)) {
    problems.push(`alarms.p99LatencyMs: ${show(s.p99LatencyMs)} is not a latency: use a positive whole number of milliseconds, e.g. 1000`);
  }
  // A 10 or 30 s (high-resolution) alarm on a once-a-minute metric sees mostly empty periods, which
  // are "not breaching": it would fire later than a 60 s one, or never.
  if (!(Number.isInteger(s.periodSeconds) && s.periodSeconds >= 60 && s.periodSeconds % 60 === 0)) {
    problems.push(`alarms.periodSeconds: ${show(s.periodSeconds)} is not a whole number of minutes, the resolution Lambda and ALB metrics are published at: use a multiple of 60, e.g. 60`);
  }
  if (!(Number.isInteger(s.evaluationPeriods) && s.evaluationPeriods >= 1 && s.evaluationPeriods <= 10)) {
    problems.push(`alarms.evaluationPeriods: ${show(s.evaluationPeriods)} is out of range: use a whole number from 1 to 10, e.g. 3`);
  } else if (Number.isInteger(s.periodSeconds) && s.periodSeconds * s.evaluationPeriods > 86400) {
    problems.push(`alarms.evaluationPeriods: ${s.evaluationPeriods} periods of ${s.periodSeconds} s exceed CloudWatch's one-day window: lower one of them`);
  }
  if (!(Number.isInteger(s.datapointsToAlarm) && s.datapointsToAlarm >= 1 && s.datapointsToAlarm <= s.evaluationPeriods)) {
    problems.push(`alarms.datapointsToAlarm: ${show(s.datapointsToAlarm)} must be a whole number from 1 to evaluationPeriods (${show(s.evaluationPeriods)})`);
  }
  if (problems.length > 0) {
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
