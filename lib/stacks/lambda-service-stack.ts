import * as cdk from 'aws-cdk-lib';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import type { TrafficShift } from '../config/schema';
import type { StageLambdaService } from '../config/stage-services';
import { CanaryLambdaService } from '../constructs/canary-lambda-service';
import type { ServiceFeatureFlags } from '../constructs/feature-flags';
import { worstCaseDetectionSeconds } from '../constructs/shared/alarm-settings';
import { healthAlarmName } from '../constructs/shared/health-alarm';
import { judgeFor } from '../constructs/shared/judge-for';
import { trafficRoutingFor, warnIfCanaryOutrunsAlarms } from '../constructs/shared/traffic-shift';
import { addServiceFlags } from './service-flags';

/** Properties of a LambdaServiceStack. */
export interface LambdaServiceStackProps extends cdk.StackProps {
  /** The service as its stage deploys it (config `services[]` with the stage's settings). */
  readonly service: StageLambdaService;
}

const URL_AUTH: Record<StageLambdaService['url'], lambda.FunctionUrlAuthType | undefined> = {
  none: undefined,
  iam: lambda.FunctionUrlAuthType.AWS_IAM,
  public: lambda.FunctionUrlAuthType.NONE,
};

/** One Lambda service of one deployment target: the canary-released function, its hooks and alarms. */
export class LambdaServiceStack extends cdk.Stack {
  readonly service: CanaryLambdaService;
  /** The Function URL of the live alias, when the service has one (post-deployment tests use it). */
  readonly serviceUrl?: cdk.CfnOutput;
  /** The configured service. */
  readonly config: StageLambdaService;
  /** The service's feature flags (AppConfig), when it declares any. */
  readonly flags?: ServiceFeatureFlags;

  constructor(scope: Construct, id: string, props: LambdaServiceStackProps) {
    super(scope, id, props);
    const svc = (this.config = props.service);
    this.service = new CanaryLambdaService(this, 'Service', {
      entry: svc.entry,
      handler: svc.handler,
      deploymentConfig: toLambdaDeploymentConfig(this, svc.deployment),
      functionUrlAuthType: URL_AUTH[svc.url],
      healthCheck: svc.healthCheck,
      invokeCheck: svc.invokeCheck,
      memorySize: svc.memoryMiB,
      timeout: cdk.Duration.seconds(svc.timeoutSeconds),
      environment: svc.environment,
      reservedConcurrentExecutions: svc.reservedConcurrency,
      architecture: svc.architecture === 'x86_64' ? lambda.Architecture.X86_64 : lambda.Architecture.ARM_64,
      description: `${svc.name} (safe-deploy Lambda service, ${this.stackName})`,
      alarms: svc.alarms,
      judge: judgeFor(svc),
      highResolutionMetricsService: svc.highResolutionMetrics ? this.stackName : undefined,
      healthAlarmName: healthAlarmName(this),
    });
    // Flags: the extension layer, names and read access; a flag change touches no function version.
    this.flags = addServiceFlags(this, svc, this.service.compositeAlarm, worstCaseDetectionSeconds(this.service.alarmSettings));
    this.flags?.bindToFunction(this.service.function);
    if (this.service.functionUrl) {
      this.serviceUrl = new cdk.CfnOutput(this, 'ServiceUrl', {
        value: this.service.functionUrl.url,
        description: `Function URL of ${svc.name} (live alias)`,
      });
    }
    new cdk.CfnOutput(this, 'HealthAlarmName', { value: this.service.healthAlarmName });
    // A judged canary gets the judge's own check of its step (CanaryJudge, expected traffic).
    if (!this.service.judge) warnIfCanaryOutrunsAlarms(this, svc.deployment, worstCaseDetectionSeconds(this.service.alarmSettings));
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
