import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { Stack, Stage } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { markStageType } from '../../lib/policy';
import { buildReport, formatReport, metricAlarmDetectionSeconds, ServiceReport } from '../../lib/report';
import { EcsServiceStack } from '../../lib/stacks/ecs-service-stack';
import { LambdaServiceStack } from '../../lib/stacks/lambda-service-stack';
import { PlatformStack } from '../../lib/stacks/platform-stack';
import { TestApps } from '../support/app';
import { fixtureService } from '../support/fixtures';

const apps = new TestApps();
afterAll(() => apps.cleanup());

function metricAlarm(stack: Stack, id: string, period: number, evaluationPeriods: number, datapointsToAlarm?: number): cloudwatch.CfnAlarm {
  return new cloudwatch.CfnAlarm(stack, id, {
    alarmName: `${stack.stackName}-${id}`,
    namespace: 'AWS/Lambda',
    metricName: 'Errors',
    statistic: 'Sum',
    period,
    evaluationPeriods,
    datapointsToAlarm,
    threshold: 1,
    comparisonOperator: 'GreaterThanOrEqualToThreshold',
  });
}

/** Alias + deployment group + alarms, all as L1s: the report reads only the templates. */
function lambdaStack(stage: Stage, config: string, alarms: (s: Stack) => cloudwatch.CfnAlarm | cloudwatch.CfnCompositeAlarm): void {
  const stack = new Stack(stage, 'LambdaService');
  const app = new codedeploy.CfnApplication(stack, 'App', { computePlatform: 'Lambda' });
  const alarm = alarms(stack);
  const dg = new codedeploy.CfnDeploymentGroup(stack, 'Deployment', {
    applicationName: app.ref,
    serviceRoleArn: 'arn:aws:iam::111111111111:role/codedeploy',
    deploymentStyle: { deploymentType: 'BLUE_GREEN', deploymentOption: 'WITH_TRAFFIC_CONTROL' },
    deploymentConfigName: config,
    alarmConfiguration: { enabled: true, alarms: [{ name: alarm.ref }] },
    autoRollbackConfiguration: { enabled: true, events: ['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_ALARM'] },
  });
  const alias = new lambda.CfnAlias(stack, 'Live', { functionName: 'fn', functionVersion: '1', name: 'live' });
  alias.cfnOptions.updatePolicy = { codeDeployLambdaAliasUpdate: { applicationName: app.ref, deploymentGroupName: dg.ref } };
}

let outdir: string;
let reports: ServiceReport[];
beforeAll(() => {
  const app = apps.create();
  outdir = app.outdir;
  const beta = new Stage(app, 'Beta-us-east-1');
  markStageType(beta, 'pre-production');
  lambdaStack(beta, 'CodeDeployDefault.LambdaCanary10Percent5Minutes', (s) => metricAlarm(s, 'Errors', 60, 2, 2));

  const prod = new Stage(app, 'Prod-Wave1-us-east-1');
  markStageType(prod, 'production', {
    bake: { minutes: 30, minRequests: 1000 },
    deploymentWindow: {
      timeZone: 'Europe/Berlin',
      windows: [{ days: ['MON', 'TUE'], start: '09:00', end: '16:00' }],
      blockedDates: ['2026-12-24'],
    },
  });
  lambdaStack(prod, 'CodeDeployDefault.LambdaCanary10Percent15Minutes', (s) => {
    const fast = metricAlarm(s, 'ErrorRate', 60, 2, 2);
    const slow = metricAlarm(s, 'Latency', 300, 1);
    return new cloudwatch.CfnCompositeAlarm(s, 'Health', {
      alarmName: 'Prod-Wave1-us-east-1-LambdaService-Health',
      alarmRule: `ALARM(${fast.attrArn}) OR ALARM(${slow.attrArn})`,
    });
  });
  const ecsStack = new Stack(prod, 'EcsService');
  const svc = new ecs.CfnService(ecsStack, 'Service', { cluster: 'c', desiredCount: 2, deploymentController: { type: 'CODE_DEPLOY' } });
  const ecsAlarm = metricAlarm(ecsStack, 'Errors5xx', 60, 1);
  new codedeploy.CfnDeploymentGroup(ecsStack, 'Deployment', {
    applicationName: 'ecs-app',
    serviceRoleArn: 'arn:aws:iam::111111111111:role/codedeploy',
    deploymentConfigName: 'CodeDeployDefault.ECSLinear10PercentEvery1Minutes',
    ecsServices: [{ serviceName: svc.attrName, clusterName: 'c' }],
    alarmConfiguration: { enabled: true, alarms: [{ name: ecsAlarm.ref }] },
    autoRollbackConfiguration: { enabled: true, events: ['DEPLOYMENT_STOP_ON_ALARM'] },
  });
  app.synth();
  reports = buildReport(outdir);
});

const find = (stage: string, stackSuffix: string) => reports.find((r) => r.stage === stage && r.stack.endsWith(stackSuffix))!;

test('the detection model: (M+1) x period + 60 s delay + 60 s evaluation + 60 s CodeDeploy poll', () => {
  expect(metricAlarmDetectionSeconds(60, 2)).toBe(360);
  expect(metricAlarmDetectionSeconds(300, 1)).toBe(780);
  expect(metricAlarmDetectionSeconds(10, 3)).toBe(40 + 60 + 10 + 60);
});

test('production Lambda canary 10%/15 min behind a composite alarm: slowest child counts, caught, 1.3 full-traffic minutes', () => {
  const r = find('Prod-Wave1-us-east-1', '/LambdaService');
  expect(r).toMatchObject({
    model: 'hand',
    handModelReason: expect.stringMatching(
      /^the simulator can evaluate none of the alarms \(Prod-Wave1-us-east-1-LambdaService-Health: alarm Health: composite alarms are not simulated/,
    ),
    stageType: 'production',
    kind: 'lambda-alias',
    deploymentConfig: 'CodeDeployDefault.LambdaCanary10Percent15Minutes',
    shift: { type: 'canary', percent: 10, intervalMinutes: 15 },
    worstCaseToRollbackSeconds: 780,
    deploymentMinutes: 15,
    caughtByCanary: true,
    shareAtRollbackPercent: 10,
    exposureTrafficMinutes: 1.3,
    bake: { minutes: 30, minRequests: 1000 },
  });
  expect(r.alarms).toEqual([
    {
      name: 'Prod-Wave1-us-east-1-LambdaService-Health',
      kind: 'composite',
      detectionSeconds: 780,
      children: [
        expect.objectContaining({ periodSeconds: 60, evaluationPeriods: 2, datapointsToAlarm: 2, detectionSeconds: 360 }),
        expect.objectContaining({ periodSeconds: 300, evaluationPeriods: 1, datapointsToAlarm: 1, detectionSeconds: 780 }),
      ],
    },
  ]);
});

test('production ECS linear 10% every minute: rollback at 5 min with 50% shifted, 1.5 full-traffic minutes', () => {
  expect(find('Prod-Wave1-us-east-1', '/EcsService')).toMatchObject({
    model: 'hand',
    handModelReason: 'the simulator models one canary step (or all at once), not a linear shift',
    kind: 'ecs-service',
    shift: { type: 'linear', percent: 10, intervalMinutes: 1 },
    worstCaseToRollbackSeconds: 300,
    deploymentMinutes: 9,
    caughtByCanary: true,
    shareAtRollbackPercent: 50,
    exposureTrafficMinutes: 1.5,
  });
});

test('pre-production canary of 5 min with a 6 min alarm: flagged as not caught by the canary', () => {
  const r = find('Beta-us-east-1', '/LambdaService');
  expect(r).toMatchObject({
    model: 'hand',
    handModelReason: 'pre-production stage: only production services are simulated',
    stageType: 'pre-production',
    worstCaseToRollbackSeconds: 360,
    deploymentMinutes: 5,
    caughtByCanary: false,
    shareAtRollbackPercent: 100,
    exposureTrafficMinutes: 1.5,
  });
  expect(r.bake).toBeUndefined();
});

test('text output names stage, config, alarms, numbers, bake and window', () => {
  const text = formatReport(reports);
  expect(text).toContain('Prod-Wave1-us-east-1 (production) Prod-Wave1-us-east-1/LambdaService lambda-alias Live');
  expect(text).toContain(
    '  deployment config: CodeDeployDefault.LambdaCanary10Percent15Minutes (canary 10% for 15 min, then 100%; done after 15 min)',
  );
  expect(text).toContain('  alarm Prod-Wave1-us-east-1-LambdaService-Health: composite of 2, worst-case detection 13 min');
  expect(text).toContain(
    '    child Prod-Wave1-us-east-1-LambdaService-ErrorRate: period 60s, 2 of 2 datapoints, worst-case detection 6 min',
  );
  expect(text).toContain('  worst case from first errors to rollback start: 13 min');
  expect(text).toContain('  exposure before rollback: 10% of traffic at rollback, 1.3 full-traffic minutes');
  expect(text).toContain('  bake: 30 min and 1000 requests');
  expect(text).toContain('  deployment window: MON,TUE 09:00-16:00 Europe/Berlin, blocked 2026-12-24');
  expect(text).toContain(
    '  caught by canary: NO - the deployment completes before the alarms can fire; only the bake gate and pipeline rollback remain',
  );
  expect(text).toContain('  hand model (worst case), not simulated: pre-production stage: only production services are simulated');
});

test('bin/report.ts prints JSON over a synthesized assembly', () => {
  const out = execFileSync(
    process.execPath,
    ['--import', 'tsx', path.join(__dirname, '..', '..', 'bin', 'report.ts'), '--app', outdir, '--json'],
    { encoding: 'utf-8' },
  );
  const json = JSON.parse(out) as ServiceReport[];
  expect(json).toHaveLength(3);
  expect(json.map((r) => r.exposureTrafficMinutes).sort()).toEqual([1.3, 1.5, 1.5]);
});

test('an alias naming its deployment group by DeploymentGroupName is reported with that group, as the policy finds it', () => {
  const app = apps.create();
  const stack = new Stack(new Stage(app, 'Beta-us-west-2'), 'LambdaService');
  const alarm = metricAlarm(stack, 'Errors', 60, 1);
  new codedeploy.CfnDeploymentGroup(stack, 'Deployment', {
    applicationName: 'app',
    serviceRoleArn: 'arn:aws:iam::111111111111:role/codedeploy',
    deploymentGroupName: 'orders-dg',
    deploymentConfigName: 'CodeDeployDefault.LambdaLinear10PercentEvery1Minute',
    alarmConfiguration: { enabled: true, alarms: [{ name: alarm.ref }] },
  });
  const alias = new lambda.CfnAlias(stack, 'Live', { functionName: 'fn', functionVersion: '1', name: 'live' });
  alias.cfnOptions.updatePolicy = { codeDeployLambdaAliasUpdate: { applicationName: 'app', deploymentGroupName: 'orders-dg' } };
  app.synth();
  expect(buildReport(app.outdir)).toEqual([
    expect.objectContaining({
      deploymentConfig: 'CodeDeployDefault.LambdaLinear10PercentEvery1Minute',
      shift: { type: 'linear', percent: 10, intervalMinutes: 1 },
      alarms: [expect.objectContaining({ name: 'Beta-us-west-2-LambdaService-Errors', detectionSeconds: 300 })],
    }),
  ]);
});

test('fails when the directory is not a cloud assembly', () => {
  expect(() => buildReport('/nonexistent')).toThrow(
    '/nonexistent is not a cloud assembly (no manifest.json): run "npx cdk synth" first or pass --app <cdk.out>',
  );
});

describe('production services are simulated on their alarms as synthesized', () => {
  let simulated: ServiceReport[];
  let simDir: string;
  /** Production stages of the real service stacks, not bundled: the report reads only templates and metadata. */
  beforeAll(() => {
    const app = apps.create({ context: { 'aws:cdk:bundling-stacks': [] } });
    simDir = app.outdir;
    const env = { account: '111111111111', region: 'us-east-1' };
    const prod = new Stage(app, 'Prod', { env });
    markStageType(prod, 'production');
    const judgedService = (id: string, extra: Parameters<typeof fixtureService>[2]) =>
      new LambdaServiceStack(prod, id, { service: fixtureService('lambda', 'orders-api', extra) });
    // Busy (200 requests/s, as its config says), a 10-minute canary step: a crash loop is caught within it.
    judgedService('busy', { deployment: { type: 'canary', percent: 10, intervalMinutes: 10 }, expectedRequestsPerSecond: 200 });
    // The same with a 1-minute step: the step's first minute is published a minute after it ends.
    judgedService('hasty', { deployment: { type: 'canary', percent: 10, intervalMinutes: 1 }, expectedRequestsPerSecond: 200 });
    // No expected traffic in the config: the report's default rate.
    judgedService('unknown', { deployment: { type: 'canary', percent: 10, intervalMinutes: 10 }, expectedRequestsPerSecond: undefined });
    const platform = new PlatformStack(prod, 'Platform', { ecs: true });
    new EcsServiceStack(prod, 'storefront', {
      service: fixtureService('ecs', 'storefront', {
        deployment: { type: 'canary', percent: 10, intervalMinutes: 10 },
        blueTerminationWaitMinutes: 5,
        expectedRequestsPerSecond: 200,
      }),
      platform,
      image: { repositoryArn: 'arn:aws:ecr:us-east-1:111111111111:repository/safe-deploy/storefront', tag: 'abc1234' },
    });
    app.synth();
    simulated = buildReport(simDir);
  });
  const service = (stack: string) => simulated.find((r) => r.stack === `Prod/${stack}`)!;
  const scenario = (stack: string, id: string) => service(stack).simulation!.scenarios.find((c) => c.id === id)!;

  test('a crash loop at 200 requests/s is rolled back within a 10-minute canary step, the bad version having served 10% of the requests', () => {
    const r = service('busy');
    expect(r).toMatchObject({ model: 'simulated', caughtByCanary: true });
    expect(r.simulation).toMatchObject({
      rps: 200,
      rpsSource: 'expectedRequestsPerSecond',
      runs: 300,
      seed: 11,
      canaryPercent: 10,
      stepMinutes: 10,
      watchedAfterShiftMinutes: 0,
      minRequests: 100,
    });
    const crash = scenario('busy', 'crash-loop');
    expect(crash).toMatchObject({ rolledBack: 1, rolledBackInStep: 1, held: 0, passed: 0, stepOutlastsDetection: true });
    // The catastrophe alarm fires on the first published canary minute: 1-2 minutes after the first
    // bad request for the minute to end and publish, up to 1 more for evaluation and 1 for the poll.
    expect(crash.medianSeconds).toBeGreaterThan(60);
    expect(crash.p95Seconds).toBeLessThan(240);
    expect(crash.exposure).toBeCloseTo(0.1, 3);
    // +2 points at 200 requests/s: 12 canary requests a second, significant within minutes.
    expect(scenario('busy', 'errors-2pt')).toMatchObject({ rolledBack: 1, stepOutlastsDetection: true });
  });

  test('a 1-minute canary step does not outlast detection: the deployment completes before any canary minute is published', () => {
    const r = service('hasty');
    expect(r.caughtByCanary).toBe(false);
    expect(scenario('hasty', 'crash-loop')).toMatchObject({ rolledBackInStep: 0, stepOutlastsDetection: false, passed: 1 });
    expect(formatReport([r])).toContain(
      '    crash loop: rolled back 0% (within the step 0%), PASSED 100%; the bad version served 10% of requests until rollback, hold or the end of the deployment; the 1-minute canary step outlasts detection: NO',
    );
  });

  test('without expected traffic the default rate is used and said; --rps changes it; the same seed gives the same figures', () => {
    expect(service('unknown').simulation).toMatchObject({ rps: 5, rpsSource: 'default' });
    expect(formatReport([service('unknown')])).toContain(
      '  simulated at 5 requests/s (default rate: set expectedRequestsPerSecond, or --rps), 300 seeded runs (seed 11) per bad release;',
    );
    // +2 points at 5 requests/s: 30 canary requests a minute, about 6 errors in the step: rarely significant.
    expect(scenario('unknown', 'errors-2pt').stepOutlastsDetection).toBe(false);
    const faster = buildReport(simDir, { rps: 50 });
    expect(faster.find((r) => r.stack === 'Prod/unknown')!.simulation).toMatchObject({ rps: 50, rpsSource: 'default' });
    expect(faster.find((r) => r.stack === 'Prod/busy')!.simulation!.rps).toBe(200);
    expect(buildReport(simDir).map((r) => r.simulation)).toEqual(simulated.map((r) => r.simulation));
  });

  test('ECS: both target groups bound, the blue termination wait watched; alarms the simulator cannot evaluate are listed, not guessed', () => {
    const r = service('storefront');
    expect(r).toMatchObject({ kind: 'ecs-service', model: 'simulated' });
    expect(r.simulation).toMatchObject({ rps: 200, watchedAfterShiftMinutes: 5, minRequests: 100 });
    expect(scenario('storefront', 'crash-loop')).toMatchObject({ rolledBack: 1, rolledBackInStep: 1, stepOutlastsDetection: true });
    expect(r.simulation!.notSimulated.map((n) => n.alarm)).toEqual([
      'Prod-storefront-Elb5xxRate',
      expect.stringMatching(/HookErrorsAlarm/),
    ]);
    const text = formatReport([r]);
    expect(text).toContain(
      '  alarm Prod-storefront-Elb5xxRate: period 60s, 2 of 3 datapoints, not simulated (no simulated series for AWS/ApplicationELB HTTPCode_ELB_5XX_Count by LoadBalancer)',
    );
    expect(text).toContain('  alarms not simulated can only make a rollback sooner.');
    expect(text).not.toContain('worst case from first errors');
  });

  test('bin/report.ts takes --rps', () => {
    const out = execFileSync(
      process.execPath,
      ['--import', 'tsx', path.join(__dirname, '..', '..', 'bin', 'report.ts'), '--app', simDir, '--json', '--rps', '20'],
      { encoding: 'utf-8' },
    );
    const json = JSON.parse(out) as ServiceReport[];
    expect(json.find((r) => r.stack === 'Prod/unknown')!.simulation).toMatchObject({ rps: 20, rpsSource: 'default' });
  });

  test('fails when --rps is not a rate', () => {
    expect(() => buildReport(simDir, { rps: 0 })).toThrow(
      'rps: 0 is not a request rate: use a positive number of requests per second, e.g. 5',
    );
    expect(() =>
      execFileSync(
        process.execPath,
        ['--import', 'tsx', path.join(__dirname, '..', '..', 'bin', 'report.ts'), '--app', simDir, '--rps', 'many'],
        { encoding: 'utf-8', stdio: 'pipe' },
      ),
    ).toThrow(/option '--rps <n>' argument 'many' is invalid. "many" is not a request rate/);
  });
});
