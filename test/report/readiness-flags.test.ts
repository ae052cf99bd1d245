import { Stack, Stage } from 'aws-cdk-lib';
import * as appconfig from 'aws-cdk-lib/aws-appconfig';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { markStageType } from '../../lib/policy';
import { buildReport, formatReport, ServiceReport } from '../../lib/report';
import { TestApps } from '../support/app';

const apps = new TestApps();
afterAll(() => apps.cleanup());

/**
 * A canary Lambda service with feature flags, as L1s (the report reads only templates): its health
 * alarm (2 of 2 one-minute datapoints: 6 minutes worst case) guards the canary and monitors the
 * flags' AppConfig environment; the flags roll out with `strategy`.
 */
function serviceWithFlags(stage: Stage, strategy: (s: Stack) => string, monitored = true): void {
  const stack = new Stack(stage, 'orders-api');
  const health = new cloudwatch.CfnAlarm(stack, 'Health', {
    alarmName: `${stage.stageName}-orders-api-Health`,
    namespace: 'AWS/Lambda',
    metricName: 'Errors',
    statistic: 'Sum',
    period: 60,
    evaluationPeriods: 2,
    datapointsToAlarm: 2,
    threshold: 1,
    comparisonOperator: 'GreaterThanOrEqualToThreshold',
  });
  const app = new codedeploy.CfnApplication(stack, 'App', { computePlatform: 'Lambda' });
  const dg = new codedeploy.CfnDeploymentGroup(stack, 'Deployment', {
    applicationName: app.ref,
    serviceRoleArn: 'arn:aws:iam::111111111111:role/codedeploy',
    deploymentConfigName: 'CodeDeployDefault.LambdaCanary10Percent5Minutes',
    alarmConfiguration: { enabled: true, alarms: [{ name: health.ref }] },
  });
  const alias = new lambda.CfnAlias(stack, 'Live', { functionName: 'fn', functionVersion: '1', name: 'live' });
  alias.cfnOptions.updatePolicy = { codeDeployLambdaAliasUpdate: { applicationName: app.ref, deploymentGroupName: dg.ref } };
  const flagsApp = new appconfig.CfnApplication(stack, 'FlagsApplication', { name: `${stage.stageName}-orders-api-flags` });
  const env = new appconfig.CfnEnvironment(stack, 'FlagsEnvironment', {
    applicationId: flagsApp.ref,
    name: 'orders-api',
    monitors: monitored ? [{ alarmArn: health.attrArn, alarmRoleArn: 'arn:aws:iam::111111111111:role/monitor' }] : undefined,
  });
  new appconfig.CfnDeployment(stack, 'FlagsDeployment', {
    applicationId: flagsApp.ref,
    environmentId: env.ref,
    configurationProfileId: 'prof123',
    configurationVersion: '1',
    deploymentStrategyId: strategy(stack),
  });
}

let reports: ServiceReport[];
beforeAll(() => {
  const app = apps.create();
  const prod = new Stage(app, 'Prod-us-east-1');
  markStageType(prod, 'production');
  serviceWithFlags(prod, () => 'AppConfig.Linear20PercentEvery6Minutes');
  const beta = new Stage(app, 'Beta-us-east-1');
  markStageType(beta, 'pre-production');
  serviceWithFlags(
    beta,
    (s) =>
      new appconfig.CfnDeploymentStrategy(s, 'Strategy', {
        name: 'quick',
        growthFactor: 100,
        deploymentDurationInMinutes: 0,
        finalBakeTimeInMinutes: 2,
        replicateTo: 'NONE',
      }).ref,
  );
  const gamma = new Stage(app, 'Gamma-us-east-1');
  markStageType(gamma, 'pre-production');
  serviceWithFlags(gamma, () => 'AppConfig.AllAtOnce', false);
  app.synth();
  reports = buildReport(app.outdir);
});

const find = (stage: string) => reports.find((r) => r.stage === stage)!;

test('a predefined production rollout watched 60 min by a 6-minute alarm: a bad flag change is rolled back automatically', () => {
  expect(find('Prod-us-east-1').flags).toEqual([
    {
      environment: 'orders-api',
      strategy: 'AppConfig.Linear20PercentEvery6Minutes',
      description: 'linear 20 % over 30 min, step every 6 min, bake 30 min',
      watchedMinutes: 60,
      monitors: [expect.objectContaining({ name: 'Prod-us-east-1-orders-api-Health', detectionSeconds: 360 })],
      detectionSeconds: 360,
      rolledBackAutomatically: true,
    },
  ]);
});

test("a stack's own strategy baking 2 minutes is shorter than the alarm's 6: flagged", () => {
  expect(find('Beta-us-east-1').flags).toEqual([
    expect.objectContaining({
      strategy: 'custom',
      description: 'all at once, bake 2 min',
      watchedMinutes: 2,
      rolledBackAutomatically: false,
    }),
  ]);
});

test('the text says how each flag change rolls out, what watches it and whether a bad one is rolled back', () => {
  const text = formatReport(reports);
  expect(text).toContain(
    '  feature flags (orders-api): AppConfig.Linear20PercentEvery6Minutes, linear 20 % over 30 min, step every 6 min, bake 30 min; AppConfig watches 60 min',
  );
  expect(text).toContain('    monitor Prod-us-east-1-orders-api-Health: worst-case detection 6 min');
  expect(text).toContain('    bad flag change rolled back automatically: yes');
  expect(text).toContain(
    "    bad flag change rolled back automatically: NO - AppConfig stops watching before the alarms can fire; raise the stage's flags.rollout.bakeMinutes",
  );
  expect(text).toContain('    monitors: NONE - a bad flag change is never rolled back automatically');
});

test('a service without flags reports none', () => {
  const app = apps.create();
  const stage = new Stage(app, 'Beta-us-west-2');
  const stack = new Stack(stage, 'plain');
  new lambda.CfnAlias(stack, 'Live', { functionName: 'fn', functionVersion: '1', name: 'live' });
  app.synth();
  expect(buildReport(app.outdir).map((r) => r.flags)).toEqual([[]]);
});
