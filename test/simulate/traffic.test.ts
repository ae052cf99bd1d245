import { mixSeed, Random } from '../../lib/simulate/random';
import { DEFAULT_TRAFFIC, generateRun, SCENARIOS } from '../../lib/simulate/traffic';

const scenario = (id: string) => SCENARIOS.find((s) => s.id === id)!;
const total = (a: Float64Array) => a.reduce((s, x) => s + x, 0);

describe('simulated traffic', () => {
  test('is deterministic for a seed, and differs across seeds', () => {
    const model = { ...DEFAULT_TRAFFIC, rps: 5 };
    const a = generateRun(model, scenario('errors-2pt'), new Random(42));
    const b = generateRun(model, scenario('errors-2pt'), new Random(42));
    const c = generateRun(model, scenario('errors-2pt'), new Random(43));
    expect(Array.from(a.canary.errors)).toEqual(Array.from(b.canary.errors));
    expect(a.t0).toBe(b.t0);
    expect(a.t0).not.toBe(c.t0);
    expect(mixSeed(1, 2, 3)).toBe(mixSeed(1, 2, 3));
    expect(mixSeed(1, 2, 3)).not.toBe(mixSeed(1, 3, 2));
  });

  test('splits requests by the canary share during the step and shifts them all after it', () => {
    const run = generateRun({ ...DEFAULT_TRAFFIC, rps: 200 }, scenario('healthy'), new Random(1));
    const before = Math.floor(run.t0 / 60) - 1;
    const during = Math.floor(run.t0 / 60) + 3;
    const after = Math.ceil(run.stepEnd / 60) + 1;
    expect(run.canary.requests[before]).toBe(0);
    expect(run.canary.requests[during] / (run.canary.requests[during] + run.baseline.requests[during])).toBeCloseTo(0.1, 1);
    expect(run.baseline.requests[after]).toBe(0);
    // 200 rps for the whole simulated time, Poisson: within a few percent.
    const seconds = run.buckets * 60;
    expect((total(run.canary.requests) + total(run.baseline.requests)) / seconds).toBeGreaterThan(190);
    expect((total(run.canary.requests) + total(run.baseline.requests)) / seconds).toBeLessThan(210);
    expect(run.stepCanaryRequests).toBeGreaterThan(0.1 * 200 * 600 * 0.95);
    expect(run.stepCanaryRequests).toBeLessThan(0.1 * 200 * 600 * 1.05);
  });

  test('error rates per scenario: a crash loop fails nearly everything, an outage hits both versions', () => {
    const crash = generateRun({ ...DEFAULT_TRAFFIC, rps: 200 }, scenario('crash-loop'), new Random(3));
    expect(total(crash.canary.errors) / total(crash.canary.requests)).toBeGreaterThan(0.98);
    expect(crash.canary.unhealthy[Math.floor(crash.t0 / 60) + 1]).toBe(1);
    const outage = generateRun({ ...DEFAULT_TRAFFIC, rps: 200 }, scenario('outage'), new Random(4));
    const k = Math.floor(outage.outageStart! / 60) + 1;
    expect(outage.baseline.errors[k] / outage.baseline.requests[k]).toBeGreaterThan(0.15);
    expect(outage.canary.errors[k] / outage.canary.requests[k]).toBeGreaterThan(0.1);
  });
});
