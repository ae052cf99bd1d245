import { Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';

/** CodeDeploy's service role for the blue/green deployments of a CanaryEcsService (built into `scope` as 'DeploymentRole'). */
export function ecsCodeDeployRole(scope: Construct): iam.Role {
  // CodeDeploy's role, with the Limited policy: EcsDeploymentGroup would attach AWSCodeDeployRoleForECS,
  // which may invoke every Lambda function, publish to every SNS topic and read every S3 object of
  // the account. The group gets an immutable view so that it cannot attach that policy anyway.
  const codeDeployRole = new iam.Role(scope, 'DeploymentRole', {
    assumedBy: new iam.ServicePrincipal('codedeploy.amazonaws.com'),
    description: `CodeDeploy blue/green deployments of ${scope.node.path}`,
    managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('AWSCodeDeployRoleForECSLimited')],
  });
  Validations.of(codeDeployRole).acknowledge({
    id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AWSCodeDeployRoleForECSLimited]',
    reason:
      "AWS's limited service-role policy for ECS blue/green: task-set and listener/rule changes (no resource-level scoping in ECS/ELB for them), " +
      'DescribeAlarms, iam:PassRole only to ecs-tasks, and Lambda/SNS/S3 only on CodeDeployHook_*/CodeDeployTopic_*/UseWithCodeDeploy-tagged objects. ' +
      'Our hook, not named CodeDeployHook_*, is granted separately.',
  });
  return codeDeployRole;
}
