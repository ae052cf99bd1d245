import * as cdk from 'aws-cdk-lib';
import { Construct } from 'constructs';
import type { StageConfig } from '../config/schema';
import type { ServiceConfig } from '../config/service-schema';
import { stageServices } from '../config/stage-services';
import { pullRolePath } from '../constructs/image-repository';
import { markStageType } from '../policy';
import { EcsServiceStack, PublishedImage } from '../stacks/ecs-service-stack';
import { LambdaServiceStack } from '../stacks/lambda-service-stack';
import { PipelineLink, PlatformStack } from '../stacks/platform-stack';

export type { PipelineLink } from '../stacks/platform-stack';

/** A service stack of a target. */
export type ServiceStack = LambdaServiceStack | EcsServiceStack;

/**
 * Code a team adds to its services, by service name: runs once per deployment target, after the
 * service is built (a queue, a table, grants, more alarms through `stack.service.addAlarm`).
 */
export type ServiceExtensions = Readonly<Record<string, (stack: ServiceStack, target: ServiceStage) => void>>;

/** Properties of a ServiceStage. */
export interface ServiceStageProps extends cdk.StageProps {
  /** The stage's settings from the configuration: type, per-kind defaults, per-service overrides, bake and window. */
  readonly settings: Pick<StageConfig, 'name' | 'type' | 'lambda' | 'ecs' | 'services' | 'bake' | 'deploymentWindow' | 'flags'>;
  /** The services to deploy (config `services`). */
  readonly services: readonly ServiceConfig[];
  /**
   * The ECS services' images, published by the pipeline, by service name.
   * @default - each built from its directory as a CDK image asset (laptop deploys)
   */
  readonly images?: Readonly<Record<string, PublishedImage>>;
  /**
   * The pipeline deploying this target: adds the bake gate's reader role and forwards CodeDeploy
   * rollbacks to the pipeline's notifications.
   * @default - deployed from a laptop: neither
   */
  readonly pipeline?: PipelineLink;
  /** Code added to services by name. @default - none */
  readonly extensions?: ServiceExtensions;
}

/**
 * One deployment target (account + region) of a stage: one stack per configured service, and a
 * platform stack with what they share (for ECS services a VPC and cluster; the gate's role).
 */
export class ServiceStage extends cdk.Stage {
  /** What the services share. */
  readonly platform: PlatformStack;
  /** One stack per service, in config order. */
  readonly services: ServiceStack[] = [];
  /** The role the pipeline's bake gate assumes here, when a pipeline deploys this target. */
  readonly gateReaderRoleName?: string;

  constructor(scope: Construct, id: string, props: ServiceStageProps) {
    super(scope, id, props);
    const { type, bake, deploymentWindow } = props.settings;
    // Read by the safety policy at synth: production needs canaries, alarms and rollback on alarm.
    markStageType(this, type, { bake, deploymentWindow });
    const services = stageServices({ services: [...props.services] }, props.settings);
    const unknown = Object.keys(props.extensions ?? {}).filter((name) => !services.some((s) => s.name === name));
    if (unknown.length > 0) {
      throw new Error(
        `extensions: ${JSON.stringify(unknown)} ${unknown.length > 1 ? 'are not services' : 'is not a service'}: the services are ${JSON.stringify(services.map((s) => s.name))}; fix the name in safe-deploy.extensions.ts`,
      );
    }

    this.platform = new PlatformStack(this, 'Platform', {
      description: `safe-deploy shared platform of ${id}`,
      ecs: services.some((s) => s.kind === 'ecs'),
      pipeline: props.pipeline,
      featureFlags: services.some((s) => (s.flags?.length ?? 0) > 0),
    });
    this.gateReaderRoleName = props.pipeline?.gateReaderRoleName;
    for (const svc of services) {
      const stack =
        svc.kind === 'lambda'
          ? new LambdaServiceStack(this, svc.name, { description: `safe-deploy Lambda service ${svc.name} (${id})`, service: svc })
          : new EcsServiceStack(this, svc.name, {
              description: `safe-deploy ECS service ${svc.name} (${id})`,
              service: svc,
              platform: this.platform,
              image: props.images?.[svc.name],
              // The pipeline's image repositories let only roles under this path pull.
              executionRolePath: props.pipeline ? pullRolePath(props.pipeline.appName) : undefined,
            });
      props.extensions?.[svc.name]?.(stack, this);
      this.services.push(stack);
    }
  }

  /** Names of the composite alarms that sum up each service's health (`<stack name>-Health`). */
  get healthAlarmNames(): string[] {
    return this.services.map((s) => s.service.healthAlarmName);
  }

  /** The service stack of a service, by name. */
  service(name: string): ServiceStack | undefined {
    return this.services.find((s) => s.config.name === name);
  }
}
