import '../support/quiet-logs';
import { CloudWatchClient, CompositeAlarm, StateValue, DescribeAlarmHistoryCommand, DescribeAlarmsCommand, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { CodePipelineClient, GetPipelineExecutionCommand, PutJobFailureResultCommand, PutJobSuccessResultCommand } from '@aws-sdk/client-codepipeline';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import type { CodePipelineEvent } from 'aws-lambda';
import { childAlarmNames, GateParameters, requestMetricsFromAlarms } from '../../lambda/bake-gate/gate';
import { handleGateJob, GateJobDeps } from '../../lambda/bake-gate/index';
import { createLogger } from '../../lambda/shared/logger';

const cw = mockClient(CloudWatchClient);
const cp = mockClient(CodePipelineClient);
const logger = createLogger('bake-gate-test');

const observe = {
  account: '222222222222',
  region: 'us-east-1',
  roleArn: 'arn:aws:iam::222222222222:role/safe-deploy-gate-reader-us-east-1',
  healthAlarmNames: ['Beta-us-east-1-LambdaService-Health'],
};
const guard = {
  account: '333333333333',
  region: 'eu-west-1',
  roleArn: 'arn:aws:iam::333333333333:role/safe-deploy-gate-reader-eu-west-1',
  healthAlarmNames: ['Prod-Wave1-eu-west-1-LambdaService-Health'],
};
const baseParams: GateParameters = {
  stageName: 'Prod-Wave1',
  bake: { minutes: 30, minRequests: 1000 },
  observe: [observe],
  guard: [guard],
  override: 'none',
  executionId: 'exec-1',
  maxWaitMinutes: 90,
};
const START = '2026-06-03T10:00:00.000Z';

function jobEvent(params: unknown, continuationToken?: string): CodePipelineEvent {
  return {
    'CodePipeline.job': {
      id: '11111111-2222-3333-4444-555555555555',
      accountId: '111111111111',
      data: {
        actionConfiguration: { configuration: { FunctionName: 'safe-deploy-bake-gate', UserParameters: typeof params === 'string' ? params : JSON.stringify(params) } },
        inputArtifacts: [],
        outputArtifacts: [],
        artifactCredentials: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'secret', sessionToken: 'token' },
        continuationToken,
      },
    },
  };
}
const token = (startedAt = START, polls = 3) => JSON.stringify({ startedAt, polls });

function deps(nowIso: string, extra: Partial<GateJobDeps> = {}): GateJobDeps {
  return {
    codepipeline: new CodePipelineClient({ region: 'us-east-1' }),
    cloudWatchFor: async (t) => new CloudWatchClient({ region: t.region }),
    logger,
    now: () => new Date(nowIso),
    sleep: jest.fn(async () => undefined),
    pollIntervalMs: 60_000,
    pipelineName: 'safe-deploy-pipeline',
    retry: { sleep: async () => undefined },
    ...extra,
  };
}

const composite = (name: string, state: StateValue = 'OK'): CompositeAlarm => ({
  AlarmName: name,
  StateValue: state,
  StateReason: state === 'ALARM' ? 'arn:aws:cloudwatch:...:alarm:ErrorRate transitioned to ALARM' : 'all children OK',
  AlarmRule: `ALARM("${name.replace('-Health', '-ErrorRate')}") OR ALARM("${name.replace('-Health', '-Latency')}")`,
});
const errorRate = {
  AlarmName: 'Beta-us-east-1-LambdaService-ErrorRate',
  StateValue: 'OK',
  Metrics: [
    { Id: 'errors', MetricStat: { Metric: { Namespace: 'AWS/Lambda', MetricName: 'Errors', Dimensions: [{ Name: 'FunctionName', Value: 'Beta-LambdaService-Fn1A2B3C' }, { Name: 'Resource', Value: 'Beta-LambdaService-Fn1A2B3C:live' }] }, Period: 60, Stat: 'Sum' }, ReturnData: false },
    { Id: 'rate', Expression: '100 * errors / invocations', ReturnData: true },
  ],
};
const latency = {
  AlarmName: 'Beta-us-east-1-LambdaService-Latency',
  StateValue: 'OK',
  Namespace: 'AWS/Lambda',
  MetricName: 'Duration',
  Dimensions: [{ Name: 'FunctionName', Value: 'Beta-LambdaService-Fn1A2B3C' }, { Name: 'Resource', Value: 'Beta-LambdaService-Fn1A2B3C:live' }],
};

function healthyAlarms(guardState: StateValue = 'OK', observeState: StateValue = 'OK') {
  cw.on(DescribeAlarmsCommand, { AlarmNames: guard.healthAlarmNames }).resolves({ CompositeAlarms: [composite(guard.healthAlarmNames[0], guardState)], MetricAlarms: [] });
  cw.on(DescribeAlarmsCommand, { AlarmNames: observe.healthAlarmNames }).resolves({ CompositeAlarms: [composite(observe.healthAlarmNames[0], observeState)], MetricAlarms: [] });
  cw.on(DescribeAlarmsCommand, { AlarmNames: ['Beta-us-east-1-LambdaService-ErrorRate', 'Beta-us-east-1-LambdaService-Latency'] }).resolves({
    MetricAlarms: [errorRate, latency] as never,
  });
  cw.on(DescribeAlarmHistoryCommand).resolves({ AlarmHistoryItems: [] });
}
const requests = (values: number[]) => cw.on(GetMetricDataCommand).resolves({ MetricDataResults: [{ Id: 'r0', Values: values, StatusCode: 'Complete' }] });

beforeEach(() => {
  cw.reset();
  cp.reset();
  cp.on(PutJobSuccessResultCommand).resolves({});
  cp.on(PutJobFailureResultCommand).resolves({});
});

describe('handleGateJob', () => {
  test('first call: bake time not elapsed, so it waits with a continuation token carrying the start time', async () => {
    healthyAlarms();
    const d = deps(START);
    const r = await handleGateJob(jobEvent(baseParams), d);
    expect(r).toEqual({ jobId: '11111111-2222-3333-4444-555555555555', outcome: 'continued', reason: 'baking: 0 of 30 minutes elapsed' });
    expect(cp).toHaveReceivedCommandWith(PutJobSuccessResultCommand, {
      jobId: '11111111-2222-3333-4444-555555555555',
      continuationToken: JSON.stringify({ startedAt: START, polls: 1 }),
      executionDetails: { summary: 'baking: 0 of 30 minutes elapsed' },
    });
    expect(d.sleep).toHaveBeenCalledWith(60_000);
    expect(cw).not.toHaveReceivedCommand(GetMetricDataCommand);
  });

  test('too few requests after the bake time: keeps waiting while under maxWaitMinutes', async () => {
    healthyAlarms();
    requests([100, 200, 150]);
    const r = await handleGateJob(jobEvent(baseParams, token()), deps('2026-06-03T10:45:00Z'));
    expect(r.outcome).toBe('continued');
    expect(r.reason).toBe('baking: 450 of 1000 requests served after 45 minutes');
    expect(cw).toHaveReceivedCommandWith(GetMetricDataCommand, {
      MetricDataQueries: [
        {
          Id: 'r0',
          MetricStat: {
            Metric: { Namespace: 'AWS/Lambda', MetricName: 'Invocations', Dimensions: [{ Name: 'FunctionName', Value: 'Beta-LambdaService-Fn1A2B3C' }, { Name: 'Resource', Value: 'Beta-LambdaService-Fn1A2B3C:live' }] },
            Period: 60,
            Stat: 'Sum',
          },
          ReturnData: true,
        },
      ],
      StartTime: new Date(START),
      EndTime: new Date('2026-06-03T10:45:00Z'),
    });
  });

  test('too few requests after maxWaitMinutes: fails and says what to do', async () => {
    healthyAlarms();
    requests([10]);
    const r = await handleGateJob(jobEvent(baseParams, token()), deps('2026-06-03T11:30:00Z'));
    expect(r.outcome).toBe('failed');
    expect(cp).toHaveReceivedCommandWith(PutJobFailureResultCommand, {
      jobId: '11111111-2222-3333-4444-555555555555',
      failureDetails: {
        type: 'JobFailed',
        message: 'Prod-Wave1 is blocked: the previous stage served only 10 requests in 90 minutes (needs 1000); send traffic or lower bake.minRequests',
      },
    });
  });

  test('all good: baked, enough requests, alarms quiet -> success without continuation', async () => {
    healthyAlarms();
    requests([600, 700]);
    const r = await handleGateJob(jobEvent(baseParams, token()), deps('2026-06-03T10:31:00Z'));
    expect(r).toEqual({
      jobId: '11111111-2222-3333-4444-555555555555',
      outcome: 'succeeded',
      reason: 'Prod-Wave1: baked 31 minutes (needs 30), 1300 requests (needs 1000), alarms quiet',
    });
    expect(cp).toHaveReceivedCommandWith(PutJobSuccessResultCommand, { continuationToken: undefined });
    expect(cw).toHaveReceivedCommandWith(DescribeAlarmHistoryCommand, {
      AlarmName: 'Beta-us-east-1-LambdaService-Health',
      HistoryItemType: 'StateUpdate',
      StartDate: new Date(START),
    });
  });

  test("the guarded stage's aggregate alarm is firing: fails at once with the alarm's reason", async () => {
    healthyAlarms('ALARM');
    const r = await handleGateJob(jobEvent(baseParams, token()), deps('2026-06-03T10:31:00Z'));
    expect(r.outcome).toBe('failed');
    expect(r.reason).toBe(
      'Prod-Wave1 is blocked: alarm "Prod-Wave1-eu-west-1-LambdaService-Health" is in ALARM in 333333333333/eu-west-1: arn:aws:cloudwatch:...:alarm:ErrorRate transitioned to ALARM',
    );
    expect(cp).toHaveReceivedCommandTimes(PutJobFailureResultCommand, 1);
  });

  test('the previous stage fired an alarm during the bake (now OK again): fails', async () => {
    healthyAlarms();
    cw.on(DescribeAlarmHistoryCommand).resolves({
      AlarmHistoryItems: [
        { AlarmName: 'Beta-us-east-1-LambdaService-Health', Timestamp: new Date('2026-06-03T10:12:00Z'), HistoryItemType: 'StateUpdate', HistoryData: JSON.stringify({ oldState: { stateValue: 'OK' }, newState: { stateValue: 'ALARM' } }) },
      ],
    });
    const r = await handleGateJob(jobEvent(baseParams, token()), deps('2026-06-03T10:31:00Z'));
    expect(r.reason).toBe(
      'Prod-Wave1 is blocked: the previous stage did not stay quiet during the bake: alarm "Beta-us-east-1-LambdaService-Health" fired in 222222222222/us-east-1 at 2026-06-03T10:12:00.000Z',
    );
    expect(r.outcome).toBe('failed');
  });

  test('a health alarm that does not exist fails the gate instead of passing silently', async () => {
    cw.on(DescribeAlarmsCommand).resolves({ CompositeAlarms: [], MetricAlarms: [] });
    const r = await handleGateJob(jobEvent(baseParams), deps(START));
    expect(r.reason).toBe(
      `Prod-Wave1 is blocked: alarm "Prod-Wave1-eu-west-1-LambdaService-Health" does not exist in 333333333333/eu-west-1: check the stage's healthAlarmNames`,
    );
  });

  describe('deployment window', () => {
    const windowed: GateParameters = {
      ...baseParams,
      bake: undefined,
      window: { timeZone: 'Europe/Berlin', windows: [{ days: ['MON', 'TUE', 'WED', 'THU'], start: '09:00', end: '16:00' }], blockedDates: ['2026-06-04'] },
    };
    test('outside the window: fails, names the next opening and how to override', async () => {
      const r = await handleGateJob(jobEvent(windowed), deps('2026-06-03T15:00:00Z')); // 17:00 CEST Wednesday
      expect(r.outcome).toBe('failed');
      expect(r.reason).toBe(
        'Prod-Wave1 is blocked: outside every deployment window (2026-06-03 17:00 WED Europe/Berlin; windows: MON,TUE,WED,THU 09:00-16:00); next window opens 2026-06-08T07:00:00.000Z. ' +
          'To deploy an emergency fix anyway, start a new execution with the pipeline variable SafetyOverride set to the reason (e.g. "INC-1234 hotfix").',
      );
      expect(cw).not.toHaveReceivedCommand(DescribeAlarmsCommand);
    });
    test('on a blocked date: fails naming the date', async () => {
      const r = await handleGateJob(jobEvent(windowed), deps('2026-06-04T08:00:00Z')); // Thursday 10:00 CEST, blocked
      expect(r.reason).toMatch(/^Prod-Wave1 is blocked: 2026-06-04 is a blocked date \(2026-06-04 10:00 THU Europe\/Berlin\)/);
    });
    test('inside the window: passes on quiet alarms', async () => {
      healthyAlarms();
      const r = await handleGateJob(jobEvent(windowed), deps('2026-06-03T08:00:00Z'));
      expect(r).toMatchObject({ outcome: 'succeeded', reason: 'Prod-Wave1: alarms quiet' });
    });
    test('override: passes outside the window and logs who overrode and why', async () => {
      healthyAlarms();
      cp.on(GetPipelineExecutionCommand).resolves({
        pipelineExecution: { pipelineExecutionId: 'exec-1', trigger: { triggerType: 'StartPipelineExecution', triggerDetail: 'arn:aws:sts::111111111111:assumed-role/Operator/alice' } },
      });
      const warn = jest.spyOn(logger, 'warn');
      const r = await handleGateJob(jobEvent({ ...windowed, override: 'INC-4711 payment outage hotfix' }), deps('2026-06-03T15:00:00Z'));
      expect(r).toMatchObject({ outcome: 'succeeded', reason: 'Prod-Wave1: alarms quiet, window overridden' });
      expect(warn).toHaveBeenCalledWith('Deployment window overridden by operator', {
        stageName: 'Prod-Wave1',
        executionId: 'exec-1',
        override: 'INC-4711 payment outage hotfix',
        window: expect.stringContaining('outside every deployment window'),
        triggeredBy: 'StartPipelineExecution: arn:aws:sts::111111111111:assumed-role/Operator/alice',
      });
      warn.mockRestore();
    });
    test('an override does not bypass a firing alarm', async () => {
      healthyAlarms('ALARM');
      cp.on(GetPipelineExecutionCommand).resolves({});
      const r = await handleGateJob(jobEvent({ ...windowed, override: 'INC-4711' }), deps('2026-06-03T15:00:00Z'));
      expect(r.outcome).toBe('failed');
    });
  });

  describe('never left hanging', () => {
    test('malformed UserParameters: failure reported with the field at fault', async () => {
      const r = await handleGateJob(jobEvent({ stageName: 'Prod-Wave1', observe: [], guard: 'x', maxWaitMinutes: 5 }), deps(START));
      expect(r.outcome).toBe('failed');
      expect(cp).toHaveReceivedCommandWith(PutJobFailureResultCommand, {
        failureDetails: { type: 'JobFailed', message: 'gate error: Error: UserParameters.guard must be an array of targets' },
      });
    });
    test('UserParameters that is not JSON: failure reported', async () => {
      const r = await handleGateJob(jobEvent('{not json'), deps(START));
      expect(r.reason).toMatch(/^gate error: Error: UserParameters is not JSON/);
      expect(cp).toHaveReceivedCommandTimes(PutJobFailureResultCommand, 1);
    });
    test('an event without a job id cannot be reported and says so', async () => {
      const r = await handleGateJob({} as CodePipelineEvent, deps(START));
      expect(r).toEqual({ outcome: 'unreportable', reason: 'event has no CodePipeline.job.id' });
      expect(cp).not.toHaveReceivedCommand(PutJobFailureResultCommand);
    });
    test('a CloudWatch error (e.g. AssumeRole denied) becomes a job failure', async () => {
      const r = await handleGateJob(jobEvent(baseParams), deps(START, {
        cloudWatchFor: async () => {
          throw Object.assign(new Error('User is not authorized to perform: sts:AssumeRole'), { name: 'AccessDenied' });
        },
      }));
      expect(r).toMatchObject({ outcome: 'failed', reason: 'gate error: AccessDenied: User is not authorized to perform: sts:AssumeRole' });
      expect(cp).toHaveReceivedCommandTimes(PutJobFailureResultCommand, 1);
    });
    test('throttled reporting is retried until CodePipeline accepts it', async () => {
      healthyAlarms();
      cp.on(PutJobSuccessResultCommand)
        .rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }))
        .resolves({});
      const r = await handleGateJob(jobEvent(baseParams), deps(START));
      expect(r.outcome).toBe('continued');
      expect(cp).toHaveReceivedCommandTimes(PutJobSuccessResultCommand, 2);
    });
    test.each([
      ['null', null],
      ['a string', 'CodePipeline.job'],
      ['an array', [{ 'CodePipeline.job': { id: 'x' } }]],
      ['a job whose id is a number', { 'CodePipeline.job': { id: 42 } }],
      ['a job that is a string', { 'CodePipeline.job': 'job-1' }],
    ])('an event that is %s cannot be reported and says so, without throwing', async (_what, event) => {
      const r = await handleGateJob(event as unknown as CodePipelineEvent, deps(START));
      expect(r).toEqual({ outcome: 'unreportable', reason: 'event has no CodePipeline.job.id' });
      expect(cp).not.toHaveReceivedAnyCommand();
    });
    test('a job without data (no UserParameters) is reported as a failure', async () => {
      const r = await handleGateJob({ 'CodePipeline.job': { id: 'job-1' } } as unknown as CodePipelineEvent, deps(START));
      expect(r.outcome).toBe('failed');
      expect(cp).toHaveReceivedCommandWith(PutJobFailureResultCommand, {
        jobId: 'job-1',
        failureDetails: { type: 'JobFailed', message: expect.stringMatching(/^gate error: Error: UserParameters is empty/) },
      });
    });
    test('a continuation token that is not a gate state is reported as a failure', async () => {
      const r = await handleGateJob(jobEvent(baseParams, 'null'), deps(START));
      expect(r).toMatchObject({ outcome: 'failed', reason: expect.stringMatching(/^gate error: TypeError: /) });
      expect(cp).toHaveReceivedCommandTimes(PutJobFailureResultCommand, 1);
    });
    test.each([Number.NaN, -1000])('a poll interval of %p ms (bad POLL_INTERVAL_SECONDS) is reported as a failure', async (pollIntervalMs) => {
      healthyAlarms();
      const r = await handleGateJob(jobEvent(baseParams), deps(START, { pollIntervalMs }));
      expect(r).toEqual({
        jobId: '11111111-2222-3333-4444-555555555555',
        outcome: 'failed',
        reason: `gate error: Error: gate misconfigured: POLL_INTERVAL_SECONDS gives a poll interval of ${pollIntervalMs} ms; set it to a number of seconds >= 0`,
      });
      expect(cp).not.toHaveReceivedCommand(PutJobSuccessResultCommand);
    });
    test('an evaluation that hangs is cut off before the function times out and reported as a failure', async () => {
      const d = deps(START, { cloudWatchFor: () => new Promise(() => undefined), remainingTimeMs: () => 15_030 });
      const r = await handleGateJob(jobEvent(baseParams), d);
      expect(r).toMatchObject({ outcome: 'failed', reason: 'gate error: CheckTimeout: timed out after 30 ms' });
      expect(cp).toHaveReceivedCommandTimes(PutJobFailureResultCommand, 1);
    });
    test('the pause before a continuation never outlasts the invocation (reporting time kept)', async () => {
      healthyAlarms();
      const d = deps(START, { pollIntervalMs: 300_000, remainingTimeMs: () => 120_000 });
      const r = await handleGateJob(jobEvent(baseParams), d);
      expect(r.outcome).toBe('continued');
      expect(d.sleep).toHaveBeenCalledWith(105_000);
      expect(cp).toHaveReceivedCommandTimes(PutJobSuccessResultCommand, 1);
    });
    test('without a deadline the pause is the poll interval', async () => {
      healthyAlarms();
      const d = deps(START);
      await handleGateJob(jobEvent(baseParams), d);
      expect(d.sleep).toHaveBeenCalledWith(60_000);
    });
    test('a failure report that is throttled is retried', async () => {
      cp.on(PutJobFailureResultCommand)
        .rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } }))
        .resolves({});
      const r = await handleGateJob(jobEvent('{not json'), deps(START));
      expect(r.outcome).toBe('failed');
      expect(cp).toHaveReceivedCommandTimes(PutJobFailureResultCommand, 2);
    });
    test('reporting that keeps failing is rethrown so Lambda retries the invocation', async () => {
      healthyAlarms();
      cp.on(PutJobSuccessResultCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
      await expect(handleGateJob(jobEvent(baseParams), deps(START))).rejects.toThrow('denied');
    });
  });
});

describe('metric discovery from alarms', () => {
  test('composite rule children, by name or ARN', () => {
    expect(childAlarmNames('ALARM("a-ErrorRate") OR ALARM(arn:aws:cloudwatch:us-east-1:222222222222:alarm:a-Latency)')).toEqual(['a-ErrorRate', 'a-Latency']);
  });
  test('ALB alarms give RequestCount per target group; duplicates collapse', () => {
    const dims = [{ Name: 'TargetGroup', Value: 'targetgroup/Blue/abc' }, { Name: 'LoadBalancer', Value: 'app/lb/123' }];
    const m = requestMetricsFromAlarms([
      { AlarmName: 'x', Namespace: 'AWS/ApplicationELB', MetricName: 'HTTPCode_Target_5XX_Count', Dimensions: dims },
      { AlarmName: 'y', Namespace: 'AWS/ApplicationELB', MetricName: 'TargetResponseTime', Dimensions: dims },
    ]);
    expect(m).toEqual([{ namespace: 'AWS/ApplicationELB', metricName: 'RequestCount', dimensions: dims }]);
  });
});
