import { ActionExecutionDetail } from '@aws-sdk/client-codepipeline';
import {
  describeRule,
  diffSnapshots,
  gateFraction,
  nextTrafficShift,
  outcomeOf,
  parseGateSummary,
  StageView,
  WATCH_EXIT,
  WatchSnapshot,
} from '../../lib/ops/watch-model';
import {
  backoffDelay,
  gateParameters,
  isNetworkError,
  latestAttempts,
  limitClient,
  stageStatusOf,
  TokenBucket,
  watchShouldRetry,
} from '../../lib/ops/watch-poller';
import { ANSI, alarmSummary, bar, duration, lastFrame, renderFrame, stripAnsi, TerminalFrame } from '../../lib/ops/watch-render';
import { metadata } from './fixtures';

const at = (iso: string) => new Date(iso);

describe('parseGateSummary reads what the bake gate writes', () => {
  test.each([
    ['baking: 12.5 of 60 minutes elapsed', { phase: 'baking', bakedMinutes: 12.5, requiredMinutes: 60 }],
    [
      'baking: 120 of 500 requests served after 61 minutes',
      { phase: 'waiting-for-traffic', requests: 120, requiredRequests: 500, bakedMinutes: 61 },
    ],
    [
      'Prod-Wave1: baked 61.2 minutes (needs 60), 612 requests (needs 500), alarms quiet',
      { phase: 'passed', bakedMinutes: 61.2, requiredMinutes: 60, requests: 612, requiredRequests: 500 },
    ],
    [
      'Prod-Wave1: baked 60.2 minutes (needs 60), requests not counted (the previous stage is pre-production), alarms quiet, 2 flag deployments complete',
      { phase: 'passed', bakedMinutes: 60.2, requiredMinutes: 60 },
    ],
    ['Prod-Wave1: alarms quiet', { phase: 'passed' }],
    ['flags: greeting-api in 111111111111/us-east-1: flag deployment 3 is BAKING', { phase: 'evaluating' }],
    [
      'Prod-Wave1 is blocked: alarm "Prod-us-east-1-LambdaService-Health" is in ALARM in 222222222222/us-east-1: Threshold Crossed',
      { phase: 'blocked' },
    ],
    ['gate error: AccessDenied: not authorized', { phase: 'blocked' }],
    ['something new', { phase: 'evaluating' }],
  ])('%s', (summary, expected) => {
    expect(parseGateSummary(summary)).toEqual({ summary, ...expected });
  });

  test('no summary yet: evaluating', () => {
    expect(parseGateSummary(undefined)).toEqual({ phase: 'evaluating' });
  });

  test('progress: bake time first, then requests', () => {
    expect(gateFraction(parseGateSummary('baking: 15 of 60 minutes elapsed'))).toBe(0.25);
    expect(gateFraction(parseGateSummary('baking: 400 of 500 requests served after 70 minutes'))).toBe(0.8);
    expect(gateFraction({ phase: 'evaluating' })).toBeUndefined();
  });
});

describe('nextTrafficShift', () => {
  const start = at('2026-11-03T15:24:12Z');
  test('canary: one shift, to 100%, one interval after AllowTraffic started', () => {
    const rule = { type: 'TimeBasedCanary', percent: 10, intervalMinutes: 10 } as const;
    expect(nextTrafficShift(rule, start, at('2026-11-03T15:28:11Z'))).toEqual({ at: at('2026-11-03T15:34:12Z'), toPercent: 100 });
    expect(nextTrafficShift(rule, start, at('2026-11-03T15:34:13Z'))).toBeUndefined();
    expect(describeRule(rule)).toBe('canary 10% then 100% after 10 min');
  });

  test('linear: a shift every interval until 100%', () => {
    const rule = { type: 'TimeBasedLinear', percent: 30, intervalMinutes: 2 } as const;
    expect(nextTrafficShift(rule, start, at('2026-11-03T15:24:30Z'))).toEqual({ at: at('2026-11-03T15:26:12Z'), toPercent: 60 });
    expect(nextTrafficShift(rule, start, at('2026-11-03T15:28:30Z'))).toEqual({ at: at('2026-11-03T15:30:12Z'), toPercent: 100 });
    expect(nextTrafficShift(rule, start, at('2026-11-03T15:30:13Z'))).toBeUndefined();
  });

  test('all at once, an unknown rule or no AllowTraffic yet: none', () => {
    expect(nextTrafficShift({ type: 'AllAtOnce' }, start, start)).toBeUndefined();
    expect(nextTrafficShift(undefined, start, start)).toBeUndefined();
    expect(nextTrafficShift({ type: 'TimeBasedCanary', percent: 10, intervalMinutes: 10 }, undefined, start)).toBeUndefined();
  });
});

describe('outcomes and exit codes', () => {
  test.each([
    ['Succeeded', 'Succeeded', 0],
    ['Failed', 'Failed', 4],
    ['Stopped', 'Stopped', 5],
    ['Cancelled', 'Stopped', 5],
    ['Superseded', 'Superseded', 6],
  ])('%s -> %s, exit %d', (status, outcome, code) => {
    expect(outcomeOf(status)).toEqual({ outcome, exitCode: code });
  });

  test("the codes do not reuse the CLI's 1 (bad input), 2 (AWS error) and 3 (unexplained diagnosis)", () => {
    expect(Object.values(WATCH_EXIT).filter((c) => c >= 1 && c <= 3)).toEqual([]);
    expect(WATCH_EXIT.interrupted).toBe(130);
  });
});

describe('diffSnapshots: events are changes, not ticks', () => {
  const stage = (s: Partial<StageView> & { name: string }): StageView => ({
    status: 'Pending',
    running: [],
    failed: [],
    deployments: [],
    ...s,
  });
  const snap = (observedAt: string, stages: StageView[], notes: string[] = []): WatchSnapshot => ({
    pipelineName: 'p',
    region: 'us-east-1',
    executionId: 'e1',
    status: 'InProgress',
    observedAt,
    stages,
    notes,
  });
  const deployment = (over: Partial<StageView['deployments'][number]> = {}) => ({
    region: 'us-east-1',
    applicationName: 'app',
    deploymentGroupName: 'group',
    deploymentId: 'd-ABCDEFGHI',
    status: 'InProgress',
    lifecycleEvent: 'AllowTraffic',
    trafficPercent: 10,
    alarms: [{ name: 'ErrorRate', state: 'OK' as const }],
    ...over,
  });

  test('the first snapshot gives start, the stages under way and the notes', () => {
    const events = diffSnapshots(
      undefined,
      snap(
        '2026-11-03T14:00:00.000Z',
        [
          stage({ name: 'Source', status: 'Succeeded', startedAt: '2026-11-03T13:59:00.000Z', endedAt: '2026-11-03T13:59:30.000Z' }),
          stage({ name: 'Build' }),
        ],
        ['a note'],
      ),
    );
    expect(events.map((e) => e.type)).toEqual(['start', 'note', 'stage']);
    expect(events[2]).toEqual({
      type: 'stage',
      time: '2026-11-03T14:00:00.000Z',
      executionId: 'e1',
      stage: 'Source',
      status: 'Succeeded',
      elapsedSeconds: 30,
    });
  });

  test('nothing changed: no event, though time went on', () => {
    const a = snap('2026-11-03T14:00:00.000Z', [
      stage({ name: 'Beta', status: 'InProgress', startedAt: '2026-11-03T13:59:00.000Z', deployments: [deployment()] }),
    ]);
    const b = { ...a, observedAt: '2026-11-03T14:00:15.000Z' };
    expect(diffSnapshots(a, b)).toEqual([]);
  });

  test('traffic, lifecycle, alarms and gate summaries that change are events', () => {
    const a = snap('2026-11-03T14:00:00.000Z', [
      stage({ name: 'Gate', status: 'InProgress', gate: parseGateSummary('baking: 1 of 60 minutes elapsed') }),
      stage({ name: 'Beta', status: 'InProgress', deployments: [deployment()] }),
    ]);
    const b = snap('2026-11-03T14:00:15.000Z', [
      stage({ name: 'Gate', status: 'InProgress', gate: parseGateSummary('baking: 2 of 60 minutes elapsed') }),
      stage({
        name: 'Beta',
        status: 'InProgress',
        deployments: [deployment({ trafficPercent: 100, alarms: [{ name: 'ErrorRate', state: 'ALARM', reason: 'Threshold Crossed' }] })],
      }),
    ]);
    const events = diffSnapshots(a, b);
    expect(events.map((e) => e.type)).toEqual(['gate', 'deployment', 'alarm']);
    expect(events[0]).toEqual(expect.objectContaining({ stage: 'Gate', phase: 'baking', bakedMinutes: 2, requiredMinutes: 60 }));
    expect(events[1]).toEqual(expect.objectContaining({ deploymentId: 'd-ABCDEFGHI', trafficPercent: 100 }));
    expect(events[2]).toEqual(expect.objectContaining({ alarm: 'ErrorRate', state: 'ALARM', previous: 'OK', reason: 'Threshold Crossed' }));
    // Stable shape: no keys with undefined values.
    for (const e of events) expect(Object.values(e)).not.toContain(undefined);
  });
});

describe("stage status from the execution's actions", () => {
  const a = (status: string, start = '2026-11-03T14:00:00Z', name = 'A'): ActionExecutionDetail => ({
    stageName: 'S',
    actionName: name,
    status: status as 'Succeeded',
    startTime: at(start),
  });
  test.each([
    ['no action yet', [], 2, false, 'Pending'],
    ['no action, execution over', [], 2, true, 'Skipped'],
    ['an action running', [a('InProgress')], 2, false, 'InProgress'],
    ['between two run orders', [a('Succeeded')], 2, false, 'InProgress'],
    ['every declared action succeeded', [a('Succeeded'), a('Succeeded', undefined, 'B')], 2, false, 'Succeeded'],
    ['an action failed', [a('Failed'), a('Succeeded', undefined, 'B')], 2, true, 'Failed'],
    ['an action abandoned', [a('Abandoned')], 1, true, 'Stopped'],
  ])('%s', (_label, actions, declared, ended, expected) => {
    expect(stageStatusOf(actions as ActionExecutionDetail[], declared as number, ended as boolean)).toBe(expected);
  });

  test('a retried action counts by its latest attempt', () => {
    const latest = latestAttempts([a('Failed', '2026-11-03T14:00:00Z'), a('Succeeded', '2026-11-03T14:10:00Z')]);
    expect(latest.map((x) => x.status)).toEqual(['Succeeded']);
  });
});

describe('the bake gate is recognised by its parameters', () => {
  test("a Lambda action whose UserParameters are the gate's", () => {
    const params = JSON.stringify({
      stageName: 'Prod-Wave1',
      bake: { minutes: 60, minRequests: 500 },
      maxWaitMinutes: 180,
      observe: [],
      guard: [],
    });
    expect(gateParameters('Lambda', params)).toEqual({ bake: { minutes: 60, minRequests: 500 }, window: undefined });
    expect(gateParameters('Lambda', '{"something":"else"}')).toBeUndefined();
    expect(gateParameters('Lambda', 'not json')).toBeUndefined();
    expect(gateParameters('CodeBuild', params)).toBeUndefined();
  });

  test('a Lambda action that names its gate (settings in the release manifest): a gate, bake and window unknown', () => {
    const params = JSON.stringify({
      gate: 'Gate-Prod-Wave1',
      override: '#{variables.SafetyOverride}',
      executionId: '#{codepipeline.PipelineExecutionId}',
    });
    expect(gateParameters('Lambda', params)).toEqual({});
    expect(gateParameters('Lambda', '{"gate":""}')).toBeUndefined();
    expect(gateParameters('CodeBuild', params)).toBeUndefined();
  });
});

describe('polling limits', () => {
  test('the token bucket allows a burst, then its rate: never more than burst + rate x T calls in T seconds', async () => {
    let clock = 0;
    const bucket = new TokenBucket(
      2,
      4,
      () => clock,
      async (ms) => {
        clock += ms;
      },
    );
    const times: number[] = [];
    for (let i = 0; i < 200; i++) {
      await bucket.take();
      times.push(clock);
    }
    expect(times.slice(0, 4)).toEqual([0, 0, 0, 0]);
    expect(times[4]).toBe(500);
    for (const t of times) {
      const inSecond = times.filter((x) => x >= t && x < t + 1000).length;
      expect(inSecond).toBeLessThanOrEqual(4 + 2);
    }
    // 200 calls: the burst, then 2 per second.
    expect(times[199]).toBe((199 - 3) * 500);
  });

  test('a clock that never moves cannot make the bucket spin', async () => {
    const sleeps: number[] = [];
    const bucket = new TokenBucket(
      2,
      4,
      () => 0,
      async (ms) => {
        sleeps.push(ms);
      },
    );
    for (let i = 0; i < 10; i++) await bucket.take();
    expect(sleeps).toEqual([500, 1000, 1500, 2000, 2500, 3000]);
  });

  test('backoff doubles from 1 s up to 60 s, with jitter over the upper half', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8].map((n) => backoffDelay(n, () => 0.5))).toEqual([750, 1500, 3000, 6000, 12000, 24000, 45000, 45000]);
    expect(backoffDelay(3, () => 0)).toBe(2000);
    expect(backoffDelay(3, () => 0.999999)).toBe(4000);
  });

  test('throttling and 5xx are waited out; network errors only once connected; the rest ends the watch', () => {
    const throttling = Object.assign(new Error('Rate exceeded'), {
      name: 'ThrottlingException',
      $metadata: { ...metadata, httpStatusCode: 400 },
    });
    const unavailable = Object.assign(new Error('Service Unavailable'), {
      name: 'ServiceUnavailableException',
      $metadata: { ...metadata, httpStatusCode: 503 },
    });
    const offline = Object.assign(new Error('getaddrinfo ENOTFOUND codepipeline.us-east-1.amazonaws.com'), {
      code: 'ENOTFOUND',
      $metadata: {},
    });
    const timeout = Object.assign(new Error('socket timed out'), { name: 'TimeoutError', $metadata: {} });
    const denied = Object.assign(new Error('not authorized'), {
      name: 'AccessDeniedException',
      $metadata: { ...metadata, httpStatusCode: 400 },
    });
    expect(isNetworkError(offline)).toBe(true);
    expect([throttling, unavailable, offline, timeout, denied].map((e) => watchShouldRetry(e, false))).toEqual([
      true,
      true,
      false,
      false,
      false,
    ]);
    expect([throttling, unavailable, offline, timeout, denied].map((e) => watchShouldRetry(e, true))).toEqual([
      true,
      true,
      true,
      true,
      false,
    ]);
  });

  test('a limited client takes a token per attempt and retries what it is told to, until it succeeds', async () => {
    let clock = 0;
    const sleep = async (ms: number) => {
      clock += ms;
    };
    const attempts: number[] = [];
    const client = {
      send: async () => {
        attempts.push(clock);
        if (attempts.length < 4) throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
        return 'ok';
      },
    };
    const retries: number[] = [];
    const limited = limitClient(client, {
      bucket: new TokenBucket(2, 4, () => clock, sleep),
      sleep,
      random: () => 0.5,
      shouldRetry: () => true,
      onRetry: (r) => retries.push(r.delayMs),
    });
    await expect(limited.send()).resolves.toBe('ok');
    expect(retries).toEqual([750, 1500, 3000]);
    expect(attempts).toEqual([0, 750, 2250, 5250]);
  });

  test('an abort stops a limited client before its next attempt', async () => {
    const controller = new AbortController();
    const client = {
      send: async () => {
        controller.abort();
        throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
      },
    };
    const limited = limitClient(client, {
      bucket: new TokenBucket(
        2,
        4,
        () => 0,
        async () => undefined,
      ),
      sleep: async () => undefined,
      signal: controller.signal,
      shouldRetry: () => true,
    });
    await expect(limited.send()).rejects.toThrow();
  });
});

describe('rendering helpers', () => {
  test('bars, durations and alarm summaries', () => {
    expect(bar(0.1)).toBe('[##------------------]');
    expect(bar(1.5)).toBe('[####################]');
    expect(duration(42)).toBe('0:42');
    expect(duration(725)).toBe('12:05');
    expect(duration(3723)).toBe('1:02:03');
    expect(
      alarmSummary([
        { name: 'a', state: 'OK' },
        { name: 'b', state: 'ALARM' },
        { name: 'c', state: 'INSUFFICIENT_DATA' },
        { name: 'd', state: 'OK' },
      ]),
    ).toBe('! b ALARM, c INSUFFICIENT_DATA, 2 OK');
  });

  test('a terminal frame hides the cursor, redraws over itself, clears what is left, and shows the cursor at the end', () => {
    const writes: string[] = [];
    const frame = new TerminalFrame({ write: (s: string) => writes.push(s), isTTY: true, columns: 20, rows: 10 });
    frame.draw(['one', 'two', 'a line much longer than twenty columns']);
    frame.draw(['uno']);
    frame.finish(['the end, whole, even if it is longer than the terminal']);
    expect(writes[0].startsWith(ANSI.hideCursor)).toBe(true);
    expect(stripAnsi(writes[0])).toBe('one\ntwo\na line much longer …\n');
    expect(writes[1].startsWith(ANSI.up(3))).toBe(true);
    expect(writes[1]).toContain(`uno${ANSI.clearLine}\n${ANSI.clearBelow}`);
    expect(writes[2].startsWith(ANSI.up(1))).toBe(true);
    expect(lastFrame(writes.join(''))).toBe('the end, whole, even if it is longer than the terminal\n');
    expect(writes[writes.length - 1]).toBe(ANSI.showCursor);
    frame.restore();
    expect(writes.filter((w) => w === ANSI.showCursor)).toHaveLength(1);
  });

  // The scripted releases (watch-world.ts) run today's pipeline, whose gates name their settings in
  // the release manifest; an older pipeline version's gate carries them, and the frame shows them.
  test('a gate whose parameters carry its settings: the requests that follow the bake, the window; an ECS blue wait', () => {
    const snapshot: WatchSnapshot = {
      pipelineName: 'p',
      region: 'us-east-1',
      executionId: 'e1',
      status: 'InProgress',
      observedAt: '2026-11-03T14:30:00.000Z',
      notes: [],
      stages: [
        {
          name: 'Gate-Prod-Wave2',
          status: 'InProgress',
          startedAt: '2026-11-03T14:20:00.000Z',
          running: [{ name: 'BakeGate', provider: 'Lambda' }],
          failed: [],
          gate: {
            ...parseGateSummary('baking: 10.1 of 60 minutes elapsed'),
            requiredRequests: 500,
            window: { open: true, reason: 'inside TUE 09:00-16:00 America/New_York' },
          },
          deployments: [],
        },
        {
          name: 'Prod-Wave1',
          status: 'InProgress',
          startedAt: '2026-11-03T14:00:00.000Z',
          running: [],
          failed: [],
          deployments: [
            {
              region: 'us-east-1',
              stackName: 'Prod-us-east-1-greeting-web',
              applicationName: 'app',
              deploymentGroupName: 'group',
              platform: 'ECS',
              deploymentId: 'd-P1ECSSV02',
              status: 'InProgress',
              trafficPercent: 100,
              blueTerminationAt: '2026-11-03T14:52:30.000Z',
              alarms: [],
            },
          ],
        },
      ],
    };
    const lines = renderFrame(snapshot, { now: at('2026-11-03T14:30:00Z'), intervalSeconds: 15 });
    expect(lines).toContain('    bake     [###-----------------] 10.1 of 60 min baked, ends in ~50:00');
    expect(lines).toContain('    then     at least 500 requests served by the previous stage');
    expect(lines).toContain('    window   open now');
    expect(lines).toContain('    ECS    Prod-us-east-1-greeting-web  d-P1ECSSV02  InProgress');
    expect(lines).toContain('           old task set kept until 14:52:30Z (in ~22:30)');
  });

  test('a frame taller than the terminal is cut, so the cursor can always go back to its top', () => {
    const writes: string[] = [];
    const frame = new TerminalFrame({ write: (s: string) => writes.push(s), isTTY: true, columns: 80, rows: 5 });
    frame.draw(['1', '2', '3', '4', '5', '6', '7']);
    expect(stripAnsi(writes[0]).split('\n').filter(Boolean)).toEqual(['1', '2', '3', '… 4 more lines: enlarge the terminal']);
  });
});
