/** Helpers of the pipeline tests (test/pipeline/pipeline-*.test.ts), split so that jest runs them side by side. */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { SafeDeployConfig } from '../../lib/config/schema';
import { PipelineStack } from '../../lib/pipeline/pipeline-stack';
import type { TestApps } from './app';

export const COMMIT = '0123456789abcdef0123456789abcdef01234567';

/** The pipeline stack, in an App whose assets are not bundled: the pipeline tests are about the pipeline. */
export function synthPipeline(
  apps: TestApps,
  config: SafeDeployConfig,
  app: App = apps.create({ context: { 'aws:cdk:bundling-stacks': [] } }),
) {
  const stack = new PipelineStack(app, 'SafeDeployPipeline', {
    env: { account: config.pipeline.account, region: config.pipeline.region },
    config,
    commit: COMMIT,
    cliVersion: '2.1148.1',
    cdkAssetsVersion: '4.0.3',
  });
  return { stack, template: Template.fromStack(stack) };
}

export type Action = {
  Name: string;
  ActionTypeId: { Category: string; Provider: string };
  RunOrder: number;
  Configuration?: Record<string, any>;
  RoleArn?: unknown;
  Region?: string;
  InputArtifacts?: Array<{ Name: string }>;
};
export type PipelineStage = { Name: string; Actions: Action[]; OnFailure?: { Result: string } };

export function stagesOf(template: Template): PipelineStage[] {
  const [pipeline] = Object.values(template.findResources('AWS::CodePipeline::Pipeline'));
  return pipeline.Properties.Stages;
}

/** A project's buildspec: inline JSON, or (CDK Pipelines' asset projects) a file in the cloud assembly. */
export function buildSpecOfProject(project: any, outdir: string): any {
  const spec: string = project.Properties.Source.BuildSpec;
  return JSON.parse(spec.trim().startsWith('{') ? spec : readFileSync(path.join(outdir, spec), 'utf8'));
}

/** The buildspec of the CodeBuild project an action runs. */
export function buildSpecOf(template: Template, action: Action, outdir: string): any {
  const projectRef = action.Configuration!.ProjectName.Ref as string;
  return buildSpecOfProject(template.toJSON().Resources[projectRef], outdir);
}

export const cloudFormationActions = (stage: PipelineStage) => stage.Actions.filter((a) => a.ActionTypeId.Provider === 'CloudFormation');
