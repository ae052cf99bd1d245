import * as fs from 'node:fs';
import * as path from 'node:path';
import { Stack, Validations } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { FLAG_ENV } from '../../lib/constructs/feature-flags';
import { ServiceStage } from '../../lib/pipeline/service-stage';
import { EcsServiceStack } from '../../lib/stacks/ecs-service-stack';
import { LambdaServiceStack } from '../../lib/stacks/lambda-service-stack';
import { TestApps } from '../support/app';
import { fixtureConfig, FixtureName } from '../support/fixtures';

const apps = new TestApps();
afterAll(() => apps.cleanup());

const PIPELINE = {
  account: '111111111111',
  region: 'us-east-1',
  appName: 'safe-deploy',
  gateReaderRoleName: 'safe-deploy-gate-reader-Prod-us-west-2',
};

/** One target of a fixture's stage, as the pipeline builds it (the example: greeting-api and greeting-web, both with flags). */
function target(
  o: { fixture?: FixtureName; stage?: number; region?: string; mutate?: (raw: any) => void; bundle?: boolean; nag?: boolean } = {},
) {
  const config = fixtureConfig(o.fixture ?? 'example', o.mutate);
  const stage = config.stages[o.stage ?? 1];
  const region = o.region ?? 'us-west-2';
  const app = apps.create(o.bundle ? {} : { context: { 'aws:cdk:bundling-stacks': [] } });
  if (o.nag) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const id = `${stage.name}-${region}`;
  const t = new ServiceStage(app, id, {
    env: { account: '222222222222', region },
    settings: stage,
    services: config.services,
    pipeline: { ...PIPELINE, gateReaderRoleName: `safe-deploy-gate-reader-${id}` },
  });
  return {
    app,
    target: t,
    api: t.service('greeting-api') as LambdaServiceStack | undefined,
    web: t.service('greeting-web') as EcsServiceStack | undefined,
  };
}

/** The resources of each stack of two syntheses that differ, as "<stack>/<type>". */
function changed(a: Stack[], b: Stack[]): string[] {
  const out: string[] = [];
  a.forEach((sa, i) => {
    const ra = Template.fromStack(sa).toJSON().Resources as Record<string, { Type: string }>;
    const rb = Template.fromStack(b[i]).toJSON().Resources as Record<string, { Type: string }>;
    for (const id of new Set([...Object.keys(ra), ...Object.keys(rb)])) {
      if (JSON.stringify(ra[id]) !== JSON.stringify(rb[id])) out.push(`${sa.node.id}/${(ra[id] ?? rb[id]).Type}`);
    }
  });
  return out.sort();
}

describe('a target of the example (production, us-west-2): both services declare flags', () => {
  let built: ReturnType<typeof target>;
  let api: Template;
  let web: Template;
  let synthError: unknown;
  beforeAll(() => {
    built = target({ nag: true });
    try {
      built.app.synth();
    } catch (e) {
      synthError = e;
    }
    api = Template.fromStack(built.api!);
    web = Template.fromStack(built.web!);
  });

  test('cdk-nag AwsSolutions: zero unacknowledged findings in the target', () => {
    expect(synthError).toBeUndefined();
    const report = path.join(built.app.outdir, 'validation-report.json');
    const violations = fs.existsSync(report)
      ? JSON.parse(fs.readFileSync(report, 'utf8')).pluginReports.flatMap((r: { violations: unknown[] }) => r.violations)
      : [];
    expect(violations).toEqual([]);
  });

  test('each service stack holds its own application, environment, profile and deployment, named after it', () => {
    for (const [t, name, stack] of [
      [api, 'greeting-api', built.api!],
      [web, 'greeting-web', built.web!],
    ] as const) {
      t.resourceCountIs('AWS::AppConfig::Application', 1);
      t.hasResourceProperties('AWS::AppConfig::Application', { Name: `${stack.stackName}-flags` });
      t.hasResourceProperties('AWS::AppConfig::Environment', { Name: name });
      t.hasResourceProperties('AWS::AppConfig::ConfigurationProfile', {
        Name: name,
        Type: 'AWS.AppConfig.FeatureFlags',
        LocationUri: 'hosted',
      });
      t.resourceCountIs('AWS::AppConfig::Deployment', 1);
    }
    // The platform stack, which every service stack of an ECS target depends on, holds none of it.
    Template.fromStack(built.target.platform).resourceCountIs('AWS::AppConfig::Application', 0);
  });

  test("the environment's monitor is the service's composite health alarm, read through a role only AppConfig assumes", () => {
    for (const [t, stack] of [
      [api, built.api!],
      [web, built.web!],
    ] as const) {
      const healthId = stack.getLogicalId(stack.service.compositeAlarm.node.defaultChild as never);
      t.hasResourceProperties('AWS::AppConfig::Environment', {
        Monitors: [
          {
            AlarmArn: { 'Fn::GetAtt': [healthId, 'Arn'] },
            AlarmRoleArn: { 'Fn::GetAtt': [stack.getLogicalId(stack.flags!.monitorRole.node.defaultChild as never), 'Arn'] },
          },
        ],
      });
    }
  });

  test("the production stage's rollout: AppConfig's predefined linear 20 % every 6 minutes with a 30-minute bake", () => {
    api.hasResourceProperties('AWS::AppConfig::Deployment', { DeploymentStrategyId: 'AppConfig.Linear20PercentEvery6Minutes' });
    web.hasResourceProperties('AWS::AppConfig::Deployment', { DeploymentStrategyId: 'AppConfig.Linear20PercentEvery6Minutes' });
    api.resourceCountIs('AWS::AppConfig::DeploymentStrategy', 0);
  });

  test('the Lambda function gets the extension layer of its region and architecture, the names, and read access to its profile only', () => {
    const fnId = built.api!.getLogicalId(built.api!.service.function.node.defaultChild as never);
    const fn = api.toJSON().Resources[fnId].Properties;
    expect(fn.Layers).toEqual(['arn:aws:lambda:us-west-2:359756378197:layer:AWS-AppConfig-Extension-Arm64:275']);
    expect(fn.Environment.Variables).toMatchObject({
      [FLAG_ENV.application]: `${built.api!.stackName}-flags`,
      [FLAG_ENV.environment]: 'greeting-api',
      [FLAG_ENV.profile]: 'greeting-api',
      AWS_APPCONFIG_EXTENSION_PREFETCH_LIST: `/applications/${built.api!.stackName}-flags/environments/greeting-api/configurations/greeting-api`,
    });
    const stack = built.api!;
    api.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: stack.getLogicalId(stack.service.function.role!.node.defaultChild as never) }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Action: ['appconfig:GetLatestConfiguration', 'appconfig:StartConfigurationSession'],
            Effect: 'Allow',
            Resource: {
              'Fn::Join': [
                '',
                [
                  'arn:aws:appconfig:us-west-2:222222222222:application/',
                  { Ref: stack.getLogicalId(stack.flags!.application.node.defaultChild as never) },
                  '/environment/*/configuration/',
                  { Ref: stack.getLogicalId(stack.flags!.profile) },
                ],
              ],
            },
          },
        ]),
      },
    });
  });

  test('the ECS task runs the agent as a non-essential sidecar the app container starts after, and the app gets the names', () => {
    const [task] = Object.values(web.findResources('AWS::ECS::TaskDefinition')) as Array<{ Properties: { ContainerDefinitions: any[] } }>;
    const byName = Object.fromEntries(task.Properties.ContainerDefinitions.map((c) => [c.Name, c]));
    expect(byName['appconfig-agent']).toMatchObject({ Essential: false, Image: 'public.ecr.aws/aws-appconfig/aws-appconfig-agent:2.x' });
    expect(byName.app.DependsOn).toEqual([{ ContainerName: 'appconfig-agent', Condition: 'START' }]);
    expect(byName.app.Environment).toEqual(
      expect.arrayContaining([
        { Name: FLAG_ENV.environment, Value: 'greeting-web' },
        { Name: FLAG_ENV.application, Value: `${built.web!.stackName}-flags` },
      ]),
    );
  });

  test("the target's gate reader role may read the flag deployments' state, read-only", () => {
    const statements = Object.values(Template.fromStack(built.target.platform).findResources('AWS::IAM::Policy')).flatMap(
      (p: any) => p.Properties.PolicyDocument.Statement,
    );
    const appconfig = statements.filter((st: any) => [st.Action].flat().some((a: string) => a.startsWith('appconfig:')));
    expect(appconfig).toEqual([
      { Action: ['appconfig:ListApplications', 'cloudwatch:GetMetricData'], Effect: 'Allow', Resource: '*' },
      {
        Action: ['appconfig:GetDeployment', 'appconfig:ListDeployments', 'appconfig:ListEnvironments'],
        Effect: 'Allow',
        Resource: 'arn:aws:appconfig:us-west-2:222222222222:application/*',
      },
    ]);
  });
});

test("an ECS service's pinned flagsAgentImage is the sidecar's image; a private ECR one is pulled with the execution role", () => {
  const digest = `sha256:${'0123456789abcdef'.repeat(4)}`;
  const agentOf = (image: string) => {
    const { web } = target({ mutate: (c) => (c.services[1].flagsAgentImage = image) });
    const t = Template.fromStack(web!);
    const [task] = Object.values(t.findResources('AWS::ECS::TaskDefinition')) as Array<{ Properties: { ContainerDefinitions: any[] } }>;
    return { t, agent: task.Properties.ContainerDefinitions.find((c) => c.Name === 'appconfig-agent') };
  };
  const pinned = `public.ecr.aws/aws-appconfig/aws-appconfig-agent:2.x@${digest}`;
  expect(agentOf(pinned).agent).toMatchObject({ Essential: false, Image: pinned });

  const mirror = agentOf(`333333333333.dkr.ecr.us-west-2.amazonaws.com/mirror/appconfig-agent@${digest}`);
  expect(mirror.agent.Image).toEqual({
    'Fn::Join': ['', ['333333333333.dkr.ecr.us-west-2.', { Ref: 'AWS::URLSuffix' }, `/mirror/appconfig-agent@${digest}`]],
  });
  mirror.t.hasResourceProperties('AWS::IAM::Policy', {
    Roles: [{ Ref: Match.stringLikeRegexp('^ServiceExecutionRole') }],
    PolicyDocument: {
      Statement: Match.arrayWith([
        Match.objectLike({
          Action: ['ecr:BatchCheckLayerAvailability', 'ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'],
          Resource: Match.arrayWith(['arn:aws:ecr:us-west-2:333333333333:repository/mirror/appconfig-agent']),
        }),
      ]),
    },
  });
});

test('the pre-production stage rolls flags out all at once with a 10-minute bake (AppConfig.AllAtOnce)', () => {
  const { api } = target({ stage: 0, region: 'us-east-1' });
  Template.fromStack(api!).hasResourceProperties('AWS::AppConfig::Deployment', { DeploymentStrategyId: 'AppConfig.AllAtOnce' });
});

test("a stage's own rollout becomes a strategy of the service's stack", () => {
  const { api } = target({
    mutate: (c) => (c.stages[1].flags = { rollout: { type: 'linear', percent: 10, intervalMinutes: 3, bakeMinutes: 20 } }),
  });
  const t = Template.fromStack(api!);
  t.hasResourceProperties('AWS::AppConfig::DeploymentStrategy', {
    GrowthType: 'LINEAR',
    GrowthFactor: 10,
    DeploymentDurationInMinutes: 30,
    FinalBakeTimeInMinutes: 20,
  });
  t.hasResourceProperties('AWS::AppConfig::Deployment', { DeploymentStrategyId: { Ref: api!.getLogicalId(api!.flags!.strategy!) } });
});

test('warns when a rollout watches the health alarm for less than its detection time', () => {
  const { api, web } = target({ mutate: (c) => (c.stages[1].flags = { rollout: { type: 'all-at-once', bakeMinutes: 2 } }) });
  for (const stack of [api!, web!]) {
    Annotations.fromStack(stack).hasWarning(
      `/${stack.node.path}/Flags`,
      Match.stringLikeRegexp(
        "AppConfig watches the health alarm for 2 min \\(rollout 0 \\+ bake 2\\), less than the alarm's worst-case detection time of \\d+ min",
      ),
    );
  }
  // The example's own rollouts bake longer than detection: no such warning.
  const example = target();
  Annotations.fromStack(example.api!).hasNoWarning('*', Match.stringLikeRegexp('watches the health alarm'));
});

test('services without flags get nothing: no AppConfig resource, layer, sidecar or gate permission', () => {
  const { target: t } = target({ fixture: 'three-services', stage: 0, region: 'us-east-1' });
  for (const stack of [t.platform, ...t.services]) {
    const template = Template.fromStack(stack);
    for (const type of ['AWS::AppConfig::Application', 'AWS::AppConfig::Environment', 'AWS::AppConfig::Deployment'])
      template.resourceCountIs(type, 0);
    expect(JSON.stringify(template.toJSON())).not.toMatch(/AppConfig-Extension|aws-appconfig-agent|appconfig:/);
  }
});

test('a flags-only change changes no Lambda version, function or task definition: only the AppConfig version and deployment', () => {
  // Bundled for real, so that the Lambda version's logical ID carries the code's hash.
  const before = target({ bundle: true });
  const after = target({
    bundle: true,
    mutate: (c) => {
      c.services[0].flags[0].default = true; // greeting_emoji on for everyone
      c.services[1].flags[1].rules[1].percent = 20; // greeting_style for 20 % instead of 5 %
    },
  });
  const stacks = (b: ReturnType<typeof target>) => [b.target.platform, ...b.target.services];
  expect(changed(stacks(before), stacks(after))).toEqual([
    'greeting-api/AWS::AppConfig::Deployment',
    'greeting-api/AWS::AppConfig::HostedConfigurationVersion',
    'greeting-web/AWS::AppConfig::Deployment',
    'greeting-web/AWS::AppConfig::HostedConfigurationVersion',
  ]);
  // ...and the changed content is what is deployed.
  expect(after.web!.flags!.content).toContain('(split pct::20 by::$userId seed::\\"greeting_style\\")');
  expect(after.api!.flags!.contentDigest).not.toBe(before.api!.flags!.contentDigest);
});
