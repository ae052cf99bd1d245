/** `deployctl watch` through the CLI: options, exit codes, one-line errors, NDJSON, Ctrl-C. */
import 'aws-sdk-client-mock-jest';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import {
  GetPipelineCommand,
  GetPipelineExecutionCommand,
  ListActionExecutionsCommand,
  ListPipelineExecutionsCommand,
  PipelineExecutionNotFoundException,
  PipelineNotFoundException,
} from '@aws-sdk/client-codepipeline';
import { mockClient } from 'aws-sdk-client-mock';
import { main } from '../../lib/ops/cli';
import { ANSI } from '../../lib/ops/watch-render';
import { examplePipeline } from '../lifecycle/fixture';
import { CLI_FIXTURE_ENV } from '../support/fixtures';
import { pipelineDeclaration } from '../support/pipeline-aws';
import * as f from './fixtures';

const T0 = Date.parse('2026-11-03T14:00:00Z');

async function run(argv: string[], extra: { tty?: boolean; onSleep?: (n: number) => void } = {}) {
  const out: string[] = [];
  const err: string[] = [];
  let clock = T0;
  let sleeps = 0;
  const code = await main(argv, {
    clients: f.clients(),
    stdout: Object.assign({ write: (s: string) => out.push(s) }, extra.tty ? { isTTY: true, columns: 120, rows: 40 } : {}),
    stderr: { write: (s: string) => err.push(s) },
    env: CLI_FIXTURE_ENV,
    now: () => clock,
    sleep: async (ms: number) => {
      clock += ms;
      extra.onSleep?.(++sleeps);
    },
  });
  return { code, stdout: out.join(''), stderr: err.join('') };
}

const actions = (status: 'Succeeded' | 'InProgress' = 'Succeeded') => ({
  actionExecutionDetails: [
    f.actionDetail({
      stageName: 'Source',
      actionName: 'example-org_safe-deploy',
      category: 'Source',
      provider: 'CodeStarSourceConnection',
      status: 'Succeeded',
      lastUpdateTime: '2026-11-02T10:05:30Z',
    }),
    {
      ...f.actionDetail({ stageName: 'Build', actionName: 'Synth', category: 'Build', provider: 'CodeBuild', status: 'Succeeded' }),
      status: status as 'Succeeded',
    },
  ],
});

let m: f.Mocks & { cloudwatch: ReturnType<typeof mockClient> };
beforeEach(() => {
  m = { ...f.mocks(), cloudwatch: mockClient(CloudWatchClient) };
  // The first two stages of the example's pipeline keep these tests about the CLI; watch.test.ts plays whole releases.
  const declaration = pipelineDeclaration(examplePipeline(), 7);
  m.codepipeline
    .on(GetPipelineCommand)
    .resolves({ ...declaration, pipeline: { ...declaration.pipeline!, stages: declaration.pipeline!.stages!.slice(0, 2) } });
  m.codepipeline
    .on(ListPipelineExecutionsCommand)
    .resolves({ pipelineExecutionSummaries: [{ pipelineExecutionId: f.EXEC_CURRENT, status: 'Succeeded' }] });
  m.codepipeline
    .on(GetPipelineExecutionCommand)
    .resolves(f.execution(f.EXEC_CURRENT, f.SHA_CURRENT, 'Add the orders endpoint', 'Succeeded'));
  m.codepipeline.on(ListActionExecutionsCommand).resolves(actions());
});
afterEach(() => Object.values(m).forEach((x) => x.restore()));

const parseLines = (stdout: string) =>
  stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('deployctl watch', () => {
  test('--json on an execution that already succeeded: the events, one per line, then exit 0', async () => {
    const r = await run(['watch', '--json']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const events = parseLines(r.stdout);
    expect(events.map((e) => e.type)).toEqual(['start', 'stage', 'stage', 'end']);
    expect(events[0]).toEqual({
      type: 'start',
      time: '2026-11-03T14:00:00.000Z',
      executionId: f.EXEC_CURRENT,
      pipelineName: f.PIPELINE,
      region: f.REGION,
      status: 'Succeeded',
      revision: { id: f.SHA_CURRENT, summary: 'Add the orders endpoint' },
      stages: ['Source', 'Build'],
    });
    expect(events[1]).toEqual({
      type: 'stage',
      time: '2026-11-03T14:00:00.000Z',
      executionId: f.EXEC_CURRENT,
      stage: 'Source',
      status: 'Succeeded',
      elapsedSeconds: 30,
    });
    expect(events[3]).toEqual({
      type: 'end',
      time: '2026-11-03T14:00:00.000Z',
      executionId: f.EXEC_CURRENT,
      outcome: 'Succeeded',
      status: 'Succeeded',
      exitCode: 0,
    });
    // The latest execution, then that execution's actions.
    expect(m.codepipeline).toHaveReceivedCommandWith(ListPipelineExecutionsCommand, { pipelineName: f.PIPELINE, maxResults: 10 });
    expect(m.codepipeline).toHaveReceivedCommandWith(ListActionExecutionsCommand, { filter: { pipelineExecutionId: f.EXEC_CURRENT } });
  });

  test('--execution superseded by another commit: exit 6, says by which execution', async () => {
    m.codepipeline
      .on(GetPipelineExecutionCommand)
      .resolves(f.execution(f.EXEC_CURRENT, f.SHA_CURRENT, 'Add the orders endpoint', 'Superseded'));
    m.codepipeline.on(ListPipelineExecutionsCommand).resolves({
      pipelineExecutionSummaries: [
        {
          pipelineExecutionId: f.EXEC_PREVIOUS,
          status: 'InProgress',
          sourceRevisions: [{ actionName: 'example-org_safe-deploy', revisionId: f.SHA_PREVIOUS }],
        },
        {
          pipelineExecutionId: f.EXEC_CURRENT,
          status: 'Superseded',
          sourceRevisions: [{ actionName: 'example-org_safe-deploy', revisionId: f.SHA_CURRENT }],
        },
      ],
    });
    const r = await run(['watch', '--execution', f.EXEC_CURRENT]);
    expect(r.code).toBe(6);
    expect(r.stdout.trimEnd().split('\n').pop()).toBe(
      `14:00:00Z execution ${f.EXEC_CURRENT} Superseded by execution ${f.EXEC_PREVIOUS} (exit 6)`,
    );
    expect(m.codepipeline).toHaveReceivedCommandWith(GetPipelineExecutionCommand, { pipelineExecutionId: f.EXEC_CURRENT });
  });

  test('a stopped execution: exit 5', async () => {
    m.codepipeline
      .on(GetPipelineExecutionCommand)
      .resolves(f.execution(f.EXEC_CURRENT, f.SHA_CURRENT, 'Add the orders endpoint', 'Stopped'));
    const r = await run(['watch', '--json', '--execution', f.EXEC_CURRENT]);
    expect(r.code).toBe(5);
    expect(parseLines(r.stdout).pop()).toEqual(
      expect.objectContaining({ type: 'end', outcome: 'Stopped', status: 'Stopped', exitCode: 5 }),
    );
  });

  test('follows an execution in progress until it ends, reading once per --interval', async () => {
    m.codepipeline
      .on(GetPipelineExecutionCommand)
      .resolvesOnce(f.execution(f.EXEC_CURRENT, f.SHA_CURRENT, 'Add the orders endpoint', 'InProgress'))
      .resolvesOnce(f.execution(f.EXEC_CURRENT, f.SHA_CURRENT, 'Add the orders endpoint', 'InProgress'))
      .resolves(f.execution(f.EXEC_CURRENT, f.SHA_CURRENT, 'Add the orders endpoint', 'Succeeded'));
    m.codepipeline
      .on(ListActionExecutionsCommand)
      .resolvesOnce(actions('InProgress'))
      .resolvesOnce(actions('InProgress'))
      .resolves(actions());
    const r = await run(['watch', '--interval', '30']);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')).toEqual([
      `14:00:00Z watching execution ${f.EXEC_CURRENT} of ${f.PIPELINE} (3f9c2e1 "Add the orders endpoint"): InProgress`,
      '14:00:00Z Source: Succeeded after 0:30',
      '14:00:00Z Build: InProgress',
      '14:01:00Z Build: Succeeded after 15:00',
      `14:01:00Z execution ${f.EXEC_CURRENT} Succeeded (exit 0)`,
      '',
    ]);
    expect(m.codepipeline).toHaveReceivedCommandTimes(GetPipelineExecutionCommand, 3);
    expect(m.codepipeline).toHaveReceivedCommandTimes(GetPipelineCommand, 1);
  });

  test('--interval outside 5..300 seconds is refused with one line, exit 1', async () => {
    const r = await run(['watch', '--interval', '1']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('deployctl: --interval "1" is not a number of seconds from 5 to 300 (e.g. --interval 15)\n');
    expect(m.codepipeline).not.toHaveReceivedAnyCommand();
  });

  test("a pipeline that does not exist: the CLI's one line, exit 2, and an error event with --json", async () => {
    m.codepipeline
      .on(ListPipelineExecutionsCommand)
      .rejects(
        new PipelineNotFoundException({ message: 'Account 111111111111 does not have a pipeline with name nope', $metadata: f.metadata }),
      );
    const r = await run(['watch', '--json', '--pipeline', 'nope']);
    expect(r.code).toBe(2);
    const message =
      "pipeline nope not found in us-east-1: check --pipeline and --region, and that your credentials are for the pipeline's account";
    expect(r.stderr).toBe(`deployctl: ${message}\n`);
    expect(parseLines(r.stdout)).toEqual([{ type: 'error', time: '2026-11-03T14:00:00.000Z', executionId: '', message, exitCode: 2 }]);
  });

  test('an execution that does not exist: one line, exit 2', async () => {
    m.codepipeline
      .on(GetPipelineExecutionCommand)
      .rejects(new PipelineExecutionNotFoundException({ message: "Pipeline execution with id 'nope' not found", $metadata: f.metadata }));
    const r = await run(['watch', '--execution', 'nope']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`deployctl: execution not found in pipeline ${f.PIPELINE}: Pipeline execution with id 'nope' not found\n`);
  });

  test('a pipeline without executions: one line, exit 1', async () => {
    m.codepipeline.on(ListPipelineExecutionsCommand).resolves({ pipelineExecutionSummaries: [] });
    const r = await run(['watch']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `deployctl: ${f.PIPELINE} has no execution to watch yet: push a commit, or start one with \`aws codepipeline start-pipeline-execution --name ${f.PIPELINE}\`\n`,
    );
  });

  test('credentials that expire mid-watch end it: cursor restored, one line, exit 2', async () => {
    m.codepipeline
      .on(GetPipelineExecutionCommand)
      .resolvesOnce(f.execution(f.EXEC_CURRENT, f.SHA_CURRENT, 'Add the orders endpoint', 'InProgress'))
      .rejects(
        Object.assign(new Error('The security token included in the request is expired'), {
          name: 'ExpiredTokenException',
          $metadata: { ...f.metadata, httpStatusCode: 400 },
        }),
      );
    m.codepipeline.on(ListActionExecutionsCommand).resolves(actions('InProgress'));
    const r = await run(['watch'], { tty: true });
    expect(r.code).toBe(2);
    expect(r.stdout.startsWith(ANSI.hideCursor)).toBe(true);
    expect(r.stdout.endsWith(ANSI.showCursor)).toBe(true);
    expect(r.stderr).toBe(
      'deployctl: your AWS credentials have expired (ExpiredTokenException): sign in again (e.g. `aws sso login`) and rerun\n',
    );
  });

  test('an endpoint it cannot reach before the first answer fails fast (no endless retrying), exit 2', async () => {
    m.codepipeline
      .on(ListPipelineExecutionsCommand)
      .rejects(
        Object.assign(new Error('getaddrinfo ENOTFOUND codepipeline.us-east-9.amazonaws.com'), { code: 'ENOTFOUND', $metadata: {} }),
      );
    const r = await run(['watch']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'deployctl: cannot reach AWS (Error: getaddrinfo ENOTFOUND codepipeline.us-east-9.amazonaws.com): check your network, proxy and region\n',
    );
    expect(m.codepipeline).toHaveReceivedCommandTimes(ListPipelineExecutionsCommand, 1);
  });

  test('Ctrl-C: exit 130, cursor shown again, the SIGINT handler removed', async () => {
    m.codepipeline
      .on(GetPipelineExecutionCommand)
      .resolves(f.execution(f.EXEC_CURRENT, f.SHA_CURRENT, 'Add the orders endpoint', 'InProgress'));
    m.codepipeline.on(ListActionExecutionsCommand).resolves(actions('InProgress'));
    const listeners = process.listenerCount('SIGINT');
    const r = await run(['watch'], { tty: true, onSleep: (n) => n === 20 && process.emit('SIGINT') });
    expect(r.code).toBe(130);
    expect(r.stderr).toBe('');
    expect(r.stdout.endsWith(ANSI.showCursor)).toBe(true);
    expect(r.stdout).toContain(`stopped watching (Ctrl-C); the release goes on: deployctl watch --execution ${f.EXEC_CURRENT}`);
    expect(process.listenerCount('SIGINT')).toBe(listeners);
  });

  test('--help lists its options', async () => {
    const r = await run(['watch', '--help']);
    expect(r.code).toBe(0);
    for (const option of ['--execution <id>', '--interval <seconds>', '--json', '--pipeline <name>', '--region <region>'])
      expect(r.stdout).toContain(option);
    expect(r.stdout.replace(/\s+/g, ' ')).toContain('exit 0 if it succeeds, 4 failed, 5 stopped, 6 superseded, 130 Ctrl-C');
  });
});
