import { alarmSpec, alarmsFromTemplate } from '../../lib/simulate/alarms';
import {
  AlarmState,
  bindMetric,
  DEFAULT_EVALUATION,
  mixtureQuantile,
  nextState,
  PreparedAlarmSet,
  sampleQuantile,
} from '../../lib/simulate/evaluate';
import { Random } from '../../lib/simulate/random';
import { todayTemplates } from '../../lib/simulate/stacks';
import { trafficFromBuckets } from '../../lib/simulate/traffic';

const LAMBDA_DIMS = [
  { Name: 'FunctionName', Value: { Ref: 'Fn' } },
  { Name: 'Resource', Value: { 'Fn::Join': ['', [{ Ref: 'Fn' }, ':live']] } },
];
const CANARY_DIMS = [{ Name: 'ExecutedVersion', Value: { 'Fn::GetAtt': ['Version', 'Version'] } }, ...LAMBDA_DIMS];

/** A one-metric alarm on the canary's Errors: more than 0 in M of N one-minute periods. */
function errorsAlarm(props: { n: number; m: number; treat: string }) {
  return alarmSpec('Errors', {
    Type: 'AWS::CloudWatch::Alarm',
    Properties: {
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: CANARY_DIMS,
      Statistic: 'Sum',
      Period: 60,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: props.n,
      DatapointsToAlarm: props.m,
      TreatMissingData: props.treat,
    },
  });
}

/**
 * The canary starts at t0 = 600 s (bucket 10) with 50 requests a minute; errors in buckets 10, 11, 12
 * are 1, 0, 1. With the default 60 s delay, bucket k is visible from 60k + 120.
 */
const run = (errors: number[] = [1, 0, 1]) =>
  trafficFromBuckets({
    t0: 600,
    stepMinutes: 10,
    canary: { requests: [...Array(10).fill(0), ...Array(15).fill(50)], errors: [...Array(10).fill(0), ...errors] },
    baseline: { requests: Array(25).fill(450), errors: Array(25).fill(0) },
  });

describe('CloudWatch evaluation, hand-computed', () => {
  test('M of N: 2 of 3 one-minute datapoints, the most recent existing ones', () => {
    const set = new PreparedAlarmSet({ name: 'one', alarms: [errorsAlarm({ n: 3, m: 2, treat: 'notBreaching' })] });
    // At 810 s the visible buckets end at 11: datapoints [bucket 11: 0, bucket 10: 1, bucket 9: none] -> 1 breach.
    expect(set.statesAt(run(), 810)).toEqual({ Errors: 'OK' });
    // At 870 s: [12: 1, 11: 0, 10: 1] -> 2 of 3 breach.
    expect(set.statesAt(run(), 870)).toEqual({ Errors: 'ALARM' });
  });

  test('one metric-math alarm as synthesized today: 100 * errors / invocations > 1, 2 of 3', () => {
    const lambdaErrorRate = alarmsFromTemplate(todayTemplates().lambda).filter((a) => a.logicalId.startsWith('ServiceErrorRateAlarm'));
    expect(lambdaErrorRate).toHaveLength(1);
    const set = new PreparedAlarmSet({ name: 'today', alarms: lambdaErrorRate });
    const name = lambdaErrorRate[0].name;
    // Datapoint 2 at 870 s is bucket 12: 100 * 1 / 50 = 2 (%); datapoints 0 and 1 are not yet published.
    expect(set.valueAt(name, run(), 870, 2)).toBe(2);
    expect(set.valueAt(name, run(), 870, 0)).toBeNaN();
    expect(set.statesAt(run(), 810)[name]).toBe('OK');
    expect(set.statesAt(run(), 870)[name]).toBe('ALARM');
  });

  test('metric delay and CodeDeploy polling: rollback at the first poll after the alarm', () => {
    const alarm = errorsAlarm({ n: 3, m: 2, treat: 'notBreaching' });
    const phases = { evaluation: 30, poll: 45 };
    // Evaluations at 60m + 30; polls at 645, 705, 765, 825, 885: ALARM from the 870 s evaluation.
    const outcome = new PreparedAlarmSet({ name: 'one', alarms: [alarm] }).simulate(run(), new Random(1), phases);
    expect(outcome).toEqual({ result: 'rollback', seconds: 285, inStep: true, exposure: 0.1, alarm: 'Errors' });
    // Without the publication delay every datapoint is visible a minute earlier.
    const noDelay = new PreparedAlarmSet({ name: 'one', alarms: [alarm] }, { ...DEFAULT_EVALUATION, metricDelaySeconds: 0 });
    expect(noDelay.simulate(run(), new Random(1), phases).seconds).toBe(225);
    // A 90 s poll interval polls at 645, 735, 825, 915: the state at 825 is still OK.
    const slowPoll = new PreparedAlarmSet({ name: 'one', alarms: [alarm] }, { ...DEFAULT_EVALUATION, codeDeployPollSeconds: 90 });
    expect(slowPoll.simulate(run(), new Random(1), phases).seconds).toBe(315);
  });

  test('missing data: one breaching minute alarms 3 of 3 only when missing data breaches', () => {
    // Only bucket 12 has traffic, and it has an error: "- - - - X" in the guide's table.
    const traffic = trafficFromBuckets({
      t0: 720,
      stepMinutes: 10,
      canary: { requests: [...Array(12).fill(0), 50], errors: [...Array(12).fill(0), 1] },
      baseline: { requests: Array(25).fill(450), errors: Array(25).fill(0) },
    });
    const state = (treat: string) =>
      new PreparedAlarmSet({ name: treat, alarms: [errorsAlarm({ n: 3, m: 3, treat })] }).statesAt(traffic, 870).Errors;
    expect(state('breaching')).toBe('ALARM');
    expect(state('notBreaching')).toBe('OK');
    expect(state('missing')).toBe('INSUFFICIENT_DATA');
  });

  test("FILL on a delayed metric: the unpublished minute becomes a 0 that hides the published ones (AWS's documented caveat)", () => {
    const filled = alarmSpec('Filled', {
      Type: 'AWS::CloudWatch::Alarm',
      Properties: {
        Metrics: [
          { Id: 'e', Expression: 'FILL(errors, 0)', ReturnData: true },
          {
            Id: 'errors',
            MetricStat: { Metric: { Namespace: 'AWS/Lambda', MetricName: 'Errors', Dimensions: CANARY_DIMS }, Period: 60, Stat: 'Sum' },
            ReturnData: false,
          },
        ],
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
        EvaluationPeriods: 1,
        TreatMissingData: 'notBreaching',
      },
    });
    const set = new PreparedAlarmSet({ name: 'filled', alarms: [filled] });
    expect(set.valueAt('Filled', run([5, 5, 5, 5, 5]), 870, 2)).toBe(5);
    expect(set.statesAt(run([5, 5, 5, 5, 5]), 870).Filled).toBe('OK');
  });

  test('the traffic check holds a canary step that served fewer than minRequests', () => {
    const quiet = trafficFromBuckets({
      t0: 600,
      stepMinutes: 10,
      canary: { requests: [...Array(10).fill(0), ...Array(10).fill(2)], errors: [] },
      baseline: { requests: Array(25).fill(18), errors: [] },
    });
    const set = new PreparedAlarmSet({ name: 'judge', alarms: [errorsAlarm({ n: 1, m: 1, treat: 'notBreaching' })], minRequests: 100 });
    expect(set.simulate(quiet, new Random(1), { evaluation: 30, poll: 45 })).toEqual({
      result: 'held',
      seconds: 600,
      inStep: false,
      exposure: 0.1,
    });
  });
});

describe('high-resolution metrics, hand-computed (10-second buckets)', () => {
  /** Errors >= 1 in 1 of 3 periods of `period` s, on the service's own metric or on Lambda's. */
  const alarm = (namespace: string, period: number, dims: unknown) =>
    alarmSpec(`Errors${period}`, {
      Type: 'AWS::CloudWatch::Alarm',
      Properties: {
        Namespace: namespace,
        MetricName: 'Errors',
        Dimensions: dims,
        Statistic: 'Sum',
        Period: period,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        EvaluationPeriods: 3,
        DatapointsToAlarm: 1,
        TreatMissingData: 'notBreaching',
      },
    });
  const own = alarm('SafeDeploy/Canary', 10, [
    { Name: 'Service', Value: 'orders' },
    { Name: 'Version', Value: '7' },
  ]);
  const lambdaMinute = alarm('AWS/Lambda', 60, CANARY_DIMS);
  // The canary starts at 600 s (bucket 60) with 5 requests per 10 s; its only error is in bucket 62, [620, 630).
  const tenSeconds = trafficFromBuckets({
    t0: 600,
    bucketSeconds: 10,
    stepMinutes: 10,
    canary: { requests: [...Array(60).fill(0), ...Array(90).fill(5)], errors: [...Array(62).fill(0), 1] },
    baseline: { requests: Array(150).fill(45), errors: [] },
  });

  test('a 10-s datapoint is visible 30 s after its end (the default delay); the alarm reads N + 2 datapoints back', () => {
    const set = new PreparedAlarmSet({ name: 'own', alarms: [own] });
    // At 655 s: current bucket 65, visible through floor((655 - 30) / 10) - 1 = 61: no error yet.
    expect(set.statesAt(tenSeconds, 655)).toEqual({ Errors10: 'OK' });
    // At 665 s bucket 62 is visible: datapoint 4 (the oldest of the range of 5) holds the error.
    expect(set.valueAt('Errors10', tenSeconds, 665, 4)).toBe(1);
    expect(set.valueAt('Errors10', tenSeconds, 665, 3)).toBeNaN();
    expect(set.statesAt(tenSeconds, 665)).toEqual({ Errors10: 'ALARM' });
  });

  test("the same traffic through a one-minute alarm: the minute's six buckets, visible a minute after it", () => {
    const set = new PreparedAlarmSet({ name: 'minute', alarms: [lambdaMinute] });
    // Minute 10 = buckets 60-65, visible from 600 + 60 + 60 = 720 s.
    expect(set.statesAt(tenSeconds, 719)).toEqual({ Errors60: 'OK' });
    expect(set.valueAt('Errors60', tenSeconds, 721, 2)).toBe(1);
    expect(set.statesAt(tenSeconds, 721)).toEqual({ Errors60: 'ALARM' });
  });

  test('evaluated every 10 s; CodeDeploy sees ALARM only if a poll falls while it lasts', () => {
    const set = new PreparedAlarmSet({ name: 'own', alarms: [own] });
    // Evaluations at 10k + 5: ALARM from 665 s; at 675 s bucket 62 has left the range of 5 datapoints: OK again.
    expect(set.statesAt(tenSeconds, 675)).toEqual({ Errors10: 'OK' });
    // A poll at 667 s starts the rollback, 67 s after the canary's first request...
    expect(set.simulate(tenSeconds, new Random(1), { evaluation: 5, poll: 67 })).toMatchObject({ result: 'rollback', seconds: 67 });
    // ...polls at 680 and 740 s miss the 10-second ALARM: the judge's windows must breach for longer.
    expect(set.simulate(tenSeconds, new Random(1), { evaluation: 5, poll: 80 })).toMatchObject({ result: 'completed' });
  });

  test("a set's resolution is its finest metric's, the bucket size its traffic needs (the readiness report draws it so)", () => {
    expect(new PreparedAlarmSet({ name: 'both', alarms: [lambdaMinute, own] }).resolution).toBe(10);
    expect(new PreparedAlarmSet({ name: 'minute', alarms: [lambdaMinute] }).resolution).toBe(60);
  });

  test('fails loudly when the traffic is coarser than the metric', () => {
    const minutes = trafficFromBuckets({
      t0: 600,
      stepMinutes: 10,
      canary: { requests: [], errors: [] },
      baseline: { requests: [], errors: [] },
    });
    expect(() => new PreparedAlarmSet({ name: 'own', alarms: [own] }).statesAt(minutes, 700)).toThrow(
      'alarm Errors10 reads metrics stored every 10 s: simulate traffic in buckets of 10 s or a divisor of it, not 60 s',
    );
  });
});

describe('alarm state from datapoints: the guide\'s tables ("How alarm state is evaluated when data is missing")', () => {
  // Each row: the 5 retrieved datapoints oldest first (0 good, X breaching, - missing); the
  // alarm reads the most recent N existing ones, or all existing ones plus missing ones.
  const state = (
    row: string,
    n: number,
    m: number,
    treat: 'missing' | 'ignore' | 'breaching' | 'notBreaching',
    current: AlarmState = 'OK',
  ) => {
    const points = row.split(' ').reverse();
    const existing = points.filter((p) => p !== '-').slice(0, n);
    return nextState(
      { evaluationPeriods: n, datapointsToAlarm: m, treatMissingData: treat },
      current,
      existing.length,
      existing.filter((p) => p === 'X').length,
    );
  };
  test.each([
    ['0 - X - X', 'OK', 'OK', 'OK', 'OK'],
    ['0 - - - -', 'OK', 'OK', 'OK', 'OK'],
    ['- - - - -', 'INSUFFICIENT_DATA', 'retain', 'ALARM', 'OK'],
    ['0 X X - X', 'ALARM', 'ALARM', 'ALARM', 'ALARM'],
    ['- - - - X', 'INSUFFICIENT_DATA', 'retain', 'ALARM', 'OK'],
    // The guide gives ALARM for "missing" here; the simulator gives INSUFFICIENT_DATA (documented deviation).
    ['X - - - -', 'INSUFFICIENT_DATA', 'retain', 'ALARM', 'OK'],
  ])('3 of 3: %s', (row, missing, ignore, breaching, notBreaching) => {
    expect(state(row, 3, 3, 'missing')).toBe(missing);
    // INSUFFICIENT_DATA as the current state marks what "ignore" retains.
    const ignored = state(row, 3, 3, 'ignore', 'INSUFFICIENT_DATA');
    expect(ignored === 'INSUFFICIENT_DATA' ? 'retain' : ignored).toBe(ignore);
    expect(state(row, 3, 3, 'breaching')).toBe(breaching);
    expect(state(row, 3, 3, 'notBreaching')).toBe(notBreaching);
  });
  test.each([
    ['0 - X - X', 'ALARM', 'ALARM', 'ALARM', 'ALARM'],
    ['0 0 X 0 X', 'ALARM', 'ALARM', 'ALARM', 'ALARM'],
    ['0 - X - -', 'OK', 'OK', 'ALARM', 'OK'],
    ['- - - - 0', 'OK', 'OK', 'ALARM', 'OK'],
    ['- - - - X', 'INSUFFICIENT_DATA', 'OK', 'ALARM', 'OK'],
  ])('2 of 3: %s', (row, missing, ignore, breaching, notBreaching) => {
    expect(state(row, 3, 2, 'missing')).toBe(missing);
    expect(state(row, 3, 2, 'ignore')).toBe(ignore);
    expect(state(row, 3, 2, 'breaching')).toBe(breaching);
    expect(state(row, 3, 2, 'notBreaching')).toBe(notBreaching);
  });
  test('ignore keeps the current state when nothing decides', () => {
    expect(state('- - - - -', 3, 3, 'ignore', 'ALARM')).toBe('ALARM');
  });
});

describe('metric roles from the dimensions as synthesized', () => {
  const tgs = ['{"Fn::GetAtt":["Blue","TargetGroupFullName"]}', '{"Fn::GetAtt":["Green","TargetGroupFullName"]}'];
  const lambda = (metricName: string, stat: string, dims: Record<string, string>) =>
    bindMetric({ namespace: 'AWS/Lambda', metricName, stat, dimensions: dims }, tgs);
  test('Lambda: ExecutedVersion is the version being deployed, without it the alias total', () => {
    expect(lambda('Invocations', 'Sum', { FunctionName: 'f', Resource: 'f:live', ExecutedVersion: '7' })).toMatchObject({
      role: 'canary',
      quantity: 'requests',
    });
    expect(lambda('Errors', 'Sum', { FunctionName: 'f', Resource: 'f:live' })).toMatchObject({
      role: 'total',
      quantity: 'errors',
      existsWhen: 'requests',
    });
    expect(lambda('Duration', 'p99', { FunctionName: 'f', Resource: 'f:live' })).toMatchObject({
      role: 'total',
      quantity: 'latency',
      percentile: 0.99,
      scale: 1,
    });
  });
  test('ALB: each target group is one side; 5xx datapoints exist only with errors; latency in seconds', () => {
    const alb = (metricName: string, stat: string, tg: string) =>
      bindMetric({ namespace: 'AWS/ApplicationELB', metricName, stat, dimensions: { LoadBalancer: 'lb', TargetGroup: tg } }, tgs);
    expect(alb('RequestCount', 'Sum', tgs[1])).toMatchObject({ role: 'tg1', quantity: 'requests' });
    expect(alb('HTTPCode_Target_5XX_Count', 'Sum', tgs[0])).toMatchObject({ role: 'tg0', existsWhen: 'errors' });
    expect(alb('TargetResponseTime', 'p90', tgs[0])).toMatchObject({ quantity: 'latency', percentile: 0.9, scale: 0.001 });
  });
  test("the service's own metrics: Version is the version being deployed, stored every 10 s", () => {
    const own = (metricName: string, stat: string, dimensions: Record<string, string>) =>
      bindMetric({ namespace: 'SafeDeploy/Canary', metricName, stat, dimensions }, tgs);
    expect(own('Requests', 'Sum', { Service: 's', Version: '3' })).toMatchObject({ role: 'canary', quantity: 'requests', resolution: 10 });
    expect(own('Errors', 'Sum', { Service: 's' })).toMatchObject({ role: 'total', existsWhen: 'requests', resolution: 10 });
    expect(own('Latency', 'p90', { Service: 's' })).toMatchObject({ quantity: 'latency', percentile: 0.9, scale: 1 });
    expect(() => own('Requests', 'Sum', { Version: '3' })).toThrow(/without the Service dimension has no role/);
    expect(lambda('Errors', 'Sum', { FunctionName: 'f', Resource: 'f:live' })).toMatchObject({ resolution: 60 });
  });
  test('fails loudly on a metric without a role or a statistic it does not simulate', () => {
    expect(() => bindMetric({ namespace: 'AWS/SQS', metricName: 'NumberOfMessagesSent', stat: 'Sum', dimensions: {} }, tgs)).toThrow(
      /has no role in the simulation/,
    );
    expect(() => lambda('Invocations', 'Average', { FunctionName: 'f', Resource: 'f:live' })).toThrow(
      /only the Sum of a count is simulated/,
    );
    expect(() => lambda('Duration', 'tm99', { FunctionName: 'f', Resource: 'f:live' })).toThrow(/latency statistic tm99 is not simulated/);
    // A metric named like an object's own members is still unknown, not a lookup of Object.prototype.
    for (const name of ['constructor', 'toString', 'valueOf']) {
      expect(() => lambda(name, 'Sum', { FunctionName: 'f', Resource: 'f:live' })).toThrow(/has no role in the simulation/);
    }
  });
});

describe('alarm templates the simulator refuses', () => {
  const metric = (period: number) => ({
    Id: `m${period}`,
    MetricStat: { Metric: { Namespace: 'AWS/Lambda', MetricName: 'Errors', Dimensions: CANARY_DIMS }, Period: period, Stat: 'Sum' },
    ReturnData: false,
  });
  test('metrics with different periods', () => {
    expect(() =>
      alarmSpec('Mixed', {
        Type: 'AWS::CloudWatch::Alarm',
        Properties: {
          Metrics: [{ Id: 'e', Expression: 'm60 + m300' }, metric(60), metric(300)],
          Threshold: 1,
          ComparisonOperator: 'GreaterThanThreshold',
          EvaluationPeriods: 1,
        },
      }),
    ).toThrow('alarm Mixed: its metrics use different periods (60, 300 s); CloudWatch requires one');
  });
  test('an unparseable expression fails when the template is read', () => {
    expect(() =>
      alarmSpec('Bad', {
        Type: 'AWS::CloudWatch::Alarm',
        Properties: {
          Metrics: [{ Id: 'e', Expression: 'm60 +' }, metric(60)],
          Threshold: 1,
          ComparisonOperator: 'GreaterThanThreshold',
          EvaluationPeriods: 1,
        },
      }),
    ).toThrow(/expected a number, an id, a function/);
  });
  test('composite alarms and anomaly-detection comparisons', () => {
    expect(() => alarmSpec('C', { Type: 'AWS::CloudWatch::CompositeAlarm', Properties: {} })).toThrow(
      'alarm C: composite alarms are not simulated (CodeDeploy is given metric alarms)',
    );
    expect(() =>
      alarmSpec('A', {
        Type: 'AWS::CloudWatch::Alarm',
        Properties: { ComparisonOperator: 'LessThanLowerOrGreaterThanUpperThreshold', EvaluationPeriods: 1 },
      }),
    ).toThrow('alarm A: ComparisonOperator "LessThanLowerOrGreaterThanUpperThreshold" is not supported by the simulator');
  });
});

describe('latency percentiles of a window', () => {
  test('one lognormal component: the exact quantile', () => {
    expect(mixtureQuantile([Math.log(80)], [100], 1, 0.5, 0.5)).toBeCloseTo(80, 6);
  });
  test('a mixture lies between its components and matches the mixture CDF', () => {
    // Half at median 80, half at median 160: the mixture's median is their geometric middle.
    expect(mixtureQuantile([Math.log(80), Math.log(160)], [50, 50], 2, 0.5, 0.5)).toBeCloseTo(Math.sqrt(80 * 160), 1);
  });
  test('the p99 of one request is that request: a uniform draw, median near the distribution median', () => {
    const rng = new Random(7);
    const draws = Array.from({ length: 2001 }, () => sampleQuantile([Math.log(80)], [1], 1, 0.5, 1, 0.99, rng)).sort((a, b) => a - b);
    expect(draws[1000]).toBeGreaterThan(70);
    expect(draws[1000]).toBeLessThan(90);
  });
});
