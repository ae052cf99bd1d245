import * as fs from 'node:fs';
import * as path from 'node:path';
import { CfnResource, Stage, Validations } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { LambdaServiceStack } from '../../lib/stacks/lambda-service-stack';
import { TestApps } from '../support/app';
import { fixtureService } from '../support/fixtures';

const apps = new TestApps();
const maskAssetHashes = (s: string) =>
  s.replace(/[0-9a-f]{64}/g, '[ASSET_HASH]').replace(/CurrentVersion[0-9A-Fa-f]{40}/g, 'CurrentVersion[HASH]');
afterAll(() => apps.cleanup());

describe('LambdaServiceStack in a Stage with a concrete env (canary 10% / 10 min)', () => {
  let stack: LambdaServiceStack;
  let template: Template;
  let synthError: unknown;
  let outdir: string;

  beforeAll(() => {
    const app = apps.create();
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    const stage = new Stage(app, 'Prod', { env: { account: '111111111111', region: 'us-east-1' } });
    stack = new LambdaServiceStack(stage, 'orders-api', {
      service: fixtureService('lambda', 'orders-api', {
        deployment: { type: 'canary', percent: 10, intervalMinutes: 10 },
        alarms: { errorRatePercent: 2, p99LatencyMs: 800 },
      }),
    });
    outdir = app.outdir;
    try {
      app.synth();
    } catch (e) {
      synthError = e;
    }
    template = Template.fromStack(stack);
  });

  /** The logical ID of the one resource of `type` whose construct path contains `pathPart`. */
  const logicalId = (type: string, pathPart: string) => {
    const found = stack.node
      .findAll()
      .filter((c) => c instanceof CfnResource && c.cfnResourceType === type && c.node.path.includes(pathPart))
      .map((c) => stack.getLogicalId(c as CfnResource));
    if (found.length !== 1) throw new Error(`expected one ${type} at ${pathPart}, found ${found.length}`);
    return found[0];
  };
  const ids = () => ({
    fn: stack.getLogicalId(stack.service.function.node.defaultChild as never),
    // The current version's logical ID gets a code hash appended at synth: take it from the template.
    version: Object.keys(template.findResources('AWS::Lambda::Version'))[0],
    pre: stack.getLogicalId(stack.service.preTrafficHook.node.defaultChild as never),
    post: stack.getLogicalId(stack.service.postTrafficHook.node.defaultChild as never),
    app: logicalId('AWS::CodeDeploy::Application', 'DeploymentGroup/Application'),
    group: logicalId('AWS::CodeDeploy::DeploymentGroup', 'DeploymentGroup/Resource'),
  });
  const newVersionDims = () => [
    { Name: 'ExecutedVersion', Value: { 'Fn::GetAtt': [ids().version, 'Version'] } },
    { Name: 'FunctionName', Value: { Ref: ids().fn } },
    { Name: 'Resource', Value: { 'Fn::Join': ['', [{ Ref: ids().fn }, ':live']] } },
  ];

  test('cdk-nag AwsSolutions: zero unacknowledged findings', () => {
    expect(synthError).toBeUndefined();
    const report = path.join(outdir, 'validation-report.json');
    const violations = fs.existsSync(report)
      ? JSON.parse(fs.readFileSync(report, 'utf8')).pluginReports.flatMap((r: { violations: unknown[] }) => r.violations)
      : [];
    expect(violations).toEqual([]);
  });

  test('the service function: Node 22 on ARM, bundled, its version retained', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      MemorySize: 256,
      Timeout: 10,
      LoggingConfig: { LogGroup: { Ref: Match.stringLikeRegexp('^ServiceFunctionLogGroup') } },
    });
    template.hasResource('AWS::Lambda::Version', {
      UpdateReplacePolicy: 'Retain',
      DeletionPolicy: 'Retain',
      Properties: { FunctionName: { Ref: ids().fn } },
    });
  });

  test('the live alias points at the current version and its update is a CodeDeploy deployment with both hooks', () => {
    const { fn, version, pre, post, app, group } = ids();
    template.hasResource('AWS::Lambda::Alias', {
      Properties: { Name: 'live', FunctionName: { Ref: fn }, FunctionVersion: { 'Fn::GetAtt': [version, 'Version'] } },
      UpdatePolicy: {
        CodeDeployLambdaAliasUpdate: {
          ApplicationName: { Ref: app },
          DeploymentGroupName: { Ref: group },
          BeforeAllowTrafficHook: { Ref: pre },
          AfterAllowTrafficHook: { Ref: post },
        },
      },
      // Alarms move to the new version's dimensions before the alias update starts the deployment.
      DependsOn: Match.arrayWith([
        logicalId('AWS::CloudWatch::Alarm', 'Judge/Catastrophe'),
        logicalId('AWS::CloudWatch::Alarm', 'Judge/ErrorJudge'),
        logicalId('AWS::CloudWatch::Alarm', 'ThrottlesAlarm'),
      ]),
    });
  });

  test('a public Function URL on the alias, and its URL as the ServiceUrl output', () => {
    template.hasResourceProperties('AWS::Lambda::Url', {
      AuthType: 'NONE',
      Qualifier: 'live',
      TargetFunctionArn: { 'Fn::GetAtt': [ids().fn, 'Arn'] },
    });
    template.hasOutput('ServiceUrl', { Value: { 'Fn::GetAtt': [logicalId('AWS::Lambda::Url', 'Alias/FunctionUrl'), 'FunctionUrl'] } });
    expect(stack.serviceUrl!.node.id).toBe('ServiceUrl');
  });

  test('the deployment group: the canary config, rollback on failure, stop and alarm; the judge and the absolute alarms', () => {
    template.hasResourceProperties('AWS::CodeDeploy::DeploymentConfig', {
      ComputePlatform: 'Lambda',
      TrafficRoutingConfig: { Type: 'TimeBasedCanary', TimeBasedCanary: { CanaryPercentage: 10, CanaryInterval: 10 } },
    });
    const alarm = (alarmPath: string) => ({ Name: { Ref: logicalId('AWS::CloudWatch::Alarm', alarmPath) } });
    template.hasResourceProperties('AWS::CodeDeploy::DeploymentGroup', {
      DeploymentConfigName: { Ref: logicalId('AWS::CodeDeploy::DeploymentConfig', 'DeploymentConfig') },
      DeploymentStyle: { DeploymentType: 'BLUE_GREEN', DeploymentOption: 'WITH_TRAFFIC_CONTROL' },
      AutoRollbackConfiguration: {
        Enabled: true,
        Events: ['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_REQUEST', 'DEPLOYMENT_STOP_ON_ALARM'],
      },
      AlarmConfiguration: {
        Enabled: true,
        Alarms: [
          alarm('Judge/ErrorJudge'),
          alarm('Judge/FastErrorJudge'),
          alarm('Judge/LatencyJudge'),
          alarm('Judge/Catastrophe'),
          alarm('ThrottlesAlarm'),
          alarm('UrlErrorsAlarm'),
          alarm('HookErrorsAlarm'),
        ],
      },
    });
  });

  test('a canary is judged against its baseline: named judge alarms over the new version and the alias totals', () => {
    for (const name of ['ErrorJudge', 'FastErrorJudge', 'LatencyJudge', 'Catastrophe']) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: `Prod-orders-api-${name}`, TreatMissingData: 'notBreaching' });
    }
    const judge = template.toJSON().Resources[logicalId('AWS::CloudWatch::Alarm', 'Judge/ErrorJudge')];
    const dims = JSON.stringify(
      judge.Properties.Metrics.filter((m: { MetricStat?: unknown }) => m.MetricStat).map((m: any) => m.MetricStat.Metric.Dimensions),
    );
    expect(dims).toContain('ExecutedVersion');
    template.resourcePropertiesCountIs(
      'AWS::CloudWatch::Alarm',
      { AlarmDescription: Match.stringLikeRegexp('^The version being deployed fails more than') },
      0,
    );
  });

  test('the Function URL 5xx rate (what users see, even when the handler answers 500 without throwing), with a minimum of requests', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Threshold: 2,
      EvaluationPeriods: 3,
      DatapointsToAlarm: 2,
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: 'IF(requests >= 10, 100 * FILL(errors, 0) / requests, 0)' }),
        Match.objectLike({ Id: 'errors', MetricStat: Match.objectLike({ Metric: Match.objectLike({ MetricName: 'Url5xxCount' }) }) }),
        Match.objectLike({ Id: 'requests', MetricStat: Match.objectLike({ Metric: Match.objectLike({ MetricName: 'UrlRequestCount' }) }) }),
      ]),
    });
  });

  test('a hook that fails its invocation rolls the deployment back at once (instead of an hour of waiting)', () => {
    const hooks = [stack.service.preTrafficHook, stack.service.postTrafficHook].map((h) => h.fixedName);
    expect(hooks).toEqual(['Prod-orders-api-Service-PreTrafficHook', 'Prod-orders-api-Service-PostTrafficHook']);
    template.hasResourceProperties('AWS::Lambda::Function', { FunctionName: 'Prod-orders-api-Service-PreTrafficHook' });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Threshold: 0,
      EvaluationPeriods: 1,
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: 'FILL(h0, 0) + FILL(h1, 0)' }),
        Match.objectLike({
          Id: 'h0',
          MetricStat: Match.objectLike({
            Metric: { Namespace: 'AWS/Lambda', MetricName: 'Errors', Dimensions: [{ Name: 'FunctionName', Value: hooks[0] }] },
          }),
        }),
      ]),
    });
  });

  test('throttles alarm: any throttle of the alias', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Metrics: [
        {
          Id: 'm1',
          ReturnData: true,
          MetricStat: {
            Metric: { Namespace: 'AWS/Lambda', MetricName: 'Throttles', Dimensions: newVersionDims().slice(1) },
            Period: 60,
            Stat: 'Sum',
          },
        },
      ],
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 3,
      DatapointsToAlarm: 2,
      TreatMissingData: 'notBreaching',
    });
  });

  test('composite alarm named <stack name>-Health over the absolute alarms (the judges are silent after the shift)', () => {
    const arn = (part: string) => ({ 'Fn::GetAtt': [logicalId('AWS::CloudWatch::Alarm', part), 'Arn'] });
    template.hasResourceProperties('AWS::CloudWatch::CompositeAlarm', {
      AlarmName: 'Prod-orders-api-Health',
      AlarmRule: {
        'Fn::Join': [
          '',
          [
            '(ALARM("',
            arn('Judge/Catastrophe'),
            '") OR ALARM("',
            arn('ThrottlesAlarm'),
            '") OR ALARM("',
            arn('UrlErrorsAlarm'),
            '") OR ALARM("',
            arn('HookErrorsAlarm'),
            '"))',
          ],
        ],
      },
    });
  });

  test.each([
    ['pre', 'PreTrafficHookRole/DefaultPolicy'],
    ['post', 'PostTrafficHookRole/DefaultPolicy'],
  ])(
    "the %s-traffic hook may write its logs, invoke only the service function qualifiers, and read/report only its deployment group (and its function's versions)",
    (name, policyPath) => {
      const { fn, app, group } = ids();
      const policy = template.toJSON().Resources[logicalId('AWS::IAM::Policy', policyPath)];
      expect(policy.Properties.PolicyDocument.Statement).toEqual([
        {
          Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          Effect: 'Allow',
          Resource: {
            'Fn::GetAtt': [logicalId('AWS::Logs::LogGroup', name === 'pre' ? 'PreTrafficHookLogs' : 'PostTrafficHookLogs'), 'Arn'],
          },
        },
        { Action: 'lambda:InvokeFunction', Effect: 'Allow', Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [fn, 'Arn'] }, ':*']] } },
        // The judged canary's traffic check: GetMetricData has no resource-level permissions; whether
        // the target returns to code that served is read from this function's versions and this
        // group's history only.
        ...(name === 'post'
          ? [
              { Action: 'cloudwatch:GetMetricData', Effect: 'Allow', Resource: '*' },
              { Action: 'lambda:ListVersionsByFunction', Effect: 'Allow', Resource: { 'Fn::GetAtt': [fn, 'Arn'] } },
            ]
          : []),
        {
          Action:
            name === 'post'
              ? [
                  'codedeploy:BatchGetDeployments',
                  'codedeploy:GetDeployment',
                  'codedeploy:ListDeployments',
                  'codedeploy:PutLifecycleEventHookExecutionStatus',
                ]
              : ['codedeploy:GetDeployment', 'codedeploy:PutLifecycleEventHookExecutionStatus'],
          Effect: 'Allow',
          Resource: { 'Fn::Join': ['', ['arn:aws:codedeploy:us-east-1:111111111111:deploymentgroup:', { Ref: app }, '/', { Ref: group }]] },
        },
      ]);
    },
  );

  test('the hooks keep their logs 90 days, as every handler does, and drop them with the stack', () => {
    for (const id of ['PreTrafficHookLogs', 'PostTrafficHookLogs']) {
      expect(template.toJSON().Resources[logicalId('AWS::Logs::LogGroup', id)]).toMatchObject({
        DeletionPolicy: 'Delete',
        Properties: { RetentionInDays: 90 },
      });
    }
  });

  test("the hooks know their function, alias, check timeout and the service's own check, and outlive the check", () => {
    const common = {
      FUNCTION_NAME: { Ref: ids().fn },
      ALIAS_NAME: 'live',
      CHECK_TIMEOUT_MS: '30000',
      SERVICE_CHECK: '{"type":"http","path":"/health","expectedStatus":200}',
    };
    const props = (id: string) => template.toJSON().Resources[id].Properties;
    expect(props(ids().pre)).toMatchObject({
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Timeout: 60,
      Environment: { Variables: common },
    });
    expect(props(ids().pre).Environment.Variables.CANARY_TRAFFIC_CHECK).toBeUndefined();
    // The post-traffic hook of a judged canary also counts the step's canary requests, and may wait
    // for the step's last minute to be published: 30 s check + 240 s traffic check + 30 s to report.
    expect(props(ids().post)).toMatchObject({
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Timeout: 300,
      Environment: { Variables: { ...common, CANARY_TRAFFIC_CHECK: '{"minRequests":100,"stepMinutes":10}' } },
    });
  });

  test('CodeDeploy may invoke the two hooks only', () => {
    const { pre, post } = ids();
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyName: Match.stringLikeRegexp('DeploymentGroupServiceRole'),
      PolicyDocument: {
        Statement: [
          {
            Action: 'lambda:InvokeFunction',
            Effect: 'Allow',
            Resource: [
              { 'Fn::GetAtt': [post, 'Arn'] },
              { 'Fn::GetAtt': [pre, 'Arn'] },
              { 'Fn::Join': ['', [{ 'Fn::GetAtt': [post, 'Arn'] }, ':*']] },
              { 'Fn::Join': ['', [{ 'Fn::GetAtt': [pre, 'Arn'] }, ':*']] },
            ],
          },
        ],
      },
    });
  });

  test('a dashboard with traffic by version, errors, latency percentiles and the alarms', () => {
    const body = JSON.stringify(template.findResources('AWS::CloudWatch::Dashboard'));
    expect(body).toContain('{AWS/Lambda,FunctionName,Resource,ExecutedVersion} MetricName=\\\\\\"Invocations\\\\\\"');
    expect(body).toContain('MetricName=\\\\\\"Errors\\\\\\"');
    for (const p of ['p50', 'p90', 'p99']) expect(body).toContain(`\\"stat\\":\\"${p}\\"`);
    expect(body).toContain('\\"type\\":\\"alarm\\"');
  });

  test('no warning: a judged canary is checked by the judge (with expected traffic), not the fixed-alarm model', () => {
    Annotations.fromStack(stack).hasNoWarning('*', Match.stringLikeRegexp('worst-case detection'));
  });

  test('snapshot', () => {
    // Masked here as well: test/asset-hash-serializer.ts's `printer(mask(value))` drops the printer's
    // other arguments and throws in jest 29 (reported to the lead), so nothing is left for it to mask.
    expect(JSON.parse(maskAssetHashes(JSON.stringify(template.toJSON())))).toMatchSnapshot();
  });
});

describe('LambdaServiceStack, env-agnostic (laptop)', () => {
  test.each([
    [{ type: 'all-at-once' } as const, undefined],
    [
      { type: 'linear', percent: 25, intervalMinutes: 2 } as const,
      { Type: 'TimeBasedLinear', TimeBasedLinear: { LinearPercentage: 25, LinearInterval: 2 } },
    ],
  ])('synthesizes with %j', (deployment, routing) => {
    const app = apps.create({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new LambdaServiceStack(app, 'billing-worker', { service: fixtureService('lambda', 'billing-worker', { deployment }) });
    const template = Template.fromStack(stack);
    if (routing === undefined) {
      template.resourceCountIs('AWS::CodeDeploy::DeploymentConfig', 0);
      template.hasResourceProperties('AWS::CodeDeploy::DeploymentGroup', { DeploymentConfigName: 'CodeDeployDefault.LambdaAllAtOnce' });
    } else {
      template.hasResourceProperties('AWS::CodeDeploy::DeploymentConfig', { ComputePlatform: 'Lambda', TrafficRoutingConfig: routing });
    }
    template.hasResourceProperties('AWS::CloudWatch::CompositeAlarm', { AlarmName: 'billing-worker-Health' });
    // No URL for a service that answers no HTTP, and no ServiceUrl output.
    template.resourceCountIs('AWS::Lambda::Url', 0);
    expect(stack.serviceUrl).toBeUndefined();
    // Without an env, the deployment group ARN in the hooks' policies uses the deploying account and region.
    const policies = JSON.stringify(template.findResources('AWS::IAM::Policy'));
    expect(policies).toContain('":deploymentgroup:"');
    expect(policies).toContain('{"Ref":"AWS::Region"}');
    expect(policies).toContain('{"Ref":"AWS::AccountId"}');
  });

  test('a service that publishes its own metrics: SAFE_DEPLOY_METRICS_SERVICE, and a 30-s judge on the executed version', () => {
    const app = apps.create({ context: { 'aws:cdk:bundling-stacks': [] } });
    const s = new LambdaServiceStack(app, 'orders-api', {
      service: fixtureService('lambda', 'orders-api', {
        deployment: { type: 'canary', percent: 10, intervalMinutes: 10 },
        highResolutionMetrics: true,
      }),
    });
    const t = Template.fromStack(s);
    t.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ SAFE_DEPLOY_METRICS_SERVICE: 'orders-api' }) },
    });
    const version = Object.keys(t.findResources('AWS::Lambda::Version'))[0];
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'orders-api-HighResErrorJudge',
      Metrics: Match.arrayWith([
        Match.objectLike({
          Id: 'cerr',
          MetricStat: {
            Metric: {
              Namespace: 'SafeDeploy/Canary',
              MetricName: 'Errors',
              Dimensions: [
                { Name: 'Service', Value: 'orders-api' },
                { Name: 'Version', Value: { 'Fn::GetAtt': [version, 'Version'] } },
              ],
            },
            Period: 30,
            Stat: 'Sum',
          },
        }),
      ]),
    });
    expect(s.service.judge!.highResolutionErrorAlarm).toBeDefined();
  });

  test('without a canary (linear), fixed thresholds on the new version: error rate and p99, 2 of 3 minutes, no data = OK', () => {
    const app = apps.create({ context: { 'aws:cdk:bundling-stacks': [] } });
    const s = new LambdaServiceStack(app, 'orders-api', {
      service: fixtureService('lambda', 'orders-api', {
        deployment: { type: 'linear', percent: 20, intervalMinutes: 2 },
        alarms: { errorRatePercent: 2, p99LatencyMs: 800 },
      }),
    });
    const t = Template.fromStack(s);
    expect(s.service.judge).toBeUndefined();
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Metrics: Match.arrayWith([
        Match.objectLike({ Id: 'expr_1', Expression: '100 * errors / invocations', ReturnData: true, Label: 'New version error rate (%)' }),
      ]),
      Threshold: 2,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 3,
      DatapointsToAlarm: 2,
      TreatMissingData: 'notBreaching',
    });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Metrics: [
        Match.objectLike({
          MetricStat: Match.objectLike({
            Metric: Match.objectLike({
              MetricName: 'Duration',
              Dimensions: Match.arrayWith([Match.objectLike({ Name: 'ExecutedVersion' })]),
            }),
            Stat: 'p99',
          }),
        }),
      ],
      Threshold: 800,
    });
    t.resourcePropertiesCountIs('AWS::CloudWatch::Alarm', { AlarmName: Match.stringLikeRegexp('Judge') }, 0);
    // Nothing to hold without a judge: the post-traffic hook does not count the canary's traffic.
    const post = t.toJSON().Resources[s.getLogicalId(s.service.postTrafficHook.node.defaultChild as never)].Properties;
    expect(post.Environment.Variables.CANARY_TRAFFIC_CHECK).toBeUndefined();
    expect(post.Timeout).toBe(60);
    expect(JSON.stringify(t.findResources('AWS::IAM::Policy'))).not.toContain('cloudwatch:GetMetricData');
  });

  test('warns when a linear step is shorter than the fixed alarms can react', () => {
    const app = apps.create({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new LambdaServiceStack(app, 'orders-api', {
      service: fixtureService('lambda', 'orders-api', { deployment: { type: 'linear', percent: 10, intervalMinutes: 3 } }),
    });
    Annotations.fromStack(stack).hasWarning(
      '/orders-api',
      "deployment.intervalMinutes 3 is shorter than the alarms' worst-case detection time (360 s): a bad version may take all traffic before its alarm fires. Use intervalMinutes >= 6 or faster alarms. [ack: safe-deploy:canary-shorter-than-alarms]",
    );
  });
});
