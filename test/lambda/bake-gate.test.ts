import {
  CloudWatchClient,
  CompositeAlarm,
  StateValue,
  DescribeAlarmHistoryCommand,
  DescribeAlarmsCommand,
  GetMetricDataCommand,
} from '@aws-sdk/client-cloudwatch';
import {
  CodePipelineClient,
  GetPipelineExecutionCommand,
  GetPipelineStateCommand,
  PutJobFailureResultCommand,
  PutJobSuccessResultCommand,
} from '@aws-sdk/client-codepipeline';
import type { CodePipelineEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { strToU8, zipSync } from 'fflate';
import { childAlarmNames, GateSettings, parseGateState, requestMetricsFromAlarms } from '../../lambda/bake-gate/gate';
import { handleGateJob, GateJobDeps, readGateEnvironment } from '../../lambda/bake-gate/index';
import { clearManifestCache } from '../../lambda/bake-gate/release-manifest';
import { createLogger } from '../../lambda/shared/logger';

const cw = mockClient(CloudWatchClient);
const cp = mockClient(CodePipelineClient);
const logger = createLogger('bake-gate-test');

const observe = {
  account: '222222222222',
  region: 'us-east-1',
  roleArn: 'arn:aws:iam::222222222222:role/safe-deploy-gate-reader-Prod-us-east-1',
  healthAlarmNames: ['Prod-us-east-1-orders-api-Health'],
  platformAction: 'Prod-us-east-1-Platform.Deploy',
  serviceActions: ['Prod-us-east-1-orders-api.Deploy'],
};
const guard = {
  account: '333333333333',
  region: 'eu-west-1',
  roleArn: 'arn:aws:iam::333333333333:role/safe-deploy-gate-reader-Prod-eu-west-1',
  healthAlarmNames: ['Prod-eu-west-1-orders-api-Health'],
  platformAction: 'Prod-eu-west-1.Platform.Deploy',
  serviceActions: ['Prod-eu-west-1.orders-api.Deploy'],
};
/** The gate before Prod-Wave2: observes the first production wave, guards the second. */
const baseSettings: GateSettings = {
  stageName: 'Prod-Wave2',
  bake: { minutes: 30, minRequests: 1000 },
  countRequests: true,
  observe: [observe],
  guard: [guard],
  maxWaitMinutes: 90,
};
const START = '2026-06-03T10:00:00.000Z';
const ARTIFACT = { bucketName: 'safedeploypipeline-artifactsbucket-1abc', objectKey: 'safe-deploy-pipeline/Synth_Outp/AbC1dEf' };

/** The cloud assembly zip as CodePipeline stores it, holding the release manifest with these gates. */
function assemblyZip(gates: Record<string, unknown>): Uint8Array {
  return zipSync({ 'manifest.json': strToU8('{}'), 'safe-deploy.release.json': strToU8(JSON.stringify({ version: 1, gates })) });
}

/** A gate job for `settings` (the manifest's Gate-Prod-Wave2) with the fixed, small UserParameters. */
function jobEvent(
  settings: unknown,
  continuationToken?: string,
  params: unknown = { gate: 'Gate-Prod-Wave2', override: 'none', executionId: 'exec-1' },
): CodePipelineEvent {
  currentGates = { 'Gate-Prod-Wave2': settings };
  return {
    'CodePipeline.job': {
      id: '11111111-2222-3333-4444-555555555555',
      accountId: '111111111111',
      data: {
        actionConfiguration: {
          configuration: {
            FunctionName: 'safe-deploy-bake-gate',
            UserParameters: typeof params === 'string' ? params : JSON.stringify(params),
          },
        },
        inputArtifacts: [
          {
            name: 'Synth_Output',
            revision: null,
            location: { type: 'S3', s3Location: { ...ARTIFACT, objectKey: `${ARTIFACT.objectKey}-${++artifactVersion}` } },
          },
        ],
        outputArtifacts: [],
        artifactCredentials: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'secret', sessionToken: 'token' },
        continuationToken,
      },
    },
  };
}
let currentGates: Record<string, unknown> = {};
let artifactVersion = 0;
const readArtifact = jest.fn(async () => assemblyZip(currentGates));
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
    readArtifact,
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
  AlarmName: 'Prod-us-east-1-orders-api-ErrorRate',
  StateValue: 'OK',
  Metrics: [
    {
      Id: 'errors',
      MetricStat: {
        Metric: {
          Namespace: 'AWS/Lambda',
          MetricName: 'Errors',
          Dimensions: [
            { Name: 'FunctionName', Value: 'Prod-orders-api-Fn1A2B3C' },
            { Name: 'Resource', Value: 'Prod-orders-api-Fn1A2B3C:live' },
          ],
        },
        Period: 60,
        Stat: 'Sum',
      },
      ReturnData: false,
    },
    { Id: 'rate', Expression: '100 * errors / invocations', ReturnData: true },
  ],
};
const latency = {
  AlarmName: 'Prod-us-east-1-orders-api-Latency',
  StateValue: 'OK',
  Namespace: 'AWS/Lambda',
  MetricName: 'Duration',
  Dimensions: [
    { Name: 'FunctionName', Value: 'Prod-orders-api-Fn1A2B3C' },
    { Name: 'Resource', Value: 'Prod-orders-api-Fn1A2B3C:live' },
  ],
};

function healthyAlarms(guardState: StateValue = 'OK', observeState: StateValue = 'OK') {
  cw.on(DescribeAlarmsCommand, { AlarmNames: guard.healthAlarmNames }).resolves({
    CompositeAlarms: [composite(guard.healthAlarmNames[0], guardState)],
    MetricAlarms: [],
  });
  cw.on(DescribeAlarmsCommand, { AlarmNames: observe.healthAlarmNames }).resolves({
    CompositeAlarms: [composite(observe.healthAlarmNames[0], observeState)],
    MetricAlarms: [],
  });
  cw.on(DescribeAlarmsCommand, { AlarmNames: ['Prod-us-east-1-orders-api-ErrorRate', 'Prod-us-east-1-orders-api-Latency'] }).resolves({
    MetricAlarms: [errorRate, latency] as never,
  });
  cw.on(DescribeAlarmHistoryCommand).resolves({ AlarmHistoryItems: [] });
}
/** GetPipelineState: the latest status of each `<stage>/<action>` given; every other action never ran. */
function deployed(latest: Record<string, string>) {
  const stages = new Map<string, Array<{ actionName: string; latestExecution: { status: string } }>>();
  for (const [key, status] of Object.entries(latest)) {
    const [stageName, actionName] = key.split('/');
    stages.set(stageName, [...(stages.get(stageName) ?? []), { actionName, latestExecution: { status } }]);
  }
  cp.on(GetPipelineStateCommand).resolves({
    pipelineName: 'safe-deploy-pipeline',
    stageStates: [...stages].map(([stageName, actionStates]) => ({ stageName, actionStates })) as never,
  });
}
const requests = (values: number[]) =>
  cw.on(GetMetricDataCommand).resolves({ MetricDataResults: [{ Id: 'r0', Values: values, StatusCode: 'Complete' }] });

beforeEach(() => {
  cw.reset();
  cp.reset();
  readArtifact.mockClear();
  clearManifestCache();
  cp.on(PutJobSuccessResultCommand).resolves({});
  cp.on(PutJobFailureResultCommand).resolves({});
});

describe('handleGateJob', () => {
  test('first call: bake time not elapsed, so it waits with a continuation token carrying the start time', async () => {
    healthyAlarms();
    const d = deps(START);
    const r = await handleGateJob(jobEvent(baseSettings), d);
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
    const r = await handleGateJob(jobEvent(baseSettings, token()), deps('2026-06-03T10:45:00Z'));
    expect(r.outcome).toBe('continued');
    expect(r.reason).toBe('baking: 450 of 1000 requests served after 45 minutes');
    expect(cw).toHaveReceivedCommandWith(GetMetricDataCommand, {
      MetricDataQueries: [
        {
          Id: 'r0',
          MetricStat: {
            Metric: {
              Namespace: 'AWS/Lambda',
              MetricName: 'Invocations',
              Dimensions: [
                { Name: 'FunctionName', Value: 'Prod-orders-api-Fn1A2B3C' },
                { Name: 'Resource', Value: 'Prod-orders-api-Fn1A2B3C:live' },
              ],
            },
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
    const r = await handleGateJob(jobEvent(baseSettings, token()), deps('2026-06-03T11:30:00Z'));
    expect(r.outcome).toBe('failed');
    expect(cp).toHaveReceivedCommandWith(PutJobFailureResultCommand, {
      jobId: '11111111-2222-3333-4444-555555555555',
      failureDetails: {
        type: 'JobFailed',
        message:
          'Prod-Wave2 is blocked: the previous stage served only 10 requests in 90 minutes (needs 1000); send traffic or lower bake.minRequests',
      },
    });
  });

  test('all good: baked, enough requests, alarms quiet -> success without continuation', async () => {
    healthyAlarms();
    requests([600, 700]);
    const r = await handleGateJob(jobEvent(baseSettings, token()), deps('2026-06-03T10:31:00Z'));
    expect(r).toEqual({
      jobId: '11111111-2222-3333-4444-555555555555',
      outcome: 'succeeded',
      reason: 'Prod-Wave2: baked 31 minutes (needs 30), 1300 requests (needs 1000), alarms quiet',
    });
    expect(cp).toHaveReceivedCommandWith(PutJobSuccessResultCommand, { continuationToken: undefined });
    expect(cw).toHaveReceivedCommandWith(DescribeAlarmHistoryCommand, {
      AlarmName: 'Prod-us-east-1-orders-api-Health',
      HistoryItemType: 'StateUpdate',
      StartDate: new Date(START),
    });
  });

  test("the guarded stage's aggregate alarm is firing: fails at once with the alarm's reason", async () => {
    healthyAlarms('ALARM');
    const r = await handleGateJob(jobEvent(baseSettings, token()), deps('2026-06-03T10:31:00Z'));
    expect(r.outcome).toBe('failed');
    expect(r.reason).toBe(
      'Prod-Wave2 is blocked: alarm "Prod-eu-west-1-orders-api-Health" is in ALARM in 333333333333/eu-west-1: arn:aws:cloudwatch:...:alarm:ErrorRate transitioned to ALARM',
    );
    expect(cp).toHaveReceivedCommandTimes(PutJobFailureResultCommand, 1);
  });

  test('the previous stage fired an alarm during the bake (now OK again): fails', async () => {
    healthyAlarms();
    cw.on(DescribeAlarmHistoryCommand).resolves({
      AlarmHistoryItems: [
        {
          AlarmName: 'Prod-us-east-1-orders-api-Health',
          Timestamp: new Date('2026-06-03T10:12:00Z'),
          HistoryItemType: 'StateUpdate',
          HistoryData: JSON.stringify({ oldState: { stateValue: 'OK' }, newState: { stateValue: 'ALARM' } }),
        },
      ],
    });
    const r = await handleGateJob(jobEvent(baseSettings, token()), deps('2026-06-03T10:31:00Z'));
    expect(r.reason).toBe(
      'Prod-Wave2 is blocked: the previous stage did not stay quiet during the bake: alarm "Prod-us-east-1-orders-api-Health" fired in 222222222222/us-east-1 at 2026-06-03T10:12:00.000Z',
    );
    expect(r.outcome).toBe('failed');
  });

  test('a health alarm that does not exist fails the gate instead of passing silently', async () => {
    cw.on(DescribeAlarmsCommand).resolves({ CompositeAlarms: [], MetricAlarms: [] });
    deployed({ 'Prod-Wave2/Prod-eu-west-1.orders-api.Deploy': 'Succeeded', 'Prod-Wave2/Prod-eu-west-1.Platform.Deploy': 'Succeeded' });
    const r = await handleGateJob(jobEvent(baseSettings), deps(START));
    expect(r.reason).toBe(
      'Prod-Wave2 is blocked: alarm "Prod-eu-west-1-orders-api-Health" does not exist in 333333333333/eu-west-1, although Prod-eu-west-1.orders-api.Deploy deployed it: check the stack (deleted by hand?)',
    );
  });

  describe('the first run into empty accounts', () => {
    const denied = () =>
      Object.assign(
        new Error('User: arn:aws:sts::111111111111:assumed-role/safe-deploy-bake-gate/x is not authorized to perform: sts:AssumeRole'),
        { name: 'AccessDenied' },
      );
    const firstRunDeps = (now: string) =>
      deps(now, {
        cloudWatchFor: async (t) => {
          if (t.account === guard.account) throw denied();
          return new CloudWatchClient({ region: t.region });
        },
      });

    test('a guarded target never deployed (no reader role yet) passes, and the result says why', async () => {
      healthyAlarms();
      requests([1200]);
      deployed({});
      const r = await handleGateJob(jobEvent(baseSettings, token()), firstRunDeps('2026-06-03T10:31:00Z'));
      expect(r).toMatchObject({
        outcome: 'succeeded',
        reason:
          'Prod-Wave2: baked 31 minutes (needs 30), requests not counted (Prod-Wave2 has never been deployed: no users there to protect yet), alarms quiet (333333333333/eu-west-1 not deployed yet: its platform stack (Prod-eu-west-1.Platform.Deploy) has never been deployed, so there is no reader role or alarm to check)',
      });
      expect(cp).toHaveReceivedCommandWith(GetPipelineStateCommand, { name: 'safe-deploy-pipeline' });
    });

    test('a wave never deployed anywhere does not wait for requests the new previous wave cannot have', async () => {
      healthyAlarms();
      requests([0]);
      deployed({});
      const r = await handleGateJob(jobEvent(baseSettings, token()), firstRunDeps('2026-06-03T10:31:00Z'));
      expect(r.outcome).toBe('succeeded');
      expect(cw).not.toHaveReceivedCommand(GetMetricDataCommand);
    });

    test('requests are still counted when one guarded target has been deployed before', async () => {
      const deployedGuard = {
        ...guard,
        account: '444444444444',
        region: 'ap-southeast-2',
        healthAlarmNames: ['Prod-ap-southeast-2-orders-api-Health'],
        platformAction: 'Prod-ap-southeast-2.Platform.Deploy',
        serviceActions: ['Prod-ap-southeast-2.orders-api.Deploy'],
      };
      healthyAlarms();
      cw.on(DescribeAlarmsCommand, { AlarmNames: deployedGuard.healthAlarmNames }).resolves({
        CompositeAlarms: [composite(deployedGuard.healthAlarmNames[0])],
      });
      requests([0]);
      deployed({});
      const r = await handleGateJob(
        jobEvent({ ...baseSettings, guard: [guard, deployedGuard] }, token()),
        firstRunDeps('2026-06-03T10:31:00Z'),
      );
      expect(r).toMatchObject({ outcome: 'continued', reason: 'baking: 0 of 1000 requests served after 31 minutes' });
    });

    test('a deployed target whose reader role cannot be assumed still fails', async () => {
      healthyAlarms();
      deployed({ 'Prod-Wave2/Prod-eu-west-1.Platform.Deploy': 'Succeeded' });
      const r = await handleGateJob(jobEvent(baseSettings, token()), firstRunDeps('2026-06-03T10:31:00Z'));
      expect(r).toMatchObject({
        outcome: 'failed',
        reason: expect.stringMatching(/^gate error: AccessDenied: User: .* is not authorized to perform: sts:AssumeRole$/),
      });
    });

    test('a service stack not deployed yet (new service) passes with a note; its platform exists', async () => {
      cw.on(DescribeAlarmsCommand).resolves({ CompositeAlarms: [], MetricAlarms: [] });
      cw.on(DescribeAlarmsCommand, { AlarmNames: observe.healthAlarmNames }).resolves({
        CompositeAlarms: [composite(observe.healthAlarmNames[0])],
      });
      cw.on(DescribeAlarmHistoryCommand).resolves({ AlarmHistoryItems: [] });
      deployed({ 'Prod-Wave2/Prod-eu-west-1.Platform.Deploy': 'Succeeded', 'Prod-Wave2/Prod-eu-west-1.orders-api.Deploy': 'Failed' });
      const r = await handleGateJob(jobEvent({ ...baseSettings, bake: undefined }), deps(START));
      expect(r).toMatchObject({
        outcome: 'succeeded',
        reason:
          'Prod-Wave2: alarms quiet (Prod-eu-west-1-orders-api-Health not deployed yet (Prod-eu-west-1.orders-api.Deploy has never succeeded))',
      });
    });

    test('without the pipeline name, a missing alarm always fails (it cannot tell a first run)', async () => {
      cw.on(DescribeAlarmsCommand).resolves({ CompositeAlarms: [], MetricAlarms: [] });
      const r = await handleGateJob(jobEvent(baseSettings), deps(START, { pipelineName: undefined }));
      expect(r.outcome).toBe('failed');
      expect(cp).not.toHaveReceivedCommand(GetPipelineStateCommand);
    });
  });

  test('requests are not counted when the previous stage is pre-production (only smoke-test traffic there)', async () => {
    healthyAlarms();
    const r = await handleGateJob(
      jobEvent({ ...baseSettings, stageName: 'Prod-Wave1', countRequests: false }, token()),
      deps('2026-06-03T10:31:00Z'),
    );
    expect(r).toMatchObject({
      outcome: 'succeeded',
      reason: 'Prod-Wave1: baked 31 minutes (needs 30), requests not counted (the previous stage is pre-production), alarms quiet',
    });
    expect(cw).not.toHaveReceivedCommand(GetMetricDataCommand);
  });

  describe('settings come from the release manifest in the cloud assembly, not the action', () => {
    test('the manifest is read once per artifact and cached across polls', async () => {
      healthyAlarms();
      const event = jobEvent(baseSettings);
      await handleGateJob(event, deps(START));
      await handleGateJob(event, deps(START));
      expect(readArtifact).toHaveBeenCalledTimes(1);
      expect(readArtifact).toHaveBeenCalledWith(
        expect.anything(),
        ARTIFACT.bucketName,
        expect.stringMatching(/^safe-deploy-pipeline\/Synth_Outp\/AbC1dEf-\d+$/),
      );
    });

    test.each([
      [
        'no input artifact',
        (e: any) => (e['CodePipeline.job'].data.inputArtifacts = []),
        'gate error: Error: the gate action has no input artifact: give it the cloud assembly (Synth_Output), which holds the release manifest',
      ],
      [
        'an unknown gate',
        (e: any) => (e['CodePipeline.job'].data.actionConfiguration.configuration.UserParameters = '{"gate":"Gate-Nope"}'),
        'gate error: Error: the release manifest has no gate "Gate-Nope" (gates: Gate-Prod-Wave2)',
      ],
    ])('%s fails the job with the reason', async (_what, mutate, reason) => {
      const event = jobEvent(baseSettings);
      mutate(event);
      await expect(handleGateJob(event, deps(START))).resolves.toMatchObject({ outcome: 'failed', reason });
    });

    test('an artifact without the manifest, or with invalid gates, fails the job with the reason', async () => {
      readArtifact.mockResolvedValueOnce(zipSync({ 'manifest.json': strToU8('{}') }));
      await expect(handleGateJob(jobEvent(baseSettings), deps(START))).resolves.toMatchObject({
        outcome: 'failed',
        reason: expect.stringMatching(/has no safe-deploy\.release\.json: synthesize with bin\/app\.ts, which writes it$/),
      });
      await expect(handleGateJob(jobEvent({ ...baseSettings, maxWaitMinutes: -1 }), deps(START))).resolves.toMatchObject({
        outcome: 'failed',
        reason: expect.stringContaining('safe-deploy.release.json has invalid gates: gates.Gate-Prod-Wave2.maxWaitMinutes: '),
      });
      readArtifact.mockResolvedValueOnce(strToU8('not a zip'));
      await expect(handleGateJob(jobEvent(baseSettings), deps(START))).resolves.toMatchObject({
        outcome: 'failed',
        reason: expect.stringContaining('is not a zip'),
      });
    });
  });

  describe('deployment window', () => {
    const windowed: GateSettings = {
      ...baseSettings,
      bake: undefined,
      window: {
        timeZone: 'Europe/Berlin',
        windows: [{ days: ['MON', 'TUE', 'WED', 'THU'], start: '09:00', end: '16:00' }],
        blockedDates: ['2026-06-04'],
      },
    };
    test('outside the window: fails, names the next opening and how to override', async () => {
      const r = await handleGateJob(jobEvent(windowed), deps('2026-06-03T15:00:00Z')); // 17:00 CEST Wednesday
      expect(r.outcome).toBe('failed');
      expect(r.reason).toBe(
        'Prod-Wave2 is blocked: outside every deployment window (2026-06-03 17:00 WED Europe/Berlin; windows: MON,TUE,WED,THU 09:00-16:00); next window opens 2026-06-08T07:00:00.000Z. ' +
          'To deploy an emergency fix anyway, start a new execution with the pipeline variable SafetyOverride set to the reason (e.g. "INC-1234 hotfix").',
      );
      expect(cw).not.toHaveReceivedCommand(DescribeAlarmsCommand);
    });
    test('on a blocked date: fails naming the date', async () => {
      const r = await handleGateJob(jobEvent(windowed), deps('2026-06-04T08:00:00Z')); // Thursday 10:00 CEST, blocked
      expect(r.reason).toMatch(/^Prod-Wave2 is blocked: 2026-06-04 is a blocked date \(2026-06-04 10:00 THU Europe\/Berlin\)/);
    });
    test('inside the window: passes on quiet alarms', async () => {
      healthyAlarms();
      const r = await handleGateJob(jobEvent(windowed), deps('2026-06-03T08:00:00Z'));
      expect(r).toMatchObject({ outcome: 'succeeded', reason: 'Prod-Wave2: alarms quiet' });
    });
    test('override: passes outside the window and logs who overrode and why', async () => {
      healthyAlarms();
      cp.on(GetPipelineExecutionCommand).resolves({
        pipelineExecution: {
          pipelineExecutionId: 'exec-1',
          trigger: { triggerType: 'StartPipelineExecution', triggerDetail: 'arn:aws:sts::111111111111:assumed-role/Operator/alice' },
        },
      });
      const warn = jest.spyOn(logger, 'warn');
      const r = await handleGateJob(
        jobEvent(windowed, undefined, { gate: 'Gate-Prod-Wave2', override: 'INC-4711 payment outage hotfix', executionId: 'exec-1' }),
        deps('2026-06-03T15:00:00Z'),
      );
      expect(r).toMatchObject({ outcome: 'succeeded', reason: 'Prod-Wave2: alarms quiet, window overridden' });
      expect(warn).toHaveBeenCalledWith('Deployment window overridden by operator', {
        stageName: 'Prod-Wave2',
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
      const r = await handleGateJob(
        jobEvent(windowed, undefined, { gate: 'Gate-Prod-Wave2', override: 'INC-4711' }),
        deps('2026-06-03T15:00:00Z'),
      );
      expect(r.outcome).toBe('failed');
    });
  });

  describe('never left hanging', () => {
    test('malformed UserParameters: failure reported with the field at fault', async () => {
      const r = await handleGateJob(jobEvent(baseSettings, undefined, { gate: 7, observe: [] }), deps(START));
      expect(r.outcome).toBe('failed');
      expect(cp).toHaveReceivedCommandWith(PutJobFailureResultCommand, {
        failureDetails: {
          type: 'JobFailed',
          message: expect.stringMatching(/^gate error: Error: UserParameters\.gate: .*; UserParameters: Unrecognized key: "observe"$/),
        },
      });
    });
    test('UserParameters that is not JSON: failure reported', async () => {
      const r = await handleGateJob(jobEvent(baseSettings, undefined, '{not json'), deps(START));
      expect(r.reason).toMatch(/^gate error: Error: UserParameters is not JSON/);
      expect(cp).toHaveReceivedCommandTimes(PutJobFailureResultCommand, 1);
    });
    test('an event without a job id fails the invocation loudly (nothing to report against)', async () => {
      await expect(handleGateJob({} as CodePipelineEvent, deps(START))).rejects.toThrow(
        'malformed CodePipeline job event: no CodePipeline.job.id (keys: none); the action will time out',
      );
      expect(cp).not.toHaveReceivedCommand(PutJobFailureResultCommand);
    });
    test('a CloudWatch error (e.g. AssumeRole denied on a deployed target) becomes a job failure', async () => {
      deployed({ 'Prod-Wave2/Prod-eu-west-1.Platform.Deploy': 'Succeeded' });
      const r = await handleGateJob(
        jobEvent(baseSettings),
        deps(START, {
          cloudWatchFor: async () => {
            throw Object.assign(new Error('User is not authorized to perform: sts:AssumeRole'), { name: 'AccessDenied' });
          },
        }),
      );
      expect(r).toMatchObject({ outcome: 'failed', reason: 'gate error: AccessDenied: User is not authorized to perform: sts:AssumeRole' });
      expect(cp).toHaveReceivedCommandTimes(PutJobFailureResultCommand, 1);
    });
    test('throttled reporting is retried until CodePipeline accepts it', async () => {
      healthyAlarms();
      cp.on(PutJobSuccessResultCommand)
        .rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }))
        .resolves({});
      const r = await handleGateJob(jobEvent(baseSettings), deps(START));
      expect(r.outcome).toBe('continued');
      expect(cp).toHaveReceivedCommandTimes(PutJobSuccessResultCommand, 2);
    });
    test.each([
      ['null', null],
      ['a string', 'CodePipeline.job'],
      ['an array', [{ 'CodePipeline.job': { id: 'x' } }]],
      ['a job whose id is a number', { 'CodePipeline.job': { id: 42 } }],
      ['a job that is a string', { 'CodePipeline.job': 'job-1' }],
    ])('an event that is %s cannot be reported: the invocation fails', async (_what, event) => {
      await expect(handleGateJob(event as unknown as CodePipelineEvent, deps(START))).rejects.toThrow(
        /^malformed CodePipeline job event: no CodePipeline.job.id/,
      );
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
      const r = await handleGateJob(jobEvent(baseSettings, 'null'), deps(START));
      expect(r).toMatchObject({ outcome: 'failed', reason: expect.stringMatching(/^gate error: Error: continuation token: /) });
      expect(cp).toHaveReceivedCommandTimes(PutJobFailureResultCommand, 1);
    });
    test.each([Number.NaN, -1000])(
      'a poll interval of %p ms (bad POLL_INTERVAL_SECONDS) is reported as a failure',
      async (pollIntervalMs) => {
        healthyAlarms();
        const r = await handleGateJob(jobEvent(baseSettings), deps(START, { pollIntervalMs }));
        expect(r).toEqual({
          jobId: '11111111-2222-3333-4444-555555555555',
          outcome: 'failed',
          reason: `gate error: Error: gate misconfigured: POLL_INTERVAL_SECONDS gives a poll interval of ${pollIntervalMs} ms; set it to a number of seconds >= 0`,
        });
        expect(cp).not.toHaveReceivedCommand(PutJobSuccessResultCommand);
      },
    );
    test('an evaluation that hangs is cut off before the function times out and reported as a failure', async () => {
      const d = deps(START, { cloudWatchFor: () => new Promise(() => undefined), remainingTimeMs: () => 15_030 });
      const r = await handleGateJob(jobEvent(baseSettings), d);
      expect(r).toMatchObject({ outcome: 'failed', reason: 'gate error: CheckTimeout: timed out after 30 ms' });
      expect(cp).toHaveReceivedCommandTimes(PutJobFailureResultCommand, 1);
    });
    test('the pause before a continuation never outlasts the invocation (reporting time kept)', async () => {
      healthyAlarms();
      const d = deps(START, { pollIntervalMs: 300_000, remainingTimeMs: () => 120_000 });
      const r = await handleGateJob(jobEvent(baseSettings), d);
      expect(r.outcome).toBe('continued');
      expect(d.sleep).toHaveBeenCalledWith(105_000);
      expect(cp).toHaveReceivedCommandTimes(PutJobSuccessResultCommand, 1);
    });
    test('without a deadline the pause is the poll interval', async () => {
      healthyAlarms();
      const d = deps(START);
      await handleGateJob(jobEvent(baseSettings), d);
      expect(d.sleep).toHaveBeenCalledWith(60_000);
    });
    test('a failure report that is throttled is retried', async () => {
      cp.on(PutJobFailureResultCommand)
        .rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } }))
        .resolves({});
      const r = await handleGateJob(jobEvent(baseSettings, undefined, '{not json'), deps(START));
      expect(r.outcome).toBe('failed');
      expect(cp).toHaveReceivedCommandTimes(PutJobFailureResultCommand, 2);
    });
    test('reporting that keeps failing is rethrown so Lambda retries the invocation', async () => {
      healthyAlarms();
      cp.on(PutJobSuccessResultCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
      await expect(handleGateJob(jobEvent(baseSettings), deps(START))).rejects.toThrow('denied');
    });
  });
});

describe('metric discovery from alarms', () => {
  test('composite rule children, by name or ARN', () => {
    expect(childAlarmNames('ALARM("a-ErrorRate") OR ALARM(arn:aws:cloudwatch:us-east-1:222222222222:alarm:a-Latency)')).toEqual([
      'a-ErrorRate',
      'a-Latency',
    ]);
  });
  test('ALB alarms give RequestCount per target group; duplicates collapse', () => {
    const dims = [
      { Name: 'TargetGroup', Value: 'targetgroup/Blue/abc' },
      { Name: 'LoadBalancer', Value: 'app/lb/123' },
    ];
    const m = requestMetricsFromAlarms([
      { AlarmName: 'x', Namespace: 'AWS/ApplicationELB', MetricName: 'HTTPCode_Target_5XX_Count', Dimensions: dims },
      { AlarmName: 'y', Namespace: 'AWS/ApplicationELB', MetricName: 'TargetResponseTime', Dimensions: dims },
    ]);
    expect(m).toEqual([{ namespace: 'AWS/ApplicationELB', metricName: 'RequestCount', dimensions: dims }]);
  });
});

describe('what the gate reads besides the manifest, through the schemas in lib/runtime/gate-settings', () => {
  test('the environment: poll interval in seconds (60 by default) and the pipeline name', () => {
    expect(readGateEnvironment({ POLL_INTERVAL_SECONDS: '30', PIPELINE_NAME: 'p' })).toEqual({ pollIntervalMs: 30_000, pipelineName: 'p' });
    expect(readGateEnvironment({})).toEqual({ pollIntervalMs: 60_000, pipelineName: undefined });
  });
  test.each(['', '1.5', '-1', 'soon'])(
    'a POLL_INTERVAL_SECONDS of %p gives NaN, which every job then reports as misconfigured',
    (value) => {
      expect(readGateEnvironment({ POLL_INTERVAL_SECONDS: value }).pollIntervalMs).toBeNaN();
    },
  );
  test('the continuation token: a state of its own writing, polls counted from 0 when absent', () => {
    expect(parseGateState(JSON.stringify({ startedAt: START }), new Date(START))).toEqual({ startedAt: START, polls: 0 });
    expect(parseGateState(undefined, new Date(START))).toEqual({ startedAt: new Date(START).toISOString(), polls: 0 });
  });
  test('fails when the token is not JSON or not a gate state, naming the field', () => {
    expect(() => parseGateState('{', new Date(START))).toThrow(/^continuation token is not JSON: /);
    expect(() => parseGateState(JSON.stringify({ startedAt: 'yesterday', polls: 1 }), new Date(START))).toThrow(
      'continuation token.startedAt: is not a date',
    );
  });
});
