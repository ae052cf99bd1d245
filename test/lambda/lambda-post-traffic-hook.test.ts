import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import {
  BatchGetDeploymentsCommand,
  CodeDeployClient,
  DeploymentInfo,
  GetDeploymentCommand,
  ListDeploymentsCommand,
  PutLifecycleEventHookExecutionStatusCommand,
} from '@aws-sdk/client-codedeploy';
import { InvokeCommand, LambdaClient, ListVersionsByFunctionCommand } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { checkLiveAlias, handler, MAX_VERSION_PAGES, runsLike } from '../../lambda/lambda-post-traffic-hook';
import { lambdaHookHandler } from '../../lambda/shared/lambda-hook';
import {
  appSpec,
  CODE,
  FUNCTION_NAME,
  functionVersion,
  getDeploymentOutput,
  healthResponse,
  HEALTH_CHECK,
  HOOK_EVENT,
  invokeOutput,
  metricDataOutput,
  pastDeployment,
  versionsOutput,
} from './lambda-traffic-hook-fixtures';

const codedeployMock = mockClient(CodeDeployClient);
const lambdaMock = mockClient(LambdaClient);
const saved = { ...process.env };

/** The module's handler with retries that do not wait: the throttled-report tests need no real backoff. */
const handlerNoWait = lambdaHookHandler('lambda-post-traffic-hook', checkLiveAlias, { retry: { sleep: async () => undefined } });

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
  await expect(handler(HOOK_EVENT)).resolves.toEqual({
    status: 'Succeeded',
    reason: `${FUNCTION_NAME}:live GET /health answered as expected from version 7`,
    reported: true,
  });
  expect(lambdaMock).toHaveReceivedCommandWith(InvokeCommand, { FunctionName: FUNCTION_NAME, Qualifier: 'live' });
  expect(codedeployMock).toHaveReceivedCommandWith(PutLifecycleEventHookExecutionStatusCommand, {
    deploymentId: HOOK_EVENT.DeploymentId,
    lifecycleEventHookExecutionId: HOOK_EVENT.LifecycleEventHookExecutionId,
    status: 'Succeeded',
  });
});

test.each([
  [
    'the alias still runs the old version',
    invokeOutput(healthResponse({ status: 'ok', version: '6' }), { ExecutedVersion: '6' }),
    `${FUNCTION_NAME}:live ran version 6, expected 7`,
  ],
  [
    'a 503 status',
    invokeOutput(healthResponse({ status: 'ok', version: '7' }, 503)),
    `${FUNCTION_NAME}:live GET /health answered status 503, expected 200`,
  ],
  [
    'a bad body',
    invokeOutput(healthResponse({ healthy: true })),
    `${FUNCTION_NAME}:live GET /health: the response does not contain "\\"status\\":\\"ok\\"": {"healthy":true}`,
  ],
])('reports Failed when %s', async (_what, output, reason) => {
  lambdaMock.on(InvokeCommand).resolves(output);
  await expect(handler(HOOK_EVENT)).resolves.toEqual({ status: 'Failed', reason, reported: true });
  expect(reported()).toEqual(['Failed']);
});

test('reports Failed when the alias does not answer in time', async () => {
  lambdaMock.on(InvokeCommand).callsFake(() => new Promise(() => undefined));
  // CHECK_TIMEOUT_MS (300) passes on a fake clock, not for real.
  jest.useFakeTimers();
  const result = handler(HOOK_EVENT);
  await jest.advanceTimersByTimeAsync(300).finally(() => jest.useRealTimers());
  await expect(result).resolves.toEqual({ status: 'Failed', reason: 'check failed: CheckTimeout: timed out after 300 ms', reported: true });
  expect(reported()).toEqual(['Failed']);
});

test('reports Failed when the invoke throws', async () => {
  lambdaMock
    .on(InvokeCommand)
    .rejects(
      Object.assign(new Error('Function not found: live'), { name: 'ResourceNotFoundException', $metadata: { httpStatusCode: 404 } }),
    );
  await expect(handler(HOOK_EVENT)).resolves.toMatchObject({
    status: 'Failed',
    reason: 'check failed: ResourceNotFoundException: Function not found: live',
  });
  expect(reported()).toEqual(['Failed']);
});

test('retries a throttled report', async () => {
  codedeployMock
    .on(PutLifecycleEventHookExecutionStatusCommand)
    .rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } }))
    .resolves({});
  await expect(handlerNoWait(HOOK_EVENT)).resolves.toMatchObject({ status: 'Succeeded', reported: true });
  expect(reported()).toEqual(['Succeeded', 'Succeeded']);
});

test.each([[undefined], ['{}'], [{ LifecycleEventHookExecutionId: 'x' }]])(
  'a malformed event %j fails the invocation without calls',
  async (event) => {
    await expect(handler(event as never)).rejects.toThrow(/^malformed CodeDeploy hook event/);
    expect(codedeployMock).not.toHaveReceivedAnyCommand();
    expect(lambdaMock).not.toHaveReceivedAnyCommand();
  },
);

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
    await expect(handler(HOOK_EVENT, context)).resolves.toEqual({
      status: 'Failed',
      reason: 'check failed: CheckTimeout: timed out after 50 ms',
      reported: true,
    });
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
    await expect(handlerNoWait(HOOK_EVENT)).resolves.toMatchObject({ status: 'Succeeded', reported: true });
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

describe('traffic check of a judged canary (CANARY_TRAFFIC_CHECK)', () => {
  const cloudwatchMock = mockClient(CloudWatchClient);
  const CHECK = { minRequests: 100, stepMinutes: 10 };
  /** The fixture deployment was created at 10:00:00; the step's whole minutes are 10:00-10:10. */
  const STEP_START = new Date('2026-11-22T10:00:00Z');
  const OK_REASON = `${FUNCTION_NAME}:live GET /health answered as expected from version 7`;
  const HELD_12 =
    'held: the canary served 12 requests in its 10-minute step; the judge needs 100 to tell a regression from noise: ' +
    'lengthen the canary step, raise traffic, or set judge.minRequests lower (AWS/Lambda Invocations of version 7 through live, 10:00-10:10 UTC)';

  beforeEach(() => {
    cloudwatchMock.reset();
    process.env.CANARY_TRAFFIC_CHECK = JSON.stringify(CHECK);
    // A release: version 7 runs code no earlier version ran.
    lambdaMock
      .on(ListVersionsByFunctionCommand)
      .resolves(versionsOutput([functionVersion('5', CODE.A), functionVersion('6', CODE.B), functionVersion('7', CODE.C)]));
  });

  test('enough canary requests in the step: Succeeded, counted on the new version through the alias over the step', async () => {
    // 10 minutes at 152 requests a minute: a 10% canary of about 25 requests per second.
    cloudwatchMock.on(GetMetricDataCommand).resolves(metricDataOutput({ canary: Array(10).fill(152) }, STEP_START));
    await expect(handler(HOOK_EVENT)).resolves.toEqual({
      status: 'Succeeded',
      reason: `${OK_REASON}; the canary served 1520 requests in its 10-minute step (the judge needs 100; AWS/Lambda Invocations of version 7 through live, 10:00-10:10 UTC)`,
      reported: true,
    });
    expect(cloudwatchMock).toHaveReceivedCommandTimes(GetMetricDataCommand, 1);
    expect(cloudwatchMock).toHaveReceivedCommandWith(GetMetricDataCommand, {
      StartTime: new Date('2026-11-22T10:00:00Z'),
      EndTime: new Date('2026-11-22T10:10:00Z'),
      MetricDataQueries: [
        {
          Id: 'canary',
          MetricStat: {
            Metric: {
              Namespace: 'AWS/Lambda',
              MetricName: 'Invocations',
              Dimensions: [
                { Name: 'FunctionName', Value: FUNCTION_NAME },
                { Name: 'Resource', Value: `${FUNCTION_NAME}:live` },
                { Name: 'ExecutedVersion', Value: '7' },
              ],
            },
            Period: 60,
            Stat: 'Sum',
          },
          ReturnData: true,
        },
      ],
    });
    expect(reported()).toEqual(['Succeeded']);
  });

  test('too few canary requests: Failed with the reason, so CodeDeploy rolls back and the stack update says why', async () => {
    // Lambda publishes no Invocations datapoint for a minute without invocations: 6 minutes had some.
    cloudwatchMock.on(GetMetricDataCommand).resolves(metricDataOutput({ canary: [2, 1, 3, 2, 1, 3] }, STEP_START));
    await expect(handler(HOOK_EVENT)).resolves.toEqual({ status: 'Failed', reason: HELD_12, reported: true });
    expect(reported()).toEqual(['Failed']);
  });

  test('no canary request at all (no datapoint): held', async () => {
    cloudwatchMock.on(GetMetricDataCommand).resolves(metricDataOutput({ canary: [] }, STEP_START));
    await expect(handler(HOOK_EVENT)).resolves.toMatchObject({
      status: 'Failed',
      reason: expect.stringMatching(/^held: the canary served 0 requests in its 10-minute step;/),
    });
  });

  test('a step that does not start on a minute counts from its minute to the start of the minute it ends in', async () => {
    codedeployMock.on(GetDeploymentCommand).resolves({
      ...getDeploymentOutput(appSpec()),
      deploymentInfo: { ...getDeploymentOutput(appSpec()).deploymentInfo, createTime: new Date('2026-11-22T10:00:42.5Z') },
    });
    cloudwatchMock.on(GetMetricDataCommand).resolves(metricDataOutput({ canary: [150] }, STEP_START));
    await expect(handler(HOOK_EVENT)).resolves.toMatchObject({ status: 'Succeeded' });
    expect(cloudwatchMock).toHaveReceivedCommandWith(GetMetricDataCommand, {
      StartTime: new Date('2026-11-22T10:00:00Z'),
      EndTime: new Date('2026-11-22T10:10:00Z'),
    });
  });

  test('the datapoints of a long step over several pages are all counted', async () => {
    process.env.CANARY_TRAFFIC_CHECK = JSON.stringify({ minRequests: 100, stepMinutes: 30 });
    cloudwatchMock
      .on(GetMetricDataCommand)
      .resolvesOnce(metricDataOutput({ canary: Array(15).fill(3) }, STEP_START, { NextToken: 'page-2' }))
      .resolvesOnce(metricDataOutput({ canary: Array(15).fill(4) }, new Date(STEP_START.getTime() + 15 * 60_000)));
    await expect(handler(HOOK_EVENT)).resolves.toMatchObject({
      status: 'Succeeded',
      reason: expect.stringContaining('the canary served 105 requests in its 30-minute step'),
    });
    expect(cloudwatchMock.commandCalls(GetMetricDataCommand).map((c) => c.args[0].input.NextToken)).toEqual([undefined, 'page-2']);
  });

  test('metrics that cannot be read (access denied) fail the check: the canary does not pass unjudged', async () => {
    cloudwatchMock
      .on(GetMetricDataCommand)
      .rejects(
        Object.assign(
          new Error('User: arn:aws:sts::111111111111:assumed-role/hook is not authorized to perform: cloudwatch:GetMetricData'),
          { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } },
        ),
      );
    await expect(handler(HOOK_EVENT)).resolves.toEqual({
      status: 'Failed',
      reason:
        "could not count the canary's requests, so it cannot pass unjudged: AccessDenied: User: arn:aws:sts::111111111111:assumed-role/hook is not authorized to perform: cloudwatch:GetMetricData",
      reported: true,
    });
    expect(cloudwatchMock).toHaveReceivedCommandTimes(GetMetricDataCommand, 1);
  });

  test('a query CloudWatch answers Forbidden fails the check instead of counting as zero', async () => {
    cloudwatchMock.on(GetMetricDataCommand).resolves({
      $metadata: { httpStatusCode: 200 },
      MetricDataResults: [
        {
          Id: 'canary',
          Label: 'Invocations',
          Timestamps: [],
          Values: [],
          StatusCode: 'Forbidden',
          Messages: [{ Code: 'Forbidden', Value: 'Insufficient permissions' }],
        },
      ],
    });
    await expect(handler(HOOK_EVENT)).resolves.toMatchObject({
      status: 'Failed',
      reason:
        "could not count the canary's requests, so it cannot pass unjudged: Error: GetMetricData answered Forbidden for canary: Insufficient permissions",
    });
  });

  test('the service check fails first: reported, and the traffic is not counted', async () => {
    lambdaMock.on(InvokeCommand).resolves(invokeOutput(healthResponse({ status: 'ok', version: '7' }, 503)));
    await expect(handler(HOOK_EVENT)).resolves.toMatchObject({
      status: 'Failed',
      reason: `${FUNCTION_NAME}:live GET /health answered status 503, expected 200`,
    });
    expect(cloudwatchMock).not.toHaveReceivedAnyCommand();
  });

  test('a service without a judge (no CANARY_TRAFFIC_CHECK) is not counted', async () => {
    delete process.env.CANARY_TRAFFIC_CHECK;
    await expect(handler(HOOK_EVENT)).resolves.toEqual({ status: 'Succeeded', reason: OK_REASON, reported: true });
    expect(cloudwatchMock).not.toHaveReceivedAnyCommand();
  });

  test.each([
    ['CloudFormation rolls the stack back', { creator: 'CloudFormationRollback' as const }, appSpec()],
    ['CodeDeploy rolls back', { creator: 'codeDeployRollback' as const }, appSpec()],
    ['the target is an older version', {}, appSpec({ CurrentVersion: '8', TargetVersion: '7' })],
  ])('a rollback is never held: %s', async (_what, info, content) => {
    codedeployMock
      .on(GetDeploymentCommand)
      .resolves({ ...getDeploymentOutput(content), deploymentInfo: { ...getDeploymentOutput(content).deploymentInfo, ...info } });
    await expect(handler(HOOK_EVENT)).resolves.toMatchObject({
      status: 'Succeeded',
      reason: expect.stringContaining('a rollback, which is never held'),
    });
    expect(cloudwatchMock).not.toHaveReceivedAnyCommand();
  });

  describe('a return to code that served before is never held (a pipeline stage rollback)', () => {
    /** The group's history: ListDeployments lists the ids, BatchGetDeployments answers for those asked. */
    function history(infos: DeploymentInfo[]) {
      codedeployMock.on(ListDeploymentsCommand).resolves({ deployments: infos.map((i) => i.deploymentId!) });
      codedeployMock.on(BatchGetDeploymentsCommand).callsFake((input: { deploymentIds: string[] }) => ({
        deploymentsInfo: infos.filter((i) => input.deploymentIds.includes(i.deploymentId!)),
      }));
    }
    const day = (d: number) => new Date(`2026-11-${d}T10:00:00Z`);
    const RETURN_TO_5 =
      `${OK_REASON}; canary traffic not counted: version 7 runs the same code and configuration as version 5 (CodeSha256 ${CODE.A}), which served before version 6, ` +
      'the one it replaces: a return to what served (a pipeline stage rollback), which is never held';

    test('stage rollback of a quiet service: CloudFormation republished the code of version 5 as version 7; it passes uncounted', async () => {
      lambdaMock
        .on(ListVersionsByFunctionCommand)
        .resolves(
          versionsOutput([
            functionVersion('4', CODE.C),
            functionVersion('5', CODE.A),
            functionVersion('6', CODE.B),
            functionVersion('7', CODE.A),
          ]),
        );
      history([pastDeployment('d-5', '4', '5', 'Succeeded', day(15)), pastDeployment('d-6', '5', '6', 'Succeeded', day(16))]);
      await expect(handler(HOOK_EVENT)).resolves.toEqual({ status: 'Succeeded', reason: RETURN_TO_5, reported: true });
      expect(cloudwatchMock).not.toHaveReceivedAnyCommand();
      expect(lambdaMock).toHaveReceivedCommandWith(ListVersionsByFunctionCommand, { FunctionName: FUNCTION_NAME, MaxItems: 50 });
      // The group's ended deployments since version 5 was published (an hour's slack).
      expect(codedeployMock).toHaveReceivedCommandWith(ListDeploymentsCommand, {
        applicationName: getDeploymentOutput(appSpec()).deploymentInfo!.applicationName,
        deploymentGroupName: getDeploymentOutput(appSpec()).deploymentInfo!.deploymentGroupName,
        includeOnlyStatuses: ['Succeeded', 'Failed', 'Stopped'],
        createTimeRange: { start: new Date('2026-11-15T08:58:31.123Z') },
      });
    });

    test('the version the service was created with (no deployment ever targeted it) served', async () => {
      lambdaMock
        .on(ListVersionsByFunctionCommand)
        .resolves(versionsOutput([functionVersion('5', CODE.A), functionVersion('6', CODE.B), functionVersion('7', CODE.A)]));
      history([pastDeployment('d-6', '5', '6', 'Succeeded', day(16))]);
      await expect(handler(HOOK_EVENT)).resolves.toEqual({ status: 'Succeeded', reason: RETURN_TO_5, reported: true });
    });

    test('re-push of a release that was rolled back (Lambda hands out version 7 again for the unchanged code): held', async () => {
      lambdaMock
        .on(ListVersionsByFunctionCommand)
        .resolves(versionsOutput([functionVersion('5', CODE.C), functionVersion('6', CODE.A), functionVersion('7', CODE.B)]));
      history([pastDeployment('d-6', '5', '6', 'Succeeded', day(16)), pastDeployment('d-7', '6', '7', 'Failed', day(17))]);
      cloudwatchMock.on(GetMetricDataCommand).resolves(metricDataOutput({ canary: [2, 1, 3, 2, 1, 3] }, STEP_START));
      await expect(handler(HOOK_EVENT)).resolves.toEqual({ status: 'Failed', reason: HELD_12, reported: true });
      // No earlier version runs that code: no history to read.
      expect(codedeployMock).not.toHaveReceivedCommand(ListDeploymentsCommand);
    });

    test('re-push, after another release, of a version that was rolled back: held, and the reason says which', async () => {
      lambdaMock
        .on(ListVersionsByFunctionCommand)
        .resolves(
          versionsOutput([
            functionVersion('4', CODE.A),
            functionVersion('5', CODE.B),
            functionVersion('6', CODE.C),
            functionVersion('7', CODE.B),
          ]),
        );
      history([pastDeployment('d-5', '4', '5', 'Failed', day(15)), pastDeployment('d-6', '4', '6', 'Succeeded', day(16))]);
      cloudwatchMock.on(GetMetricDataCommand).resolves(metricDataOutput({ canary: [2, 1, 3, 2, 1, 3] }, STEP_START));
      await expect(handler(HOOK_EVENT)).resolves.toEqual({
        status: 'Failed',
        reason: HELD_12.replace(
          ', 10:00-10:10 UTC)',
          '; it runs the same as version 5 (deployment d-5 Failed), rolled back, so it is counted as a release, 10:00-10:10 UTC)',
        ),
        reported: true,
      });
    });

    test('the same code with another environment is a release (a configuration change is judged too): held', async () => {
      const env = { Variables: { LOG_LEVEL: 'debug', POWERTOOLS_SERVICE_NAME: 'orders-api' } };
      lambdaMock
        .on(ListVersionsByFunctionCommand)
        .resolves(
          versionsOutput([functionVersion('5', CODE.A), functionVersion('6', CODE.B), functionVersion('7', CODE.A, { Environment: env })]),
        );
      cloudwatchMock.on(GetMetricDataCommand).resolves(metricDataOutput({ canary: [2, 1, 3, 2, 1, 3] }, STEP_START));
      await expect(handler(HOOK_EVENT)).resolves.toEqual({ status: 'Failed', reason: HELD_12, reported: true });
    });

    test('versions over several pages are all compared', async () => {
      lambdaMock
        .on(ListVersionsByFunctionCommand)
        .resolvesOnce(versionsOutput([functionVersion('5', CODE.A)], { NextMarker: 'page-2' }))
        .resolvesOnce({ $metadata: {}, Versions: [functionVersion('6', CODE.B), functionVersion('7', CODE.A)] });
      history([pastDeployment('d-6', '5', '6', 'Succeeded', day(16))]);
      await expect(handler(HOOK_EVENT)).resolves.toMatchObject({ status: 'Succeeded', reason: RETURN_TO_5 });
      expect(lambdaMock.commandCalls(ListVersionsByFunctionCommand).map((c) => c.args[0].input.Marker)).toEqual([undefined, 'page-2']);
    });

    describe('a lookup that fails neither passes the canary nor blocks it: it is counted, and the reason says it could not tell', () => {
      const denied = Object.assign(
        new Error(`User: arn:aws:sts::111111111111:assumed-role/hook is not authorized to perform: lambda:ListVersionsByFunction`),
        {
          name: 'AccessDeniedException',
          $metadata: { httpStatusCode: 403 },
        },
      );
      const NOTE = `could not tell whether it returns to code that served before (AccessDeniedException: ${denied.message}), so it is counted as a release`;

      test('too few requests: held, saying it could not tell', async () => {
        lambdaMock.on(ListVersionsByFunctionCommand).rejects(denied);
        cloudwatchMock.on(GetMetricDataCommand).resolves(metricDataOutput({ canary: [2, 1, 3, 2, 1, 3] }, STEP_START));
        await expect(handler(HOOK_EVENT)).resolves.toEqual({
          status: 'Failed',
          reason: HELD_12.replace(', 10:00-10:10 UTC)', `; ${NOTE}, 10:00-10:10 UTC)`),
          reported: true,
        });
      });

      test('enough requests: passes, saying it could not tell', async () => {
        lambdaMock.on(ListVersionsByFunctionCommand).rejects(denied);
        cloudwatchMock.on(GetMetricDataCommand).resolves(metricDataOutput({ canary: Array(10).fill(152) }, STEP_START));
        await expect(handler(HOOK_EVENT)).resolves.toMatchObject({
          status: 'Succeeded',
          reason: expect.stringContaining(`version 7 through live; ${NOTE}, 10:00-10:10 UTC)`),
        });
      });

      test('the history throttled beyond the retries: counted', async () => {
        lambdaMock
          .on(ListVersionsByFunctionCommand)
          .resolves(versionsOutput([functionVersion('5', CODE.A), functionVersion('6', CODE.B), functionVersion('7', CODE.A)]));
        codedeployMock
          .on(ListDeploymentsCommand)
          .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } }));
        cloudwatchMock.on(GetMetricDataCommand).resolves(metricDataOutput({ canary: Array(10).fill(152) }, STEP_START));
        const result = await checkLiveAlias(HOOK_EVENT, new AbortController().signal, {
          codedeploy: new CodeDeployClient({ region: 'us-east-1' }),
          lambda: new LambdaClient({ region: 'us-east-1' }),
          cloudwatch: new CloudWatchClient({ region: 'us-east-1' }),
          config: { functionName: FUNCTION_NAME, aliasName: 'live', checkTimeoutMs: 300, check: HEALTH_CHECK, trafficCheck: CHECK },
          retry: { sleep: async () => undefined },
        });
        expect(result).toMatchObject({
          status: 'Succeeded',
          reason: expect.stringContaining(
            'could not tell whether it returns to code that served before (ThrottlingException: Rate exceeded), so it is counted as a release',
          ),
        });
        expect(codedeployMock).toHaveReceivedCommandTimes(ListDeploymentsCommand, 5);
      });

      test('a lookup that outlasts its time limit is cut short: counted', async () => {
        lambdaMock.on(ListVersionsByFunctionCommand).callsFake(() => new Promise(() => undefined));
        cloudwatchMock.on(GetMetricDataCommand).resolves(metricDataOutput({ canary: Array(10).fill(152) }, STEP_START));
        const result = await checkLiveAlias(HOOK_EVENT, new AbortController().signal, {
          codedeploy: new CodeDeployClient({ region: 'us-east-1' }),
          lambda: new LambdaClient({ region: 'us-east-1' }),
          cloudwatch: new CloudWatchClient({ region: 'us-east-1' }),
          config: { functionName: FUNCTION_NAME, aliasName: 'live', checkTimeoutMs: 300, check: HEALTH_CHECK, trafficCheck: CHECK },
          returnLookupMs: 50,
        });
        expect(result).toMatchObject({
          status: 'Succeeded',
          reason: expect.stringContaining(
            'could not tell whether it returns to code that served before (CheckTimeout: timed out after 50 ms)',
          ),
        });
      });

      test(`a function with more than ${MAX_VERSION_PAGES * 50} versions is not read to the end: counted`, async () => {
        lambdaMock.on(ListVersionsByFunctionCommand).resolves(versionsOutput([functionVersion('5', CODE.A)], { NextMarker: 'more' }));
        cloudwatchMock.on(GetMetricDataCommand).resolves(metricDataOutput({ canary: Array(10).fill(152) }, STEP_START));
        await expect(handler(HOOK_EVENT)).resolves.toMatchObject({
          status: 'Succeeded',
          reason: expect.stringContaining(
            `(Error: ${FUNCTION_NAME} has more than 1000 versions; ListVersionsByFunction was not read to the end)`,
          ),
        });
        expect(lambdaMock).toHaveReceivedCommandTimes(ListVersionsByFunctionCommand, MAX_VERSION_PAGES);
      });
    });

    test('runsLike: code and how it runs; not the role, description or revision id', () => {
      const base = functionVersion('5', CODE.A);
      expect(
        runsLike(
          functionVersion('9', CODE.A, {
            Role: 'arn:aws:iam::111111111111:role/other',
            Description: 'x',
            RevisionId: 'y',
            LastModified: 'z',
          }),
        ),
      ).toBe(runsLike(base));
      for (const change of [
        { CodeSha256: CODE.B },
        { Handler: 'index.other' },
        { Runtime: 'nodejs24.x' as const },
        { Architectures: ['x86_64' as const] },
        { MemorySize: 512 },
        { Layers: [{ Arn: 'arn:aws:lambda:us-east-1:111111111111:layer:l:3' }] },
      ]) {
        expect(runsLike({ ...base, ...change })).not.toBe(runsLike(base));
      }
    });
  });

  test('a malformed CANARY_TRAFFIC_CHECK is reported as Failed, not thrown', async () => {
    process.env.CANARY_TRAFFIC_CHECK = '{"minRequests":0}';
    await expect(handler(HOOK_EVENT)).resolves.toEqual({
      status: 'Failed',
      reason:
        'hook misconfigured: CANARY_TRAFFIC_CHECK.minRequests 0 is not a whole number of at least 1; CANARY_TRAFFIC_CHECK.stepMinutes undefined is not a whole number of minutes of at least 1',
      reported: true,
    });
  });

  describe("waiting for the step's last minutes to be published", () => {
    const codedeploy = new CodeDeployClient({ region: 'us-east-1' });
    const lambdaClient = new LambdaClient({ region: 'us-east-1' });
    const cloudwatch = new CloudWatchClient({ region: 'us-east-1' });
    const config = { functionName: FUNCTION_NAME, aliasName: 'live', checkTimeoutMs: 300, check: HEALTH_CHECK, trafficCheck: CHECK };
    /** A clock that starts 40 s after the step's end (10:10:40) and moves only when the check sleeps. */
    function clock() {
      let t = new Date('2026-11-22T10:10:40Z').getTime();
      const sleeps: number[] = [];
      return { now: () => t, sleep: async (ms: number) => void (sleeps.push(ms), (t += ms)), sleeps };
    }
    const signal = new AbortController().signal;

    test('a count short of minRequests is read again until it is enough: Succeeded without waiting the full allowance', async () => {
      const c = clock();
      cloudwatchMock
        .on(GetMetricDataCommand)
        .resolvesOnce(metricDataOutput({ canary: Array(8).fill(12) }, STEP_START))
        .resolvesOnce(metricDataOutput({ canary: Array(10).fill(12) }, STEP_START));
      const result = await checkLiveAlias(HOOK_EVENT, signal, { codedeploy, lambda: lambdaClient, cloudwatch, config, wait: c });
      expect(result).toMatchObject({
        status: 'Succeeded',
        reason: expect.stringContaining('the canary served 120 requests in its 10-minute step'),
      });
      expect(c.sleeps).toEqual([20_000]);
    });

    test('still short once the last minute has had 3 minutes to be published: held', async () => {
      const c = clock();
      cloudwatchMock.on(GetMetricDataCommand).resolves(metricDataOutput({ canary: [2, 1, 3, 2, 1, 3] }, STEP_START));
      const result = await checkLiveAlias(HOOK_EVENT, signal, { codedeploy, lambda: lambdaClient, cloudwatch, config, wait: c });
      expect(result).toEqual({ status: 'Failed', reason: HELD_12 });
      // From 10:10:40 until 10:13:00 (the step's end + 180 s): seven 20 s polls, then the last reading decides.
      expect(c.sleeps).toEqual(Array(7).fill(20_000));
      expect(cloudwatchMock).toHaveReceivedCommandTimes(GetMetricDataCommand, 8);
    });

    test('throttled beyond the retries: Failed with the reason', async () => {
      const throttled = Object.assign(new Error('Rate exceeded'), { name: 'Throttling', $metadata: { httpStatusCode: 400 } });
      cloudwatchMock.on(GetMetricDataCommand).rejects(throttled);
      const result = await checkLiveAlias(HOOK_EVENT, signal, {
        codedeploy,
        lambda: lambdaClient,
        cloudwatch,
        config,
        retry: { sleep: async () => undefined },
        wait: clock(),
      });
      expect(result).toEqual({
        status: 'Failed',
        reason: "could not count the canary's requests, so it cannot pass unjudged: Throttling: Rate exceeded",
      });
      expect(cloudwatchMock).toHaveReceivedCommandTimes(GetMetricDataCommand, 5);
    });
  });
});
