import { Stack } from 'aws-cdk-lib';

/**
 * Name of a service stack's composite health alarm. The pipeline's bake gates look the alarm up by
 * this name from another account, so the services and the pipeline must derive it the same way.
 */
export function healthAlarmName(stack: Stack): string {
  return `${stack.stackName}-Health`;
}
