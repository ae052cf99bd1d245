import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { isSameFunction, readHookConfig } from '../../../lambda/shared/hook-config';
import { parseAppSpec, runServiceCheck } from '../../../lambda/shared/lambda-deployment';
import { parseServiceCheck } from '../../../lib/runtime/service-check';
import { healthResponse, invokeOutput } from '../lambda-traffic-hook-fixtures';

describe('parseAppSpec', () => {
  test('reads the JSON AppSpec CloudFormation writes', () => {
    const content = JSON.stringify({
      version: 0.0,
      Resources: [
        { fn: { Type: 'AWS::Lambda::Function', Properties: { Name: 'svc', Alias: 'live', CurrentVersion: 3, TargetVersion: '4' } } },
      ],
      Hooks: [{ BeforeAllowTraffic: 'pre' }, { AfterAllowTraffic: 'post' }],
    });
    expect(parseAppSpec(content)).toEqual({ functionName: 'svc', alias: 'live', currentVersion: '3', targetVersion: '4' });
  });

  test('reads the flat YAML form', () => {
    const yaml = [
      'version: 0.0',
      'Resources:',
      '  - myFunction:',
      '      Type: AWS::Lambda::Function',
      '      Properties:',
      '        Name: "svc"',
      '        Alias: "live"',
      '        CurrentVersion: "3"',
      '        TargetVersion: "4"',
    ].join('\n');
    expect(parseAppSpec(yaml)).toEqual({ functionName: 'svc', alias: 'live', currentVersion: '3', targetVersion: '4' });
  });

  test('refuses an AppSpec with two functions', () => {
    const fn = { Type: 'AWS::Lambda::Function', Properties: { Name: 'a', Alias: 'live', CurrentVersion: '1', TargetVersion: '2' } };
    expect(() => parseAppSpec(JSON.stringify({ Resources: [{ a: fn }, { b: fn }] }))).toThrow(
      'AppSpec has 2 AWS::Lambda::Function resources, expected exactly 1',
    );
  });
});

describe('readHookConfig', () => {
  test('reads the four settings', () => {
    expect(
      readHookConfig({ FUNCTION_NAME: 'svc', ALIAS_NAME: 'live', CHECK_TIMEOUT_MS: '30000', SERVICE_CHECK: '{"type":"none"}' }),
    ).toEqual({
      functionName: 'svc',
      aliasName: 'live',
      checkTimeoutMs: 30000,
      check: { type: 'none' },
    });
  });
  test('names every missing or bad setting', () => {
    expect(readHookConfig({ CHECK_TIMEOUT_MS: '-1' })).toEqual({
      error: 'FUNCTION_NAME is not set; ALIAS_NAME is not set; CHECK_TIMEOUT_MS "-1" is not a positive integer; SERVICE_CHECK is not set',
    });
  });
});

describe('parseServiceCheck', () => {
  test.each([
    [
      '{"type":"http","path":"/healthz","expectedStatus":204}',
      { type: 'http', path: '/healthz', expectedStatus: 204, bodyContains: undefined },
    ],
    ['{"type":"invoke","payload":{"Records":[]},"bodyContains":"ok"}', { type: 'invoke', payload: { Records: [] }, bodyContains: 'ok' }],
    ['{"type":"none"}', { type: 'none' }],
  ])('reads %s', (raw, check) => {
    expect(parseServiceCheck(raw)).toEqual(check);
  });
  test.each([
    ['{', expect.stringMatching(/^SERVICE_CHECK is not JSON: /)],
    ['{"type":"http","path":"health","expectedStatus":200}', 'SERVICE_CHECK.path "health" is not a path starting with "/"'],
    ['{"type":"http","path":"/h"}', 'SERVICE_CHECK.expectedStatus undefined is not an HTTP status'],
    ['{"type":"none","bodyContains":3}', 'SERVICE_CHECK.bodyContains 3 is not a string'],
  ])('names what is wrong with %s', (raw, error) => {
    expect(parseServiceCheck(raw)).toEqual({ error });
  });
});

describe("runServiceCheck: the service's own check, whatever its API", () => {
  const lambdaMock = mockClient(LambdaClient);
  const client = new LambdaClient({ region: 'us-east-1' });
  const target = { functionName: 'fn', qualifier: '7', expectVersion: '7' };
  beforeEach(() => lambdaMock.reset());
  const sentPayload = () =>
    JSON.parse(new TextDecoder().decode(lambdaMock.commandCalls(InvokeCommand)[0].args[0].input.Payload as Uint8Array));

  test('an HTTP check sends a Function URL event with path and query, and accepts the declared status', async () => {
    lambdaMock.on(InvokeCommand).resolves(invokeOutput(healthResponse('created', 201)));
    await expect(runServiceCheck(client, target, { type: 'http', path: '/orders?id=1', expectedStatus: 201 })).resolves.toEqual({
      status: 'Succeeded',
      reason: 'fn:7 GET /orders?id=1 answered as expected from version 7',
    });
    expect(sentPayload()).toMatchObject({ rawPath: '/orders', rawQueryString: 'id=1', queryStringParameters: { id: '1' } });
  });

  test('a handler that returns a bare value answers 200, as a Function URL would', async () => {
    lambdaMock.on(InvokeCommand).resolves(invokeOutput({ ok: true }));
    await expect(
      runServiceCheck(client, target, { type: 'http', path: '/health', expectedStatus: 200, bodyContains: '"ok":true' }),
    ).resolves.toMatchObject({ status: 'Succeeded' });
  });

  test('an invoke check sends the configured event and checks the response text', async () => {
    lambdaMock.on(InvokeCommand).resolves(invokeOutput({ batchItemFailures: [] }));
    const check = { type: 'invoke' as const, payload: { Records: [] }, bodyContains: 'batchItemFailures' };
    await expect(runServiceCheck(client, target, check)).resolves.toEqual({
      status: 'Succeeded',
      reason: 'fn:7 the invoke check answered as expected from version 7',
    });
    expect(sentPayload()).toEqual({ Records: [] });
    lambdaMock.on(InvokeCommand).resolves(invokeOutput({ errorMessage: 'boom' }, { FunctionError: 'Unhandled' }));
    await expect(runServiceCheck(client, target, check)).resolves.toEqual({
      status: 'Failed',
      reason: 'fn:7 the invoke check raised Unhandled error: {"errorMessage":"boom"}',
    });
  });

  test('no check: nothing is invoked, the alarms judge the version', async () => {
    await expect(runServiceCheck(client, target, { type: 'none' })).resolves.toEqual({
      status: 'Succeeded',
      reason: 'fn:7: the service declares no health or invoke check; its alarms judge the version',
    });
    expect(lambdaMock.commandCalls(InvokeCommand)).toHaveLength(0);
  });
});

test('isSameFunction accepts the name or an ARN of the function', () => {
  expect(isSameFunction('svc', 'svc')).toBe(true);
  expect(isSameFunction('arn:aws:lambda:us-east-1:111111111111:function:svc', 'svc')).toBe(true);
  expect(isSameFunction('other', 'svc')).toBe(false);
});
