/**
 * Realistic AWS responses for the safe-deploy pipeline as CDK Pipelines builds it: stages Source,
 * Build, UpdatePipeline, Assets, Beta (account 111111111111, us-east-1) and Prod-Wave1 (account
 * 222222222222), each service stage deploying the LambdaService and EcsService stacks with
 * Prepare (CHANGE_SET_REPLACE) and Deploy (CHANGE_SET_EXECUTE) actions.
 */
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { CodeBuildClient } from '@aws-sdk/client-codebuild';
import { CodeDeployClient } from '@aws-sdk/client-codedeploy';
import { ActionDeclaration, CodePipelineClient, GetPipelineOutput, GetPipelineStateOutput, StageState } from '@aws-sdk/client-codepipeline';
import { mockClient } from 'aws-sdk-client-mock';
import { OpsClients } from '../../lib/runtime/clients';

// The SDK's Node-version notice is noise in test output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

export const PIPELINE = 'safe-deploy-pipeline';
export const REGION = 'us-east-1';
export const PIPELINE_ACCOUNT = '111111111111';
export const PROD_ACCOUNT = '222222222222';
export const EXEC_CURRENT = '5f2c8e0a-1b7d-4c3e-9a61-0d2f4b8c7e11';
export const EXEC_PREVIOUS = '0a9b8c7d-6e5f-4a3b-8c2d-1e0f9a8b7c6d';
export const EXEC_OLDER = '7c6d5e4f-3a2b-4c1d-9e8f-7a6b5c4d3e2f';
export const SHA_CURRENT = '3f9c2e1b7a4d6c8e0f1a2b3c4d5e6f7a8b9c0d1e';
export const SHA_PREVIOUS = '9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d';
export const RETRY = { sleep: async () => undefined };

export const mocks = () => ({
  codepipeline: mockClient(CodePipelineClient),
  codedeploy: mockClient(CodeDeployClient),
  cloudformation: mockClient(CloudFormationClient),
  codebuild: mockClient(CodeBuildClient),
});
export type Mocks = ReturnType<typeof mocks>;

/** Real clients; aws-sdk-client-mock replaces `send` on every instance. */
export function clients(): OpsClients {
  const config = { region: REGION, credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'example' } };
  return {
    codepipeline: new CodePipelineClient(config),
    codedeploy: new CodeDeployClient(config),
    cloudformation: new CloudFormationClient(config),
    codebuild: new CodeBuildClient(config),
  };
}

export const at = (iso: string) => new Date(iso);
export const metadata = { httpStatusCode: 400, requestId: '4b7e2f1a-0c9d-4e8f-a7b6-5c4d3e2f1a0b', attempts: 1, totalRetryDelay: 0 };

function cdkStackActions(stageName: string, account: string, stackName: string, runOrder: number): ActionDeclaration[] {
  const base = {
    actionTypeId: { category: 'Deploy' as const, owner: 'AWS' as const, provider: 'CloudFormation', version: '1' },
    roleArn: `arn:aws:iam::${account}:role/cdk-hnb659fds-deploy-role-${account}-${REGION}`,
    region: REGION,
  };
  const configuration = {
    StackName: stackName,
    ChangeSetName: 'PipelineChange',
    RoleArn: `arn:aws:iam::${account}:role/cdk-hnb659fds-cfn-exec-role-${account}-${REGION}`,
  };
  return [
    {
      ...base,
      name: `${stackName.replace(`${stageName}-${REGION}-`, '')}.Prepare`,
      runOrder,
      configuration: {
        ...configuration,
        ActionMode: 'CHANGE_SET_REPLACE',
        TemplatePath: `Synth_Output::assembly-SafeDeployPipeline-${stageName}-${REGION}/SafeDeployPipeline${stageName}${REGION.replace(/-/g, '')}${stackName.split('-').pop()}.template.json`,
        Capabilities: 'CAPABILITY_NAMED_IAM,CAPABILITY_AUTO_EXPAND',
      },
      inputArtifacts: [{ name: 'Synth_Output' }],
    },
    {
      ...base,
      name: `${stackName.replace(`${stageName}-${REGION}-`, '')}.Deploy`,
      runOrder: runOrder + 1,
      configuration: { ...configuration, ActionMode: 'CHANGE_SET_EXECUTE' },
    },
  ];
}

export function getPipelineOutput(): GetPipelineOutput {
  const serviceStage = (name: string, account: string) => ({
    name,
    actions: [
      ...cdkStackActions(name, account, `${name}-${REGION}-LambdaService`, 1),
      ...cdkStackActions(name, account, `${name}-${REGION}-EcsService`, 1),
    ],
  });
  return {
    pipeline: {
      name: PIPELINE,
      roleArn: `arn:aws:iam::${PIPELINE_ACCOUNT}:role/SafeDeployPipeline-PipelineRoleB27FAA37-1XYZ`,
      artifactStore: { type: 'S3', location: 'safedeploypipeline-artifactsbucket-1abc' },
      stages: [
        {
          name: 'Source',
          actions: [
            {
              name: 'example-org_safe-deploy',
              actionTypeId: { category: 'Source', owner: 'AWS', provider: 'CodeStarSourceConnection', version: '1' },
              configuration: {
                ConnectionArn: `arn:aws:codeconnections:${REGION}:${PIPELINE_ACCOUNT}:connection/00000000-0000-4000-8000-000000000000`,
                FullRepositoryId: 'example-org/safe-deploy',
                BranchName: 'main',
              },
              outputArtifacts: [{ name: 'example_org_safe_deploy_Source' }],
            },
          ],
        },
        {
          name: 'Build',
          actions: [
            {
              name: 'Synth',
              actionTypeId: { category: 'Build', owner: 'AWS', provider: 'CodeBuild', version: '1' },
              configuration: { ProjectName: 'SafeDeployPipelineSynthCdkBuildProject-abc123' },
            },
          ],
        },
        serviceStage('Beta', PIPELINE_ACCOUNT),
        serviceStage('Prod-Wave1', PROD_ACCOUNT),
      ],
      version: 7,
      pipelineType: 'V2',
      executionMode: 'QUEUED',
    },
    metadata: {
      pipelineArn: `arn:aws:codepipeline:${REGION}:${PIPELINE_ACCOUNT}:${PIPELINE}`,
      created: at('2026-10-01T09:00:00Z'),
      updated: at('2026-11-02T10:00:00Z'),
    },
  };
}

export function stage(
  name: string,
  status: string | undefined,
  executionId: string,
  actions: { name: string; status?: string; error?: string }[] = [],
): StageState {
  return {
    stageName: name,
    inboundTransitionState: { enabled: true },
    actionStates: actions.map((a) => ({
      actionName: a.name,
      latestExecution: a.status
        ? {
            actionExecutionId: `${a.name.length}f0e1d2c-3b4a-4596-8877-665544332211`,
            status: a.status as 'Succeeded',
            lastStatusChange: at('2026-11-02T10:05:00Z'),
            errorDetails: a.error ? { code: 'JobFailed', message: a.error } : undefined,
          }
        : undefined,
    })),
    latestExecution: status ? { pipelineExecutionId: executionId, status: status as 'Succeeded' } : undefined,
  };
}

export function getPipelineStateOutput(stages: StageState[]): GetPipelineStateOutput {
  return {
    pipelineName: PIPELINE,
    pipelineVersion: 7,
    stageStates: stages,
    created: at('2026-10-01T09:00:00Z'),
    updated: at('2026-11-02T10:00:00Z'),
  };
}

/** A CodeConnections source writes the revision summary as JSON. */
export function execution(executionId: string, sha: string, message: string, status = 'Succeeded') {
  return {
    pipelineExecution: {
      pipelineName: PIPELINE,
      pipelineVersion: 7,
      pipelineExecutionId: executionId,
      status: status as 'Succeeded',
      artifactRevisions: [
        {
          name: 'example_org_safe_deploy_Source',
          revisionId: sha,
          revisionSummary: JSON.stringify({ ProviderType: 'GitHub', CommitMessage: `${message}\n\nLonger body text.` }),
          revisionUrl: `https://github.com/example-org/safe-deploy/commit/${sha}`,
        },
      ],
      trigger: {
        triggerType: 'Webhook' as const,
        triggerDetail: `arn:aws:codeconnections:${REGION}:${PIPELINE_ACCOUNT}:connection/00000000-0000-4000-8000-000000000000`,
      },
      executionMode: 'QUEUED' as const,
      executionType: 'STANDARD' as const,
    },
  };
}

export function stackResources(stackName: string, kind: 'lambda' | 'ecs') {
  const prefix = stackName.replace(/-/g, '');
  return {
    StackResourceSummaries: [
      {
        LogicalResourceId: kind === 'lambda' ? 'ApiServiceApplication3C9A1B2D' : 'WebServiceApplication5E6F7A8B',
        PhysicalResourceId: `${prefix}-${kind === 'lambda' ? 'ApiServiceApplication' : 'WebServiceApplication'}-1A2B3C4D5E6F`,
        ResourceType: 'AWS::CodeDeploy::Application',
        LastUpdatedTimestamp: at('2026-10-01T09:10:00Z'),
        ResourceStatus: 'CREATE_COMPLETE' as const,
      },
      {
        LogicalResourceId: kind === 'lambda' ? 'ApiServiceDeploymentGroup9F8E7D6C' : 'WebServiceDeploymentGroup1B2C3D4E',
        PhysicalResourceId: `${prefix}-${kind === 'lambda' ? 'ApiServiceDeploymentGroup' : 'WebServiceDeploymentGroup'}-6F5E4D3C2B1A`,
        ResourceType: 'AWS::CodeDeploy::DeploymentGroup',
        LastUpdatedTimestamp: at('2026-10-01T09:10:00Z'),
        ResourceStatus: 'CREATE_COMPLETE' as const,
      },
      {
        LogicalResourceId: 'ApiServiceFunction1234ABCD',
        PhysicalResourceId: `${stackName}-ApiServiceFunction-AbCdEf123456`,
        ResourceType: 'AWS::Lambda::Function',
        LastUpdatedTimestamp: at('2026-11-02T10:06:00Z'),
        ResourceStatus: 'UPDATE_COMPLETE' as const,
      },
    ],
  };
}

export const names = (stackName: string, kind: 'lambda' | 'ecs') => {
  const [app, group] = stackResources(stackName, kind).StackResourceSummaries;
  return { applicationName: app.PhysicalResourceId, deploymentGroupName: group.PhysicalResourceId };
};

/** One ListActionExecutions entry, as CodePipeline returns it. */
export function actionDetail(a: {
  stageName: string;
  actionName: string;
  category: 'Source' | 'Build' | 'Deploy' | 'Test';
  provider: string;
  status?: 'Failed' | 'Succeeded';
  error?: string;
  externalExecutionId?: string;
  externalExecutionUrl?: string;
  configuration?: Record<string, string>;
  account?: string;
  executionId?: string;
  lastUpdateTime?: string;
}) {
  const account = a.account ?? PIPELINE_ACCOUNT;
  return {
    pipelineExecutionId: a.executionId ?? EXEC_CURRENT,
    actionExecutionId: `${a.actionName.length}1b2c3d4-aaaa-4bbb-8ccc-ddddeeeeffff`,
    pipelineVersion: 7,
    stageName: a.stageName,
    actionName: a.actionName,
    startTime: at('2026-11-02T10:05:00Z'),
    lastUpdateTime: at(a.lastUpdateTime ?? '2026-11-02T10:20:00Z'),
    status: a.status ?? ('Failed' as const),
    input: {
      actionTypeId: { category: a.category, owner: 'AWS' as const, provider: a.provider, version: '1' },
      configuration: a.configuration ?? {},
      resolvedConfiguration: a.configuration ?? {},
      roleArn: a.provider === 'CloudFormation' ? `arn:aws:iam::${account}:role/cdk-hnb659fds-deploy-role-${account}-${REGION}` : undefined,
      region: REGION,
      inputArtifacts: [],
    },
    output: {
      outputArtifacts: [],
      executionResult: {
        externalExecutionId: a.externalExecutionId,
        externalExecutionSummary: a.error,
        externalExecutionUrl: a.externalExecutionUrl,
        errorDetails: a.error ? { code: 'JobFailed', message: a.error } : undefined,
      },
    },
  };
}

/** A stack event, CloudFormation-style. */
export function stackEvent(stackName: string, logicalId: string, type: string, status: string, reason: string | undefined, time: string) {
  const stackId = `arn:aws:cloudformation:${REGION}:${PIPELINE_ACCOUNT}:stack/${stackName}/1f2e3d4c-5b6a-11ef-8a9b-0e1d2c3b4a59`;
  return {
    StackId: stackId,
    EventId: `${logicalId}-${status}-${time}`,
    StackName: stackName,
    LogicalResourceId: logicalId,
    PhysicalResourceId: logicalId === stackName ? stackId : '',
    ResourceType: type,
    Timestamp: at(time),
    ResourceStatus: status as 'CREATE_FAILED',
    ResourceStatusReason: reason,
  };
}
