import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Stack, Stage, Validations } from 'aws-cdk-lib';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { IConstruct } from 'constructs';
import { RELEASE_MANIFEST_FILE, writeReleaseManifest } from '../lib/pipeline/release-manifest';
import { CDK_ASSETS_VERSION } from '../lib/pipeline/safe-deploy-app';
import { DIAGRAM_BEGIN, DIAGRAM_END, renderArchitecture } from '../lib/report/architecture';
import { EcsServiceStack } from '../lib/stacks/ecs-service-stack';
import { pipelineFixture } from './lifecycle/pipeline-fixture';
import { TestApps } from './support/app';
import { fixtureConfig } from './support/fixtures';
import { buildApp, synthesize } from './support/whole-app';

/** Every acknowledged policy finding in the tree: where, which rule, and why. */
function acknowledgements(root: IConstruct): Array<{ path: string; id: string; reason: string }> {
  return root.node
    .findAll()
    .flatMap((c) =>
      c.node.metadata
        .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
        .flatMap((m) => Object.entries(m.data as Record<string, string>).map(([id, reason]) => ({ path: c.node.path, id, reason }))),
    );
}

/** Stacks of an assembly and its nested stage assemblies. */
function allStacks(assembly: CloudAssembly): Array<{ id: string; template: any }> {
  return [
    ...assembly.stacks.map((s) => ({ id: s.hierarchicalId, template: s.template })),
    ...assembly.nestedAssemblies.flatMap((n) => allStacks(n.nestedAssembly)),
  ];
}

const apps = new TestApps();
afterAll(() => apps.cleanup());

describe('the whole app on the example configuration (test/fixtures/example.config.json)', () => {
  // Lambda bundling skipped (the handlers' bundles are tested where they are built); the personal
  // stage's image assets are still staged from the services' directories. CloudFormation's template
  // validation on, as in the pipeline's synth (the user's own configuration is validated there).
  const app = apps.create({ builtinCloudFormationValidation: true, context: { 'aws:cdk:bundling-stacks': [] } });
  const built = buildApp(fixtureConfig('example'), app, 'ci');
  let result: ReturnType<typeof synthesize>;
  beforeAll(() => {
    result = synthesize(app);
  });

  test('synthesizes with zero unsuppressed cdk-nag, safety-policy or CloudFormation-validation errors', () => {
    expect({ error: result.error, failures: result.failures }).toEqual({ error: undefined, failures: [] });
  });

  test('writes the release manifest the pipeline steps read', () => {
    writeReleaseManifest(result.assembly!.directory, built.pipeline.releaseManifest);
    const manifest = JSON.parse(readFileSync(path.join(result.assembly!.directory, RELEASE_MANIFEST_FILE), 'utf8'));
    expect(Object.keys(manifest.waves).length).toBeGreaterThan(0);
  });

  test('deploys every service to every stage and region, plus a personal stage', () => {
    const stages = app.node.findAll().filter((c): c is Stage => Stage.isStage(c) && c !== app);
    expect(stages.map((s) => s.node.path).sort()).toEqual([
      'Personal-ci',
      'SafeDeployPipeline/Beta-us-east-1',
      'SafeDeployPipeline/Prod-eu-west-1',
      'SafeDeployPipeline/Prod-us-east-1',
      'SafeDeployPipeline/Prod-us-west-2',
    ]);
    for (const stage of stages) {
      const stacks = stage.node.children.filter((c): c is Stack => Stack.isStack(c)).map((s) => s.node.id);
      expect(stacks).toEqual(['Platform', 'greeting-api', 'greeting-web']);
    }
  });

  test('the personal stage is environment-agnostic and builds the image from the service directory', () => {
    const ecs = built.personal!.service('greeting-web') as EcsServiceStack;
    expect(ecs.resolve(ecs.account)).toEqual({ Ref: 'AWS::AccountId' });
    const stack = result.assembly!.getNestedAssembly('assembly-Personal-ci').getStackArtifact(ecs.artifactId);
    const manifest = JSON.parse(readFileSync(path.join(stack.assembly.directory, `${ecs.artifactId}.assets.json`), 'utf8'));
    const images = Object.values(manifest.dockerImages ?? {}) as Array<{ source: { directory: string } }>;
    expect(images).toHaveLength(1);
    // The asset folder is a copy of the service's build context, holding its Dockerfile.
    expect(existsSync(path.join(stack.assembly.directory, images[0].source.directory, 'Dockerfile'))).toBe(true);
    expect(JSON.stringify(stack.template)).toContain('container-assets');
  });

  test('the pipeline installs pinned tools, never `latest`', () => {
    const template = result.assembly!.getStackArtifact(built.pipeline.artifactId).template;
    const installs = Object.values<any>(template.Resources)
      .filter((r) => r.Type === 'AWS::CodeBuild::Project')
      .map((r) => r.Properties.Source.BuildSpec as string)
      // CDK Pipelines writes large buildspecs to a file of the assembly and names it instead.
      .map((spec) => JSON.parse(spec.trim().startsWith('{') ? spec : readFileSync(path.join(result.assembly!.directory, spec), 'utf8')))
      .flatMap((spec) => spec.phases.install?.commands ?? []) as string[];
    expect(installs).toContain(`npm install -g cdk-assets@${CDK_ASSETS_VERSION}`);
    expect(installs.filter((c) => /npm (install|i) /.test(c) && !/@\d+\.\d+\.\d+$/.test(c))).toEqual([]);
  });

  test('every acknowledged finding carries a reason a reviewer can read', () => {
    const acks = acknowledgements(app);
    expect(acks.length).toBeGreaterThan(0);
    for (const ack of acks) {
      expect({ ...ack, reasonLength: ack.reason.trim().length >= 30 }).toEqual({ ...ack, reasonLength: true });
    }
  });

  test("the README's architecture diagram is the example's (run `npm run diagram` after a change)", () => {
    const readme = readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');
    const inReadme = readme.slice(readme.indexOf(DIAGRAM_BEGIN) + DIAGRAM_BEGIN.length, readme.indexOf(DIAGRAM_END)).trim();
    expect(inReadme).toBe(renderArchitecture(built.pipeline));
    expect(inReadme).toContain('Gate_Prod_Wave1 --> Prod_Wave1');
  });

  test('the lifecycle scenarios play this pipeline (after a change: npx tsx test/lifecycle/generate-fixture.ts)', () => {
    const template = result.assembly!.getStackArtifact(built.pipeline.artifactId).template;
    const recorded = JSON.parse(readFileSync(path.join(__dirname, 'lifecycle', 'example-pipeline.json'), 'utf8'));
    expect(pipelineFixture(built.pipeline, template)).toEqual(recorded);
  });

  test('counts (kept in step with the README figures)', () => {
    const stacks = allStacks(result.assembly!);
    const resources = stacks.reduce((n, s) => n + Object.keys(s.template.Resources ?? {}).length, 0);
    // Printed for the closing note and README; asserted loosely so that adding a resource is not a test failure.
    console.log(`templates=${stacks.length} resources=${resources} acknowledgements=${acknowledgements(app).length}`);
    expect(stacks.length).toBeGreaterThanOrEqual(17);
  });
});
