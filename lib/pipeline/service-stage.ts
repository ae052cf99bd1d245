import * as cdk from 'aws-cdk-lib';
import { Construct } from 'constructs';
import type { StageConfig } from '../config/schema';
import { GateReaderRole, RollbackEventForwarder } from '../constructs/deployment-safety';
import { markStageType } from '../policy';
import { EcsServiceStack } from '../stacks/ecs-service-stack';
import { LambdaServiceStack } from '../stacks/lambda-service-stack';
import { healthAlarmName } from '../constructs/shared/health-alarm';

/** Where the pipeline that deploys a stage lives, for the resources that talk back to it. */
export interface PipelineLink {
  /** The pipeline's account. */
  readonly account: string;
  /** The pipeline's region. */
  readonly region: string;
  /** The app name (prefix of the gate's role names). */
  readonly appName: string;
  /** Name of the read-only role the bake gate assumes in this stage's account. */
  readonly gateReaderRoleName: string;
}

/** Properties of a ServiceStage. */
export interface ServiceStageProps extends cdk.StageProps {
  /** The stage's settings from the configuration: type, traffic shifts, alarm overrides, bake and window. */
  readonly settings: Pick<StageConfig, 'type' | 'lambda' | 'ecs' | 'bake' | 'deploymentWindow'>;
  /**
   * The container image, published once per commit by the pipeline.
   * @default - built from container/ as a CDK image asset (laptop deploys)
   */
  readonly image?: { readonly repositoryArn: string; readonly tag: string };
  /**
   * The pipeline deploying this stage: adds the bake gate's reader role and forwards CodeDeploy
   * rollbacks to the pipeline's notifications.
   * @default - deployed from a laptop: neither
   */
  readonly pipeline?: PipelineLink;
}

/** One deployment target (account + region) of a stage: the Lambda service and the ECS service. */
export class ServiceStage extends cdk.Stage {
  /** The Lambda canary service. */
  readonly lambdaService: LambdaServiceStack;
  /** The ECS canary service. */
  readonly ecsService: EcsServiceStack;
  /** The role the pipeline's bake gate assumes here, when a pipeline deploys this stage. */
  readonly gateReaderRoleName?: string;

  constructor(scope: Construct, id: string, props: ServiceStageProps) {
    super(scope, id, props);
    const { lambda, ecs, type, bake, deploymentWindow } = props.settings;
    // Read by the safety policy at synth: production needs canaries, alarms and rollback on alarm.
    markStageType(this, type, { bake, deploymentWindow });

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

    if (props.pipeline) {
      this.gateReaderRoleName = props.pipeline.gateReaderRoleName;
      new GateReaderRole(this.lambdaService, 'GateReader', {
        pipelineAccount: props.pipeline.account,
        appName: props.pipeline.appName,
        roleName: props.pipeline.gateReaderRoleName,
      });
      new RollbackEventForwarder(this.lambdaService, 'RollbackEvents', {
        pipelineAccount: props.pipeline.account,
        pipelineRegion: props.pipeline.region,
      });
    }
  }

  /** Names of the composite alarms that sum up each service's health (`<stack name>-Health`). */
  get healthAlarmNames(): string[] {
    return [this.lambdaService, this.ecsService].map(healthAlarmName);
  }
}
