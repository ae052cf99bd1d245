import { DEFAULT_JUDGE_SETTINGS, judgeSettingsSchema, resolveJudgeSettings } from '../../lib/constructs/canary-judge';

const fails = (input: object) => () => resolveJudgeSettings(input as never);

describe('judge settings', () => {
  test('defaults fill what is left out; the zod schema gives the same result', () => {
    expect(resolveJudgeSettings(undefined)).toEqual(DEFAULT_JUDGE_SETTINGS);
    expect(resolveJudgeSettings({ zThreshold: 5 })).toEqual({ ...DEFAULT_JUDGE_SETTINGS, zThreshold: 5 });
    expect(judgeSettingsSchema.parse({ errorWindowMinutes: 35 })).toEqual({ ...DEFAULT_JUDGE_SETTINGS, errorWindowMinutes: 35 });
  });

  test.each([
    ['zThreshold', 1, '1 is not a usable z threshold: use a number from 2 to 10 (higher is stricter), e.g. 4.5'],
    ['zThreshold', '4', '"4" is not a usable z threshold: use a number from 2 to 10 (higher is stricter), e.g. 4.5'],
    ['minRequests', 5, '5 is not a request count: use a whole number from 10 to 1000000, e.g. 100'],
    ['minRequests', 150.5, '150.5 is not a request count: use a whole number from 10 to 1000000, e.g. 100'],
    ['minEffectPoints', 0, '0 is not an effect size: use percentage points greater than 0 and at most 100, e.g. 0.1'],
    [
      'minRelativeIncrease',
      0.05,
      '0.05 is not a relative increase: use a number from 0.1 to 100 (0.75 = the canary fails 1.75 times as often), e.g. 0.75',
    ],
    ['errorWindowMinutes', 0.5, '0.5 is not a window: use whole minutes from 1 to 1440 (alarm periods are whole minutes), e.g. 10'],
    ['fastErrorWindowMinutes', 0, '0 is not a window: use whole minutes from 1 to 1440 (alarm periods are whole minutes), e.g. 1'],
    ['latencyWindowMinutes', 2000, '2000 is not a window: use whole minutes from 1 to 1440 (alarm periods are whole minutes), e.g. 5'],
    ['catastropheWindowMinutes', -1, '-1 is not a window: use whole minutes from 1 to 1440 (alarm periods are whole minutes), e.g. 10'],
    ['latencyRatio', 1, '1 is not a latency ratio: use a number greater than 1 (1.5 = the canary is 50% slower), e.g. 1.5'],
    ['latencyFloorMs', -5, '-5 is not a latency floor: use milliseconds from 0 to 3600000, e.g. 50'],
    ['catastropheErrorPercent', 0, '0 is not a percentage: use a number greater than 0 and at most 100, e.g. 50'],
    ['catastropheMinErrors', 0, '0 is not an error count: use a whole number of at least 1, e.g. 2'],
    ['evaluationPeriods', 11, '11 is out of range: use a whole number from 1 to 10, e.g. 1'],
    ['datapointsToAlarm', 0, '0 is out of range: use a whole number from 1 to 10, e.g. 1'],
  ])('fails when %s is %j', (field, value, message) => {
    expect(fails({ [field]: value })).toThrow(`Invalid CanaryJudge settings:\n  - settings.${field}: ${message}`);
  });

  test('fails when the fast window is longer than the error window', () => {
    expect(fails({ errorWindowMinutes: 5, fastErrorWindowMinutes: 6 })).toThrow(
      'settings.fastErrorWindowMinutes: 6 is longer than errorWindowMinutes (5): use a window no longer than it, e.g. 1',
    );
  });
  test('fails when more datapoints must breach than are evaluated', () => {
    expect(fails({ evaluationPeriods: 2, datapointsToAlarm: 3 })).toThrow(
      'settings.datapointsToAlarm: 3 must be a whole number from 1 to evaluationPeriods (2)',
    );
  });
  test("fails when the evaluation exceeds CloudWatch's one day", () => {
    expect(fails({ errorWindowMinutes: 720, evaluationPeriods: 3, datapointsToAlarm: 1 })).toThrow(
      "settings.evaluationPeriods: 3 periods of 720 minutes exceed CloudWatch's one-day evaluation limit: use at most 2",
    );
  });
  test('fails when a setting is unknown, naming the known ones', () => {
    expect(fails({ zScore: 4 })).toThrow(/settings: "zScore" is not a setting: use zThreshold, minRequests, minEffectPoints, /);
  });
  test('fails with every problem at once', () => {
    expect(fails({ zThreshold: 0, minRequests: 1 })).toThrow(
      'Invalid CanaryJudge settings:\n  - settings.zThreshold: 0 is not a usable z threshold: use a number from 2 to 10 (higher is stricter), e.g. 4.5\n  - settings.minRequests: 1 is not a request count: use a whole number from 10 to 1000000, e.g. 100',
    );
  });
});
