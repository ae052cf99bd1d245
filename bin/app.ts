#!/usr/bin/env node
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { ConfigError, configFile, loadConfig } from '../lib/config/load-config';
import { checkShapes, readShapeLock, SHAPE_LOCK_FILE, shapesOf, writeShapeLock } from '../lib/pipeline/deployed-shape';
import { writeReleaseManifest } from '../lib/pipeline/release-manifest';
import { buildSafeDeployApp } from '../lib/pipeline/safe-deploy-app';
import { extensions } from '../safe-deploy.extensions';

// The built-in CloudFormation validation costs seconds per synth: off on a laptop, on in the pipeline's
// Build (CDK_VALIDATION=true), so your configuration's templates are validated before any deploy.
// `npm test` runs it over the example configuration (test/app.test.ts).
const app = new App({ builtinCloudFormationValidation: process.env.CDK_VALIDATION === 'true' });

const configOptions = { context: (key: string) => app.node.tryGetContext(key), env: process.env };
let config;
try {
  config = loadConfig(configOptions);
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

// Blue/green ECS services whose load balancer or network CloudFormation cannot change safely: refuse here.
const lockFile = path.join(path.dirname(configFile(configOptions)), SHAPE_LOCK_FILE);
try {
  const check = checkShapes(shapesOf(app.synth()), readShapeLock(lockFile));
  if (check.problems.length > 0) {
    console.error(
      `${lockFile}: a change CloudFormation cannot make to a deployed ECS service:\n${check.problems.map((p) => `  - ${p}`).join('\n')}`,
    );
    process.exit(1);
  }
  if (writeShapeLock(lockFile, check.lock) && check.added.length > 0) {
    console.error(`Recorded the load balancer shape of ${check.added.length} new ECS service stack(s) in ${lockFile}: commit it.`);
  }
} catch (err) {
  console.error((err as Error).message);
  process.exit(1);
}

/** The commit being built: CodeBuild's resolved source version, else the local checkout's HEAD. */
function currentCommit(): string {
  if (process.env.CODEBUILD_RESOLVED_SOURCE_VERSION) return process.env.CODEBUILD_RESOLVED_SOURCE_VERSION;
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'uncommitted';
  }
}
