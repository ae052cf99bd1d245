import * as cdk from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { GateReaderRole, RollbackEventForwarder } from '../constructs/deployment-safety';
import { acknowledgeRule } from '../policy/acknowledgements';

/** Where the pipeline that deploys a target lives, for the resources that talk back to it. */
export interface PipelineLink {
  /** The pipeline's account. */
  readonly account: string;
  /** The pipeline's region. */
  readonly region: string;
  /** The app name (prefix of the gate's role names). */
  readonly appName: string;
  /** Name of the read-only role the bake gate assumes in this target's account. */
  readonly gateReaderRoleName: string;
}

/** Properties of a PlatformStack. */
export interface PlatformStackProps extends cdk.StackProps {
  /** Whether the target runs ECS services: then the stack holds their VPC, NAT and cluster. */
  readonly ecs: boolean;
  /**
   * NAT gateways (one per AZ at most). One is the cost-sized default: tasks in both AZs egress
   * through it; an outage of that AZ cuts egress (not ingress) until it recovers. Use 2 for AZ-independent egress.
   * @default 1
   */
  readonly natGateways?: number;
  /**
   * The pipeline deploying this target: adds the bake gate's reader role and forwards CodeDeploy
   * rollbacks to the pipeline's notifications.
   * @default - deployed from a laptop: neither
   */
  readonly pipeline?: PipelineLink;
  /** Whether a service of the target declares feature flags: the bake gate then also reads their deployments. @default false */
  readonly featureFlags?: boolean;
}

/**
 * What a deployment target's services share: for ECS services one VPC (two AZs, public and private
 * subnets, our own NAT addresses, flow logs) and one Fargate cluster; when a pipeline deploys the
 * target, the bake gate's read-only role and the rollback-event forwarder. A Lambda-only target gets
 * no network at all. Always present, so that the gate's role never moves between stacks.
 */
export class PlatformStack extends cdk.Stack {
  /** The cluster of the target's ECS services, when it has any. */
  readonly cluster?: ecs.Cluster;
  /** The NAT gateways' Elastic IPs: the only sources the ALBs' test listeners admit. */
  readonly natEips: ec2.CfnEIP[] = [];
  /** The bake gate's reader role, when a pipeline deploys the target. */
  readonly gateReaderRole?: GateReaderRole;

  constructor(scope: Construct, id: string, props: PlatformStackProps) {
    super(scope, id, props);
    const natGateways = props.natGateways ?? 1;
    if (!(Number.isInteger(natGateways) && natGateways >= 1 && natGateways <= 2)) {
      throw new Error(
        `natGateways: ${JSON.stringify(props.natGateways)} is out of range: use 1 (cost-sized) or 2 (one per AZ); tasks run in private subnets and need egress`,
      );
    }
    if (props.ecs) {
      // Our own Elastic IPs for the NAT gateways: their addresses are the only sources the test listeners admit.
      this.natEips = Array.from({ length: natGateways }, (_, i) => new ec2.CfnEIP(this, `NatEip${i + 1}`, { domain: 'vpc' }));
      const vpc = new ec2.Vpc(this, 'Vpc', {
        maxAzs: 2,
        natGateways,
        natGatewayProvider: ec2.NatProvider.gateway({ eipAllocationIds: this.natEips.map((e) => e.attrAllocationId) }),
        subnetConfiguration: [
          // Nothing launched here needs an automatic public IP: the NAT gateways use our EIPs, the ALB its own.
          { name: 'Public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24, mapPublicIpOnLaunch: false },
          { name: 'Private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
        ],
      });
      acknowledgeRule(
        vpc,
        'igwRoute',
        'The public subnets hold only the internet-facing ALBs and the NAT gateways, which need the internet gateway route; the tasks run in the private subnets.',
      );
      // aws-cdk-lib's provider that removes the default security group's rules (restrictDefaultSecurityGroup).
      const restrictDefaultSg = this.node.tryFindChild('Custom::VpcRestrictDefaultSGCustomResourceProvider');
      if (restrictDefaultSg) {
        for (const rule of ['lambdaInVpc', 'lambdaDlq', 'lambdaConcurrency'] as const) {
          acknowledgeRule(
            restrictDefaultSg,
            rule,
            "aws-cdk-lib's custom resource that strips the VPC's default security group runs once per stack event, reports to CloudFormation itself and calls only the EC2 API.",
          );
        }
      }
      vpc.addFlowLog('FlowLog', {
        destination: ec2.FlowLogDestination.toCloudWatchLogs(
          new logs.LogGroup(this, 'FlowLogs', { retention: logs.RetentionDays.THREE_MONTHS, removalPolicy: cdk.RemovalPolicy.DESTROY }),
        ),
        trafficType: ec2.FlowLogTrafficType.REJECT,
      });
      this.cluster = new ecs.Cluster(this, 'Cluster', { vpc, containerInsightsV2: ecs.ContainerInsights.ENABLED });
    }
    if (props.pipeline) {
      this.gateReaderRole = new GateReaderRole(this, 'GateReader', {
        pipelineAccount: props.pipeline.account,
        appName: props.pipeline.appName,
        roleName: props.pipeline.gateReaderRoleName,
        readFeatureFlags: props.featureFlags,
      });
      // In the pipeline's own account and region the events are on the notifier's bus already.
      if (this.account !== props.pipeline.account || this.region !== props.pipeline.region) {
        new RollbackEventForwarder(this, 'RollbackEvents', {
          pipelineAccount: props.pipeline.account,
          pipelineRegion: props.pipeline.region,
        });
      }
    }
  }

  /** The test listeners admit the NAT addresses, where the test hooks' requests come from. */
  get testTrafficPeers(): ec2.IPeer[] {
    return this.natEips.map((e) => ec2.Peer.ipv4(cdk.Fn.join('', [e.attrPublicIp, '/32'])));
  }

  /** Fixed AZ tokens: the VPC never looks AZs up (offline synth), and a real deploy still picks two. */
  get availabilityZones(): string[] {
    return [cdk.Fn.select(0, cdk.Fn.getAzs()), cdk.Fn.select(1, cdk.Fn.getAzs())];
  }
}
