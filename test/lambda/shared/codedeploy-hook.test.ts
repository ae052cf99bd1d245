import { Logger } from '@aws-lambda-powertools/logger';
import { CodeDeployClient, PutLifecycleEventHookExecutionStatusCommand } from '@aws-sdk/client-codedeploy';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { checkBudgetMs, parseHookIds, reportHookStatus, runHook } from '../../../lambda/shared/codedeploy-hook';
import { errorLine } from '../../../lib/runtime/errors';

const codedeployMock = mockClient(CodeDeployClient);
const codedeploy = new CodeDeployClient({ region: 'us-east-1' });
const EVENT = { DeploymentId: 'd-ABCDEF123', LifecycleEventHookExecutionId: 'eyJlbmNyeXB0ZWREYXRhIjoiZXhhbXBsZSJ9' };
const noSleep = async () => undefined;

function deps(checkTimeoutMs = 1000) {
  const logger = new Logger({ serviceName: 'test', logLevel: 'SILENT' });
  const info = jest.spyOn(logger, 'info');
  const err = jest.spyOn(logger, 'error');
  return { deps: { codedeploy, logger, checkTimeoutMs, retry: { sleep: noSleep } }, info, err };
}

function throttled() {
  return Object.assign(new Error('Rate exceeded'), {
    name: 'ThrottlingException',
    $metadata: { httpStatusCode: 400 },
    $retryable: { throttling: true },
  });
}

beforeEach(() => {
  codedeployMock.reset();
  codedeployMock
    .on(PutLifecycleEventHookExecutionStatusCommand)
    .resolves({ lifecycleEventHookExecutionId: EVENT.LifecycleEventHookExecutionId });
});

describe('parseHookIds', () => {
  test('returns both ids of a CodeDeploy event', () => {
    expect(parseHookIds(EVENT)).toEqual(EVENT);
  });
  test.each([
    [null, 'event is null, expected an object with DeploymentId and LifecycleEventHookExecutionId'],
    ['d-1', 'event is string, expected an object with DeploymentId and LifecycleEventHookExecutionId'],
    [{}, 'event lacks DeploymentId and LifecycleEventHookExecutionId (got keys: none)'],
    [{ DeploymentId: 'd-1', Other: 1 }, 'event lacks LifecycleEventHookExecutionId (got keys: DeploymentId, Other)'],
    [
      { DeploymentId: '', LifecycleEventHookExecutionId: 'x' },
      'event lacks DeploymentId (got keys: DeploymentId, LifecycleEventHookExecutionId)',
    ],
    [
      { DeploymentId: 42, LifecycleEventHookExecutionId: 'x' },
      'event lacks DeploymentId (got keys: DeploymentId, LifecycleEventHookExecutionId)',
    ],
  ])('explains what is wrong with %j', (event, error) => {
    expect(parseHookIds(event)).toEqual({ error });
  });
});

describe('runHook', () => {
  test('reports Succeeded when the check succeeds', async () => {
    const { deps: d, info } = deps();
    const result = await runHook(EVENT, async () => ({ status: 'Succeeded', reason: 'all good' }), d);
    expect(result).toEqual({ status: 'Succeeded', reason: 'all good', reported: true });
    expect(codedeployMock).toHaveReceivedCommandWith(PutLifecycleEventHookExecutionStatusCommand, {
      deploymentId: 'd-ABCDEF123',
      lifecycleEventHookExecutionId: EVENT.LifecycleEventHookExecutionId,
      status: 'Succeeded',
    });
    expect(info).toHaveBeenCalledWith('Hook decision', { deploymentId: 'd-ABCDEF123', status: 'Succeeded', reason: 'all good' });
  });

  test('reports Failed with the reason when the check fails', async () => {
    const { deps: d, info } = deps();
    const result = await runHook(EVENT, async () => ({ status: 'Failed', reason: 'status 500' }), d);
    expect(result).toEqual({ status: 'Failed', reason: 'status 500', reported: true });
    expect(codedeployMock).toHaveReceivedCommandWith(PutLifecycleEventHookExecutionStatusCommand, { status: 'Failed' });
    expect(info).toHaveBeenCalledWith('Hook decision', expect.objectContaining({ status: 'Failed', reason: 'status 500' }));
  });

  test('reports Failed when the check throws, asynchronously or not', async () => {
    const { deps: d } = deps();
    await expect(
      runHook(
        EVENT,
        async () => {
          throw new TypeError('boom');
        },
        d,
      ),
    ).resolves.toEqual({ status: 'Failed', reason: 'check failed: TypeError: boom', reported: true });
    await expect(
      runHook(
        EVENT,
        () => {
          throw new RangeError('sync');
        },
        d,
      ),
    ).resolves.toEqual({ status: 'Failed', reason: 'check failed: RangeError: sync', reported: true });
    expect(codedeployMock).toHaveReceivedCommandTimes(PutLifecycleEventHookExecutionStatusCommand, 2);
  });

  test('reports Failed when the check outlives the timeout, and aborts its signal', async () => {
    const { deps: d } = deps(20);
    let signal: AbortSignal | undefined;
    const result = await runHook(
      EVENT,
      (_ids, s) => {
        signal = s;
        return new Promise(() => undefined);
      },
      d,
    );
    expect(result).toEqual({ status: 'Failed', reason: 'check failed: CheckTimeout: timed out after 20 ms', reported: true });
    expect(signal?.aborted).toBe(true);
    expect(codedeployMock).toHaveReceivedCommandWith(PutLifecycleEventHookExecutionStatusCommand, { status: 'Failed' });
  });

  test('reports Failed when the check returns something that is not a result', async () => {
    const { deps: d } = deps();
    const result = await runHook(EVENT, async () => ({ status: 'Maybe' }) as never, d);
    expect(result).toEqual({ status: 'Failed', reason: 'check returned {"status":"Maybe"}, not { status, reason }', reported: true });
  });

  test.each([
    null,
    undefined,
    'not-an-event',
    42,
    [EVENT],
    { DeploymentId: 'd-1' },
    { LifecycleEventHookExecutionId: 'x' },
    { DeploymentId: ['d-1'], LifecycleEventHookExecutionId: 'x' },
  ])('a malformed event %j fails the invocation and is logged; nothing is reported (there is nothing to report against)', async (event) => {
    const { deps: d, err } = deps();
    const check = jest.fn();
    await expect(runHook(event, check, d)).rejects.toThrow(/^malformed CodeDeploy hook event: event (is|lacks) /);
    expect(check).not.toHaveBeenCalled();
    expect(codedeployMock).not.toHaveReceivedCommand(PutLifecycleEventHookExecutionStatusCommand);
    expect(err).toHaveBeenCalledWith(
      'Malformed hook event; cannot report to CodeDeploy',
      expect.objectContaining({ reason: expect.any(String) }),
    );
  });

  test('retries a throttled report until it goes through', async () => {
    codedeployMock.on(PutLifecycleEventHookExecutionStatusCommand).rejectsOnce(throttled()).rejectsOnce(throttled()).resolves({});
    const { deps: d } = deps();
    const result = await runHook(EVENT, async () => ({ status: 'Succeeded', reason: 'ok' }), d);
    expect(result.reported).toBe(true);
    expect(codedeployMock).toHaveReceivedCommandTimes(PutLifecycleEventHookExecutionStatusCommand, 3);
  });

  test('still reports after a crashed check even when the first report is throttled', async () => {
    codedeployMock.on(PutLifecycleEventHookExecutionStatusCommand).rejectsOnce(throttled()).resolves({});
    const { deps: d } = deps();
    const result = await runHook(
      EVENT,
      async () => {
        throw new Error('crash');
      },
      d,
    );
    expect(result).toEqual({ status: 'Failed', reason: 'check failed: Error: crash', reported: true });
    expect(codedeployMock).toHaveReceivedCommandTimes(PutLifecycleEventHookExecutionStatusCommand, 2);
    expect(codedeployMock).toHaveReceivedNthCommandWith(2, PutLifecycleEventHookExecutionStatusCommand, { status: 'Failed' });
  });

  test('rethrows (for Lambda to retry the invocation) when reporting keeps failing, after logging it', async () => {
    const denied = Object.assign(new Error('not authorized'), { name: 'AccessDeniedException', $metadata: { httpStatusCode: 403 } });
    codedeployMock.on(PutLifecycleEventHookExecutionStatusCommand).rejects(denied);
    const { deps: d, err } = deps();
    await expect(runHook(EVENT, async () => ({ status: 'Succeeded', reason: 'ok' }), d)).rejects.toThrow('not authorized');
    expect(codedeployMock).toHaveReceivedCommandTimes(PutLifecycleEventHookExecutionStatusCommand, 1);
    expect(err).toHaveBeenCalledWith('Could not report hook status to CodeDeploy', {
      deploymentId: 'd-ABCDEF123',
      error: 'AccessDeniedException: not authorized',
    });
  });
});

describe('the check ends before the function does', () => {
  test('a check that would outlive the invocation is cut at the remaining time minus the reporting reserve', async () => {
    const { deps: d } = deps(60_000);
    const result = await runHook(EVENT, () => new Promise(() => undefined), { ...d, remainingTimeMs: () => 10_040 });
    expect(result).toEqual({ status: 'Failed', reason: 'check failed: CheckTimeout: timed out after 40 ms', reported: true });
    expect(codedeployMock).toHaveReceivedCommandWith(PutLifecycleEventHookExecutionStatusCommand, { status: 'Failed' });
  });

  test('a remaining-time reader that throws still reports Failed', async () => {
    const { deps: d } = deps();
    const remainingTimeMs = () => {
      throw new TypeError('context.getRemainingTimeInMillis is not a function');
    };
    await expect(runHook(EVENT, async () => ({ status: 'Succeeded', reason: 'ok' }), { ...d, remainingTimeMs })).resolves.toEqual({
      status: 'Failed',
      reason: 'check failed: TypeError: context.getRemainingTimeInMillis is not a function',
      reported: true,
    });
  });

  test.each([
    [{ checkTimeoutMs: 30_000 }, 30_000],
    [{ checkTimeoutMs: 30_000, remainingTimeMs: (): number => 59_000 }, 30_000],
    [{ checkTimeoutMs: 30_000, remainingTimeMs: (): number => 25_000 }, 15_000],
    [{ checkTimeoutMs: 30_000, remainingTimeMs: (): number => 25_000, reportReserveMs: 5_000 }, 20_000],
    [{ checkTimeoutMs: 30_000, remainingTimeMs: (): number => 3_000 }, 0],
  ])('checkBudgetMs(%o) is %d', (d, expected) => {
    expect(checkBudgetMs(d)).toBe(expected);
  });
});

describe('reportHookStatus', () => {
  test('gives up after the configured attempts of throttling', async () => {
    codedeployMock.on(PutLifecycleEventHookExecutionStatusCommand).rejects(throttled());
    await expect(reportHookStatus(codedeploy, EVENT, 'Failed', { attempts: 2, sleep: noSleep })).rejects.toThrow('Rate exceeded');
    expect(codedeployMock).toHaveReceivedCommandTimes(PutLifecycleEventHookExecutionStatusCommand, 2);
  });
});

test('errorLine names the error type', () => {
  expect(errorLine(new TypeError('x'))).toBe('TypeError: x');
  expect(errorLine('plain')).toBe('plain');
});
