import { CodePipelineClient, GetPipelineStateCommand, PutApprovalResultCommand } from '@aws-sdk/client-codepipeline';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { approveWhenPending } from '../../lambda/approve-permissions';
import { createLogger } from '../../lambda/shared/logger';

const cp = mockClient(CodePipelineClient);
const EVENT = { PipelineName: 'safe-deploy-pipeline', StageName: 'Prod-Wave2', ActionName: 'PermissionsCheck-Prod-Wave2.Confirm' };
const deps = () => ({
  codepipeline: new CodePipelineClient({ region: 'us-east-1' }),
  logger: createLogger('test'),
  sleep: jest.fn(async () => undefined),
  waitMs: 20_000,
  pollMs: 5_000,
  retry: { sleep: async () => undefined },
});
/** GetPipelineState with the confirmation action in `status` (and a token while pending). */
const state = (status: string | undefined) => ({
  pipelineName: EVENT.PipelineName,
  stageStates: [
    {
      stageName: 'Prod-Wave2',
      actionStates: [
        { actionName: 'PermissionsCheck-Prod-Wave2.Check', latestExecution: { status: 'Succeeded' } },
        {
          actionName: EVENT.ActionName,
          latestExecution: status ? { status, token: status === 'InProgress' ? 'tok-123' : undefined } : undefined,
        },
      ],
    },
  ],
});

beforeEach(() => {
  cp.reset();
  cp.on(PutApprovalResultCommand).resolves({ approvedAt: new Date() });
});

test('waits for the confirmation to be pending, then approves it with its token', async () => {
  cp.on(GetPipelineStateCommand)
    .resolvesOnce(state(undefined) as never)
    .resolves(state('InProgress') as never);
  const d = deps();
  await expect(approveWhenPending(EVENT, d)).resolves.toEqual({ approved: true, token: 'tok-123' });
  expect(d.sleep).toHaveBeenCalledTimes(1);
  expect(cp).toHaveReceivedCommandWith(PutApprovalResultCommand, {
    pipelineName: EVENT.PipelineName,
    stageName: 'Prod-Wave2',
    actionName: EVENT.ActionName,
    token: 'tok-123',
    result: { status: 'Approved', summary: expect.stringContaining('No security-impacting changes') },
  });
});

test('gives up after its wait and leaves the approval to a person', async () => {
  cp.on(GetPipelineStateCommand).resolves(state('Succeeded') as never);
  await expect(approveWhenPending(EVENT, deps())).resolves.toEqual({
    approved: false,
    reason:
      'approval Prod-Wave2/PermissionsCheck-Prod-Wave2.Confirm of safe-deploy-pipeline was not pending after 20 s (status Succeeded): left for a person',
  });
  expect(cp).not.toHaveReceivedCommand(PutApprovalResultCommand);
  expect(cp).toHaveReceivedCommandTimes(GetPipelineStateCommand, 5);
});

test.each([null, {}, { PipelineName: 'p', StageName: 's' }])(
  'a malformed event %j fails the invocation, approving nothing',
  async (event) => {
    await expect(approveWhenPending(event, deps())).rejects.toThrow(/^malformed event: expected \{ PipelineName, StageName, ActionName \}/);
    expect(cp).not.toHaveReceivedAnyCommand();
  },
);

test('a throttled read is retried', async () => {
  cp.on(GetPipelineStateCommand)
    .rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } }))
    .resolves(state('InProgress') as never);
  await expect(approveWhenPending(EVENT, deps())).resolves.toMatchObject({ approved: true });
});
