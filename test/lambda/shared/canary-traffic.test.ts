import { heldReason, isRollbackCreator, judgeCanaryTraffic, stepWindow } from '../../../lambda/shared/canary-traffic';
import { withinTimeout } from '../../../lambda/shared/codedeploy-hook';
import { canaryTrafficCheckValue, parseCanaryTrafficCheck } from '../../../lib/runtime/canary-traffic-settings';

describe('CANARY_TRAFFIC_CHECK', () => {
  test('absent: no check (the service has no judge)', () => {
    expect(parseCanaryTrafficCheck(undefined)).toBeUndefined();
    expect(parseCanaryTrafficCheck('')).toBeUndefined();
  });
  test('round trip', () => {
    expect(parseCanaryTrafficCheck(canaryTrafficCheckValue({ minRequests: 100, stepMinutes: 10 }))).toEqual({
      minRequests: 100,
      stepMinutes: 10,
    });
  });
  test.each([
    ['{', /^CANARY_TRAFFIC_CHECK is not JSON: /],
    [
      '[]',
      /^CANARY_TRAFFIC_CHECK.minRequests undefined is not a whole number of at least 1; CANARY_TRAFFIC_CHECK.stepMinutes undefined is not/,
    ],
    ['{"minRequests":100,"stepMinutes":2.5}', /^CANARY_TRAFFIC_CHECK.stepMinutes 2.5 is not a whole number of minutes of at least 1$/],
  ])('fails when %s', (raw, error) => {
    expect(parseCanaryTrafficCheck(raw)).toEqual({ error: expect.stringMatching(error) });
  });
});

describe('stepWindow', () => {
  test('whole minutes: from the minute the step starts in to the start of the minute it ends in', () => {
    expect(stepWindow(new Date('2026-11-22T10:00:42Z'), 10)).toEqual({
      start: new Date('2026-11-22T10:00:00Z'),
      end: new Date('2026-11-22T10:10:00Z'),
    });
    expect(stepWindow(new Date('2026-11-22T23:59:59Z'), 1)).toEqual({
      start: new Date('2026-11-22T23:59:00Z'),
      end: new Date('2026-11-23T00:00:00Z'),
    });
  });
});

describe('judgeCanaryTraffic', () => {
  const check = { minRequests: 100, stepMinutes: 10 };
  const window = stepWindow(new Date('2026-11-22T10:00:00Z'), 10);

  test('the last wait is cut to the end of the allowance', async () => {
    let t = new Date('2026-11-22T10:12:50Z').getTime(); // 10 s before 10:10 + 180 s
    const sleeps: number[] = [];
    const result = await judgeCanaryTraffic(async () => ({ count: 99, detail: 'd' }), check, window, {
      now: () => t,
      sleep: async (ms) => void (sleeps.push(ms), (t += ms)),
    });
    expect(sleeps).toEqual([10_000]);
    expect(result).toEqual({ status: 'Failed', reason: `${heldReason(99, check)} (d, 10:00-10:10 UTC)` });
  });

  test('exactly minRequests passes', async () => {
    expect(
      await judgeCanaryTraffic(async () => ({ count: 100, detail: 'd' }), check, window, { now: () => Date.parse('2026-11-22T10:10:30Z') }),
    ).toMatchObject({ status: 'Succeeded' });
  });

  test("a wait aborted by the hook's time limit rejects (runHook reports the timeout) instead of holding on a partial count", async () => {
    const controller = new AbortController();
    const pending = judgeCanaryTraffic(async () => ({ count: 5, detail: 'd' }), check, window, {
      now: () => Date.parse('2026-11-22T10:10:30Z'),
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(new Error('timed out')), 5);
    await expect(pending).rejects.toThrow('timed out');
  });
});

test('rollbacks by their creator', () => {
  expect(['codeDeployRollback', 'CloudFormationRollback'].map(isRollbackCreator)).toEqual([true, true]);
  expect(['user', 'CloudFormation', 'CodeDeploy', undefined].map(isRollbackCreator)).toEqual([false, false, false, false]);
});

describe('withinTimeout', () => {
  test('times out on its own limit', async () => {
    const parent = new AbortController();
    await expect(withinTimeout(10, parent.signal, () => new Promise(() => undefined))).rejects.toThrow('timed out after 10 ms');
  });
  test('aborts the inner signal when the parent aborts', async () => {
    const parent = new AbortController();
    let inner: AbortSignal | undefined;
    const pending = withinTimeout(10_000, parent.signal, (s) => {
      inner = s;
      return new Promise((_, reject) => s.addEventListener('abort', () => reject(s.reason)));
    });
    await new Promise((r) => setImmediate(r)); // the part has started
    parent.abort(new Error('outer limit'));
    await expect(pending).rejects.toThrow('outer limit');
    expect(inner!.aborted).toBe(true);
  });
});
