import * as cdk from 'aws-cdk-lib';
import { Construct } from 'constructs';
import type { StageConfig } from '../config/schema';
import { EcsServiceStack } from '../stacks/ecs-service-stack';
import { LambdaServiceStack } from '../stacks/lambda-service-stack';

/** Properties of a ServiceStage. */
export interface ServiceStageProps extends cdk.StageProps {
  /** The stage's service settings (traffic shifts, alarm overrides) from the configuration. */
  readonly settings: Pick<StageConfig, 'lambda' | 'ecs'>;
  /**
   * The container image, published once per commit by the pipeline.
   * @default - built from container/ as a CDK image asset (laptop deploys)
   */
  readonly image?: { readonly repositoryArn: string; readonly tag: string };
}

/** One deployment target (account + region) of a stage: the Lambda service and the ECS service. */
export class ServiceStage extends cdk.Stage {
  /** The Lambda canary service. */
  readonly lambdaService: LambdaServiceStack;
  /** The ECS canary service. */
  readonly ecsService: EcsServiceStack;

  constructor(scope: Construct, id: string, props: ServiceStageProps) {
    super(scope, id, props);
    const { lambda, ecs } = props.settings;
    this.lambdaService = new LambdaServiceStack(this, 'LambdaService', {
      description: `safe-deploy Lambda canary service (${id})`,
      deployment: lambda.deployment,
      alarms: lambda.alarms,
    });
    this.ecsService = new EcsServiceStack(this, 'EcsService', {
      description: `safe-deploy ECS canary service (${id})`,
      deployment: ecs.deployment,
      alarms: ecs.alarms,
      blueTerminationWaitMinutes: ecs.blueTerminationWaitMinutes,
      image: props.image,
    });
  }
}
