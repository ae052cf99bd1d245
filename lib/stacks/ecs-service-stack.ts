import * as cdk from 'aws-cdk-lib';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import { Construct } from 'constructs';
import * as path from 'node:path';
import type { TrafficShift } from '../config/schema';
import type { CanaryServiceStackProps } from './canary-service-stack-props';
import { CanaryEcsService } from '../constructs/canary-ecs-service';
import { worstCaseDetectionSeconds } from '../constructs/shared/alarm-settings';
import { trafficRoutingFor, warnIfCanaryOutrunsAlarms } from '../constructs/shared/traffic-shift';

/** Properties of an EcsServiceStack: `deployment` shifts traffic from blue to green. */
export interface EcsServiceStackProps extends CanaryServiceStackProps {
  /**
   * Minutes blue keeps running after a successful shift.
   * @default 0 - blue stops at once; an alarm during the shift already rolls back, and a later
   * rollback is a redeploy of the previous revision. Raise it in production for an instant-rollback window.
   */
  readonly blueTerminationWaitMinutes?: number;
  /** The image to run, already published to ECR by the pipeline (traceable: tag = git commit).
   *  @default - built from container/ as a CDK Docker image asset (laptop deploys) */
  readonly image?: { readonly repositoryArn: string; readonly tag: string };
  /**
   * NAT gateways (one per AZ at most). One is the cost-sized default: tasks in both AZs egress
   * through it; an AZ outage of that AZ cuts egress (not ingress) until it recovers. Use 2 for AZ-independent egress.
   * @default 1
   */
  readonly natGateways?: number;
  /** ACM certificate for HTTPS on 443. @default - HTTP on port 80 */
  readonly certificateArn?: string;
}

/** The ECS Fargate service of one stage target, deployed as CodeDeploy blue/green canaries. */
export class EcsServiceStack extends cdk.Stack {
  readonly service: CanaryEcsService;
  readonly serviceUrl: cdk.CfnOutput;

  constructor(scope: Construct, id: string, props: EcsServiceStackProps) {
    super(scope, id, props);
    const natGateways = props.natGateways ?? 1;
    if (!(Number.isInteger(natGateways) && natGateways >= 1 && natGateways <= 2)) {
      throw new Error(`natGateways: ${JSON.stringify(props.natGateways)} is out of range: use 1 (cost-sized) or 2 (one per AZ); tasks run in private subnets and need egress`);
    }
    if (props.blueTerminationWaitMinutes !== undefined && !(Number.isInteger(props.blueTerminationWaitMinutes) && props.blueTerminationWaitMinutes >= 0 && props.blueTerminationWaitMinutes <= 2880)) {
      throw new Error(`blueTerminationWaitMinutes: ${JSON.stringify(props.blueTerminationWaitMinutes)} is out of range: use a whole number from 0 to 2880`);
    }
    if (props.image && (!/^arn:aws[a-z-]*:ecr:[a-z0-9-]+:\d{12}:repository\/[a-z0-9._\/-]+$/.test(props.image.repositoryArn) || !/^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/.test(props.image.tag))) {
      throw new Error(
        `image: ${JSON.stringify(props.image)} is not an ECR image: use { repositoryArn: "arn:aws:ecr:<region>:<account>:repository/<name>", tag: "<git commit>" }`,
      );
    }

    // Our own Elastic IPs for the NAT gateways: their addresses are the only sources the test listener admits.
    const natEips = Array.from({ length: natGateways }, (_, i) => new ec2.CfnEIP(this, `NatEip${i + 1}`, { domain: 'vpc' }));
    const vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: 2,
      natGateways,
      natGatewayProvider: ec2.NatProvider.gateway({ eipAllocationIds: natEips.map((e) => e.attrAllocationId) }),
      subnetConfiguration: [
        { name: 'Public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
        { name: 'Private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
      ],
    });
    vpc.addFlowLog('FlowLog', {
      destination: ec2.FlowLogDestination.toCloudWatchLogs(
        new logs.LogGroup(this, 'FlowLogs', { retention: logs.RetentionDays.THREE_MONTHS, removalPolicy: cdk.RemovalPolicy.DESTROY }),
      ),
      trafficType: ec2.FlowLogTrafficType.REJECT,
    });

    const image = props.image
      ? ecs.ContainerImage.fromEcrRepository(ecr.Repository.fromRepositoryArn(this, 'Repository', props.image.repositoryArn), props.image.tag)
      : ecs.ContainerImage.fromAsset(path.join(__dirname, '..', '..', 'container'), { platform: Platform.LINUX_AMD64 });

    this.service = new CanaryEcsService(this, 'Service', {
      vpc,
      image,
      version: props.image?.tag ?? 'local',
      deploymentConfig: toEcsDeploymentConfig(this, props.deployment),
      blueTerminationWait: cdk.Duration.minutes(props.blueTerminationWaitMinutes ?? 0),
      alarms: props.alarms,
      certificateArn: props.certificateArn,
      testTrafficPeers: natEips.map((e) => ec2.Peer.ipv4(cdk.Fn.join('', [e.attrPublicIp, '/32']))),
    });

    this.serviceUrl = new cdk.CfnOutput(this, 'ServiceUrl', { value: this.service.url, description: 'Production URL of the ECS service' });
    new cdk.CfnOutput(this, 'DeploymentGroupName', { value: this.service.deploymentGroup.deploymentGroupName });
    new cdk.CfnOutput(this, 'HealthAlarmName', { value: this.service.compositeAlarm.alarmName });
    warnIfCanaryOutrunsAlarms(this, props.deployment, worstCaseDetectionSeconds(this.service.alarmSettings));
  }

  /** Fixed AZ tokens: the VPC never looks AZs up (offline synth), and a real deploy still picks two. */
  get availabilityZones(): string[] {
    return [cdk.Fn.select(0, cdk.Fn.getAzs()), cdk.Fn.select(1, cdk.Fn.getAzs())];
  }
}

/**
 * The CodeDeploy config for a stage's traffic shift: the predefined all-at-once config, or a
 * custom time-based canary/linear config (created in `scope` as `DeploymentConfig`).
 */
export function toEcsDeploymentConfig(scope: Construct, shift: TrafficShift): codedeploy.IEcsDeploymentConfig {
  const trafficRouting = trafficRoutingFor(shift);
  return trafficRouting ? new codedeploy.EcsDeploymentConfig(scope, 'DeploymentConfig', { trafficRouting }) : codedeploy.EcsDeploymentConfig.ALL_AT_ONCE;
}
