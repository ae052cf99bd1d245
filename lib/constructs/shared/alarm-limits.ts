import { numberField, showValue as show } from './limits';

/**
 * CloudWatch's limits on an M-of-N alarm, with their messages, for the services' alarms
 * (alarm-settings.ts) and the canary judge's (canary-judge/settings.ts) alike: at most 10
 * evaluation periods, and for periods under an hour, Period x EvaluationPeriods at most one day.
 */
export const ALARM_LIMITS = { maxEvaluationPeriods: 10, maxWindowMinutes: 1440 } as const;

/** Whether `v` can be an alarm's EvaluationPeriods or DatapointsToAlarm on its own. */
export const isPeriodCount = (v: number) => Number.isInteger(v) && v >= 1 && v <= ALARM_LIMITS.maxEvaluationPeriods;

/** EvaluationPeriods or DatapointsToAlarm (N or M of M-of-N), with `example` in its message. */
export const periodCountField = (example: number) =>
  numberField(
    isPeriodCount,
    (v) => `${show(v)} is out of range: use a whole number from 1 to ${ALARM_LIMITS.maxEvaluationPeriods}, e.g. ${example}`,
  );

/** The message when DatapointsToAlarm exceeds EvaluationPeriods. */
export const datapointsOverPeriodsMessage = (datapoints: number, periods: number) =>
  `${show(datapoints)} must be a whole number from 1 to evaluationPeriods (${show(periods)})`;

/** The message when `periods` of `periodMinutes` exceed one day, else undefined. */
export function oneDayWindowProblem(periods: number, periodMinutes: number): string | undefined {
  if (periods * periodMinutes <= ALARM_LIMITS.maxWindowMinutes) return undefined;
  const most = Math.floor(ALARM_LIMITS.maxWindowMinutes / periodMinutes);
  return `${periods} periods of ${periodMinutes} minutes exceed CloudWatch's one-day evaluation limit: use at most ${most}`;
}
