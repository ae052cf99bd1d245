import 'aws-sdk-client-mock-jest';
import { ListStackResourcesCommand } from '@aws-sdk/client-cloudformation';
import {
  BatchGetDeploymentTargetsCommand,
  GetDeploymentCommand,
  ListDeploymentsCommand,
  ListDeploymentTargetsCommand,
} from '@aws-sdk/client-codedeploy';
import {
  GetPipelineCommand,
  GetPipelineExecutionCommand,
  GetPipelineStateCommand,
  PipelineExecutionNotFoundException,
} from '@aws-sdk/client-codepipeline';
import { formatStatus, getPipelineStatus } from '../../lib/ops/status';
import * as f from './fixtures';

const BETA_LAMBDA = `Beta-${f.REGION}-LambdaService`;
const BETA_ECS = `Beta-${f.REGION}-EcsService`;
const lambdaGroup = f.names(BETA_LAMBDA, 'lambda');
const ecsGroup = f.names(BETA_ECS, 'ecs');

function arrange(
  m: f.Mocks,
  stages = [
    f.stage('Source', 'Succeeded', f.EXEC_CURRENT, [{ name: 'example-org_safe-deploy', status: 'Succeeded' }]),
    f.stage('Build', 'Succeeded', f.EXEC_CURRENT, [{ name: 'Synth', status: 'Succeeded' }]),
    f.stage('Beta', 'InProgress', f.EXEC_CURRENT, [
      { name: 'LambdaService.Deploy', status: 'InProgress' },
      { name: 'EcsService.Deploy', status: 'InProgress' },
    ]),
    f.stage('Prod-Wave1', 'Succeeded', f.EXEC_PREVIOUS),
  ],
) {
  m.codepipeline.on(GetPipelineStateCommand).resolves(f.getPipelineStateOutput(stages));
  m.codepipeline.on(GetPipelineCommand).resolves(f.getPipelineOutput());
  m.codepipeline
    .on(GetPipelineExecutionCommand, { pipelineExecutionId: f.EXEC_CURRENT })
    .resolves(f.execution(f.EXEC_CURRENT, f.SHA_CURRENT, 'Add the orders endpoint', 'InProgress'));
  m.codepipeline
    .on(GetPipelineExecutionCommand, { pipelineExecutionId: f.EXEC_PREVIOUS })
    .resolves(f.execution(f.EXEC_PREVIOUS, f.SHA_PREVIOUS, 'Fix the health check path'));
  m.cloudformation.on(ListStackResourcesCommand, { StackName: BETA_LAMBDA }).resolves(f.stackResources(BETA_LAMBDA, 'lambda'));
  m.cloudformation.on(ListStackResourcesCommand, { StackName: BETA_ECS }).resolves(f.stackResources(BETA_ECS, 'ecs'));
  m.codedeploy.on(ListDeploymentsCommand).resolves({ deployments: ['d-LAMBDA001', 'd-ECS000001', 'd-OTHER0001'] });
  m.codedeploy.on(GetDeploymentCommand, { deploymentId: 'd-LAMBDA001' }).resolves({
    deploymentInfo: {
      ...lambdaGroup,
      deploymentId: 'd-LAMBDA001',
      status: 'InProgress',
      creator: 'CloudFormation',
      createTime: f.at('2026-11-02T10:06:10Z'),
      deploymentConfigName: 'CodeDeployDefault.LambdaCanary10Percent5Minutes',
    },
  });
  m.codedeploy.on(GetDeploymentCommand, { deploymentId: 'd-ECS000001' }).resolves({
    deploymentInfo: {
      ...ecsGroup,
      deploymentId: 'd-ECS000001',
      status: 'InProgress',
      creator: 'user',
      createTime: f.at('2026-11-02T10:06:40Z'),
    },
  });
  // Another team's deployment in the same region: not ours, must not show.
  m.codedeploy.on(GetDeploymentCommand, { deploymentId: 'd-OTHER0001' }).resolves({
    deploymentInfo: { applicationName: 'billing', deploymentGroupName: 'billing-prod', deploymentId: 'd-OTHER0001', status: 'InProgress' },
  });
  m.codedeploy
    .on(ListDeploymentTargetsCommand, { deploymentId: 'd-LAMBDA001' })
    .resolves({ targetIds: ['Beta-us-east-1-LambdaService-ApiServiceFunction-AbCdEf123456:live'] });
  m.codedeploy
    .on(ListDeploymentTargetsCommand, { deploymentId: 'd-ECS000001' })
    .resolves({ targetIds: ['safe-deploy-beta:safe-deploy-beta-web'] });
  m.codedeploy.on(BatchGetDeploymentTargetsCommand, { deploymentId: 'd-LAMBDA001' }).resolves({
    deploymentTargets: [
      {
        deploymentTargetType: 'LambdaTarget',
        lambdaTarget: {
          deploymentId: 'd-LAMBDA001',
          targetId: 'Beta-us-east-1-LambdaService-ApiServiceFunction-AbCdEf123456:live',
          targetArn: 'arn:aws:lambda:us-east-1:111111111111:function:Beta-us-east-1-LambdaService-ApiServiceFunction-AbCdEf123456:live',
          status: 'InProgress',
          lastUpdatedAt: f.at('2026-11-02T10:07:00Z'),
          lifecycleEvents: [
            {
              lifecycleEventName: 'BeforeAllowTraffic',
              status: 'Succeeded',
              startTime: f.at('2026-11-02T10:06:12Z'),
              endTime: f.at('2026-11-02T10:06:40Z'),
            },
            { lifecycleEventName: 'AllowTraffic', status: 'InProgress', startTime: f.at('2026-11-02T10:06:41Z') },
            { lifecycleEventName: 'AfterAllowTraffic', status: 'Pending' },
          ],
          lambdaFunctionInfo: {
            functionName: 'Beta-us-east-1-LambdaService-ApiServiceFunction-AbCdEf123456',
            functionAlias: 'live',
            currentVersion: '12',
            targetVersion: '13',
            targetVersionWeight: 0.1,
          },
        },
      },
    ],
  });
  m.codedeploy.on(BatchGetDeploymentTargetsCommand, { deploymentId: 'd-ECS000001' }).resolves({
    deploymentTargets: [
      {
        deploymentTargetType: 'ECSTarget',
        ecsTarget: {
          deploymentId: 'd-ECS000001',
          targetId: 'safe-deploy-beta:safe-deploy-beta-web',
          targetArn: 'arn:aws:ecs:us-east-1:111111111111:service/safe-deploy-beta/safe-deploy-beta-web',
          status: 'InProgress',
          lifecycleEvents: [
            { lifecycleEventName: 'BeforeInstall', status: 'Succeeded' },
            { lifecycleEventName: 'Install', status: 'Succeeded' },
            { lifecycleEventName: 'AfterInstall', status: 'Succeeded' },
            { lifecycleEventName: 'BeforeAllowTraffic', status: 'Succeeded' },
            { lifecycleEventName: 'AllowTraffic', status: 'InProgress' },
          ],
          taskSetsInfo: [
            {
              identifer: 'ecs-svc/1234567890123456789',
              desiredCount: 2,
              pendingCount: 0,
              runningCount: 2,
              status: 'ACTIVE',
              trafficWeight: 10,
              targetGroup: { name: 'safe-d-Green-1ABC' },
              taskSetLabel: 'Green',
            },
            {
              identifer: 'ecs-svc/9876543210987654321',
              desiredCount: 2,
              pendingCount: 0,
              runningCount: 2,
              status: 'PRIMARY',
              trafficWeight: 90,
              targetGroup: { name: 'safe-d-Blue-2DEF' },
              taskSetLabel: 'Blue',
            },
          ],
        },
      },
    ],
  });
}

describe('getPipelineStatus', () => {
  let m: f.Mocks;
  beforeEach(() => {
    m = f.mocks();
  });
  afterEach(() => Object.values(m).forEach((x) => x.restore()));

  test("reports every stage, its commit, and the running stage's deployments with their traffic split", async () => {
    arrange(m);
    const status = await getPipelineStatus(f.clients(), { pipelineName: f.PIPELINE, region: f.REGION, retry: f.RETRY });

    expect(status.account).toBe(f.PIPELINE_ACCOUNT);
    expect(status.stages.map((s) => [s.name, s.status, s.revision?.revisionId, s.revision?.summary])).toEqual([
      ['Source', 'Succeeded', f.SHA_CURRENT, 'Add the orders endpoint'],
      ['Build', 'Succeeded', f.SHA_CURRENT, 'Add the orders endpoint'],
      ['Beta', 'InProgress', f.SHA_CURRENT, 'Add the orders endpoint'],
      ['Prod-Wave1', 'Succeeded', f.SHA_PREVIOUS, 'Fix the health check path'],
    ]);
    expect(status.deployments).toEqual([
      expect.objectContaining({
        deploymentId: 'd-LAMBDA001',
        stageName: 'Beta',
        stackName: BETA_LAMBDA,
        lifecycleEvent: 'AllowTraffic',
        traffic: [expect.objectContaining({ kind: 'lambda', alias: 'live', currentVersion: '12', targetVersion: '13', targetPercent: 10 })],
      }),
      expect.objectContaining({
        deploymentId: 'd-ECS000001',
        stackName: BETA_ECS,
        traffic: [
          expect.objectContaining({
            kind: 'ecs',
            taskSets: [
              expect.objectContaining({ label: 'Blue', trafficWeight: 90 }),
              expect.objectContaining({ label: 'Green', trafficWeight: 10 }),
            ],
          }),
        ],
      }),
    ]);
    expect(status.notes).toEqual([]);
    // One GetPipelineExecution per distinct execution, not per stage.
    expect(m.codepipeline).toHaveReceivedCommandTimes(GetPipelineExecutionCommand, 2);
    expect(m.codedeploy).toHaveReceivedCommandWith(ListDeploymentsCommand, {
      includeOnlyStatuses: ['Created', 'Queued', 'InProgress', 'Baking', 'Ready'],
    });
    // Only the running stage's stacks are read; Prod is idle.
    expect(m.cloudformation).toHaveReceivedCommandTimes(ListStackResourcesCommand, 2);
    expect(m.codedeploy).not.toHaveReceivedCommandWith(ListDeploymentTargetsCommand, { deploymentId: 'd-OTHER0001' });

    const text = formatStatus(status);
    expect(text).toContain('Pipeline safe-deploy-pipeline (111111111111/us-east-1)');
    expect(text).toMatch(/Beta {8}InProgress {2}3f9c2e1 "Add the orders endpoint" {2}exec 5f2c8e0a/);
    expect(text).toContain(
      `CodeDeploy d-LAMBDA001 ${lambdaGroup.applicationName}/${lambdaGroup.deploymentGroupName}: InProgress, lifecycle AllowTraffic (stack ${BETA_LAMBDA}, us-east-1)`,
    );
    expect(text).toContain('Lambda Beta-us-east-1-LambdaService-ApiServiceFunction-AbCdEf123456:live: v12 90% -> v13 10%');
    expect(text).toContain('ECS safe-deploy-beta:safe-deploy-beta-web: Blue 90% (2/2 running) -> Green 10% (2/2 running)');
  });

  test('says which account to use for a running stage in another account instead of failing', async () => {
    arrange(m, [
      f.stage('Beta', 'Succeeded', f.EXEC_CURRENT),
      f.stage('Prod-Wave1', 'InProgress', f.EXEC_CURRENT, [{ name: 'LambdaService.Deploy', status: 'InProgress' }]),
    ]);
    const status = await getPipelineStatus(f.clients(), { pipelineName: f.PIPELINE, region: f.REGION, retry: f.RETRY });
    expect(status.deployments).toEqual([]);
    expect(status.notes).toEqual([
      `Prod-Wave1: stack Prod-Wave1-us-east-1-LambdaService is in account ${f.PROD_ACCOUNT} (us-east-1): use credentials for it to see its deployments`,
      `Prod-Wave1: stack Prod-Wave1-us-east-1-EcsService is in account ${f.PROD_ACCOUNT} (us-east-1): use credentials for it to see its deployments`,
    ]);
    expect(m.cloudformation).not.toHaveReceivedCommand(ListStackResourcesCommand);
    expect(formatStatus(status)).toContain(`note: Prod-Wave1: stack Prod-Wave1-us-east-1-LambdaService is in account ${f.PROD_ACCOUNT}`);
  });

  test('shows failed actions with their error and tolerates a stage that never ran and an expired execution', async () => {
    arrange(m, [
      f.stage('Build', 'Failed', f.EXEC_OLDER, [
        { name: 'Synth', status: 'Failed', error: 'Build terminated with state: FAILED. Phase: BUILD, Code: COMMAND_EXECUTION_ERROR' },
      ]),
      f.stage('Beta', undefined, ''),
    ]);
    m.codepipeline.on(GetPipelineExecutionCommand, { pipelineExecutionId: f.EXEC_OLDER }).rejects(
      new PipelineExecutionNotFoundException({
        message: `Pipeline execution with id '${f.EXEC_OLDER}' not found`,
        $metadata: f.metadata,
      }),
    );
    const status = await getPipelineStatus(f.clients(), { pipelineName: f.PIPELINE, region: f.REGION, retry: f.RETRY });
    expect(status.stages[0]).toEqual(
      expect.objectContaining({
        status: 'Failed',
        revision: undefined,
        failedActions: [{ name: 'Synth', error: expect.stringContaining('COMMAND_EXECUTION_ERROR') }],
      }),
    );
    expect(status.stages[1].status).toBe('-');
    const text = formatStatus(status);
    expect(text).toContain('x Synth: Build terminated with state: FAILED. Phase: BUILD, Code: COMMAND_EXECUTION_ERROR');
    expect(m.codedeploy).not.toHaveReceivedCommand(ListDeploymentsCommand);
  });
});
