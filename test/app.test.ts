import { Stack, Stage, Validations } from 'aws-cdk-lib';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { IConstruct } from 'constructs';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { loadConfig } from '../lib/config/load-config';
import { buildSafeDeployApp } from '../lib/pipeline/safe-deploy-app';
import { DIAGRAM_BEGIN, DIAGRAM_END, renderArchitecture } from '../lib/report/architecture';
import { TestApps } from './support/app';

/** Every acknowledged policy finding in the tree: where, which rule, and why. */
function acknowledgements(root: IConstruct): Array<{ path: string; id: string; reason: string }> {
  return root.node.findAll().flatMap((c) =>
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

describe('the whole app on the example configuration', () => {
  const apps = new TestApps();
  afterAll(() => apps.cleanup());
  // Built-in CloudFormation validation on: the synth command skips it for speed (see bin/app.ts).
  const app = apps.create({ builtinCloudFormationValidation: true });
  const built = buildSafeDeployApp(app, loadConfig(), { commit: 'a'.repeat(40), cliVersion: '2.1148.1', personal: 'ci' });
  let assembly: CloudAssembly;
  let synthError: unknown;
  beforeAll(() => {
    try {
      assembly = app.synth();
    } catch (e) {
      synthError = e;
    }
  });

  test('synthesizes offline with zero unsuppressed cdk-nag, safety-policy or CloudFormation errors', () => {
    const report = path.join(app.outdir, 'validation-report.json');
    const failures = existsSync(report)
      ? JSON.parse(readFileSync(report, 'utf8')).pluginReports.flatMap((p: any) =>
          p.violations.filter((v: any) => v.severity === 'error' || p.conclusion === 'failure').map((v: any) => `${p.pluginName} ${v.ruleName}: ${v.violatingConstructs.map((c: any) => c.constructPath).join(', ')}`),
        )
      : [];
    expect({ synthError: synthError ? String(synthError) : undefined, failures }).toEqual({ synthError: undefined, failures: [] });
  });

  test('deploys both services to every stage and region, plus a personal stage', () => {
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
      expect(stacks).toEqual(expect.arrayContaining(['LambdaService', 'EcsService']));
    }
  });

  test('the personal stage is environment-agnostic and builds the image from container/', () => {
    const ecs = built.personal!.ecsService;
    expect(ecs.resolve(ecs.account)).toEqual({ Ref: 'AWS::AccountId' });
    const stack = assembly.getNestedAssembly('assembly-Personal-ci').getStackArtifact(ecs.artifactId);
    const manifest = JSON.parse(readFileSync(path.join(stack.assembly.directory, `${ecs.artifactId}.assets.json`), 'utf8'));
    const images = Object.values(manifest.dockerImages ?? {}) as Array<{ source: { directory: string } }>;
    expect(images).toHaveLength(1);
    // The asset folder is a copy of container/, holding its Dockerfile.
    expect(existsSync(path.join(stack.assembly.directory, images[0].source.directory, 'Dockerfile'))).toBe(true);
    expect(JSON.stringify(stack.template)).toContain('container-assets');
  });

  test('every acknowledged finding carries a reason a reviewer can read', () => {
    const acks = acknowledgements(app);
    expect(acks.length).toBeGreaterThan(0);
    for (const ack of acks) {
      expect({ ...ack, reasonLength: ack.reason.trim().length >= 30 }).toEqual({ ...ack, reasonLength: true });
    }
  });

  test('the README\'s architecture diagram is the one the app generates (run `npm run diagram` after a change)', () => {
    const readme = readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');
    const inReadme = readme.slice(readme.indexOf(DIAGRAM_BEGIN) + DIAGRAM_BEGIN.length, readme.indexOf(DIAGRAM_END)).trim();
    expect(inReadme).toBe(renderArchitecture(built.pipeline));
    expect(inReadme).toContain('Gate_Prod_Wave1 --> Prod_Wave1');
  });

  test('counts (kept in step with the README figures)', () => {
    const stacks = allStacks(assembly);
    const resources = stacks.reduce((n, s) => n + Object.keys(s.template.Resources ?? {}).length, 0);
    // Printed for the closing note and README; asserted loosely so that adding a resource is not a test failure.
    console.log(`templates=${stacks.length} resources=${resources} acknowledgements=${acknowledgements(app).length}`);
    expect(stacks.length).toBeGreaterThanOrEqual(13);
  });
});
