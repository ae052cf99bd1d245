import { CodeDeployClient, GetDeploymentCommand, PutLifecycleEventHookExecutionStatusCommand } from '@aws-sdk/client-codedeploy';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { handler } from '../../lambda/lambda-post-traffic-hook';
import { appSpec, FUNCTION_NAME, getDeploymentOutput, healthResponse, HEALTH_CHECK, HOOK_EVENT, invokeOutput } from './lambda-traffic-hook-fixtures';

const codedeployMock = mockClient(CodeDeployClient);
const lambdaMock = mockClient(LambdaClient);
const saved = { ...process.env };

function reported() {
  return codedeployMock.commandCalls(PutLifecycleEventHookExecutionStatusCommand).map((c) => c.args[0].input.status);
}

beforeEach(() => {
  codedeployMock.reset();
  lambdaMock.reset();
  process.env = { ...saved, FUNCTION_NAME, ALIAS_NAME: 'live', CHECK_TIMEOUT_MS: '300', SERVICE_CHECK: JSON.stringify(HEALTH_CHECK) };
  codedeployMock.on(GetDeploymentCommand).resolves(getDeploymentOutput(appSpec()));
  codedeployMock.on(PutLifecycleEventHookExecutionStatusCommand).resolves({});
  lambdaMock.on(InvokeCommand).resolves(invokeOutput(healthResponse()));
});
afterAll(() => {
  process.env = saved;
});

test('after the shift, the alias serves the target version: invokes the alias, reports Succeeded', async () => {
  await expect(handler(HOOK_EVENT)).resolves.toEqual({ status: 'Succeeded', reason: `${FUNCTION_NAME}:live GET /health answered as expected from version 7`, reported: true });
  expect(lambdaMock).toHaveReceivedCommandWith(InvokeCommand, { FunctionName: FUNCTION_NAME, Qualifier: 'live' });
  expect(codedeployMock).toHaveReceivedCommandWith(PutLifecycleEventHookExecutionStatusCommand, {
    deploymentId: HOOK_EVENT.DeploymentId,
    lifecycleEventHookExecutionId: HOOK_EVENT.LifecycleEventHookExecutionId,
    status: 'Succeeded',
  });
});

test.each([
  ['the alias still runs the old version', invokeOutput(healthResponse({ status: 'ok', version: '6' }), { ExecutedVersion: '6' }), `${FUNCTION_NAME}:live ran version 6, expected 7`],
  ['a 503 status', invokeOutput(healthResponse({ status: 'ok', version: '7' }, 503)), `${FUNCTION_NAME}:live GET /health answered status 503, expected 200`],
  ['a bad body', invokeOutput(healthResponse({ healthy: true })), `${FUNCTION_NAME}:live GET /health: the response does not contain "\\"status\\":\\"ok\\"": {"healthy":true}`],
])('reports Failed when %s', async (_what, output, reason) => {
  lambdaMock.on(InvokeCommand).resolves(output);
  await expect(handler(HOOK_EVENT)).resolves.toEqual({ status: 'Failed', reason, reported: true });
  expect(reported()).toEqual(['Failed']);
});

test('reports Failed when the alias does not answer in time', async () => {
  lambdaMock.on(InvokeCommand).callsFake(() => new Promise(() => undefined));
  await expect(handler(HOOK_EVENT)).resolves.toEqual({ status: 'Failed', reason: 'check failed: CheckTimeout: timed out after 300 ms', reported: true });
  expect(reported()).toEqual(['Failed']);
});

test('reports Failed when the invoke throws', async () => {
  lambdaMock.on(InvokeCommand).rejects(Object.assign(new Error('Function not found: live'), { name: 'ResourceNotFoundException', $metadata: { httpStatusCode: 404 } }));
  await expect(handler(HOOK_EVENT)).resolves.toMatchObject({ status: 'Failed', reason: 'check failed: ResourceNotFoundException: Function not found: live' });
  expect(reported()).toEqual(['Failed']);
});

test('retries a throttled report', async () => {
  codedeployMock
    .on(PutLifecycleEventHookExecutionStatusCommand)
    .rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } }))
    .resolves({});
  await expect(handler(HOOK_EVENT)).resolves.toMatchObject({ status: 'Succeeded', reported: true });
  expect(reported()).toEqual(['Succeeded', 'Succeeded']);
});

test.each([[undefined], ['{}'], [{ LifecycleEventHookExecutionId: 'x' }]])('a malformed event %j fails the invocation without calls', async (event) => {
  await expect(handler(event as never)).rejects.toThrow(/^malformed CodeDeploy hook event/);
  expect(codedeployMock).not.toHaveReceivedAnyCommand();
  expect(lambdaMock).not.toHaveReceivedAnyCommand();
});

describe('always reports', () => {
  test('a missing environment variable is reported as Failed with the reason, not thrown', async () => {
    delete process.env.ALIAS_NAME;
    process.env.CHECK_TIMEOUT_MS = '-5';
    await expect(handler(HOOK_EVENT)).resolves.toEqual({
      status: 'Failed',
      reason: 'hook misconfigured: ALIAS_NAME is not set; CHECK_TIMEOUT_MS "-5" is not a positive integer',
      reported: true,
    });
    expect(reported()).toEqual(['Failed']);
    expect(lambdaMock).not.toHaveReceivedAnyCommand();
  });

  test('a CHECK_TIMEOUT_MS longer than the invocation has left is cut short so the hook still reports', async () => {
    process.env.CHECK_TIMEOUT_MS = '900000';
    lambdaMock.on(InvokeCommand).callsFake(() => new Promise(() => undefined));
    const context = { getRemainingTimeInMillis: () => 10_050 };
    await expect(handler(HOOK_EVENT, context)).resolves.toEqual({ status: 'Failed', reason: 'check failed: CheckTimeout: timed out after 50 ms', reported: true });
    expect(reported()).toEqual(['Failed']);
  });

  test('a deployment of another function is Failed without invoking anything', async () => {
    codedeployMock.on(GetDeploymentCommand).resolves(getDeploymentOutput(appSpec({ Name: 'Other-Function' })));
    await expect(handler(HOOK_EVENT)).resolves.toEqual({
      status: 'Failed',
      reason: `deployment targets Other-Function:live, but this hook guards ${FUNCTION_NAME}:live`,
      reported: true,
    });
    expect(lambdaMock).not.toHaveReceivedAnyCommand();
  });

  test('a report throttled twice is retried until CodeDeploy accepts it', async () => {
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } });
    codedeployMock.on(PutLifecycleEventHookExecutionStatusCommand).rejectsOnce(throttled).rejectsOnce(throttled).resolves({});
    await expect(handler(HOOK_EVENT)).resolves.toMatchObject({ status: 'Succeeded', reported: true });
    expect(reported()).toEqual(['Succeeded', 'Succeeded', 'Succeeded']);
  });

  test.each([null, 'd-8XQ2B7LMN', [HOOK_EVENT], { DeploymentId: HOOK_EVENT.DeploymentId, LifecycleEventHookExecutionId: 7 }])(
    'a malformed event %j fails the invocation without calling anything (there is nothing to report against)',
    async (event) => {
      await expect(handler(event as never)).rejects.toThrow(/^malformed CodeDeploy hook event: /);
      expect(codedeployMock).not.toHaveReceivedAnyCommand();
      expect(lambdaMock).not.toHaveReceivedAnyCommand();
    },
  );
});
