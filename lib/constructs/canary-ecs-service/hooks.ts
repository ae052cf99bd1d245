import type { Duration } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import type { HttpCheck } from '../../config/service-schema';
import { hookErrorsAlarm } from '../shared/service-alarms';
import { TestTrafficHook } from './test-traffic-hook';
import { TrafficCheckHook } from './traffic-check-hook';

/** What the hooks of a CanaryEcsService call and report to. */
export interface ServiceHooksOptions {
  readonly vpc: ec2.IVpc;
  /** http://<alb dns>:<test port>: where the test-traffic hook sends its probes. */
  readonly testUrl: string;
  readonly testListenerPort: number;
  /** The probes: the service's testTraffic, else its health check. */
  readonly probes: readonly HttpCheck[];
  /** A judged canary's step and the judge's minimum: adds the AfterAllowTraffic check. @default - no traffic check */
  readonly trafficCheck?: { readonly minRequests: number; readonly canaryStep: Duration };
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  readonly targetGroups: [elbv2.ApplicationTargetGroup, elbv2.ApplicationTargetGroup];
  readonly service: ecs.FargateService;
  readonly deploymentGroupArn: string;
  /** CodeDeploy's role, which invokes the hooks. */
  readonly codeDeployRole: iam.IRole;
  /** Period of the hook-errors alarm (the service's alarm period). */
  readonly alarmPeriod: Duration;
}

/**
 * The CodeDeploy hooks of a CanaryEcsService: AfterAllowTestTraffic probes the green task set
 * through the test listener; with a judge, AfterAllowTraffic refuses a step that served too little
 * to judge. One alarm on their errors rolls the deployment back at once. Built into `scope` under its ids.
 */
export function serviceHooks(
  scope: Construct,
  o: ServiceHooksOptions,
): { testTrafficHook: TestTrafficHook; trafficCheckHook?: TrafficCheckHook; errorsAlarm: cloudwatch.Alarm } {
  const testTrafficHook = new TestTrafficHook(scope, 'TestTrafficHook', {
    vpc: o.vpc,
    testUrl: o.testUrl,
    testListenerPort: o.testListenerPort,
    probes: o.probes,
    deploymentGroupArn: o.deploymentGroupArn,
    codeDeployRole: o.codeDeployRole,
  });
  const trafficCheckHook =
    o.trafficCheck &&
    new TrafficCheckHook(scope, 'TrafficCheckHook', {
      minRequests: o.trafficCheck.minRequests,
      canaryStep: o.trafficCheck.canaryStep,
      loadBalancer: o.loadBalancer,
      targetGroups: o.targetGroups,
      service: o.service,
      deploymentGroupArn: o.deploymentGroupArn,
      codeDeployRole: o.codeDeployRole,
    });
  const hookNames = [testTrafficHook, ...(trafficCheckHook ? [trafficCheckHook] : [])].map((h) => h.function.fixedName!);
  const errorsAlarm = hookErrorsAlarm(scope, 'HookErrorsAlarm', hookNames, o.alarmPeriod);
  return { testTrafficHook, trafficCheckHook, errorsAlarm };
}
