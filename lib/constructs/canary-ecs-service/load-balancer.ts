import { Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { FactName } from 'aws-cdk-lib/region-info';
import type { Construct } from 'constructs';
import type { HttpCheck } from '../../config/service-schema';
import { acknowledgeRule } from '../../policy/acknowledgements';

/** Where the load balancer's listeners and target groups point. */
export interface ServiceLoadBalancerOptions {
  readonly vpc: ec2.IVpc;
  /** The tasks' port, which both target groups send to. */
  readonly containerPort: number;
  /** The test listener's port. */
  readonly testPort: number;
  /** The production listener's port (443 with a certificate, else 80). */
  readonly prodPort: number;
  /** What the target groups' health checks ask for. */
  readonly healthCheck: HttpCheck;
  /** @default - HTTP on port 80 */
  readonly certificateArn?: string;
  /** Who may reach the test listener. */
  readonly testTrafficPeers: ec2.IPeer[];
}

/** The load balancer of a CanaryEcsService and what hangs off it. */
export interface ServiceLoadBalancer {
  readonly accessLogBucket: s3.Bucket;
  readonly securityGroup: ec2.SecurityGroup;
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  readonly blueTargetGroup: elbv2.ApplicationTargetGroup;
  readonly greenTargetGroup: elbv2.ApplicationTargetGroup;
  readonly productionListener: elbv2.ApplicationListener;
  readonly testListener: elbv2.ApplicationListener;
  readonly redirectListener?: elbv2.ApplicationListener;
}

/**
 * An internet-facing ALB with access logs, blue and green target groups, a production listener open
 * to the internet (HTTPS with a redirect when there is a certificate) and a test listener open only
 * to `testTrafficPeers`. Built into `scope` (the CanaryEcsService) under its ids.
 */
export function serviceLoadBalancer(scope: Construct, o: ServiceLoadBalancerOptions): ServiceLoadBalancer {
  const { vpc, containerPort, testPort, prodPort, healthCheck } = o;
  // Load balancer: production listener open to the internet, test listener only to testTrafficPeers.
  const accessLogBucket = new s3.Bucket(scope, 'AccessLogs', {
    encryption: s3.BucketEncryption.S3_MANAGED, // the only encryption ALB log delivery supports
    enforceSSL: true,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    // Versioned, so a deleted or overwritten log stays a day to recover.
    versioned: true,
    lifecycleRules: [{ expiration: Duration.days(90), noncurrentVersionExpiration: Duration.days(1) }],
    removalPolicy: RemovalPolicy.RETAIN,
  });
  acknowledgeRule(
    accessLogBucket,
    's3Logging',
    'This bucket receives the ALB access logs; logging access to the log bucket itself would only log the log delivery.',
  );
  acknowledgeRule(accessLogBucket, 's3Kms', 'ALB access-log delivery supports only SSE-S3 (Amazon S3-managed keys) on the target bucket.');
  const albSg = new ec2.SecurityGroup(scope, 'LoadBalancerSecurityGroup', {
    vpc,
    description: 'ALB: production listener from anywhere, test listener from the test hook only',
    allowAllOutbound: false,
  });
  const loadBalancer = new elbv2.ApplicationLoadBalancer(scope, 'LoadBalancer', {
    vpc,
    internetFacing: true,
    securityGroup: albSg,
    vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
    dropInvalidHeaderFields: true,
  });
  logAccess(loadBalancer, accessLogBucket);

  const targetGroup = (tgId: string) =>
    new elbv2.ApplicationTargetGroup(scope, tgId, {
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
  const blueTargetGroup = targetGroup('BlueTargetGroup');
  const greenTargetGroup = targetGroup('GreenTargetGroup');

  const productionListener = loadBalancer.addListener('ProductionListener', {
    port: prodPort,
    protocol: o.certificateArn ? elbv2.ApplicationProtocol.HTTPS : elbv2.ApplicationProtocol.HTTP,
    certificates: o.certificateArn ? [elbv2.ListenerCertificate.fromArn(o.certificateArn)] : undefined,
    // ELBSecurityPolicy-TLS13-1-2-2021-06: TLS 1.2 and 1.3 only.
    sslPolicy: o.certificateArn ? elbv2.SslPolicy.RECOMMENDED_TLS : undefined,
    defaultTargetGroups: [blueTargetGroup],
    open: true,
  });
  let redirectListener: elbv2.ApplicationListener | undefined;
  if (o.certificateArn) {
    // Port 80 only redirects: users' traffic flows through the HTTPS listener, the one CodeDeploy shifts.
    redirectListener = loadBalancer.addRedirect({ sourcePort: 80, targetPort: 443 });
    acknowledgeRule(
      redirectListener,
      'albHttp',
      'This listener answers every request on port 80 with a 301 redirect to the HTTPS listener on 443; it serves no content, so it holds no certificate.',
    );
  } else {
    acknowledgeRule(
      productionListener,
      'albHttp',
      'No certificateArn is configured for this service, so its production listener serves HTTP on port 80 (a demo or internal default). ' +
        'Set services[].certificateArn (an ACM certificate in the target region) to serve HTTPS on 443 with TLS 1.2+ and redirect port 80 to it.',
    );
  }
  acknowledgeRule(
    loadBalancer,
    'elbDeletionProtection',
    'The load balancer holds no data and is recreated with its stack; deletion protection would make deleting a service or a target fail until someone turns it off by hand.',
  );
  acknowledgeRule(
    loadBalancer,
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
  const testListener = loadBalancer.addListener('TestListener', {
    port: testPort,
    protocol: elbv2.ApplicationProtocol.HTTP,
    defaultTargetGroups: [greenTargetGroup],
    open: false,
  });
  acknowledgeRule(
    testListener,
    'albHttp',
    "The test listener only admits the VPC's NAT addresses and carries only the AfterAllowTestTraffic hook's synthetic probes, never users' requests. " +
      "The hook addresses the ALB by its generated DNS name, which no certificate of the service's domain matches: HTTPS here would mean turning off hostname verification.",
  );
  for (const peer of o.testTrafficPeers) {
    albSg.addIngressRule(peer, ec2.Port.tcp(testPort), 'Test listener: VPC egress (NAT) address, used by the AfterAllowTestTraffic hook');
  }
  return {
    accessLogBucket,
    securityGroup: albSg,
    loadBalancer,
    blueTargetGroup,
    greenTargetGroup,
    productionListener,
    testListener,
    redirectListener,
  };
}

function logAccess(loadBalancer: elbv2.ApplicationLoadBalancer, accessLogBucket: s3.Bucket): void {
  const stack = Stack.of(loadBalancer);
  if (!Token.isUnresolved(stack.region)) {
    loadBalancer.logAccessLogs(accessLogBucket, 'alb');
    return;
  }
  // Env-agnostic stack: logAccessLogs needs a concrete region, so grant the regional ELB account
  // through CDK's region-fact mapping (Fn::FindInMap on AWS::Region) instead.
  accessLogBucket.addToResourcePolicy(
    new iam.PolicyStatement({
      actions: ['s3:PutObject'],
      principals: [new iam.AccountPrincipal(stack.regionalFact(FactName.ELBV2_ACCOUNT))],
      resources: [accessLogBucket.arnForObjects(`alb/AWSLogs/${stack.account}/*`)],
    }),
  );
  loadBalancer.setAttribute('access_logs.s3.enabled', 'true');
  loadBalancer.setAttribute('access_logs.s3.bucket', accessLogBucket.bucketName);
  loadBalancer.setAttribute('access_logs.s3.prefix', 'alb');
  loadBalancer.node.addDependency(accessLogBucket.policy!);
}
