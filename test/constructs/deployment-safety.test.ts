import { CfnWaitConditionHandle, Stack, Stage } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as pipelines from 'aws-cdk-lib/pipelines';
import { AwsSolutionsChecks } from 'cdk-nag';
import { DeploymentSafety, GateReaderRole, RollbackEventForwarder, SafetyStage } from '../../lib/constructs/deployment-safety';
import { DIAGNOSIS_PERMISSIONS } from '../../lib/runtime/diagnosis/permissions';
import { TestApps } from '../support/app';

const apps = new TestApps();
afterAll(() => apps.cleanup());

const CONNECTION = 'arn:aws:codeconnections:us-east-1:111111111111:connection/00000000-0000-4000-8000-000000000000';
const PIPELINE_ENV = { account: '111111111111', region: 'us-east-1' };

/** A target with a platform stack and one service stack, as ServiceStage builds them. */
class ServiceStage extends Stage {
  constructor(scope: Stack, id: string, env: { account: string; region: string }) {
    super(scope, id, { env });
    new CfnWaitConditionHandle(new Stack(this, 'Platform'), 'Placeholder');
    new CfnWaitConditionHandle(new Stack(this, 'orders-api'), 'Placeholder');
  }
}

const target = (stage: string, account: string, region: string) => ({
  account,
  region,
  healthAlarmNames: [`${stage}-orders-api-Health`],
  platformStackName: `${stage}-Platform`,
  serviceStackNames: [`${stage}-orders-api`],
});
const stages: SafetyStage[] = [
  { stageName: 'Beta', type: 'pre-production', targets: [target('Beta', '222222222222', 'us-east-1')] },
  {
    stageName: 'Prod-Wave1',
    type: 'production',
    bake: { minutes: 30, minRequests: 1000 },
    deploymentWindow: {
      timeZone: 'Europe/Berlin',
      windows: [{ days: ['MON', 'TUE', 'WED', 'THU'], start: '09:00', end: '16:00' }],
      blockedDates: ['2026-12-24'],
    },
    targets: [target('Prod-Wave1', '333333333333', 'eu-west-1')],
  },
];

function buildPipelineStack(safetyStages: SafetyStage[] = stages): { stack: Stack; safety: DeploymentSafety } {
  const app = apps.create();
  const stack = new Stack(app, 'Pipeline', { env: PIPELINE_ENV });
  const cdkPipeline = new pipelines.CodePipeline(stack, 'Pipeline', {
    pipelineName: 'safe-deploy-pipeline',
    pipelineType: codepipeline.PipelineType.V2,
    crossAccountKeys: true,
    synth: new pipelines.ShellStep('Synth', {
      input: pipelines.CodePipelineSource.connection('my-org/safe-deploy', 'main', { connectionArn: CONNECTION }),
      commands: ['npm ci', 'npx cdk synth'],
    }),
  });
  cdkPipeline.addStage(new ServiceStage(stack, 'Beta', { account: '222222222222', region: 'us-east-1' }));
  cdkPipeline.addStage(new ServiceStage(stack, 'Prod-Wave1', { account: '333333333333', region: 'eu-west-1' }));
  cdkPipeline.buildPipeline();
  const safety = new DeploymentSafety(stack, 'Safety', {
    pipeline: cdkPipeline.pipeline,
    stages: safetyStages,
    pipelineName: 'safe-deploy-pipeline',
    notificationEmails: ['oncall@example.com'],
  });
  return { stack, safety };
}

describe('DeploymentSafety', () => {
  let stack: Stack;
  let safety: DeploymentSafety;
  let template: Template;
  beforeAll(() => {
    ({ stack, safety } = buildPipelineStack());
    template = Template.fromStack(stack);
  });

  test('inserts a gate stage right before the production stage and rolls production back on failure', () => {
    const pipeline = template.findResources('AWS::CodePipeline::Pipeline');
    const names = (Object.values(pipeline)[0].Properties.Stages as Array<{ Name: string }>).map((s) => s.Name);
    expect(names.slice(-3)).toEqual(['Beta', 'Gate-Prod-Wave1', 'Prod-Wave1']);
    expect(safety.gateStageNames).toEqual(['Gate-Prod-Wave1']);
    template.hasResourceProperties('AWS::CodePipeline::Pipeline', {
      PipelineType: 'V2',
      Variables: [{ Name: 'SafetyOverride', DefaultValue: 'none', Description: Match.stringLikeRegexp('deployment window') }],
      Stages: Match.arrayWith([
        Match.objectLike({ Name: 'Beta', OnFailure: Match.absent() }),
        Match.objectLike({ Name: 'Prod-Wave1', OnFailure: { Result: 'ROLLBACK' } }),
      ]),
    });
  });

  test('the gate action names its gate and reads the cloud assembly: its configuration stays small and fixed', () => {
    const pipeline = Object.values(template.findResources('AWS::CodePipeline::Pipeline'))[0];
    const gate = (pipeline.Properties.Stages as Array<{ Name: string; Actions: Array<Record<string, any>> }>).find(
      (s) => s.Name === 'Gate-Prod-Wave1',
    )!;
    expect(gate.Actions).toHaveLength(1);
    expect(gate.Actions[0].ActionTypeId).toEqual({ Category: 'Invoke', Owner: 'AWS', Provider: 'Lambda', Version: '1' });
    expect(gate.Actions[0].InputArtifacts).toEqual([{ Name: 'Synth_Output' }]);
    expect(JSON.parse(gate.Actions[0].Configuration.UserParameters)).toEqual({
      gate: 'Gate-Prod-Wave1',
      override: '#{variables.SafetyOverride}',
      executionId: '#{codepipeline.PipelineExecutionId}',
    });
  });

  test('the gate settings (for the release manifest): bake, window, observed and guarded targets with their deploy actions', () => {
    expect(safety.gates()).toEqual({
      'Gate-Prod-Wave1': {
        stageName: 'Prod-Wave1',
        bake: { minutes: 30, minRequests: 1000 },
        countRequests: false,
        window: {
          timeZone: 'Europe/Berlin',
          windows: [{ days: ['MON', 'TUE', 'WED', 'THU'], start: '09:00', end: '16:00' }],
          blockedDates: ['2026-12-24'],
        },
        observe: [
          {
            account: '222222222222',
            region: 'us-east-1',
            roleArn: 'arn:aws:iam::222222222222:role/safe-deploy-gate-reader-us-east-1',
            healthAlarmNames: ['Beta-orders-api-Health'],
            platformAction: 'Platform.Deploy',
            serviceActions: ['orders-api.Deploy'],
          },
        ],
        guard: [
          {
            account: '333333333333',
            region: 'eu-west-1',
            roleArn: 'arn:aws:iam::333333333333:role/safe-deploy-gate-reader-eu-west-1',
            healthAlarmNames: ['Prod-Wave1-orders-api-Health'],
            platformAction: 'Platform.Deploy',
            serviceActions: ['orders-api.Deploy'],
          },
        ],
        maxWaitMinutes: 150,
      },
    });
  });

  test('a manual approval goes into the gate stage, before the bake gate (which checks the window last)', () => {
    const { stack: s } = buildPipelineStack([stages[0], { ...stages[1], manualApproval: true }]);
    const pipeline = Object.values(Template.fromStack(s).findResources('AWS::CodePipeline::Pipeline'))[0];
    const gate = (pipeline.Properties.Stages as Array<{ Name: string; Actions: Array<Record<string, any>> }>).find(
      (x) => x.Name === 'Gate-Prod-Wave1',
    )!;
    expect(gate.Actions.map((a) => [a.Name, a.ActionTypeId.Category, a.RunOrder])).toEqual([
      ['Approve-Prod-Wave1', 'Approval', 1],
      ['BakeGate', 'Invoke', 2],
    ]);
  });

  test('the gate function: Node 22 on ARM, fixed role name, may assume only the reader roles', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Timeout: 180,
      Environment: { Variables: { POLL_INTERVAL_SECONDS: '60', PIPELINE_NAME: 'safe-deploy-pipeline' } },
      Role: { 'Fn::GetAtt': [Match.stringLikeRegexp('^SafetyBakeGateRole'), 'Arn'] },
    });
    template.hasResourceProperties('AWS::IAM::Role', { RoleName: 'safe-deploy-bake-gate' });
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^SafetyBakeGateRole') }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Action: 'sts:AssumeRole',
            Effect: 'Allow',
            Resource: [
              'arn:aws:iam::222222222222:role/safe-deploy-gate-reader-us-east-1',
              'arn:aws:iam::333333333333:role/safe-deploy-gate-reader-eu-west-1',
            ],
          },
        ]),
      },
    });
  });

  test('notifications: KMS-encrypted TLS-only topic, e-mail subscription, failure and rollback rules', () => {
    template.hasResourceProperties('AWS::SNS::Topic', {
      KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^SafetyTopicKey'), 'Arn'] },
    });
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
      },
    });
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'oncall@example.com' });
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.codepipeline'],
        'detail-type': ['CodePipeline Pipeline Execution State Change'],
        resources: Match.anyValue(),
        detail: { state: ['FAILED'] },
      },
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^SafetyNotifier'), 'Arn'] },
          RetryPolicy: { MaximumRetryAttempts: 4, MaximumEventAgeInSeconds: 3600 },
        }),
      ],
    });
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.codedeploy'],
        'detail-type': ['CodeDeploy Deployment State-change Notification'],
        detail: { state: ['FAILURE', 'STOP'] },
      },
    });
    template.resourcePropertiesCountIs(
      'AWS::Events::EventBusPolicy',
      { StatementId: Match.stringLikeRegexp('^safe-deploy-codedeploy-') },
      2,
    );
    template.hasResourceProperties('AWS::Events::EventBusPolicy', {
      StatementId: 'safe-deploy-codedeploy-333333333333',
      Statement: Match.objectLike({ Principal: { AWS: 'arn:aws:iam::333333333333:root' }, Action: 'events:PutEvents' }),
    });
  });

  test('the notifier may publish to the topic (and use its key) and read the pipeline', () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^SafetyNotifierRole') }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: 'sns:Publish', Resource: { Ref: Match.stringLikeRegexp('^SafetyTopic') } }),
          Match.objectLike({ Action: Match.arrayWith(['kms:GenerateDataKey*']) }),
          Match.objectLike({ Action: Match.arrayWith(['codepipeline:GetPipelineExecution', 'codepipeline:ListActionExecutions']) }),
        ]),
      },
    });
  });

  test('the notifier may make every call its diagnosis makes (from lib/runtime/diagnosis/permissions.ts), scoped as IAM allows', () => {
    const [policy] = Object.values(
      template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: Match.stringLikeRegexp('^SafetyNotifierRole') }] } }),
    );
    const statements = policy.Properties.PolicyDocument.Statement as Array<{ Action: string | string[]; Resource: unknown }>;
    const granted = statements.flatMap((st) => [st.Action].flat());
    for (const { action } of Object.values(DIAGNOSIS_PERMISSIONS)) expect(granted).toContain(action);
    const resourcesOf = (action: string) =>
      JSON.stringify(statements.filter((st) => [st.Action].flat().includes(action)).map((st) => st.Resource));
    // Stacks by name in this account (the pipeline's own; the Beta target is in another account here).
    expect(resourcesOf('cloudformation:DescribeStackEvents')).toContain(':stack/Pipeline/*');
    expect(resourcesOf('cloudformation:DescribeStackEvents')).not.toContain('"*"');
    expect(resourcesOf('codedeploy:GetDeployment')).toContain(':deploymentgroup:*');
    expect(resourcesOf('codedeploy:ListDeploymentTargets')).toBe('["*"]');
  });

  test("the gate's and the notifier's own errors are notified on the topic directly (CloudWatch may use its key)", () => {
    for (const fn of ['SafetyBakeGate', 'SafetyNotifier']) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'Errors',
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: Match.stringLikeRegexp(`^${fn}[0-9A-F]{8}$`) } }],
        Threshold: 0,
        AlarmActions: [{ Ref: Match.stringLikeRegexp('^SafetyTopic') }],
      });
    }
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Sid: 'CloudWatchAlarms', Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: 'sns:Publish' }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({ Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: ['kms:Decrypt', 'kms:GenerateDataKey*'] }),
        ]),
      },
    });
  });

  test('cdk-nag AwsSolutions: no unacknowledged finding in the safety constructs', () => {
    const report = new AwsSolutionsChecks().validateScope(safety);
    expect(report.violations.map((v) => `${v.ruleName} ${v.violatingResources.map((r) => r.constructPath).join(',')}`)).toEqual([]);
  });

  test('snapshot', () => {
    expect(template.toJSON()).toMatchSnapshot();
  });

  test('fails when a bake is longer than the gate can wait (the limit the config uses too)', () => {
    expect(() => buildPipelineStack([stages[0], { ...stages[1], bake: { minutes: 1440, minRequests: 1 } }])).toThrow(
      '  - stages[1].bake.minutes: 1440 minutes is not a bake the gate can wait for: CodePipeline ends a Lambda action after 24 hours and the gate allows 2 more hours for traffic, so use a whole number from 0 to 1200',
    );
  });

  test('fails when a gate setting breaks the schema the gate reads it with (checked at synth, not at the first run)', () => {
    const { safety: bad } = buildPipelineStack([stages[0], { ...stages[1], bake: { minutes: 30, minRequests: 1.5 } }]);
    expect(() => bad.gates()).toThrow(/^DeploymentSafety: gates\.Gate-Prod-Wave1\.bake\.minRequests: .*int/);
  });

  test('fails when a stage is not in the pipeline, production comes first, or targets are missing', () => {
    expect(() =>
      buildPipelineStack([
        { stageName: 'Prod', type: 'production', targets: [] },
        { stageName: 'Beta', type: 'pre-production', bake: { minutes: 5, minRequests: 1 }, targets: stages[0].targets },
      ]),
    ).toThrow(
      [
        'DeploymentSafety: invalid stages:',
        '  - stages[0].stageName: "Prod" is not a stage of the pipeline (stages: Source, Build, UpdatePipeline, Beta, Prod-Wave1)',
        '  - stages[0]: production stage "Prod" has no stage before it to bake in: put a pre-production stage first',
        `  - stages[0].targets: "Prod" lists no targets: give each region's account, region and health alarm names`,
        '  - stages[1]: bake and deploymentWindow guard production stages only; "Beta" is pre-production',
      ].join('\n'),
    );
  });
});

describe('GateReaderRole and RollbackEventForwarder', () => {
  let template: Template;
  let stack: Stack;
  beforeAll(() => {
    const app = apps.create();
    stack = new Stack(app, 'Service', { env: { account: '333333333333', region: 'eu-west-1' } });
    new GateReaderRole(stack, 'GateReader', { pipelineAccount: '111111111111' });
    new RollbackEventForwarder(stack, 'Rollbacks', { pipelineAccount: '111111111111', pipelineRegion: 'us-east-1' });
    template = Template.fromStack(stack);
  });

  test('reader role: trusted only by the gate role, read-only CloudWatch', () => {
    template.hasResourceProperties('AWS::IAM::Role', {
      RoleName: 'safe-deploy-gate-reader-eu-west-1',
      AssumeRolePolicyDocument: {
        Statement: [
          {
            Action: 'sts:AssumeRole',
            Effect: 'Allow',
            Principal: { AWS: 'arn:aws:iam::111111111111:root' },
            Condition: { ArnEquals: { 'aws:PrincipalArn': 'arn:aws:iam::111111111111:role/safe-deploy-bake-gate' } },
          },
        ],
      },
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [
          {
            Action: ['cloudwatch:DescribeAlarmHistory', 'cloudwatch:DescribeAlarms'],
            Effect: 'Allow',
            Resource: 'arn:aws:cloudwatch:eu-west-1:333333333333:alarm:*',
          },
          { Action: 'cloudwatch:GetMetricData', Effect: 'Allow', Resource: '*' },
        ],
      },
    });
  });

  test('forwarder: failed and stopped (alarm, operator) CodeDeploy deployments to the pipeline account bus', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { source: ['aws.codedeploy'], detail: { state: ['FAILURE', 'STOP'] } },
      Targets: [Match.objectLike({ Arn: 'arn:aws:events:us-east-1:111111111111:event-bus/default' })],
    });
  });

  test("fails when asked to forward from the pipeline's own account and region (events would be notified twice)", () => {
    const app = apps.create();
    const own = new Stack(app, 'Own', { env: { account: '111111111111', region: 'us-east-1' } });
    expect(() => new RollbackEventForwarder(own, 'Rollbacks', { pipelineAccount: '111111111111', pipelineRegion: 'us-east-1' })).toThrow(
      "RollbackEventForwarder Own/Rollbacks: the stack is in the pipeline's own account and region, where CodeDeploy's events already reach the notifier: do not forward them (they would be notified twice)",
    );
  });

  test('cdk-nag AwsSolutions: no unacknowledged finding', () => {
    expect(new AwsSolutionsChecks().validateScope(stack).violations).toEqual([]);
  });

  test('fails when the stack has no concrete region', () => {
    const app = apps.create();
    expect(() => new GateReaderRole(new Stack(app, 'NoEnv'), 'GateReader', { pipelineAccount: '111111111111' })).toThrow(
      'GateReaderRole NoEnv/GateReader: the stack has no concrete region; give it env: { account, region } (the role name contains the region)',
    );
  });
});
