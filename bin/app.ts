#!/usr/bin/env node
import { execFileSync } from 'node:child_process';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ConfigError, loadConfig } from '../lib/config/load-config';
import { PipelineStack } from '../lib/pipeline/pipeline-stack';
import { ServiceStage } from '../lib/pipeline/service-stage';

const app = new App();

let config;
try {
  config = loadConfig({ context: (key) => app.node.tryGetContext(key), env: process.env });
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  console.error(err.message);
  process.exit(1);
}

new PipelineStack(app, 'SafeDeployPipeline', {
  stackName: `${config.appName}-pipeline`,
  env: { account: config.pipeline.account, region: config.pipeline.region },
  config,
  commit: currentCommit(),
  cliVersion: require('aws-cdk/package.json').version,
});

// A personal stack set deployed straight from a laptop (`-c personal=<name>`), skipping the pipeline.
const personal = app.node.tryGetContext('personal') ?? process.env.SAFE_DEPLOY_PERSONAL_STAGE;
if (personal) {
  const template = config.stages.find((s) => s.type === 'pre-production') ?? config.stages[0];
  new ServiceStage(app, `Personal-${personal}`, {
    env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
    settings: template,
  });
}

Validations.of(app).addPlugins(new AwsSolutionsChecks(app));

/** The commit being built: CodeBuild's resolved source version, else the local checkout's HEAD. */
function currentCommit(): string {
  if (process.env.CODEBUILD_RESOLVED_SOURCE_VERSION) return process.env.CODEBUILD_RESOLVED_SOURCE_VERSION;
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'uncommitted';
  }
}
