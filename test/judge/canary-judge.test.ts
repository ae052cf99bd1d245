import { Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { CANARY_JUDGE_METADATA, CanaryJudge, CanaryJudgeProps, JUDGE_UNDERPOWERED, JudgeTraffic } from '../../lib/constructs/canary-judge';
import { alarmsFromTemplate } from '../../lib/simulate/alarms';
import { compileAlarm } from '../../lib/simulate/metric-math';
import { TestApps } from '../support/app';

const apps = new TestApps();
afterAll(() => apps.cleanup());

function lambdaStack(props: Partial<CanaryJudgeProps> = {}) {
  const stack = new Stack(apps.create(), 'L');
  const fn = new lambda.Function(stack, 'Fn', {
    code: lambda.Code.fromInline('exports.handler = async () => 1;'),
    handler: 'index.handler',
    runtime: lambda.Runtime.NODEJS_22_X,
  });
  const version = fn.currentVersion;
  new lambda.Alias(stack, 'Alias', { aliasName: 'live', version });
  const judge = new CanaryJudge(stack, 'Judge', {
    traffic: JudgeTraffic.lambdaAlias({ function: fn, aliasName: 'live', version }),
    canaryPercent: 10,
    ...props,
  });
  return { stack, judge, fn: stack.getLogicalId(fn.node.defaultChild as lambda.CfnFunction) };
}

function ecsStack(props: Partial<CanaryJudgeProps> = {}) {
  const stack = new Stack(apps.create(), 'E');
  const vpc = new ec2.Vpc(stack, 'Vpc', {
    maxAzs: 2,
    natGateways: 0,
    subnetConfiguration: [{ name: 'Public', subnetType: ec2.SubnetType.PUBLIC }],
  });
  const lb = new elbv2.ApplicationLoadBalancer(stack, 'Lb', { vpc, internetFacing: true });
  const tg = (id: string) =>
    new elbv2.ApplicationTargetGroup(stack, id, {
      vpc,
      port: 8080,
      protocol: elbv2.ApplicationProtocol.HTTP,
      targetType: elbv2.TargetType.IP,
    });
  const blue = tg('Blue');
  const green = tg('Green');
  lb.addListener('Prod', { port: 80, defaultTargetGroups: [blue], open: true });
  lb.addListener('Test', { port: 8080, defaultTargetGroups: [green], open: false });
  const judge = new CanaryJudge(stack, 'Judge', {
    traffic: JudgeTraffic.applicationTargetGroups({ first: blue, second: green }),
    canaryPercent: 10,
    ...props,
  });
  return { stack, judge };
}

const expr = (id: string, expression: string | RegExp) =>
  Match.objectLike({ Id: id, Expression: typeof expression === 'string' ? expression : Match.stringLikeRegexp(expression.source) });
const stat = (id: string, metricName: string, statistic: string, period: number, dims: unknown) =>
  Match.objectLike({
    Id: id,
    ReturnData: false,
    MetricStat: { Metric: { Namespace: Match.anyValue(), MetricName: metricName, Dimensions: dims }, Period: period, Stat: statistic },
  });

describe('CanaryJudge on a Lambda alias', () => {
  const { stack, judge, fn } = lambdaStack();
  const template = Template.fromStack(stack);
  const aliasDims = [
    { Name: 'FunctionName', Value: { Ref: fn } },
    { Name: 'Resource', Value: { 'Fn::Join': ['', [{ Ref: fn }, ':live']] } },
  ];
  const canaryDims = Match.arrayWith([Match.objectLike({ Name: 'ExecutedVersion' }), ...aliasDims]);
  const judged = {
    ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    EvaluationPeriods: 1,
    DatapointsToAlarm: 1,
    TreatMissingData: 'notBreaching',
  };

  test('four alarms for the deployment group', () => {
    template.resourceCountIs('AWS::CloudWatch::Alarm', 4);
    expect(judge.alarms).toEqual([judge.errorAlarm, judge.fastErrorAlarm, judge.latencyAlarm, judge.catastropheAlarm]);
  });

  test.each([
    ['ErrorJudge', 600],
    ['FastErrorJudge', 60],
  ])("%s: the significance of the canary's errors, gated by traffic, share and effect size, over %i s", (id, period) => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      ...judged,
      Threshold: 4.5,
      Metrics: Match.arrayWith([
        expr(
          'expr_1',
          'IF((creq >= 100) AND (xreq >= 100) AND (sh <= 0.12) AND ((pc - pb) >= 0.001) AND ((pc * IF(sh < 0.1, sh / 0.1, 1)) >= (1.75 * pb)), ' +
            '(3 * (FILL(cerr, 0) ^ 0.5) * (1 - 1 / (9 * FILL(cerr, 0)) - (((FILL(cerr, 0) + FILL(xerr, 0)) * sh / FILL(cerr, 0)) ^ (1 / 3)))), 0)',
        ),
        expr('pc', 'FILL(cerr, 0) / creq'),
        stat('creq', 'Invocations', 'Sum', period, canaryDims),
        stat('cerr', 'Errors', 'Sum', period, canaryDims),
        expr('pb', 'FILL(xerr, 0) / xreq'),
        expr('xreq', 'treq - creq'),
        stat('treq', 'Invocations', 'Sum', period, aliasDims),
        expr('xerr', 'FILL(terr, 0) - FILL(cerr, 0)'),
        stat('terr', 'Errors', 'Sum', period, aliasDims),
        expr('sh', 'creq / (creq + xreq)'),
      ]),
    });
    expect(
      stack.getLogicalId(judge[id === 'ErrorJudge' ? 'errorAlarm' : 'fastErrorAlarm']!.node.defaultChild as cloudwatch.CfnAlarm),
    ).toMatch(new RegExp(`^Judge${id}`));
  });

  test('LatencyJudge: canary p90 against the alias p90, ratio and floor, over 5 minutes', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      ...judged,
      Threshold: 1.5,
      Metrics: Match.arrayWith([
        expr(
          'expr_1',
          'IF((creq >= 100) AND (xreq >= 100) AND (sh >= 0.08) AND (sh <= 0.12) AND (xlat > 0) AND (clat >= (1.5 * xlat)) AND ((clat - xlat) >= 50), clat / xlat, 0)',
        ),
        stat('clat', 'Duration', 'p90', 300, canaryDims),
        stat('xlat', 'Duration', 'p90', 300, aliasDims),
      ]),
    });
  });

  test('Catastrophe: the canary alone fails half its requests, at least 2, over 10 minutes', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      ...judged,
      Threshold: 50,
      Metrics: Match.arrayWith([
        expr('expr_1', 'IF((err0 >= 2) AND (err0 >= (0.5 * req0)), 100 * err0 / req0, 0)'),
        stat('req0', 'Invocations', 'Sum', 600, canaryDims),
        stat('err0', 'Errors', 'Sum', 600, canaryDims),
      ]),
    });
  });

  test('every alarm reads a window nothing has been published for as missing, so it never hides published ones', () => {
    for (const a of alarmsFromTemplate(template.toJSON())) {
      expect(compileAlarm(a.entries, a.returnId, () => () => NaN)(0)).toBeNaN();
    }
  });

  test('the traffic check: the canary request count and the minimum', () => {
    expect(judge.minRequests).toBe(100);
    const count = judge.canaryRequestCount(Duration.minutes(10));
    expect(count.expression).toBe('FILL(creq, 0)');
    expect(count.period.toMinutes()).toBe(10);
    expect(Object.keys(count.usingMetrics)).toEqual(['creq']);
  });
});

describe('CanaryJudge on two target groups (ECS blue/green)', () => {
  const { stack } = ecsStack({ alarmNamePrefix: 'Prod-EcsService', settings: { latencyFloorMs: 40 } });
  const template = Template.fromStack(stack);
  const tgDims = (tg: string) =>
    Match.arrayWith([{ Name: 'TargetGroup', Value: { 'Fn::GetAtt': [Match.stringLikeRegexp(`^${tg}`), 'TargetGroupFullName'] } }]);

  test('named alarms; the canary is the target group with fewer requests in each window', () => {
    // (Match.arrayWith keeps the rendered order: the expression, then each entry where first used.)
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'Prod-EcsService-ErrorJudge',
      Metrics: Match.arrayWith([
        expr('creq', 'IF(isa, areq, breq)'),
        expr('isa', 'areq <= breq'),
        stat('areq', 'RequestCount', 'Sum', 600, tgDims('Blue')),
        stat('breq', 'RequestCount', 'Sum', 600, tgDims('Green')),
        expr('cerr', 'IF(isa, FILL(aerr, 0), FILL(berr, 0))'),
        stat('aerr', 'HTTPCode_Target_5XX_Count', 'Sum', 600, tgDims('Blue')),
        stat('berr', 'HTTPCode_Target_5XX_Count', 'Sum', 600, tgDims('Green')),
        expr('xreq', 'IF(isa, breq, areq)'),
        expr('xerr', 'IF(isa, FILL(berr, 0), FILL(aerr, 0))'),
      ]),
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: 'Prod-EcsService-FastErrorJudge', Threshold: 4.5 });
  });

  test('latency in seconds: the floor is converted', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'Prod-EcsService-LatencyJudge',
      Metrics: Match.arrayWith([
        expr('expr_1', /\(\(clat - xlat\) >= 0\.04\)/),
        expr('clat', 'IF(isa, alat, blat)'),
        stat('alat', 'TargetResponseTime', 'p90', 300, tgDims('Blue')),
      ]),
    });
  });

  test('the catastrophe alarm watches both target groups, whatever the other does', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'Prod-EcsService-Catastrophe',
      Threshold: 50,
      Metrics: Match.arrayWith([
        expr('expr_1', 'MAX([cat0, cat1])'),
        expr('cat0', 'IF((err0 >= 2) AND (err0 >= (0.5 * req0)), 100 * err0 / req0, 0)'),
        stat('req0', 'RequestCount', 'Sum', 600, tgDims('Blue')),
        expr('cat1', 'IF((err1 >= 2) AND (err1 >= (0.5 * req1)), 100 * err1 / req1, 0)'),
        stat('req1', 'RequestCount', 'Sum', 600, tgDims('Green')),
      ]),
    });
  });

  test('within the limits of PutMetricAlarm (10 metrics, 10 expressions) and of CodeDeploy (10 alarms)', () => {
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm'));
    expect(alarms.length).toBeLessThanOrEqual(10);
    for (const a of alarms) {
      const metrics = a.Properties.Metrics as Array<{ Expression?: string }>;
      expect(metrics.filter((m) => m.Expression === undefined).length).toBeLessThanOrEqual(10);
      expect(metrics.filter((m) => m.Expression !== undefined).length).toBeLessThanOrEqual(10);
    }
  });

  test('every alarm reads a window nothing has been published for as missing (no FILL on request counts)', () => {
    for (const a of alarmsFromTemplate(template.toJSON())) {
      expect(compileAlarm(a.entries, a.returnId, () => () => NaN)(0)).toBeNaN();
    }
  });
});

describe('CanaryJudge synth-time checks', () => {
  test('warns when the canary step cannot catch a +2-point regression at the expected traffic', () => {
    const { stack } = lambdaStack({ expectedTraffic: { requestsPerSecond: 5, canaryStep: Duration.minutes(10) } });
    Annotations.fromStack(stack).hasWarning(
      '/L/Judge',
      Match.stringLikeRegexp(
        `CanaryJudge: at 5 requests/s with 10% canary, a 2-point error increase over 0.2% is caught with probability 0\\.\\d\\d \\(want 0.95\\): use errorWindowMinutes >= \\d+ and a canary step of at least \\d+ minutes.*${JUDGE_UNDERPOWERED}`,
      ),
    );
  });
  test('stays quiet when the traffic suffices', () => {
    const { stack } = lambdaStack({ expectedTraffic: { requestsPerSecond: 200, canaryStep: Duration.minutes(10) } });
    Annotations.fromStack(stack).hasNoWarning('/L/Judge', Match.anyValue());
  });
  test('fails when the canary percentage is not a canary', () => {
    expect(() => lambdaStack({ canaryPercent: 60 })).toThrow(
      "Invalid CanaryJudge properties:\n  - canaryPercent: 60 is not a canary share the judge can use: use the canary step's percentage, above 0 and below 50, e.g. 10",
    );
  });
  test('fails when the alarm name prefix is unusable', () => {
    expect(() => lambdaStack({ alarmNamePrefix: 'prod\u00e9' })).toThrow(
      'alarmNamePrefix: "prodé" is not usable in an alarm name: use 1 to 200 printable ASCII characters',
    );
  });
  test('fails when a count is not a Sum or a latency is a count', () => {
    const m = (metricName: string, statistic: string) => new cloudwatch.Metric({ namespace: 'X', metricName, statistic });
    const stack = new Stack(apps.create(), 'S');
    expect(
      () =>
        new CanaryJudge(stack, 'Judge', {
          traffic: JudgeTraffic.canaryAndBaseline({
            canary: { requests: m('R', 'Average'), errors: m('E', 'Sum'), latency: m('L', 'SampleCount') },
            baseline: { requests: m('R', 'Sum'), errors: m('E', 'Sum'), latency: m('L', 'p90') },
          }),
          canaryPercent: 10,
        }),
    ).toThrow(
      'traffic.canary.requests: statistic "Average" cannot be pooled over a window: use "Sum"\n  - traffic.canary.latency: statistic "SampleCount" is a count, not a latency: use a percentile such as "p90"',
    );
  });
  test('fails with the settings problems', () => {
    expect(() => lambdaStack({ settings: { zThreshold: 1 } })).toThrow('settings.zThreshold: 1 is not a usable z threshold');
  });
});

test('records its share, minimum and expected traffic in the assembly, for the readiness report', () => {
  const entries = (judge: CanaryJudge) => judge.node.metadata.filter((m) => m.type === CANARY_JUDGE_METADATA).map((m) => m.data);
  expect(entries(lambdaStack({ settings: { minRequests: 250 } }).judge)).toEqual([{ canaryPercent: 10, minRequests: 250 }]);
  expect(entries(ecsStack({ expectedTraffic: { requestsPerSecond: 200, canaryStep: Duration.minutes(10) } }).judge)).toEqual([
    { canaryPercent: 10, minRequests: 100, expectedRequestsPerSecond: 200 },
  ]);
});

describe("CanaryJudge with the service's own high-resolution metrics", () => {
  const service = { Name: 'Service', Value: 'orders' };
  const version = { Name: 'Version', Value: '7' };
  const { stack, judge } = ecsStack({
    highResolutionTraffic: JudgeTraffic.embeddedMetrics({ service: 'orders', version: '7' }),
    alarmNamePrefix: 'prod-orders',
  });
  const template = Template.fromStack(stack);

  test('adds a fifth alarm beside the one-minute judges, which still read the metrics AWS publishes', () => {
    expect(judge.alarms).toEqual([
      judge.errorAlarm,
      judge.fastErrorAlarm,
      judge.highResolutionErrorAlarm,
      judge.latencyAlarm,
      judge.catastropheAlarm,
    ]);
    template.resourceCountIs('AWS::CloudWatch::Alarm', 5);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'prod-orders-FastErrorJudge',
      Metrics: Match.arrayWith([
        Match.objectLike({ MetricStat: Match.objectLike({ Metric: Match.objectLike({ MetricName: 'RequestCount' }) }) }),
      ]),
    });
  });

  test('HighResErrorJudge: the same test over 30 s of SafeDeploy/Canary metrics, 1 breaching of 3 windows', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'prod-orders-HighResErrorJudge',
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Threshold: 4.5,
      EvaluationPeriods: 3,
      DatapointsToAlarm: 1,
      TreatMissingData: 'notBreaching',
      Metrics: Match.arrayWith([
        expr('expr_1', /^IF\(\(creq >= 100\) AND \(xreq >= 100\) AND \(sh <= 0\.12\)/),
        stat('creq', 'Requests', 'Sum', 30, [service, version]),
        stat('cerr', 'Errors', 'Sum', 30, [service, version]),
        expr('xreq', 'treq - creq'),
        stat('treq', 'Requests', 'Sum', 30, [service]),
        stat('terr', 'Errors', 'Sum', 30, [service]),
      ]),
    });
  });

  test('a 10-second window when asked; any other is refused with the fix', () => {
    const short = lambdaStack({
      highResolutionTraffic: JudgeTraffic.embeddedMetrics({ service: 's', version: '1' }),
      settings: { highResolutionWindowSeconds: 10 },
    });
    Template.fromStack(short.stack).hasResourceProperties('AWS::CloudWatch::Alarm', {
      Metrics: Match.arrayWith([stat('creq', 'Requests', 'Sum', 10, Match.anyValue())]),
    });
    expect(() => lambdaStack({ settings: { highResolutionWindowSeconds: 20 } })).toThrow(
      'settings.highResolutionWindowSeconds: 20 is not a high-resolution alarm period: use 10 or 30 (seconds), e.g. 30',
    );
  });

  test('records its window in the assembly', () => {
    expect(judge.node.metadata.filter((m) => m.type === CANARY_JUDGE_METADATA).map((m) => m.data)).toEqual([
      { canaryPercent: 10, minRequests: 100, highResolutionWindowSeconds: 30 },
    ]);
  });
});
