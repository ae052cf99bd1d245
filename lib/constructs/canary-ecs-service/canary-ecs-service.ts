import { CfnDeletionPolicy, Duration, Lazy, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { FactName } from 'aws-cdk-lib/region-info';
import { Construct } from 'constructs';
import type { AlarmOverrides } from '../../config/schema';
import type { HttpCheck } from '../../config/service-schema';
import { CanaryJudge, JudgeTraffic } from '../canary-judge';
import { anyAlarm, hookErrorsAlarm, judgeProblems, ServiceJudgeProps } from '../canary-lambda-service';
import { acknowledgeRule } from '../../policy/acknowledgements';
import { AlarmSettings, resolveAlarmSettings } from '../shared/alarm-settings';
import { validateDeploymentGroupAlarmCount } from '../shared/service-checks';
import {
  blueTerminationWaitMinutesField,
  certificateArnField,
  containerUserField,
  desiredCountField,
  fieldProblem,
  MAX_TEST_TRAFFIC_PROBES,
  portField,
  testTrafficProbesMessage,
} from './limits';
import { targetGroupAlarms } from './alarms';
import { ecsServiceDashboard } from './dashboard';
import { EcsCodeDeployDeployment } from './ecs-deployment';
import { TestTrafficHook } from './test-traffic-hook';
import { TrafficCheckHook } from './traffic-check-hook';

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

const CONTAINER_NAME = 'app';
/** The container's user when none is given: an unprivileged uid. */
export const DEFAULT_CONTAINER_USER = '1000';
/** Path of the task execution roles when none is given (the image repositories' pull condition matches it). */
export const DEFAULT_EXECUTION_ROLE_PATH = '/safe-deploy/';
const DEFAULT_HEALTH_CHECK: HttpCheck = { path: '/health', expectedStatus: 200 };
/** The load balancer 5xx alarm judges a period only with at least this many requests. */
const ELB_MIN_REQUESTS = 10;

/**
 * A Fargate service behind its own ALB whose new revisions go out as CodeDeploy blue/green canaries:
 * production and test listeners, blue and green target groups, alarms on both that roll a
 * deployment back, an AfterAllowTestTraffic hook with the service's own probes, a dashboard, and
 * a custom resource that turns every new task definition revision into a CodeDeploy deployment
 * and waits for its outcome. Several can share a cluster (and a stack).
 */
export class CanaryEcsService extends Construct {
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
  private readonly rollbackAlarms: cloudwatch.IAlarm[] = [];
  private readonly healthAlarms: cloudwatch.IAlarm[] = [];

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

    const memoryLimitMiB = props.memoryLimitMiB ?? 512;
    const executionRole = new iam.Role(this, 'ExecutionRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      path: props.executionRolePath ?? DEFAULT_EXECUTION_ROLE_PATH,
      description: `Pulls the image and writes the logs of ${this.node.path}`,
    });
    Validations.of(executionRole).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'ecr:GetAuthorizationToken, needed to pull the image, has no resource-level permissions; the pull actions themselves are scoped to the repository.',
    });
    this.taskDefinition = new ecs.FargateTaskDefinition(this, 'TaskDefinition', {
      cpu: props.cpu ?? 256,
      memoryLimitMiB,
      executionRole,
      runtimePlatform: { cpuArchitecture: props.cpuArchitecture ?? ecs.CpuArchitecture.X86_64, operatingSystemFamily: ecs.OperatingSystemFamily.LINUX },
    });
    // Keep replaced revisions ACTIVE: CodeDeploy rolls back to the previous one, and operators may redeploy it.
    (this.taskDefinition.node.defaultChild as ecs.CfnTaskDefinition).cfnOptions.updateReplacePolicy = CfnDeletionPolicy.RETAIN;
    const container = this.taskDefinition.addContainer('App', {
      containerName: CONTAINER_NAME,
      image: props.image,
      portMappings: [{ containerPort, protocol: ecs.Protocol.TCP }],
      readonlyRootFilesystem: true,
      user: props.user ?? DEFAULT_CONTAINER_USER,
      // The task's memory is the container's hard limit: the one container may use all of it, no more.
      memoryLimitMiB,
      logging: ecs.LogDrivers.awsLogs({
        streamPrefix: 'app',
        logGroup: new logs.LogGroup(this, 'AppLogs', { retention: logs.RetentionDays.THREE_MONTHS, removalPolicy: RemovalPolicy.DESTROY }),
      }),
      environment: { ...props.environment, PORT: String(containerPort), APP_VERSION: props.version ?? 'dev', SERVICE_NAME: stack.stackName },
      stopTimeout: Duration.seconds(30),
    });
    Validations.of(this.taskDefinition).acknowledge(
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'ecr:GetAuthorizationToken, needed to pull the image, has no resource-level permissions; the pull actions themselves are scoped to the repository.',
      },
      {
        id: 'CloudFormation-Validate::W3011',
        reason: 'UpdateReplacePolicy Retain keeps replaced revisions registered for CodeDeploy and operator rollbacks; on stack delete the current revision is deregistered with the service, which is intended.',
      },
      {
        id: 'AwsSolutions-ECS2',
        reason: 'The environment holds the listen port, the release version, the service name and the configured variables, which the config schema refuses when they look like secrets.',
      },
    );

    // Load balancer: production listener open to the internet, test listener only to testTrafficPeers.
    this.accessLogBucket = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED, // the only encryption ALB log delivery supports
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      // Versioned, so a deleted or overwritten log stays a day to recover.
      versioned: true,
      lifecycleRules: [{ expiration: Duration.days(90), noncurrentVersionExpiration: Duration.days(1) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    acknowledgeRule(this.accessLogBucket, 's3Logging', 'This bucket receives the ALB access logs; logging access to the log bucket itself would only log the log delivery.');
    acknowledgeRule(this.accessLogBucket, 's3Kms', 'ALB access-log delivery supports only SSE-S3 (Amazon S3-managed keys) on the target bucket.');
    const albSg = new ec2.SecurityGroup(this, 'LoadBalancerSecurityGroup', {
      vpc,
      description: 'ALB: production listener from anywhere, test listener from the test hook only',
      allowAllOutbound: false,
    });
    this.loadBalancer = new elbv2.ApplicationLoadBalancer(this, 'LoadBalancer', {
      vpc,
      internetFacing: true,
      securityGroup: albSg,
      vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
      dropInvalidHeaderFields: true,
    });
    this.logAccess(stack);

    const targetGroup = (tgId: string) =>
      new elbv2.ApplicationTargetGroup(this, tgId, {
        vpc,
        port: containerPort,
        protocol: elbv2.ApplicationProtocol.HTTP,
        targetType: elbv2.TargetType.IP,
        deregistrationDelay: Duration.seconds(30),
        healthCheck: {
          path: healthCheck.path,
          healthyHttpCodes: String(healthCheck.expectedStatus ?? 200),
          interval: Duration.seconds(10),
          timeout: Duration.seconds(5),
          healthyThresholdCount: 2,
          unhealthyThresholdCount: 3,
        },
      });
    this.blueTargetGroup = targetGroup('BlueTargetGroup');
    this.greenTargetGroup = targetGroup('GreenTargetGroup');

    this.productionListener = this.loadBalancer.addListener('ProductionListener', {
      port: prodPort,
      protocol: props.certificateArn ? elbv2.ApplicationProtocol.HTTPS : elbv2.ApplicationProtocol.HTTP,
      certificates: props.certificateArn ? [elbv2.ListenerCertificate.fromArn(props.certificateArn)] : undefined,
      // ELBSecurityPolicy-TLS13-1-2-2021-06: TLS 1.2 and 1.3 only.
      sslPolicy: props.certificateArn ? elbv2.SslPolicy.RECOMMENDED_TLS : undefined,
      defaultTargetGroups: [this.blueTargetGroup],
      open: true,
    });
    if (props.certificateArn) {
      // Port 80 only redirects: users' traffic flows through the HTTPS listener, the one CodeDeploy shifts.
      this.redirectListener = this.loadBalancer.addRedirect({ sourcePort: 80, targetPort: 443 });
      acknowledgeRule(this.redirectListener, 'albHttp', 'This listener answers every request on port 80 with a 301 redirect to the HTTPS listener on 443; it serves no content, so it holds no certificate.');
    } else {
      acknowledgeRule(
        this.productionListener,
        'albHttp',
        'No certificateArn is configured for this service, so its production listener serves HTTP on port 80 (a demo or internal default). ' +
          'Set services[].certificateArn (an ACM certificate in the target region) to serve HTTPS on 443 with TLS 1.2+ and redirect port 80 to it.',
      );
    }
    acknowledgeRule(
      this.loadBalancer,
      'elbDeletionProtection',
      'The load balancer holds no data and is recreated with its stack; deletion protection would make deleting a service or a target fail until someone turns it off by hand.',
    );
    acknowledgeRule(
      this.loadBalancer,
      'albWaf',
      'A WAF web ACL is a per-service choice with its own rules and cost; a team attaches one in safe-deploy.extensions.ts (wafv2.CfnWebACLAssociation on service.loadBalancer).',
    );
    acknowledgeRule(
      albSg,
      'openCommonPorts',
      'The internet-facing ALB of a public web service admits the internet on its production port only (80, or 443 and the 80 redirect with a certificate); nothing else, SSH included, is open.',
    );
    Validations.of(albSg).acknowledge({
      id: 'AwsSolutions-EC23',
      reason:
        'Only the production listener port is open to any IPv4 address: it serves a public web service. The test listener admits only the ' +
        "VPC's NAT addresses (the test hook's egress), and the ALB may only reach the tasks' container port.",
    });
    this.testListener = this.loadBalancer.addListener('TestListener', {
      port: testPort,
      protocol: elbv2.ApplicationProtocol.HTTP,
      defaultTargetGroups: [this.greenTargetGroup],
      open: false,
    });
    acknowledgeRule(
      this.testListener,
      'albHttp',
      "The test listener only admits the VPC's NAT addresses and carries only the AfterAllowTestTraffic hook's synthetic probes, never users' requests. " +
        "The hook addresses the ALB by its generated DNS name, which no certificate of the service's domain matches: HTTPS here would mean turning off hostname verification.",
    );
    for (const peer of props.testTrafficPeers) {
      albSg.addIngressRule(peer, ec2.Port.tcp(testPort), 'Test listener: VPC egress (NAT) address, used by the AfterAllowTestTraffic hook');
    }

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
      ...targetGroupAlarms(this, 'Green', this.greenTargetGroup, this.alarmSettings, namePrefix, healthCheck.path, props.judge !== undefined),
    ];
    if (props.judge) {
      this.judge = new CanaryJudge(this, 'Judge', {
        traffic: JudgeTraffic.applicationTargetGroups({ first: this.blueTargetGroup, second: this.greenTargetGroup }),
        canaryPercent: props.judge.canaryPercent,
        settings: props.judge.settings,
        expectedTraffic: props.judge.expectedTraffic,
        alarmNamePrefix: namePrefix,
      });
    }
    this.loadBalancerErrorsAlarm = this.loadBalancerErrors(namePrefix);
    this.rollbackAlarms.push(...(this.judge ? this.judge.alarms : []), ...fixed, this.loadBalancerErrorsAlarm);
    // The health the pipeline's gates judge after the shift: what stays meaningful without a baseline.
    this.healthAlarms.push(...(this.judge ? [this.judge.catastropheAlarm] : []), ...fixed, this.loadBalancerErrorsAlarm);
    this.healthAlarmName = `${namePrefix}-Health`;
    this.compositeAlarm = new cloudwatch.CompositeAlarm(this, 'Health', {
      compositeAlarmName: this.healthAlarmName,
      alarmDescription: `Health of the ECS service ${this.node.path}: in ALARM when any of its absolute alarms is (catastrophe or 5xx rate and p99, unhealthy tasks, load balancer 5xx, hook errors).`,
      alarmRule: { renderAlarmRule: () => Lazy.string({ produce: () => anyAlarm(this.healthAlarms) }) },
    });

    // CodeDeploy's role, with the Limited policy: EcsDeploymentGroup would attach AWSCodeDeployRoleForECS,
    // which may invoke every Lambda function, publish to every SNS topic and read every S3 object of
    // the account. The group gets an immutable view so that it cannot attach that policy anyway.
    const codeDeployRole = new iam.Role(this, 'DeploymentRole', {
      assumedBy: new iam.ServicePrincipal('codedeploy.amazonaws.com'),
      description: `CodeDeploy blue/green deployments of ${this.node.path}`,
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('AWSCodeDeployRoleForECSLimited')],
    });
    Validations.of(codeDeployRole).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AWSCodeDeployRoleForECSLimited]',
      reason:
        "AWS's limited service-role policy for ECS blue/green: task-set and listener/rule changes (no resource-level scoping in ECS/ELB for them), " +
        'DescribeAlarms, iam:PassRole only to ecs-tasks, and Lambda/SNS/S3 only on CodeDeployHook_*/CodeDeployTopic_*/UseWithCodeDeploy-tagged objects. ' +
        'Our hook, not named CodeDeployHook_*, is granted separately.',
    });
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

    this.testTrafficHook = new TestTrafficHook(this, 'TestTrafficHook', {
      vpc,
      testUrl: `http://${this.loadBalancer.loadBalancerDnsName}:${testPort}`,
      testListenerPort: testPort,
      probes: props.testTraffic ?? [healthCheck],
      deploymentGroupArn: this.deploymentGroup.deploymentGroupArn,
      codeDeployRole,
    });
    if (this.judge) {
      this.trafficCheckHook = new TrafficCheckHook(this, 'TrafficCheckHook', {
        minRequests: this.judge.minRequests,
        canaryStep: props.judge!.canaryStep,
        loadBalancer: this.loadBalancer,
        targetGroups: [this.blueTargetGroup, this.greenTargetGroup],
        service: this.service,
        deploymentGroupArn: this.deploymentGroup.deploymentGroupArn,
        codeDeployRole,
      });
    }
    const hookNames = [this.testTrafficHook, ...(this.trafficCheckHook ? [this.trafficCheckHook] : [])].map((h) => h.function.fixedName!);
    const hookAlarm = hookErrorsAlarm(this, 'HookErrorsAlarm', hookNames, Duration.seconds(this.alarmSettings.periodSeconds));
    this.addAlarm(hookAlarm);

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

  /** Adds an alarm that rolls a deployment back; it also feeds the composite health alarm. */
  addAlarm(alarm: cloudwatch.IAlarm): void {
    this.deploymentGroup.addAlarm(alarm);
    this.rollbackAlarms.push(alarm);
    this.healthAlarms.push(alarm);
  }

  /** The load balancer's own 5xx rate (502/503/504 when no target answers), with at least a few requests a period. */
  private loadBalancerErrors(namePrefix: string): cloudwatch.Alarm {
    const s = this.alarmSettings;
    const period = Duration.seconds(s.periodSeconds);
    return new cloudwatch.MathExpression({
      expression: `IF(requests >= ${ELB_MIN_REQUESTS}, 100 * FILL(errors, 0) / requests, 0)`,
      usingMetrics: {
        errors: this.loadBalancer.metrics.httpCodeElb(elbv2.HttpCodeElb.ELB_5XX_COUNT, { period, statistic: 'Sum' }),
        requests: this.loadBalancer.metrics.requestCount({ period, statistic: 'Sum' }),
      },
      period,
      label: 'Load balancer 5xx rate (%)',
    }).createAlarm(this, 'LoadBalancerErrorsAlarm', {
      alarmName: `${namePrefix}-Elb5xxRate`,
      threshold: s.errorRatePercent,
      evaluationPeriods: s.evaluationPeriods,
      datapointsToAlarm: s.datapointsToAlarm,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: `More than ${s.errorRatePercent}% of the requests to the load balancer get a 5xx it generates itself (no healthy target, a timeout), which no target group counts. Rolls the deployment back.`,
    });
  }

  /** The alarms that roll a deployment back (5xx rate, p99 latency, unhealthy hosts per target group, then added ones). */
  get alarms(): cloudwatch.IAlarm[] {
    return [...this.rollbackAlarms];
  }

  private logAccess(stack: Stack): void {
    if (!Token.isUnresolved(stack.region)) {
      this.loadBalancer.logAccessLogs(this.accessLogBucket, 'alb');
      return;
    }
    // Env-agnostic stack: logAccessLogs needs a concrete region, so grant the regional ELB account
    // through CDK's region-fact mapping (Fn::FindInMap on AWS::Region) instead.
    this.accessLogBucket.addToResourcePolicy(
      new iam.PolicyStatement({
        actions: ['s3:PutObject'],
        principals: [new iam.AccountPrincipal(stack.regionalFact(FactName.ELBV2_ACCOUNT))],
        resources: [this.accessLogBucket.arnForObjects(`alb/AWSLogs/${stack.account}/*`)],
      }),
    );
    this.loadBalancer.setAttribute('access_logs.s3.enabled', 'true');
    this.loadBalancer.setAttribute('access_logs.s3.bucket', this.accessLogBucket.bucketName);
    this.loadBalancer.setAttribute('access_logs.s3.prefix', 'alb');
    this.loadBalancer.node.addDependency(this.accessLogBucket.policy!);
  }
}

function validate(props: CanaryEcsServiceProps, testPort: number, prodPort: number): void {
  const problems = [
    fieldProblem('containerPort', portField, props.containerPort),
    fieldProblem('testListenerPort', portField, props.testListenerPort),
    testPort === prodPort ? `testListenerPort: ${testPort} is the production listener's port: use another port, e.g. 8080` : undefined,
    fieldProblem('desiredCount', desiredCountField, props.desiredCount),
    fieldProblem('blueTerminationWait', blueTerminationWaitMinutesField, props.blueTerminationWait?.toMinutes()),
    ...(props.judge ? judgeProblems(props.judge) : []),
    props.testTrafficPeers.length === 0
      ? 'testTrafficPeers: is empty, so the AfterAllowTestTraffic hook could not reach the test listener: add the VPC egress (NAT) addresses'
      : undefined,
    props.testTraffic !== undefined && (props.testTraffic.length === 0 || props.testTraffic.length > MAX_TEST_TRAFFIC_PROBES)
      ? `testTraffic: ${testTrafficProbesMessage(props.testTraffic.length)}`
      : undefined,
    Token.isUnresolved(props.certificateArn) ? undefined : fieldProblem('certificateArn', certificateArnField, props.certificateArn),
    fieldProblem('user', containerUserField, props.user),
    props.executionRolePath !== undefined && !/^\/([\x21-\x7e]+\/)?$/.test(props.executionRolePath)
      ? `executionRolePath: ${JSON.stringify(props.executionRolePath)} is not an IAM path: start and end with "/", e.g. "/safe-deploy/"`
      : undefined,
  ].filter((p): p is string => p !== undefined);
  if (problems.length > 0) throw new Error(problems.join('\n'));
}
