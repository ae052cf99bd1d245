import { isTransientError, retry } from '../../lib/runtime/retry';

const noSleep = jest.fn(async (_ms: number) => undefined);
const error = (name: string, extra: object = {}) => Object.assign(new Error(name), { name, ...extra });

beforeEach(() => noSleep.mockClear());

describe('isTransientError', () => {
  test.each([
    ['ThrottlingException', error('ThrottlingException')],
    ['TooManyRequestsException', error('TooManyRequestsException')],
    ['an SDK error marked $retryable', error('Whatever', { $retryable: { throttling: true } })],
    ['an HTTP 503', error('Unknown', { $metadata: { httpStatusCode: 503 } })],
    ['an HTTP 429', error('Unknown', { $metadata: { httpStatusCode: 429 } })],
  ])('%s is transient', (_name, err) => expect(isTransientError(err)).toBe(true));

  test.each([
    ['AccessDeniedException', error('AccessDeniedException', { $metadata: { httpStatusCode: 403 } })],
    ['DeploymentDoesNotExistException', error('DeploymentDoesNotExistException', { $metadata: { httpStatusCode: 400 } })],
    ['a string', 'boom'],
    ['null', null],
  ])('%s is not transient', (_name, err) => expect(isTransientError(err)).toBe(false));
});

describe('retry', () => {
  test('returns the first success without waiting', async () => {
    const fn = jest.fn().mockResolvedValue('ok');
    await expect(retry(fn, { sleep: noSleep })).resolves.toBe('ok');
    expect(fn).toHaveBeenCalledTimes(1);
    expect(noSleep).not.toHaveBeenCalled();
  });

  test('retries transient errors with growing delays, then succeeds', async () => {
    const fn = jest
      .fn()
      .mockRejectedValueOnce(error('ThrottlingException'))
      .mockRejectedValueOnce(error('ServiceUnavailable'))
      .mockResolvedValue('ok');
    await expect(retry(fn, { sleep: noSleep, baseDelayMs: 100 })).resolves.toBe('ok');
    expect(fn).toHaveBeenCalledTimes(3);
    const [first, second] = noSleep.mock.calls.map(([ms]) => ms);
    expect(first).toBeGreaterThanOrEqual(50);
    expect(first).toBeLessThanOrEqual(100);
    expect(second).toBeGreaterThanOrEqual(100);
    expect(second).toBeLessThanOrEqual(200);
  });

  test('gives up after `attempts` and rethrows the last error', async () => {
    const fn = jest.fn().mockRejectedValue(error('ThrottlingException'));
    await expect(retry(fn, { sleep: noSleep, attempts: 3 })).rejects.toThrow('ThrottlingException');
    expect(fn).toHaveBeenCalledTimes(3);
    expect(noSleep).toHaveBeenCalledTimes(2);
  });

  test('does not retry an error that is not transient', async () => {
    const fn = jest.fn().mockRejectedValue(error('AccessDeniedException'));
    await expect(retry(fn, { sleep: noSleep })).rejects.toThrow('AccessDeniedException');
    expect(fn).toHaveBeenCalledTimes(1);
  });

  test('uses the given shouldRetry', async () => {
    const fn = jest.fn().mockRejectedValueOnce(error('Flaky')).mockResolvedValue(1);
    await expect(retry(fn, { sleep: noSleep, shouldRetry: (e) => (e as Error).name === 'Flaky' })).resolves.toBe(1);
    expect(fn).toHaveBeenCalledTimes(2);
  });
});
