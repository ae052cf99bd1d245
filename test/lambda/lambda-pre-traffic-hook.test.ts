import { Logger } from '@aws-lambda-powertools/logger';
import { CodeDeployClient, GetDeploymentCommand, PutLifecycleEventHookExecutionStatusCommand } from '@aws-sdk/client-codedeploy';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { checkNewVersion, handler } from '../../lambda/lambda-pre-traffic-hook';
import { runHook } from '../../lambda/shared/codedeploy-hook';
import {
  appSpec,
  FUNCTION_NAME,
  getDeploymentOutput,
  healthResponse,
  HEALTH_CHECK,
  HOOK_EVENT,
  invokeOutput,
} from './lambda-traffic-hook-fixtures';

const codedeployMock = mockClient(CodeDeployClient);
const lambdaMock = mockClient(LambdaClient);
const codedeploy = new CodeDeployClient({ region: 'us-east-1' });
const lambda = new LambdaClient({ region: 'us-east-1' });
const config = { functionName: FUNCTION_NAME, aliasName: 'live', checkTimeoutMs: 200, check: HEALTH_CHECK };
const retry = { sleep: async () => undefined };
const logger = new Logger({ serviceName: 'test', logLevel: 'SILENT' });
const info = jest.spyOn(logger, 'info');

function run(event: unknown = HOOK_EVENT) {
  return runHook(event, (ids, signal) => checkNewVersion(ids, signal, { codedeploy, lambda, config, retry }), {
    codedeploy,
    logger,
    checkTimeoutMs: config.checkTimeoutMs,
    retry,
  });
}

function expectReported(status: 'Succeeded' | 'Failed') {
  expect(codedeployMock).toHaveReceivedCommandTimes(PutLifecycleEventHookExecutionStatusCommand, 1);
  expect(codedeployMock).toHaveReceivedCommandWith(PutLifecycleEventHookExecutionStatusCommand, {
    deploymentId: HOOK_EVENT.DeploymentId,
    lifecycleEventHookExecutionId: HOOK_EVENT.LifecycleEventHookExecutionId,
    status,
  });
}

beforeEach(() => {
  codedeployMock.reset();
  lambdaMock.reset();
  info.mockClear();
  codedeployMock.on(GetDeploymentCommand).resolves(getDeploymentOutput(appSpec()));
  codedeployMock
    .on(PutLifecycleEventHookExecutionStatusCommand)
    .resolves({ lifecycleEventHookExecutionId: HOOK_EVENT.LifecycleEventHookExecutionId });
  lambdaMock.on(InvokeCommand).resolves(invokeOutput(healthResponse()));
});

test("a healthy new version: runs the service's own check (GET /health) on the target version, reports Succeeded", async () => {
  const result = await run();
  expect(result).toEqual({
    status: 'Succeeded',
    reason: `${FUNCTION_NAME}:7 GET /health answered as expected from version 7`,
    reported: true,
  });
  expect(codedeployMock).toHaveReceivedCommandWith(GetDeploymentCommand, { deploymentId: HOOK_EVENT.DeploymentId });
  expect(lambdaMock).toHaveReceivedCommandWith(InvokeCommand, {
    FunctionName: FUNCTION_NAME,
    Qualifier: '7',
    InvocationType: 'RequestResponse',
  });
  const payload = JSON.parse(new TextDecoder().decode(lambdaMock.commandCalls(InvokeCommand)[0].args[0].input.Payload as Uint8Array));
  expect(payload).toMatchObject({ version: '2.0', rawPath: '/health', requestContext: { http: { method: 'GET', path: '/health' } } });
  expectReported('Succeeded');
  expect(info).toHaveBeenCalledWith('Hook decision', expect.objectContaining({ status: 'Succeeded' }));
});

test.each([
  [
    'a 500 status',
    invokeOutput(healthResponse({ status: 'ok', version: '7' }, 500)),
    `${FUNCTION_NAME}:7 GET /health answered status 500, expected 200`,
  ],
  [
    'a body without the expected text',
    invokeOutput(healthResponse({ status: 'degraded', version: '7' })),
    `${FUNCTION_NAME}:7 GET /health: the response does not contain "\\"status\\":\\"ok\\"": {"status":"degraded","version":"7"}`,
  ],
  [
    'a payload that is not a Function URL response',
    invokeOutput('Task timed out'),
    `${FUNCTION_NAME}:7 GET /health returned a payload that is not a Function URL response: Task timed out`,
  ],
  [
    'a function error',
    invokeOutput({ errorType: 'Runtime.ImportModuleError', errorMessage: "Cannot find module 'x'" }, { FunctionError: 'Unhandled' }),
    `${FUNCTION_NAME}:7 GET /health raised Unhandled error: {"errorType":"Runtime.ImportModuleError","errorMessage":"Cannot find module 'x'"}`,
  ],
])('reports Failed on %s', async (_what, output, reason) => {
  lambdaMock.on(InvokeCommand).resolves(output);
  await expect(run()).resolves.toEqual({ status: 'Failed', reason, reported: true });
  expectReported('Failed');
  expect(info).toHaveBeenCalledWith('Hook decision', { deploymentId: HOOK_EVENT.DeploymentId, status: 'Failed', reason });
});

test('reports Failed when the smoke request times out, and aborts it', async () => {
  lambdaMock.on(InvokeCommand).callsFake(() => new Promise(() => undefined));
  // The SDK passes the abort signal to the request handler, which a mock bypasses: observe it here.
  const send = jest.spyOn(lambda, 'send');
  // The check's time limit passes on a fake clock, not for real.
  jest.useFakeTimers();
  const pending = run();
  await jest.advanceTimersByTimeAsync(config.checkTimeoutMs).finally(() => jest.useRealTimers());
  const result = await pending;
  const options = send.mock.calls[0][1] as { abortSignal?: AbortSignal };
  const aborted = options.abortSignal?.aborted ?? false;
  send.mockRestore();
  expect(result).toEqual({ status: 'Failed', reason: 'check failed: CheckTimeout: timed out after 200 ms', reported: true });
  expect(aborted).toBe(true);
  expectReported('Failed');
});

test('reports Failed when invoking throws', async () => {
  lambdaMock.on(InvokeCommand).rejects(
    Object.assign(new Error('User is not authorized to perform: lambda:InvokeFunction'), {
      name: 'AccessDeniedException',
      $metadata: { httpStatusCode: 403 },
    }),
  );
  await expect(run()).resolves.toEqual({
    status: 'Failed',
    reason: 'check failed: AccessDeniedException: User is not authorized to perform: lambda:InvokeFunction',
    reported: true,
  });
  expectReported('Failed');
});

test('retries a throttled invoke, then succeeds', async () => {
  const throttled = Object.assign(new Error('Rate Exceeded.'), { name: 'TooManyRequestsException', $metadata: { httpStatusCode: 429 } });
  lambdaMock.on(InvokeCommand).rejectsOnce(throttled).resolves(invokeOutput(healthResponse()));
  await expect(run()).resolves.toMatchObject({ status: 'Succeeded' });
  expect(lambdaMock).toHaveReceivedCommandTimes(InvokeCommand, 2);
});

test('retries a throttled report', async () => {
  const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } });
  codedeployMock.on(PutLifecycleEventHookExecutionStatusCommand).rejectsOnce(throttled).resolves({});
  await expect(run()).resolves.toMatchObject({ status: 'Succeeded', reported: true });
  expect(codedeployMock).toHaveReceivedCommandTimes(PutLifecycleEventHookExecutionStatusCommand, 2);
});

test.each([
  ['no revision', getDeploymentOutput(undefined), `deployment ${HOOK_EVENT.DeploymentId} has no AppSpec content (revisionType: none)`],
  [
    'an AppSpec that is not valid JSON',
    getDeploymentOutput('{not json'),
    "AppSpec is not valid JSON: Expected property name or '}' in JSON at position 1",
  ],
  [
    'an AppSpec that is neither JSON nor YAML',
    getDeploymentOutput('hello'),
    'AppSpec is neither JSON nor YAML with an AWS::Lambda::Function resource',
  ],
  ['an AppSpec without Resources', getDeploymentOutput('{"version":0.0}'), 'AppSpec has no Resources list'],
  [
    'an AppSpec without TargetVersion',
    getDeploymentOutput(appSpec({ TargetVersion: undefined })),
    'AppSpec lacks TargetVersion in Resources[].*.Properties',
  ],
  [
    'an AppSpec for another function',
    getDeploymentOutput(appSpec({ Name: 'someone-else' })),
    `deployment targets someone-else:live, but this hook guards ${FUNCTION_NAME}:live`,
  ],
])('reports Failed for a deployment with %s', async (_what, output, reason) => {
  codedeployMock.on(GetDeploymentCommand).resolves(output);
  const result = await run();
  expect(result.status).toBe('Failed');
  // Node 22 appends "(line 1 column 2)" to JSON.parse messages; the start is what matters.
  expect(result.reason.startsWith(reason.startsWith('deployment targets') ? reason : `check failed: Error: ${reason}`)).toBe(true);
  expect(lambdaMock).not.toHaveReceivedCommand(InvokeCommand);
  expectReported('Failed');
});

test('reports Failed when GetDeployment is denied', async () => {
  codedeployMock.on(GetDeploymentCommand).rejects(
    Object.assign(new Error('not authorized to perform: codedeploy:GetDeployment'), {
      name: 'AccessDeniedException',
      $metadata: { httpStatusCode: 400 },
    }),
  );
  await expect(run()).resolves.toMatchObject({
    status: 'Failed',
    reason: 'check failed: AccessDeniedException: not authorized to perform: codedeploy:GetDeployment',
  });
  expectReported('Failed');
});

test.each([[null], [[]], [{ DeploymentId: 'd-1' }], [{ DeploymentId: 7, LifecycleEventHookExecutionId: 'x' }]])(
  'a malformed event %j fails the invocation loudly (nothing to report against) without calling anything',
  async (event) => {
    await expect(run(event)).rejects.toThrow(
      /^malformed CodeDeploy hook event: .*: nothing to report against; CodeDeploy fails the hook at its timeout$/,
    );
    expect(lambdaMock).not.toHaveReceivedCommand(InvokeCommand);
    expect(codedeployMock).not.toHaveReceivedAnyCommand();
  },
);

describe('handler', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  function loadHandler(env: Record<string, string>) {
    const { FUNCTION_NAME: _f, ALIAS_NAME: _a, CHECK_TIMEOUT_MS: _c, SERVICE_CHECK: _s, ...rest } = saved;
    process.env = { ...rest, ...env };
    return handler;
  }

  test('wires the environment and the clients: a healthy version is Succeeded', async () => {
    const hook = loadHandler({ FUNCTION_NAME, ALIAS_NAME: 'live', CHECK_TIMEOUT_MS: '5000', SERVICE_CHECK: JSON.stringify(HEALTH_CHECK) });
    await expect(hook(HOOK_EVENT)).resolves.toMatchObject({ status: 'Succeeded', reported: true });
    expectReported('Succeeded');
  });

  test('a misconfigured hook still reports Failed with the reason', async () => {
    const hook = loadHandler({ ALIAS_NAME: 'live', CHECK_TIMEOUT_MS: 'soon', SERVICE_CHECK: '{"type":"tcp"}' });
    await expect(hook(HOOK_EVENT)).resolves.toEqual({
      status: 'Failed',
      reason:
        'hook misconfigured: FUNCTION_NAME is not set; CHECK_TIMEOUT_MS "soon" is not a positive integer; SERVICE_CHECK.type "tcp" is not "http", "invoke" or "none"',
      reported: true,
    });
    expectReported('Failed');
  });
});
