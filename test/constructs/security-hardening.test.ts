import * as path from 'node:path';
import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { CanaryEcsService, CanaryEcsServiceProps } from '../../lib/constructs/canary-ecs-service';
import { CanaryLambdaService } from '../../lib/constructs/canary-lambda-service';
import { ImageRepository, pullRolePath } from '../../lib/constructs/image-repository';
import { ServiceStage } from '../../lib/pipeline/service-stage';
import { smokeTest } from '../../lib/pipeline/smoke-test';
import { TestApps } from '../support/app';
import { FIXTURES_DIR, fixtureConfig } from '../support/fixtures';

const apps = new TestApps();
afterAll(() => apps.cleanup());
const ENTRY = path.join(FIXTURES_DIR, 'services/orders-api/handler.ts');
const CERT = 'arn:aws:acm:us-east-1:111111111111:certificate/00000000-0000-4000-8000-000000000000';

function stack(): Stack {
  const s = new Stack(apps.create({ context: { 'aws:cdk:bundling-stacks': [] } }), 'S', {
    env: { account: '111111111111', region: 'us-east-1' },
  });
  s.node.setContext('availability-zones:account=111111111111:region=us-east-1', ['us-east-1a', 'us-east-1b']);
  return s;
}

function lambdaService(authType: lambda.FunctionUrlAuthType, reservedConcurrentExecutions?: number): Template {
  const s = stack();
  new CanaryLambdaService(s, 'Api', {
    entry: ENTRY,
    deploymentConfig: codedeploy.LambdaDeploymentConfig.ALL_AT_ONCE,
    functionUrlAuthType: authType,
    healthCheck: { path: '/health', expectedStatus: 200 },
    reservedConcurrentExecutions,
  });
  return Template.fromStack(s);
}

function ecsService(props: Partial<CanaryEcsServiceProps> = {}): { template: Template; service: CanaryEcsService } {
  const s = stack();
  const cluster = new ecs.Cluster(s, 'Cluster', { vpc: new ec2.Vpc(s, 'Vpc', { maxAzs: 2, natGateways: 1 }) });
  const service = new CanaryEcsService(s, 'Web', {
    cluster,
    image: ecs.ContainerImage.fromRegistry('public.ecr.aws/docker/library/node:22-alpine'),
    deploymentConfig: codedeploy.EcsDeploymentConfig.ALL_AT_ONCE,
    testTrafficPeers: [ec2.Peer.ipv4('203.0.113.10/32')],
    memoryLimitMiB: 1024,
    cpu: 512,
    ...props,
  });
  return { template: Template.fromStack(s), service };
}

describe('Function URLs', () => {
  test('fails when a public URL has no reserved concurrency to cap it', () => {
    expect(() => lambdaService(lambda.FunctionUrlAuthType.NONE)).toThrow(
      /reservedConcurrentExecutions: is not set, and the Function URL is public \(auth NONE\): .*; set a cap \(e\.g\. 100\) or use FunctionUrlAuthType\.AWS_IAM/,
    );
  });

  test('a public URL is capped by the reserved concurrency', () => {
    const t = lambdaService(lambda.FunctionUrlAuthType.NONE, 40);
    t.hasResourceProperties('AWS::Lambda::Function', { ReservedConcurrentExecutions: 40, Handler: 'index.handler' });
    t.hasResourceProperties('AWS::Lambda::Url', { AuthType: 'NONE' });
  });

  test('an IAM URL needs no cap, grants nobody, and the hooks still check the new version by invoking it', () => {
    const t = lambdaService(lambda.FunctionUrlAuthType.AWS_IAM);
    t.hasResourceProperties('AWS::Lambda::Url', { AuthType: 'AWS_IAM' });
    // No resource policy lets anyone call the URL: callers sign with their own IAM permissions.
    expect(t.findResources('AWS::Lambda::Permission', { Properties: { Principal: '*' } })).toEqual({});
    // The hooks do not go through the URL: they invoke the version with a Function URL event.
    t.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: 'lambda:InvokeFunction',
            Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [Match.stringLikeRegexp('^ApiFunction'), 'Arn'] }, ':*']] },
          }),
        ]),
      },
    });
    t.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ SERVICE_CHECK: Match.stringLikeRegexp('"type":"http"') }) },
    });
  });
});

describe('ECS service hardening', () => {
  test('the container runs as an unprivileged user with the task memory as its hard limit', () => {
    const { template } = ecsService();
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [Match.objectLike({ Name: 'app', User: '1000', Memory: 1024, ReadonlyRootFilesystem: true })],
    });
  });

  test('the user and the execution role path are configurable', () => {
    const { template } = ecsService({ user: 'node', executionRolePath: '/safe-deploy/shop/' });
    template.hasResourceProperties('AWS::ECS::TaskDefinition', { ContainerDefinitions: [Match.objectLike({ User: 'node' })] });
    template.hasResourceProperties('AWS::IAM::Role', {
      Path: '/safe-deploy/shop/',
      AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: 'ecs-tasks.amazonaws.com' } })] },
    });
  });

  test('fails when the user is root', () => {
    expect(() => ecsService({ user: '0:0' })).toThrow(
      'user: "0:0" is root or not a user: use an unprivileged uid[:gid] or a user name the image has, e.g. "1000" or "node"',
    );
    expect(() => ecsService({ user: 'root' })).toThrow(/user: "root" is root or not a user/);
  });

  test('fails when the execution role path is not an IAM path', () => {
    expect(() => ecsService({ executionRolePath: 'safe-deploy' })).toThrow(
      'executionRolePath: "safe-deploy" is not an IAM path: start and end with "/", e.g. "/safe-deploy/"',
    );
  });

  test('with a certificate: HTTPS on 443 with a TLS 1.2+ policy, port 80 redirects, and CodeDeploy shifts the HTTPS listener', () => {
    const { template, service } = ecsService({ certificateArn: CERT });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 443,
      Protocol: 'HTTPS',
      SslPolicy: 'ELBSecurityPolicy-TLS13-1-2-2021-06',
      Certificates: [{ CertificateArn: CERT }],
    });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 80,
      Protocol: 'HTTP',
      DefaultActions: [{ Type: 'redirect', RedirectConfig: { Port: '443', Protocol: 'HTTPS', StatusCode: 'HTTP_301' } }],
    });
    const stackOf = Stack.of(service);
    const listenerId = stackOf.getLogicalId(service.productionListener.node.defaultChild as any);
    template.hasResourceProperties('AWS::CodeDeploy::DeploymentGroup', {
      LoadBalancerInfo: { TargetGroupPairInfoList: [Match.objectLike({ ProdTrafficRoute: { ListenerArns: [{ Ref: listenerId }] } })] },
    });
    expect(service.url).toMatch(/^https:\/\//);
    // Nothing but the redirect listens on 80: users' requests all go through the listener CodeDeploy shifts.
    const listeners = Object.values(template.findResources('AWS::ElasticLoadBalancingV2::Listener'))
      .map((l: any) => l.Properties.Port)
      .sort();
    expect(listeners).toEqual([443, 80, 8080]);
  });

  test('without a certificate: HTTP on 80, no redirect', () => {
    const { template, service } = ecsService();
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 80,
      Protocol: 'HTTP',
      DefaultActions: [Match.objectLike({ Type: 'forward' })],
    });
    expect(service.redirectListener).toBeUndefined();
    expect(service.url).toMatch(/^http:\/\//);
  });

  test('the access-log bucket is versioned and TLS-only', () => {
    const { template } = ecsService();
    template.hasResourceProperties('AWS::S3::Bucket', {
      VersioningConfiguration: { Status: 'Enabled' },
      LifecycleConfiguration: { Rules: [Match.objectLike({ ExpirationInDays: 90, NoncurrentVersionExpiration: { NoncurrentDays: 1 } })] },
    });
  });
});

describe('ImageRepository pull policy', () => {
  test("lets only the stage accounts' roles under the task-execution path pull, not the whole account", () => {
    const s = new Stack(apps.create(), 'Repo', { env: { account: '111111111111', region: 'us-east-1' } });
    new ImageRepository(s, 'Svc', {
      repositoryName: 'shop/web',
      pullAccounts: ['222222222222', '333333333333'],
      pullRolePath: pullRolePath('shop'),
    });
    Template.fromStack(s).hasResourceProperties('AWS::ECR::Repository', {
      RepositoryPolicyText: {
        Statement: [
          {
            Sid: 'StageTaskExecutionRolesPull',
            Effect: 'Allow',
            Action: ['ecr:BatchCheckLayerAvailability', 'ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'],
            Principal: { AWS: ['arn:aws:iam::222222222222:root', 'arn:aws:iam::333333333333:root'] },
            Condition: {
              StringLike: {
                'aws:PrincipalArn': [
                  'arn:aws:iam::222222222222:role/safe-deploy/shop/*',
                  'arn:aws:iam::333333333333:role/safe-deploy/shop/*',
                ],
              },
            },
          },
        ],
      },
    });
  });

  test('fails when the pull role path is not an IAM path', () => {
    const s = new Stack(apps.create(), 'Repo');
    expect(() => new ImageRepository(s, 'Svc', { repositoryName: 'x/y', pullAccounts: ['222222222222'], pullRolePath: 'x' })).toThrow(
      'ImageRepository pullRolePath: "x" is not an IAM path: start and end with "/", e.g. "/safe-deploy/my-app/"',
    );
  });
});

describe('the pre-production smoke test and Function URL auth', () => {
  const commandsFor = (url: 'public' | 'iam') => {
    const config = fixtureConfig('example', (c) => (c.services[0].url = url));
    const stage = new ServiceStage(apps.create({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Beta-us-east-1', {
      env: { account: '111111111111', region: 'us-east-1' },
      settings: config.stages[0],
      services: config.services,
    });
    return smokeTest(stage)?.commands.join('\n') ?? '';
  };

  test('a public URL is called by the smoke test; an IAM URL is left to the hooks, which invoke the new version in-account', () => {
    expect(commandsFor('public')).toContain('greeting-api GET /health');
    const iam = commandsFor('iam');
    expect(iam).not.toContain('greeting-api');
    expect(iam).toContain('greeting-web GET /health');
  });
});
