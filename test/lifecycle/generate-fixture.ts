/**
 * Writes test/lifecycle/example-pipeline.json from a synth of the app on the example
 * configuration (test/fixtures/example.config.json): `npx tsx test/lifecycle/generate-fixture.ts`.
 */
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { buildSafeDeployApp } from '../../lib/pipeline/safe-deploy-app';
import { fixtureConfig } from '../support/fixtures';
import { pipelineFixture } from './pipeline-fixture';

const outdir = mkdtempSync(path.join(tmpdir(), 'safe-deploy-lifecycle-'));
try {
  const context = { ...require('../../cdk.json').context, 'aws:cdk:bundling-stacks': [] };
  const app = new App({ outdir, context });
  const built = buildSafeDeployApp(app, fixtureConfig('example'), { commit: 'a'.repeat(40), cliVersion: '2.1148.1' });
  const assembly = app.synth();
  const fixture = pipelineFixture(built.pipeline, assembly.getStackArtifact(built.pipeline.artifactId).template);
  writeFileSync(path.join(__dirname, 'example-pipeline.json'), `${JSON.stringify(fixture, null, 2)}\n`);
  console.log(`wrote ${fixture.stages.length} stages, ${fixture.targets.length} targets`);
} finally {
  rmSync(outdir, { recursive: true, force: true });
}
