import { CfnDeletionPolicy, CfnElement, Duration, Fn, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { bundledHandler, HANDLER_RUNTIME } from '../lambda-code';
import { FactName } from 'aws-cdk-lib/region-info';
import type { AlarmOverrides } from '../../config/schema';
import { AlarmSettings, resolveAlarmSettings } from '../shared/alarm-settings';
import { acknowledgeNodeRuntime, EcsCodeDeployDeployment } from './ecs-deployment';
import { logWriterRole } from '../shared/log-writer-role';
import { healthAlarmName } from '../shared/health-alarm';

/** Properties of a CanaryEcsService. */
export interface CanaryEcsServiceProps {
  /** The VPC; tasks and the test hook run in its private subnets with egress, the ALB in its public ones. */
  readonly vpc: ec2.IVpc;
  /** The image to run. */
  readonly image: ecs.ContainerImage;
  /** The release the image is (e.g. the git commit); shown by the service as its version. @default 'dev' */
  readonly version?: string;
  /** How CodeDeploy shifts traffic from blue to green. */
  readonly deploymentConfig: codedeploy.IEcsDeploymentConfig;
  /** How long the blue task set keeps running after a successful shift (instant rollback window). @default Duration.minutes(0) */
  readonly blueTerminationWait?: Duration;
  /** Alarm threshold overrides. @default - DEFAULT_ALARM_SETTINGS (lib/constructs/shared/alarm-settings) */
  readonly alarms?: AlarmOverrides;
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
  /** Tasks per task set. @default 2 */
  readonly desiredCount?: number;
  /** vCPU units per task. @default 256 */
  readonly cpu?: number;
  /** Memory per task, MiB. @default 512 */
  readonly memoryLimitMiB?: number;
  /** CPU architecture of the image. @default ecs.CpuArchitecture.X86_64 (what CodeBuild's standard image builds) */
  readonly cpuArchitecture?: ecs.CpuArchitecture;
  /** How long a stack update waits for a deployment before failing. @default Duration.hours(2) */
  readonly deploymentTimeout?: Duration;
}

const CONTAINER_NAME = 'app';

/**
 * A Fargate service behind an ALB whose new revisions go out as CodeDeploy blue/green canaries:
 * production and test listeners, blue and green target groups, alarms on both that roll a
 * deployment back, an AfterAllowTestTraffic hook, a dashboard, and a custom resource that turns
 * every new task definition revision into a CodeDeploy deployment and waits for its outcome.
 */
export class CanaryEcsService extends Construct {
  readonly cluster: ecs.Cluster;
  readonly taskDefinition: ecs.FargateTaskDefinition;
  readonly service: ecs.FargateService;
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  readonly productionListener: elbv2.ApplicationListener;
  readonly testListener: elbv2.ApplicationListener;
  readonly blueTargetGroup: elbv2.ApplicationTargetGroup;
  readonly greenTargetGroup: elbv2.ApplicationTargetGroup;
  readonly deploymentGroup: codedeploy.EcsDeploymentGroup;
  /** The alarms that roll a deployment back (5xx rate, p99 latency, unhealthy hosts; per target group). */
  readonly alarms: cloudwatch.Alarm[];
  /** Any of `alarms`, named `<stack name>-Health` (pipeline gates look it up by name). */
  readonly compositeAlarm: cloudwatch.CompositeAlarm;
  readonly testTrafficHook: lambda.IFunction;
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
    const containerPort = props.containerPort ?? 8080;
    const testPort = props.testListenerPort ?? 8080;
    const prodPort = props.certificateArn ? 443 : 80;
    validate(props, testPort, prodPort);
    this.alarmSettings = resolveAlarmSettings(props.alarms, 'CanaryEcsService');

    this.cluster = new ecs.Cluster(this, 'Cluster', { vpc: props.vpc, containerInsightsV2: ecs.ContainerInsights.ENABLED });

    this.taskDefinition = new ecs.FargateTaskDefinition(this, 'TaskDefinition', {
      cpu: props.cpu ?? 256,
      memoryLimitMiB: props.memoryLimitMiB ?? 512,
      runtimePlatform: { cpuArchitecture: props.cpuArchitecture ?? ecs.CpuArchitecture.X86_64, operatingSystemFamily: ecs.OperatingSystemFamily.LINUX },
    });
    // Keep replaced revisions ACTIVE: CodeDeploy rolls back to the previous one, and operators may redeploy it.
    (this.taskDefinition.node.defaultChild as ecs.CfnTaskDefinition).cfnOptions.updateReplacePolicy = CfnDeletionPolicy.RETAIN;
    const container = this.taskDefinition.addContainer('App', {
      containerName: CONTAINER_NAME,
      image: props.image,
      portMappings: [{ containerPort, protocol: ecs.Protocol.TCP }],
      readonlyRootFilesystem: true,
      logging: ecs.LogDrivers.awsLogs({
        streamPrefix: 'app',
        logGroup: new logs.LogGroup(this, 'AppLogs', { retention: logs.RetentionDays.THREE_MONTHS, removalPolicy: RemovalPolicy.DESTROY }),
      }),
      environment: { PORT: String(containerPort), APP_VERSION: props.version ?? 'dev', SERVICE_NAME: stack.stackName },
      stopTimeout: Duration.seconds(30),
    });
    Validations.of(this.taskDefinition).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'ecr:GetAuthorizationToken, needed to pull the image, has no resource-level permissions; the pull actions themselves are scoped to the repository.',
    });
    Validations.of(this.taskDefinition).acknowledge({
      id: 'CloudFormation-Validate::W3011',
      reason: 'UpdateReplacePolicy Retain keeps replaced revisions registered for CodeDeploy and operator rollbacks; on stack delete the current revision is deregistered with the service, which is intended.',
    });
    Validations.of(this.taskDefinition).acknowledge({
      id: 'AwsSolutions-ECS2',
      reason: 'The environment holds only the listen port, the release version and the service name: no secrets.',
    });

    // Load balancer: production listener open to the internet, test listener only to testTrafficPeers.
    this.accessLogBucket = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED, // the only encryption ALB log delivery supports
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ expiration: Duration.days(90) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.accessLogBucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'This bucket receives the ALB access logs; logging access to the log bucket itself would only log the log delivery.',
    });
    const albSg = new ec2.SecurityGroup(this, 'LoadBalancerSecurityGroup', {
      vpc: props.vpc,
      description: 'ALB: production listener from anywhere, test listener from the test hook only',
      allowAllOutbound: false,
    });
    this.loadBalancer = new elbv2.ApplicationLoadBalancer(this, 'LoadBalancer', {
      vpc: props.vpc,
      internetFacing: true,
      securityGroup: albSg,
      vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
      dropInvalidHeaderFields: true,
    });
    if (!Token.isUnresolved(stack.region)) {
      this.loadBalancer.logAccessLogs(this.accessLogBucket, 'alb');
    } else {
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

    const targetGroup = (tgId: string) =>
      new elbv2.ApplicationTargetGroup(this, tgId, {
        vpc: props.vpc,
        port: containerPort,
        protocol: elbv2.ApplicationProtocol.HTTP,
        targetType: elbv2.TargetType.IP,
        deregistrationDelay: Duration.seconds(30),
        healthCheck: {
          path: '/health',
          healthyHttpCodes: '200',
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
      sslPolicy: props.certificateArn ? elbv2.SslPolicy.RECOMMENDED_TLS : undefined,
      defaultTargetGroups: [this.blueTargetGroup],
      open: true,
    });
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

    this.alarms = [
      ...this.targetGroupAlarms('Blue', this.blueTargetGroup),
      ...this.targetGroupAlarms('Green', this.greenTargetGroup),
    ];
    this.compositeAlarm = new cloudwatch.CompositeAlarm(this, 'Health', {
      compositeAlarmName: healthAlarmName(stack),
      alarmDescription: 'Any alarm of the ECS service: target 5xx rate, p99 latency or unhealthy hosts, on the blue or green target group.',
      alarmRule: cloudwatch.AlarmRule.anyOf(...this.alarms.map((a) => cloudwatch.AlarmRule.fromAlarm(a, cloudwatch.AlarmState.ALARM))),
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
      alarms: this.alarms,
      autoRollback: { failedDeployment: true, stoppedDeployment: true, deploymentInAlarm: true },
      blueGreenDeploymentConfig: {
        blueTargetGroup: this.blueTargetGroup,
        greenTargetGroup: this.greenTargetGroup,
        listener: this.productionListener,
        testListener: this.testListener,
        terminationWaitTime: props.blueTerminationWait ?? Duration.minutes(0),
      },
    });

    const hookLogs = new logs.LogGroup(this, 'TestTrafficHookLogs', { retention: logs.RetentionDays.THREE_MONTHS, removalPolicy: RemovalPolicy.DESTROY });
    // Out only to the test listener (through the NAT, to the ALB's public addresses) and to the
    // CodeDeploy API over HTTPS; DNS goes to the VPC resolver, which security groups do not filter.
    const hookSg = new ec2.SecurityGroup(this, 'TestTrafficHookSecurityGroup', {
      vpc: props.vpc,
      description: 'AfterAllowTestTraffic hook: out to the test listener and HTTPS only',
      allowAllOutbound: false,
    });
    hookSg.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(testPort), 'The test listener, reached at the ALB public addresses through the NAT');
    hookSg.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'CodeDeploy API (PutLifecycleEventHookExecutionStatus)');
    const hookRole = logWriterRole(this, 'TestTrafficHookRole', { logGroup: hookLogs, description: `Execution role of ${this.node.path}/TestTrafficHook` });
    // What Lambda needs to attach the function to the VPC: AWSLambdaVPCAccessExecutionRole minus its logs:* on every log group.
    hookRole.addToPolicy(
      new iam.PolicyStatement({
        actions: [
          'ec2:CreateNetworkInterface',
          'ec2:DescribeNetworkInterfaces',
          'ec2:DescribeSubnets',
          'ec2:DeleteNetworkInterface',
          'ec2:AssignPrivateIpAddresses',
          'ec2:UnassignPrivateIpAddresses',
        ],
        resources: ['*'],
      }),
    );
    const hook = new NodejsFunction(this, 'TestTrafficHook', {
      code: bundledHandler('ecs-test-traffic-hook/index.ts'),
      handler: 'index.handler',
      runtime: HANDLER_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 256,
      timeout: Duration.seconds(60),
      loggingFormat: lambda.LoggingFormat.JSON,
      description: 'CodeDeploy AfterAllowTestTraffic hook: calls the green task set through the test listener',
      vpc: props.vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      securityGroups: [hookSg],
      environment: { TEST_URL: `http://${this.loadBalancer.loadBalancerDnsName}:${testPort}` },
      logGroup: hookLogs,
      role: hookRole,
    });
    hook.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['codedeploy:PutLifecycleEventHookExecutionStatus'],
        resources: [this.deploymentGroup.deploymentGroupArn],
      }),
    );
    hook.grantInvoke(codeDeployRole);
    acknowledgeNodeRuntime(hook);
    Validations.of(hookRole).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'The hook runs in the VPC so that its traffic leaves through the NAT addresses the test listener admits. Lambda attaches it with ' +
        'ec2 network-interface actions (Create/Describe/DeleteNetworkInterface, DescribeSubnets, Assign/UnassignPrivateIpAddresses) that the hook role ' +
        'must hold on any resource, as AWSLambdaVPCAccessExecutionRole grants them; the Describe actions have no resource-level permissions.',
    });
    Validations.of(codeDeployRole).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${stack.resolve(stack.getLogicalId(hook.node.defaultChild as CfnElement))}.Arn>:*]`,
      reason: 'CodeDeploy may invoke only the test hook function; the :* suffix covers its versions and aliases.',
    });
    this.testTrafficHook = hook;

    this.deployment = new EcsCodeDeployDeployment(this, 'Deployment', {
      deploymentGroup: this.deploymentGroup,
      taskDefinition: this.taskDefinition,
      containerName: container.containerName,
      containerPort,
      revision: container.imageName,
      afterAllowTestTrafficHook: hook,
      timeout: props.deploymentTimeout,
    });
    this.deployment.node.addDependency(this.service);

    this.url = `${props.certificateArn ? 'https' : 'http'}://${this.loadBalancer.loadBalancerDnsName}`;
    this.dashboard = this.buildDashboard();
  }

  private targetGroupAlarms(color: 'Blue' | 'Green', tg: elbv2.ApplicationTargetGroup): cloudwatch.Alarm[] {
    const s = this.alarmSettings;
    const stackName = Stack.of(this).stackName;
    const period = Duration.seconds(s.periodSeconds);
    const common = {
      evaluationPeriods: s.evaluationPeriods,
      datapointsToAlarm: s.datapointsToAlarm,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    };
    const window = `${s.datapointsToAlarm} of ${s.evaluationPeriods} periods of ${s.periodSeconds} s`;
    const c = color.toLowerCase();
    const errorRate = new cloudwatch.MathExpression({
      // No requests → no datapoint → missing data, which does not breach.
      expression: `100 * FILL(${c}Errors, 0) / ${c}Requests`,
      usingMetrics: {
        [`${c}Errors`]: tg.metrics.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, { period, statistic: 'Sum' }),
        [`${c}Requests`]: tg.metrics.requestCount({ period, statistic: 'Sum' }),
      },
      period,
      label: `${color} target 5xx rate (%)`,
    });
    return [
      errorRate.createAlarm(this, `${color}ErrorRateAlarm`, {
        ...common,
        alarmName: `${stackName}-${color}-5xxRate`,
        threshold: s.errorRatePercent,
        alarmDescription: `${color} target group: more than ${s.errorRatePercent}% of requests get a 5xx from the tasks (${window}). Rolls the deployment back.`,
      }),
      tg.metrics.targetResponseTime({ period, statistic: 'p99' }).createAlarm(this, `${color}LatencyAlarm`, {
        ...common,
        alarmName: `${stackName}-${color}-p99Latency`,
        threshold: s.p99LatencyMs / 1000, // TargetResponseTime is in seconds
        alarmDescription: `${color} target group: p99 response time above ${s.p99LatencyMs} ms (${window}). Rolls the deployment back.`,
      }),
      tg.metrics.unhealthyHostCount({ period, statistic: 'Maximum' }).createAlarm(this, `${color}UnhealthyHostsAlarm`, {
        ...common,
        alarmName: `${stackName}-${color}-UnhealthyHosts`,
        threshold: 0,
        alarmDescription: `${color} target group: at least one task fails the /health check (${window}). Rolls the deployment back.`,
      }),
    ];
  }

  private buildDashboard(): cloudwatch.Dashboard {
    const s = this.alarmSettings;
    const period = Duration.seconds(s.periodSeconds);
    const tgs = [
      ['Blue', this.blueTargetGroup],
      ['Green', this.greenTargetGroup],
    ] as const;
    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: Fn.join('-', [Stack.of(this).stackName, 'ecs']),
      defaultInterval: Duration.hours(3),
    });
    dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms (any one rolls a deployment back)', alarms: [this.compositeAlarm, ...this.alarms], width: 24 }),
    );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Requests per target group',
        left: tgs.map(([c, tg]) => tg.metrics.requestCount({ period, statistic: 'Sum', label: c })),
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Target 5xx rate (%)',
        left: this.alarms.filter((a) => a.node.id.endsWith('ErrorRateAlarm')).map((a) => a.metric),
        leftAnnotations: [{ value: s.errorRatePercent, label: 'alarm threshold' }],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'p99 target response time (s)',
        left: tgs.map(([c, tg]) => tg.metrics.targetResponseTime({ period, statistic: 'p99', label: c })),
        leftAnnotations: [{ value: s.p99LatencyMs / 1000, label: 'alarm threshold' }],
        width: 8,
      }),
    );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Healthy / unhealthy tasks',
        left: tgs.map(([c, tg]) => tg.metrics.healthyHostCount({ period, statistic: 'Minimum', label: `${c} healthy` })),
        right: tgs.map(([c, tg]) => tg.metrics.unhealthyHostCount({ period, statistic: 'Maximum', label: `${c} unhealthy` })),
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Service CPU / memory (%)',
        left: [this.service.metricCpuUtilization({ period }), this.service.metricMemoryUtilization({ period })],
        width: 12,
      }),
    );
    return dashboard;
  }
}

function validate(props: CanaryEcsServiceProps, testPort: number, prodPort: number): void {
  const problems: string[] = [];
  const port = (name: string, v: number | undefined) => {
    if (v !== undefined && !(Number.isInteger(v) && v >= 1 && v <= 65535)) problems.push(`${name}: ${JSON.stringify(v)} is not a port: use a whole number from 1 to 65535`);
  };
  port('containerPort', props.containerPort);
  port('testListenerPort', props.testListenerPort);
  if (testPort === prodPort) problems.push(`testListenerPort: ${testPort} is the production listener's port: use another port, e.g. 8080`);
  if (props.desiredCount !== undefined && !(Number.isInteger(props.desiredCount) && props.desiredCount >= 1)) {
    problems.push(`desiredCount: ${JSON.stringify(props.desiredCount)} must be a whole number of at least 1 (2 or more spreads tasks over both AZs)`);
  }
  if (props.blueTerminationWait !== undefined && props.blueTerminationWait.toMinutes() > 2880) {
    problems.push(`blueTerminationWait: ${props.blueTerminationWait.toMinutes()} minutes is over CodeDeploy's limit: use at most 2880 minutes (2 days)`);
  }
  if (props.testTrafficPeers.length === 0) {
    problems.push('testTrafficPeers: is empty, so the AfterAllowTestTraffic hook could not reach the test listener: add the VPC egress (NAT) addresses');
  }
  if (props.certificateArn !== undefined && !Token.isUnresolved(props.certificateArn) && !/^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[0-9a-f-]{36}$/.test(props.certificateArn)) {
    problems.push(`certificateArn: ${JSON.stringify(props.certificateArn)} is not an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<uuid>)`);
  }
  if (problems.length > 0) throw new Error(problems.join('\n'));
}
