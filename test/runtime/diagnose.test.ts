import 'aws-sdk-client-mock-jest';
import { DescribeStackEventsCommand } from '@aws-sdk/client-cloudformation';
import { BatchGetBuildsCommand } from '@aws-sdk/client-codebuild';
import { BatchGetDeploymentTargetsCommand, GetDeploymentCommand, ListDeploymentTargetsCommand } from '@aws-sdk/client-codedeploy';
import {
  GetPipelineCommand,
  GetPipelineExecutionCommand,
  GetPipelineStateCommand,
  ListActionExecutionsCommand,
  ListPipelineExecutionsCommand,
} from '@aws-sdk/client-codepipeline';
import { classifyFailure, diagnosePipeline, formatDiagnosis } from '../../lib/runtime/diagnosis';
import { DIAGNOSIS_PERMISSIONS } from '../../lib/runtime/diagnosis/permissions';
import * as f from '../ops/fixtures';

const BETA_ECS = 'Beta-us-east-1-EcsService';
const BETA_LAMBDA = 'Beta-us-east-1-LambdaService';
const STACK = 'AWS::CloudFormation::Stack';
const ECS_EXEC_ROLE = `arn:aws:iam::${f.PIPELINE_ACCOUNT}:role/cdk-hnb659fds-cfn-exec-role-${f.PIPELINE_ACCOUNT}-us-east-1`;
const cfnConfig = (stackName: string) => ({
  StackName: stackName,
  ActionMode: 'CHANGE_SET_EXECUTE',
  ChangeSetName: 'PipelineChange',
  RoleArn: ECS_EXEC_ROLE,
});
const cfnActionError = (stackName: string, resource: string) =>
  `Stack ${stackName} failed to execute change set. Current stack status: UPDATE_ROLLBACK_COMPLETE. Reason: The following resource(s) failed to update: [${resource}].`;

let m: f.Mocks;
beforeEach(() => {
  m = f.mocks();
  m.codepipeline.on(GetPipelineCommand).resolves(f.getPipelineOutput());
  m.codepipeline.on(GetPipelineStateCommand).resolves(f.getPipelineStateOutput([]));
  m.codepipeline.on(ListPipelineExecutionsCommand).resolves({
    pipelineExecutionSummaries: [
      // A newer execution still running must not hide the failure.
      { pipelineExecutionId: f.EXEC_PREVIOUS, status: 'InProgress', startTime: f.at('2026-11-02T10:30:00Z') },
      { pipelineExecutionId: f.EXEC_CURRENT, status: 'Failed', statusSummary: 'Execution failed', startTime: f.at('2026-11-02T10:00:00Z') },
      { pipelineExecutionId: f.EXEC_OLDER, status: 'Succeeded', startTime: f.at('2026-11-01T10:00:00Z') },
    ],
  });
});
/** Every AWS call a diagnosis made in this file, for the notifier's permissions (last test). */
const callsMade = new Set<string>();
afterEach(() => {
  for (const mock of Object.values(m)) {
    for (const c of mock.calls()) callsMade.add((c.args[0] as object).constructor.name);
    mock.restore();
  }
});

const diagnose = (executionId?: string) =>
  diagnosePipeline(f.clients(), { pipelineName: f.PIPELINE, region: f.REGION, executionId, retry: f.RETRY });
const failedActions = (...details: ReturnType<typeof f.actionDetail>[]) =>
  m.codepipeline.on(ListActionExecutionsCommand).resolves({
    actionExecutionDetails: [
      f.actionDetail({
        stageName: 'Source',
        actionName: 'example-org_safe-deploy',
        category: 'Source',
        provider: 'CodeStarSourceConnection',
        status: 'Succeeded',
        lastUpdateTime: '2026-11-02T10:01:00Z',
      }),
      ...details,
    ],
  });
/** Events newest first, as DescribeStackEvents returns them, ending with the previous operation. */
function stackEvents(stackName: string, failures: { id: string; type: string; reason: string; status?: string }[]) {
  const ev = (id: string, type: string, status: string, reason: string | undefined, t: string) =>
    f.stackEvent(stackName, id, type, status, reason, t);
  m.cloudformation.on(DescribeStackEventsCommand, { StackName: stackName }).resolves({
    StackEvents: [
      ev(stackName, STACK, 'UPDATE_ROLLBACK_COMPLETE', undefined, '2026-11-02T10:19:00Z'),
      ev('ApiServiceFunction1234ABCD', 'AWS::Lambda::Function', 'UPDATE_FAILED', 'Resource update cancelled', '2026-11-02T10:14:59Z'),
      ev(
        stackName,
        STACK,
        'UPDATE_ROLLBACK_IN_PROGRESS',
        'The following resource(s) failed to update: [' + failures[0].id + '].',
        '2026-11-02T10:15:01Z',
      ),
      ...failures.map((x, i) => ev(x.id, x.type, x.status ?? 'UPDATE_FAILED', x.reason, `2026-11-02T10:1${4 - i}:00Z`)),
      ev('WebServiceTaskDefinition', 'AWS::ECS::TaskDefinition', 'CREATE_COMPLETE', undefined, '2026-11-02T10:06:00Z'),
      ev(stackName, STACK, 'UPDATE_IN_PROGRESS', 'User Initiated', '2026-11-02T10:05:30Z'),
      // The previous operation's failure: not this one's cause.
      ev(
        'OldQueue',
        'AWS::SQS::Queue',
        'CREATE_FAILED',
        'Resource handler returned message: "Queue already exists"',
        '2026-10-30T09:00:00Z',
      ),
    ],
  });
}
function deployment(
  deploymentId: string,
  error: { code: string; message: string },
  lifecycle: { lifecycleEventName: string; status: string; diagnostics?: object }[] = [],
  kind: 'ecs' | 'lambda' = 'ecs',
) {
  m.codedeploy.on(GetDeploymentCommand, { deploymentId }).resolves({
    deploymentInfo: {
      applicationName: 'Betauseast1EcsService-WebServiceApplication-1A2B3C4D5E6F',
      deploymentGroupName: 'Betauseast1EcsService-WebServiceDeploymentGroup-6F5E4D3C2B1A',
      deploymentId,
      status: 'Failed',
      errorInformation: error as { code: 'ALARM_ACTIVE'; message: string },
      rollbackInfo: {
        rollbackDeploymentId: 'd-RB0000001',
        rollbackMessage: 'Automatic rollback d-RB0000001 was triggered by a failed deployment.',
      },
      creator: 'user',
    },
  });
  m.codedeploy.on(ListDeploymentTargetsCommand, { deploymentId }).resolves({ targetIds: ['target-1'] });
  const target = {
    deploymentId,
    targetId: 'target-1',
    status: 'Failed' as const,
    lifecycleEvents: lifecycle as { lifecycleEventName: string; status: 'Failed' }[],
  };
  m.codedeploy.on(BatchGetDeploymentTargetsCommand, { deploymentId }).resolves({
    deploymentTargets: [
      kind === 'ecs'
        ? { deploymentTargetType: 'ECSTarget', ecsTarget: target }
        : { deploymentTargetType: 'LambdaTarget', lambdaTarget: target },
    ],
  });
}

describe('diagnosePipeline', () => {
  test('build-or-test: a failed CodeBuild action links its log and names the failed phase', async () => {
    const buildId = 'SafeDeployPipelineSynthCdkBuildProject-abc123:7e2f9a1c-3b4d-4e5f-8a6b-7c8d9e0f1a2b';
    const deepLink = `https://console.aws.amazon.com/cloudwatch/home?region=us-east-1#logsV2:log-groups/log-group/$252Faws$252Fcodebuild$252FSafeDeployPipelineSynthCdkBuildProject-abc123/log-events/7e2f9a1c-3b4d-4e5f-8a6b-7c8d9e0f1a2b`;
    failedActions(
      f.actionDetail({
        stageName: 'Build',
        actionName: 'Synth',
        category: 'Build',
        provider: 'CodeBuild',
        externalExecutionId: buildId,
        externalExecutionUrl: `https://console.aws.amazon.com/codebuild/home?region=us-east-1#/builds/${encodeURIComponent(buildId)}/view/new`,
        error:
          'Build terminated with state: FAILED. Phase: BUILD, Code: COMMAND_EXECUTION_ERROR, Message: Error while executing command: npm test. Reason: exit status 1',
      }),
    );
    m.codebuild.on(BatchGetBuildsCommand).resolves({
      builds: [
        {
          id: buildId,
          buildStatus: 'FAILED',
          phases: [
            { phaseType: 'SUBMITTED', phaseStatus: 'SUCCEEDED' },
            { phaseType: 'INSTALL', phaseStatus: 'SUCCEEDED', contexts: [{ statusCode: '', message: '' }] },
            {
              phaseType: 'BUILD',
              phaseStatus: 'FAILED',
              contexts: [
                { statusCode: 'COMMAND_EXECUTION_ERROR', message: 'Error while executing command: npm test. Reason: exit status 1' },
              ],
            },
            { phaseType: 'COMPLETED' },
          ],
          logs: {
            groupName: '/aws/codebuild/SafeDeployPipelineSynthCdkBuildProject-abc123',
            streamName: '7e2f9a1c-3b4d-4e5f-8a6b-7c8d9e0f1a2b',
            deepLink,
          },
        },
      ],
    });

    const d = await diagnose();
    expect(d).toEqual(
      expect.objectContaining({
        found: true,
        executionId: f.EXEC_CURRENT,
        stageName: 'Build',
        actionName: 'Synth',
        cause: 'build-or-test',
        summary:
          'Build/Synth failed: the build or tests failed in phase BUILD (COMMAND_EXECUTION_ERROR: Error while executing command: npm test. Reason: exit status 1).',
      }),
    );
    expect(d.links[0]).toBe(deepLink);
    expect(d.error).toContain('Build terminated with state: FAILED');
    expect(m.codebuild).toHaveReceivedCommandWith(BatchGetBuildsCommand, { ids: [buildId] });
    expect(m.codepipeline).toHaveReceivedCommandWith(ListActionExecutionsCommand, {
      pipelineName: f.PIPELINE,
      filter: { pipelineExecutionId: f.EXEC_CURRENT },
    });
    expect(formatDiagnosis(d)).toContain(`Links:\n  ${deepLink}`);
  });

  test('permission-denied: extracts the missing action and the role from the first failing resource', async () => {
    failedActions(
      f.actionDetail({
        stageName: 'Beta',
        actionName: 'LambdaService.Deploy',
        category: 'Deploy',
        provider: 'CloudFormation',
        configuration: cfnConfig(BETA_LAMBDA),
        error: cfnActionError(BETA_LAMBDA, 'ApiServiceFunction1234ABCD'),
      }),
    );
    stackEvents(BETA_LAMBDA, [
      {
        id: 'ApiServiceFunction1234ABCD',
        type: 'AWS::Lambda::Function',
        reason:
          'Resource handler returned message: "User: arn:aws:sts::111111111111:assumed-role/cdk-hnb659fds-cfn-exec-role-111111111111-us-east-1/AWSCloudFormation is not authorized to perform: lambda:UpdateFunctionCode on resource: arn:aws:lambda:us-east-1:111111111111:function:Beta-us-east-1-LambdaService-ApiServiceFunction-AbCdEf123456 because no identity-based policy allows the lambda:UpdateFunctionCode action (Service: Lambda, Status Code: 403, Request ID: 0c7e1f2a-9b8d-4c6e-a5f4-3d2c1b0a9e8f)" (RequestToken: 1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d, HandlerErrorCode: AccessDenied)',
      },
    ]);

    const d = await diagnose();
    expect(d.cause).toBe('permission-denied');
    expect(d.summary).toBe(
      'Beta/LambdaService.Deploy failed: permission denied: arn:aws:sts::111111111111:assumed-role/cdk-hnb659fds-cfn-exec-role-111111111111-us-east-1/AWSCloudFormation may not call lambda:UpdateFunctionCode while deploying ApiServiceFunction1234ABCD (AWS::Lambda::Function).',
    );
    expect(d.fix).toMatch(
      /^Grant lambda:UpdateFunctionCode to role cdk-hnb659fds-cfn-exec-role-111111111111-us-east-1 in account 111111111111/,
    );
    expect(m.cloudformation).toHaveReceivedCommandWith(DescribeStackEventsCommand, { StackName: BETA_LAMBDA });
  });

  test('cloudformation-resource: reports the FIRST failing resource of the last operation, not cancellations or older failures', async () => {
    failedActions(
      f.actionDetail({
        stageName: 'Beta',
        actionName: 'EcsService.Deploy',
        category: 'Deploy',
        provider: 'CloudFormation',
        configuration: cfnConfig(BETA_ECS),
        error: cfnActionError(BETA_ECS, 'WebServiceTaskDefinition2'),
      }),
    );
    stackEvents(BETA_ECS, [
      { id: 'WebServiceListenerRule', type: 'AWS::ElasticLoadBalancingV2::ListenerRule', reason: 'Resource update cancelled' },
      {
        id: 'WebServiceTaskDefinition2',
        type: 'AWS::ECS::TaskDefinition',
        status: 'CREATE_FAILED',
        reason:
          'Resource handler returned message: "Invalid request provided: Create TaskDefinition: Invalid \'cpu\' setting for task. (Service: AmazonECS; Status Code: 400; Error Code: ClientException; Request ID: 5e4d3c2b-1a0f-4e9d-8c7b-6a5f4e3d2c1b; Proxy: null)" (RequestToken: 9f8e7d6c-5b4a-3210-fedc-ba9876543210, HandlerErrorCode: InvalidRequest)',
      },
    ]);

    const d = await diagnose();
    expect(d.cause).toBe('cloudformation-resource');
    expect(d.summary).toContain(
      `CloudFormation could not deploy WebServiceTaskDefinition2 (AWS::ECS::TaskDefinition) in stack ${BETA_ECS}: Resource handler returned message: "Invalid request provided: Create TaskDefinition: Invalid 'cpu' setting for task.`,
    );
    expect(d.summary).not.toContain('OldQueue');
    expect(d.error).toContain('WebServiceTaskDefinition2 (AWS::ECS::TaskDefinition): Resource handler returned message');
    expect(d.links).toContain(
      `https://us-east-1.console.aws.amazon.com/cloudformation/home?region=us-east-1#/stacks/events?stackId=${encodeURIComponent(`arn:aws:cloudformation:us-east-1:${f.PIPELINE_ACCOUNT}:stack/${BETA_ECS}/1f2e3d4c-5b6a-11ef-8a9b-0e1d2c3b4a59`)}`,
    );
  });

  test('codedeploy-alarm-rollback: follows the deployment id in the custom resource failure to the alarm that fired', async () => {
    failedActions(
      f.actionDetail({
        stageName: 'Beta',
        actionName: 'EcsService.Deploy',
        category: 'Deploy',
        provider: 'CloudFormation',
        configuration: cfnConfig(BETA_ECS),
        error: cfnActionError(BETA_ECS, 'WebServiceDeploymentA1B2C3D4'),
      }),
    );
    stackEvents(BETA_ECS, [
      {
        id: 'WebServiceDeploymentA1B2C3D4',
        type: 'AWS::CloudFormation::CustomResource',
        reason:
          'Received response status [FAILED] from custom resource. Message returned: CodeDeploy deployment d-7XKQ2M9PL of arn:aws:ecs:us-east-1:111111111111:task-definition/Betauseast1EcsServiceWebServiceTaskDef:14 failed and was rolled back (rollback deployment d-RB0000001). alarm safe-deploy-beta-web-5xx went into ALARM. (RequestId: 3c2b1a0f-9e8d-4c7b-a6f5-e4d3c2b1a0f9)',
      },
    ]);
    deployment('d-7XKQ2M9PL', {
      code: 'ALARM_ACTIVE',
      message:
        'One or more alarms have been activated according to the Amazon CloudWatch metrics you selected, and the affected deployments have been stopped. Activated alarms: safe-deploy-beta-web-5xx',
    });

    const d = await diagnose();
    expect(d.cause).toBe('codedeploy-alarm-rollback');
    expect(d.summary).toBe(
      'Beta/EcsService.Deploy failed: CodeDeploy deployment d-7XKQ2M9PL stopped and rolled back because alarm safe-deploy-beta-web-5xx went into ALARM during the traffic shift; the previous version serves all traffic again.',
    );
    expect(d.links).toContain('https://us-east-1.console.aws.amazon.com/codesuite/codedeploy/deployments/d-7XKQ2M9PL?region=us-east-1');
    expect(m.codedeploy).toHaveReceivedCommandWith(GetDeploymentCommand, { deploymentId: 'd-7XKQ2M9PL' });
  });

  test('lifecycle-hook: names the hook that failed and its message', async () => {
    failedActions(
      f.actionDetail({
        stageName: 'Beta',
        actionName: 'LambdaService.Deploy',
        category: 'Deploy',
        provider: 'CloudFormation',
        configuration: cfnConfig(BETA_LAMBDA),
        error: cfnActionError(BETA_LAMBDA, 'ApiServiceAliasLive5F6E7D8C'),
      }),
    );
    stackEvents(BETA_LAMBDA, [
      {
        id: 'ApiServiceAliasLive5F6E7D8C',
        type: 'AWS::Lambda::Alias',
        reason:
          'CodeDeploy deployment d-HK3J5L7N9 failed: The deployment failed because one or more of the lifecycle event validation functions failed. (Error code: HOOK_EXECUTION_FAILURE)',
      },
    ]);
    deployment(
      'd-HK3J5L7N9',
      {
        code: 'HOOK_EXECUTION_FAILURE',
        message:
          'An error occurred while invoking the lifecycle event hook; the deployment failed because a validation Lambda function failed or returned a Failed status.',
      },
      [
        {
          lifecycleEventName: 'BeforeAllowTraffic',
          status: 'Failed',
          diagnostics: { errorCode: 'ScriptFailed', message: 'smoke test GET /health returned 500 on version 13' },
        },
        { lifecycleEventName: 'AllowTraffic', status: 'Skipped' },
      ],
      'lambda',
    );

    const d = await diagnose();
    expect(d.cause).toBe('lifecycle-hook');
    expect(d.summary).toBe(
      'Beta/LambdaService.Deploy failed: the BeforeAllowTraffic hook reported Failed (smoke test GET /health returned 500 on version 13), so CodeDeploy rolled the deployment back.',
    );
    expect(d.error).toContain('BeforeAllowTraffic: smoke test GET /health returned 500 on version 13');
  });

  test('ecs-health-check: the new tasks failed their ELB health checks', async () => {
    failedActions(
      f.actionDetail({
        stageName: 'Beta',
        actionName: 'EcsService.Deploy',
        category: 'Deploy',
        provider: 'CloudFormation',
        configuration: cfnConfig(BETA_ECS),
        error: cfnActionError(BETA_ECS, 'WebServiceDeploymentA1B2C3D4'),
      }),
    );
    stackEvents(BETA_ECS, [
      {
        id: 'WebServiceDeploymentA1B2C3D4',
        type: 'AWS::CloudFormation::CustomResource',
        reason:
          'Received response status [FAILED] from custom resource. Message returned: CodeDeploy deployment d-Q1W2E3R4T of the new task definition failed and was rolled back (rollback deployment d-RB0000001).',
      },
    ]);
    deployment('d-Q1W2E3R4T', {
      code: 'ECS_UPDATE_ERROR',
      message:
        'The ECS service cannot reach a steady state. Error message: (service safe-deploy-beta-web, taskSet ecs-svc/1234567890123456789) (task 0f6d2c4b8a1e4f3d9c7b5a3e1d0f2b4c) failed ELB health checks in (target-group arn:aws:elasticloadbalancing:us-east-1:111111111111:targetgroup/safe-d-Green-1ABC/0123456789abcdef)',
    });

    const d = await diagnose();
    expect(d.cause).toBe('ecs-health-check');
    expect(d.summary).toBe(
      'Beta/EcsService.Deploy failed: the new ECS tasks did not pass their health checks, so CodeDeploy kept traffic on the old task set (deployment d-Q1W2E3R4T).',
    );
    expect(d.error).toContain('CodeDeploy d-Q1W2E3R4T ECS_UPDATE_ERROR: The ECS service cannot reach a steady state.');
  });

  test('timeout: a smoke test build that timed out', async () => {
    const buildId = 'SafeDeployPipelineSmokeTestBeta-9f8e7d:2b3c4d5e-6f70-4182-93a4-b5c6d7e8f901';
    failedActions(
      f.actionDetail({
        stageName: 'Beta',
        actionName: 'SmokeTest-Beta-us-east-1',
        category: 'Build',
        provider: 'CodeBuild',
        externalExecutionId: buildId,
        error: 'Build terminated with state: TIMED_OUT',
      }),
    );
    m.codebuild.on(BatchGetBuildsCommand).resolves({
      builds: [
        {
          id: buildId,
          buildStatus: 'TIMED_OUT',
          phases: [
            {
              phaseType: 'BUILD',
              phaseStatus: 'TIMED_OUT',
              contexts: [{ statusCode: 'BUILD_TIMED_OUT', message: 'Build has timed out. ' }],
            },
          ],
          logs: { deepLink: 'https://console.aws.amazon.com/cloudwatch/home?region=us-east-1#logsV2:log-groups/x' },
        },
      ],
    });

    const d = await diagnose();
    expect(d.cause).toBe('timeout');
    expect(d.summary).toBe('Beta/SmokeTest-Beta-us-east-1 failed: the action ran out of time.');
  });

  test('missing-artifact: the Lambda code asset is gone from the assets bucket', async () => {
    failedActions(
      f.actionDetail({
        stageName: 'Beta',
        actionName: 'LambdaService.Deploy',
        category: 'Deploy',
        provider: 'CloudFormation',
        configuration: cfnConfig(BETA_LAMBDA),
        error: cfnActionError(BETA_LAMBDA, 'ApiServiceFunction1234ABCD'),
      }),
    );
    stackEvents(BETA_LAMBDA, [
      {
        id: 'ApiServiceFunction1234ABCD',
        type: 'AWS::Lambda::Function',
        reason:
          'Resource handler returned message: "Error occurred while GetObject. S3 Error Code: NoSuchKey. S3 Error Message: The specified key does not exist. (Service: Lambda, Status Code: 400, Request ID: 8a7b6c5d-4e3f-4a2b-9c1d-0e9f8a7b6c5d)" (RequestToken: 2b3c4d5e-6f7a-8b9c-0d1e-2f3a4b5c6d7e, HandlerErrorCode: InvalidRequest)',
      },
    ]);

    const d = await diagnose();
    expect(d.cause).toBe('missing-artifact');
    expect(d.summary).toBe(
      'Beta/LambdaService.Deploy failed: an artifact or container image the action needs does not exist (ApiServiceFunction1234ABCD (AWS::Lambda::Function)).',
    );
  });

  test('source-connection: the CodeConnections connection is not available', async () => {
    m.codepipeline.on(ListActionExecutionsCommand).resolves({
      actionExecutionDetails: [
        f.actionDetail({
          stageName: 'Source',
          actionName: 'example-org_safe-deploy',
          category: 'Source',
          provider: 'CodeStarSourceConnection',
          error: `Unable to use Connection: arn:aws:codeconnections:us-east-1:${f.PIPELINE_ACCOUNT}:connection/00000000-0000-4000-8000-000000000000. The provided connection is not in AVAILABLE state. Current state: PENDING.`,
        }),
      ],
    });

    const d = await diagnose();
    expect(d.cause).toBe('source-connection');
    expect(d.stageName).toBe('Source');
    expect(d.fix).toContain('the connection must be Available');
  });

  test('unknown: an unrecognised error is shown raw, never hidden', async () => {
    const raw = 'InternalError: The action provider returned an unexpected response (id 42).';
    failedActions(f.actionDetail({ stageName: 'Beta', actionName: 'Approve', category: 'Deploy', provider: 'CustomThing', error: raw }));

    const d = await diagnose();
    expect(d.cause).toBe('unknown');
    expect(d.error).toBe(raw);
    expect(formatDiagnosis(d)).toContain(`Error:   ${raw}`);
  });

  test('says where to look when the failed stack is in another account, and still classifies from the message', async () => {
    failedActions(
      f.actionDetail({
        stageName: 'Prod-Wave1',
        actionName: 'LambdaService.Deploy',
        category: 'Deploy',
        provider: 'CloudFormation',
        account: f.PROD_ACCOUNT,
        configuration: {
          ...cfnConfig('Prod-Wave1-us-east-1-LambdaService'),
          RoleArn: `arn:aws:iam::${f.PROD_ACCOUNT}:role/cdk-hnb659fds-cfn-exec-role-${f.PROD_ACCOUNT}-us-east-1`,
        },
        error: cfnActionError('Prod-Wave1-us-east-1-LambdaService', 'ApiServiceAliasLive5F6E7D8C'),
      }),
    );

    const d = await diagnose();
    expect(d.cause).toBe('cloudformation-resource');
    expect(d.summary).toContain('CloudFormation could not deploy ApiServiceAliasLive5F6E7D8C; the stack rolled back.');
    expect(d.summary).toContain(
      `Stack Prod-Wave1-us-east-1-LambdaService is in account ${f.PROD_ACCOUNT} (us-east-1): use credentials for it to see the failing resource`,
    );
    expect(m.cloudformation).not.toHaveReceivedCommand(DescribeStackEventsCommand);
  });

  test('finds no failure when the latest finished execution succeeded', async () => {
    m.codepipeline.on(ListPipelineExecutionsCommand).resolves({
      pipelineExecutionSummaries: [
        { pipelineExecutionId: f.EXEC_CURRENT, status: 'Superseded' },
        { pipelineExecutionId: f.EXEC_PREVIOUS, status: 'Succeeded' },
        { pipelineExecutionId: f.EXEC_OLDER, status: 'Failed' },
      ],
    });
    const d = await diagnose();
    expect(d).toEqual({
      pipelineName: f.PIPELINE,
      executionId: f.EXEC_PREVIOUS,
      found: false,
      cause: 'none',
      summary: `no failure: the latest finished execution ${f.EXEC_PREVIOUS} Succeeded`,
      fix: '',
      links: [],
    });
    expect(formatDiagnosis(d)).toBe(d.summary);
    expect(m.codepipeline).not.toHaveReceivedCommand(ListActionExecutionsCommand);
  });

  test('looks past a successful rollback to the failure it undid, and says it was rolled back', async () => {
    const ROLLBACK = '4e3d2c1b-0a9f-4e8d-b7c6-5a4f3e2d1c0b';
    m.codepipeline.on(ListPipelineExecutionsCommand).resolves({
      pipelineExecutionSummaries: [
        {
          pipelineExecutionId: ROLLBACK,
          status: 'Succeeded',
          executionType: 'ROLLBACK',
          rollbackMetadata: { rollbackTargetPipelineExecutionId: f.EXEC_OLDER },
          startTime: f.at('2026-11-02T10:25:00Z'),
        },
        { pipelineExecutionId: f.EXEC_CURRENT, status: 'Failed', executionType: 'STANDARD', startTime: f.at('2026-11-02T10:00:00Z') },
      ],
    });
    failedActions(
      f.actionDetail({
        stageName: 'Build',
        actionName: 'Synth',
        category: 'Build',
        provider: 'CodeBuild',
        error: 'Build terminated with state: FAILED',
      }),
    );
    const d = await diagnose();
    expect(d.executionId).toBe(f.EXEC_CURRENT);
    expect(d.summary).toMatch(
      new RegExp(`Since then, rollback execution ${ROLLBACK} succeeded \\(back to execution ${f.EXEC_OLDER}\\)\\.$`),
    );
  });

  test('a failed rollback execution is the failure to explain', async () => {
    const ROLLBACK = '4e3d2c1b-0a9f-4e8d-b7c6-5a4f3e2d1c0b';
    m.codepipeline.on(ListPipelineExecutionsCommand).resolves({
      pipelineExecutionSummaries: [
        { pipelineExecutionId: ROLLBACK, status: 'Failed', executionType: 'ROLLBACK', startTime: f.at('2026-11-02T10:25:00Z') },
        { pipelineExecutionId: f.EXEC_CURRENT, status: 'Failed', executionType: 'STANDARD', startTime: f.at('2026-11-02T10:00:00Z') },
      ],
    });
    failedActions(
      f.actionDetail({
        stageName: 'Build',
        actionName: 'Synth',
        category: 'Build',
        provider: 'CodeBuild',
        error: 'Build terminated with state: FAILED',
        executionId: ROLLBACK,
      }),
    );
    expect((await diagnose()).executionId).toBe(ROLLBACK);
  });

  test('explains a given execution, and uses the action state when the action history has no message', async () => {
    m.codepipeline.on(GetPipelineExecutionCommand).resolves(f.execution(f.EXEC_OLDER, f.SHA_PREVIOUS, 'Old change', 'Failed'));
    const detail = f.actionDetail({
      stageName: 'Build',
      actionName: 'Synth',
      category: 'Build',
      provider: 'CodeBuild',
      executionId: f.EXEC_OLDER,
    });
    m.codepipeline.on(ListActionExecutionsCommand).resolves({ actionExecutionDetails: [detail] });
    m.codepipeline.on(GetPipelineStateCommand).resolves(
      f.getPipelineStateOutput([
        {
          stageName: 'Build',
          actionStates: [
            {
              actionName: 'Synth',
              latestExecution: {
                actionExecutionId: detail.actionExecutionId,
                status: 'Failed',
                errorDetails: { code: 'JobFailed', message: 'Build terminated with state: FAILED' },
              },
            },
          ],
          latestExecution: { pipelineExecutionId: f.EXEC_OLDER, status: 'Failed' },
        },
      ]),
    );
    const d = await diagnose(f.EXEC_OLDER);
    expect(d).toEqual(
      expect.objectContaining({ executionId: f.EXEC_OLDER, cause: 'build-or-test', error: 'Build terminated with state: FAILED' }),
    );
    expect(m.codepipeline).not.toHaveReceivedCommand(ListPipelineExecutionsCommand);
  });

  test('is side-effect free: nothing on the console', async () => {
    const spies = (['log', 'error', 'warn', 'info'] as const).map((k) => jest.spyOn(console, k).mockImplementation(() => undefined));
    failedActions(f.actionDetail({ stageName: 'Beta', actionName: 'Approve', category: 'Deploy', provider: 'CustomThing', error: 'x' }));
    await diagnose();
    spies.forEach((s) => {
      expect(s).not.toHaveBeenCalled();
      s.mockRestore();
    });
  });
});

describe('classifyFailure', () => {
  test('recognises an alarm rollback from the message alone (no deployment readable)', () => {
    const v = classifyFailure({
      provider: 'CloudFormation',
      actionError:
        'The deployment failed because a specified alarm was triggered and the deployment was stopped. Alarm name: safe-deploy-prod-api-errors, safe-deploy-prod-api-latency.',
    });
    expect(v.cause).toBe('codedeploy-alarm-rollback');
    expect(v.summary).toContain('because alarm safe-deploy-prod-api-errors, safe-deploy-prod-api-latency went into ALARM');
  });

  test('reads the alarm name from the ECS deployment resource message, angle brackets or not', () => {
    expect(
      classifyFailure({ actionError: 'CodeDeploy deployment d-7XKQ2M9PL failed. alarm safe-deploy-beta-web-5xx went into ALARM.' }).summary,
    ).toContain('because alarm safe-deploy-beta-web-5xx went into ALARM');
    expect(
      classifyFailure({
        deployment: {
          deploymentId: 'd-7XKQ2M9PL',
          errorCode: 'ALARM_ACTIVE',
          errorMessage: 'Activated alarms: <safe-deploy-beta-web-5xx>',
        },
      }).summary,
    ).toContain('because alarm safe-deploy-beta-web-5xx went into ALARM');
  });

  test.each([
    ['Activated alarms: <Prod-api-ErrorJudge, Prod-api-Catastrophe>'],
    ['Activated alarms: <Prod-api-ErrorJudge>, <Prod-api-Catastrophe>'],
  ])('names every alarm of a list, whole: %s', (message) => {
    const v = classifyFailure({
      deployment: {
        deploymentId: 'd-ABCDEF123',
        errorCode: 'ALARM_ACTIVE',
        errorMessage: `One or more alarms have been activated. ${message}`,
      },
    });
    expect(v.summary).toContain('because alarm Prod-api-ErrorJudge, Prod-api-Catastrophe went into ALARM');
    expect(v.fix).toContain('(CloudWatch console, Prod-api-ErrorJudge)');
  });

  test('recognises a missing container image', () => {
    const v = classifyFailure({
      actionError:
        'CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref 111111111111.dkr.ecr.us-east-1.amazonaws.com/safe-deploy:3f9c2e1b7a4d6c8e0f1a2b3c4d5e6f7a8b9c0d1e: not found',
    });
    expect(v.cause).toBe('missing-artifact');
  });

  test('recognises an access denial without an action name', () => {
    const v = classifyFailure({ actionError: 'Access Denied (Service: Amazon S3; Status Code: 403; Error Code: AccessDenied)' });
    expect(v).toEqual(expect.objectContaining({ cause: 'permission-denied', summary: 'permission denied.' }));
    expect(v.fix).toContain('CloudTrail');
  });
});

describe('the permissions diagnosis needs (the notifier runs it, with a role granted from lib/runtime/diagnosis/permissions.ts)', () => {
  test('every AWS call the scenarios above made is in the permission table', () => {
    expect(callsMade.size).toBeGreaterThanOrEqual(8);
    const missing = [...callsMade].filter((name) => !DIAGNOSIS_PERMISSIONS[name]);
    expect(missing).toEqual([]);
  });
});
