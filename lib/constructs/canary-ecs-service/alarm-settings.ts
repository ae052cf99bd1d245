import type { AlarmOverrides } from '../../config/schema';
import { metricAlarmDetectionSeconds } from '../shared/detection-time';

/** Alarm settings with every field set. */
export type EcsAlarmSettings = Required<AlarmOverrides>;

/**
 * Defaults, and why:
 * - errorRatePercent 1: a healthy service stays well under 1% target 5xx; above it users notice.
 * - p99LatencyMs 1000: the service answers in milliseconds; a p99 over a second is a regression.
 * - periodSeconds 60: the ALB publishes its metrics once a minute, the finest useful period.
 * - evaluationPeriods 3, datapointsToAlarm 2: two bad minutes out of three fire the alarm, so one
 *   noisy minute does not roll a good release back, and a bad one is caught within minutes.
 */
export const DEFAULT_ECS_ALARM_SETTINGS: EcsAlarmSettings = {
  errorRatePercent: 1,
  p99LatencyMs: 1000,
  periodSeconds: 60,
  evaluationPeriods: 3,
  datapointsToAlarm: 2,
};

/** Merges overrides onto the defaults and validates the result; throws naming each bad field. */
export function resolveEcsAlarmSettings(overrides: AlarmOverrides = {}): EcsAlarmSettings {
  const s: EcsAlarmSettings = { ...DEFAULT_ECS_ALARM_SETTINGS, ...stripUndefined(overrides) };
  const show = (v: unknown) => JSON.stringify(v);
  const problems: string[] = [];
  if (!(Number.isFinite(s.errorRatePercent) && s.errorRatePercent > 0 && s.errorRatePercent <= 100)) {
    problems.push(`alarms.errorRatePercent: ${show(s.errorRatePercent)} is not a percentage: use a number greater than 0 and at most 100, e.g. 1`);
  }
  if (!(Number.isInteger(s.p99LatencyMs) && s.p99LatencyMs > 0)) {
    problems.push(`alarms.p99LatencyMs: ${show(s.p99LatencyMs)} is not a latency: use a whole number of milliseconds above 0, e.g. 1000`);
  }
  if (!(s.periodSeconds === 10 || s.periodSeconds === 30 || (Number.isInteger(s.periodSeconds) && s.periodSeconds >= 60 && s.periodSeconds % 60 === 0))) {
    problems.push(`alarms.periodSeconds: ${show(s.periodSeconds)} is not a CloudWatch alarm period: use 10, 30 or a multiple of 60 seconds`);
  }
  if (!(Number.isInteger(s.evaluationPeriods) && s.evaluationPeriods >= 1 && s.evaluationPeriods <= 10)) {
    problems.push(`alarms.evaluationPeriods: ${show(s.evaluationPeriods)} is out of range: use a whole number from 1 to 10`);
  }
  if (!(Number.isInteger(s.datapointsToAlarm) && s.datapointsToAlarm >= 1 && s.datapointsToAlarm <= s.evaluationPeriods)) {
    problems.push(`alarms.datapointsToAlarm: ${show(s.datapointsToAlarm)} must be a whole number from 1 to evaluationPeriods (${show(s.evaluationPeriods)})`);
  }
  if (problems.length > 0) throw new Error(problems.join('\n'));
  return s;
}

/** Worst-case seconds from a bad revision's first errors to CodeDeploy starting the rollback (lib/constructs/shared/detection-time.ts). */
export function worstCaseRollbackSeconds(s: EcsAlarmSettings): number {
  return metricAlarmDetectionSeconds(s.periodSeconds, s.datapointsToAlarm);
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
