import { alarmsFromTemplate } from '../../lib/simulate/alarms';
import { todayTemplates } from '../../lib/simulate/stacks';
import { synthesizeTodayTemplates } from '../../lib/simulate/today';
import { TestApps } from '../support/app';

const apps = new TestApps();
afterAll(() => apps.cleanup());

describe("today's alarms, frozen in lib/simulate/today-alarms.json", () => {
  // When the service constructs move to the canary judge, this fixture stays as the "before" of
  // npm run simulate and this check is dropped (docs/canary-judge.md, "Wiring").
  test('are what the production Lambda and ECS service stacks synthesize (regenerate: npm run simulate -- --write-today)', () => {
    expect(synthesizeTodayTemplates(apps.create())).toEqual(todayTemplates());
  });

  test('are the fixed thresholds CodeDeploy watches: 1% errors, p99 1000 ms, 2 of 3 one-minute periods', () => {
    const lambda = alarmsFromTemplate(todayTemplates().lambda);
    const ecs = alarmsFromTemplate(todayTemplates().ecs);
    expect(lambda).toHaveLength(3);
    expect(ecs).toHaveLength(6);
    for (const a of [...lambda, ...ecs]) {
      expect(a).toMatchObject({ periodSeconds: 60, evaluationPeriods: 3, datapointsToAlarm: 2, treatMissingData: 'notBreaching', comparison: 'GreaterThanThreshold' });
    }
    expect(lambda.map((a) => a.threshold).sort()).toEqual([0, 1, 1000]);
    expect(ecs.map((a) => a.threshold).sort()).toEqual([0, 0, 1, 1, 1, 1]);
  });
});
