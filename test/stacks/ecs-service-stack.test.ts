import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Stack, Stage, Validations } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { StageEcsService } from '../../lib/config/stage-services';
import { EcsServiceStack, PublishedImage } from '../../lib/stacks/ecs-service-stack';
import { PlatformStack } from '../../lib/stacks/platform-stack';
import { TestApps } from '../support/app';
import { fixtureService } from '../support/fixtures';

const apps = new TestApps();
afterAll(() => apps.cleanup());

const ENV = { account: '111111111111', region: 'us-east-1' };
const REPO = 'arn:aws:ecr:us-east-1:222222222222:repository/safe-deploy/storefront';
const IMAGE: PublishedImage = { repositoryArn: REPO, tag: 'abc1234' };

/** The three-services fixture's storefront (port 8080, /healthz) in a target of its own, with its platform stack. */
function build(
  service: Partial<StageEcsService> = {},
  options: { envAgnostic?: boolean; image?: PublishedImage | null; natGateways?: number } = {},
) {
  const app = apps.create();
  const stage = new Stage(app, 'Beta', { env: options.envAgnostic ? undefined : ENV });
  const platform = new PlatformStack(stage, 'Platform', { ecs: true, natGateways: options.natGateways });
  const stack = new EcsServiceStack(stage, 'storefront', {
    service: fixtureService('ecs', 'storefront', {
      deployment: { type: 'canary', percent: 10, intervalMinutes: 5 },
      blueTerminationWaitMinutes: 0,
      ...service,
    }),
    platform,
    image: options.image === null ? undefined : (options.image ?? IMAGE),
  });
  return { app, stage, stack, platform };
}

/** The alarms of the stack's deployment group, as logical IDs without their hash suffix. */
function deploymentGroupAlarms(template: Template): string[] {
  const group = Object.values(template.findResources('AWS::CodeDeploy::DeploymentGroup'))[0] as {
    Properties: { AlarmConfiguration: { Alarms: Array<{ Name: { Ref: string } }> } };
  };
  return group.Properties.AlarmConfiguration.Alarms.map((a) => a.Name.Ref.replace(/[0-9A-F]{8}$/, ''));
}

/** Resources of `a` and `b` that differ, by logical ID. */
function changedResources(a: Template, b: Template): string[] {
  const ra = a.toJSON().Resources as Record<string, unknown>;
  const rb = b.toJSON().Resources as Record<string, unknown>;
  return [...new Set([...Object.keys(ra), ...Object.keys(rb)])].filter((k) => JSON.stringify(ra[k]) !== JSON.stringify(rb[k])).sort();
}

let stack: EcsServiceStack;
let template: Template;
let platformTemplate: Template;
let nagReport: {
  pluginReports: {
    pluginName: string;
    conclusion: string;
    violations: { ruleName: string; severity?: string; violatingConstructs: { constructPath: string }[] }[];
  }[];
};

beforeAll(() => {
  const built = build();
  stack = built.stack;
  Validations.of(built.app).addPlugins(new AwsSolutionsChecks(built.app));
  // A validation plugin failure makes synth throw; the report is in the assembly either way.
  let error: unknown;
  try {
    built.app.synth();
  } catch (e) {
    error = e;
  }
  nagReport = JSON.parse(readFileSync(path.join(built.app.outdir, 'validation-report.json'), 'utf8'));
  if (error) throw error;
  template = Template.fromStack(stack);
  platformTemplate = Template.fromStack(built.platform);
});

describe('EcsServiceStack', () => {
  test('cdk-nag AwsSolutions: zero unacknowledged findings', () => {
    // A plugin with nothing to report leaves no entry; any finding would be listed here (see the next test).
    const findings = nagReport.pluginReports
      .filter((r) => r.pluginName === 'AwsSolutions')
      .flatMap((r) => r.violations.map((v) => `${v.ruleName} at ${v.violatingConstructs.map((c) => c.constructPath).join(', ')}`));
    expect(findings).toEqual([]);
  });

  test('the cdk-nag check above does detect a finding (guards against a vacuous pass)', () => {
    const app = apps.create();
    const s = new Stack(new Stage(app, 'Probe', { env: ENV }), 'Probe');
    new s3.Bucket(s, 'Plain');
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => app.synth()).toThrow(/AwsSolutions-S1/);
    const report = JSON.parse(readFileSync(path.join(app.outdir, 'validation-report.json'), 'utf8')) as typeof nagReport;
    const rules = report.pluginReports.filter((r) => r.pluginName === 'AwsSolutions').flatMap((r) => r.violations.map((v) => v.ruleName));
    expect(rules).toEqual(expect.arrayContaining(['AwsSolutions-S1', 'AwsSolutions-S10']));
  });

  test('platform stack: VPC in 2 AZs without lookups, public + private subnets, one NAT with our own EIP, flow logs, the cluster', () => {
    platformTemplate.resourceCountIs('AWS::EC2::Subnet', 4);
    platformTemplate.resourceCountIs('AWS::EC2::NatGateway', 1);
    platformTemplate.resourceCountIs('AWS::EC2::EIP', 1);
    platformTemplate.hasResourceProperties('AWS::EC2::NatGateway', {
      AllocationId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^NatEip1'), 'AllocationId'] },
    });
    platformTemplate.hasResourceProperties('AWS::EC2::Subnet', { AvailabilityZone: { 'Fn::Select': [0, { 'Fn::GetAZs': '' }] } });
    platformTemplate.hasResourceProperties('AWS::EC2::Subnet', { AvailabilityZone: { 'Fn::Select': [1, { 'Fn::GetAZs': '' }] } });
    platformTemplate.hasResourceProperties('AWS::EC2::FlowLog', {
      ResourceType: 'VPC',
      TrafficType: 'REJECT',
      LogDestinationType: 'cloud-watch-logs',
    });
    platformTemplate.hasResourceProperties('AWS::ECS::Cluster', { ClusterSettings: [{ Name: 'containerInsights', Value: 'enabled' }] });
    template.resourceCountIs('AWS::EC2::VPC', 0);
    template.resourceCountIs('AWS::ECS::Cluster', 0);
  });

  test('service with the CODE_DEPLOY controller pinned to the task family, in the shared cluster', () => {
    const services = template.findResources('AWS::ECS::Service');
    const [svc] = Object.values(services) as { Properties: Record<string, unknown>; DependsOn: string[] }[];
    expect(svc.Properties).toMatchObject({
      DeploymentController: { Type: 'CODE_DEPLOY' },
      LaunchType: 'FARGATE',
      DesiredCount: 2,
      NetworkConfiguration: { AwsvpcConfiguration: { AssignPublicIp: 'DISABLED' } },
      LoadBalancers: [{ ContainerName: 'app', ContainerPort: 8080, TargetGroupArn: { Ref: expect.stringMatching(/BlueTargetGroup/) } }],
    });
    // The family name only (not a revision ARN): CloudFormation never changes it when the image does.
    expect(typeof svc.Properties.TaskDefinition).toBe('string');
    expect(svc.Properties.TaskDefinition).toMatch(/TaskDefinition/);
  });

  test('task definition: pinned ECR image, logs, read-only root, replaced revisions retained', () => {
    template.hasResource('AWS::ECS::TaskDefinition', {
      UpdateReplacePolicy: 'Retain',
      Properties: Match.objectLike({
        Cpu: '256',
        Memory: '512',
        RequiresCompatibilities: ['FARGATE'],
        ContainerDefinitions: [
          Match.objectLike({
            Name: 'app',
            Image: { 'Fn::Join': ['', ['222222222222.dkr.ecr.us-east-1.', { Ref: 'AWS::URLSuffix' }, '/safe-deploy/storefront:abc1234']] },
            ReadonlyRootFilesystem: true,
            PortMappings: [{ ContainerPort: 8080, Protocol: 'tcp' }],
            LogConfiguration: Match.objectLike({ LogDriver: 'awslogs' }),
            Environment: Match.arrayWith([{ Name: 'APP_VERSION', Value: 'abc1234' }]),
          }),
        ],
      }),
    });
  });

  test('execution role may pull from the pipeline account repository', () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Action: ['ecr:BatchCheckLayerAvailability', 'ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'],
            Effect: 'Allow',
            Resource: REPO,
          },
          { Action: 'ecr:GetAuthorizationToken', Effect: 'Allow', Resource: '*' },
        ]),
      },
      Roles: [{ Ref: Match.stringLikeRegexp('ServiceExecutionRole') }],
    });
  });

  test('ALB: production listener on 80, test listener on 8080 (restricted), access logs to a TLS-only encrypted bucket', () => {
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      Scheme: 'internet-facing',
      LoadBalancerAttributes: Match.arrayWith([{ Key: 'access_logs.s3.enabled', Value: 'true' }]),
    });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      LoadBalancerAttributes: Match.arrayWith([{ Key: 'routing.http.drop_invalid_header_fields.enabled', Value: 'true' }]),
    });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 80,
      Protocol: 'HTTP',
      DefaultActions: [{ Type: 'forward', TargetGroupArn: { Ref: Match.stringLikeRegexp('BlueTargetGroup') } }],
    });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 8080,
      Protocol: 'HTTP',
      DefaultActions: [{ Type: 'forward', TargetGroupArn: { Ref: Match.stringLikeRegexp('GreenTargetGroup') } }],
    });
    const sg = Object.values(
      template.findResources('AWS::EC2::SecurityGroup', { Properties: { GroupDescription: Match.stringLikeRegexp('^ALB') } }),
    )[0] as {
      Properties: { SecurityGroupIngress: { CidrIp: unknown; FromPort: number }[] };
    };
    expect(sg.Properties.SecurityGroupIngress).toEqual([
      expect.objectContaining({ CidrIp: '0.0.0.0/0', FromPort: 80, ToPort: 80 }),
      // The platform stack's NAT address, by a (weak) cross-stack reference.
      expect.objectContaining({
        CidrIp: {
          'Fn::Join': [
            '',
            [
              {
                'Fn::GetStackOutput': expect.objectContaining({
                  StackName: 'Beta-Platform',
                  OutputName: expect.stringMatching(/NatEip1PublicIp/),
                }),
              },
              '/32',
            ],
          ],
        },
        FromPort: 8080,
        ToPort: 8080,
      }),
    ]);
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
      },
    });
  });

  test("blue and green target groups health-check the service's own path (/healthz)", () => {
    const tgs = template.findResources('AWS::ElasticLoadBalancingV2::TargetGroup', {
      Properties: {
        HealthCheckPath: '/healthz',
        Matcher: { HttpCode: '200' },
        TargetType: 'ip',
        Port: 8080,
        HealthCheckIntervalSeconds: 10,
      },
    });
    expect(Object.keys(tgs).sort()).toEqual([expect.stringMatching(/BlueTargetGroup/), expect.stringMatching(/GreenTargetGroup/)]);
  });

  test('deployment group: canary config, blue/green with test listener, alarms, rollback on failure, stop and alarm', () => {
    template.hasResourceProperties('AWS::CodeDeploy::DeploymentConfig', {
      ComputePlatform: 'ECS',
      TrafficRoutingConfig: { Type: 'TimeBasedCanary', TimeBasedCanary: { CanaryPercentage: 10, CanaryInterval: 5 } },
    });
    template.hasResourceProperties('AWS::CodeDeploy::DeploymentGroup', {
      DeploymentConfigName: { Ref: Match.stringLikeRegexp('DeploymentConfig') },
      DeploymentStyle: { DeploymentType: 'BLUE_GREEN', DeploymentOption: 'WITH_TRAFFIC_CONTROL' },
      AutoRollbackConfiguration: {
        Enabled: true,
        Events: ['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_REQUEST', 'DEPLOYMENT_STOP_ON_ALARM'],
      },
      AlarmConfiguration: {
        Enabled: true,
        Alarms: Match.arrayWith([
          { Name: { Ref: Match.stringLikeRegexp('JudgeErrorJudge') } },
          { Name: { Ref: Match.stringLikeRegexp('JudgeCatastrophe') } },
        ]),
      },
      BlueGreenDeploymentConfiguration: {
        TerminateBlueInstancesOnDeploymentSuccess: { Action: 'TERMINATE', TerminationWaitTimeInMinutes: 0 },
        DeploymentReadyOption: { ActionOnTimeout: 'CONTINUE_DEPLOYMENT', WaitTimeInMinutes: 0 },
      },
      LoadBalancerInfo: {
        TargetGroupPairInfoList: [
          Match.objectLike({
            ProdTrafficRoute: { ListenerArns: [{ Ref: Match.stringLikeRegexp('ProductionListener') }] },
            TestTrafficRoute: { ListenerArns: [{ Ref: Match.stringLikeRegexp('TestListener') }] },
          }),
        ],
      },
    });
    // The judge (4), unhealthy tasks per target group (2), the load balancer's own 5xx, the hook's errors: within CodeDeploy's 10.
    expect(deploymentGroupAlarms(template)).toEqual([
      'ServiceJudgeErrorJudge',
      'ServiceJudgeFastErrorJudge',
      'ServiceJudgeLatencyJudge',
      'ServiceJudgeCatastrophe',
      'ServiceBlueUnhealthyHostsAlarm',
      'ServiceGreenUnhealthyHostsAlarm',
      'ServiceLoadBalancerErrorsAlarm',
      'ServiceHookErrorsAlarm',
    ]);
  });

  test('a canary is judged against its baseline: the target group with fewer requests against the other', () => {
    for (const name of ['ErrorJudge', 'FastErrorJudge', 'LatencyJudge', 'Catastrophe']) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: `Beta-storefront-${name}`, TreatMissingData: 'notBreaching' });
    }
    template.resourcePropertiesCountIs('AWS::CloudWatch::Alarm', { AlarmName: Match.stringLikeRegexp('-5xxRate$') }, 0);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'Beta-storefront-Green-UnhealthyHosts',
      MetricName: 'UnHealthyHostCount',
      Threshold: 0,
    });
  });

  test("the load balancer's own 5xx (no healthy target, timeouts), which no target group counts", () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'Beta-storefront-Elb5xxRate',
      Threshold: 1,
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: 'IF(requests >= 10, 100 * FILL(errors, 0) / requests, 0)' }),
        Match.objectLike({
          Id: 'errors',
          MetricStat: Match.objectLike({
            Metric: Match.objectLike({ MetricName: 'HTTPCode_ELB_5XX_Count', Dimensions: [Match.objectLike({ Name: 'LoadBalancer' })] }),
          }),
        }),
      ]),
    });
  });

  test('composite alarm named <stack name>-Health over the absolute alarms (the judges are silent after the shift)', () => {
    const composite = Object.values(template.findResources('AWS::CloudWatch::CompositeAlarm'))[0] as {
      Properties: { AlarmName: string; AlarmRule: unknown };
    };
    expect(composite.Properties.AlarmName).toBe('Beta-storefront-Health');
    const rule = JSON.stringify(composite.Properties.AlarmRule);
    expect(rule.match(/ALARM\(/g)).toHaveLength(5);
    for (const part of ['JudgeCatastrophe', 'BlueUnhealthyHosts', 'GreenUnhealthyHosts', 'LoadBalancerErrors', 'HookErrors'])
      expect(rule).toContain(part);
  });

  test('test hook: in the VPC, calls the test listener, may report only to its group; CodeDeploy may invoke it', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('AfterAllowTestTraffic'),
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      VpcConfig: Match.objectLike({ SubnetIds: Match.anyValue() }),
      Environment: {
        Variables: {
          TEST_URL: { 'Fn::Join': ['', ['http://', { 'Fn::GetAtt': [Match.stringLikeRegexp('LoadBalancer'), 'DNSName'] }, ':8080']] },
          TEST_PROBES: '[{"path":"/healthz","expectedStatus":200}]',
          CHECK_TIMEOUT_MS: '24000',
        },
      },
    });
    const logWrite = (logGroup: string) => ({
      Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      Effect: 'Allow',
      Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp(logGroup), 'Arn'] },
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [
          logWrite('TestTrafficHookFunctionLogs'),
          {
            Action: [
              'ec2:AssignPrivateIpAddresses',
              'ec2:CreateNetworkInterface',
              'ec2:DeleteNetworkInterface',
              'ec2:DescribeNetworkInterfaces',
              'ec2:DescribeSubnets',
              'ec2:UnassignPrivateIpAddresses',
            ],
            Effect: 'Allow',
            Resource: '*',
          },
          {
            Action: 'codedeploy:PutLifecycleEventHookExecutionStatus',
            Effect: 'Allow',
            Resource: Match.objectLike({ 'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp(':deploymentgroup:')])] }),
          },
        ],
      },
      Roles: [{ Ref: Match.stringLikeRegexp('TestTrafficHookFunctionRole') }],
    });
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: 'lambda.amazonaws.com' } })] },
      Description: Match.stringLikeRegexp('TestTrafficHook/Function$'),
      ManagedPolicyArns: Match.absent(),
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [
          {
            Action: 'lambda:InvokeFunction',
            Effect: 'Allow',
            // The test hook and, the service being judged, the traffic-check hook; nothing else.
            Resource: [
              { 'Fn::GetAtt': [Match.stringLikeRegexp('TestTrafficHook'), 'Arn'] },
              { 'Fn::GetAtt': [Match.stringLikeRegexp('TrafficCheckHook'), 'Arn'] },
              { 'Fn::Join': ['', [{ 'Fn::GetAtt': [Match.stringLikeRegexp('TestTrafficHook'), 'Arn'] }, ':*']] },
              { 'Fn::Join': ['', [{ 'Fn::GetAtt': [Match.stringLikeRegexp('TrafficCheckHook'), 'Arn'] }, ':*']] },
            ],
          },
        ],
      },
      Roles: [{ Ref: Match.stringLikeRegexp('ServiceDeploymentRole') }],
    });
  });

  test("traffic-check hook of the judged canary: knows the step, the judge's minimum, the load balancer and both target groups", () => {
    const fnId = stack.getLogicalId(stack.service.trafficCheckHook!.function.node.defaultChild as never);
    const fn = template.toJSON().Resources[fnId];
    expect(fn.Properties).toMatchObject({
      FunctionName: 'Beta-storefront-Service-TrafficCheckHook',
      Description: 'CodeDeploy AfterAllowTraffic hook: refuses a canary step that served too few requests to be judged',
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      // 240 s to count (and wait for the step's last minute to be published) + 30 s to report.
      Timeout: 270,
      Environment: {
        Variables: {
          CANARY_TRAFFIC_CHECK: '{"minRequests":100,"stepMinutes":5}',
          LOAD_BALANCER: { 'Fn::GetAtt': [expect.stringMatching(/^ServiceLoadBalancer/), 'LoadBalancerFullName'] },
          TARGET_GROUPS: {
            'Fn::Join': [
              '',
              [
                { 'Fn::GetAtt': [expect.stringMatching(/^ServiceBlueTargetGroup/), 'TargetGroupFullName'] },
                ',',
                { 'Fn::GetAtt': [expect.stringMatching(/^ServiceGreenTargetGroup/), 'TargetGroupFullName'] },
              ],
            ],
          },
          STACK_ID: { Ref: 'AWS::StackId' },
          // The service whose original task set tells which task definition a deployment replaces.
          CLUSTER_NAME:
            template.toJSON().Resources[stack.getLogicalId(stack.service.deployment.resource.node.defaultChild as never)].Properties
              .ClusterName,
          SERVICE_NAME: { 'Fn::GetAtt': [expect.stringMatching(/^Service[0-9A-F]{8}$/), 'Name'] },
          CHECK_TIMEOUT_MS: '240000',
        },
      },
    });
    // It calls AWS APIs only: no VPC.
    expect(fn.Properties.VpcConfig).toBeUndefined();
  });

  test('traffic-check hook IAM: report and read only its group and its history, the stack status of its own stack and its own service; targets, metrics and task definitions on * (no resource-level permissions)', () => {
    const policies = template.findResources('AWS::IAM::Policy', {
      Properties: { Roles: [{ Ref: Match.stringLikeRegexp('TrafficCheckHookFunctionRole') }] },
    });
    const statements = (Object.values(policies)[0] as { Properties: { PolicyDocument: { Statement: unknown[] } } }).Properties
      .PolicyDocument.Statement;
    expect(statements).toEqual([
      {
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Effect: 'Allow',
        Resource: { 'Fn::GetAtt': [expect.stringMatching(/TrafficCheckHookFunctionLogs/), 'Arn'] },
      },
      {
        Action: [
          'codedeploy:BatchGetDeployments',
          'codedeploy:GetDeployment',
          'codedeploy:ListDeployments',
          'codedeploy:PutLifecycleEventHookExecutionStatus',
        ],
        Effect: 'Allow',
        Resource: { 'Fn::Join': ['', expect.arrayContaining(['arn:aws:codedeploy:us-east-1:111111111111:deploymentgroup:'])] },
      },
      {
        Action: [
          'cloudwatch:GetMetricData',
          'codedeploy:BatchGetDeploymentTargets',
          'codedeploy:ListDeploymentTargets',
          'ecs:DescribeTaskDefinition',
          'ecs:ListTaskDefinitions',
        ],
        Effect: 'Allow',
        Resource: '*',
      },
      { Action: 'cloudformation:DescribeStacks', Effect: 'Allow', Resource: { Ref: 'AWS::StackId' } },
      // The ECS service ARN (its Ref), not every service of the cluster.
      { Action: 'ecs:DescribeServices', Effect: 'Allow', Resource: { Ref: expect.stringMatching(/^Service[0-9A-F]{8}$/) } },
    ]);
  });

  test('hook errors: the alarm the deployment group watches covers both hooks by name', () => {
    const alarm = Object.values(template.findResources('AWS::CloudWatch::Alarm')).find((a) =>
      JSON.stringify(a).includes('Hook errors'),
    ) as { Properties: { Metrics: unknown[] } };
    const names = JSON.stringify(alarm.Properties.Metrics);
    expect(names).toContain('"Beta-storefront-Service-TestTrafficHook"');
    expect(names).toContain('"Beta-storefront-Service-TrafficCheckHook"');
  });

  test('test hook: egress only to the test listener port and HTTPS', () => {
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: 'AfterAllowTestTraffic hook: out to the test listener and HTTPS only',
      SecurityGroupEgress: [
        Match.objectLike({ CidrIp: '0.0.0.0/0', IpProtocol: 'tcp', FromPort: 8080, ToPort: 8080 }),
        Match.objectLike({ CidrIp: '0.0.0.0/0', IpProtocol: 'tcp', FromPort: 443, ToPort: 443 }),
      ],
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('AfterAllowTestTraffic'),
      VpcConfig: Match.objectLike({
        SecurityGroupIds: [{ 'Fn::GetAtt': [Match.stringLikeRegexp('TestTrafficHookSecurityGroup'), 'GroupId'] }],
      }),
    });
  });

  test('CodeDeploy role: AWSCodeDeployRoleForECSLimited, not the account-wide AWSCodeDeployRoleForECS', () => {
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: 'codedeploy.amazonaws.com' } })] },
      ManagedPolicyArns: [{ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/AWSCodeDeployRoleForECSLimited']] }],
    });
    template.hasResourceProperties('AWS::CodeDeploy::DeploymentGroup', {
      ServiceRoleArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('ServiceDeploymentRole'), 'Arn'] },
    });
  });

  test('no role has AWSLambdaBasicExecutionRole, AWSLambdaVPCAccessExecutionRole or AWSCodeDeployRoleForECS (logs:* or invoke/read on the whole account)', () => {
    // Except aws-cdk-lib's own provider that strips the VPC's default security group rules at deploy time.
    const roles = Object.entries(template.findResources('AWS::IAM::Role')).filter(([id]) => !id.startsWith('CustomVpcRestrictDefaultSG'));
    expect(roles.length).toBeGreaterThanOrEqual(9);
    const managed = JSON.stringify(roles.map(([, r]) => r.Properties.ManagedPolicyArns ?? []));
    expect(managed).not.toContain('AWSLambdaBasicExecutionRole');
    expect(managed).not.toContain('AWSLambdaVPCAccessExecutionRole');
    expect(managed).not.toMatch(/AWSCodeDeployRoleForECS"/);
  });

  test('handler log groups (hooks, deployment resource, Provider framework and its waiter): 90 days, deleted with the stack', () => {
    const groups = Object.entries(template.findResources('AWS::Logs::LogGroup')).filter(([id]) => /Hook|Deployment/.test(id));
    expect(groups.map(([id]) => id.replace(/[0-9A-F]{8}$/, '')).sort()).toEqual([
      'ServiceDeploymentIsCompleteLogs',
      'ServiceDeploymentOnEventLogs',
      'ServiceDeploymentProviderLogs',
      'ServiceDeploymentWaiterLogs',
      'ServiceTestTrafficHookFunctionLogs',
      'ServiceTrafficCheckHookFunctionLogs',
    ]);
    for (const [, g] of groups)
      expect(g).toMatchObject({ DeletionPolicy: 'Delete', UpdateReplacePolicy: 'Delete', Properties: { RetentionInDays: 90 } });
  });

  test('deployment resource: task definition ARN, service, container, hook; waits 55 min at most (CloudFormation allows 60), 30 s polling', () => {
    template.hasResourceProperties('Custom::EcsCodeDeployDeployment', {
      ApplicationName: { Ref: Match.stringLikeRegexp('DeploymentGroupApplication') },
      DeploymentGroupName: { Ref: Match.stringLikeRegexp('DeploymentGroup') },
      ClusterName: Match.anyValue(),
      ServiceName: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Service'), 'Name'] },
      ServiceTimeout: '3600',
      TaskDefinitionArn: { Ref: Match.stringLikeRegexp('TaskDefinition') },
      ContainerName: 'app',
      ContainerPort: '8080',
      Hooks: {
        AfterAllowTestTraffic: { 'Fn::GetAtt': [Match.stringLikeRegexp('TestTrafficHook'), 'Arn'] },
        AfterAllowTraffic: { 'Fn::GetAtt': [Match.stringLikeRegexp('TrafficCheckHook'), 'Arn'] },
      },
    });
    const sm = Object.values(template.findResources('AWS::StepFunctions::StateMachine'))[0] as {
      Properties: { DefinitionString: unknown; LoggingConfiguration: { Level: string } };
    };
    const def = JSON.stringify(sm.Properties.DefinitionString);
    expect(def).toContain('\\"IntervalSeconds\\":30');
    expect(def).toContain('\\"MaxAttempts\\":110'); // 55 min / 30 s
    expect(sm.Properties.LoggingConfiguration.Level).toBe('ALL');
    const [cr] = Object.values(template.findResources('Custom::EcsCodeDeployDeployment')) as { DependsOn: string[] }[];
    expect(cr.DependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/^BetaEcsService|Service/)]));
  });

  test('deployment resource IAM: CodeDeploy scoped as far as the authorization reference allows, the service read-only, PassRole only to ecs-tasks', () => {
    const groupArn = Match.objectLike({ 'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp(':deploymentgroup:')])] });
    // Both functions may start the deployment (isComplete does after a previous release's termination wait).
    const startDeployment = [
      {
        Action: ['codedeploy:CreateDeployment', 'codedeploy:GetDeployment', 'codedeploy:GetDeploymentGroup', 'codedeploy:ListDeployments'],
        Effect: 'Allow',
        Resource: groupArn,
      },
      { Action: 'ecs:DescribeServices', Effect: 'Allow', Resource: { Ref: Match.stringLikeRegexp('^Service') } },
      {
        Action: 'codedeploy:GetDeploymentConfig',
        Effect: 'Allow',
        Resource: Match.objectLike({ 'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp(':deploymentconfig:')])] }),
      },
      {
        Action: ['codedeploy:GetApplicationRevision', 'codedeploy:RegisterApplicationRevision'],
        Effect: 'Allow',
        Resource: Match.objectLike({ 'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp(':application:')])] }),
      },
      {
        Action: 'iam:PassRole',
        Effect: 'Allow',
        Condition: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
        Resource: [
          { 'Fn::GetAtt': [Match.stringLikeRegexp('ServiceExecutionRole'), 'Arn'] },
          { 'Fn::GetAtt': [Match.stringLikeRegexp('TaskDefinitionTaskRole'), 'Arn'] },
        ],
      },
    ];
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [
          {
            Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
            Effect: 'Allow',
            Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('DeploymentOnEventLogs'), 'Arn'] },
          },
          ...startDeployment,
          // No resource-level permissions for StopDeployment and ContinueDeployment (IAM service authorization reference).
          { Action: ['codedeploy:ContinueDeployment', 'codedeploy:StopDeployment'], Effect: 'Allow', Resource: '*' },
        ],
      },
      Roles: [{ Ref: Match.stringLikeRegexp('DeploymentOnEventRole') }],
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [
          {
            Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
            Effect: 'Allow',
            Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('DeploymentIsCompleteLogs'), 'Arn'] },
          },
          ...startDeployment,
          { Action: ['codedeploy:BatchGetDeploymentTargets', 'codedeploy:ListDeploymentTargets'], Effect: 'Allow', Resource: '*' },
        ],
      },
      Roles: [{ Ref: Match.stringLikeRegexp('DeploymentIsCompleteRole') }],
    });
    // The Provider framework's functions: their own log group, and invoking our two handlers only.
    for (const role of ['DeploymentFrameworkOnEventRole', 'DeploymentFrameworkCompleteAndTimeoutRole']) {
      template.hasResourceProperties('AWS::IAM::Policy', {
        PolicyDocument: {
          Statement: Match.arrayWith([
            {
              Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
              Effect: 'Allow',
              Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('DeploymentProviderLogs'), 'Arn'] },
            },
          ]),
        },
        Roles: [{ Ref: Match.stringLikeRegexp(role) }],
      });
    }
  });

  test('dashboard and outputs', () => {
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    template.hasOutput('ServiceUrl', {
      Value: { 'Fn::Join': ['', ['http://', { 'Fn::GetAtt': [Match.stringLikeRegexp('LoadBalancer'), 'DNSName'] }]] },
    });
    expect(stack.serviceUrl.node.id).toBe('ServiceUrl');
    expect(stack.service.compositeAlarm).toBeDefined();
  });

  test('snapshot', () => {
    expect(template.toJSON()).toMatchSnapshot();
  });
});

describe('a new image changes only the task definition and the deployment resource', () => {
  test('second synth with a new tag', () => {
    const next = Template.fromStack(build({}, { image: { repositoryArn: REPO, tag: 'def5678' } }).stack);
    expect(changedResources(template, next)).toEqual([
      expect.stringMatching(/^ServiceDeployment[0-9A-F]{8}$/),
      expect.stringMatching(/^ServiceTaskDefinition[0-9A-F]{8}$/),
    ]);
    const svc = (t: Template) => JSON.stringify(Object.values(t.findResources('AWS::ECS::Service'))[0]);
    expect(svc(next)).toBe(svc(template));
  });
});

describe('deployment config per stage type, overrides and env-agnostic synth', () => {
  test('without a canary: fixed 5xx rate as metric math, p99 latency, unhealthy hosts per target group; defaults, missing data not breaching', () => {
    const linear = Template.fromStack(build({ deployment: { type: 'linear', percent: 20, intervalMinutes: 2 } }).stack);
    linear.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'Beta-storefront-Green-5xxRate',
      Threshold: 1,
      EvaluationPeriods: 3,
      DatapointsToAlarm: 2,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: '100 * FILL(greenErrors, 0) / greenRequests', Id: 'expr_1' }),
        Match.objectLike({
          Id: 'greenErrors',
          MetricStat: Match.objectLike({
            Metric: Match.objectLike({ MetricName: 'HTTPCode_Target_5XX_Count', Namespace: 'AWS/ApplicationELB' }),
            Period: 60,
            Stat: 'Sum',
          }),
          ReturnData: false,
        }),
        Match.objectLike({
          Id: 'greenRequests',
          MetricStat: Match.objectLike({ Metric: Match.objectLike({ MetricName: 'RequestCount' }), Period: 60, Stat: 'Sum' }),
          ReturnData: false,
        }),
      ]),
    });
    linear.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'Beta-storefront-Blue-p99Latency',
      MetricName: 'TargetResponseTime',
      ExtendedStatistic: 'p99',
      Threshold: 1,
      Period: 60,
      TreatMissingData: 'notBreaching',
    });
    linear.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'Beta-storefront-Green-UnhealthyHosts',
      MetricName: 'UnHealthyHostCount',
      Statistic: 'Maximum',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
    });
    // Six per target group, the load balancer's 5xx, the hook's errors.
    linear.resourceCountIs('AWS::CloudWatch::Alarm', 8);
    // Nothing to hold without a judge: no traffic-check hook, and the AppSpec has only the test hook.
    linear.resourcePropertiesCountIs('AWS::Lambda::Function', { Description: Match.stringLikeRegexp('AfterAllowTraffic hook') }, 0);
    linear.hasResourceProperties('Custom::EcsCodeDeployDeployment', {
      Hooks: { AfterAllowTestTraffic: Match.anyValue(), AfterAllowTraffic: Match.absent() },
    });
  });

  test('warns, as the Lambda stack does, when a linear step is shorter than the fixed alarms can react', () => {
    const short = build({ deployment: { type: 'linear', percent: 20, intervalMinutes: 5 } }).stack;
    Annotations.fromStack(short).hasWarning(
      '/Beta/storefront',
      "deployment.intervalMinutes 5 is shorter than the alarms' worst-case detection time (360 s): a bad version may take all traffic before its alarm fires. Use intervalMinutes >= 6 or faster alarms. [ack: safe-deploy:canary-shorter-than-alarms]",
    );
    const outlasting = build({ deployment: { type: 'linear', percent: 20, intervalMinutes: 10 } }).stack;
    Annotations.fromStack(outlasting).hasNoWarning('*', Match.stringLikeRegexp('worst-case detection'));
  });

  test('a judged canary warns when its step is too short for the traffic the service expects', () => {
    const quiet = build({ deployment: { type: 'canary', percent: 10, intervalMinutes: 10 }, expectedRequestsPerSecond: 5 }).stack;
    Annotations.fromStack(quiet).hasWarning('/Beta/storefront/Service/Judge', Match.stringLikeRegexp('^CanaryJudge: .*'));
    const busy = build({ deployment: { type: 'canary', percent: 10, intervalMinutes: 10 }, expectedRequestsPerSecond: 200 }).stack;
    Annotations.fromStack(busy).hasNoWarning('*', Match.stringLikeRegexp('CanaryJudge'));
  });

  test("a service that publishes its own metrics: SAFE_DEPLOY_METRICS_SERVICE, and a 30-s judge on its task definition's revision", () => {
    const { stack: own } = build({ deployment: { type: 'canary', percent: 10, intervalMinutes: 10 }, highResolutionMetrics: true });
    const ownTemplate = Template.fromStack(own);
    ownTemplate.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: Match.arrayWith([
        Match.objectLike({ Environment: Match.arrayWith([{ Name: 'SAFE_DEPLOY_METRICS_SERVICE', Value: 'Beta-storefront' }]) }),
      ]),
    });
    const taskDefinition = Object.keys(ownTemplate.findResources('AWS::ECS::TaskDefinition'))[0];
    ownTemplate.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'Beta-storefront-HighResErrorJudge',
      EvaluationPeriods: 3,
      Metrics: Match.arrayWith([
        Match.objectLike({
          Id: 'creq',
          MetricStat: {
            Metric: {
              Namespace: 'SafeDeploy/Canary',
              MetricName: 'Requests',
              Dimensions: [
                { Name: 'Service', Value: 'Beta-storefront' },
                { Name: 'Version', Value: { 'Fn::Select': [6, { 'Fn::Split': [':', { Ref: taskDefinition }] }] } },
              ],
            },
            Period: 30,
            Stat: 'Sum',
          },
        }),
      ]),
    });
    // Nine of CodeDeploy's ten: the fast judge after the fast one-minute judge, the rest as without it.
    const alarms = deploymentGroupAlarms(ownTemplate);
    expect(alarms).toHaveLength(9);
    expect(alarms[2]).toBe('ServiceJudgeHighResErrorJudge');
    expect(alarms.filter((a) => a !== 'ServiceJudgeHighResErrorJudge')).toEqual(
      deploymentGroupAlarms(Template.fromStack(build({ deployment: { type: 'canary', percent: 10, intervalMinutes: 10 } }).stack)),
    );
    // Without a canary there is no judge: the service still publishes (in every stage), nothing alarms on it.
    const linear = Template.fromStack(
      build({ deployment: { type: 'linear', percent: 20, intervalMinutes: 10 }, highResolutionMetrics: true }).stack,
    );
    linear.resourcePropertiesCountIs('AWS::CloudWatch::Alarm', { AlarmName: Match.stringLikeRegexp('HighResErrorJudge$') }, 0);
    linear.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: Match.arrayWith([
        Match.objectLike({ Environment: Match.arrayWith([{ Name: 'SAFE_DEPLOY_METRICS_SERVICE', Value: 'Beta-storefront' }]) }),
      ]),
    });
  });

  test('linear', () => {
    Template.fromStack(build({ deployment: { type: 'linear', percent: 20, intervalMinutes: 2 } }).stack).hasResourceProperties(
      'AWS::CodeDeploy::DeploymentConfig',
      {
        TrafficRoutingConfig: { Type: 'TimeBasedLinear', TimeBasedLinear: { LinearPercentage: 20, LinearInterval: 2 } },
      },
    );
  });

  test('all-at-once, alarm overrides, blue wait, HTTPS, two NATs, env-agnostic with the local image asset', () => {
    const built = build(
      {
        deployment: { type: 'all-at-once' },
        alarms: { errorRatePercent: 5, p99LatencyMs: 2500, periodSeconds: 120, evaluationPeriods: 5, datapointsToAlarm: 3 },
        blueTerminationWaitMinutes: 30,
        certificateArn: 'arn:aws:acm:us-east-1:111111111111:certificate/12345678-1234-1234-1234-123456789012',
      },
      { envAgnostic: true, image: null, natGateways: 2 },
    );
    const t = Template.fromStack(built.stack);
    t.resourceCountIs('AWS::CodeDeploy::DeploymentConfig', 0);
    t.hasResourceProperties('AWS::CodeDeploy::DeploymentGroup', {
      DeploymentConfigName: 'CodeDeployDefault.ECSAllAtOnce',
      BlueGreenDeploymentConfiguration: Match.objectLike({
        TerminateBlueInstancesOnDeploymentSuccess: { Action: 'TERMINATE', TerminationWaitTimeInMinutes: 30 },
      }),
    });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: Match.stringLikeRegexp('-Blue-5xxRate$'),
      Threshold: 5,
      EvaluationPeriods: 5,
      DatapointsToAlarm: 3,
    });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'TargetResponseTime', Threshold: 2.5, Period: 120 });
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 443,
      Protocol: 'HTTPS',
      Certificates: [{ CertificateArn: Match.stringLikeRegexp('^arn:aws:acm') }],
    });
    Template.fromStack(built.platform).resourceCountIs('AWS::EC2::NatGateway', 2);
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      LoadBalancerAttributes: Match.arrayWith([{ Key: 'access_logs.s3.enabled', Value: 'true' }]),
    });
    t.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: 's3:PutObject',
            Principal: {
              AWS: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::', { 'Fn::FindInMap': Match.anyValue() }, ':root']] },
            },
          }),
        ]),
      },
    });
    t.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [Match.objectLike({ Image: { 'Fn::Sub': Match.stringLikeRegexp('container-assets') } })],
    });
  });
});

describe('validation', () => {
  test('fails when natGateways is 0', () => {
    expect(() => build({}, { natGateways: 0 })).toThrow(
      'natGateways: 0 is out of range: use 1 (cost-sized) or 2 (one per AZ); tasks run in private subnets and need egress',
    );
  });
  test('fails when blueTerminationWaitMinutes is out of range', () => {
    expect(() => build({ blueTerminationWaitMinutes: 3000 })).toThrow(
      "blueTerminationWait: 3000 minutes is out of CodeDeploy's range: use 0 to 2880 minutes (2 days)",
    );
  });
  test('fails when the image is not an ECR repository ARN', () => {
    expect(() => build({}, { image: { repositoryArn: 'my-repo', tag: 'abc' } })).toThrow(
      'image: {"repositoryArn":"my-repo","tag":"abc"} is not an ECR image: use { repositoryArn: "arn:aws:ecr:<region>:<account>:repository/<name>", tag: "<content hash>" }',
    );
  });
  test('fails when the platform stack has no cluster', () => {
    const app = apps.create();
    const stage = new Stage(app, 'Beta', { env: ENV });
    const platform = new PlatformStack(stage, 'Platform', { ecs: false });
    expect(
      () => new EcsServiceStack(stage, 'storefront', { service: fixtureService('ecs', 'storefront'), platform, image: IMAGE }),
    ).toThrow('EcsServiceStack Beta/storefront: the platform stack Beta/Platform has no cluster: create it with ecs: true');
  });
  test('fails when an alarm override is invalid', () => {
    expect(() => build({ alarms: { evaluationPeriods: 2, datapointsToAlarm: 3 } })).toThrow(
      'alarms.datapointsToAlarm: 3 must be a whole number from 1 to evaluationPeriods (2)',
    );
  });
  test('fails when the certificate ARN is not an ACM ARN', () => {
    expect(() => build({ certificateArn: 'arn:aws:iam::111111111111:server-certificate/x' })).toThrow(
      'certificateArn: "arn:aws:iam::111111111111:server-certificate/x" is not an ACM certificate ARN: use arn:aws:acm:<region>:<account>:certificate/<uuid>',
    );
  });
});
