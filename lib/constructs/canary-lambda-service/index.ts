import * as path from 'node:path';
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { bundledHandler, HANDLER_RUNTIME } from '../lambda-code';
import type { AlarmOverrides } from '../../config/schema';
import { AlarmSettings, resolveAlarmSettings } from '../shared/alarm-settings';
import { logWriterRole } from '../shared/log-writer-role';
import { healthAlarmName } from '../shared/health-alarm';

export type { AlarmSettings } from '../shared/alarm-settings';
export { DEFAULT_ALARM_SETTINGS, resolveAlarmSettings, worstCaseDetectionSeconds } from '../shared/alarm-settings';

const LAMBDA_DIR = path.join(__dirname, '..', '..', '..', 'lambda');

/** Properties of a `CanaryLambdaService`. */
export interface CanaryLambdaServiceProps {
  /** How CodeDeploy shifts the alias from the old version to the new one. */
  readonly deploymentConfig: codedeploy.ILambdaDeploymentConfig;
  /**
   * Alarm thresholds and evaluation settings.
   * @default - DEFAULT_ALARM_SETTINGS: error rate > 1%, p99 > 1000 ms, any throttle; 60 s periods, 2 of 3 to alarm
   */
  readonly alarms?: AlarmOverrides;
  /**
   * Name of the alias that callers use and CodeDeploy shifts.
   * @default 'live'
   */
  readonly aliasName?: string;
  /**
   * Handler source file of the service, bundled by esbuild.
   * @default - lambda/service/index.ts of this repository
   */
  readonly entry?: string;
  /**
   * Upper bound for each hook's smoke check; a check still running then reports Failed.
   * @default Duration.seconds(30)
   */
  readonly hookCheckTimeout?: Duration;
}

/**
 * A Lambda HTTP service released by CodeDeploy: each change publishes a retained version, the
 * `live` alias shifts to it by the given deployment config, pre- and post-traffic hooks smoke-test
 * it, and alarms on the new version roll it back automatically.
 */
export class CanaryLambdaService extends Construct {
  /** The service function. */
  readonly function: NodejsFunction;
  /** The alias callers use; CodeDeploy shifts it between versions. */
  readonly alias: lambda.Alias;
  /** The public Function URL on the alias. */
  readonly functionUrl: lambda.FunctionUrl;
  /** The CodeDeploy deployment group that shifts the alias. */
  readonly deploymentGroup: codedeploy.LambdaDeploymentGroup;
  /** Error rate (%) of the version being deployed, as the alias routes to it. */
  readonly errorRateAlarm: cloudwatch.Alarm;
  /** p99 duration of the version being deployed. */
  readonly latencyAlarm: cloudwatch.Alarm;
  /** Throttled invocations of the alias. */
  readonly throttlesAlarm: cloudwatch.Alarm;
  /** Any of the alarms above; named `<stack name>-Health` for the pipeline's gates. */
  readonly compositeAlarm: cloudwatch.CompositeAlarm;
  /** BeforeAllowTraffic hook: smoke-tests the new version. */
  readonly preTrafficHook: NodejsFunction;
  /** AfterAllowTraffic hook: smoke-tests the alias after the shift. */
  readonly postTrafficHook: NodejsFunction;
  /** Traffic by version, errors, latency and alarm states. */
  readonly dashboard: cloudwatch.Dashboard;
  /** The alarm settings in force (defaults plus overrides). */
  readonly alarmSettings: AlarmSettings;

  constructor(scope: Construct, id: string, props: CanaryLambdaServiceProps) {
    super(scope, id);
    const settings = (this.alarmSettings = resolveAlarmSettings(props.alarms, 'CanaryLambdaService'));
    const aliasName = props.aliasName ?? 'live';
    if (!/^(?!^[0-9]+$)[a-zA-Z0-9-_]{1,128}$/.test(aliasName)) {
      throw new Error(`aliasName: ${JSON.stringify(aliasName)} is not a Lambda alias name: use letters, digits, '-' or '_' (not only digits), e.g. "live"`);
    }
    const checkTimeout = props.hookCheckTimeout ?? Duration.seconds(30);
    if (checkTimeout.toSeconds() < 1 || checkTimeout.toSeconds() > 600) {
      throw new Error(`hookCheckTimeout: ${checkTimeout.toSeconds()} s is out of range: use 1 to 600 seconds, e.g. Duration.seconds(30)`);
    }

    this.function = this.nodeFunction('Function', props.entry ?? path.join(LAMBDA_DIR, 'service', 'index.ts'), {
      description: 'safe-deploy demo HTTP service (GET /health, GET /greeting)',
      timeout: Duration.seconds(10),
      // Every change publishes a version that stays after the next one, so rollback has a target.
      currentVersionOptions: { removalPolicy: RemovalPolicy.RETAIN },
    });
    this.alias = new lambda.Alias(this, 'Alias', { aliasName, version: this.function.currentVersion });
    this.functionUrl = this.alias.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.NONE });

    // Metrics of the alias, and of the version being deployed as the alias routes to it. Alarming on
    // ExecutedVersion = the new version isolates its signal: at 10% canary traffic, a new version
    // failing every request would show only 10% errors on the alias as a whole.
    const aliasDims = { FunctionName: this.function.functionName, Resource: `${this.function.functionName}:${aliasName}` };
    const newVersionDims = { ...aliasDims, ExecutedVersion: this.function.currentVersion.version };
    const period = Duration.seconds(settings.periodSeconds);
    const metric = (metricName: string, statistic: string, dimensionsMap: Record<string, string>, label: string) =>
      new cloudwatch.Metric({ namespace: 'AWS/Lambda', metricName, statistic, dimensionsMap, period, label });
    const alarmCommon = {
      evaluationPeriods: settings.evaluationPeriods,
      datapointsToAlarm: settings.datapointsToAlarm,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      // A canary at 10% of low traffic has minutes without requests: no data is not a failure.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    };

    const newVersionErrorRate = new cloudwatch.MathExpression({
      expression: '100 * errors / invocations',
      usingMetrics: {
        errors: metric('Errors', 'Sum', newVersionDims, 'Errors'),
        invocations: metric('Invocations', 'Sum', newVersionDims, 'Invocations'),
      },
      period,
      label: 'New version error rate (%)',
    });
    this.errorRateAlarm = newVersionErrorRate.createAlarm(this, 'ErrorRateAlarm', {
      ...alarmCommon,
      threshold: settings.errorRatePercent,
      alarmDescription: `The version being deployed fails more than ${settings.errorRatePercent}% of its requests through alias ${aliasName} (${settings.datapointsToAlarm} of ${settings.evaluationPeriods} periods of ${settings.periodSeconds} s). Rolls the deployment back.`,
    });
    const newVersionP99 = metric('Duration', 'p99', newVersionDims, 'New version p99 (ms)');
    this.latencyAlarm = newVersionP99.createAlarm(this, 'LatencyAlarm', {
      ...alarmCommon,
      threshold: settings.p99LatencyMs,
      alarmDescription: `The version being deployed has a p99 duration above ${settings.p99LatencyMs} ms through alias ${aliasName}. Rolls the deployment back.`,
    });
    // Throttles are the alias's: Lambda throttles before a version runs, and a slower new version
    // raises the concurrency of the whole alias.
    const aliasThrottles = metric('Throttles', 'Sum', aliasDims, 'Throttles');
    this.throttlesAlarm = aliasThrottles.createAlarm(this, 'ThrottlesAlarm', {
      ...alarmCommon,
      threshold: 0,
      alarmDescription: `Alias ${aliasName} throttles requests. Rolls the deployment back.`,
    });
    const metricAlarms = [this.errorRateAlarm, this.latencyAlarm, this.throttlesAlarm];
    this.compositeAlarm = new cloudwatch.CompositeAlarm(this, 'HealthAlarm', {
      compositeAlarmName: healthAlarmName(Stack.of(this)),
      alarmRule: cloudwatch.AlarmRule.anyOf(...metricAlarms.map((a) => cloudwatch.AlarmRule.fromAlarm(a, cloudwatch.AlarmState.ALARM))),
      alarmDescription: `Health of the Lambda service of ${Stack.of(this).stackName}: in ALARM when any of its error-rate, latency or throttle alarms is.`,
    });
    // Update the alarms to the new version's dimensions before the alias update starts the deployment.
    this.alias.node.addDependency(...metricAlarms);

    this.preTrafficHook = this.hookFunction('PreTrafficHook', 'lambda-pre-traffic-hook', aliasName, checkTimeout);
    this.postTrafficHook = this.hookFunction('PostTrafficHook', 'lambda-post-traffic-hook', aliasName, checkTimeout);

    this.deploymentGroup = new codedeploy.LambdaDeploymentGroup(this, 'DeploymentGroup', {
      alias: this.alias,
      deploymentConfig: props.deploymentConfig,
      // The metric alarms themselves: CodeDeploy documents metric alarms; the composite is for gates.
      alarms: metricAlarms,
      autoRollback: { failedDeployment: true, stoppedDeployment: true, deploymentInAlarm: true },
      preHook: this.preTrafficHook,
      postHook: this.postTrafficHook,
    });
    // addPreHook/addPostHook already scope PutLifecycleEventHookExecutionStatus to this group's ARN;
    // GetDeployment (to read the AppSpec) is scoped the same way.
    for (const hook of [this.preTrafficHook, this.postTrafficHook]) {
      hook.addToRolePolicy(
        new iam.PolicyStatement({ actions: ['codedeploy:GetDeployment'], resources: [this.deploymentGroup.deploymentGroupArn] }),
      );
    }
    this.acknowledgeDeploymentGroupFindings();

    this.dashboard = this.buildDashboard(aliasName, aliasDims, newVersionErrorRate, [...metricAlarms, this.compositeAlarm], period);
  }

  /** A Node 22 ARM function with its own log group and a role that may write only to it (no AWSLambdaBasicExecutionRole). */
  private nodeFunction(id: string, entry: string, extra: Partial<ConstructorParameters<typeof NodejsFunction>[2]>): NodejsFunction {
    const logGroup = new logs.LogGroup(this, `${id}LogGroup`, { retention: logs.RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY });
    const role = logWriterRole(this, `${id}Role`, { logGroup, description: `Execution role of ${this.node.path}/${id}` });
    const fn = new NodejsFunction(this, id, {
      code: bundledHandler(entry),
      handler: 'index.handler',
      runtime: HANDLER_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 256,
      role,
      logGroup,
      ...extra,
    });
    Validations.of(fn).acknowledge({
      id: 'AwsSolutions-L1',
      reason: 'Node.js 22 is the runtime this project standardises on (TOOLCHAIN.md, AWS SDK v3 support); it is a supported, non-deprecated Lambda runtime.',
    });
    return fn;
  }

  private hookFunction(id: string, folder: string, aliasName: string, checkTimeout: Duration): NodejsFunction {
    const hook = this.nodeFunction(id, path.join(LAMBDA_DIR, folder, 'index.ts'), {
      description: `CodeDeploy ${id === 'PreTrafficHook' ? 'BeforeAllowTraffic' : 'AfterAllowTraffic'} hook of ${this.node.path}`,
      // Room after the check for reporting to CodeDeploy, with retries.
      timeout: checkTimeout.plus(Duration.seconds(30)),
      environment: {
        FUNCTION_NAME: this.function.functionName,
        ALIAS_NAME: aliasName,
        CHECK_TIMEOUT_MS: String(checkTimeout.toMilliseconds()),
      },
    });
    // Versions and aliases of the service function only (`<function arn>:<qualifier>`).
    hook.addToRolePolicy(new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [`${this.function.functionArn}:*`] }));
    Validations.of(hook.role!).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(this.function.node.defaultChild as lambda.CfnFunction)}.Arn>:*]`,
      reason: 'The hook invokes the version being deployed (unknown until deployment) and the alias of this one function; the wildcard is the qualifier of that function only.',
    });
    return hook;
  }

  private acknowledgeDeploymentGroupFindings(): void {
    const stack = Stack.of(this);
    Validations.of(this.deploymentGroup).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSCodeDeployRoleForLambdaLimited]',
      reason:
        "AWS's limited policy for CodeDeploy's Lambda service role: Get/UpdateAlias, GetProvisionedConcurrencyConfig and DescribeAlarms (on any resource: " +
        'the policy does not scope them), S3 reads only under */CodeDeploy/* or of UseWithCodeDeploy-tagged objects, invoke only of CodeDeployHook_* functions; ' +
        'no SNS. The role is assumable by CodeDeploy only; our hooks are granted separately.',
    });
    for (const hook of [this.preTrafficHook, this.postTrafficHook]) {
      const hookId = stack.getLogicalId(hook.node.defaultChild as lambda.CfnFunction);
      Validations.of(this.deploymentGroup).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${hookId}.Arn>:*]`,
        reason: "LambdaDeploymentGroup grants CodeDeploy's role invoke on its hook function and that function's qualifiers; the wildcard covers one hook function only.",
      });
    }
  }

  private buildDashboard(
    aliasName: string,
    aliasDims: Record<string, string>,
    newVersionErrorRate: cloudwatch.MathExpression,
    alarms: cloudwatch.IAlarm[],
    period: Duration,
  ): cloudwatch.Dashboard {
    const fnName = this.function.functionName;
    const byVersion = (metricName: string, label: string) =>
      new cloudwatch.MathExpression({
        expression: `SEARCH('{AWS/Lambda,FunctionName,Resource,ExecutedVersion} MetricName="${metricName}" FunctionName="${fnName}" Resource="${fnName}:${aliasName}"', 'Sum', ${period.toSeconds()})`,
        label,
        period,
      });
    const aliasMetric = (metricName: string, statistic: string, label: string) =>
      new cloudwatch.Metric({ namespace: 'AWS/Lambda', metricName, statistic, dimensionsMap: aliasDims, period, label });
    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard', { defaultInterval: Duration.hours(3) });
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({ title: `Invocations by version (alias ${aliasName})`, left: [byVersion('Invocations', '')], width: 12, stacked: true }),
      new cloudwatch.GraphWidget({
        title: 'Errors by version, and the new version error rate (%)',
        left: [byVersion('Errors', '')],
        right: [newVersionErrorRate],
        width: 12,
      }),
    );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: `Duration percentiles (alias ${aliasName}, ms)`,
        left: ['p50', 'p90', 'p99'].map((p) => aliasMetric('Duration', p, p)),
        leftAnnotations: [{ value: this.alarmSettings.p99LatencyMs, label: 'p99 alarm threshold' }],
        width: 12,
      }),
      new cloudwatch.GraphWidget({ title: `Throttles (alias ${aliasName})`, left: [aliasMetric('Throttles', 'Sum', 'Throttles')], width: 12 }),
    );
    dashboard.addWidgets(new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms, width: 24 }));
    return dashboard;
  }
}
