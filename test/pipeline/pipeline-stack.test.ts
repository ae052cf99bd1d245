import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { RegionInfo } from 'aws-cdk-lib/region-info';
import type { SafeDeployConfig } from '../../lib/config/schema';
import { planPipeline } from '../../lib/pipeline/limits';
import { PipelineStack } from '../../lib/pipeline/pipeline-stack';
import { buildSafeDeployApp } from '../../lib/pipeline/safe-deploy-app';
import { EcsServiceStack } from '../../lib/stacks/ecs-service-stack';
import { LambdaServiceStack } from '../../lib/stacks/lambda-service-stack';
import { TestApps } from '../support/app';
import { fixtureConfig, FixtureName } from '../support/fixtures';

const COMMIT = '0123456789abcdef0123456789abcdef01234567';
const apps = new TestApps();
afterAll(() => apps.cleanup());

/** The pipeline stack, in an App whose assets are not bundled: these tests are about the pipeline. */
function synth(config: SafeDeployConfig, app: App = apps.create({ context: { 'aws:cdk:bundling-stacks': [] } })) {
  const stack = new PipelineStack(app, 'SafeDeployPipeline', {
    env: { account: config.pipeline.account, region: config.pipeline.region },
    config,
    commit: COMMIT,
    cliVersion: '2.1148.1',
    cdkAssetsVersion: '4.0.3',
  });
  return { stack, template: Template.fromStack(stack) };
}

type Action = { Name: string; ActionTypeId: { Category: string; Provider: string }; RunOrder: number; Configuration?: Record<string, any>; RoleArn?: unknown; Region?: string; InputArtifacts?: Array<{ Name: string }> };
type PipelineStage = { Name: string; Actions: Action[]; OnFailure?: { Result: string } };

function stagesOf(template: Template): PipelineStage[] {
  const [pipeline] = Object.values(template.findResources('AWS::CodePipeline::Pipeline'));
  return pipeline.Properties.Stages;
}

let outdir = '';
/** A project's buildspec: inline JSON, or (CDK Pipelines' asset projects) a file in the cloud assembly. */
function buildSpecOfProject(project: any): any {
  const spec: string = project.Properties.Source.BuildSpec;
  return JSON.parse(spec.trim().startsWith('{') ? spec : readFileSync(path.join(outdir, spec), 'utf8'));
}

/** The buildspec of the CodeBuild project an action runs. */
function buildSpecOf(template: Template, action: Action): any {
  const projectRef = action.Configuration!.ProjectName.Ref as string;
  return buildSpecOfProject(template.toJSON().Resources[projectRef]);
}

const cloudFormationActions = (stage: PipelineStage) => stage.Actions.filter((a) => a.ActionTypeId.Provider === 'CloudFormation');

describe('PipelineStack on the example (one Lambda, one ECS service)', () => {
  const config = fixtureConfig('example');
  let template: Template;
  let stages: PipelineStage[];
  let stack: PipelineStack;
  beforeAll(() => {
    const app = apps.create({ context: { 'aws:cdk:bundling-stacks': [] } });
    ({ stack, template } = synth(config, app));
    outdir = app.outdir;
    stages = stagesOf(template);
  });

  test('is a V2 pipeline named from the config, storing artifacts in the project bucket', () => {
    template.hasResourceProperties('AWS::CodePipeline::Pipeline', {
      Name: 'safe-deploy-pipeline',
      PipelineType: 'V2',
      ArtifactStores: Match.arrayWith([
        { Region: 'us-east-1', ArtifactStore: { Type: 'S3', Location: { Ref: Match.stringLikeRegexp('^ArtifactsBucket') }, EncryptionKey: { Type: 'KMS', Id: Match.anyValue() } } },
      ]),
    });
  });

  test('stages run in order: source, build, self-mutation, assets, images, pre-production, then gated production waves', () => {
    expect(stages.map((s) => s.Name)).toEqual(['Source', 'Build', 'UpdatePipeline', 'Assets', 'Images', 'Beta', 'Gate-Prod-Wave1', 'Prod-Wave1', 'Gate-Prod-Wave2', 'Prod-Wave2']);
  });

  test('each gate reads its settings from the cloud assembly, so its action configuration is small and fixed', () => {
    for (const gate of ['Gate-Prod-Wave1', 'Gate-Prod-Wave2']) {
      const [action] = stages.find((s) => s.Name === gate)!.Actions;
      expect(action.ActionTypeId).toMatchObject({ Category: 'Invoke', Provider: 'Lambda' });
      expect(action.InputArtifacts).toEqual([{ Name: 'Synth_Output' }]);
      expect(JSON.parse(action.Configuration!.UserParameters)).toEqual({ gate, override: '#{variables.SafetyOverride}', executionId: '#{codepipeline.PipelineExecutionId}' });
    }
  });

  test('the release manifest: gates observe the stage before and guard the next; requests counted only after production', () => {
    const { gates, waves, images } = stack.releaseManifest;
    expect(Object.keys(gates)).toEqual(['Gate-Prod-Wave1', 'Gate-Prod-Wave2']);
    expect(gates['Gate-Prod-Wave1']).toMatchObject({ stageName: 'Prod-Wave1', countRequests: false, bake: { minutes: 60, minRequests: 500 }, maxWaitMinutes: 180 });
    expect(gates['Gate-Prod-Wave1'].observe.map((t) => t.healthAlarmNames)).toEqual([['Beta-us-east-1-greeting-api-Health', 'Beta-us-east-1-greeting-web-Health']]);
    expect(gates['Gate-Prod-Wave2']).toMatchObject({ stageName: 'Prod-Wave2', countRequests: true, window: { timeZone: 'America/New_York' } });
    expect(gates['Gate-Prod-Wave2'].guard.map((t) => [t.region, t.roleArn, t.platformAction])).toEqual([
      ['us-west-2', 'arn:aws:iam::222222222222:role/safe-deploy-gate-reader-Prod-us-west-2', 'Prod-us-west-2.Platform.Deploy'],
      ['eu-west-1', 'arn:aws:iam::222222222222:role/safe-deploy-gate-reader-Prod-eu-west-1', 'Prod-eu-west-1.Platform.Deploy'],
    ]);
    expect(waves['Prod-Wave2'].map((t) => t.stagePath)).toEqual(['SafeDeployPipeline/Prod-us-west-2', 'SafeDeployPipeline/Prod-eu-west-1']);
    expect(images).toEqual([
      {
        service: 'greeting-web',
        repositoryName: 'safe-deploy/greeting-web',
        tag: expect.stringMatching(/^[0-9a-f]{64}$/),
        directory: 'test/fixtures/services/greeting-web',
        dockerfile: 'Dockerfile',
        platform: 'linux/amd64',
        replicaRegions: ['eu-west-1', 'us-west-2'],
      },
    ]);
  });

  test("the release manifest names each target's flags, as the service stack deploys them: the gates find them by name and digest", () => {
    const { gates } = stack.releaseManifest;
    const beta = gates['Gate-Prod-Wave1'].observe[0];
    expect(beta.flags?.map((f) => [f.service, f.application, f.environment])).toEqual([
      ['greeting-api', 'Beta-us-east-1-greeting-api-flags', 'greeting-api'],
      ['greeting-web', 'Beta-us-east-1-greeting-web-flags', 'greeting-web'],
    ]);
    const betaStage = stack.waves[0].targets[0];
    for (const f of beta.flags ?? []) {
      const service = Template.fromStack(betaStage.service(f.service)!);
      service.hasResourceProperties('AWS::AppConfig::Application', { Name: f.application });
      service.hasResourceProperties('AWS::AppConfig::Deployment', { Description: Match.stringLikeRegexp(`sha256 ${f.digest}$`) });
    }
    // The same flags in every stage: the digest the next stage deploys is the one the previous one proved.
    expect(gates['Gate-Prod-Wave2'].guard.flatMap((t) => t.flags ?? []).map((f) => f.digest)).toEqual([...(beta.flags ?? []), ...(beta.flags ?? [])].map((f) => f.digest));
  });

  test('every action configuration value is within CodePipeline\'s 1000 characters', () => {
    for (const action of stages.flatMap((s) => s.Actions)) {
      for (const [key, value] of Object.entries(action.Configuration ?? {})) {
        expect({ action: action.Name, key, length: JSON.stringify(value).length <= 1000 }).toEqual({ action: action.Name, key, length: true });
      }
    }
  });

  test('a failed production stage rolls back on its own; pre-production does not', () => {
    const onFailure = Object.fromEntries(stages.map((s) => [s.Name, s.OnFailure?.Result]));
    expect(onFailure['Prod-Wave1']).toBe('ROLLBACK');
    expect(onFailure['Prod-Wave2']).toBe('ROLLBACK');
    expect(onFailure.Beta).toBeUndefined();
  });

  test('each target trusts the gate with a read-only role named for it, in its platform stack', () => {
    for (const wave of stack.waves) {
      for (const target of wave.targets) {
        Template.fromStack(target.platform).hasResourceProperties('AWS::IAM::Role', { RoleName: `safe-deploy-gate-reader-${target.stageName}` });
      }
    }
  });

  test('the source is the configured GitHub branch through CodeConnections, with both IAM prefixes granted', () => {
    expect(stages[0].Actions).toEqual([
      expect.objectContaining({
        ActionTypeId: expect.objectContaining({ Category: 'Source', Provider: 'CodeStarSourceConnection' }),
        Configuration: expect.objectContaining({ ConnectionArn: config.github.connectionArn, FullRepositoryId: 'example-org/safe-deploy', BranchName: 'main' }),
      }),
    ]);
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([{ Action: ['codeconnections:UseConnection', 'codestar-connections:UseConnection'], Effect: 'Allow', Resource: config.github.connectionArn }]),
      },
    });
  });

  test('only pushes to the configured branch trigger it', () => {
    template.hasResourceProperties('AWS::CodePipeline::Pipeline', {
      Triggers: [{ ProviderType: 'CodeStarSourceConnection', GitConfiguration: { SourceActionName: stages[0].Actions[0].Name, Push: [{ Branches: { Includes: ['main'] } }] } }],
    });
  });

  test('the build installs from the lockfile, runs the tests, then synthesizes, on Node 22, with a cache', () => {
    const spec = buildSpecOf(template, stages[1].Actions[0]);
    expect(spec.phases.install.commands).toEqual(['npm ci']);
    expect(spec.phases.install['runtime-versions']).toEqual({ nodejs: '22' });
    expect(spec.phases.build.commands).toEqual(['npm test', 'npx cdk synth']);
    expect(spec.cache).toEqual({ paths: ['/root/.npm/**/*'] });
    const projectRef = stages[1].Actions[0].Configuration!.ProjectName.Ref;
    expect(template.toJSON().Resources[projectRef].Properties.Cache).toEqual({
      Type: 'S3',
      Location: { 'Fn::Join': ['/', [{ Ref: expect.stringMatching(/^ArtifactsBucket/) }, 'build-cache']] },
    });
  });

  test('every CodeBuild step runs Node 22 (Node 20 is past end of life)', () => {
    const projects = Object.values(template.findResources('AWS::CodeBuild::Project'));
    expect(projects.length).toBeGreaterThanOrEqual(5);
    for (const project of projects) {
      expect(buildSpecOfProject(project).phases.install['runtime-versions']).toEqual({ nodejs: '22' });
    }
  });

  test('the pipeline updates itself with the pinned CDK CLI, and publishes assets with pinned cdk-assets', () => {
    const [selfMutate] = stages[2].Actions;
    expect(selfMutate.Name).toBe('SelfMutate');
    const spec = buildSpecOf(template, selfMutate);
    expect(spec.phases.install.commands).toContain('npm install -g aws-cdk@2.1148.1');
    expect(spec.phases.build.commands.join('\n')).toMatch(/cdk -a \. deploy SafeDeployPipeline/);
    const assets = buildSpecOf(template, stages[3].Actions[0]);
    expect(assets.phases.install.commands.join('\n')).toContain('cdk-assets@4.0.3');
  });

  test('each ECS service image is built once, in its own action, from the source with the manifest of the cloud assembly', () => {
    const images = stages.find((s) => s.Name === 'Images')!;
    expect(images.Actions.map((a) => a.Name)).toEqual(['Image-greeting-web']);
    const [action] = images.Actions;
    expect(action.InputArtifacts?.map((a) => a.Name).sort()).toEqual(['Synth_Output', 'example_org_safe_deploy_Source']);
    const spec = buildSpecOf(template, action);
    expect(spec.phases.build.commands.join('\n')).toContain('bash lib/pipeline/scripts/publish-image.sh greeting-web');
    expect(spec.env['exported-variables']).toEqual(['IMAGE_TAG', 'IMAGE_BUILT', 'IMAGE_REPOSITORY']);
    const projectRef = action.Configuration!.ProjectName.Ref;
    expect(template.toJSON().Resources[projectRef].Properties.Environment.PrivilegedMode).toBe(true);
  });

  test('the image publisher may push only to the service repository and its replicas', () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: Match.arrayWith(['ecr:DescribeImageReplicationStatus', 'ecr:PutImage']),
            Resource: [
              'arn:aws:ecr:eu-west-1:111111111111:repository/safe-deploy/greeting-web',
              'arn:aws:ecr:us-east-1:111111111111:repository/safe-deploy/greeting-web',
              'arn:aws:ecr:us-west-2:111111111111:repository/safe-deploy/greeting-web',
            ],
          }),
        ]),
      },
    });
  });

  test('one repository per ECS service, replicated to every other target region of the pipeline account', () => {
    template.resourcePropertiesCountIs('AWS::ECR::Repository', { RepositoryName: 'safe-deploy/greeting-web', ImageTagMutability: 'IMMUTABLE' }, 1);
    template.hasResourceProperties('AWS::ECR::ReplicationConfiguration', {
      ReplicationConfiguration: { Rules: [{ Destinations: [{ Region: 'eu-west-1', RegistryId: '111111111111' }, { Region: 'us-west-2', RegistryId: '111111111111' }], RepositoryFilters: [{ Filter: 'safe-deploy/', FilterType: 'PREFIX_MATCH' }] }] },
    });
    expect(Object.keys(stack.replicaStacks).sort()).toEqual(['eu-west-1', 'us-west-2']);
    for (const [region, replica] of Object.entries(stack.replicaStacks)) {
      expect(replica.region).toBe(region);
      expect(stack.dependencies).toContain(replica);
      Template.fromStack(replica).hasResourceProperties('AWS::ECR::Repository', {
        RepositoryName: 'safe-deploy/greeting-web',
        ImageTagMutability: 'IMMUTABLE',
        ImageScanningConfiguration: { ScanOnPush: true },
        RepositoryPolicyText: { Statement: [Match.objectLike({ Principal: { AWS: 'arn:aws:iam::222222222222:root' } })] },
      });
    }
  });

  test('every target runs the image by content hash from the repository in its own region', () => {
    const tag = stack.releaseManifest.images[0].tag;
    for (const wave of stack.waves) {
      for (const target of wave.targets) {
        const ecs = target.service('greeting-web') as EcsServiceStack;
        const [taskDefinition] = Object.values(Template.fromStack(ecs).findResources('AWS::ECS::TaskDefinition'));
        const image = JSON.stringify(taskDefinition.Properties.ContainerDefinitions[0].Image);
        expect(image).toContain(`111111111111.dkr.ecr.${target.region}.`);
        expect(image).toContain(`/safe-deploy/greeting-web:${tag}`);
      }
    }
  });

  test('pre-production is smoke-tested with each service\'s own checks through the stack outputs, after it deploys', () => {
    const beta = stages.find((s) => s.Name === 'Beta')!;
    const smoke = beta.Actions.find((a) => a.Name.startsWith('SmokeTest'))!;
    expect(smoke.RunOrder).toBeGreaterThan(Math.max(...cloudFormationActions(beta).map((d) => d.RunOrder)));
    const env = JSON.parse(smoke.Configuration!.EnvironmentVariables);
    expect(env.map((e: { name: string }) => e.name).sort()).toEqual(['URL_GREETING_API', 'URL_GREETING_WEB']);
    const commands: string[] = buildSpecOf(template, smoke).phases.build.commands;
    expect(commands).toHaveLength(3);
    expect(commands[0]).toContain('"${URL_GREETING_API%/}/health"');
    expect(commands[1]).toContain('"${URL_GREETING_WEB%/}/health"');
    expect(commands[1]).toContain('[ "$status" = "200" ]');
    // The ECS service's test-traffic probes: its API, with the body it declares.
    expect(commands[2]).toContain('"${URL_GREETING_WEB%/}/greeting?name=canary"');
    expect(commands[2]).toContain("grep -qF 'Hello, canary!' /tmp/smoke-body");
  });

  test('one CloudFormation action per stack (no separate change-set step): platform plus each service', () => {
    const beta = stages.find((s) => s.Name === 'Beta')!;
    expect(cloudFormationActions(beta).map((a) => [a.Name, a.Configuration!.ActionMode])).toEqual([
      ['us-east-1-Platform.Deploy', 'CREATE_UPDATE'],
      ['us-east-1-greeting-api.Deploy', 'CREATE_UPDATE'],
      ['us-east-1-greeting-web.Deploy', 'CREATE_UPDATE'],
    ]);
  });

  test('production waves deploy after one permission check per wave, never smoke-tested against prod', () => {
    for (const stage of stages.filter((s) => /^Prod-Wave/.test(s.Name))) {
      const checks = stage.Actions.filter((a) => a.Name.startsWith('PermissionsCheck'));
      expect(checks.map((c) => [c.Name, c.ActionTypeId.Provider])).toEqual([
        [`PermissionsCheck-${stage.Name}.Check`, 'CodeBuild'],
        [`PermissionsCheck-${stage.Name}.Confirm`, 'Manual'],
      ]);
      expect(checks[0].Configuration!.EnvironmentVariables).toBe(`[{"name":"WAVE","type":"PLAINTEXT","value":"${stage.Name}"},{"name":"APPROVAL_ACTION","type":"PLAINTEXT","value":"PermissionsCheck-${stage.Name}.Confirm"}]`);
      expect(Math.max(...checks.map((c) => c.RunOrder))).toBeLessThan(Math.min(...cloudFormationActions(stage).map((d) => d.RunOrder)));
      expect(stage.Actions.some((a) => a.Name.startsWith('SmokeTest'))).toBe(false);
    }
  });

  test('the permission check runs the pinned CLI over the wave\'s targets from the manifest', () => {
    const check = stages.find((s) => s.Name === 'Prod-Wave2')!.Actions.find((a) => a.Name.endsWith('.Check'))!;
    const spec = buildSpecOf(template, check);
    expect(spec.phases.install.commands).toEqual(['npm install -g aws-cdk@2.1148.1']);
    const build = spec.phases.build.commands.join('\n');
    expect(build).toContain('require("./safe-deploy.release.json")');
    expect(build).toContain('cdk diff -a . --security-only --fail $PATTERNS');
    expect(spec.env['exported-variables']).toEqual(['LINK', 'MESSAGE']);
  });

  test('production waves deploy into the production account and their regions', () => {
    const deployRegions = (name: string) => [...new Set(cloudFormationActions(stages.find((s) => s.Name === name)!).map((a) => a.Region ?? 'us-east-1'))].sort();
    expect(deployRegions('Prod-Wave1')).toEqual(['us-east-1']);
    expect(deployRegions('Prod-Wave2')).toEqual(['eu-west-1', 'us-west-2']);
    const prodRoles = JSON.stringify(stages.filter((s) => /^Prod-Wave/.test(s.Name)).flatMap((s) => cloudFormationActions(s).map((a) => a.RoleArn)));
    expect(prodRoles).toContain('222222222222');
    expect(prodRoles).not.toContain(':111111111111:');
  });

  test('no manual approval unless configured', () => {
    expect(stages.flatMap((s) => s.Actions).filter((a) => a.ActionTypeId.Category === 'Approval' && !a.Name.startsWith('PermissionsCheck'))).toEqual([]);
  });

  test('snapshot', () => {
    expect(template.toJSON()).toMatchSnapshot();
  });
});

describe('any mix, any number of services', () => {
  const targetsOf = (name: FixtureName) => {
    const { stack, template } = synth(fixtureConfig(name));
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
      billing.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ SERVICE_CHECK: '{"type":"none"}' }) } });
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
    expect(stagesOf(template).find((s) => s.Name === 'Images')!.Actions.map((a) => a.Name)).toEqual(['Image-catalog', 'Image-storefront']);
  });

  test('a manual approval on production goes into the first gate stage; on pre-production it is a stage of its own', () => {
    const config = fixtureConfig('example', (c) => {
      c.stages[0].manualApproval = true;
      c.stages[1].manualApproval = true;
    });
    const stages = stagesOf(synth(config).template);
    expect(stages.map((s) => s.Name)).toEqual(['Source', 'Build', 'UpdatePipeline', 'Assets', 'Images', 'Approve-Beta', 'Beta', 'Gate-Prod-Wave1', 'Prod-Wave1', 'Gate-Prod-Wave2', 'Prod-Wave2']);
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

describe('AWS limits at synth', () => {
  /** The three services (plus two more Lambdas) across `waves` of `perWave` regions in production. */
  const scaled = (regions: string[][], extraLambdas = 2) =>
    fixtureConfig('three-services', (c) => {
      for (let i = 0; i < extraLambdas; i++) c.services.push({ ...c.services[1], name: `worker-${i + 1}` });
      c.stages[1].bake.minRequests = 0; // one-wave layouts below would leave nothing to count
      c.stages[1].waves = regions.map((r, i) => ({ name: `Wave${i + 1}`, regions: r }));
    });
  const REGIONS = ['us-east-1', 'us-east-2', 'us-west-1', 'us-west-2', 'eu-west-1', 'eu-west-2', 'eu-west-3', 'eu-central-1', 'eu-north-1', 'ap-southeast-1', 'ap-southeast-2', 'ap-northeast-1', 'ap-northeast-2', 'ap-south-1', 'ca-central-1', 'sa-east-1'];

  test('the planned action counts are the built ones; 5 services in a wave of 8 regions fill a stage to exactly 50', () => {
    const config = scaled([REGIONS.slice(0, 4)], 0);
    const { template } = synth(config);
    const built = stagesOf(template).map((st) => [st.Name, st.Actions.length]);
    expect(built).toEqual(planPipeline(config).map((st) => [st.name, st.actions]));
    expect(planPipeline(scaled([REGIONS.slice(0, 8)])).find((st) => st.name === 'Prod-Wave1')!.actions).toBe(2 + 8 * 6);
  });

  /**
   * Targets scale the pipeline role: one deploy-role and one asset-role grant each, until its policy
   * overflows into OverflowPolicy1, 2, ... whose CDK-generated wildcards cdk-nag must find acknowledged.
   * One Lambda service per target: the services do not change the pipeline role.
   */
  test.each([16, 32])('%i targets synthesize with zero unacknowledged cdk-nag or safety-policy findings', (targets) => {
    // Beta (1) + Prod (8 + 7) = 16 targets; + Prod2 in another account (8 + 8) = 32.
    const config = fixtureConfig('lambda-only', (c) => {
      c.services = [c.services[0]];
      const prod = c.stages[1];
      delete prod.bake;
      prod.waves = [{ name: 'Wave1', regions: REGIONS.slice(0, 8) }, { name: 'Wave2', regions: REGIONS.slice(8, 15) }];
      const prod2 = { ...prod, name: 'Prod2', account: '333333333333', waves: [{ name: 'Wave1', regions: REGIONS.slice(0, 8) }, { name: 'Wave2', regions: REGIONS.slice(8, 16) }] };
      if (targets === 32) c.stages.push(prod2);
    });
    const count = config.stages.reduce((n, st) => n + st.waves.reduce((m, w) => m + w.regions.length, 0), 0);
    expect(count).toBe(targets);
    const app = apps.create({ context: { 'aws:cdk:bundling-stacks': [] } });
    const built = buildSafeDeployApp(app, config, { commit: COMMIT, cliVersion: '2.1148.1' });
    let error: unknown;
    try {
      app.synth();
    } catch (e) {
      error = e;
    }
    const report = JSON.parse(readFileSync(path.join(app.outdir, 'validation-report.json'), 'utf8'));
    const open = report.pluginReports.flatMap((p: any) => p.violations.map((v: any) => `${p.pluginName} ${v.ruleName}`));
    expect({ error: error && String(error), open }).toEqual({ error: undefined, open: [] });
    const resources = Template.fromStack(built.pipeline).toJSON().Resources;
    if (targets === 32) expect(Object.keys(resources).some((id) => /^PipelineRoleOverflowPolicy1/.test(id))).toBe(true);
  });

  test('fails, with the numbers, when a wave cannot fit 50 actions', () => {
    expect(() => synth(scaled([REGIONS.slice(0, 9)]))).toThrow(
      [
        "The pipeline does not fit CodePipeline's limits:",
        '  - stages[1].waves[0]: pipeline stage "Prod-Wave1" would need 56 actions (9 regions × (5 service stacks + 1 platform stack) + 2 permission-check actions); CodePipeline allows 50 per stage: split the wave into waves of at most 8 regions',
      ].join('\n'),
    );
  });

  test('fails when the pipeline would have more than 50 stages', () => {
    const awsRegions = RegionInfo.regions.filter((r) => r.partition === 'aws' && !r.name.includes('gov')).map((r) => r.name);
    // Source, Build, UpdatePipeline, Assets, Images, Beta, then a gate and a stage per wave: 6 + 2 × 23 = 52.
    const config = scaled(
      awsRegions.slice(0, 23).map((r) => [r]),
      0,
    );
    expect(() => synth(config)).toThrow(/stages: the pipeline would have 52 stages .*; CodePipeline allows 50: use fewer, larger waves or a second pipeline/);
  });
});
