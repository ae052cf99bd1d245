import {
  canaryStepWarning,
  conditionalPoissonDeviate,
  DEFAULT_JUDGE_SETTINGS,
  DETECTION_LATENCY_MINUTES,
  judgePower,
  poissonTail,
  requiredCanaryStep,
} from '../../lib/constructs/canary-judge';
import { normalQuantile } from '../../lib/simulate/random';

const s = DEFAULT_JUDGE_SETTINGS;
const busy = { requestsPerSecond: 200, canaryPercent: 10, baselineErrorPercent: 0.2, effectPoints: 2 };
const quiet = { ...busy, requestsPerSecond: 5 };

describe('the significance deviate', () => {
  test('is close to the exact Poisson tail, where the pooled z-test is not', () => {
    // 2 canary errors where 0.172 are expected (2 of 100 requests against 8 of 5,900): exact
    // P(X >= 2) = 1 - e^-0.172 (1 + 0.172) = 0.0132, a normal deviate of 2.22.
    expect(poissonTail(0.172, 2)).toBeCloseTo(0.0132, 4);
    expect(conditionalPoissonDeviate(2, 0.172)).toBeCloseTo(2.13, 2);
    expect(Math.abs(conditionalPoissonDeviate(2, 0.172) - -normalQuantile(poissonTail(0.172, 2)))).toBeLessThan(0.15);
    // Larger counts: 20 where 6 are expected.
    expect(Math.abs(conditionalPoissonDeviate(20, 6) - -normalQuantile(poissonTail(6, 20)))).toBeLessThan(0.1);
  });
  test('Poisson tail, hand-computed', () => {
    // P(X >= 5 | 0.6) = 1 - e^-0.6 (1 + 0.6 + 0.18 + 0.036 + 0.0054)
    expect(poissonTail(0.6, 5)).toBeCloseTo(1 - Math.exp(-0.6) * 1.8214, 6);
    expect(poissonTail(3, 0)).toBe(1);
  });
});

describe('power calculation', () => {
  test('200 rps, 1-minute window: 16 canary errors are needed, 26.4 are expected', () => {
    // 1,200 canary and 10,800 baseline requests; 21.6 baseline errors expected at 0.2%.
    expect(conditionalPoissonDeviate(15, (15 + 21.6) * 0.1)).toBeLessThan(4.5);
    expect(conditionalPoissonDeviate(16, (16 + 21.6) * 0.1)).toBeGreaterThanOrEqual(4.5);
    expect(judgePower(busy, 1, s)).toBeCloseTo(poissonTail(26.4, 16), 10);
    expect(judgePower(busy, 1, s)).toBeGreaterThan(0.98);
  });
  test('5 rps needs a longer window; the step adds the detection latency', () => {
    const r = requiredCanaryStep(quiet, s);
    expect(r.detectable).toBe(true);
    expect(judgePower(quiet, r.windowMinutes! - 1, s)).toBeLessThan(0.95);
    expect(judgePower(quiet, r.windowMinutes!, s)).toBeGreaterThanOrEqual(0.95);
    expect(r.stepMinutes).toBe(r.windowMinutes! + DETECTION_LATENCY_MINUTES);
    expect(DETECTION_LATENCY_MINUTES).toBe(4);
    expect(r.canaryRequests).toBe(5 * 0.1 * 60 * r.windowMinutes!);
  });
  test('no power below minRequests, none for an effect under the minimum', () => {
    expect(judgePower({ ...busy, requestsPerSecond: 0.2 }, 10, s)).toBe(0);
    expect(requiredCanaryStep({ ...busy, effectPoints: 0.1 }, s)).toEqual({ detectable: false, power: 0 });
  });
  test('the synth-time warning names the window and step to use', () => {
    expect(canaryStepWarning({ ...busy, stepMinutes: 10 }, s)).toBeUndefined();
    const r = requiredCanaryStep(quiet, s);
    expect(canaryStepWarning({ ...quiet, stepMinutes: 10 }, s)).toMatch(
      new RegExp(`: use errorWindowMinutes >= ${r.windowMinutes} and a canary step of at least ${r.stepMinutes} minutes$`),
    );
    expect(canaryStepWarning({ ...busy, effectPoints: 0.1, stepMinutes: 10 }, s)).toMatch(
      /the effect is below minEffectPoints \(0.1\) or minRelativeIncrease \(0.75\)/,
    );
  });
});
