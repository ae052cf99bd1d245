import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { Stack, Stage } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { markStageType } from '../../lib/policy';
import { buildReport, formatReport, metricAlarmDetectionSeconds, ServiceReport } from '../../lib/report';
import { TestApps } from '../support/app';

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
    deploymentWindow: { timeZone: 'Europe/Berlin', windows: [{ days: ['MON', 'TUE'], start: '09:00', end: '16:00' }], blockedDates: ['2026-12-24'] },
  });
  lambdaStack(prod, 'CodeDeployDefault.LambdaCanary10Percent15Minutes', (s) => {
    const fast = metricAlarm(s, 'ErrorRate', 60, 2, 2);
    const slow = metricAlarm(s, 'Latency', 300, 1);
    return new cloudwatch.CfnCompositeAlarm(s, 'Health', { alarmName: 'Prod-Wave1-us-east-1-LambdaService-Health', alarmRule: `ALARM(${fast.attrArn}) OR ALARM(${slow.attrArn})` });
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
  expect(r).toMatchObject({ stageType: 'pre-production', worstCaseToRollbackSeconds: 360, deploymentMinutes: 5, caughtByCanary: false, shareAtRollbackPercent: 100, exposureTrafficMinutes: 1.5 });
  expect(r.bake).toBeUndefined();
});

test('text output names stage, config, alarms, numbers, bake and window', () => {
  const text = formatReport(reports);
  expect(text).toContain('Prod-Wave1-us-east-1 (production) Prod-Wave1-us-east-1/LambdaService lambda-alias Live');
  expect(text).toContain('  deployment config: CodeDeployDefault.LambdaCanary10Percent15Minutes (canary 10% for 15 min, then 100%; done after 15 min)');
  expect(text).toContain('  alarm Prod-Wave1-us-east-1-LambdaService-Health: composite of 2, worst-case detection 13 min');
  expect(text).toContain('    child Prod-Wave1-us-east-1-LambdaService-ErrorRate: period 60s, 2 of 2 datapoints, worst-case detection 6 min');
  expect(text).toContain('  worst case from first errors to rollback start: 13 min');
  expect(text).toContain('  exposure before rollback: 10% of traffic at rollback, 1.3 full-traffic minutes');
  expect(text).toContain('  bake: 30 min and 1000 requests');
  expect(text).toContain('  deployment window: MON,TUE 09:00-16:00 Europe/Berlin, blocked 2026-12-24');
  expect(text).toContain('  caught by canary: NO - the deployment completes before the alarms can fire; only the bake gate and pipeline rollback remain');
});

test('bin/report.ts prints JSON over a synthesized assembly', () => {
  const out = execFileSync(process.execPath, ['--import', 'tsx', path.join(__dirname, '..', '..', 'bin', 'report.ts'), '--app', outdir, '--json'], { encoding: 'utf-8' });
  const json = JSON.parse(out) as ServiceReport[];
  expect(json).toHaveLength(3);
  expect(json.map((r) => r.exposureTrafficMinutes).sort()).toEqual([1.3, 1.5, 1.5]);
});

test('fails when the directory is not a cloud assembly', () => {
  expect(() => buildReport('/nonexistent')).toThrow('/nonexistent is not a cloud assembly (no manifest.json): run "npx cdk synth" first or pass --app <cdk.out>');
});
