import * as iam from 'aws-cdk-lib/aws-iam';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/** Properties of a log-writer execution role. */
export interface LogWriterRoleProps {
  /** The function's own log group: the only one the role may write to. */
  readonly logGroup: logs.ILogGroup;
  /** What the role is for, shown in IAM. */
  readonly description: string;
  /** AWS-managed policies the function needs beyond logging. @default - none */
  readonly managedPolicies?: iam.IManagedPolicy[];
  /** A fixed role name. @default - generated */
  readonly roleName?: string;
}

/**
 * A Lambda execution role that may write only to the function's own log group, instead of the
 * logs:CreateLogGroup/CreateLogStream/PutLogEvents on every log group of the account that
 * AWSLambdaBasicExecutionRole grants.
 */
export function logWriterRole(scope: Construct, id: string, props: LogWriterRoleProps): iam.Role {
  const role = new iam.Role(scope, id, {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    description: props.description,
    managedPolicies: props.managedPolicies,
    roleName: props.roleName,
  });
  props.logGroup.grantWrite(role);
  return role;
}
