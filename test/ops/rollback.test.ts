import 'aws-sdk-client-mock-jest';
import { ListStackResourcesCommand } from '@aws-sdk/client-cloudformation';
import {
  BatchGetDeploymentTargetsCommand,
  DeploymentAlreadyCompletedException,
  DeploymentDoesNotExistException,
  GetDeploymentCommand,
  ListDeploymentsCommand,
  ListDeploymentTargetsCommand,
  StopDeploymentCommand,
} from '@aws-sdk/client-codedeploy';
import {
  GetPipelineCommand,
  GetPipelineExecutionCommand,
  GetPipelineStateCommand,
  ListPipelineExecutionsCommand,
  RollbackStageCommand,
  UnableToRollbackStageException,
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
  m.codepipeline
    .on(GetPipelineExecutionCommand, { pipelineExecutionId: f.EXEC_CURRENT })
    .resolves(f.execution(f.EXEC_CURRENT, f.SHA_CURRENT, 'Add the orders endpoint', 'Failed'));
  m.codepipeline
    .on(GetPipelineExecutionCommand, { pipelineExecutionId: f.EXEC_PREVIOUS })
    .resolves(f.execution(f.EXEC_PREVIOUS, f.SHA_PREVIOUS, 'Fix the health check path'));
  m.codepipeline.on(ListPipelineExecutionsCommand).resolves({
    pipelineExecutionSummaries: [
      {
        pipelineExecutionId: f.EXEC_PREVIOUS,
        status: 'Succeeded',
        sourceRevisions: [{ actionName: 'example-org_safe-deploy', revisionId: f.SHA_PREVIOUS }],
      },
      { pipelineExecutionId: f.EXEC_OLDER, status: 'Succeeded' },
    ],
  });
  m.codepipeline.on(RollbackStageCommand).resolves({ pipelineExecutionId: '9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a' });
});
afterEach(() => Object.values(m).forEach((x) => x.restore()));

test('rolls a failed stage back to its last successful execution', async () => {
  const plan = await planRollback(f.clients(), { ...opts, stageName: 'Beta' });
  expect(plan).toEqual(
    expect.objectContaining({
      currentExecutionId: f.EXEC_CURRENT,
      currentStatus: 'Failed',
      targetExecutionId: f.EXEC_PREVIOUS,
      deploymentsToStop: [],
    }),
  );
  expect(m.codepipeline).toHaveReceivedCommandWith(ListPipelineExecutionsCommand, {
    pipelineName: f.PIPELINE,
    filter: { succeededInStage: { stageName: 'Beta' } },
  });
  expect(describeRollbackPlan(plan)).toBe(
    [
      `Roll back stage Beta of ${f.PIPELINE} (us-east-1)`,
      `  from execution ${f.EXEC_CURRENT} [Failed] (commit 3f9c2e1 "Add the orders endpoint")`,
      `  to   execution ${f.EXEC_PREVIOUS} (commit 9e8d7c6 "Fix the health check path")`,
    ].join('\n'),
  );

  const result = await executeRollback(f.clients(), plan, opts);
  expect(m.codepipeline).toHaveReceivedCommandWith(RollbackStageCommand, {
    pipelineName: f.PIPELINE,
    stageName: 'Beta',
    targetPipelineExecutionId: f.EXEC_PREVIOUS,
  });
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
  m.cloudformation
    .on(ListStackResourcesCommand, { StackName: 'Beta-us-east-1-EcsService' })
    .rejects(Object.assign(new Error('Stack with id Beta-us-east-1-EcsService does not exist'), { name: 'ValidationError' }));
  m.codedeploy.on(ListDeploymentsCommand).resolves({ deployments: ['d-LAMBDA001'] });
  m.codedeploy
    .on(GetDeploymentCommand)
    .resolves({ deploymentInfo: { ...group, deploymentId: 'd-LAMBDA001', status: 'InProgress', creator: 'CloudFormation' } });
  m.codedeploy.on(ListDeploymentTargetsCommand).resolves({ targetIds: [] });
  m.codedeploy.on(BatchGetDeploymentTargetsCommand).resolves({ deploymentTargets: [] });
  m.codedeploy.on(StopDeploymentCommand).resolves({ status: 'Pending', statusMessage: 'Deployment of revision is being stopped' });

  const plan = await planRollback(f.clients(), { ...opts, stageName: 'Beta' });
  expect(plan.deploymentsToStop.map((d) => d.deploymentId)).toEqual(['d-LAMBDA001']);
  expect(describeRollbackPlan(plan)).toContain(
    `stopping CodeDeploy deployment d-LAMBDA001 (${group.applicationName}/${group.deploymentGroupName}) first, with automatic rollback`,
  );

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
  expect(result.stoppedDeployments).toEqual([
    { deploymentId: 'd-LAMBDA001', outcome: 'stopped', status: 'Pending', statusMessage: 'Deployment of revision is being stopped' },
  ]);
  expect(stopsBeforeRollback).toEqual([1]);
  expect(formatRollback(result)).toMatch(
    /^Stopped CodeDeploy deployment d-LAMBDA001: Pending \(Deployment of revision is being stopped\)\nRolling back stage Beta/,
  );
});

test('rolls back to a given execution', async () => {
  m.codepipeline
    .on(GetPipelineExecutionCommand, { pipelineExecutionId: f.EXEC_OLDER })
    .resolves(f.execution(f.EXEC_OLDER, f.SHA_PREVIOUS, 'Older change'));
  const plan = await planRollback(f.clients(), { ...opts, stageName: 'Beta', targetExecutionId: f.EXEC_OLDER });
  expect(plan.targetExecutionId).toBe(f.EXEC_OLDER);
  expect(m.codepipeline).not.toHaveReceivedCommand(ListPipelineExecutionsCommand);
});

test('fails when there is no earlier successful execution', async () => {
  m.codepipeline.on(ListPipelineExecutionsCommand).resolves({ pipelineExecutionSummaries: [] });
  await expect(planRollback(f.clients(), { ...opts, stageName: 'Beta' })).rejects.toThrow(
    'no earlier successful execution of stage Beta to roll back to: pass --to EXECUTION_ID',
  );
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

describe('racing CodeDeploy and CodePipeline', () => {
  const IN_FLIGHT = { deploymentId: 'd-LAMBDA001', region: f.REGION, stageName: 'Beta', traffic: [], ...group };
  const ROLLBACK_EXEC = '4e3d2c1b-0a9f-4e8d-b7c6-5a4f3e2d1c0b';
  const plan = (overrides: object = {}) => ({
    pipelineName: f.PIPELINE,
    region: f.REGION,
    stageName: 'Beta',
    currentExecutionId: f.EXEC_CURRENT,
    currentStatus: 'InProgress',
    targetExecutionId: f.EXEC_PREVIOUS,
    deploymentsToStop: [IN_FLIGHT],
    notes: [],
    ...overrides,
  });
  const alreadyCompleted = () =>
    new DeploymentAlreadyCompletedException({ message: 'The deployment d-LAMBDA001 has already completed.', $metadata: f.metadata });
  const ended = (status: string, extra: object = {}) => ({
    deploymentInfo: { ...group, deploymentId: 'd-LAMBDA001', status: status as 'Stopped', ...extra },
  });
  const alarmStop = {
    errorInformation: {
      code: 'ALARM_ACTIVE' as const,
      message:
        'One or more alarms have been activated according to the Amazon CloudWatch metrics you selected, and the affected deployments have been stopped. Activated alarms: <Beta-us-east-1-greeting-api-ErrorRate>',
    },
    rollbackInfo: { rollbackMessage: 'Deployment stopped by an alarm; traffic moved back to the original version' },
  };
  const sleep = async () => undefined;
  beforeEach(() => {
    m.codepipeline.on(GetPipelineExecutionCommand, { pipelineExecutionId: ROLLBACK_EXEC }).resolves({
      pipelineExecution: {
        pipelineExecutionId: ROLLBACK_EXEC,
        status: 'InProgress',
        executionType: 'ROLLBACK',
        rollbackMetadata: { rollbackTargetPipelineExecutionId: f.EXEC_PREVIOUS },
      },
    });
  });

  test('CodeDeploy rolled back on its alarm before the stop: says so, and rolls the stage back', async () => {
    m.codedeploy.on(StopDeploymentCommand).rejects(alreadyCompleted());
    m.codedeploy.on(GetDeploymentCommand).resolves(ended('Stopped', alarmStop));
    const result = await executeRollback(f.clients(), plan(), { ...opts, sleep });
    expect(result.stoppedDeployments).toEqual([
      {
        deploymentId: 'd-LAMBDA001',
        outcome: 'already-ended',
        status: 'Stopped',
        statusMessage:
          'CodeDeploy had already stopped (alarm Beta-us-east-1-greeting-api-ErrorRate went into ALARM); Deployment stopped by an alarm; traffic moved back to the original version',
      },
    ]);
    expect(m.codepipeline).toHaveReceivedCommandWith(RollbackStageCommand, {
      stageName: 'Beta',
      targetPipelineExecutionId: f.EXEC_PREVIOUS,
    });
    expect(formatRollback(result).split('\n')[0]).toBe(
      'CodeDeploy deployment d-LAMBDA001 had already ended before it could be stopped: Stopped. CodeDeploy had already stopped (alarm Beta-us-east-1-greeting-api-ErrorRate went into ALARM); Deployment stopped by an alarm; traffic moved back to the original version.',
    );
  });

  test('the deployment failed on its own (a hook): continues', async () => {
    m.codedeploy.on(StopDeploymentCommand).rejects(alreadyCompleted());
    m.codedeploy.on(GetDeploymentCommand).resolves(
      ended('Failed', {
        errorInformation: { code: 'HOOK_EXECUTION_FAILURE', message: 'The deployment failed because a lifecycle hook reported Failed.' },
      }),
    );
    const result = await executeRollback(f.clients(), plan(), { ...opts, sleep });
    expect(result.stoppedDeployments[0].statusMessage).toBe(
      'CodeDeploy had already failed (HOOK_EXECUTION_FAILURE: The deployment failed because a lifecycle hook reported Failed.); traffic is back on the previous version',
    );
    expect(result.startedBy).toBe('deployctl');
  });

  test('the deployment succeeded before the stop: the stage rollback deploys the old version', async () => {
    m.codedeploy.on(StopDeploymentCommand).rejects(alreadyCompleted());
    m.codedeploy.on(GetDeploymentCommand).resolves(ended('Succeeded'));
    const result = await executeRollback(f.clients(), plan(), { ...opts, sleep });
    expect(result.stoppedDeployments[0]).toEqual(
      expect.objectContaining({
        outcome: 'already-ended',
        status: 'Succeeded',
        statusMessage: 'it had succeeded: the new version serves all traffic until the stage rollback deploys the old one',
      }),
    );
    expect(m.codepipeline).toHaveReceivedCommand(RollbackStageCommand);
  });

  test('the deployment no longer exists: nothing to stop, continues', async () => {
    m.codedeploy
      .on(StopDeploymentCommand)
      .rejects(new DeploymentDoesNotExistException({ message: 'The deployment d-LAMBDA001 could not be found.', $metadata: f.metadata }));
    const result = await executeRollback(f.clients(), plan(), { ...opts, sleep });
    expect(result.stoppedDeployments).toEqual([expect.objectContaining({ outcome: 'gone' })]);
    expect(formatRollback(result)).toMatch(/^CodeDeploy deployment d-LAMBDA001 no longer exists: its deployment group was deleted/);
    expect(m.codepipeline).toHaveReceivedCommand(RollbackStageCommand);
  });

  test('fails when CodeDeploy says completed but still reports the deployment in progress', async () => {
    m.codedeploy.on(StopDeploymentCommand).rejects(alreadyCompleted());
    m.codedeploy.on(GetDeploymentCommand).resolves(ended('InProgress'));
    await expect(executeRollback(f.clients(), plan(), { ...opts, sleep })).rejects.toThrow(
      'CodeDeploy says deployment d-LAMBDA001 has completed but reports it InProgress: nothing was rolled back yet; run the rollback again in a minute',
    );
    expect(m.codepipeline).not.toHaveReceivedCommand(RollbackStageCommand);
  });

  test('CodePipeline rolls the stage back on its own once the stop fails it: no second rollback', async () => {
    m.codedeploy.on(StopDeploymentCommand).resolves({ status: 'Pending' });
    m.codepipeline
      .on(GetPipelineStateCommand)
      .resolvesOnce(f.getPipelineStateOutput([f.stage('Beta', 'InProgress', f.EXEC_CURRENT)]))
      .resolves(
        f.getPipelineStateOutput([
          {
            ...f.stage('Beta', 'InProgress', ROLLBACK_EXEC),
            latestExecution: { pipelineExecutionId: ROLLBACK_EXEC, status: 'InProgress', type: 'ROLLBACK' },
          },
        ]),
      );
    const result = await executeRollback(f.clients(), plan(), { ...opts, sleep });
    expect(result).toEqual(
      expect.objectContaining({ startedBy: 'codepipeline', rollbackExecutionId: ROLLBACK_EXEC, rolledBackTo: f.EXEC_PREVIOUS }),
    );
    expect(m.codepipeline).not.toHaveReceivedCommand(RollbackStageCommand);
    expect(formatRollback(result)).toContain(
      `CodePipeline is already rolling back stage Beta to execution ${f.EXEC_PREVIOUS} (its automatic rollback on failure): rollback execution ${ROLLBACK_EXEC}; deployctl started no second one.`,
    );
  });

  test('RollbackStage refused because CodePipeline started its rollback in between: reports that one', async () => {
    m.codepipeline.on(RollbackStageCommand).rejects(
      new UnableToRollbackStageException({
        message: 'Unable to roll back the stage: the stage is currently running.',
        $metadata: f.metadata,
      }),
    );
    m.codepipeline.on(GetPipelineStateCommand).resolves(
      f.getPipelineStateOutput([
        {
          ...f.stage('Beta', 'InProgress', ROLLBACK_EXEC),
          latestExecution: { pipelineExecutionId: ROLLBACK_EXEC, status: 'InProgress', type: 'ROLLBACK' },
        },
      ]),
    );
    const result = await executeRollback(f.clients(), plan({ deploymentsToStop: [], currentStatus: 'Failed' }), { ...opts, sleep });
    expect(result.startedBy).toBe('codepipeline');
  });

  test('RollbackStage refused for another reason: the error stands', async () => {
    m.codepipeline
      .on(RollbackStageCommand)
      .rejects(new UnableToRollbackStageException({ message: 'Unable to roll back the stage.', $metadata: f.metadata }));
    await expect(
      executeRollback(f.clients(), plan({ deploymentsToStop: [], currentStatus: 'Failed' }), { ...opts, sleep }),
    ).rejects.toThrow('Unable to roll back the stage.');
  });

  test('fails when the stage is already rolling back', async () => {
    m.codepipeline.on(GetPipelineStateCommand).resolves(
      f.getPipelineStateOutput([
        {
          ...f.stage('Beta', 'InProgress', ROLLBACK_EXEC),
          latestExecution: { pipelineExecutionId: ROLLBACK_EXEC, status: 'InProgress', type: 'ROLLBACK' },
        },
      ]),
    );
    await expect(planRollback(f.clients(), { ...opts, stageName: 'Beta' })).rejects.toThrow(
      `stage Beta is already rolling back to execution ${f.EXEC_PREVIOUS} (rollback execution ${ROLLBACK_EXEC}): nothing to do; follow it with \`deployctl watch --execution ${ROLLBACK_EXEC}\``,
    );
  });
});

describe('targets CodePipeline cannot roll back to', () => {
  test('skips rollback executions when looking for the last successful one', async () => {
    m.codepipeline.on(ListPipelineExecutionsCommand).resolves({
      pipelineExecutionSummaries: [
        {
          pipelineExecutionId: '4e3d2c1b-0a9f-4e8d-b7c6-5a4f3e2d1c0b',
          status: 'Succeeded',
          executionType: 'ROLLBACK',
          rollbackMetadata: { rollbackTargetPipelineExecutionId: f.EXEC_OLDER },
        },
        { pipelineExecutionId: f.EXEC_PREVIOUS, status: 'Succeeded', executionType: 'STANDARD' },
      ],
    });
    expect((await planRollback(f.clients(), { ...opts, stageName: 'Beta' })).targetExecutionId).toBe(f.EXEC_PREVIOUS);
  });

  test('fails when the target is itself a rollback', async () => {
    const id = '4e3d2c1b-0a9f-4e8d-b7c6-5a4f3e2d1c0b';
    m.codepipeline.on(GetPipelineExecutionCommand, { pipelineExecutionId: id }).resolves({
      pipelineExecution: {
        pipelineExecutionId: id,
        pipelineVersion: 7,
        status: 'Succeeded',
        executionType: 'ROLLBACK',
        rollbackMetadata: { rollbackTargetPipelineExecutionId: f.EXEC_OLDER },
      },
    });
    await expect(planRollback(f.clients(), { ...opts, stageName: 'Beta', targetExecutionId: id })).rejects.toThrow(
      `cannot roll back to execution ${id}: it is itself a rollback (to ${f.EXEC_OLDER}); pass --to ${f.EXEC_OLDER}`,
    );
  });

  test('fails when the target ran an earlier pipeline structure version', async () => {
    const previous = f.execution(f.EXEC_PREVIOUS, f.SHA_PREVIOUS, 'Fix the health check path');
    m.codepipeline
      .on(GetPipelineExecutionCommand, { pipelineExecutionId: f.EXEC_PREVIOUS })
      .resolves({ pipelineExecution: { ...previous.pipelineExecution, pipelineVersion: 6 } });
    await expect(planRollback(f.clients(), { ...opts, stageName: 'Beta' })).rejects.toThrow(
      `stage rollback is not possible: execution ${f.EXEC_PREVIOUS} ran pipeline version 6 and the pipeline is now version 7; CodePipeline rolls a stage back only within one pipeline structure version. Deploy the old code forward instead: revert the change (to commit 9e8d7c6) and push`,
    );
    expect(m.codepipeline).not.toHaveReceivedCommand(RollbackStageCommand);
  });
});
