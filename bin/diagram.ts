#!/usr/bin/env node
// The architecture diagram. `npm run diagram` regenerates the one in README.md, which pictures the
// example configuration (test/fixtures/example.config.json, the same as the shipped
// safe-deploy.config.json). `npm run diagram -- --print` prints the diagram of your own configuration.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { ConfigError, loadConfig } from '../lib/config/load-config';
import { buildSafeDeployApp } from '../lib/pipeline/safe-deploy-app';
import { renderArchitecture, replaceDiagram } from '../lib/report/architecture';

const root = path.join(__dirname, '..');
const print = process.argv.includes('--print');
const outdir = mkdtempSync(path.join(tmpdir(), 'safe-deploy-diagram-'));
try {
  const config = loadConfig({ file: print ? undefined : path.join(root, 'test', 'fixtures', 'example.config.json'), env: process.env });
  // No bundling: the diagram needs the pipeline's shape, not the services' code.
  const app = new App({ context: { ...require('../cdk.json').context, 'aws:cdk:bundling-stacks': [] }, outdir });
  const { pipeline } = buildSafeDeployApp(app, config, { commit: 'example', cliVersion: require('aws-cdk/package.json').version });
  const diagram = renderArchitecture(pipeline);
  if (print) {
    console.log(diagram);
  } else {
    const readme = path.join(root, 'README.md');
    writeFileSync(readme, replaceDiagram(readFileSync(readme, 'utf8'), diagram));
    console.log(`updated the architecture diagram in ${path.relative(process.cwd(), readme)}`);
  }
} catch (err) {
  console.error(err instanceof ConfigError ? err.message : `diagram: ${(err as Error).message}`);
  process.exitCode = 1;
} finally {
  rmSync(outdir, { recursive: true, force: true });
}
