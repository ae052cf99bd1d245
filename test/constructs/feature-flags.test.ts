import * as path from 'node:path';
import { Stack, StackProps } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { AwsSolutionsChecks } from 'cdk-nag';
import { Construct } from 'constructs';
import { CanaryEcsService } from '../../lib/constructs/canary-ecs-service';
import { CanaryLambdaService } from '../../lib/constructs/canary-lambda-service';
import {
  agentContainerImage,
  appConfigExtensionLayerArn,
  DEFAULT_FLAG_ROLLOUTS,
  FeatureFlagsApplication,
  FLAG_ENV,
  FlagDeclaration,
  FlagRollout,
  LAMBDA_EXTENSION_REGIONS,
  parseServiceFlags,
  ServiceFeatureFlags,
} from '../../lib/constructs/feature-flags';
import { TestApps } from '../support/app';
import { FIXTURES_DIR } from '../support/fixtures';

const apps = new TestApps();
afterAll(() => apps.cleanup());

const ENV = { account: '111111111111', region: 'us-east-1' };
const PROD_ROLLOUT: FlagRollout = { type: 'linear', percent: 20, intervalMinutes: 6, bakeMinutes: 30 };

/** The example service's flags as declared, with the two values the "flags-only change" test varies. */
function declaredFlags(o: { newCheckout?: boolean; percent?: number } = {}) {
  return [
    { name: 'new_checkout', description: 'The one-page checkout', default: o.newCheckout ?? false },
    {
      name: 'recommendations',
      variants: { off: { enabled: false }, on: { enabled: true, attributes: { model: 'v2' } } },
      default: 'off',
      rules: [
        { variant: 'on', tenants: ['acme', 'globex'] },
        { variant: 'on', percent: o.percent ?? 5 },
      ],
    },
  ];
}

function exampleFlags(o: { newCheckout?: boolean; percent?: number } = {}): FlagDeclaration[] {
  return parseServiceFlags(declaredFlags(o));
}

/** Fixed AZs: a concrete account would make the VPC look them up, which needs credentials. */
class ServiceStack extends Stack {
  constructor(scope: Construct, id: string, props: StackProps) {
    super(scope, id, props);
  }
  get availabilityZones(): string[] {
    return ['us-east-1a', 'us-east-1b'];
  }
}

/** A stack with both canary services and their flags, as the integrator will wire them. */
function buildServices(flags = exampleFlags(), rollout: FlagRollout = PROD_ROLLOUT) {
  // Assets are not bundled: these tests are about wiring, not handler code.
  const app = apps.create({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new ServiceStack(app, 'Svc', { env: ENV });
  const api = new CanaryLambdaService(stack, 'Api', {
    entry: path.join(FIXTURES_DIR, 'services/orders-api/handler.ts'),
    deploymentConfig: codedeploy.LambdaDeploymentConfig.CANARY_10PERCENT_5MINUTES,
  });
  const web = new CanaryEcsService(stack, 'Web', {
    cluster: new ecs.Cluster(stack, 'Cluster', { vpc: new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 }) }),
    image: ecs.ContainerImage.fromRegistry('public.ecr.aws/docker/library/nginx:1.27'),
    deploymentConfig: codedeploy.EcsDeploymentConfig.ALL_AT_ONCE,
    testTrafficPeers: [ec2.Peer.ipv4('203.0.113.10/32')],
  });
  const application = new FeatureFlagsApplication(stack, 'FlagsApp', { applicationName: 'safe-deploy-beta-flags' });
  const apiFlags = new ServiceFeatureFlags(stack, 'ApiFlags', {
    serviceName: 'api',
    flags,
    rollout,
    healthAlarm: api.compositeAlarm,
    application,
  });
  apiFlags.bindToFunction(api.function);
  const webFlags = new ServiceFeatureFlags(stack, 'WebFlags', {
    serviceName: 'web',
    flags,
    rollout,
    healthAlarm: web.compositeAlarm,
    application,
  });
  webFlags.bindToTaskDefinition(web.taskDefinition, web.taskDefinition.findContainer('app')!);
  return { app, stack, api, web, apiFlags, webFlags, template: Template.fromStack(stack) };
}

/** A small stack with one plain function, for focused tests. */
function buildSmall(o: { region?: string; architecture?: lambda.Architecture; rollout?: FlagRollout; envAgnostic?: boolean } = {}) {
  const app = apps.create();
  const stack = new Stack(app, 'Small', o.envAgnostic ? {} : { env: { account: ENV.account, region: o.region ?? ENV.region } });
  const alarm = cloudwatch.Alarm.fromAlarmArn(
    stack,
    'Health',
    `arn:aws:cloudwatch:${o.region ?? ENV.region}:111111111111:alarm:Small-Health`,
  );
  const fn = new lambda.Function(stack, 'Fn', {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({})'),
    architecture: o.architecture ?? lambda.Architecture.ARM_64,
  });
  const flags = new ServiceFeatureFlags(stack, 'Flags', {
    serviceName: 'orders',
    flags: exampleFlags(),
    rollout: o.rollout ?? { type: 'all-at-once' },
    healthAlarm: alarm,
  });
  return { app, stack, fn, flags };
}

/** Resources of `a` and `b` that differ, by logical ID (added, removed or changed). */
function changedResources(a: Template, b: Template): string[] {
  const ra = a.toJSON().Resources as Record<string, unknown>;
  const rb = b.toJSON().Resources as Record<string, unknown>;
  return [...new Set([...Object.keys(ra), ...Object.keys(rb)])].filter((k) => JSON.stringify(ra[k]) !== JSON.stringify(rb[k])).sort();
}

function logicalId(stack: Stack, c: Construct): string {
  return stack.getLogicalId(c.node.defaultChild as never);
}

describe('ServiceFeatureFlags with both canary services', () => {
  let built: ReturnType<typeof buildServices>;
  beforeAll(() => {
    built = buildServices();
  });

  test('a flags-only change touches only the hosted configuration versions and deployments', () => {
    const changed = buildServices(exampleFlags({ newCheckout: true, percent: 20 }));
    const { stack, apiFlags, webFlags } = built;
    const ids = (f: ServiceFeatureFlags) => [stack.getLogicalId(f.version), stack.getLogicalId(f.deployment)];
    expect(changedResources(built.template, changed.template)).toEqual([...ids(apiFlags), ...ids(webFlags)].sort());
    // The function, its published version, its alias and the task definition are the same resources, unchanged.
    const fnId = logicalId(stack, built.api.function);
    const versionId = stack.getLogicalId(built.api.function.currentVersion.node.defaultChild as never);
    const taskId = logicalId(stack, built.web.taskDefinition);
    for (const id of [fnId, versionId, taskId]) {
      expect(changed.template.toJSON().Resources[id]).toEqual(built.template.toJSON().Resources[id]);
    }
    // ...and the new content is really in the changed version. (Reordering the same flags renders the
    // same bytes, so it changes nothing at all: feature-flags-schema.test.ts.)
    expect(changed.apiFlags.content).toContain('(split pct::20 by::$userId seed::\\"recommendations\\")');
    expect(changed.apiFlags.contentDigest).not.toEqual(apiFlags.contentDigest);
  });

  test('one environment and one profile per service in the shared application, watched by the service health alarm', () => {
    const { template, stack, api, web } = built;
    template.resourceCountIs('AWS::AppConfig::Application', 1);
    template.hasResourceProperties('AWS::AppConfig::Application', { Name: 'safe-deploy-beta-flags' });
    for (const [name, alarm] of [
      ['api', api.compositeAlarm],
      ['web', web.compositeAlarm],
    ] as const) {
      template.hasResourceProperties('AWS::AppConfig::Environment', {
        Name: name,
        Monitors: [
          {
            AlarmArn: { 'Fn::GetAtt': [logicalId(stack, alarm), 'Arn'] },
            AlarmRoleArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('MonitorRole'), 'Arn'] },
          },
        ],
      });
      template.hasResourceProperties('AWS::AppConfig::ConfigurationProfile', {
        Name: name,
        LocationUri: 'hosted',
        Type: 'AWS.AppConfig.FeatureFlags',
      });
    }
  });

  test('the hosted version holds the rendered document; versions, profile, environment and application are retained', () => {
    const { template, apiFlags } = built;
    template.hasResource('AWS::AppConfig::HostedConfigurationVersion', {
      Properties: {
        Content: apiFlags.content,
        ContentType: 'application/json',
        Description: `Flags of api, sha256 ${apiFlags.contentDigest.slice(0, 16)}`,
      },
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
    for (const type of ['AWS::AppConfig::ConfigurationProfile', 'AWS::AppConfig::Environment', 'AWS::AppConfig::Application']) {
      for (const r of Object.values(template.findResources(type)))
        expect(r).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    }
    expect(JSON.parse(apiFlags.content).version).toBe('1');
  });

  test("the deployment deploys that version with the rollout strategy: linear 20 % every 6 min (30 min), bake 30 is AppConfig's predefined one", () => {
    const { template, stack, apiFlags } = built;
    // Predefined strategies count against no quota (AppConfig allows 20 custom ones per account and region).
    template.resourceCountIs('AWS::AppConfig::DeploymentStrategy', 0);
    expect(apiFlags.strategy).toBeUndefined();
    template.hasResourceProperties('AWS::AppConfig::Deployment', {
      ApplicationId: { Ref: logicalId(stack, built.apiFlags.application) },
      EnvironmentId: { Ref: stack.getLogicalId(apiFlags.environment) },
      ConfigurationProfileId: { Ref: stack.getLogicalId(apiFlags.profile) },
      ConfigurationVersion: { Ref: stack.getLogicalId(apiFlags.version) },
      DeploymentStrategyId: 'AppConfig.Linear20PercentEvery6Minutes',
    });
    template.resourceCountIs('AWS::AppConfig::Deployment', 2);
  });

  test('a rollout that is no predefined strategy gets its own (linear 25 % every 5 min = 20 min, bake 15)', () => {
    const { stack, flags } = buildSmall({ rollout: { type: 'linear', percent: 25, intervalMinutes: 5, bakeMinutes: 15 } });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::AppConfig::DeploymentStrategy', {
      GrowthType: 'LINEAR',
      GrowthFactor: 25,
      DeploymentDurationInMinutes: 20,
      FinalBakeTimeInMinutes: 15,
      ReplicateTo: 'NONE',
    });
    template.hasResourceProperties('AWS::AppConfig::Deployment', { DeploymentStrategyId: { Ref: stack.getLogicalId(flags.strategy!) } });
  });

  test('the monitor role may only describe the one health alarm, and only AppConfig may assume it', () => {
    const { template, stack, api } = built;
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [Match.objectLike({ Principal: { Service: 'appconfig.amazonaws.com' }, Action: 'sts:AssumeRole' })],
      },
      Policies: [
        {
          PolicyName: 'ReadHealthAlarm',
          PolicyDocument: {
            Statement: [
              {
                Effect: 'Allow',
                Action: 'cloudwatch:DescribeAlarms',
                Resource: { 'Fn::GetAtt': [logicalId(stack, api.compositeAlarm), 'Arn'] },
              },
            ],
            Version: '2012-10-17',
          },
        },
      ],
    });
  });

  test('the function gets the arm64 extension layer of us-east-1, the identifiers, the prefetch path and read access to its configuration', () => {
    const { template, stack, apiFlags, api } = built;
    const ref = (c: Parameters<Stack['getLogicalId']>[0]) => ({ Ref: stack.getLogicalId(c) });
    const appRef = { Ref: logicalId(stack, apiFlags.application) };
    template.hasResourceProperties('AWS::Lambda::Function', {
      Layers: ['arn:aws:lambda:us-east-1:027255383542:layer:AWS-AppConfig-Extension-Arm64:254'],
      Environment: {
        Variables: Match.objectLike({
          [FLAG_ENV.application]: 'safe-deploy-beta-flags',
          [FLAG_ENV.environment]: 'api',
          [FLAG_ENV.profile]: 'api',
          [FLAG_ENV.agentUrl]: 'http://localhost:2772',
          AWS_APPCONFIG_EXTENSION_PREFETCH_LIST: '/applications/safe-deploy-beta-flags/environments/api/configurations/api',
        }),
      },
    });
    const roleId = logicalId(stack, api.function.role as never);
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: roleId }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Effect: 'Allow',
            Action: ['appconfig:GetLatestConfiguration', 'appconfig:StartConfigurationSession'],
            Resource: {
              'Fn::Join': [
                '',
                ['arn:aws:appconfig:us-east-1:111111111111:application/', appRef, '/environment/*/configuration/', ref(apiFlags.profile)],
              ],
            },
          },
        ]),
      },
    });
  });

  test('the task gets the agent as a non-essential sidecar with its own logs; the app container gets the identifiers and starts after it', () => {
    const { template } = built;
    const task = Object.values(template.findResources('AWS::ECS::TaskDefinition'))[0];
    const containers = task.Properties.ContainerDefinitions as Array<Record<string, any>>;
    const agent = containers.find((c) => c.Name === 'appconfig-agent')!;
    expect(agent).toMatchObject({
      Image: 'public.ecr.aws/aws-appconfig/aws-appconfig-agent:2.x',
      Essential: false,
      LogConfiguration: { LogDriver: 'awslogs', Options: expect.objectContaining({ 'awslogs-stream-prefix': 'appconfig-agent' }) },
      Environment: [{ Name: 'PREFETCH_LIST', Value: '/applications/safe-deploy-beta-flags/environments/web/configurations/web' }],
    });
    expect(agent.PortMappings).toBeUndefined();
    const app = containers.find((c) => c.Name === 'app')!;
    expect(app.DependsOn).toEqual([{ ContainerName: 'appconfig-agent', Condition: 'START' }]);
    expect(app.Environment).toEqual(
      expect.arrayContaining([
        { Name: FLAG_ENV.application, Value: 'safe-deploy-beta-flags' },
        { Name: FLAG_ENV.environment, Value: 'web' },
        { Name: FLAG_ENV.profile, Value: 'web' },
        { Name: FLAG_ENV.agentUrl, Value: 'http://localhost:2772' },
      ]),
    );
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    const taskRole = task.Properties.TaskRoleArn['Fn::GetAtt'][0];
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: taskRole }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: ['appconfig:GetLatestConfiguration', 'appconfig:StartConfigurationSession'] }),
        ]),
      },
    });
  });

  test('cdk-nag AwsSolutions: no unacknowledged finding in the flags or in the services they are bound to', () => {
    // The test's VPC is not part of what is tested (it has no flow log); everything else is.
    for (const scope of [built.apiFlags, built.webFlags, built.api, built.web]) {
      expect(new AwsSolutionsChecks().validateScope(scope).violations).toEqual([]);
    }
  });
});

describe('ServiceFeatureFlags on its own', () => {
  test('the read grant names one profile; its environment wildcard is acknowledged exactly, and nag does flag that wildcard elsewhere', () => {
    const { stack, flags } = buildSmall();
    const granted = new iam.Role(stack, 'Granted', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    flags.grantRead(granted);
    const manual = new iam.Role(stack, 'Manual', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    manual.addToPolicy(new iam.PolicyStatement({ actions: ['appconfig:GetLatestConfiguration'], resources: [flags.configurationArn] }));
    expect(new AwsSolutionsChecks().validateScope(granted).violations).toEqual([]);
    const found = new AwsSolutionsChecks().validateScope(manual).violations;
    const id = `AwsSolutions-IAM5[Resource::arn:aws:appconfig:us-east-1:111111111111:application/<${stack.getLogicalId(flags.node.findChild('Application').node.defaultChild as never)}>/environment/*/configuration/<${stack.getLogicalId(flags.profile)}>]`;
    expect(found.map((v) => v.ruleName)).toEqual([id]);
  });

  test('creates its own application when none is given, named after the stack and the service', () => {
    const { stack } = buildSmall();
    Template.fromStack(stack).hasResourceProperties('AWS::AppConfig::Application', { Name: 'Small-orders-flags' });
    expect(new FeatureFlagsApplication(new Stack(apps.create(), 'Shared'), 'Flags').applicationIdentifier).toBe('Shared-flags');
  });

  test('uses an existing application by ID', () => {
    const app = apps.create();
    const stack = new Stack(app, 'S', { env: ENV });
    const application = FeatureFlagsApplication.fromApplicationId(stack, 'Shared', 'abc1234');
    const alarm = cloudwatch.Alarm.fromAlarmArn(stack, 'Health', 'arn:aws:cloudwatch:us-east-1:111111111111:alarm:S-Health');
    new ServiceFeatureFlags(stack, 'Flags', {
      serviceName: 'orders',
      flags: exampleFlags(),
      rollout: { type: 'all-at-once' },
      healthAlarm: alarm,
      application,
    });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::AppConfig::Application', 0);
    template.hasResourceProperties('AWS::AppConfig::Environment', { ApplicationId: 'abc1234', Name: 'orders' });
  });

  test('warns when a rollout gives the alarm no time to act (all at once, no bake), and not otherwise', () => {
    const bare = buildSmall({ rollout: { type: 'all-at-once' } });
    Annotations.fromStack(bare.stack).hasWarning(
      '/Small/Flags',
      Match.stringLikeRegexp('all at once without a bake, so the health alarm cannot roll a bad flag back'),
    );
    const baked = buildSmall({ rollout: DEFAULT_FLAG_ROLLOUTS['pre-production'] });
    Annotations.fromStack(baked.stack).hasNoWarning('*', Match.anyValue());
  });

  test('all-at-once with a 10-minute bake is AppConfig.AllAtOnce; with another bake, one 100 % step with no duration', () => {
    const predefined = buildSmall({ rollout: { type: 'all-at-once', bakeMinutes: 10 } });
    Template.fromStack(predefined.stack).resourceCountIs('AWS::AppConfig::DeploymentStrategy', 0);
    Template.fromStack(predefined.stack).hasResourceProperties('AWS::AppConfig::Deployment', {
      DeploymentStrategyId: 'AppConfig.AllAtOnce',
    });
    const { stack } = buildSmall({ rollout: { type: 'all-at-once', bakeMinutes: 5 } });
    Template.fromStack(stack).hasResourceProperties('AWS::AppConfig::DeploymentStrategy', {
      GrowthType: 'LINEAR',
      GrowthFactor: 100,
      DeploymentDurationInMinutes: 0,
      FinalBakeTimeInMinutes: 5,
    });
  });

  test("an x86-64 function in eu-west-1 gets that region and architecture's layer", () => {
    const { fn, flags, stack } = buildSmall({ region: 'eu-west-1', architecture: lambda.Architecture.X86_64 });
    flags.bindToFunction(fn);
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', {
      Layers: ['arn:aws:lambda:eu-west-1:434848589818:layer:AWS-AppConfig-Extension:303'],
    });
  });

  test('the layer table covers the regions of the example configuration, in both architectures, and the other partitions', () => {
    for (const region of ['us-east-1', 'us-west-2', 'eu-west-1']) {
      expect(LAMBDA_EXTENSION_REGIONS).toContain(region);
      expect(appConfigExtensionLayerArn(region, lambda.Architecture.ARM_64)).toMatch(
        new RegExp(`^arn:aws:lambda:${region}:\\d{12}:layer:AWS-AppConfig-Extension-Arm64:\\d+$`),
      );
      expect(appConfigExtensionLayerArn(region, lambda.Architecture.X86_64)).toMatch(
        new RegExp(`^arn:aws:lambda:${region}:\\d{12}:layer:AWS-AppConfig-Extension:\\d+$`),
      );
    }
    expect(appConfigExtensionLayerArn('cn-north-1', lambda.Architecture.X86_64)).toBe(
      'arn:aws-cn:lambda:cn-north-1:615057806174:layer:AWS-AppConfig-Extension:243',
    );
    expect(appConfigExtensionLayerArn('us-gov-west-1', lambda.Architecture.ARM_64)).toBe(
      'arn:aws-us-gov:lambda:us-gov-west-1:946746059096:layer:AWS-AppConfig-Extension-Arm64:166',
    );
  });

  test('fails when the region has no extension layer, naming the region', () => {
    const { fn, flags } = buildSmall({ region: 'eu-isoe-west-1' });
    expect(() => flags.bindToFunction(fn)).toThrow(
      'feature flags: the AWS AppConfig Lambda extension 2.0.17054.0 has no layer for region "eu-isoe-west-1": deploy the stack to a concrete region listed in lib/constructs/feature-flags/agent.ts, or add the region from https://docs.aws.amazon.com/appconfig/latest/userguide/appconfig-integration-lambda-extensions-versions.html',
    );
  });

  test('a stack without a concrete region (a laptop deploy) picks the layer at deploy time, by AWS::Region from the table', () => {
    const { fn, flags, stack } = buildSmall({ envAgnostic: true });
    flags.bindToFunction(fn);
    const template = Template.fromStack(stack).toJSON();
    const [mappingId] = Object.keys(template.Mappings);
    expect(template.Mappings[mappingId]['eu-west-1']).toEqual({
      x8664: 'arn:aws:lambda:eu-west-1:434848589818:layer:AWS-AppConfig-Extension:303',
      arm64: 'arn:aws:lambda:eu-west-1:434848589818:layer:AWS-AppConfig-Extension-Arm64:241',
    });
    expect(Object.keys(template.Mappings[mappingId])).toEqual(LAMBDA_EXTENSION_REGIONS);
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', {
      Layers: [{ 'Fn::FindInMap': [mappingId, { Ref: 'AWS::Region' }, 'arm64'] }],
    });
  });

  test('fails when the app container is not in the task definition', () => {
    const { stack, flags } = buildSmall();
    const a = new ecs.FargateTaskDefinition(stack, 'A');
    const b = new ecs.FargateTaskDefinition(stack, 'B');
    const container = b.addContainer('App', { containerName: 'app', image: ecs.ContainerImage.fromRegistry('nginx') });
    expect(() => flags.bindToTaskDefinition(a, container)).toThrow(
      'feature flags of orders: container app does not belong to task definition Small/A',
    );
  });

  test('fails when an agent image reference built in code is not an image reference, as the config check says', () => {
    const { stack } = buildSmall();
    expect(() => agentContainerImage(stack, 'aws-appconfig-agent:latest')).toThrow(
      /^flagsAgentImage: "aws-appconfig-agent:latest" is not an image reference: use registry\/repository\[:tag\]\[@sha256:<64 hex digits>\]; pin a digest/,
    );
  });

  test('fails when an imported application ID or a new application name is not usable', () => {
    const { stack } = buildSmall();
    expect(() => FeatureFlagsApplication.fromApplicationId(stack, 'X', 'My App')).toThrow(
      'applicationId: "My App" is not an AppConfig application ID: use the 4 to 7 lower-case letters and digits AppConfig shows, e.g. "abc1234"',
    );
    expect(() => new FeatureFlagsApplication(stack, 'Y', { applicationName: 'x'.repeat(65) })).toThrow(
      `applicationName: "${'x'.repeat(65)}" is not usable: services address the application by name, so give a literal of 1 to 64 characters, unique in the account and region`,
    );
  });

  test('fails when the service name is not usable as an AppConfig environment name', () => {
    const { stack } = buildSmall();
    const alarm = cloudwatch.Alarm.fromAlarmArn(stack, 'H2', 'arn:aws:cloudwatch:us-east-1:111111111111:alarm:x');
    expect(
      () =>
        new ServiceFeatureFlags(stack, 'Bad', {
          serviceName: 'my service',
          flags: [],
          rollout: { type: 'all-at-once' },
          healthAlarm: alarm,
        }),
    ).toThrow(
      'serviceName: "my service" is not a service name: start with a letter, then letters, digits or \'-\' (at most 64), e.g. "orders"',
    );
  });

  test('fails when flags built in code break the rules that flags read from a file must follow', () => {
    const { stack } = buildSmall();
    const alarm = cloudwatch.Alarm.fromAlarmArn(stack, 'H2', 'arn:aws:cloudwatch:us-east-1:111111111111:alarm:x');
    const flags: FlagDeclaration[] = [
      {
        kind: 'multi-variant',
        name: 'x',
        variants: { on: { enabled: true, attributes: {} }, off: { enabled: false, attributes: {} } },
        default: 'off',
        rules: [{ variant: 'on', kind: 'percent', percent: 150, by: 'userId' }],
      },
    ];
    expect(
      () => new ServiceFeatureFlags(stack, 'Bad', { serviceName: 'orders', flags, rollout: { type: 'all-at-once' }, healthAlarm: alarm }),
    ).toThrow('Invalid feature flags in ServiceFeatureFlags orders:\n  - flags[0].rules[0].percent: 150 is not a percentage: use 0 to 100');
  });

  test("fails when the rollout is out of AppConfig's limits", () => {
    expect(() => buildSmall({ rollout: { type: 'linear', percent: 10, intervalMinutes: 200, bakeMinutes: 30 } })).toThrow(
      "rollout.intervalMinutes: 200 minutes x 10 steps of 10 % take 2000 minutes, longer than AppConfig's 1440-minute deployment: use a shorter interval or a bigger step",
    );
  });
});
