import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { SafeDeployConfig } from '../config/schema';
import { SafetyPolicyChecks } from '../policy';
import { PipelineStack } from './pipeline-stack';
import { ServiceStage } from './service-stage';

/** What the app is built from, besides the configuration. */
export interface SafeDeployAppOptions {
  /** The git commit being synthesized (the container image tag). */
  readonly commit: string;
  /** The aws-cdk CLI version the pipeline installs. */
  readonly cliVersion: string;
  /**
   * Name of a personal stage to deploy straight from a laptop, into `personalEnv`.
   * @default - none
   */
  readonly personal?: string;
  /** Account and region of the personal stage. @default - the CLI's default account and region */
  readonly personalEnv?: { readonly account?: string; readonly region?: string };
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
  });

  let personal: ServiceStage | undefined;
  if (options.personal) {
    // Deployed with `cdk deploy 'Personal-<name>/*'`; the image is built from container/ locally.
    const template = config.stages.find((s) => s.type === 'pre-production') ?? config.stages[0];
    personal = new ServiceStage(app, `Personal-${options.personal}`, { env: options.personalEnv, settings: template });
  }

  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new SafetyPolicyChecks());
  return { pipeline, personal };
}
