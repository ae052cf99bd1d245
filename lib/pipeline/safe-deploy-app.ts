import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { SafeDeployConfig } from '../config/schema';
import { SafetyPolicyChecks } from '../policy';
import { PipelineStack } from './pipeline-stack';
import { ServiceExtensions, ServiceStage } from './service-stage';

/**
 * The cdk-assets release the pipeline's Assets stage installs. CDK Pipelines installs `latest` by
 * default, so a cdk-assets release could change how a release's assets publish without a commit here.
 * Bump it with the aws-cdk devDependency (both are published by the CDK team), in its own commit.
 */
export const CDK_ASSETS_VERSION = '4.7.3';

/** What the app is built from, besides the configuration. */
export interface SafeDeployAppOptions {
  /** The git commit being synthesized (recorded in the release manifest and image labels). */
  readonly commit: string;
  /** The aws-cdk CLI version the pipeline installs. */
  readonly cliVersion: string;
  /** The cdk-assets version the pipeline publishes assets with. @default CDK_ASSETS_VERSION */
  readonly cdkAssetsVersion?: string;
  /**
   * Name of a personal stage to deploy straight from a laptop, into `personalEnv`.
   * @default - none
   */
  readonly personal?: string;
  /** Account and region of the personal stage. @default - the CLI's default account and region */
  readonly personalEnv?: { readonly account?: string; readonly region?: string };
  /**
   * Code added to services by name (safe-deploy.extensions.ts): runs for every target, after the
   * service is built. The one place to add what the config does not offer, without forking.
   * @default - none
   */
  readonly extensions?: ServiceExtensions;
}

/** The pipeline stack and, on request, a personal stage; policy checks on all of it. */
export interface SafeDeployApp {
  readonly pipeline: PipelineStack;
  readonly personal?: ServiceStage;
}

/** Builds the whole app into `app`: what `bin/app.ts` runs and what the app-level tests check. */
export function buildSafeDeployApp(app: App, config: SafeDeployConfig, options: SafeDeployAppOptions): SafeDeployApp {
  const pipeline = new PipelineStack(app, 'SafeDeployPipeline', {
    stackName: `${config.appName}-pipeline`,
    env: { account: config.pipeline.account, region: config.pipeline.region },
    config,
    commit: options.commit,
    cliVersion: options.cliVersion,
    cdkAssetsVersion: options.cdkAssetsVersion ?? CDK_ASSETS_VERSION,
    extensions: options.extensions,
  });

  let personal: ServiceStage | undefined;
  if (options.personal) {
    // Deployed with `cdk deploy 'Personal-<name>/*'`; ECS images are built from their directories locally.
    const template = config.stages.find((s) => s.type === 'pre-production') ?? config.stages[0];
    personal = new ServiceStage(app, `Personal-${options.personal}`, {
      env: options.personalEnv,
      settings: template,
      services: config.services,
      extensions: options.extensions,
    });
  }

  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new SafetyPolicyChecks());
  return { pipeline, personal };
}
