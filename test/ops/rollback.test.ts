import 'aws-sdk-client-mock-jest';
import { ListStackResourcesCommand } from '@aws-sdk/client-cloudformation';
import { BatchGetDeploymentTargetsCommand, GetDeploymentCommand, ListDeploymentsCommand, ListDeploymentTargetsCommand, StopDeploymentCommand } from '@aws-sdk/client-codedeploy';
import {
  GetPipelineCommand,
  GetPipelineExecutionCommand,
  GetPipelineStateCommand,
  ListPipelineExecutionsCommand,
  RollbackStageCommand,
} from '@aws-sdk/client-codepipeline';
import { describeRollbackPlan, executeRollback, formatRollback, planRollback } from '../../lib/ops/rollback';
import * as f from './fixtures';

const BETA_LAMBDA = 'Beta-us-east-1-LambdaService';
const group = f.names(BETA_LAMBDA, 'lambda');
const opts = { pipelineName: f.PIPELINE, region: f.REGION, retry: f.RETRY };

let m: f.Mocks;
beforeEach(() => {
  m = f.mocks();
  m.codepipeline.on(GetPipelineCommand).resolves(f.getPipelineOutput());
  m.codepipeline.on(GetPipelineStateCommand).resolves(f.getPipelineStateOutput([f.stage('Beta', 'Failed', f.EXEC_CURRENT)]));
  m.codepipeline.on(GetPipelineExecutionCommand, { pipelineExecutionId: f.EXEC_CURRENT }).resolves(f.execution(f.EXEC_CURRENT, f.SHA_CURRENT, 'Add the orders endpoint', 'Failed'));
  m.codepipeline.on(GetPipelineExecutionCommand, { pipelineExecutionId: f.EXEC_PREVIOUS }).resolves(f.execution(f.EXEC_PREVIOUS, f.SHA_PREVIOUS, 'Fix the health check path'));
  m.codepipeline.on(ListPipelineExecutionsCommand).resolves({
    pipelineExecutionSummaries: [
      { pipelineExecutionId: f.EXEC_PREVIOUS, status: 'Succeeded', sourceRevisions: [{ actionName: 'example-org_safe-deploy', revisionId: f.SHA_PREVIOUS }] },
      { pipelineExecutionId: f.EXEC_OLDER, status: 'Succeeded' },
    ],
  });
  m.codepipeline.on(RollbackStageCommand).resolves({ pipelineExecutionId: '9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a' });
});
afterEach(() => Object.values(m).forEach((x) => x.restore()));

test('rolls a failed stage back to its last successful execution', async () => {
  const plan = await planRollback(f.clients(), { ...opts, stageName: 'Beta' });
  expect(plan).toEqual(expect.objectContaining({ currentExecutionId: f.EXEC_CURRENT, currentStatus: 'Failed', targetExecutionId: f.EXEC_PREVIOUS, deploymentsToStop: [] }));
  expect(m.codepipeline).toHaveReceivedCommandWith(ListPipelineExecutionsCommand, { pipelineName: f.PIPELINE, filter: { succeededInStage: { stageName: 'Beta' } } });
  expect(describeRollbackPlan(plan)).toBe(
    [
      `Roll back stage Beta of ${f.PIPELINE} (us-east-1)`,
      `  from execution ${f.EXEC_CURRENT} [Failed] (commit 3f9c2e1 "Add the orders endpoint")`,
      `  to   execution ${f.EXEC_PREVIOUS} (commit 9e8d7c6 "Fix the health check path")`,
    ].join('\n'),
  );

  const result = await executeRollback(f.clients(), plan, opts);
  expect(m.codepipeline).toHaveReceivedCommandWith(RollbackStageCommand, { pipelineName: f.PIPELINE, stageName: 'Beta', targetPipelineExecutionId: f.EXEC_PREVIOUS });
  expect(m.codedeploy).not.toHaveReceivedCommand(StopDeploymentCommand);
  expect(formatRollback(result)).toBe(
    `Rolling back stage Beta to execution ${f.EXEC_PREVIOUS} (commit 9e8d7c6 "Fix the health check path"): rollback execution 9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a.\nFollow it with: deployctl status --pipeline ${f.PIPELINE}`,
  );
});

test('stops the in-flight CodeDeploy deployment with automatic rollback, waits for the stage, then rolls back', async () => {
  m.codepipeline
    .on(GetPipelineStateCommand)
    .resolvesOnce(f.getPipelineStateOutput([f.stage('Beta', 'InProgress', f.EXEC_CURRENT)])) // plan
    .resolvesOnce(f.getPipelineStateOutput([f.stage('Beta', 'InProgress', f.EXEC_CURRENT)])) // first poll
    .resolves(f.getPipelineStateOutput([f.stage('Beta', 'Failed', f.EXEC_CURRENT)]));
  m.cloudformation.on(ListStackResourcesCommand, { StackName: BETA_LAMBDA }).resolves(f.stackResources(BETA_LAMBDA, 'lambda'));
  m.cloudformation.on(ListStackResourcesCommand, { StackName: 'Beta-us-east-1-EcsService' }).rejects(
    Object.assign(new Error('Stack with id Beta-us-east-1-EcsService does not exist'), { name: 'ValidationError' }),
  );
  m.codedeploy.on(ListDeploymentsCommand).resolves({ deployments: ['d-LAMBDA001'] });
  m.codedeploy.on(GetDeploymentCommand).resolves({ deploymentInfo: { ...group, deploymentId: 'd-LAMBDA001', status: 'InProgress', creator: 'CloudFormation' } });
  m.codedeploy.on(ListDeploymentTargetsCommand).resolves({ targetIds: [] });
  m.codedeploy.on(BatchGetDeploymentTargetsCommand).resolves({ deploymentTargets: [] });
  m.codedeploy.on(StopDeploymentCommand).resolves({ status: 'Pending', statusMessage: 'Deployment of revision is being stopped' });

  const plan = await planRollback(f.clients(), { ...opts, stageName: 'Beta' });
  expect(plan.deploymentsToStop.map((d) => d.deploymentId)).toEqual(['d-LAMBDA001']);
  expect(describeRollbackPlan(plan)).toContain(`stopping CodeDeploy deployment d-LAMBDA001 (${group.applicationName}/${group.deploymentGroupName}) first, with automatic rollback`);

  // Stop first, then roll back: count the stops at the moment RollbackStage is called.
  const stopsBeforeRollback: number[] = [];
  m.codepipeline.on(RollbackStageCommand).callsFake(() => {
    stopsBeforeRollback.push(m.codedeploy.commandCalls(StopDeploymentCommand).length);
    return { pipelineExecutionId: '9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a' };
  });
  const sleep = jest.fn(async () => undefined);
  const result = await executeRollback(f.clients(), plan, { ...opts, sleep });
  expect(m.codedeploy).toHaveReceivedCommandWith(StopDeploymentCommand, { deploymentId: 'd-LAMBDA001', autoRollbackEnabled: true });
  expect(sleep).toHaveBeenCalledTimes(1);
  expect(result.stoppedDeployments).toEqual([{ deploymentId: 'd-LAMBDA001', status: 'Pending', statusMessage: 'Deployment of revision is being stopped' }]);
  expect(stopsBeforeRollback).toEqual([1]);
  expect(formatRollback(result)).toMatch(/^Stopped CodeDeploy deployment d-LAMBDA001: Pending \(Deployment of revision is being stopped\)\nRolling back stage Beta/);
});

test('rolls back to a given execution', async () => {
  m.codepipeline.on(GetPipelineExecutionCommand, { pipelineExecutionId: f.EXEC_OLDER }).resolves(f.execution(f.EXEC_OLDER, f.SHA_PREVIOUS, 'Older change'));
  const plan = await planRollback(f.clients(), { ...opts, stageName: 'Beta', targetExecutionId: f.EXEC_OLDER });
  expect(plan.targetExecutionId).toBe(f.EXEC_OLDER);
  expect(m.codepipeline).not.toHaveReceivedCommand(ListPipelineExecutionsCommand);
});

test('fails when there is no earlier successful execution', async () => {
  m.codepipeline.on(ListPipelineExecutionsCommand).resolves({ pipelineExecutionSummaries: [] });
  await expect(planRollback(f.clients(), { ...opts, stageName: 'Beta' })).rejects.toThrow('no earlier successful execution of stage Beta to roll back to: pass --to EXECUTION_ID');
});

test('fails when the stage already runs the target execution', async () => {
  m.codepipeline.on(GetPipelineStateCommand).resolves(f.getPipelineStateOutput([f.stage('Beta', 'Succeeded', f.EXEC_PREVIOUS)]));
  await expect(planRollback(f.clients(), { ...opts, stageName: 'Beta', targetExecutionId: f.EXEC_PREVIOUS })).rejects.toThrow(
    `nothing to roll back: stage Beta already runs execution ${f.EXEC_PREVIOUS}`,
  );
});

test('fails when the stage does not stop running after its deployments were stopped', async () => {
  m.codepipeline.on(GetPipelineStateCommand).resolves(f.getPipelineStateOutput([f.stage('Beta', 'InProgress', f.EXEC_CURRENT)]));
  m.codedeploy.on(StopDeploymentCommand).resolves({ status: 'Pending' });
  const plan = {
    pipelineName: f.PIPELINE,
    region: f.REGION,
    stageName: 'Beta',
    targetExecutionId: f.EXEC_PREVIOUS,
    deploymentsToStop: [{ deploymentId: 'd-LAMBDA001', region: f.REGION, stageName: 'Beta', traffic: [] }],
    notes: [],
  };
  await expect(executeRollback(f.clients(), plan, { ...opts, sleep: async () => undefined, stageStopTimeoutMs: 0 })).rejects.toThrow(
    'stage Beta is still InProgress after its deployments were stopped: run the rollback again once it has finished',
  );
  expect(m.codepipeline).not.toHaveReceivedCommand(RollbackStageCommand);
});
