import { flagQuotaWarnings } from '../../lib/pipeline/flag-quotas';
import { fixtureConfig } from '../support/fixtures';

/** The example with `n` more pre-production stages in the pipeline's account and region, each with `rollout`. */
function withStages(n: number, rollout?: object) {
  return fixtureConfig('example', (c) => {
    const extra = Array.from({ length: n }, (_, i) => ({
      name: `Test${i}`,
      type: 'pre-production',
      waves: [{ name: `Test${i}`, regions: ['us-east-1'] }],
      lambda: { deployment: { type: 'all-at-once' } },
      ecs: { deployment: { type: 'all-at-once' }, blueTerminationWaitMinutes: 0 },
      ...(rollout ? { flags: { rollout } } : {}),
      // Many stages in one account and region: keep the public URL's reservation small enough to fit.
      services: { 'greeting-api': { reservedConcurrency: 1 } },
    }));
    c.stages.splice(1, 0, ...extra);
  });
}

describe('AppConfig quotas used by the flags, per account and region', () => {
  test('the example stays far below them: predefined rollouts, 2 applications per target', () => {
    expect(flagQuotaWarnings(fixtureConfig('example'))).toEqual([]);
  });

  test('warns with the numbers when custom rollouts need more than 20 strategies in one account and region', () => {
    // 10 custom stages x 2 services = 20: at the quota, not over it.
    expect(flagQuotaWarnings(withStages(10, { type: 'linear', percent: 25, intervalMinutes: 2, bakeMinutes: 10 }))).toEqual([]);
    const over = flagQuotaWarnings(withStages(11, { type: 'linear', percent: 25, intervalMinutes: 2, bakeMinutes: 10 }));
    expect(over).toEqual([
      expect.stringContaining(
        "feature flags: 111111111111/us-east-1 would hold 22 custom AppConfig deployment strategies (2 services with flags (greeting-api, greeting-web) in stages Test0, Test1, Test2, Test3, Test4, Test5, Test6, Test7, Test8, Test9, Test10), more than AppConfig's default quota of 20: use a predefined rollout there",
      ),
    ]);
    // The same stages with the predefined default rollout create no strategy at all.
    expect(flagQuotaWarnings(withStages(11))).toEqual([]);
  });

  test('warns when more than 100 applications (one per service with flags and target) land in one account and region', () => {
    expect(flagQuotaWarnings(withStages(50))).toEqual([
      expect.stringContaining('111111111111/us-east-1 would hold 102 AppConfig applications'),
    ]);
  });

  test('a config without flags uses none', () => {
    expect(flagQuotaWarnings(fixtureConfig('three-services'))).toEqual([]);
  });
});
