import { CfnElement, Duration, Stack } from 'aws-cdk-lib';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { CANARY_TRAFFIC_CHECK_ENV, canaryTrafficCheckValue, TRAFFIC_CHECK_BUDGET_MS } from '../../../lambda/shared/canary-traffic-settings';
import { HandlerFunction, stackScopedFunctionName } from '../handler-function';
import { acknowledgeFindings } from '../shared/acknowledge';

/** Properties of a TrafficCheckHook. */
export interface TrafficCheckHookProps {
  /** Canary requests the step must serve: the judge's `minRequests`. */
  readonly minRequests: number;
  /** Length of the canary step (the deployment config's interval), whole minutes. */
  readonly canaryStep: Duration;
  /** The load balancer whose target groups serve the two task sets. */
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  /** Blue and green: either may be the canary's. */
  readonly targetGroups: readonly [elbv2.ApplicationTargetGroup, elbv2.ApplicationTargetGroup];
  /** Deployment group the hook reports to. */
  readonly deploymentGroupArn: string;
  /** CodeDeploy's service role, which invokes the hook. */
  readonly codeDeployRole: iam.IRole;
}

/**
 * The AfterAllowTraffic hook of a judged ECS service: after the shift to 100%, counts the requests
 * the canary target group served during the canary step and fails the deployment below the judge's
 * `minRequests` (lambda/ecs-traffic-check-hook; docs/canary-judge.md, "Too little traffic"). It calls
 * AWS APIs only, so it runs outside the VPC.
 */
export class TrafficCheckHook extends Construct {
  readonly function: HandlerFunction;

  constructor(scope: Construct, id: string, props: TrafficCheckHookProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const budget = Duration.millis(TRAFFIC_CHECK_BUDGET_MS);
    this.function = new HandlerFunction(this, 'Function', {
      entry: 'ecs-traffic-check-hook/index.ts',
      // Named, so the hook-errors alarm the deployment group watches can name it without a reference cycle.
      functionName: stackScopedFunctionName(this, `${scope.node.id}-TrafficCheckHook`),
      description: 'CodeDeploy AfterAllowTraffic hook: refuses a canary step that served too few requests to be judged',
      // Room after the check for reporting to CodeDeploy, with retries.
      timeout: budget.plus(Duration.seconds(30)),
      environment: {
        [CANARY_TRAFFIC_CHECK_ENV]: canaryTrafficCheckValue({ minRequests: props.minRequests, stepMinutes: props.canaryStep.toMinutes() }),
        LOAD_BALANCER: props.loadBalancer.loadBalancerFullName,
        TARGET_GROUPS: `${props.targetGroups[0].targetGroupFullName},${props.targetGroups[1].targetGroupFullName}`,
        STACK_ID: stack.stackId,
        CHECK_TIMEOUT_MS: String(budget.toMilliseconds()),
      },
    });
    const fn = this.function;
    fn.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['codedeploy:PutLifecycleEventHookExecutionStatus', 'codedeploy:GetDeployment'], resources: [props.deploymentGroupArn] }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['codedeploy:ListDeploymentTargets', 'codedeploy:BatchGetDeploymentTargets', 'cloudwatch:GetMetricData'], resources: ['*'] }),
    );
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['cloudformation:DescribeStacks'], resources: [stack.stackId] }));
    acknowledgeFindings(fn.executionRole, {
      'AwsSolutions-IAM5[Resource::*]':
        'codedeploy:ListDeploymentTargets, BatchGetDeploymentTargets and cloudwatch:GetMetricData have no resource-level permissions (IAM service authorization ' +
        "reference for AWS CodeDeploy and Amazon CloudWatch); the hook reads the deployment it is invoked for and the service's two target groups' RequestCount.",
    });
    fn.grantInvoke(props.codeDeployRole);
    acknowledgeFindings(props.codeDeployRole, {
      [`AwsSolutions-IAM5[Resource::<${stack.resolve(stack.getLogicalId(fn.node.defaultChild as CfnElement))}.Arn>:*]`]:
        'CodeDeploy may invoke only the traffic-check hook function; the :* suffix covers its versions and aliases.',
    });
  }
}
