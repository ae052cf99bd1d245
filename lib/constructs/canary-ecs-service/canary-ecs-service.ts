import { Duration, Fn, Lazy, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { CANARY_METRICS } from '../../canary-metrics';
import type { AlarmOverrides } from '../../config/schema';
import type { HttpCheck } from '../../config/service-schema';
import { CanaryJudge, JudgeTraffic } from '../canary-judge';
import { AlarmSettings, resolveAlarmSettings } from '../shared/alarm-settings';
import { CanaryService } from '../shared/canary-service';
import { anyAlarm } from '../shared/service-alarms';
import { validateDeploymentGroupAlarmCount } from '../shared/service-checks';
import type { ServiceJudgeProps } from '../shared/service-judge';
import { loadBalancerErrorsAlarm, targetGroupAlarms } from './alarms';
import { ecsServiceDashboard } from './dashboard';
import { ecsCodeDeployRole } from './deployment-role';
import { EcsCodeDeployDeployment } from './ecs-deployment';
import { serviceHooks } from './hooks';
import { serviceLoadBalancer } from './load-balancer';
import { serviceTaskDefinition } from './task-definition';
import type { TestTrafficHook } from './test-traffic-hook';
import type { TrafficCheckHook } from './traffic-check-hook';
import { validate } from './validate';

/** Properties of a CanaryEcsService. */
export interface CanaryEcsServiceProps {
  /** The cluster; tasks and the test hook run in its VPC's private subnets with egress, the ALB in its public ones. */
  readonly cluster: ecs.ICluster;
  /** The image to run. */
  readonly image: ecs.ContainerImage;
  /** The release the image is (e.g. its content hash); passed to the container as APP_VERSION. @default 'dev' */
  readonly version?: string;
  /** How CodeDeploy shifts traffic from blue to green. */
  readonly deploymentConfig: codedeploy.IEcsDeploymentConfig;
  /** How long the blue task set keeps running after a successful shift (instant rollback window). @default Duration.minutes(0) */
  readonly blueTerminationWait?: Duration;
  /** Alarm threshold overrides. @default - DEFAULT_ALARM_SETTINGS (lib/constructs/shared/alarm-settings) */
  readonly alarms?: AlarmOverrides;
  /**
   * Judge a canary against the version it replaces (CanaryJudge over the two target groups) instead
   * of the fixed 5xx-rate and p99 alarms. Only for canary deployment configs.
   * @default - fixed thresholds on each target group
   */
  readonly judge?: ServiceJudgeProps;
  /**
   * The service publishes its own per-request metrics (lib/canary-metrics) under this `Service`
   * dimension value, which it receives as SAFE_DEPLOY_METRICS_SERVICE; a canary judge then adds its
   * HighResErrorJudge. @default - the service publishes none
   */
  readonly highResolutionMetricsService?: string;
  /**
   * Who may reach the test listener (the green task set before it takes production traffic).
   * The test hook calls it from the VPC, so its egress (NAT) addresses belong here.
   */
  readonly testTrafficPeers: ec2.IPeer[];
  /** Port of the test listener. @default 8080 */
  readonly testListenerPort?: number;
  /** ACM certificate for an HTTPS production listener on 443. @default - HTTP on port 80 */
  readonly certificateArn?: string;
  /** Port the container listens on. @default 8080 */
  readonly containerPort?: number;
  /**
   * The target groups' health check (path and status; the ALB cannot check the body).
   * @default - GET /health answering 200
   */
  readonly healthCheck?: HttpCheck;
  /** Requests the AfterAllowTestTraffic hook sends to the new task set. @default - the health check */
  readonly testTraffic?: readonly HttpCheck[];
  /** Tasks per task set. @default 2 */
  readonly desiredCount?: number;
  /** vCPU units per task. @default 256 */
  readonly cpu?: number;
  /** Memory per task, MiB. @default 512 */
  readonly memoryLimitMiB?: number;
  /** CPU architecture of the image. @default ecs.CpuArchitecture.X86_64 (what CodeBuild's standard image builds) */
  readonly cpuArchitecture?: ecs.CpuArchitecture;
  /**
   * The user (and optionally group) the container runs as, `uid[:gid]` or a name the image knows:
   * set here so that no image runs as root by omission.
   * @default '1000' - an unprivileged uid (the `node` user of the official Node.js images)
   */
  readonly user?: string;
  /**
   * Path of the task execution role (the role that pulls the image). The pipeline's image
   * repositories let only roles under this path in the stage accounts pull.
   * @default '/safe-deploy/'
   */
  readonly executionRolePath?: string;
  /** Environment variables of the container (no secrets). @default - only PORT, APP_VERSION and SERVICE_NAME */
  readonly environment?: Record<string, string>;
  /**
   * Prefix of the alarm names; the composite health alarm is `<prefix>-Health`.
   * @default `<stack name>-<construct id>`
   */
  readonly alarmNamePrefix?: string;
  /**
   * How long a stack update waits for the traffic to be fully shifted before failing.
   * @default Duration.minutes(55) - CloudFormation fails a custom resource after 60
   */
  readonly deploymentTimeout?: Duration;
}

const DEFAULT_HEALTH_CHECK: HttpCheck = { path: '/health', expectedStatus: 200 };

/**
 * A Fargate service behind its own ALB whose new revisions go out as CodeDeploy blue/green canaries:
 * production and test listeners, blue and green target groups, alarms on both that roll a
 * deployment back, an AfterAllowTestTraffic hook with the service's own probes, a dashboard, and
 * a custom resource that turns every new task definition revision into a CodeDeploy deployment
 * and waits for its outcome. Several can share a cluster (and a stack).
 */
export class CanaryEcsService extends CanaryService {
  readonly cluster: ecs.ICluster;
  readonly taskDefinition: ecs.FargateTaskDefinition;
  readonly service: ecs.FargateService;
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  readonly productionListener: elbv2.ApplicationListener;
  readonly testListener: elbv2.ApplicationListener;
  /** Redirects port 80 to the HTTPS production listener, when a certificate is configured. */
  readonly redirectListener?: elbv2.ApplicationListener;
  readonly blueTargetGroup: elbv2.ApplicationTargetGroup;
  readonly greenTargetGroup: elbv2.ApplicationTargetGroup;
  readonly deploymentGroup: codedeploy.EcsDeploymentGroup;
  /** Any of the service's absolute alarms (also those added with `addAlarm`), named `<prefix>-Health`. */
  readonly compositeAlarm: cloudwatch.CompositeAlarm;
  /** The canary judge, when the service is judged against its baseline. */
  readonly judge?: CanaryJudge;
  /** 5xx answers the load balancer itself gives (no healthy target, timeouts): not in any target group's count. */
  readonly loadBalancerErrorsAlarm: cloudwatch.Alarm;
  /** The composite alarm's name, known at synth (pipeline gates look it up by name). */
  readonly healthAlarmName: string;
  readonly testTrafficHook: TestTrafficHook;
  /**
   * AfterAllowTraffic hook of a judged canary: refuses a step that served fewer than the judge's
   * `minRequests` (docs/canary-judge.md, "Too little traffic"). Undefined without a judge.
   */
  readonly trafficCheckHook?: TrafficCheckHook;
  readonly deployment: EcsCodeDeployDeployment;
  readonly dashboard: cloudwatch.Dashboard;
  readonly accessLogBucket: s3.Bucket;
  /** The resolved alarm settings. */
  readonly alarmSettings: AlarmSettings;
  /** http(s)://<alb dns> of the production listener. */
  readonly url: string;

  constructor(scope: Construct, id: string, props: CanaryEcsServiceProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const vpc = props.cluster.vpc;
    const containerPort = props.containerPort ?? 8080;
    const testPort = props.testListenerPort ?? 8080;
    const prodPort = props.certificateArn ? 443 : 80;
    const healthCheck = props.healthCheck ?? DEFAULT_HEALTH_CHECK;
    validate(props, testPort, prodPort);
    this.alarmSettings = resolveAlarmSettings(props.alarms, 'CanaryEcsService');
    const namePrefix = props.alarmNamePrefix ?? `${stack.stackName}-${id}`;
    this.cluster = props.cluster;

    const { taskDefinition, container } = serviceTaskDefinition(this, props, containerPort);
    if (props.highResolutionMetricsService) container.addEnvironment(CANARY_METRICS.serviceEnv, props.highResolutionMetricsService);
    this.taskDefinition = taskDefinition;

    // Load balancer: production listener open to the internet, test listener only to testTrafficPeers.
    const lb = serviceLoadBalancer(this, {
      vpc,
      containerPort,
      testPort,
      prodPort,
      healthCheck,
      certificateArn: props.certificateArn,
      testTrafficPeers: props.testTrafficPeers,
    });
    const albSg = lb.securityGroup;
    this.accessLogBucket = lb.accessLogBucket;
    this.loadBalancer = lb.loadBalancer;
    this.blueTargetGroup = lb.blueTargetGroup;
    this.greenTargetGroup = lb.greenTargetGroup;
    this.productionListener = lb.productionListener;
    this.testListener = lb.testListener;
    this.redirectListener = lb.redirectListener;

    this.service = new ecs.FargateService(this, 'Service', {
      cluster: this.cluster,
      taskDefinition: this.taskDefinition,
      desiredCount: props.desiredCount ?? 2,
      deploymentController: { type: ecs.DeploymentControllerType.CODE_DEPLOY },
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      assignPublicIp: false,
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      healthCheckGracePeriod: Duration.seconds(30),
      propagateTags: ecs.PropagatedTagSource.SERVICE,
    });
    this.service.attachToApplicationTargetGroup(this.blueTargetGroup);
    // Green tasks register in the green group during a deployment: allow the ALB to reach them too.
    this.service.connections.allowFrom(albSg, ec2.Port.tcp(containerPort), 'ALB to tasks (blue and green)');

    // With a judge, it replaces the fixed 5xx-rate and p99 alarms; unhealthy tasks stay absolute.
    const fixed = [
      ...targetGroupAlarms(this, 'Blue', this.blueTargetGroup, this.alarmSettings, namePrefix, healthCheck.path, props.judge !== undefined),
      ...targetGroupAlarms(
        this,
        'Green',
        this.greenTargetGroup,
        this.alarmSettings,
        namePrefix,
        healthCheck.path,
        props.judge !== undefined,
      ),
    ];
    if (props.judge) {
      this.judge = new CanaryJudge(this, 'Judge', {
        traffic: JudgeTraffic.applicationTargetGroups({ first: this.blueTargetGroup, second: this.greenTargetGroup }),
        // The new task set publishes its task definition's revision (task metadata endpoint v4) as Version.
        highResolutionTraffic: props.highResolutionMetricsService
          ? JudgeTraffic.embeddedMetrics({
              service: props.highResolutionMetricsService,
              version: taskDefinitionRevision(this.taskDefinition),
            })
          : undefined,
        canaryPercent: props.judge.canaryPercent,
        settings: props.judge.settings,
        expectedTraffic: props.judge.expectedTraffic,
        alarmNamePrefix: namePrefix,
      });
    }
    this.loadBalancerErrorsAlarm = loadBalancerErrorsAlarm(this, this.loadBalancer, this.alarmSettings, namePrefix);
    this.rollbackAlarms.push(...(this.judge ? this.judge.alarms : []), ...fixed, this.loadBalancerErrorsAlarm);
    // The health the pipeline's gates judge after the shift: what stays meaningful without a baseline.
    this.healthAlarms.push(...(this.judge ? [this.judge.catastropheAlarm] : []), ...fixed, this.loadBalancerErrorsAlarm);
    this.healthAlarmName = `${namePrefix}-Health`;
    this.compositeAlarm = new cloudwatch.CompositeAlarm(this, 'Health', {
      compositeAlarmName: this.healthAlarmName,
      alarmDescription: `Health of the ECS service ${this.node.path}: in ALARM when any of its absolute alarms is (catastrophe or 5xx rate and p99, unhealthy tasks, load balancer 5xx, hook errors).`,
      alarmRule: { renderAlarmRule: () => Lazy.string({ produce: () => anyAlarm(this.healthAlarms) }) },
    });

    const codeDeployRole = ecsCodeDeployRole(this);
    this.deploymentGroup = new codedeploy.EcsDeploymentGroup(this, 'DeploymentGroup', {
      service: this.service,
      role: codeDeployRole.withoutPolicyUpdates(),
      deploymentConfig: props.deploymentConfig,
      alarms: [...this.rollbackAlarms],
      autoRollback: { failedDeployment: true, stoppedDeployment: true, deploymentInAlarm: true },
      blueGreenDeploymentConfig: {
        blueTargetGroup: this.blueTargetGroup,
        greenTargetGroup: this.greenTargetGroup,
        listener: this.productionListener,
        testListener: this.testListener,
        terminationWaitTime: props.blueTerminationWait ?? Duration.minutes(0),
      },
    });
    validateDeploymentGroupAlarmCount(this, this.rollbackAlarms);

    const hooks = serviceHooks(this, {
      vpc,
      testUrl: `http://${this.loadBalancer.loadBalancerDnsName}:${testPort}`,
      testListenerPort: testPort,
      probes: props.testTraffic ?? [healthCheck],
      trafficCheck: this.judge && { minRequests: this.judge.minRequests, canaryStep: props.judge!.canaryStep },
      loadBalancer: this.loadBalancer,
      targetGroups: [this.blueTargetGroup, this.greenTargetGroup],
      service: this.service,
      deploymentGroupArn: this.deploymentGroup.deploymentGroupArn,
      codeDeployRole,
      alarmPeriod: Duration.seconds(this.alarmSettings.periodSeconds),
    });
    this.testTrafficHook = hooks.testTrafficHook;
    this.trafficCheckHook = hooks.trafficCheckHook;
    this.addAlarm(hooks.errorsAlarm);

    this.deployment = new EcsCodeDeployDeployment(this, 'Deployment', {
      deploymentGroup: this.deploymentGroup,
      taskDefinition: this.taskDefinition,
      service: this.service,
      containerName: container.containerName,
      containerPort,
      revision: container.imageName,
      afterAllowTestTrafficHook: this.testTrafficHook.function,
      afterAllowTrafficHook: this.trafficCheckHook?.function,
      timeout: props.deploymentTimeout,
    });
    this.deployment.node.addDependency(this.service);

    this.url = `${props.certificateArn ? 'https' : 'http'}://${this.loadBalancer.loadBalancerDnsName}`;
    this.dashboard = ecsServiceDashboard(this, 'Dashboard', {
      dashboardName: `${namePrefix}-ecs`,
      settings: this.alarmSettings,
      targetGroups: [
        ['Blue', this.blueTargetGroup],
        ['Green', this.greenTargetGroup],
      ],
      service: this.service,
      alarms: [this.compositeAlarm, ...this.rollbackAlarms],
      errorRateAlarms: fixed.filter((a) => a.node.id.endsWith('ErrorRateAlarm')),
    });
  }
}

/**
 * The revision number of a task definition, from its ARN (`arn:<partition>:ecs:<region>:<account>:
 * task-definition/<family>:<revision>`): the Version a task of it publishes its metrics under.
 */
function taskDefinitionRevision(taskDefinition: ecs.ITaskDefinition): string {
  return Fn.select(6, Fn.split(':', taskDefinition.taskDefinitionArn));
}
