import * as cdk from 'aws-cdk-lib';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { Construct } from 'constructs';
import type { TrafficShift } from '../config/schema';
import type { StageEcsService } from '../config/stage-services';
import { CanaryEcsService } from '../constructs/canary-ecs-service';
import { agentContainerImage, type ServiceFeatureFlags } from '../constructs/feature-flags';
import { worstCaseDetectionSeconds } from '../constructs/shared/alarm-settings';
import { healthAlarmName } from '../constructs/shared/health-alarm';
import { judgeFor } from '../constructs/shared/judge-for';
import { trafficRoutingFor, warnIfCanaryOutrunsAlarms } from '../constructs/shared/traffic-shift';
import type { PlatformStack } from './platform-stack';
import { addServiceFlags } from './service-flags';

/** An image the pipeline has published to ECR. */
export interface PublishedImage {
  /** The repository, in the target's region (the pipeline region's repository or its replica). */
  readonly repositoryArn: string;
  /** The tag: the content hash of the service's build context. */
  readonly tag: string;
}

/** Properties of an EcsServiceStack. */
export interface EcsServiceStackProps extends cdk.StackProps {
  /** The service as its stage deploys it (config `services[]` with the stage's settings). */
  readonly service: StageEcsService;
  /** The target's shared network and cluster. */
  readonly platform: PlatformStack;
  /**
   * The image, already published by the pipeline.
   * @default - built from the service's directory as a CDK Docker image asset (laptop deploys)
   */
  readonly image?: PublishedImage;
  /** IAM path of the task execution role (the pipeline's repositories let it pull). @default '/safe-deploy/' */
  readonly executionRolePath?: string;
}

/** One ECS service of one deployment target, deployed as CodeDeploy blue/green canaries behind its own ALB. */
export class EcsServiceStack extends cdk.Stack {
  readonly service: CanaryEcsService;
  readonly serviceUrl: cdk.CfnOutput;
  /** The configured service. */
  readonly config: StageEcsService;
  /** The service's feature flags (AppConfig), when it declares any. */
  readonly flags?: ServiceFeatureFlags;

  constructor(scope: Construct, id: string, props: EcsServiceStackProps) {
    super(scope, id, props);
    const svc = (this.config = props.service);
    const cluster = props.platform.cluster;
    if (!cluster)
      throw new Error(
        `EcsServiceStack ${this.node.path}: the platform stack ${props.platform.node.path} has no cluster: create it with ecs: true`,
      );
    if (
      props.image &&
      (!/^arn:aws[a-z-]*:ecr:[a-z0-9-]+:\d{12}:repository\/[a-z0-9._/-]+$/.test(props.image.repositoryArn) ||
        !/^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/.test(props.image.tag))
    ) {
      throw new Error(
        `image: ${JSON.stringify(props.image)} is not an ECR image: use { repositoryArn: "arn:aws:ecr:<region>:<account>:repository/<name>", tag: "<content hash>" }`,
      );
    }
    const arm = svc.architecture === 'arm64';
    const image = props.image
      ? ecs.ContainerImage.fromEcrRepository(
          ecr.Repository.fromRepositoryArn(this, 'Repository', props.image.repositoryArn),
          props.image.tag,
        )
      : ecs.ContainerImage.fromAsset(svc.directory, { file: svc.dockerfile, platform: arm ? Platform.LINUX_ARM64 : Platform.LINUX_AMD64 });

    this.service = new CanaryEcsService(this, 'Service', {
      cluster,
      image,
      version: props.image?.tag ?? 'local',
      deploymentConfig: toEcsDeploymentConfig(this, svc.deployment),
      blueTerminationWait: cdk.Duration.minutes(svc.blueTerminationWaitMinutes),
      alarms: svc.alarms,
      judge: judgeFor(svc),
      highResolutionMetricsService: svc.highResolutionMetrics ? this.stackName : undefined,
      certificateArn: svc.certificateArn,
      containerPort: svc.port,
      healthCheck: svc.healthCheck,
      testTraffic: svc.testTraffic,
      desiredCount: svc.desiredCount,
      cpu: svc.cpu,
      memoryLimitMiB: svc.memoryMiB,
      cpuArchitecture: arm ? ecs.CpuArchitecture.ARM64 : ecs.CpuArchitecture.X86_64,
      environment: svc.environment,
      user: svc.user,
      executionRolePath: props.executionRolePath,
      // `<stack name>-Health`, as healthAlarmName() derives it for the pipeline's gates.
      alarmNamePrefix: healthAlarmName(this).replace(/-Health$/, ''),
      testTrafficPeers: props.platform.testTrafficPeers,
    });

    // Flags: the agent sidecar, names and read access; a flag change touches no task definition.
    this.flags = addServiceFlags(this, svc, this.service.compositeAlarm, worstCaseDetectionSeconds(this.service.alarmSettings));
    if (this.flags) {
      const agentImage = svc.flagsAgentImage ? agentContainerImage(this.flags, svc.flagsAgentImage) : undefined;
      this.flags.bindToTaskDefinition(this.service.taskDefinition, this.service.taskDefinition.defaultContainer!, { agentImage });
    }

    this.serviceUrl = new cdk.CfnOutput(this, 'ServiceUrl', { value: this.service.url, description: `Production URL of ${svc.name}` });
    new cdk.CfnOutput(this, 'DeploymentGroupName', { value: this.service.deploymentGroup.deploymentGroupName });
    new cdk.CfnOutput(this, 'HealthAlarmName', { value: this.service.healthAlarmName });
    // A judged canary gets the judge's own check of its step (CanaryJudge, expected traffic).
    if (!this.service.judge) warnIfCanaryOutrunsAlarms(this, svc.deployment, worstCaseDetectionSeconds(this.service.alarmSettings));
  }
}

/**
 * The CodeDeploy config for a stage's traffic shift: the predefined all-at-once config, or a
 * custom time-based canary/linear config (created in `scope` as `DeploymentConfig`).
 */
export function toEcsDeploymentConfig(scope: Construct, shift: TrafficShift): codedeploy.IEcsDeploymentConfig {
  const trafficRouting = trafficRoutingFor(shift);
  return trafficRouting
    ? new codedeploy.EcsDeploymentConfig(scope, 'DeploymentConfig', { trafficRouting })
    : codedeploy.EcsDeploymentConfig.ALL_AT_ONCE;
}
