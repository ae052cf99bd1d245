#!/usr/bin/env node
import { execFileSync } from 'node:child_process';
import { App } from 'aws-cdk-lib';
import { ConfigError, loadConfig } from '../lib/config/load-config';
import { writeReleaseManifest } from '../lib/pipeline/release-manifest';
import { buildSafeDeployApp } from '../lib/pipeline/safe-deploy-app';
import { extensions } from '../safe-deploy.extensions';

// The built-in CloudFormation validation costs seconds per synth; `npm test` runs it over the whole
// app (test/app.test.ts), and so does the pipeline's build step. CDK_VALIDATION=true turns it on here.
const app = new App({ builtinCloudFormationValidation: process.env.CDK_VALIDATION === 'true' });

let config;
try {
  config = loadConfig({ context: (key) => app.node.tryGetContext(key), env: process.env });
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  console.error(err.message);
  process.exit(1);
}

let built;
try {
  built = buildSafeDeployApp(app, config, {
    commit: currentCommit(),
    cliVersion: require('aws-cdk/package.json').version,
    personal: app.node.tryGetContext('personal') ?? process.env.SAFE_DEPLOY_PERSONAL_STAGE,
    personalEnv: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
    extensions,
  });
} catch (err) {
  // A configuration the constructs refuse (e.g. a wave that cannot fit CodePipeline's limits): one message, no stack trace.
  console.error((err as Error).message);
  process.exit(1);
}

let assemblyDir: string;
try {
  assemblyDir = app.synth().directory;
} catch (err) {
  // Validation errors (cdk-nag, the safety policy, AWS limits) were printed with their report above.
  console.error((err as Error).message);
  process.exit(1);
}
// The pipeline's own steps (image publishing, permission checks) read what this release holds.
writeReleaseManifest(assemblyDir, built.pipeline.releaseManifest);

/** The commit being built: CodeBuild's resolved source version, else the local checkout's HEAD. */
function currentCommit(): string {
  if (process.env.CODEBUILD_RESOLVED_SOURCE_VERSION) return process.env.CODEBUILD_RESOLVED_SOURCE_VERSION;
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'uncommitted';
  }
}
