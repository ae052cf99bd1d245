import { Token } from 'aws-cdk-lib';
import { fieldProblem } from '../shared/limits';
import { judgeProblems } from '../shared/service-judge';
import type { CanaryEcsServiceProps } from './canary-ecs-service';
import {
  blueTerminationWaitMinutesField,
  certificateArnField,
  containerUserField,
  desiredCountField,
  MAX_TEST_TRAFFIC_PROBES,
  portField,
  testTrafficProbesMessage,
} from './limits';

/** Refuses a CanaryEcsService's props with every problem at once, each naming the prop, its value and the fix. */
export function validate(props: CanaryEcsServiceProps, testPort: number, prodPort: number): void {
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
