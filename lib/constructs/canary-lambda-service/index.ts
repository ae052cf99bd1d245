import { Duration, Lazy, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { CANARY_METRICS } from '../../canary-metrics';
import type { AlarmOverrides } from '../../config/schema';
import type { HttpCheck, InvokeCheck } from '../../config/service-schema';
import { acknowledgeRule } from '../../policy/acknowledgements';
import type { CanaryJudge } from '../canary-judge';
import { acknowledgeNodeRuntime, HandlerFunction } from '../handler-function';
import { bundledHandler, HANDLER_RUNTIME } from '../lambda-code';
import { acknowledgeFindings } from '../shared/acknowledge';
import { AlarmSettings, resolveAlarmSettings } from '../shared/alarm-settings';
import { CanaryService } from '../shared/canary-service';
import { logWriterRole } from '../shared/log-writer-role';
import { anyAlarm } from '../shared/service-alarms';
import { validateDeploymentGroupAlarmCount } from '../shared/service-checks';
import type { ServiceJudgeProps } from '../shared/service-judge';
import { lambdaServiceAlarms } from './alarms';
import { lambdaServiceDashboard } from './dashboard';
import { lambdaServiceHooks } from './hooks';
import { validate } from './validate';

export { anyAlarm, hookErrorsAlarm } from '../shared/service-alarms';
export { judgeProblems, type ServiceJudgeProps } from '../shared/service-judge';
export type { AlarmSettings } from '../shared/alarm-settings';
export { DEFAULT_ALARM_SETTINGS, resolveAlarmSettings, worstCaseDetectionSeconds } from '../shared/alarm-settings';

/** Properties of a `CanaryLambdaService`. */
export interface CanaryLambdaServiceProps {
  /** The handler's source file (.ts or .js), bundled by esbuild at synth. */
  readonly entry: string;
  /** The exported handler function. @default 'handler' */
  readonly handler?: string;
  /** How CodeDeploy shifts the alias from the old version to the new one. */
  readonly deploymentConfig: codedeploy.ILambdaDeploymentConfig;
  /**
   * A Function URL on the alias, with this auth type. A public URL (`NONE`) needs
   * `reservedConcurrentExecutions`, so that a flood cannot take the account's concurrency.
   * @default - no Function URL
   */
  readonly functionUrlAuthType?: lambda.FunctionUrlAuthType;
  /**
   * GET request the pre- and post-traffic hooks send to the new version, as a Function URL event.
   * @default - no HTTP check
   */
  readonly healthCheck?: HttpCheck;
  /**
   * Invocation the hooks make of the new version, for functions that answer no HTTP.
   * @default - no invoke check: the version is judged by its alarms only
   */
  readonly invokeCheck?: InvokeCheck;
  /** @default 256 */
  readonly memorySize?: number;
  /** @default Duration.seconds(10) */
  readonly timeout?: Duration;
  /** Environment variables (no secrets). @default - none */
  readonly environment?: Record<string, string>;
  /** Concurrency reserved for, and capping, the function. @default - unreserved */
  readonly reservedConcurrentExecutions?: number;
  /** @default lambda.Architecture.ARM_64 */
  readonly architecture?: lambda.Architecture;
  /** @default - names the entry */
  readonly description?: string;
  /**
   * Alarm thresholds and evaluation settings of the fixed-threshold alarms (error rate and p99 of
   * the new version when there is no judge; the Function URL's 5xx rate).
   * @default - DEFAULT_ALARM_SETTINGS: error rate > 1%, p99 > 1000 ms, any throttle; 60 s periods, 2 of 3 to alarm
   */
  readonly alarms?: AlarmOverrides;
  /**
   * Judge a canary against the version it replaces (CanaryJudge) instead of fixed thresholds: give
   * the canary step's percentage. Only for canary deployment configs, where both versions serve
   * side by side at a known share.
   * @default - fixed thresholds on the new version alone
   */
  readonly judge?: ServiceJudgeProps;
  /**
   * The service publishes its own per-request metrics (lib/canary-metrics) under this `Service`
   * dimension value, which it receives as SAFE_DEPLOY_METRICS_SERVICE; a canary judge then adds its
   * HighResErrorJudge. @default - the service publishes none
   */
  readonly highResolutionMetricsService?: string;
  /**
   * Name of the alias that callers use and CodeDeploy shifts.
   * @default 'live'
   */
  readonly aliasName?: string;
  /**
   * Name of the composite health alarm (the pipeline's bake gates look it up by name).
   * @default `<stack name>-<construct id>-Health`
   */
  readonly healthAlarmName?: string;
  /**
   * Upper bound for each hook's check; a check still running then reports Failed.
   * @default Duration.seconds(30)
   */
  readonly hookCheckTimeout?: Duration;
}

/**
 * A Lambda service released by CodeDeploy: each change publishes a retained version, the alias
 * shifts to it by the given deployment config, pre- and post-traffic hooks run the service's own
 * check on it, and alarms on the new version roll it back automatically. Several can share a stack.
 */
export class CanaryLambdaService extends CanaryService {
  /** The service function. */
  readonly function: NodejsFunction;
  /** The alias callers use; CodeDeploy shifts it between versions. */
  readonly alias: lambda.Alias;
  /** The Function URL on the alias, when one was asked for. */
  readonly functionUrl?: lambda.FunctionUrl;
  /** The CodeDeploy deployment group that shifts the alias. */
  readonly deploymentGroup: codedeploy.LambdaDeploymentGroup;
  /** The canary judge, when the service is judged against its baseline. */
  readonly judge?: CanaryJudge;
  /** Error rate (%) of the version being deployed (without a judge). */
  readonly errorRateAlarm?: cloudwatch.Alarm;
  /** p99 duration of the version being deployed (without a judge). */
  readonly latencyAlarm?: cloudwatch.Alarm;
  /** Throttled invocations of the alias. */
  readonly throttlesAlarm: cloudwatch.Alarm;
  /** 5xx answers of the Function URL (both versions: URL metrics have no version), when there is a URL. */
  readonly urlErrorsAlarm?: cloudwatch.Alarm;
  /** Errors of the pre- and post-traffic hooks: a hook that cannot report would stall the deployment for an hour. */
  readonly hookErrorsAlarm: cloudwatch.Alarm;
  /** Any of the service's alarms (also those added with `addAlarm`). */
  readonly compositeAlarm: cloudwatch.CompositeAlarm;
  /** The composite alarm's name, known at synth. */
  readonly healthAlarmName: string;
  /** BeforeAllowTraffic hook: checks the new version before it gets traffic. */
  readonly preTrafficHook: HandlerFunction;
  /**
   * AfterAllowTraffic hook: checks the alias after the shift and, for a judged canary, that the
   * step served the judge's `minRequests` (docs/canary-judge.md, "Too little traffic").
   */
  readonly postTrafficHook: HandlerFunction;
  /** Traffic by version, errors, latency and alarm states. */
  readonly dashboard: cloudwatch.Dashboard;
  /** The alarm settings in force (defaults plus overrides). */
  readonly alarmSettings: AlarmSettings;

  constructor(scope: Construct, id: string, props: CanaryLambdaServiceProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const settings = (this.alarmSettings = resolveAlarmSettings(props.alarms, 'CanaryLambdaService'));
    const aliasName = props.aliasName ?? 'live';
    validate(props, aliasName);
    const checkTimeout = props.hookCheckTimeout ?? Duration.seconds(30);

    const logGroup = new logs.LogGroup(this, 'FunctionLogGroup', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.function = new NodejsFunction(this, 'Function', {
      code: bundledHandler(props.entry),
      handler: `index.${props.handler ?? 'handler'}`,
      runtime: HANDLER_RUNTIME,
      architecture: props.architecture ?? lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 256,
      timeout: props.timeout ?? Duration.seconds(10),
      environment: {
        ...props.environment,
        ...(props.highResolutionMetricsService ? { [CANARY_METRICS.serviceEnv]: props.highResolutionMetricsService } : {}),
      },
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      description: props.description ?? `${this.node.path} (canary-released by CodeDeploy)`,
      role: logWriterRole(this, 'FunctionRole', { logGroup, description: `Execution role of ${this.node.path}/Function` }),
      logGroup,
      // Every change publishes a version that stays after the next one, so rollback has a target.
      currentVersionOptions: { removalPolicy: RemovalPolicy.RETAIN },
    });
    acknowledgeNodeRuntime(this.function);
    this.alias = new lambda.Alias(this, 'Alias', { aliasName, version: this.function.currentVersion });
    if (props.functionUrlAuthType) this.functionUrl = this.alias.addFunctionUrl({ authType: props.functionUrlAuthType });
    this.acknowledgeServiceFunction(props);

    const alarms = lambdaServiceAlarms(this, {
      fn: this.function,
      aliasName,
      hasFunctionUrl: this.functionUrl !== undefined,
      settings,
      judge: props.judge,
      highResolutionMetricsService: props.highResolutionMetricsService,
      healthAlarmName: props.healthAlarmName,
    });
    this.judge = alarms.judge;
    this.errorRateAlarm = alarms.errorRateAlarm;
    this.latencyAlarm = alarms.latencyAlarm;
    this.throttlesAlarm = alarms.throttlesAlarm;
    this.urlErrorsAlarm = alarms.urlErrorsAlarm;
    const metricAlarms = [
      ...(this.judge ? this.judge.alarms : [this.errorRateAlarm!, this.latencyAlarm!]),
      this.throttlesAlarm,
      ...(this.urlErrorsAlarm ? [this.urlErrorsAlarm] : []),
    ];
    // The health the pipeline's gates judge after the shift: what stays meaningful without a baseline.
    this.healthAlarms.push(
      ...(this.judge ? [this.judge.catastropheAlarm] : [this.errorRateAlarm!, this.latencyAlarm!]),
      this.throttlesAlarm,
      ...(this.urlErrorsAlarm ? [this.urlErrorsAlarm] : []),
    );
    this.healthAlarmName = props.healthAlarmName ?? `${stack.stackName}-${id}-Health`;
    this.compositeAlarm = new cloudwatch.CompositeAlarm(this, 'HealthAlarm', {
      compositeAlarmName: this.healthAlarmName,
      alarmRule: { renderAlarmRule: () => Lazy.string({ produce: () => anyAlarm(this.healthAlarms) }) },
      alarmDescription: `Health of the Lambda service ${this.node.path}: in ALARM when any of its absolute alarms is (catastrophe or error rate, throttles, URL 5xx, hook errors).`,
    });
    // Update the alarms to the new version's dimensions before the alias update starts the deployment.
    this.alias.node.addDependency(...metricAlarms);

    // A judged canary's step must have served the judge's minRequests: the post-traffic hook counts them.
    const trafficCheck = this.judge ? { minRequests: this.judge.minRequests, stepMinutes: props.judge!.canaryStep.toMinutes() } : undefined;
    const hooks = lambdaServiceHooks(this, {
      fn: this.function,
      aliasName,
      checkTimeout,
      healthCheck: props.healthCheck,
      invokeCheck: props.invokeCheck,
      trafficCheck,
      period: alarms.period,
    });
    this.preTrafficHook = hooks.preTrafficHook;
    this.postTrafficHook = hooks.postTrafficHook;
    this.hookErrorsAlarm = hooks.errorsAlarm;
    metricAlarms.push(this.hookErrorsAlarm);
    this.healthAlarms.push(this.hookErrorsAlarm);
    this.rollbackAlarms.push(...metricAlarms);

    this.deploymentGroup = new codedeploy.LambdaDeploymentGroup(this, 'DeploymentGroup', {
      alias: this.alias,
      deploymentConfig: props.deploymentConfig,
      // The metric alarms themselves: CodeDeploy documents metric alarms; the composite is for gates.
      alarms: [...metricAlarms],
      autoRollback: { failedDeployment: true, stoppedDeployment: true, deploymentInAlarm: true },
      preHook: this.preTrafficHook,
      postHook: this.postTrafficHook,
    });
    // addPreHook/addPostHook already scope PutLifecycleEventHookExecutionStatus to this group's ARN;
    // GetDeployment (to read the AppSpec) is scoped the same way, and so is the group's history that
    // the traffic check reads (which earlier version served).
    for (const hook of [this.preTrafficHook, this.postTrafficHook]) {
      const history = hook === this.postTrafficHook && trafficCheck ? ['codedeploy:ListDeployments', 'codedeploy:BatchGetDeployments'] : [];
      hook.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['codedeploy:GetDeployment', ...history],
          resources: [this.deploymentGroup.deploymentGroupArn],
        }),
      );
    }
    this.acknowledgeDeploymentGroupFindings();
    validateDeploymentGroupAlarmCount(this, this.rollbackAlarms);

    this.dashboard = lambdaServiceDashboard(this, {
      fn: this.function,
      aliasName,
      aliasDims: alarms.aliasDims,
      newVersionErrorRate: alarms.newVersionErrorRate,
      period: alarms.period,
      p99LatencyMs: settings.p99LatencyMs,
      alarms: [this.compositeAlarm, ...this.rollbackAlarms],
    });
  }

  /** What the serverless packs report on the team's own function, and why it is accepted. */
  private acknowledgeServiceFunction(props: CanaryLambdaServiceProps): void {
    acknowledgeRule(
      this.function,
      'lambdaDlq',
      "The service's function answers synchronous requests (its URL, direct invokes, the hooks' checks), whose callers see the error. " +
        'A service invoked asynchronously adds its own on-failure destination in safe-deploy.extensions.ts.',
    );
    acknowledgeRule(
      this.function,
      'lambdaInVpc',
      'The service needs no private network by default; a service that reaches VPC resources attaches the VPC in safe-deploy.extensions.ts.',
    );
    if (props.reservedConcurrentExecutions === undefined) {
      acknowledgeRule(
        this.function,
        'lambdaConcurrency',
        'Without a public URL no anonymous caller can flood the function, and reserving concurrency would take it from the account pool; set reservedConcurrency in the config to cap it.',
      );
    }
    if (props.functionUrlAuthType === lambda.FunctionUrlAuthType.NONE) {
      acknowledgeRule(
        this.alias,
        'lambdaPublic',
        `The config asks for a public Function URL ("url": "public"): the service is a public HTTP API. Its concurrency is capped at ${props.reservedConcurrentExecutions} ` +
          '(reservedConcurrency), so a flood is throttled there and cannot exhaust the account or stall the deployment hooks; use "url": "iam" for callers that sign requests.',
      );
    }
  }

  private acknowledgeDeploymentGroupFindings(): void {
    const stack = Stack.of(this);
    const reasons: Record<string, string> = {
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSCodeDeployRoleForLambdaLimited]':
        "AWS's limited policy for CodeDeploy's Lambda service role: Get/UpdateAlias, GetProvisionedConcurrencyConfig and DescribeAlarms (on any resource: " +
        'the policy does not scope them), S3 reads only under */CodeDeploy/* or of UseWithCodeDeploy-tagged objects, invoke only of CodeDeployHook_* functions; ' +
        'no SNS. The role is assumable by CodeDeploy only; our hooks are granted separately.',
    };
    for (const hook of [this.preTrafficHook, this.postTrafficHook]) {
      const hookId = stack.getLogicalId(hook.node.defaultChild as lambda.CfnFunction);
      reasons[`AwsSolutions-IAM5[Resource::<${hookId}.Arn>:*]`] =
        "LambdaDeploymentGroup grants CodeDeploy's role invoke on its hook function and that function's qualifiers; the wildcard covers one hook function only.";
    }
    acknowledgeFindings(this.deploymentGroup, reasons);
  }
}
