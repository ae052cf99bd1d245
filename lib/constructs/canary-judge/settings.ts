import { z } from 'zod';
import { datapointsOverPeriodsMessage, oneDayWindowProblem, periodCountField } from '../shared/alarm-limits';
import { numberField, showValue as show } from '../shared/limits';

/**
 * The canary judge's settings: one zod schema gives the type, the defaults and the validation, so
 * that the config schema (lib/config/schema.ts) can embed `judgeSettingsSchema` as a stage's
 * `judge` block later without restating a rule. Every message reads "<value> is ...: use ...";
 * `resolveJudgeSettings` prefixes the field name.
 */

const wholeMinutes = (max: number, example: number) =>
  numberField(
    (v) => Number.isInteger(v) && v >= 1 && v <= max,
    (v) => `${show(v)} is not a window: use whole minutes from 1 to ${max} (alarm periods are whole minutes), e.g. ${example}`,
  );

/** Fields of the judge's settings, each optional in input; `judgeSettingsSchema` fills the defaults. */
const fields = {
  /**
   * Sensitivity of the error judge: how many standard deviations the canary's error count must lie
   * above what its share of all errors predicts when both versions fail alike (a one-sided normal
   * deviate; 4.5 is p = 3.4e-6 per evaluation, which keeps a healthy release's false rollbacks
   * under 0.1% over the dozens of evaluations of a canary step).
   */
  zThreshold: numberField(
    (v) => v >= 2 && v <= 10,
    (v) => `${show(v)} is not a usable z threshold: use a number from 2 to 10 (higher is stricter), e.g. 4.5`,
  ),
  /**
   * Canary requests (and baseline requests) a judge's window must hold before the error and latency
   * judges may fire. Below it they stay quiet, and a canary step that ends below it is held by the
   * traffic check (CanaryJudge.minRequests).
   */
  minRequests: numberField(
    (v) => Number.isInteger(v) && v >= 10 && v <= 1_000_000,
    (v) => `${show(v)} is not a request count: use a whole number from 10 to 1000000, e.g. 100`,
  ),
  /** Smallest error-rate increase (percentage points) worth a rollback, however significant. */
  minEffectPoints: numberField(
    (v) => v > 0 && v <= 100,
    (v) => `${show(v)} is not an effect size: use percentage points greater than 0 and at most 100, e.g. 0.1`,
  ),
  /**
   * Smallest relative increase of the error rate worth a rollback: 0.75 means the canary must fail
   * at least 1.75 times as often as the baseline. It keeps an outage that hits both versions from
   * looking like a regression while the canary's window is still filling, and it absorbs error
   * rates noisier than Poisson, which no count-based test models (docs/canary-judge.md).
   */
  minRelativeIncrease: numberField(
    (v) => v >= 0.1 && v <= 100,
    (v) => `${show(v)} is not a relative increase: use a number from 0.1 to 100 (0.75 = the canary fails 1.75 times as often), e.g. 0.75`,
  ),
  /** Window (alarm period) of the error judge: the evidence it pools. Quiet services need longer. */
  errorWindowMinutes: wholeMinutes(1440, 10),
  /** Window of the fast error judge, which lets a busy service's regression roll back within minutes. */
  fastErrorWindowMinutes: wholeMinutes(1440, 1),
  /**
   * Window (alarm period) of the high-resolution error judge, for a service that publishes its own
   * per-version metrics (lib/canary-metrics): 10 or 30 seconds, the high-resolution alarm
   * periods CloudWatch evaluates every 10 seconds (user guide, "Using Amazon CloudWatch alarms").
   */
  highResolutionWindowSeconds: numberField(
    (v) => v === 10 || v === 30,
    (v) => `${show(v)} is not a high-resolution alarm period: use 10 or 30 (seconds), e.g. 30`,
  ),
  /** Ratio of canary to baseline latency statistic that fails the canary. */
  latencyRatio: numberField(
    (v) => v > 1 && v <= 100,
    (v) => `${show(v)} is not a latency ratio: use a number greater than 1 (1.5 = the canary is 50% slower), e.g. 1.5`,
  ),
  /** The canary's latency statistic must also exceed the baseline's by at least this many milliseconds. */
  latencyFloorMs: numberField(
    (v) => v >= 0 && v <= 3_600_000,
    (v) => `${show(v)} is not a latency floor: use milliseconds from 0 to 3600000, e.g. 50`,
  ),
  /** Window of the latency judge. */
  latencyWindowMinutes: wholeMinutes(1440, 5),
  /** Error rate (%) of the canary alone that rolls back at once, whatever the baseline does. */
  catastropheErrorPercent: numberField(
    (v) => v > 0 && v <= 100,
    (v) => `${show(v)} is not a percentage: use a number greater than 0 and at most 100, e.g. 50`,
  ),
  /** Errors the canary must have in the catastrophe window, so that a single failed request is not a catastrophe. */
  catastropheMinErrors: numberField(
    (v) => Number.isInteger(v) && v >= 1 && v <= 1_000_000,
    (v) => `${show(v)} is not an error count: use a whole number of at least 1, e.g. 2`,
  ),
  /** Window of the catastrophe alarm. */
  catastropheWindowMinutes: wholeMinutes(1440, 10),
  /** Periods each judge alarm looks at (N of M-of-N). */
  evaluationPeriods: periodCountField(1),
  /** Periods that must breach (M of M-of-N). */
  datapointsToAlarm: periodCountField(1),
};

/** The judge's settings with every field decided. */
export interface JudgeSettings {
  readonly zThreshold: number;
  readonly minRequests: number;
  readonly minEffectPoints: number;
  readonly minRelativeIncrease: number;
  readonly errorWindowMinutes: number;
  readonly fastErrorWindowMinutes: number;
  readonly highResolutionWindowSeconds: number;
  readonly latencyRatio: number;
  readonly latencyFloorMs: number;
  readonly latencyWindowMinutes: number;
  readonly catastropheErrorPercent: number;
  readonly catastropheMinErrors: number;
  readonly catastropheWindowMinutes: number;
  readonly evaluationPeriods: number;
  readonly datapointsToAlarm: number;
}

/** Settings as written in config or props: any subset of `JudgeSettings`. */
export type JudgeSettingsInput = Partial<JudgeSettings>;

/**
 * Defaults for the example canary (10% for 10 minutes) that hold at every traffic level: a busy
 * service (hundreds of requests a second) has a regression rolled back within about three minutes
 * by the 1-minute fast judge; a quiet one (a few a second) is never rolled back for noise, and its
 * catastrophes still are, but a few points of extra errors need a longer window and step, which
 * `requiredCanaryStep` sizes from the expected traffic; a very quiet canary (under `minRequests`
 * in its step) is held rather than passed unjudged. Measured, not assumed: `npm run simulate`
 * and docs/canary-judge.md.
 */
export const DEFAULT_JUDGE_SETTINGS: JudgeSettings = {
  zThreshold: 4.5,
  minRequests: 100,
  minEffectPoints: 0.1,
  minRelativeIncrease: 0.75,
  errorWindowMinutes: 10,
  fastErrorWindowMinutes: 1,
  highResolutionWindowSeconds: 30,
  latencyRatio: 1.5,
  latencyFloorMs: 50,
  latencyWindowMinutes: 5,
  catastropheErrorPercent: 50,
  catastropheMinErrors: 2,
  catastropheWindowMinutes: 10,
  evaluationPeriods: 1,
  datapointsToAlarm: 1,
};

/** The settings as a config file writes them: every field optional, unknown fields rejected, no defaults filled. */
export const judgeSettingsInputSchema = z.object(fields).partial().strict();

/**
 * The settings schema for config files: every field optional, unknown fields rejected, cross-field
 * rules checked; parsing fills the defaults. Messages carry no field name (zod gives the path).
 */
export const judgeSettingsSchema = z
  .object(fields)
  .partial()
  .strict()
  .transform((input): JudgeSettings => ({ ...DEFAULT_JUDGE_SETTINGS, ...stripUndefined(input) }))
  .superRefine((s, ctx) => {
    if (s.fastErrorWindowMinutes > s.errorWindowMinutes) {
      ctx.addIssue({
        code: 'custom',
        path: ['fastErrorWindowMinutes'],
        message: `${s.fastErrorWindowMinutes} is longer than errorWindowMinutes (${s.errorWindowMinutes}): use a window no longer than it, e.g. 1`,
      });
    }
    if (s.datapointsToAlarm > s.evaluationPeriods) {
      ctx.addIssue({
        code: 'custom',
        path: ['datapointsToAlarm'],
        message: datapointsOverPeriodsMessage(s.datapointsToAlarm, s.evaluationPeriods),
      });
    }
    const longest = Math.max(s.errorWindowMinutes, s.latencyWindowMinutes, s.catastropheWindowMinutes);
    const window = oneDayWindowProblem(s.evaluationPeriods, longest);
    if (window) ctx.addIssue({ code: 'custom', path: ['evaluationPeriods'], message: window });
  });

/**
 * Defaults plus `input`, validated. Throws one error listing every problem as
 * `settings.<field>: <value> is ...: use ...`, headed `Invalid <owner> settings:`.
 */
export function resolveJudgeSettings(input: JudgeSettingsInput | undefined, owner = 'CanaryJudge'): JudgeSettings {
  const parsed = judgeSettingsSchema.safeParse(input ?? {});
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    if (issue.code === 'unrecognized_keys') {
      return `settings: ${issue.keys.map((k) => show(k)).join(', ')} ${issue.keys.length === 1 ? 'is not a setting' : 'are not settings'}: use ${Object.keys(fields).join(', ')}`;
    }
    return `settings.${issue.path.join('.')}: ${issue.message}`;
  });
  throw new Error(`Invalid ${owner} settings:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
