import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type { SafeDeployConfig } from '../../lib/config/schema';
import { PipelineStack } from '../../lib/pipeline/pipeline-stack';
import { EcsServiceStack } from '../../lib/stacks/ecs-service-stack';
import { LambdaServiceStack } from '../../lib/stacks/lambda-service-stack';
import { TestApps } from '../support/app';
import { fixtureConfig, FixtureName } from '../support/fixtures';
import { stagesOf, synthPipeline } from '../support/pipeline';
import { buildApp, synthesize } from '../support/whole-app';

const apps = new TestApps();
afterAll(() => apps.cleanup());
const synth = (config: SafeDeployConfig, app?: App) => synthPipeline(apps, config, app);

/**
 * Each mix built as the whole app (`bin/app.ts`'s cdk-nag packs and safety policy included) and
 * synthesized once; the structural tests below read the same assembly.
 */
const wholeApps = new Map<FixtureName, { stack: PipelineStack; template: Template; failures: string[]; error?: string }>();
function whole(name: FixtureName) {
  let built = wholeApps.get(name);
  if (!built) {
    // Bundling skipped: these check the infrastructure of each mix, not the services' code.
    const app = apps.create({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = buildApp(fixtureConfig(name), app).pipeline;
    const { failures, error } = synthesize(app);
    built = { stack, template: Template.fromStack(stack), failures, error };
    wholeApps.set(name, built);
  }
  return built;
}

test.each<FixtureName>(['three-services', 'lambda-only', 'ecs-only', 'two-ecs'])(
  'the whole app on the %s fixture synthesizes with zero unsuppressed cdk-nag or safety-policy errors',
  (name) => {
    const { failures, error } = whole(name);
    expect({ error, failures }).toEqual({ error: undefined, failures: [] });
  },
);

describe('any mix, any number of services', () => {
  const targetsOf = (name: FixtureName) => {
    const { stack, template } = whole(name);
    return { stack, template, targets: stack.waves.flatMap((w) => w.targets) };
  };

  test('the three services: each target deploys orders-api (URL), billing-worker (no URL) and storefront (8080, /healthz)', () => {
    const { targets, template } = targetsOf('three-services');
    expect(targets).toHaveLength(4);
    for (const target of targets) {
      expect(target.services.map((s) => s.node.id)).toEqual(['orders-api', 'billing-worker', 'storefront']);
      const orders = Template.fromStack(target.service('orders-api') as LambdaServiceStack);
      orders.resourceCountIs('AWS::Lambda::Url', 1);
      orders.resourceCountIs('AWS::CodeDeploy::DeploymentGroup', 1);
      const billing = Template.fromStack(target.service('billing-worker') as LambdaServiceStack);
      billing.resourceCountIs('AWS::Lambda::Url', 0);
      billing.hasResourceProperties('AWS::Lambda::Function', {
        Environment: { Variables: Match.objectLike({ SERVICE_CHECK: '{"type":"none"}' }) },
      });
      const store = Template.fromStack(target.service('storefront') as EcsServiceStack);
      store.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', { Port: 8080, HealthCheckPath: '/healthz' });
      Template.fromStack(target.platform).resourceCountIs('AWS::ECS::Cluster', 1);
    }
    const images = stagesOf(template).find((s) => s.Name === 'Images')!;
    expect(images.Actions.map((a) => a.Name)).toEqual(['Image-storefront']);
  });

  test('Lambda-only: no ECS, ECR or VPC resources anywhere, no image stage', () => {
    const { targets, template, stack } = targetsOf('lambda-only');
    expect(stagesOf(template).map((s) => s.Name)).not.toContain('Images');
    const everything = [stack, ...targets.flatMap((t) => [t.platform, ...t.services])];
    for (const s of everything) {
      const types = new Set(Object.values(Template.fromStack(s).toJSON().Resources as Record<string, { Type: string }>).map((r) => r.Type));
      expect([...types].filter((t) => /^AWS::(ECS|ECR|EC2)::/.test(t))).toEqual([]);
    }
    expect(stack.replicaStacks).toEqual({});
  });

  test('ECS-only: no Lambda service stacks; each target has a cluster', () => {
    const { targets } = targetsOf('ecs-only');
    for (const target of targets) {
      expect(target.services.every((s) => s instanceof EcsServiceStack)).toBe(true);
      Template.fromStack(target.platform).resourceCountIs('AWS::ECS::Cluster', 1);
    }
  });

  test('two ECS services share one VPC, cluster and NAT per target, each with its own ALB, repository and image step', () => {
    const { targets, template } = targetsOf('two-ecs');
    for (const target of targets) {
      const platform = Template.fromStack(target.platform);
      platform.resourceCountIs('AWS::EC2::VPC', 1);
      platform.resourceCountIs('AWS::EC2::NatGateway', 1);
      platform.resourceCountIs('AWS::ECS::Cluster', 1);
      const ports = target.services.map((s) => Template.fromStack(s).findResources('AWS::ElasticLoadBalancingV2::TargetGroup'));
      expect(ports.map((tgs) => Object.values(tgs).map((tg) => [tg.Properties.Port, tg.Properties.HealthCheckPath]))).toEqual([
        [
          [8080, '/healthz'],
          [8080, '/healthz'],
        ],
        [
          [9000, '/ping'],
          [9000, '/ping'],
        ],
      ]);
    }
    template.resourcePropertiesCountIs('AWS::ECR::Repository', { RepositoryName: Match.stringLikeRegexp('^safe-deploy/') }, 2);
    expect(
      stagesOf(template)
        .find((s) => s.Name === 'Images')!
        .Actions.map((a) => a.Name),
    ).toEqual(['Image-catalog', 'Image-storefront']);
  });

  test('a manual approval on production goes into the first gate stage; on pre-production it is a stage of its own', () => {
    const config = fixtureConfig('example', (c) => {
      c.stages[0].manualApproval = true;
      c.stages[1].manualApproval = true;
    });
    const stages = stagesOf(synth(config).template);
    expect(stages.map((s) => s.Name)).toEqual([
      'Source',
      'Build',
      'UpdatePipeline',
      'Assets',
      'Images',
      'Approve-Beta',
      'Beta',
      'Gate-Prod-Wave1',
      'Prod-Wave1',
      'Gate-Prod-Wave2',
      'Prod-Wave2',
    ]);
    expect(stages.find((s) => s.Name === 'Gate-Prod-Wave1')!.Actions.map((a) => a.Name)).toEqual(['Approve-Prod-Wave1', 'BakeGate']);
    expect(stages.find((s) => s.Name === 'Gate-Prod-Wave2')!.Actions.map((a) => a.Name)).toEqual(['BakeGate']);
  });
});

describe('built once, deployed only when changed', () => {
  test('an unchanged build context keeps its image tag and task definition across two commits', () => {
    const config = fixtureConfig('example');
    const first = synth(config);
    const second = new PipelineStack(apps.create({ context: { 'aws:cdk:bundling-stacks': [] } }), 'SafeDeployPipeline', {
      env: { account: '111111111111', region: 'us-east-1' },
      config,
      commit: 'f'.repeat(40),
      cliVersion: '2.1148.1',
    });
    expect(second.releaseManifest.images[0].tag).toBe(first.stack.releaseManifest.images[0].tag);
    expect(second.releaseManifest.commit).not.toBe(first.stack.releaseManifest.commit);
    const taskDefinition = (s: PipelineStack) =>
      JSON.stringify(Template.fromStack(s.waves[0].targets[0].service('greeting-web') as Stack).findResources('AWS::ECS::TaskDefinition'));
    expect(taskDefinition(second)).toBe(taskDefinition(first.stack));
    // The pipeline itself is unchanged too: the commit lives in the release manifest, not the structure.
    expect(JSON.stringify(second.resolve((second.pipeline.pipeline.node.defaultChild as any).stages))).toBe(
      JSON.stringify(first.stack.resolve((first.stack.pipeline.pipeline.node.defaultChild as any).stages)),
    );
  });
});
