import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type { SafeDeployConfig } from '../../lib/config/schema';
import { PipelineStack } from '../../lib/pipeline/pipeline-stack';
import { EcsServiceStack } from '../../lib/stacks/ecs-service-stack';
import { TestApps } from '../support/app';
import { fixtureConfig } from '../support/fixtures';
import { buildSpecOf, buildSpecOfProject, cloudFormationActions, PipelineStage, stagesOf, synthPipeline } from '../support/pipeline';

const apps = new TestApps();
afterAll(() => apps.cleanup());
const synth = (config: SafeDeployConfig, app?: App) => synthPipeline(apps, config, app);

let outdir = '';

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
        {
          Region: 'us-east-1',
          ArtifactStore: {
            Type: 'S3',
            Location: { Ref: Match.stringLikeRegexp('^ArtifactsBucket') },
            EncryptionKey: { Type: 'KMS', Id: Match.anyValue() },
          },
        },
      ]),
    });
  });

  test('stages run in order: source, build, self-mutation, assets, images, pre-production, then gated production waves', () => {
    expect(stages.map((s) => s.Name)).toEqual([
      'Source',
      'Build',
      'UpdatePipeline',
      'Assets',
      'Images',
      'Beta',
      'Gate-Prod-Wave1',
      'Prod-Wave1',
      'Gate-Prod-Wave2',
      'Prod-Wave2',
    ]);
  });

  test('each gate reads its settings from the cloud assembly, so its action configuration is small and fixed', () => {
    for (const gate of ['Gate-Prod-Wave1', 'Gate-Prod-Wave2']) {
      const [action] = stages.find((s) => s.Name === gate)!.Actions;
      expect(action.ActionTypeId).toMatchObject({ Category: 'Invoke', Provider: 'Lambda' });
      expect(action.InputArtifacts).toEqual([{ Name: 'Synth_Output' }]);
      expect(JSON.parse(action.Configuration!.UserParameters)).toEqual({
        gate,
        override: '#{variables.SafetyOverride}',
        executionId: '#{codepipeline.PipelineExecutionId}',
      });
    }
  });

  test('the release manifest: gates observe the stage before and guard the next; requests counted only after production', () => {
    const { gates, waves, images } = stack.releaseManifest;
    expect(Object.keys(gates)).toEqual(['Gate-Prod-Wave1', 'Gate-Prod-Wave2']);
    expect(gates['Gate-Prod-Wave1']).toMatchObject({
      stageName: 'Prod-Wave1',
      countRequests: false,
      bake: { minutes: 60, minRequests: 500 },
      maxWaitMinutes: 180,
    });
    expect(gates['Gate-Prod-Wave1'].observe.map((t) => t.healthAlarmNames)).toEqual([
      ['Beta-us-east-1-greeting-api-Health', 'Beta-us-east-1-greeting-web-Health'],
    ]);
    expect(gates['Gate-Prod-Wave2']).toMatchObject({
      stageName: 'Prod-Wave2',
      countRequests: true,
      window: { timeZone: 'America/New_York' },
    });
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
    expect(gates['Gate-Prod-Wave2'].guard.flatMap((t) => t.flags ?? []).map((f) => f.digest)).toEqual(
      [...(beta.flags ?? []), ...(beta.flags ?? [])].map((f) => f.digest),
    );
  });

  test("every action configuration value is within CodePipeline's 1000 characters", () => {
    for (const action of stages.flatMap((s) => s.Actions)) {
      for (const [key, value] of Object.entries(action.Configuration ?? {})) {
        expect({ action: action.Name, key, length: JSON.stringify(value).length <= 1000 }).toEqual({
          action: action.Name,
          key,
          length: true,
        });
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
        Template.fromStack(target.platform).hasResourceProperties('AWS::IAM::Role', {
          RoleName: `safe-deploy-gate-reader-${target.stageName}`,
        });
      }
    }
  });

  test('the source is the configured GitHub branch through CodeConnections, with both IAM prefixes granted', () => {
    expect(stages[0].Actions).toEqual([
      expect.objectContaining({
        ActionTypeId: expect.objectContaining({ Category: 'Source', Provider: 'CodeStarSourceConnection' }),
        Configuration: expect.objectContaining({
          ConnectionArn: config.github.connectionArn,
          FullRepositoryId: 'example-org/safe-deploy',
          BranchName: 'main',
        }),
      }),
    ]);
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Action: ['codeconnections:UseConnection', 'codestar-connections:UseConnection'],
            Effect: 'Allow',
            Resource: config.github.connectionArn,
          },
        ]),
      },
    });
  });

  test('only pushes to the configured branch trigger it', () => {
    template.hasResourceProperties('AWS::CodePipeline::Pipeline', {
      Triggers: [
        {
          ProviderType: 'CodeStarSourceConnection',
          GitConfiguration: { SourceActionName: stages[0].Actions[0].Name, Push: [{ Branches: { Includes: ['main'] } }] },
        },
      ],
    });
  });

  test('the build installs from the lockfile, runs the tests, then synthesizes, on Node 22, with a cache', () => {
    const spec = buildSpecOf(template, stages[1].Actions[0], outdir);
    expect(spec.phases.install.commands).toEqual(['npm ci']);
    expect(spec.phases.install['runtime-versions']).toEqual({ nodejs: '22' });
    expect(spec.phases.build.commands).toEqual(['npm test', 'npx cdk synth']);
    expect(spec.cache).toEqual({ paths: ['/root/.npm/**/*', '.cache/**/*'] });
    const projectRef = stages[1].Actions[0].Configuration!.ProjectName.Ref;
    // The synth validates your configuration's templates against CloudFormation's schemas (bin/app.ts).
    expect(template.toJSON().Resources[projectRef].Properties.Environment.EnvironmentVariables).toEqual(
      expect.arrayContaining([{ Name: 'CDK_VALIDATION', Type: 'PLAINTEXT', Value: 'true' }]),
    );
    expect(template.toJSON().Resources[projectRef].Properties.Cache).toEqual({
      Type: 'S3',
      Location: { 'Fn::Join': ['/', [{ Ref: expect.stringMatching(/^ArtifactsBucket/) }, 'build-cache']] },
    });
  });

  test('every CodeBuild step runs Node 22 (Node 20 is past end of life)', () => {
    const projects = Object.values(template.findResources('AWS::CodeBuild::Project'));
    expect(projects.length).toBeGreaterThanOrEqual(5);
    for (const project of projects) {
      expect(buildSpecOfProject(project, outdir).phases.install['runtime-versions']).toEqual({ nodejs: '22' });
    }
  });

  test('the pipeline updates itself with the pinned CDK CLI, and publishes assets with pinned cdk-assets', () => {
    const [selfMutate] = stages[2].Actions;
    expect(selfMutate.Name).toBe('SelfMutate');
    const spec = buildSpecOf(template, selfMutate, outdir);
    expect(spec.phases.install.commands).toContain('npm install -g aws-cdk@2.1148.1');
    expect(spec.phases.build.commands.join('\n')).toMatch(/cdk -a \. deploy SafeDeployPipeline/);
    const assets = buildSpecOf(template, stages[3].Actions[0], outdir);
    expect(assets.phases.install.commands.join('\n')).toContain('cdk-assets@4.0.3');
  });

  test('each ECS service image is built once, in its own action, from the source with the manifest of the cloud assembly', () => {
    const images = stages.find((s) => s.Name === 'Images')!;
    expect(images.Actions.map((a) => a.Name)).toEqual(['Image-greeting-web']);
    const [action] = images.Actions;
    expect(action.InputArtifacts?.map((a) => a.Name).sort()).toEqual(['Synth_Output', 'example_org_safe_deploy_Source']);
    const spec = buildSpecOf(template, action, outdir);
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
    template.resourcePropertiesCountIs(
      'AWS::ECR::Repository',
      { RepositoryName: 'safe-deploy/greeting-web', ImageTagMutability: 'IMMUTABLE' },
      1,
    );
    template.hasResourceProperties('AWS::ECR::ReplicationConfiguration', {
      ReplicationConfiguration: {
        Rules: [
          {
            Destinations: [
              { Region: 'eu-west-1', RegistryId: '111111111111' },
              { Region: 'us-west-2', RegistryId: '111111111111' },
            ],
            RepositoryFilters: [{ Filter: 'safe-deploy/', FilterType: 'PREFIX_MATCH' }],
          },
        ],
      },
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

  test("pre-production is smoke-tested with each service's own checks through the stack outputs, after it deploys", () => {
    const beta = stages.find((s) => s.Name === 'Beta')!;
    const smoke = beta.Actions.find((a) => a.Name.startsWith('SmokeTest'))!;
    expect(smoke.RunOrder).toBeGreaterThan(Math.max(...cloudFormationActions(beta).map((d) => d.RunOrder)));
    const env = JSON.parse(smoke.Configuration!.EnvironmentVariables);
    expect(env.map((e: { name: string }) => e.name).sort()).toEqual(['URL_GREETING_API', 'URL_GREETING_WEB']);
    const commands: string[] = buildSpecOf(template, smoke, outdir).phases.build.commands;
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
      expect(checks[0].Configuration!.EnvironmentVariables).toBe(
        `[{"name":"WAVE","type":"PLAINTEXT","value":"${stage.Name}"},{"name":"APPROVAL_ACTION","type":"PLAINTEXT","value":"PermissionsCheck-${stage.Name}.Confirm"}]`,
      );
      expect(Math.max(...checks.map((c) => c.RunOrder))).toBeLessThan(Math.min(...cloudFormationActions(stage).map((d) => d.RunOrder)));
      expect(stage.Actions.some((a) => a.Name.startsWith('SmokeTest'))).toBe(false);
    }
  });

  test("the permission check runs the pinned CLI over the wave's targets from the manifest", () => {
    const check = stages.find((s) => s.Name === 'Prod-Wave2')!.Actions.find((a) => a.Name.endsWith('.Check'))!;
    const spec = buildSpecOf(template, check, outdir);
    expect(spec.phases.install.commands).toEqual(['npm install -g aws-cdk@2.1148.1']);
    const build = spec.phases.build.commands.join('\n');
    expect(build).toContain('require("./safe-deploy.release.json")');
    expect(build).toContain('cdk diff -a . --security-only --fail $PATTERNS');
    expect(spec.env['exported-variables']).toEqual(['LINK', 'MESSAGE']);
  });

  test('production waves deploy into the production account and their regions', () => {
    const deployRegions = (name: string) =>
      [...new Set(cloudFormationActions(stages.find((s) => s.Name === name)!).map((a) => a.Region ?? 'us-east-1'))].sort();
    expect(deployRegions('Prod-Wave1')).toEqual(['us-east-1']);
    expect(deployRegions('Prod-Wave2')).toEqual(['eu-west-1', 'us-west-2']);
    const prodRoles = JSON.stringify(
      stages.filter((s) => /^Prod-Wave/.test(s.Name)).flatMap((s) => cloudFormationActions(s).map((a) => a.RoleArn)),
    );
    expect(prodRoles).toContain('222222222222');
    expect(prodRoles).not.toContain(':111111111111:');
  });

  test('no manual approval unless configured', () => {
    expect(
      stages.flatMap((s) => s.Actions).filter((a) => a.ActionTypeId.Category === 'Approval' && !a.Name.startsWith('PermissionsCheck')),
    ).toEqual([]);
  });

  test('snapshot', () => {
    expect(template.toJSON()).toMatchSnapshot();
  });
});
