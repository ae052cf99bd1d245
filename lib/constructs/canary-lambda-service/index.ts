import { Duration, Lazy, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { CANARY_TRAFFIC_CHECK_ENV, canaryTrafficCheckValue, TRAFFIC_CHECK_BUDGET_MS } from '../../runtime/canary-traffic-settings';
import type { AlarmOverrides } from '../../config/schema';
import type { HttpCheck, InvokeCheck } from '../../config/service-schema';
import { CanaryJudge, ExpectedTraffic, JudgeSettingsInput, JudgeTraffic } from '../canary-judge';
import { HandlerFunction, acknowledgeNodeRuntime, stackScopedFunctionName } from '../handler-function';
import { bundledHandler, HANDLER_RUNTIME } from '../lambda-code';
import { acknowledgeRule } from '../../policy/acknowledgements';
import { acknowledgeFindings } from '../shared/acknowledge';
import { AlarmSettings, resolveAlarmSettings } from '../shared/alarm-settings';
import { serviceCheckEnvironment, validateDeploymentGroupAlarmCount } from '../shared/service-checks';
import { logWriterRole } from '../shared/log-writer-role';

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
export class CanaryLambdaService extends Construct {
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
  private readonly rollbackAlarms: cloudwatch.IAlarm[] = [];
  private readonly healthAlarms: cloudwatch.IAlarm[] = [];

  constructor(scope: Construct, id: string, props: CanaryLambdaServiceProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const settings = (this.alarmSettings = resolveAlarmSettings(props.alarms, 'CanaryLambdaService'));
    const aliasName = props.aliasName ?? 'live';
    validate(props, aliasName);
    const checkTimeout = props.hookCheckTimeout ?? Duration.seconds(30);

    const logGroup = new logs.LogGroup(this, 'FunctionLogGroup', { retention: logs.RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY });
    this.function = new NodejsFunction(this, 'Function', {
      code: bundledHandler(props.entry),
      handler: `index.${props.handler ?? 'handler'}`,
      runtime: HANDLER_RUNTIME,
      architecture: props.architecture ?? lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 256,
      timeout: props.timeout ?? Duration.seconds(10),
      environment: props.environment,
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
    if (props.judge) {
      this.judge = new CanaryJudge(this, 'Judge', {
        traffic: JudgeTraffic.lambdaAlias({ function: this.function, aliasName, version: this.function.currentVersion }),
        canaryPercent: props.judge.canaryPercent,
        settings: props.judge.settings,
        expectedTraffic: props.judge.expectedTraffic,
        alarmNamePrefix: props.healthAlarmName?.replace(/-Health$/, ''),
      });
    } else {
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
    }
    // Throttles are the alias's: Lambda throttles before a version runs, and a slower new version
    // raises the concurrency of the whole alias.
    const aliasThrottles = metric('Throttles', 'Sum', aliasDims, 'Throttles');
    this.throttlesAlarm = aliasThrottles.createAlarm(this, 'ThrottlesAlarm', {
      ...alarmCommon,
      threshold: 0,
      alarmDescription: `Alias ${aliasName} throttles requests. Rolls the deployment back.`,
    });
    if (this.functionUrl) {
      // Errors counts only invocations that threw; a handler answering statusCode 500 is a success to
      // it. The URL's own 5xx count sees what users see, for both versions (no per-version dimension).
      this.urlErrorsAlarm = new cloudwatch.MathExpression({
        expression: `IF(requests >= ${URL_MIN_REQUESTS}, 100 * FILL(errors, 0) / requests, 0)`,
        usingMetrics: { errors: metric('Url5xxCount', 'Sum', aliasDims, 'URL 5xx'), requests: metric('UrlRequestCount', 'Sum', aliasDims, 'URL requests') },
        period,
        label: 'Function URL 5xx rate (%)',
      }).createAlarm(this, 'UrlErrorsAlarm', {
        ...alarmCommon,
        threshold: settings.errorRatePercent,
        alarmDescription: `More than ${settings.errorRatePercent}% of the requests to the Function URL of alias ${aliasName} get a 5xx (either version; at least ${URL_MIN_REQUESTS} requests a period). Rolls the deployment back.`,
      });
    }
    const metricAlarms = [...(this.judge ? this.judge.alarms : [this.errorRateAlarm!, this.latencyAlarm!]), this.throttlesAlarm, ...(this.urlErrorsAlarm ? [this.urlErrorsAlarm] : [])];
    // The health the pipeline's gates judge after the shift: what stays meaningful without a baseline.
    this.healthAlarms.push(...(this.judge ? [this.judge.catastropheAlarm] : [this.errorRateAlarm!, this.latencyAlarm!]), this.throttlesAlarm, ...(this.urlErrorsAlarm ? [this.urlErrorsAlarm] : []));
    this.healthAlarmName = props.healthAlarmName ?? `${stack.stackName}-${id}-Health`;
    this.compositeAlarm = new cloudwatch.CompositeAlarm(this, 'HealthAlarm', {
      compositeAlarmName: this.healthAlarmName,
      alarmRule: { renderAlarmRule: () => Lazy.string({ produce: () => anyAlarm(this.healthAlarms) }) },
      alarmDescription: `Health of the Lambda service ${this.node.path}: in ALARM when any of its absolute alarms is (catastrophe or error rate, throttles, URL 5xx, hook errors).`,
    });
    // Update the alarms to the new version's dimensions before the alias update starts the deployment.
    this.alias.node.addDependency(...metricAlarms);

    const hookEnvironment = {
      FUNCTION_NAME: this.function.functionName,
      ALIAS_NAME: aliasName,
      CHECK_TIMEOUT_MS: String(checkTimeout.toMilliseconds()),
      ...serviceCheckEnvironment(props.healthCheck, props.invokeCheck),
    };
    this.preTrafficHook = this.hookFunction('PreTrafficHook', 'lambda-pre-traffic-hook/index.ts', 'BeforeAllowTraffic', hookEnvironment, checkTimeout);
    // A judged canary's step must have served the judge's minRequests: the post-traffic hook counts
    // them, and may wait for the step's last minute to be published.
    const trafficCheck = this.judge ? { minRequests: this.judge.minRequests, stepMinutes: props.judge!.canaryStep.toMinutes() } : undefined;
    this.postTrafficHook = this.hookFunction(
      'PostTrafficHook',
      'lambda-post-traffic-hook/index.ts',
      'AfterAllowTraffic',
      trafficCheck ? { ...hookEnvironment, [CANARY_TRAFFIC_CHECK_ENV]: canaryTrafficCheckValue(trafficCheck) } : hookEnvironment,
      trafficCheck ? checkTimeout.plus(Duration.millis(TRAFFIC_CHECK_BUDGET_MS)) : checkTimeout,
    );
    if (trafficCheck) {
      this.postTrafficHook.addToRolePolicy(new iam.PolicyStatement({ actions: ['cloudwatch:GetMetricData'], resources: ['*'] }));
      // A return to code that served before is not held: the hook compares the target with the
      // function's earlier versions (the unqualified function ARN: Service Authorization Reference).
      this.postTrafficHook.addToRolePolicy(new iam.PolicyStatement({ actions: ['lambda:ListVersionsByFunction'], resources: [this.function.functionArn] }));
      acknowledgeFindings(this.postTrafficHook.executionRole, {
        'AwsSolutions-IAM5[Resource::*]':
          "cloudwatch:GetMetricData has no resource-level permissions (IAM service authorization reference for Amazon CloudWatch); the hook reads the canary version's Invocations only.",
      });
    }
    this.hookErrorsAlarm = hookErrorsAlarm(this, 'HookErrorsAlarm', [this.preTrafficHook, this.postTrafficHook].map((h) => h.fixedName!), period);
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
      hook.addToRolePolicy(new iam.PolicyStatement({ actions: ['codedeploy:GetDeployment', ...history], resources: [this.deploymentGroup.deploymentGroupArn] }));
    }
    this.acknowledgeDeploymentGroupFindings();
    validateDeploymentGroupAlarmCount(this, this.rollbackAlarms);

    this.dashboard = this.buildDashboard(aliasName, aliasDims, newVersionErrorRate, period);
  }

  /** Adds an alarm that rolls a deployment back; it also feeds the composite health alarm. */
  addAlarm(alarm: cloudwatch.IAlarm): void {
    this.deploymentGroup.addAlarm(alarm);
    this.rollbackAlarms.push(alarm);
    this.healthAlarms.push(alarm);
  }

  /** The alarms that roll a deployment back, the three built-in ones first. */
  get alarms(): cloudwatch.IAlarm[] {
    return [...this.rollbackAlarms];
  }

  /** A hook whose check may take `checkTime` (CHECK_TIMEOUT_MS stays the service check's own limit). */
  private hookFunction(id: string, entry: string, lifecycleEvent: string, environment: Record<string, string>, checkTime: Duration): HandlerFunction {
    const hook = new HandlerFunction(this, id, {
      entry,
      functionName: stackScopedFunctionName(this, `${this.node.id}-${id}`),
      description: `CodeDeploy ${lifecycleEvent} hook of ${this.node.path}`,
      // Room after the check for reporting to CodeDeploy, with retries.
      timeout: checkTime.plus(Duration.seconds(30)),
      environment,
    });
    // Versions and aliases of the service function only (`<function arn>:<qualifier>`).
    hook.addToRolePolicy(new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [`${this.function.functionArn}:*`] }));
    acknowledgeFindings(hook.executionRole, {
      [`AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(this.function.node.defaultChild as lambda.CfnFunction)}.Arn>:*]`]:
        'The hook invokes the version being deployed (unknown until deployment) and the alias of this one function; the wildcard is the qualifier of that function only.',
    });
    return hook;
  }

  /** What the serverless packs report on the team's own function, and why it is accepted. */
  private acknowledgeServiceFunction(props: CanaryLambdaServiceProps): void {
    acknowledgeRule(
      this.function,
      'lambdaDlq',
      "The service's function answers synchronous requests (its URL, direct invokes, the hooks' checks), whose callers see the error. " +
        'A service invoked asynchronously adds its own on-failure destination in safe-deploy.extensions.ts.',
    );
    acknowledgeRule(this.function, 'lambdaInVpc', 'The service needs no private network by default; a service that reaches VPC resources attaches the VPC in safe-deploy.extensions.ts.');
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

  private buildDashboard(aliasName: string, aliasDims: Record<string, string>, newVersionErrorRate: cloudwatch.MathExpression, period: Duration): cloudwatch.Dashboard {
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
    dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: [this.compositeAlarm, ...this.rollbackAlarms], width: 24 }),
    );
    return dashboard;
  }
}

/** What a service needs to judge its canaries: the canary step's share, and the judge's settings. */
export interface ServiceJudgeProps {
  /** Percentage of traffic the canary step sends to the new version. */
  readonly canaryPercent: number;
  /**
   * Length of the canary step (the deployment config's interval): the AfterAllowTraffic hook counts
   * the canary's requests over it and refuses the deployment below the judge's `minRequests`.
   */
  readonly canaryStep: Duration;
  /** @default - DEFAULT_JUDGE_SETTINGS */
  readonly settings?: JudgeSettingsInput;
  /** Expected traffic, to warn at synth when the canary step is too short to catch a regression. @default - no check */
  readonly expectedTraffic?: ExpectedTraffic;
}

/** The URL 5xx alarm judges a period only with at least this many requests: one bad request of two is noise. */
const URL_MIN_REQUESTS = 10;

/**
 * An alarm on any error of a service's own handlers (its CodeDeploy hooks): a hook that fails its
 * invocation cannot report, and CodeDeploy would wait an hour for it; in the deployment group, the
 * alarm stops and rolls back the deployment at once instead.
 */
export function hookErrorsAlarm(scope: Construct, id: string, hookFunctionNames: string[], period: Duration): cloudwatch.Alarm {
  // By literal name: the hooks' policies reference the deployment group, which references this alarm.
  const usingMetrics = Object.fromEntries(
    hookFunctionNames.map((name, i) => [`h${i}`, new cloudwatch.Metric({ namespace: 'AWS/Lambda', metricName: 'Errors', dimensionsMap: { FunctionName: name }, statistic: 'Sum', period })]),
  );
  return new cloudwatch.MathExpression({
    expression: Object.keys(usingMetrics).map((k) => `FILL(${k}, 0)`).join(' + '),
    usingMetrics,
    period,
    label: 'Hook errors',
  }).createAlarm(scope, id, {
    threshold: 0,
    evaluationPeriods: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    alarmDescription: `A deployment hook of ${scope.node.path} failed its invocation (a malformed event or a crash) and could not report to CodeDeploy. Rolls the deployment back.`,
  });
}

/** `ALARM(a) OR ALARM(b) ...` over alarms, as a composite alarm rule. */
export function anyAlarm(alarms: readonly cloudwatch.IAlarm[]): string {
  return cloudwatch.AlarmRule.anyOf(...alarms.map((a) => cloudwatch.AlarmRule.fromAlarm(a, cloudwatch.AlarmState.ALARM))).renderAlarmRule();
}

/** What is wrong with a service's judge props (shared by both service constructs). */
export function judgeProblems(judge: ServiceJudgeProps): string[] {
  const minutes = judge.canaryStep.toMinutes({ integral: false });
  return Number.isInteger(minutes) && minutes >= 1
    ? []
    : [`judge.canaryStep: ${judge.canaryStep.toHumanString()} is not a canary step CodeDeploy can take: use whole minutes, at least 1 (the deployment config's interval), e.g. Duration.minutes(10)`];
}

function validate(props: CanaryLambdaServiceProps, aliasName: string): void {
  const problems: string[] = [];
  if (!/^(?!^[0-9]+$)[a-zA-Z0-9-_]{1,128}$/.test(aliasName)) {
    problems.push(`aliasName: ${JSON.stringify(aliasName)} is not a Lambda alias name: use letters, digits, '-' or '_' (not only digits), e.g. "live"`);
  }
  const checkTimeout = props.hookCheckTimeout?.toSeconds() ?? 30;
  if (checkTimeout < 1 || checkTimeout > 600) problems.push(`hookCheckTimeout: ${checkTimeout} s is out of range: use 1 to 600 seconds, e.g. Duration.seconds(30)`);
  if (props.judge) problems.push(...judgeProblems(props.judge));
  if (props.healthCheck && props.invokeCheck) problems.push('healthCheck and invokeCheck are both set: give an HTTP service a healthCheck, an event-driven one an invokeCheck');
  if (props.reservedConcurrentExecutions !== undefined && !(Number.isInteger(props.reservedConcurrentExecutions) && props.reservedConcurrentExecutions >= 1)) {
    problems.push(`reservedConcurrentExecutions: ${JSON.stringify(props.reservedConcurrentExecutions)} must be a whole number of at least 1`);
  }
  if (props.functionUrlAuthType === lambda.FunctionUrlAuthType.NONE && props.reservedConcurrentExecutions === undefined) {
    problems.push(
      'reservedConcurrentExecutions: is not set, and the Function URL is public (auth NONE): a flood of anonymous requests could use the whole account concurrency and throttle ' +
        'the deployment hooks; set a cap (e.g. 100) or use FunctionUrlAuthType.AWS_IAM',
    );
  }
  if (problems.length > 0) throw new Error(`Invalid CanaryLambdaService props:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
}
