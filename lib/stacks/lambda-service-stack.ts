import * as cdk from 'aws-cdk-lib';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import { Construct } from 'constructs';
import type { AlarmOverrides, TrafficShift } from '../config/schema';
import { CanaryLambdaService, worstCaseDetectionSeconds } from '../constructs/canary-lambda-service';

export interface LambdaServiceStackProps extends cdk.StackProps {
  /** Traffic shift for the live alias, from the stage's config. */
  readonly deployment: TrafficShift;
  /** Alarm threshold overrides. @default - the construct's defaults */
  readonly alarms?: AlarmOverrides;
}

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
  switch (shift.type) {
    case 'all-at-once':
      return codedeploy.LambdaDeploymentConfig.ALL_AT_ONCE;
    case 'canary':
      return new codedeploy.LambdaDeploymentConfig(scope, 'DeploymentConfig', {
        trafficRouting: new codedeploy.TimeBasedCanaryTrafficRouting({ percentage: shift.percent, interval: cdk.Duration.minutes(shift.intervalMinutes) }),
      });
    case 'linear':
      return new codedeploy.LambdaDeploymentConfig(scope, 'DeploymentConfig', {
        trafficRouting: new codedeploy.TimeBasedLinearTrafficRouting({ percentage: shift.percent, interval: cdk.Duration.minutes(shift.intervalMinutes) }),
      });
  }
}

/**
 * CodeDeploy watches alarms only while the deployment runs. A canary step shorter than the alarms'
 * worst-case detection time lets a bad version reach 100% before they can fire: warn at synth.
 */
function warnIfCanaryOutrunsAlarms(scope: Construct, shift: TrafficShift, detectionSeconds: number): void {
  if (shift.type === 'all-at-once') return;
  if (shift.intervalMinutes * 60 < detectionSeconds) {
    cdk.Annotations.of(scope).addWarningV2(
      'safe-deploy:canary-shorter-than-alarms',
      `deployment.intervalMinutes ${shift.intervalMinutes} is shorter than the alarms' worst-case detection time (${detectionSeconds} s): a bad version may take all traffic before its alarm fires. Use intervalMinutes >= ${Math.ceil(detectionSeconds / 60)} or faster alarms.`,
    );
  }
}
