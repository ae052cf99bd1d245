import { CfnElement, Duration, Stack } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { CANARY_TRAFFIC_CHECK_ENV, canaryTrafficCheckValue, TRAFFIC_CHECK_BUDGET_MS } from '../../runtime/canary-traffic-settings';
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
  /** The service: its original task set tells which task definition a deployment replaces. */
  readonly service: ecs.BaseService;
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
        CLUSTER_NAME: props.service.cluster.clusterName,
        SERVICE_NAME: props.service.serviceName,
        CHECK_TIMEOUT_MS: String(budget.toMilliseconds()),
      },
    });
    const fn = this.function;
    // The group's history (ListDeployments, BatchGetDeployments) tells which earlier revision served.
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: [
          'codedeploy:PutLifecycleEventHookExecutionStatus',
          'codedeploy:GetDeployment',
          'codedeploy:ListDeployments',
          'codedeploy:BatchGetDeployments',
        ],
        resources: [props.deploymentGroupArn],
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: [
          'codedeploy:ListDeploymentTargets',
          'codedeploy:BatchGetDeploymentTargets',
          'cloudwatch:GetMetricData',
          'ecs:ListTaskDefinitions',
          'ecs:DescribeTaskDefinition',
        ],
        resources: ['*'],
      }),
    );
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['cloudformation:DescribeStacks'], resources: [stack.stackId] }));
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['ecs:DescribeServices'], resources: [props.service.serviceArn] }));
    acknowledgeFindings(fn.executionRole, {
      'AwsSolutions-IAM5[Resource::*]':
        'codedeploy:ListDeploymentTargets, BatchGetDeploymentTargets, cloudwatch:GetMetricData, ecs:ListTaskDefinitions and ecs:DescribeTaskDefinition have no ' +
        'resource-level permissions (IAM service authorization reference for AWS CodeDeploy, Amazon CloudWatch and Amazon ECS); the hook reads the deployment it is ' +
        "invoked for, the service's two target groups' RequestCount, and the task definitions of the service's family (read-only).",
    });
    fn.grantInvoke(props.codeDeployRole);
    acknowledgeFindings(props.codeDeployRole, {
      [`AwsSolutions-IAM5[Resource::<${stack.resolve(stack.getLogicalId(fn.node.defaultChild as CfnElement))}.Arn>:*]`]:
        'CodeDeploy may invoke only the traffic-check hook function; the :* suffix covers its versions and aliases.',
    });
  }
}
