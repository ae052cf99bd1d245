import { CfnElement, Duration, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { HttpCheck } from '../../config/service-schema';
import { HandlerFunction, stackScopedFunctionName } from '../handler-function';
import { acknowledgeFindings } from '../shared/acknowledge';

/** Properties of a TestTrafficHook. */
export interface TestTrafficHookProps {
  readonly vpc: ec2.IVpc;
  /** Base URL of the test listener, e.g. http://<alb dns>:8080. */
  readonly testUrl: string;
  readonly testListenerPort: number;
  /** The requests to send and what good answers are. */
  readonly probes: readonly HttpCheck[];
  /** Deployment group the hook reports to. */
  readonly deploymentGroupArn: string;
  /** CodeDeploy's service role, which invokes the hook. */
  readonly codeDeployRole: iam.IRole;
}

/** Worst case of one probe: 3 attempts x 5 s request timeout + 2 pauses of 2 s (lambda/ecs-test-traffic-hook). */
const PROBE_WORST_CASE = Duration.seconds(19);

/**
 * The AfterAllowTestTraffic hook: runs in the VPC, so its requests leave through the NAT addresses
 * the test listener admits, and calls the green task set with the service's own probes while all
 * users are still on blue.
 */
export class TestTrafficHook extends Construct {
  readonly function: HandlerFunction;
  readonly securityGroup: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, props: TestTrafficHookProps) {
    super(scope, id);
    // Out only to the test listener (through the NAT, to the ALB's public addresses) and to the
    // CodeDeploy API over HTTPS; DNS goes to the VPC resolver, which security groups do not filter.
    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'AfterAllowTestTraffic hook: out to the test listener and HTTPS only',
      allowAllOutbound: false,
    });
    this.securityGroup.addEgressRule(
      ec2.Peer.anyIpv4(),
      ec2.Port.tcp(props.testListenerPort),
      'The test listener, reached at the ALB public addresses through the NAT',
    );
    this.securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'CodeDeploy API (PutLifecycleEventHookExecutionStatus)');

    const checkTimeout = Duration.seconds(PROBE_WORST_CASE.toSeconds() * props.probes.length + 5);
    this.function = new HandlerFunction(this, 'Function', {
      entry: 'ecs-test-traffic-hook/index.ts',
      // Named, so the hook-errors alarm the deployment group watches can name it without a reference cycle.
      functionName: stackScopedFunctionName(this, `${scope.node.id}-TestTrafficHook`),
      description: 'CodeDeploy AfterAllowTestTraffic hook: calls the green task set through the test listener',
      timeout: checkTimeout.plus(Duration.seconds(30)),
      vpc: props.vpc,
      securityGroups: [this.securityGroup],
      environment: {
        TEST_URL: props.testUrl,
        TEST_PROBES: JSON.stringify(
          props.probes.map((p) => ({ path: p.path, expectedStatus: p.expectedStatus ?? 200, bodyContains: p.bodyContains })),
        ),
        CHECK_TIMEOUT_MS: String(checkTimeout.toMilliseconds()),
      },
    });
    this.function.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['codedeploy:PutLifecycleEventHookExecutionStatus'], resources: [props.deploymentGroupArn] }),
    );
    this.function.grantInvoke(props.codeDeployRole);
    const stack = Stack.of(this);
    acknowledgeFindings(props.codeDeployRole, {
      [`AwsSolutions-IAM5[Resource::<${stack.resolve(stack.getLogicalId(this.function.node.defaultChild as CfnElement))}.Arn>:*]`]:
        'CodeDeploy may invoke only the test hook function; the :* suffix covers its versions and aliases.',
    });
  }
}
