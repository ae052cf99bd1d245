import {
  AppConfigClient,
  GetDeploymentCommand,
  ListApplicationsCommand,
  ListDeploymentsCommand,
  ListEnvironmentsCommand,
} from '@aws-sdk/client-appconfig';
import { CloudWatchClient, DescribeAlarmHistoryCommand, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import {
  CodePipelineClient,
  GetPipelineStateCommand,
  PutJobFailureResultCommand,
  PutJobSuccessResultCommand,
} from '@aws-sdk/client-codepipeline';
import type { CodePipelineEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { strToU8, zipSync } from 'fflate';
import type { GateSettings } from '../../lambda/bake-gate/gate';
import { GateJobDeps, handleGateJob } from '../../lambda/bake-gate/index';
import { clearManifestCache } from '../../lambda/bake-gate/release-manifest';
import { createLogger } from '../../lambda/shared/logger';

/**
 * The bake gate and feature flags: the gate before Prod-Wave2 observes Prod-Wave1 (us-east-1) and
 * guards Prod-Wave2 (eu-west-1); greeting-api has flags in both. AppConfig answers as its API does
 * (ListApplications, ListEnvironments, ListDeployments newest first, GetDeployment with description).
 */
const cw = mockClient(CloudWatchClient);
const cp = mockClient(CodePipelineClient);
const ac = mockClient(AppConfigClient);

const DIGEST = '0123456789abcdef';
const flagsOf = (region: string) => [
  { service: 'greeting-api', application: `Prod-${region}-greeting-api-flags`, environment: 'greeting-api', digest: DIGEST },
];
const target = (account: string, region: string) => ({
  account,
  region,
  roleArn: `arn:aws:iam::${account}:role/safe-deploy-gate-reader-Prod-${region}`,
  healthAlarmNames: [`Prod-${region}-greeting-api-Health`],
  platformAction: `Prod-${region}-Platform.Deploy`,
  serviceActions: [`Prod-${region}-greeting-api.Deploy`],
  flags: flagsOf(region),
});
const observe = target('222222222222', 'us-east-1');
const guard = target('222222222222', 'eu-west-1');
const settings: GateSettings = { stageName: 'Prod-Wave2', countRequests: false, observe: [observe], guard: [guard], maxWaitMinutes: 120 };
const START = '2026-06-03T10:00:00.000Z';

let gates: Record<string, unknown> = {};
let version = 0;
function job(s: GateSettings, continuationToken?: string): CodePipelineEvent {
  gates = { 'Gate-Prod-Wave2': s };
  return {
    'CodePipeline.job': {
      id: 'job-1',
      accountId: '111111111111',
      data: {
        actionConfiguration: {
          configuration: {
            FunctionName: 'safe-deploy-bake-gate',
            UserParameters: JSON.stringify({ gate: 'Gate-Prod-Wave2', override: 'none' }),
          },
        },
        inputArtifacts: [
          {
            name: 'Synth_Output',
            revision: null,
            location: { type: 'S3', s3Location: { bucketName: 'artifacts', objectKey: `assembly-${++version}` } },
          },
        ],
        outputArtifacts: [],
        artifactCredentials: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'secret', sessionToken: 'token' },
        continuationToken,
      },
    },
  };
}

const appConfigs: Record<string, AppConfigClient> = {};
function deps(now: string, extra: Partial<GateJobDeps> = {}): GateJobDeps {
  return {
    codepipeline: new CodePipelineClient({ region: 'us-east-1' }),
    cloudWatchFor: async (t) => new CloudWatchClient({ region: t.region }),
    appConfigFor: async (t) => (appConfigs[t.region] ??= new AppConfigClient({ region: t.region })),
    logger: createLogger('bake-gate-flags-test'),
    now: () => new Date(now),
    sleep: async () => undefined,
    pollIntervalMs: 60_000,
    pipelineName: 'safe-deploy-pipeline',
    retry: { sleep: async () => undefined },
    readArtifact: async () => zipSync({ 'safe-deploy.release.json': strToU8(JSON.stringify({ version: 1, gates })) }),
    ...extra,
  };
}

/** The AppConfig state of greeting-api's flags in one region: its newest deployment (or none at all). */
function flagState(region: string, newest?: { number: number; state: string; digest?: string; percent?: number }) {
  const appId = region === 'us-east-1' ? 'app1use' : 'app1euw';
  ac.on(ListApplicationsCommand).callsFake((input, getClient) => {
    void input;
    return getClient()
      .config.region()
      .then((r: string) => ({
        Items: states[r]
          ? [
              { Id: r === 'us-east-1' ? 'app1use' : 'app1euw', Name: `Prod-${r}-greeting-api-flags` },
              { Id: 'other1', Name: 'someone-elses-app' },
            ]
          : [],
      }));
  });
  states[region] = newest ?? null;
  ac.on(ListEnvironmentsCommand, { ApplicationId: appId }).resolves({ Items: [{ Id: `env${appId}`, Name: 'greeting-api' }] });
  ac.on(ListDeploymentsCommand, { ApplicationId: appId }).resolves({
    Items: newest
      ? [
          { DeploymentNumber: newest.number, ConfigurationName: 'greeting-api', State: newest.state as never, StartedAt: new Date(START) },
          {
            DeploymentNumber: newest.number - 1,
            ConfigurationName: 'greeting-api',
            State: 'COMPLETE',
            StartedAt: new Date('2026-06-01T10:00:00Z'),
          },
        ]
      : [],
  });
  if (newest) {
    ac.on(GetDeploymentCommand, { ApplicationId: appId, DeploymentNumber: newest.number }).resolves({
      DeploymentNumber: newest.number,
      State: newest.state as never,
      PercentageComplete: newest.percent ?? 100,
      ConfigurationVersion: '7',
      Description: `safe-deploy: flags of greeting-api, sha256 ${newest.digest ?? DIGEST}`,
    });
  }
}
let states: Record<string, unknown> = {};

beforeEach(() => {
  cw.reset();
  cp.reset();
  ac.reset();
  states = {};
  clearManifestCache();
  cp.on(PutJobSuccessResultCommand).resolves({});
  cp.on(PutJobFailureResultCommand).resolves({});
  cw.on(DescribeAlarmsCommand).callsFake((input: { AlarmNames: string[] }) => ({
    CompositeAlarms: input.AlarmNames.map((n) => ({ AlarmName: n, StateValue: 'OK', AlarmRule: 'FALSE' })),
  }));
  cw.on(DescribeAlarmHistoryCommand).resolves({ AlarmHistoryItems: [] });
});

describe('the bake gate and feature-flag deployments', () => {
  test("passes once this release's flags completed (rollout and bake) in the previous stage and nothing runs in the next", async () => {
    flagState('us-east-1', { number: 4, state: 'COMPLETE' });
    flagState('eu-west-1', { number: 2, state: 'COMPLETE', digest: 'ffffffffffffffff' });
    const r = await handleGateJob(job(settings), deps(START));
    expect(r).toEqual({ jobId: 'job-1', outcome: 'succeeded', reason: 'Prod-Wave2: alarms quiet, 1 flag deployment complete' });
    expect(ac).toHaveReceivedCommandWith(GetDeploymentCommand, {
      ApplicationId: 'app1use',
      EnvironmentId: 'envapp1use',
      DeploymentNumber: 4,
    });
  });

  test('waits while the flags are still baking in the previous stage', async () => {
    flagState('us-east-1', { number: 4, state: 'BAKING' });
    flagState('eu-west-1', { number: 2, state: 'COMPLETE' });
    const r = await handleGateJob(job(settings), deps(START));
    expect(r).toEqual({
      jobId: 'job-1',
      outcome: 'continued',
      reason:
        "flags: greeting-api's flags in 222222222222/us-east-1: deployment #4 (version 7) is BAKING (100 %): waiting for the flag rollout and its bake to finish",
    });
    expect(cp).toHaveReceivedCommandWith(PutJobSuccessResultCommand, { continuationToken: JSON.stringify({ startedAt: START, polls: 1 }) });
  });

  test('a flag rollout that never ends fails the gate after maxWaitMinutes', async () => {
    flagState('us-east-1', { number: 4, state: 'DEPLOYING', percent: 40 });
    flagState('eu-west-1', { number: 2, state: 'COMPLETE' });
    const r = await handleGateJob(job(settings, JSON.stringify({ startedAt: START, polls: 120 })), deps('2026-06-03T12:00:00Z'));
    expect(r.outcome).toBe('failed');
    expect(r.reason).toBe(
      "Prod-Wave2 is blocked: flag deployments still running after 120 minutes: greeting-api's flags in 222222222222/us-east-1: deployment #4 (version 7) is DEPLOYING (40 %): waiting for the flag rollout and its bake to finish. See deployctl flags",
    );
  });

  test("fails when the health alarm rolled this release's flags back in the previous stage", async () => {
    flagState('us-east-1', { number: 4, state: 'ROLLED_BACK' });
    flagState('eu-west-1', { number: 2, state: 'COMPLETE' });
    const r = await handleGateJob(job(settings), deps(START));
    expect(r).toMatchObject({
      outcome: 'failed',
      reason:
        "Prod-Wave2 is blocked: greeting-api's flags in 222222222222/us-east-1: deployment #4 (version 7) was ROLLED_BACK, and it holds the flags this release deploys: fix the flags in git (any change to them, even a description, deploys them anew), then release again",
    });
  });

  test("fails when an operator reverted the flags there, or other flags than this release's are served", async () => {
    flagState('us-east-1', { number: 5, state: 'REVERTED' });
    flagState('eu-west-1', { number: 2, state: 'COMPLETE' });
    expect((await handleGateJob(job(settings), deps(START))).reason).toContain(
      'deployment #5 (version 7) was REVERTED, and it holds the flags this release deploys',
    );
    ac.reset();
    flagState('us-east-1', { number: 6, state: 'COMPLETE', digest: 'aaaaaaaaaaaaaaaa' });
    flagState('eu-west-1', { number: 2, state: 'COMPLETE' });
    expect((await handleGateJob(job(settings), deps(START))).reason).toBe(
      `Prod-Wave2 is blocked: greeting-api's flags in 222222222222/us-east-1: the newest deployment, deployment #6 (version 7), is not of the flags this release deploys (sha256 ${DIGEST}): flags were deployed or rolled back by hand there; fix the flags in git, or release what runs there`,
    );
  });

  test('waits while an earlier flag deployment still runs in the guarded stage (one deployment per environment at a time)', async () => {
    flagState('us-east-1', { number: 4, state: 'COMPLETE' });
    flagState('eu-west-1', { number: 2, state: 'BAKING' });
    const r = await handleGateJob(job(settings), deps(START));
    expect(r.outcome).toBe('continued');
    expect(r.reason).toContain(
      "greeting-api's flags in 222222222222/eu-west-1: deployment #2 is still BAKING (100 %), and AppConfig runs one deployment per environment at a time",
    );
  });

  test('a guarded stage whose flags were rolled back does not block: this release may be the fix', async () => {
    flagState('us-east-1', { number: 4, state: 'COMPLETE' });
    flagState('eu-west-1', { number: 2, state: 'ROLLED_BACK', digest: 'bbbbbbbbbbbbbbbb' });
    expect((await handleGateJob(job(settings), deps(START))).outcome).toBe('succeeded');
  });

  test('first deploy of flags: the guarded stage has no application yet (noted); the previous stage must have one', async () => {
    flagState('us-east-1', { number: 1, state: 'COMPLETE' });
    flagState('eu-west-1');
    const r = await handleGateJob(job(settings), deps(START));
    expect(r).toMatchObject({
      outcome: 'succeeded',
      reason: `Prod-Wave2: alarms quiet, 1 flag deployment complete (greeting-api's flags in 222222222222/eu-west-1 not deployed yet (no AppConfig application "Prod-eu-west-1-greeting-api-flags"))`,
    });
    ac.reset();
    flagState('us-east-1');
    flagState('eu-west-1');
    expect((await handleGateJob(job(settings), deps(START))).reason).toBe(
      `Prod-Wave2 is blocked: greeting-api's flags in 222222222222/us-east-1: no AppConfig application "Prod-us-east-1-greeting-api-flags", although the previous stage deployed them: check the service's stack (application "Prod-us-east-1-greeting-api-flags")`,
    );
  });

  test('a guarded target never deployed (no reader role) is skipped for flags too, as for alarms', async () => {
    flagState('us-east-1', { number: 4, state: 'COMPLETE' });
    cp.on(GetPipelineStateCommand).resolves({ stageStates: [] });
    const denied = () => Object.assign(new Error('not authorized to perform: sts:AssumeRole'), { name: 'AccessDenied' });
    const r = await handleGateJob(
      job(settings),
      deps(START, {
        cloudWatchFor: async (t) => {
          if (t.region === 'eu-west-1') throw denied();
          return new CloudWatchClient({ region: t.region });
        },
        appConfigFor: async (t) => {
          if (t.region === 'eu-west-1') throw denied();
          return (appConfigs[t.region] ??= new AppConfigClient({ region: t.region }));
        },
      }),
    );
    expect(r.outcome).toBe('succeeded');
    expect(r.reason).toContain('222222222222/eu-west-1 not deployed yet');
  });

  test('a target with flags and a gate without an AppConfig client is a misconfiguration, reported as a failure', async () => {
    const r = await handleGateJob(job(settings), deps(START, { appConfigFor: undefined }));
    expect(r).toMatchObject({
      outcome: 'failed',
      reason: 'gate error: Error: gate misconfigured: 222222222222/us-east-1 has feature flags, and the gate has no AppConfig client',
    });
  });

  test('a manifest from before flags (targets without "flags") asks AppConfig nothing', async () => {
    const plain = { ...settings, observe: [{ ...observe, flags: undefined }], guard: [{ ...guard, flags: undefined }] };
    expect((await handleGateJob(job(plain), deps(START))).reason).toBe('Prod-Wave2: alarms quiet');
    expect(ac).not.toHaveReceivedAnyCommand();
  });
});
