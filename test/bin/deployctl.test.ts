import 'aws-sdk-client-mock-jest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import {
  GetPipelineCommand,
  GetPipelineExecutionCommand,
  GetPipelineStateCommand,
  ListActionExecutionsCommand,
  ListPipelineExecutionsCommand,
  PipelineNotFoundException,
  RetryStageExecutionCommand,
  RollbackStageCommand,
  StageNotFoundException,
} from '@aws-sdk/client-codepipeline';
import { main } from '../../lib/ops/cli';
import * as f from '../ops/fixtures';
import { CLI_FIXTURE_ENV } from '../support/fixtures';

/** Runs the CLI with mocked clients and captures everything it prints. */
async function run(
  argv: string[],
  extra: { isTTY?: boolean; confirm?: (q: string) => Promise<boolean>; env?: Record<string, string> } = {},
) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, {
    clients: f.clients(),
    stdout: { write: (s: string) => out.push(s) },
    stderr: { write: (s: string) => err.push(s) },
    isTTY: extra.isTTY ?? false,
    confirm: extra.confirm ?? (async () => false),
    env: { ...CLI_FIXTURE_ENV, ...extra.env },
    sleep: async () => undefined,
  });
  return { code, stdout: out.join(''), stderr: err.join('') };
}
const oneLine = (s: string) => s.split('\n').filter(Boolean);
/** One readable line on stderr, no stack trace, nothing on stdout, the exit code. */
const expectOneLine = (r: { code: number; stderr: string; stdout: string }, line: string, code = 2) => {
  expect(oneLine(r.stderr)).toEqual([line]);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(r.stdout).toBe('');
  expect(r.code).toBe(code);
};

let m: f.Mocks;
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'deployctl-'));
  writeFileSync(path.join(dir, 'broken.json'), '{ "appName": "x" ');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeEach(() => {
  m = f.mocks();
  m.codepipeline.on(GetPipelineCommand).resolves(f.getPipelineOutput());
  m.codepipeline
    .on(GetPipelineStateCommand)
    .resolves(
      f.getPipelineStateOutput([
        f.stage('Source', 'Succeeded', f.EXEC_CURRENT),
        f.stage('Beta', 'Failed', f.EXEC_CURRENT, [
          { name: 'SmokeTest-Beta-us-east-1', status: 'Failed', error: 'Build terminated with state: FAILED' },
        ]),
      ]),
    );
  m.codepipeline
    .on(GetPipelineExecutionCommand, { pipelineExecutionId: f.EXEC_CURRENT })
    .resolves(f.execution(f.EXEC_CURRENT, f.SHA_CURRENT, 'Add the orders endpoint', 'Failed'));
  m.codepipeline
    .on(GetPipelineExecutionCommand, { pipelineExecutionId: f.EXEC_PREVIOUS })
    .resolves(f.execution(f.EXEC_PREVIOUS, f.SHA_PREVIOUS, 'Fix the health check path'));
});
afterEach(() => Object.values(m).forEach((x) => x.restore()));

describe('status', () => {
  test('prints the stages for people, using the configured pipeline and region', async () => {
    const r = await run(['status']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('Pipeline safe-deploy-pipeline (111111111111/us-east-1)');
    expect(r.stdout).toContain('x SmokeTest-Beta-us-east-1: Build terminated with state: FAILED');
    expect(m.codepipeline).toHaveReceivedCommandWith(GetPipelineStateCommand, { name: 'safe-deploy-pipeline' });
  });

  test('--json prints the status object', async () => {
    const r = await run(['status', '--json', '--pipeline', 'other-pipeline', '--region', 'eu-west-1']);
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json).toEqual(expect.objectContaining({ pipelineName: 'other-pipeline', region: 'eu-west-1', account: f.PIPELINE_ACCOUNT }));
    expect(json.stages[1]).toEqual(
      expect.objectContaining({ name: 'Beta', status: 'Failed', revision: expect.objectContaining({ revisionId: f.SHA_CURRENT }) }),
    );
  });

  test('takes the region from AWS_REGION before the configuration', async () => {
    const r = await run(['status', '--json'], { env: { AWS_REGION: 'ap-southeast-2' } });
    expect(JSON.parse(r.stdout).region).toBe('ap-southeast-2');
  });
});

describe('retry', () => {
  test('retries the failed stage and exits 0', async () => {
    m.codepipeline.on(RetryStageExecutionCommand).resolves({ pipelineExecutionId: f.EXEC_CURRENT });
    const r = await run(['retry', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      pipelineName: f.PIPELINE,
      stageName: 'Beta',
      pipelineExecutionId: f.EXEC_CURRENT,
      retriedActions: ['SmokeTest-Beta-us-east-1'],
    });
  });

  test('refuses with one line and exit 1 when the stage has not failed', async () => {
    const r = await run(['retry', '--stage', 'Source']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('deployctl: nothing to retry: stage Source has not failed (latest status: Succeeded)\n');
    expect(m.codepipeline).not.toHaveReceivedCommand(RetryStageExecutionCommand);
  });
});

describe('rollback', () => {
  beforeEach(() => {
    m.codepipeline
      .on(ListPipelineExecutionsCommand)
      .resolves({ pipelineExecutionSummaries: [{ pipelineExecutionId: f.EXEC_PREVIOUS, status: 'Succeeded' }] });
    m.codepipeline.on(RollbackStageCommand).resolves({ pipelineExecutionId: '9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a' });
  });

  test('refuses without a terminal and without --yes', async () => {
    const r = await run(['rollback', '--stage', 'Beta'], { isTTY: false });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('deployctl: refusing to roll back without confirmation: stdin is not a terminal, pass --yes\n');
    expect(m.codepipeline).not.toHaveReceivedCommand(RollbackStageCommand);
  });

  test('asks on a terminal, and does nothing when the answer is no', async () => {
    const confirm = jest.fn(async () => false);
    const r = await run(['rollback', '--stage', 'Beta'], { isTTY: true, confirm });
    expect(confirm).toHaveBeenCalledWith('Proceed? [y/N] ');
    expect(r.stdout).toContain(`to   execution ${f.EXEC_PREVIOUS} (commit 9e8d7c6 "Fix the health check path")`);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('deployctl: rollback cancelled: nothing was changed\n');
    expect(m.codepipeline).not.toHaveReceivedCommand(RollbackStageCommand);
  });

  test('rolls back when confirmed', async () => {
    const r = await run(['rollback', '--stage', 'Beta'], { isTTY: true, confirm: async () => true });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('rollback execution 9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a');
    expect(m.codepipeline).toHaveReceivedCommandWith(RollbackStageCommand, {
      stageName: 'Beta',
      targetPipelineExecutionId: f.EXEC_PREVIOUS,
    });
  });

  test('--yes --json rolls back without asking and prints the result', async () => {
    const confirm = jest.fn(async () => false);
    const r = await run(['rollback', '--stage', 'Beta', '--to', f.EXEC_PREVIOUS, '--yes', '--json'], { confirm });
    expect(confirm).not.toHaveBeenCalled();
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(
      expect.objectContaining({ rollbackExecutionId: '9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a', stoppedDeployments: [] }),
    );
  });

  test('--stage is required', async () => {
    const r = await run(['rollback', '--yes']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("deployctl: error: required option '--stage <name>' not specified\n");
  });
});

describe('diagnose', () => {
  beforeEach(() => {
    m.codepipeline
      .on(ListPipelineExecutionsCommand)
      .resolves({ pipelineExecutionSummaries: [{ pipelineExecutionId: f.EXEC_CURRENT, status: 'Failed' }] });
  });

  test('exits 0 when it explains the failure', async () => {
    m.codepipeline.on(ListActionExecutionsCommand).resolves({
      actionExecutionDetails: [
        f.actionDetail({
          stageName: 'Source',
          actionName: 'example-org_safe-deploy',
          category: 'Source',
          provider: 'CodeStarSourceConnection',
          error: 'The provided connection is not in AVAILABLE state. Current state: PENDING.',
        }),
      ],
    });
    const r = await run(['diagnose']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Cause:   source-connection');
    expect(r.stdout).toContain('Error:   The provided connection is not in AVAILABLE state. Current state: PENDING.');
  });

  test('exits 3 and shows the raw error when it does not recognise it', async () => {
    m.codepipeline.on(ListActionExecutionsCommand).resolves({
      actionExecutionDetails: [
        f.actionDetail({
          stageName: 'Beta',
          actionName: 'Custom',
          category: 'Deploy',
          provider: 'Custom',
          error: 'Something odd happened',
        }),
      ],
    });
    const r = await run(['diagnose', '--json']);
    expect(r.code).toBe(3);
    expect(JSON.parse(r.stdout)).toEqual(expect.objectContaining({ cause: 'unknown', error: 'Something odd happened', found: true }));
  });

  test('exits 0 when there is no failure', async () => {
    m.codepipeline
      .on(ListPipelineExecutionsCommand)
      .resolves({ pipelineExecutionSummaries: [{ pipelineExecutionId: f.EXEC_CURRENT, status: 'Succeeded' }] });
    const r = await run(['diagnose']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`no failure: the latest finished execution ${f.EXEC_CURRENT} Succeeded\n`);
  });
});

describe('artifacts', () => {
  test('finds the execution of a commit and its S3 artifacts', async () => {
    m.codepipeline.on(ListPipelineExecutionsCommand).resolves({
      pipelineExecutionSummaries: [
        {
          pipelineExecutionId: f.EXEC_PREVIOUS,
          status: 'Succeeded',
          sourceRevisions: [{ actionName: 'example-org_safe-deploy', revisionId: f.SHA_PREVIOUS }],
        },
        {
          pipelineExecutionId: f.EXEC_CURRENT,
          status: 'Succeeded',
          sourceRevisions: [
            {
              actionName: 'example-org_safe-deploy',
              revisionId: f.SHA_CURRENT,
              revisionSummary: '{"ProviderType":"GitHub","CommitMessage":"Add the orders endpoint"}',
            },
          ],
        },
      ],
    });
    const synth = f.actionDetail({
      stageName: 'Build',
      actionName: 'Synth',
      category: 'Build',
      provider: 'CodeBuild',
      status: 'Succeeded',
    });
    const image = (service: string, tag: string, built: boolean) => ({
      ...f.actionDetail({
        stageName: 'Images',
        actionName: `Image-${service}`,
        category: 'Build',
        provider: 'CodeBuild',
        status: 'Succeeded',
      }),
      output: { outputVariables: { IMAGE_TAG: tag, IMAGE_BUILT: String(built), IMAGE_REPOSITORY: `safe-deploy/${service}` } },
    });
    m.codepipeline.on(ListActionExecutionsCommand).resolves({
      actionExecutionDetails: [
        {
          ...synth,
          output: {
            outputArtifacts: [
              {
                name: 'Synth_Output',
                s3location: { bucket: 'safedeploypipeline-artifactsbucket-1abc', key: 'safe-deploy-pipeline/Synth_Outp/AbC1dEf' },
              },
            ],
          },
        },
        image('storefront', 'c'.repeat(64), true),
        image('catalog', 'd'.repeat(64), false),
      ],
    });
    const r = await run(['artifacts', '--commit', f.SHA_CURRENT.slice(0, 7)]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      [
        `Commit ${f.SHA_CURRENT}: execution ${f.EXEC_CURRENT} (Succeeded)`,
        '  Build/Synth Synth_Output: s3://safedeploypipeline-artifactsbucket-1abc/safe-deploy-pipeline/Synth_Outp/AbC1dEf',
        `  image storefront: safe-deploy/storefront:${'c'.repeat(64)} (built by this commit)`,
        `  image catalog: safe-deploy/catalog:${'d'.repeat(64)} (unchanged, reused from the commit in its revision label)`,
        '',
      ].join('\n'),
    );
    expect(m.codepipeline).toHaveReceivedCommandWith(ListActionExecutionsCommand, { filter: { pipelineExecutionId: f.EXEC_CURRENT } });
  });

  test('fails when the commit is not a commit id', async () => {
    const r = await run(['artifacts', '--commit', 'main']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('deployctl: --commit "main" is not a commit id: use at least 7 hex digits, e.g. 3f9c2e1\n');
  });
});

describe('bad input and bad environments: one line on stderr, no stack trace, non-zero exit', () => {
  test('no credentials', async () => {
    m.codepipeline
      .on(GetPipelineStateCommand)
      .rejects(
        Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError', tryNextLink: false }),
      );
    expectOneLine(
      await run(['status']),
      'deployctl: no AWS credentials found: run `aws sso login` / `aws configure`, or set AWS_PROFILE (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)',
    );
  });

  test('no region (and an unusable configuration)', async () => {
    expectOneLine(
      await run(['status', '--pipeline', 'p', '--config', path.join(dir, 'missing.json')]),
      'deployctl: no AWS region: pass --region, set AWS_REGION, or set pipeline.region in safe-deploy.config.json',
      1,
    );
  });

  test('an invalid configuration without --pipeline', async () => {
    const file = path.join(dir, 'broken.json');
    const r = await run(['status', '--config', file]);
    expect(r.stderr).toMatch(
      new RegExp(
        `^deployctl: cannot tell which pipeline: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not usable \\(not valid JSON \\(.+\\): fix the syntax\\); pass --pipeline NAME\\n$`,
      ),
    );
    expect(r.code).toBe(1);
  });

  test('unknown pipeline', async () => {
    m.codepipeline
      .on(GetPipelineStateCommand)
      .rejects(
        new PipelineNotFoundException({ message: 'Account 111111111111 does not have a pipeline with name nope', $metadata: f.metadata }),
      );
    expectOneLine(
      await run(['status', '--pipeline', 'nope']),
      "deployctl: pipeline nope not found in us-east-1: check --pipeline and --region, and that your credentials are for the pipeline's account",
    );
  });

  test('unknown stage (from GetPipelineState, and as AWS reports it)', async () => {
    expectOneLine(
      await run(['retry', '--stage', 'Gamma']),
      `deployctl: stage "Gamma" is not in pipeline ${f.PIPELINE}: use one of Source, Beta`,
      1,
    );
    m.codepipeline
      .on(RetryStageExecutionCommand)
      .rejects(new StageNotFoundException({ message: 'Stage Beta not found', $metadata: f.metadata }));
    expectOneLine(
      await run(['retry', '--stage', 'Beta']),
      `deployctl: stage Beta not found in pipeline ${f.PIPELINE}: check --stage (names are case-sensitive; \`deployctl status\` lists them)`,
    );
  });

  test('access denied', async () => {
    m.codepipeline
      .on(GetPipelineStateCommand)
      .rejects(
        Object.assign(
          new Error(
            'User: arn:aws:sts::111111111111:assumed-role/ReadOnly/alice is not authorized to perform: codepipeline:GetPipelineState on resource: arn:aws:codepipeline:us-east-1:111111111111:safe-deploy-pipeline because no identity-based policy allows the codepipeline:GetPipelineState action',
          ),
          { name: 'AccessDeniedException', $metadata: { ...f.metadata, httpStatusCode: 400 } },
        ),
      );
    expectOneLine(
      await run(['status']),
      'deployctl: access denied: your credentials may not call codepipeline:GetPipelineState (AccessDeniedException); ask for that permission or use a role that has it',
    );
  });

  test('throttling is retried, then succeeds', async () => {
    const throttled = Object.assign(new Error('Rate exceeded'), {
      name: 'ThrottlingException',
      $metadata: { ...f.metadata, httpStatusCode: 400 },
    });
    m.codepipeline
      .on(GetPipelineStateCommand)
      .rejectsOnce(throttled)
      .rejectsOnce(throttled)
      .resolves(f.getPipelineStateOutput([f.stage('Source', 'Succeeded', f.EXEC_CURRENT)]));
    const r = await run(['status']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(m.codepipeline).toHaveReceivedCommandTimes(GetPipelineStateCommand, 3);
  });

  test('throttling that does not stop', async () => {
    m.codepipeline
      .on(GetPipelineStateCommand)
      .rejects(
        Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { ...f.metadata, httpStatusCode: 400 } }),
      );
    expectOneLine(
      await run(['status']),
      'deployctl: AWS is throttling requests (ThrottlingException) even after retries: wait a minute and rerun',
    );
    expect(m.codepipeline).toHaveReceivedCommandTimes(GetPipelineStateCommand, 3);
  });

  test('--debug adds the stack trace', async () => {
    m.codepipeline
      .on(GetPipelineStateCommand)
      .rejects(new PipelineNotFoundException({ message: 'no such pipeline', $metadata: f.metadata }));
    const r = await run(['status', '--pipeline', 'nope', '--debug']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^deployctl: pipeline nope not found.*\nPipelineNotFoundException: no such pipeline\n\s+at /);
  });

  test('an unknown command is a one-line usage error', async () => {
    const r = await run(['statuz']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("deployctl: error: unknown command 'statuz' (Did you mean status?)\n");
  });

  test('--help succeeds', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /Usage: deployctl \[options\] \[command\][\s\S]*status[\s\S]*retry[\s\S]*rollback[\s\S]*diagnose[\s\S]*artifacts/,
    );
  });
});

describe('more bad environments: one line, no stack trace', () => {
  test('an unknown host (ENOTFOUND) is not retried on top of the SDK', async () => {
    m.codepipeline
      .on(GetPipelineStateCommand)
      .rejects(
        Object.assign(new Error('getaddrinfo ENOTFOUND codepipeline.us-east-9.amazonaws.com'), { code: 'ENOTFOUND', $metadata: {} }),
      );
    expectOneLine(
      await run(['status']),
      'deployctl: cannot reach AWS (Error: getaddrinfo ENOTFOUND codepipeline.us-east-9.amazonaws.com): check your network, proxy and region',
    );
    expect(m.codepipeline).toHaveReceivedCommandTimes(GetPipelineStateCommand, 1);
  });

  test('an endpoint that does not answer (the SDK request timeout)', async () => {
    m.codepipeline.on(GetPipelineStateCommand).rejects(
      Object.assign(new Error('@smithy/node-http-handler - [ERROR] a request has exceeded the configured 10000 ms requestTimeout.'), {
        name: 'TimeoutError',
        code: 'ETIMEDOUT',
        $metadata: {},
      }),
    );
    expectOneLine(
      await run(['status']),
      'deployctl: AWS did not answer in time (a request has exceeded the configured 10000 ms requestTimeout.): check your network, proxy and region (and AWS_ENDPOINT_URL if set)',
    );
    expect(m.codepipeline).toHaveReceivedCommandTimes(GetPipelineStateCommand, 1);
  });

  test('a malformed API response (a TypeError inside deployctl) is one line, not a stack trace', async () => {
    m.codepipeline.on(GetPipelineStateCommand).resolves({ stageStates: [null] } as never);
    const r = await run(['status']);
    expect(oneLine(r.stderr)).toHaveLength(1);
    expect(r.stderr).toMatch(/^deployctl: internal error \(TypeError: .+\): rerun with --debug for the stack trace and report it\n$/);
    expect(r.code).toBe(2);
  });
});

describe('--json: stdout is always one JSON document, errors included; stderr keeps the one line', () => {
  const parse = (stdout: string) => JSON.parse(stdout) as { error?: { message: string; exitCode: number } };

  test.each([
    [['status', '--json', '--pipeline', 'nope'], 2],
    [['retry', '--json', '--pipeline', 'nope'], 2],
    [['diagnose', '--json', '--pipeline', 'nope'], 2],
    [['artifacts', '--json', '--pipeline', 'nope', '--commit', 'abcdef1'], 2],
    [['rollback', '--json', '--pipeline', 'nope', '--stage', 'Beta', '--yes'], 2],
  ])('%j: an AWS error', async (argv, code) => {
    const notFound = new PipelineNotFoundException({
      message: 'Account 111111111111 does not have a pipeline with name nope',
      $metadata: f.metadata,
    });
    m.codepipeline.onAnyCommand().rejects(notFound);
    const r = await run(argv as string[]);
    const message =
      "pipeline nope not found in us-east-1: check --pipeline and --region, and that your credentials are for the pipeline's account";
    expect(parse(r.stdout)).toEqual({ error: { message, exitCode: code } });
    expect(r.stderr).toBe(`deployctl: ${message}\n`);
    expect(r.code).toBe(code);
  });

  test('a refusal', async () => {
    const r = await run(['retry', '--json', '--stage', 'Source']);
    expect(parse(r.stdout)).toEqual({
      error: { message: 'nothing to retry: stage Source has not failed (latest status: Succeeded)', exitCode: 1 },
    });
    expect(oneLine(r.stderr)).toHaveLength(1);
    expect(r.code).toBe(1);
  });

  test('rollback without a terminal and without --yes', async () => {
    m.codepipeline.on(ListPipelineExecutionsCommand).resolves({ pipelineExecutionSummaries: [] });
    const r = await run(['rollback', '--json', '--stage', 'Beta', '--to', f.EXEC_PREVIOUS]);
    expect(parse(r.stdout).error).toEqual({
      message: expect.stringMatching(/^refusing to roll back without confirmation|^no earlier/),
      exitCode: 1,
    });
    expect(r.code).toBe(1);
  });

  test('a usage error (missing mandatory option)', async () => {
    const r = await run(['rollback', '--json']);
    expect(parse(r.stdout)).toEqual({ error: { message: "error: required option '--stage <name>' not specified", exitCode: 1 } });
    expect(r.stderr).toBe("deployctl: error: required option '--stage <name>' not specified\n");
    expect(r.code).toBe(1);
  });

  test('no region', async () => {
    const r = await run(['status', '--json', '--pipeline', 'p', '--config', path.join(dir, 'missing.json')]);
    expect(parse(r.stdout)).toEqual({
      error: { message: 'no AWS region: pass --region, set AWS_REGION, or set pipeline.region in safe-deploy.config.json', exitCode: 1 },
    });
    expect(r.code).toBe(1);
  });

  test('without --json an error prints nothing on stdout', async () => {
    m.codepipeline.on(GetPipelineStateCommand).rejects(new PipelineNotFoundException({ message: 'no', $metadata: f.metadata }));
    const r = await run(['status', '--pipeline', 'nope']);
    expect(r.stdout).toBe('');
    expect(r.code).toBe(2);
  });
});

describe('--help for every verb', () => {
  test.each([
    ['status', []],
    ['retry', ['--stage <name>']],
    ['rollback', ['--stage <name>', '--to <executionId>', '--yes']],
    ['diagnose', ['--execution <id>']],
    ['artifacts', ['--commit <sha>']],
  ])('%s --help lists its options and the shared ones, exits 0, calls nothing', async (verb, own) => {
    const r = await run([verb, '--help']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain(`Usage: deployctl ${verb} [options]`);
    for (const option of [...own, '--pipeline <name>', '--region <region>', '--config <file>', '--json', '--debug'])
      expect(r.stdout).toContain(option);
    expect(m.codepipeline).not.toHaveReceivedAnyCommand();
  });
});
