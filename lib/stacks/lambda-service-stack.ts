import * as cdk from 'aws-cdk-lib';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import { Construct } from 'constructs';
import type { TrafficShift } from '../config/schema';
import type { CanaryServiceStackProps } from './canary-service-stack-props';
import { CanaryLambdaService } from '../constructs/canary-lambda-service';
import { worstCaseDetectionSeconds } from '../constructs/shared/alarm-settings';
import { trafficRoutingFor, warnIfCanaryOutrunsAlarms } from '../constructs/shared/traffic-shift';

/** Properties of a LambdaServiceStack: `deployment` shifts the live alias. */
export type LambdaServiceStackProps = CanaryServiceStackProps;

/** The Lambda service of one stage/wave/region: the canary-released function and its Function URL. */
export class LambdaServiceStack extends cdk.Stack {
  readonly service: CanaryLambdaService;
  /** The live alias's Function URL (post-deployment tests use it). */
  readonly serviceUrl: cdk.CfnOutput;

  constructor(scope: Construct, id: string, props: LambdaServiceStackProps) {
    super(scope, id, props);
    this.service = new CanaryLambdaService(this, 'Service', {
      deploymentConfig: toLambdaDeploymentConfig(this, props.deployment),
      alarms: props.alarms,
    });
    this.serviceUrl = new cdk.CfnOutput(this, 'ServiceUrl', {
      value: this.service.functionUrl.url,
      description: 'Function URL of the live alias',
    });
    warnIfCanaryOutrunsAlarms(this, props.deployment, worstCaseDetectionSeconds(this.service.alarmSettings));
  }
}

/**
 * The CodeDeploy config for a stage's traffic shift: the predefined all-at-once config, or a
 * custom time-based canary/linear config (created in `scope` as `DeploymentConfig`).
 */
export function toLambdaDeploymentConfig(scope: Construct, shift: TrafficShift): codedeploy.ILambdaDeploymentConfig {
  const trafficRouting = trafficRoutingFor(shift);
  return trafficRouting
    ? new codedeploy.LambdaDeploymentConfig(scope, 'DeploymentConfig', { trafficRouting })
    : codedeploy.LambdaDeploymentConfig.ALL_AT_ONCE;
}
