import 'aws-sdk-client-mock-jest';
import { GetPipelineStateCommand, RetryStageExecutionCommand } from '@aws-sdk/client-codepipeline';
import { formatRetry, retryFailedStage } from '../../lib/ops/retry-stage';
import { OpsError } from '../../lib/runtime/context';
import * as f from './fixtures';

let m: f.Mocks;
beforeEach(() => {
  m = f.mocks();
  m.codepipeline.on(GetPipelineStateCommand).resolves(
    f.getPipelineStateOutput([
      f.stage('Source', 'Succeeded', f.EXEC_CURRENT),
      f.stage('Beta', 'Failed', f.EXEC_CURRENT, [
        { name: 'LambdaService.Deploy', status: 'Succeeded' },
        { name: 'SmokeTest-Beta-us-east-1', status: 'Failed', error: 'Build terminated with state: FAILED' },
      ]),
      f.stage('Prod-Wave1', 'Succeeded', f.EXEC_PREVIOUS),
    ]),
  );
  m.codepipeline.on(RetryStageExecutionCommand).resolves({ pipelineExecutionId: f.EXEC_CURRENT });
});
afterEach(() => Object.values(m).forEach((x) => x.restore()));

const retry = (stageName?: string) =>
  retryFailedStage(f.clients(), { pipelineName: f.PIPELINE, region: f.REGION, stageName, retry: f.RETRY });

test('retries the failed actions of the failed stage by default', async () => {
  const r = await retry();
  expect(r).toEqual({
    pipelineName: f.PIPELINE,
    stageName: 'Beta',
    pipelineExecutionId: f.EXEC_CURRENT,
    retriedActions: ['SmokeTest-Beta-us-east-1'],
  });
  expect(m.codepipeline).toHaveReceivedCommandWith(RetryStageExecutionCommand, {
    pipelineName: f.PIPELINE,
    stageName: 'Beta',
    pipelineExecutionId: f.EXEC_CURRENT,
    retryMode: 'FAILED_ACTIONS',
  });
  expect(formatRetry(r)).toBe(
    `Retrying the failed actions of stage Beta (SmokeTest-Beta-us-east-1) in execution ${f.EXEC_CURRENT}.\nFollow it with: deployctl status --pipeline ${f.PIPELINE}`,
  );
});

test('retries a named failed stage', async () => {
  await retry('Beta');
  expect(m.codepipeline).toHaveReceivedCommandWith(RetryStageExecutionCommand, { stageName: 'Beta', retryMode: 'FAILED_ACTIONS' });
});

test('fails when the named stage has not failed, and changes nothing', async () => {
  await expect(retry('Prod-Wave1')).rejects.toThrow(
    new OpsError('refused', 'nothing to retry: stage Prod-Wave1 has not failed (latest status: Succeeded)'),
  );
  expect(m.codepipeline).not.toHaveReceivedCommand(RetryStageExecutionCommand);
});

test('fails when no stage has failed', async () => {
  m.codepipeline
    .on(GetPipelineStateCommand)
    .resolves(f.getPipelineStateOutput([f.stage('Source', 'Succeeded', f.EXEC_CURRENT), f.stage('Beta', 'InProgress', f.EXEC_CURRENT)]));
  await expect(retry()).rejects.toThrow(`nothing to retry: no stage of ${f.PIPELINE} has failed (Source Succeeded, Beta InProgress)`);
  expect(m.codepipeline).not.toHaveReceivedCommand(RetryStageExecutionCommand);
});

test('fails when the stage is not in the pipeline, listing the stages there are', async () => {
  await expect(retry('beta')).rejects.toThrow(`stage "beta" is not in pipeline ${f.PIPELINE}: use one of Source, Beta, Prod-Wave1`);
});
