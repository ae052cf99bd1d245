#!/usr/bin/env node
// Regenerates the architecture diagram in README.md from the app built on the example configuration.
import { App } from 'aws-cdk-lib';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { loadConfig } from '../lib/config/load-config';
import { buildSafeDeployApp } from '../lib/pipeline/safe-deploy-app';
import { renderArchitecture, replaceDiagram } from '../lib/report/architecture';

const readme = path.join(__dirname, '..', 'README.md');
const app = new App({ context: require('../cdk.json').context, outdir: path.join(__dirname, '..', 'cdk.out') });
const { pipeline } = buildSafeDeployApp(app, loadConfig(), { commit: 'example', cliVersion: require('aws-cdk/package.json').version });
writeFileSync(readme, replaceDiagram(readFileSync(readme, 'utf8'), renderArchitecture(pipeline)));
console.log(`updated the architecture diagram in ${path.relative(process.cwd(), readme)}`);
