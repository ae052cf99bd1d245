import { alarmsFromTemplate } from '../../lib/simulate/alarms';
import { todayTemplates } from '../../lib/simulate/stacks';

describe('the fixed-threshold alarms before the canary judge, frozen in lib/simulate/today-alarms.json', () => {
  test('are the fixed thresholds CodeDeploy watches: 1% errors, p99 1000 ms, 2 of 3 one-minute periods', () => {
    const lambda = alarmsFromTemplate(todayTemplates().lambda);
    const ecs = alarmsFromTemplate(todayTemplates().ecs);
    expect(lambda).toHaveLength(3);
    expect(ecs).toHaveLength(6);
    for (const a of [...lambda, ...ecs]) {
      expect(a).toMatchObject({
        periodSeconds: 60,
        evaluationPeriods: 3,
        datapointsToAlarm: 2,
        treatMissingData: 'notBreaching',
        comparison: 'GreaterThanThreshold',
      });
    }
    expect(lambda.map((a) => a.threshold).sort()).toEqual([0, 1, 1000]);
    expect(ecs.map((a) => a.threshold).sort()).toEqual([0, 0, 1, 1, 1, 1]);
  });
});
