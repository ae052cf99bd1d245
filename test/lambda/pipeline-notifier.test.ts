import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { notify, NotifierDeps, NotifierEvent } from '../../lambda/pipeline-notifier/index';
import { createLogger } from '../../lambda/shared/logger';
import type { Diagnosis } from '../../lib/runtime/diagnosis';

const sns = mockClient(SNSClient);
const TOPIC = 'arn:aws:sns:us-east-1:111111111111:safe-deploy-notifications';

const pipelineFailed: NotifierEvent = {
  version: '0',
  id: 'e1',
  'detail-type': 'CodePipeline Pipeline Execution State Change',
  source: 'aws.codepipeline',
  account: '111111111111',
  time: '2026-06-03T10:00:00Z',
  region: 'us-east-1',
  resources: ['arn:aws:codepipeline:us-east-1:111111111111:safe-deploy-pipeline'],
  detail: { pipeline: 'safe-deploy-pipeline', 'execution-id': 'abcd-1234', state: 'FAILED' },
};
const gateDiagnosis: Diagnosis = {
  pipelineName: 'safe-deploy-pipeline',
  executionId: 'abcd-1234',
  found: true,
  stageName: 'Gate-Prod-Wave1',
  actionName: 'BakeGate',
  error: 'Prod-Wave1 is blocked: alarm "Beta-us-east-1-LambdaService-Health" is in ALARM in 222222222222/us-east-1',
  cause: 'unknown',
  summary: 'deployctl does not recognise this error; it is shown as AWS reported it.',
  fix: 'Read the error and the linked execution.',
  links: [],
};

function deps(diagnose: NotifierDeps['diagnose']): NotifierDeps {
  return {
    sns: new SNSClient({ region: 'us-east-1' }),
    topicArn: TOPIC,
    diagnose,
    logger: createLogger('notifier-test'),
    retry: { sleep: async () => undefined },
  };
}

beforeEach(() => {
  sns.reset();
  sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
});

test('a failed execution is published with the diagnosis, the blocked-gate note and the execution link', async () => {
  const diagnose = jest.fn(async () => gateDiagnosis);
  const n = await notify(pipelineFailed, deps(diagnose));
  expect(diagnose).toHaveBeenCalledWith('safe-deploy-pipeline', 'abcd-1234', 'us-east-1');
  expect(n?.subject).toBe('[safe-deploy] safe-deploy-pipeline failed in Gate-Prod-Wave1');
  expect(n?.message).toContain('A safety gate blocked the release (bake, alarms or deployment window).');
  expect(n?.message).toContain('Pipeline safe-deploy-pipeline, execution abcd-1234: FAILED in Gate-Prod-Wave1 / BakeGate');
  expect(n?.message).toContain('Error:   Prod-Wave1 is blocked: alarm "Beta-us-east-1-LambdaService-Health" is in ALARM');
  expect(n?.message).toContain(
    'Execution: https://us-east-1.console.aws.amazon.com/codesuite/codepipeline/pipelines/safe-deploy-pipeline/executions/abcd-1234/timeline?region=us-east-1',
  );
  expect(sns).toHaveReceivedCommandWith(PublishCommand, { TopicArn: TOPIC, Subject: n!.subject, Message: n!.message });
});

test('a diagnosis that throws still notifies, saying how to diagnose by hand', async () => {
  const n = await notify(
    pipelineFailed,
    deps(async () => {
      throw Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' });
    }),
  );
  expect(n?.subject).toBe('[safe-deploy] safe-deploy-pipeline failed');
  expect(n?.message).toContain(
    'The automatic diagnosis failed (AccessDeniedException: not authorized); run `deployctl diagnose --execution abcd-1234`.',
  );
  expect(sns).toHaveReceivedCommandTimes(PublishCommand, 1);
});

test("a diagnosis slower than its time budget is cut short: the notification still goes out, for the event's execution", async () => {
  const diagnose = jest.fn(() => new Promise<Diagnosis>(() => undefined));
  const n = await notify(pipelineFailed, { ...deps(diagnose), diagnosisBudgetMs: () => 30 });
  expect(diagnose).toHaveBeenCalledWith('safe-deploy-pipeline', 'abcd-1234', 'us-east-1');
  expect(n?.message).toContain(
    'The automatic diagnosis failed (CheckTimeout: timed out after 30 ms); run `deployctl diagnose --execution abcd-1234`.',
  );
  expect(sns).toHaveReceivedCommandTimes(PublishCommand, 1);
});

test('a forwarded CodeDeploy failure is published as a rollback with a deployment link', async () => {
  const event: NotifierEvent = {
    version: '0',
    id: 'e2',
    'detail-type': 'CodeDeploy Deployment State-change Notification',
    source: 'aws.codedeploy',
    account: '333333333333',
    time: '2026-06-03T10:05:00Z',
    region: 'eu-west-1',
    resources: [],
    detail: {
      application: 'Prod-LambdaService-App',
      deploymentGroup: 'Prod-LambdaService-DG',
      deploymentId: 'd-ABCDEF123',
      state: 'FAILURE',
      region: 'eu-west-1',
    },
  };
  const n = await notify(event, deps(jest.fn()));
  expect(n?.subject).toBe('[safe-deploy] CodeDeploy rollback: Prod-LambdaService-App/Prod-LambdaService-DG');
  expect(n?.message).toContain(
    'CodeDeploy deployment d-ABCDEF123 of Prod-LambdaService-App / Prod-LambdaService-DG ended in FAILURE in account 333333333333, region eu-west-1.',
  );
  expect(n?.message).toContain('https://eu-west-1.console.aws.amazon.com/codesuite/codedeploy/deployments/d-ABCDEF123?region=eu-west-1');
});

test('a deployment stopped by an alarm (STOP) is a rollback too; SUCCESS and START are not', async () => {
  const base = {
    version: '0',
    id: 'e3',
    'detail-type': 'CodeDeploy Deployment State-change Notification' as const,
    source: 'aws.codedeploy',
    account: '333333333333',
    time: '2026-06-03T10:05:00Z',
    region: 'eu-west-1',
    resources: [],
  };
  const detail = {
    application: 'Prod-orders-api-App',
    deploymentGroup: 'Prod-orders-api-DG',
    deploymentId: 'd-STOPPED1',
    region: 'eu-west-1',
  };
  const stopped = await notify({ ...base, detail: { ...detail, state: 'STOP' } }, deps(jest.fn()));
  expect(stopped?.message).toContain('ended in STOP');
  for (const state of ['SUCCESS', 'START', 'READY'])
    expect(await notify({ ...base, detail: { ...detail, state } }, deps(jest.fn()))).toBeUndefined();
});

test('other states are ignored; a long subject is cut to SNS limit in ASCII', async () => {
  expect(
    await notify({ ...pipelineFailed, detail: { ...pipelineFailed.detail, state: 'SUCCEEDED' } } as NotifierEvent, deps(jest.fn())),
  ).toBeUndefined();
  expect(sns).not.toHaveReceivedCommand(PublishCommand);
  const long = 'p'.repeat(120);
  const n = await notify(
    { ...pipelineFailed, detail: { ...pipelineFailed.detail, pipeline: long } } as NotifierEvent,
    deps(async () => ({ ...gateDiagnosis, pipelineName: long })),
  );
  expect(n!.subject).toHaveLength(100);
  expect(n!.subject.endsWith('...')).toBe(true);
});

test('a throttled publish is retried', async () => {
  sns
    .on(PublishCommand)
    .rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }))
    .resolves({ MessageId: 'm' });
  await notify(
    pipelineFailed,
    deps(async () => gateDiagnosis),
  );
  expect(sns).toHaveReceivedCommandTimes(PublishCommand, 2);
});
