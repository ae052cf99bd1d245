import { Match, Template } from 'aws-cdk-lib/assertions';
import { loadConfig, parseConfig } from '../../lib/config/load-config';
import type { SafeDeployConfig } from '../../lib/config/schema';
import { PipelineStack } from '../../lib/pipeline/pipeline-stack';
import { TestApps } from '../support/app';

const COMMIT = '0123456789abcdef0123456789abcdef01234567';
const apps = new TestApps();
afterAll(() => apps.cleanup());

function synth(config: SafeDeployConfig) {
  const stack = new PipelineStack(apps.create(), 'SafeDeployPipeline', {
    env: { account: config.pipeline.account, region: config.pipeline.region },
    config,
    commit: COMMIT,
    cliVersion: '2.1148.1',
  });
  return { stack, template: Template.fromStack(stack) };
}

type Action = { Name: string; ActionTypeId: { Category: string; Provider: string }; RunOrder: number; Configuration?: Record<string, any>; RoleArn?: unknown; Region?: string };
type PipelineStage = { Name: string; Actions: Action[] };

function stagesOf(template: Template): PipelineStage[] {
  const [pipeline] = Object.values(template.findResources('AWS::CodePipeline::Pipeline'));
  return pipeline.Properties.Stages;
}

/** The buildspec of the CodeBuild project an action runs. */
function buildSpecOf(template: Template, action: Action): any {
  const projectRef = action.Configuration!.ProjectName.Ref as string;
  const project = template.toJSON().Resources[projectRef];
  return JSON.parse(project.Properties.Source.BuildSpec);
}

describe('PipelineStack on the example configuration', () => {
  const config = loadConfig();
  let template: Template;
  let stages: PipelineStage[];
  let stack: PipelineStack;
  beforeAll(() => {
    ({ stack, template } = synth(config));
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

  test('stages run in order: source, build, self-mutation, assets, pre-production, then gated production waves', () => {
    expect(stages.map((s) => s.Name)).toEqual([
      'Source', 'Build', 'UpdatePipeline', 'Assets', 'Beta', 'Gate-Prod-Wave1', 'Prod-Wave1', 'Gate-Prod-Wave2', 'Prod-Wave2',
    ]);
  });

  test('each production wave is gated by the bake gate, judging the stage before it', () => {
    for (const [gate, previous, targets] of [
      ['Gate-Prod-Wave1', 'Beta', ['us-east-1']],
      ['Gate-Prod-Wave2', 'Prod-Wave1', ['us-west-2', 'eu-west-1']],
    ] as const) {
      const [action] = stages.find((s) => s.Name === gate)!.Actions;
      expect(action.ActionTypeId).toMatchObject({ Category: 'Invoke', Provider: 'Lambda' });
      const params = JSON.parse(action.Configuration!.UserParameters);
      expect(params.stageName).toBe(gate.replace('Gate-', ''));
      expect(params.bake).toEqual({ minutes: 60, minRequests: 500 });
      expect(params.window.timeZone).toBe('America/New_York');
      // Observes the stage before it (baked, served, quiet), guards the stage it opens (not alarming).
      expect(JSON.stringify(params.observe)).toContain(previous === 'Beta' ? 'Beta-us-east-1-LambdaService-Health' : 'Prod-us-east-1-LambdaService-Health');
      expect(params.guard.map((t: { region: string }) => t.region)).toEqual(targets);
      expect(JSON.stringify(params.guard)).toContain(`Prod-${targets[0]}-EcsService-Health`);
    }
  });

  test('a failed production stage rolls back on its own; pre-production does not', () => {
    const onFailure = Object.fromEntries(stages.map((s: any) => [s.Name, s.OnFailure?.Result]));
    expect(onFailure['Prod-Wave1']).toBe('ROLLBACK');
    expect(onFailure['Prod-Wave2']).toBe('ROLLBACK');
    expect(onFailure.Beta).toBeUndefined();
  });

  test('each stage trusts the gate with a read-only role named for it', () => {
    const gateRead = template.findResources('AWS::IAM::Policy', {
      Properties: { PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: 'sts:AssumeRole' })]) } },
    });
    const assumable = JSON.stringify(Object.values(gateRead).map((p) => p.Properties.PolicyDocument));
    expect(assumable).toContain('safe-deploy-gate-reader-');
    for (const wave of stack.waves) {
      for (const target of wave.targets) {
        Template.fromStack(target.lambdaService).hasResourceProperties('AWS::IAM::Role', { RoleName: `safe-deploy-gate-reader-${target.stageName}` });
      }
    }
  });

  test('the source is the configured GitHub branch through CodeConnections', () => {
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

  test('the build installs from the lockfile, runs the tests, then synthesizes, with a cache', () => {
    const spec = buildSpecOf(template, stages[1].Actions[0]);
    expect(spec.phases.install.commands).toEqual(['npm ci']);
    expect(spec.phases.build.commands).toEqual(['npm test', 'npx cdk synth']);
    expect(spec.cache).toEqual({ paths: ['/root/.npm/**/*'] });
    const projectRef = stages[1].Actions[0].Configuration!.ProjectName.Ref;
    expect(template.toJSON().Resources[projectRef].Properties.Cache).toEqual({
      Type: 'S3',
      Location: { 'Fn::Join': ['/', [{ Ref: expect.stringMatching(/^ArtifactsBucket/) }, 'build-cache']] },
    });
  });

  test('the pipeline updates itself with the pinned CDK CLI before deploying anything', () => {
    const [selfMutate] = stages[2].Actions;
    expect(selfMutate.Name).toBe('SelfMutate');
    const spec = buildSpecOf(template, selfMutate);
    expect(spec.phases.install.commands).toContain('npm install -g aws-cdk@2.1148.1');
    expect(spec.phases.build.commands.join('\n')).toMatch(/cdk -a \. deploy SafeDeployPipeline/);
  });

  test('the container image is built once, before the first stage, tagged with the commit', () => {
    const publish = stages.flatMap((s) => s.Actions.filter((a) => a.Name === 'PublishImage').map(() => s.Name));
    expect(publish).toEqual(['Beta']);
    const action = stages.find((s) => s.Name === 'Beta')!.Actions.find((a) => a.Name === 'PublishImage')!;
    const spec = buildSpecOf(template, action);
    const commands = spec.phases.build.commands.join('\n');
    expect(commands).toContain('TAG="$CODEBUILD_RESOLVED_SOURCE_VERSION"');
    expect(commands).toMatch(/describe-images .*imageTag="\$TAG".*already published/);
    expect(commands).toContain('docker push "$REPOSITORY_URI:$TAG"');
    const projectRef = action.Configuration!.ProjectName.Ref;
    expect(template.toJSON().Resources[projectRef].Properties.Environment.PrivilegedMode).toBe(true);
  });

  test('the image publisher may push only to the project repository', () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: Match.arrayWith(['ecr:InitiateLayerUpload', 'ecr:PutImage']),
            Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ArtifactsRepository'), 'Arn'] },
          }),
        ]),
      },
    });
  });

  test('every stage deploys the commit-tagged image from the project repository', () => {
    for (const wave of stack.waves) {
      for (const target of wave.targets) {
        const [taskDefinition] = Object.values(Template.fromStack(target.ecsService).findResources('AWS::ECS::TaskDefinition'));
        const image = JSON.stringify(taskDefinition.Properties.ContainerDefinitions[0].Image);
        expect(image).toContain('111111111111.dkr.ecr.us-east-1.');
        expect(image).toContain(`/safe-deploy-service:${COMMIT}`);
      }
    }
  });

  test('pre-production is smoke-tested through the stack outputs after it deploys', () => {
    const beta = stages.find((s) => s.Name === 'Beta')!;
    const deploys = beta.Actions.filter((a) => a.ActionTypeId.Provider === 'CloudFormation');
    const smoke = beta.Actions.find((a) => a.Name.startsWith('SmokeTest'))!;
    expect(smoke).toBeDefined();
    expect(smoke.RunOrder).toBeGreaterThan(Math.max(...deploys.map((d) => d.RunOrder)));
    const env = JSON.parse(smoke.Configuration!.EnvironmentVariables);
    expect(env.map((e: { name: string }) => e.name).sort()).toEqual(['ECS_URL', 'LAMBDA_URL']);
    const commands = buildSpecOf(template, smoke).phases.build.commands;
    expect(commands).toHaveLength(4);
    expect(commands[0]).toMatch(/curl -fsS .*"\$\{LAMBDA_URL%\/\}\/health" \| grep -qF '"status":"ok"' \|\| \{ .*exit 1; \}/);
  });

  test('production deploys only after a security-broadening check, never smoke-tested against prod', () => {
    for (const stage of stages.filter((s) => /^Prod-Wave/.test(s.Name))) {
      const deploys = stage.Actions.filter((a) => a.ActionTypeId.Provider === 'CloudFormation');
      // Per target: a CodeBuild security diff, then an approval it auto-approves when nothing broadens.
      const checks = stage.Actions.filter((a) => a.Name.includes('SecurityCheck'));
      expect(checks.map((c) => c.ActionTypeId.Provider).sort()).toEqual(stage.Name === 'Prod-Wave1' ? ['CodeBuild', 'Manual'] : ['CodeBuild', 'CodeBuild', 'Manual', 'Manual']);
      expect(Math.max(...checks.map((c) => c.RunOrder))).toBeLessThan(Math.min(...deploys.map((d) => d.RunOrder)));
      expect(stage.Actions.some((a) => a.Name.startsWith('SmokeTest'))).toBe(false);
    }
  });

  test('production waves deploy into the production account and their regions', () => {
    const deployRegions = (name: string) =>
      [...new Set(stages.find((s) => s.Name === name)!.Actions.filter((a) => a.ActionTypeId.Provider === 'CloudFormation').map((a) => a.Region ?? 'us-east-1'))].sort();
    expect(deployRegions('Prod-Wave1')).toEqual(['us-east-1']);
    expect(deployRegions('Prod-Wave2')).toEqual(['eu-west-1', 'us-west-2']);
    const prodRoles = JSON.stringify(stages.filter((s) => /^Prod-Wave/.test(s.Name)).flatMap((s) => s.Actions.filter((a) => a.ActionTypeId.Provider === 'CloudFormation').map((a) => a.RoleArn)));
    expect(prodRoles).toContain('222222222222');
    expect(prodRoles).not.toContain(':111111111111:');
  });

  test('production accounts may pull images', () => {
    template.hasResourceProperties('AWS::ECR::Repository', {
      RepositoryPolicyText: { Statement: [Match.objectLike({ Principal: { AWS: 'arn:aws:iam::222222222222:root' } })] },
    });
  });

  test('no manual approval unless configured', () => {
    expect(stages.flatMap((s) => s.Actions).filter((a) => a.ActionTypeId.Category === 'Approval' && !a.Name.includes('SecurityCheck'))).toEqual([]);
  });

  test('snapshot', () => {
    expect(template.toJSON()).toMatchSnapshot();
  });
});

describe('PipelineStack with a manual approval before production', () => {
  test('approval is the first action of the stage\'s first wave only', () => {
    const raw = JSON.parse(JSON.stringify(loadConfig()));
    raw.stages[1].manualApproval = true;
    raw.stages[1].waves = [raw.stages[1].waves[0], { name: 'Wave2', regions: ['us-west-2'] }];
    const stages = stagesOf(synth(parseConfig(raw)).template);
    const approvals = stages.flatMap((s) => s.Actions.filter((a) => a.Name === 'Approve-Prod').map((a) => ({ stage: s.Name, runOrder: a.RunOrder, provider: a.ActionTypeId.Provider })));
    expect(approvals).toEqual([{ stage: 'Prod-Wave1', runOrder: 1, provider: 'Manual' }]);
  });
});
