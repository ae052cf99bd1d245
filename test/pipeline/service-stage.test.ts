import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { ServiceStage } from '../../lib/pipeline/service-stage';
import { LambdaServiceStack } from '../../lib/stacks/lambda-service-stack';
import { TestApps } from '../support/app';
import { fixtureConfig } from '../support/fixtures';

const apps = new TestApps();
afterAll(() => apps.cleanup());
const ENV = { account: '111111111111', region: 'us-east-1' };

describe('ServiceStage', () => {
  test("the one extension point: code a team adds to a service runs in every target, on that service's stack", () => {
    const config = fixtureConfig('three-services');
    const seen: string[] = [];
    const stage = new ServiceStage(apps.create({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Beta-us-east-1', {
      env: ENV,
      settings: config.stages[0],
      services: config.services,
      extensions: {
        'billing-worker': (stack, target) => {
          seen.push(`${target.stageName}/${stack.stackName}`);
          if (!(stack instanceof LambdaServiceStack)) throw new Error('billing-worker is a Lambda service');
          const queue = new sqs.Queue(stack, 'Jobs', { enforceSSL: true });
          // Event sources attach to the alias, so CodeDeploy's canary shifts the queue's traffic too.
          stack.service.alias.addEventSource(new SqsEventSource(queue));
        },
      },
    });
    expect(seen).toEqual(['Beta-us-east-1/Beta-us-east-1-billing-worker']);
    const billing = Template.fromStack(stage.service('billing-worker')!);
    billing.resourceCountIs('AWS::SQS::Queue', 1);
    const [mapping] = Object.values(billing.findResources('AWS::Lambda::EventSourceMapping'));
    expect(JSON.stringify(mapping.Properties.FunctionName)).toContain(':live');
    Template.fromStack(stage.service('orders-api')!).resourceCountIs('AWS::SQS::Queue', 0);
  });

  test('fails when an extension names no service', () => {
    const config = fixtureConfig('three-services');
    expect(
      () =>
        new ServiceStage(apps.create(), 'Beta-us-east-1', {
          env: ENV,
          settings: config.stages[0],
          services: config.services,
          extensions: { 'billing-workr': () => undefined },
        }),
    ).toThrow(
      'extensions: ["billing-workr"] is not a service: the services are ["orders-api","billing-worker","storefront"]; fix the name in safe-deploy.extensions.ts',
    );
  });

  test('a plain-JavaScript Lambda entry is bundled like a TypeScript one, with its configured export', () => {
    const config = fixtureConfig('lambda-only', (c) => {
      c.services.push({ name: 'legacy-js', kind: 'lambda', entry: 'services/legacy-js/handler.js', handler: 'main', url: 'iam' });
    });
    const stage = new ServiceStage(apps.create(), 'Beta-us-east-1', { env: ENV, settings: config.stages[0], services: config.services });
    const svc = stage.service('legacy-js') as LambdaServiceStack;
    const t = Template.fromStack(svc);
    t.hasResourceProperties('AWS::Lambda::Function', { Handler: 'index.main', Runtime: lambda.Runtime.NODEJS_22_X.name });
    t.hasResourceProperties('AWS::Lambda::Url', { AuthType: 'AWS_IAM' });
  });

  test("a Lambda-only target's platform stack holds no network, only the gate's role when a pipeline deploys it", () => {
    const config = fixtureConfig('lambda-only');
    const stage = new ServiceStage(apps.create({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Prod-eu-west-1', {
      env: { account: '222222222222', region: 'eu-west-1' },
      settings: config.stages[1],
      services: config.services,
      pipeline: {
        account: '111111111111',
        region: 'us-east-1',
        appName: 'safe-deploy',
        gateReaderRoleName: 'safe-deploy-gate-reader-Prod-eu-west-1',
      },
    });
    const platform = Template.fromStack(stage.platform);
    // The gate's reader role, and the rollback forwarder (a rule, the role it puts events with, and
    // the dead-letter queue, with its policy and alarm, of events it cannot deliver).
    expect(
      Object.values(platform.toJSON().Resources as Record<string, { Type: string }>)
        .map((r) => r.Type)
        .sort(),
    ).toEqual([
      'AWS::CloudWatch::Alarm',
      'AWS::Events::Rule',
      'AWS::IAM::Policy',
      'AWS::IAM::Policy',
      'AWS::IAM::Role',
      'AWS::IAM::Role',
      'AWS::SQS::Queue',
      'AWS::SQS::QueuePolicy',
    ]);
    expect(stage.platform.cluster).toBeUndefined();
  });

  test("in the pipeline's own account and region, rollbacks are not forwarded (the notifier already sees them)", () => {
    const config = fixtureConfig('lambda-only');
    const stage = new ServiceStage(apps.create({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Beta-us-east-1', {
      env: ENV,
      settings: config.stages[0],
      services: config.services,
      pipeline: {
        account: '111111111111',
        region: 'us-east-1',
        appName: 'safe-deploy',
        gateReaderRoleName: 'safe-deploy-gate-reader-Beta-us-east-1',
      },
    });
    Template.fromStack(stage.platform).resourceCountIs('AWS::Events::Rule', 0);
  });
});
