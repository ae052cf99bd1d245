import { simulateService } from '../../lib/report/simulated';
import { judgeTemplateVariants } from '../../lib/simulate/stacks';
import { TestApps } from '../support/app';

const apps = new TestApps();
afterAll(() => apps.cleanup());

test('a service with its own 10-second metrics is simulated on 10-second traffic, its fast judge included', () => {
  const [withOwn, without] = judgeTemplateVariants([{ highResolution: true }, {}], apps.create());
  const input = (template: typeof withOwn.lambda) => ({
    alarms: Object.entries(template.Resources ?? {})
      .filter(([, r]) => r.Type === 'AWS::CloudWatch::Alarm')
      .map(([logicalId, resource]) => ({ logicalId, resource: resource as { Type: string; Properties?: Record<string, unknown> } })),
    shift: { type: 'canary' as const, percent: 10, intervalMinutes: 10 },
    watchedAfterShiftMinutes: 2,
    rps: 200,
    rpsSource: 'default' as const,
    minRequests: 100,
    runs: 100,
  });
  const errors = (template: typeof withOwn.lambda) => {
    const r = simulateService(input(template));
    if (!('scenarios' in r)) throw new Error(`not simulated: ${JSON.stringify(r)}`);
    expect(r.notSimulated).toEqual([]);
    return r.scenarios.find((s) => s.id === 'errors-2pt')!;
  };
  const fast = errors(withOwn.lambda);
  const slow = errors(without.lambda);
  expect(fast.rolledBackInStep).toBe(1);
  expect(fast.medianSeconds!).toBeLessThan(150);
  expect(slow.medianSeconds!).toBeGreaterThan(fast.medianSeconds! + 30);
});
