/**
 * `deployctl rollback` while CodeDeploy and CodePipeline act on their own, and deployctl meeting
 * answers that are not AWS's: through the CLI entry, each ends in the exit code and, for a
 * refusal or an error, exactly one line on stderr.
 */
import 'aws-sdk-client-mock-jest';
import { ListStackResourcesCommand } from '@aws-sdk/client-cloudformation';
import {
  GetDeploymentCommand,
  DeploymentAlreadyCompletedException,
  StopDeploymentCommand,
  ListDeploymentsCommand,
  ListDeploymentTargetsCommand,
} from '@aws-sdk/client-codedeploy';
import {
  GetPipelineCommand,
  GetPipelineExecutionCommand,
  GetPipelineStateCommand,
  ListPipelineExecutionsCommand,
  RollbackStageCommand,
} from '@aws-sdk/client-codepipeline';
import { CliDeps, main } from '../../lib/ops/cli';
import type { OpsClients } from '../../lib/runtime/clients';
import * as f from '../ops/fixtures';
import { answeringClients, awsJsonError, HttpAnswer, htmlPage } from '../support/http-answers';

const BETA_LAMBDA = 'Beta-us-east-1-LambdaService';
const group = f.names(BETA_LAMBDA, 'lambda');
const ROLLBACK_EXEC = '4e3d2c1b-0a9f-4e8d-b7c6-5a4f3e2d1c0b';

async function run(argv: string[], clients: OpsClients = f.clients(), extra: Partial<CliDeps> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  // The pipeline and region are explicit: tests never read safe-deploy.config.json.
  const code = await main([...argv, '--pipeline', f.PIPELINE, '--region', f.REGION], {
    clients,
    stdout: { write: (s: string) => out.push(s) },
    stderr: { write: (s: string) => err.push(s) },
    isTTY: false,
    env: {},
    sleep: async () => undefined,
    ...extra,
  });
  return { code, stdout: out.join(''), stderr: err.join('') };
}
const lines = (s: string) => s.split('\n').filter(Boolean);
/** Exactly one line on stderr, no stack trace, nothing on stdout, and the exit code. */
function expectOneLine(r: { code: number; stdout: string; stderr: string }, line: string | RegExp, code: number) {
  expect(lines(r.stderr)).toHaveLength(1);
  if (typeof line === 'string') expect(r.stderr).toBe(`deployctl: ${line}\n`);
  else expect(r.stderr).toMatch(line);
  expect(r.stderr).not.toMatch(/\n\s+at |SyntaxError|UnknownError|Deserialization/);
  expect(r.stdout).toBe('');
  expect(r.code).toBe(code);
}

describe('rollback racing CodeDeploy', () => {
  let m: f.Mocks;
  beforeEach(() => {
    m = f.mocks();
    m.codepipeline.on(GetPipelineCommand).resolves(f.getPipelineOutput());
    m.codepipeline
      .on(GetPipelineExecutionCommand, { pipelineExecutionId: f.EXEC_CURRENT })
      .resolves(f.execution(f.EXEC_CURRENT, f.SHA_CURRENT, 'Add the orders endpoint', 'InProgress'));
    m.codepipeline
      .on(GetPipelineExecutionCommand, { pipelineExecutionId: f.EXEC_PREVIOUS })
      .resolves(f.execution(f.EXEC_PREVIOUS, f.SHA_PREVIOUS, 'Fix the health check path'));
    m.codepipeline
      .on(ListPipelineExecutionsCommand)
      .resolves({ pipelineExecutionSummaries: [{ pipelineExecutionId: f.EXEC_PREVIOUS, status: 'Succeeded', executionType: 'STANDARD' }] });
    m.codepipeline.on(RollbackStageCommand).resolves({ pipelineExecutionId: '9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a' });
    m.cloudformation.on(ListStackResourcesCommand, { StackName: BETA_LAMBDA }).resolves(f.stackResources(BETA_LAMBDA, 'lambda'));
    m.cloudformation.on(ListStackResourcesCommand, { StackName: 'Beta-us-east-1-EcsService' }).resolves({ StackResourceSummaries: [] });
    m.codedeploy.on(ListDeploymentsCommand).resolves({ deployments: ['d-LAMBDA001'] });
    m.codedeploy.on(ListDeploymentTargetsCommand).resolves({ targetIds: [] });
    // Planned while in progress; ended by the time deployctl stops it.
    m.codedeploy
      .on(GetDeploymentCommand)
      .resolvesOnce({ deploymentInfo: { ...group, deploymentId: 'd-LAMBDA001', status: 'InProgress' } })
      .resolves({
        deploymentInfo: {
          ...group,
          deploymentId: 'd-LAMBDA001',
          status: 'Stopped',
          errorInformation: {
            code: 'ALARM_ACTIVE',
            message: 'One or more alarms have been activated ... Activated alarms: <Beta-us-east-1-greeting-api-ErrorRate>',
          },
        },
      });
    m.codedeploy
      .on(StopDeploymentCommand)
      .rejects(
        new DeploymentAlreadyCompletedException({ message: 'The deployment d-LAMBDA001 has already completed.', $metadata: f.metadata }),
      );
  });
  afterEach(() => Object.values(m).forEach((x) => x.restore()));
  /** The stage runs when deployctl plans, and has failed once the deployment is stopped. */
  const runningThenFailed = () =>
    m.codepipeline
      .on(GetPipelineStateCommand)
      .resolvesOnce(f.getPipelineStateOutput([f.stage('Beta', 'InProgress', f.EXEC_CURRENT)]))
      .resolves(f.getPipelineStateOutput([f.stage('Beta', 'Failed', f.EXEC_CURRENT)]));

  test('CodeDeploy rolled back first: says so, rolls the stage back, exits 0', async () => {
    runningThenFailed();
    const r = await run(['rollback', '--stage', 'Beta', '--yes']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(lines(r.stdout)).toEqual([
      'CodeDeploy deployment d-LAMBDA001 had already ended before it could be stopped: Stopped. CodeDeploy had already stopped (alarm Beta-us-east-1-greeting-api-ErrorRate went into ALARM); traffic is back on the previous version.',
      `Rolling back stage Beta to execution ${f.EXEC_PREVIOUS} (commit 9e8d7c6 "Fix the health check path"): rollback execution 9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a.`,
      `Follow it with: deployctl status --pipeline ${f.PIPELINE}`,
    ]);
    expect(m.codepipeline).toHaveReceivedCommandWith(RollbackStageCommand, {
      stageName: 'Beta',
      targetPipelineExecutionId: f.EXEC_PREVIOUS,
    });
  });

  test('--json carries what happened to each deployment', async () => {
    runningThenFailed();
    const r = await run(['rollback', '--stage', 'Beta', '--yes', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(
      expect.objectContaining({
        startedBy: 'deployctl',
        stoppedDeployments: [expect.objectContaining({ deploymentId: 'd-LAMBDA001', outcome: 'already-ended', status: 'Stopped' })],
      }),
    );
  });

  test('CodeDeploy contradicts itself: refuses on one line, exit 1, no stage rollback', async () => {
    runningThenFailed();
    m.codedeploy.on(GetDeploymentCommand).resolves({ deploymentInfo: { ...group, deploymentId: 'd-LAMBDA001', status: 'InProgress' } });
    expectOneLine(
      await run(['rollback', '--stage', 'Beta', '--yes']),
      'CodeDeploy says deployment d-LAMBDA001 has completed but reports it InProgress: nothing was rolled back yet; run the rollback again in a minute',
      1,
    );
    expect(m.codepipeline).not.toHaveReceivedCommand(RollbackStageCommand);
  });

  test('CodePipeline is already rolling the stage back: refuses on one line, exit 1', async () => {
    m.codepipeline.on(GetPipelineStateCommand).resolves(
      f.getPipelineStateOutput([
        {
          ...f.stage('Beta', 'InProgress', ROLLBACK_EXEC),
          latestExecution: { pipelineExecutionId: ROLLBACK_EXEC, status: 'InProgress', type: 'ROLLBACK' },
        },
      ]),
    );
    m.codepipeline.on(GetPipelineExecutionCommand, { pipelineExecutionId: ROLLBACK_EXEC }).resolves({
      pipelineExecution: {
        pipelineExecutionId: ROLLBACK_EXEC,
        status: 'InProgress',
        executionType: 'ROLLBACK',
        rollbackMetadata: { rollbackTargetPipelineExecutionId: f.EXEC_PREVIOUS },
      },
    });
    expectOneLine(
      await run(['rollback', '--stage', 'Beta', '--yes']),
      `stage Beta is already rolling back to execution ${f.EXEC_PREVIOUS} (rollback execution ${ROLLBACK_EXEC}): nothing to do; follow it with \`deployctl watch --execution ${ROLLBACK_EXEC}\``,
      1,
    );
    expect(m.codedeploy).not.toHaveReceivedCommand(StopDeploymentCommand);
  });

  test('the pipeline changed since the last good execution: refuses on one line, exit 1', async () => {
    runningThenFailed();
    const previous = f.execution(f.EXEC_PREVIOUS, f.SHA_PREVIOUS, 'Fix the health check path');
    m.codepipeline
      .on(GetPipelineExecutionCommand, { pipelineExecutionId: f.EXEC_PREVIOUS })
      .resolves({ pipelineExecution: { ...previous.pipelineExecution, pipelineVersion: 6 } });
    expectOneLine(
      await run(['rollback', '--stage', 'Beta', '--yes']),
      /^deployctl: stage rollback is not possible: execution \S+ ran pipeline version 6 and the pipeline is now version 7; .* revert the change \(to commit 9e8d7c6\) and push\n$/,
      1,
    );
    expect(m.codedeploy).not.toHaveReceivedCommand(StopDeploymentCommand);
  });
});

describe('answers that are not AWS answers, through real SDK clients', () => {
  /** A pipeline whose reads succeed and whose StopDeployment meets `stop`. */
  function pipelineAnd(stop: HttpAnswer) {
    const state = f.getPipelineStateOutput([f.stage('Beta', 'InProgress', f.EXEC_CURRENT)]);
    const json = (body: unknown): HttpAnswer => ({
      status: 200,
      body: JSON.stringify(body),
      headers: { 'content-type': 'application/x-amz-json-1.1' },
    });
    return answeringClients((request) => {
      const target = String((request as { headers?: Record<string, string> }).headers?.['x-amz-target'] ?? '');
      if (target.endsWith('.StopDeployment')) return stop;
      if (target.endsWith('.GetPipelineState')) return json({ ...state, created: undefined, updated: undefined });
      if (target.endsWith('.GetPipeline'))
        return json({
          pipeline: { ...f.getPipelineOutput().pipeline },
          metadata: { pipelineArn: `arn:aws:codepipeline:us-east-1:${f.PIPELINE_ACCOUNT}:${f.PIPELINE}` },
        });
      if (target.endsWith('.GetPipelineExecution')) return json(f.execution(f.EXEC_PREVIOUS, f.SHA_PREVIOUS, 'Fix the health check path'));
      if (target.endsWith('.ListPipelineExecutions'))
        return json({ pipelineExecutionSummaries: [{ pipelineExecutionId: f.EXEC_PREVIOUS, status: 'Succeeded' }] });
      if (target.endsWith('.ListDeployments')) return json({ deployments: ['d-LAMBDA001'] });
      if (target.endsWith('.GetDeployment'))
        return json({ deploymentInfo: { ...group, deploymentId: 'd-LAMBDA001', status: 'InProgress' } });
      if (target.endsWith('.ListDeploymentTargets')) return json({ targetIds: [] });
      // CloudFormation (query protocol): every stack lists the Beta Lambda stack's deployment group.
      return {
        status: 200,
        headers: { 'content-type': 'text/xml' },
        body: `<ListStackResourcesResponse><ListStackResourcesResult><StackResourceSummaries><member><ResourceType>AWS::CodeDeploy::DeploymentGroup</ResourceType><PhysicalResourceId>${group.deploymentGroupName}</PhysicalResourceId><LogicalResourceId>G</LogicalResourceId><ResourceStatus>CREATE_COMPLETE</ResourceStatus><LastUpdatedTimestamp>2026-10-01T09:10:00Z</LastUpdatedTimestamp></member><member><ResourceType>AWS::CodeDeploy::Application</ResourceType><PhysicalResourceId>${group.applicationName}</PhysicalResourceId><LogicalResourceId>A</LogicalResourceId><ResourceStatus>CREATE_COMPLETE</ResourceStatus><LastUpdatedTimestamp>2026-10-01T09:10:00Z</LastUpdatedTimestamp></member></StackResourceSummaries></ListStackResourcesResult></ListStackResourcesResponse>`,
      };
    });
  }

  test('status through a proxy that answers with its own HTML page: exit 2, one line', async () => {
    expectOneLine(
      await run(['status'], answeringClients(htmlPage(403, 'Blocked by policy'))),
      'AWS did not answer: HTTP 403 came back as an HTML page, most likely from a proxy, firewall or captive portal in between: check HTTPS_PROXY / NO_PROXY, AWS_ENDPOINT_URL and your network, then rerun',
      2,
    );
  });

  test('an empty error body: exit 2, one line (with --json too)', async () => {
    const r = await run(['status', '--json'], answeringClients({ status: 400, body: '' }));
    const message =
      'the request was refused with HTTP 400 and an empty error (no code, no message), which usually comes from a proxy or an endpoint that is not AWS: check HTTPS_PROXY, AWS_ENDPOINT_URL and your network';
    expect(r.stderr).toBe(`deployctl: ${message}\n`);
    expect(JSON.parse(r.stdout)).toEqual({ error: { message, exitCode: 2 } });
    expect(r.code).toBe(2);
  });

  test('--debug adds the stack and the raw HTTP answer', async () => {
    const r = await run(['status', '--debug'], answeringClients(htmlPage(502)));
    expect(r.stderr).toMatch(
      /^deployctl: AWS did not answer: HTTP 502 came back as an HTML page[^\n]*\nSyntaxError: [\s\S]*\n\s+at [\s\S]*\nresponse: HTTP 502 \{"content-type":"text\/html; charset=utf-8"\}\n$/,
    );
  });

  test('rollback whose StopDeployment meets the proxy page: exit 2, one line, no stage rollback', async () => {
    const clients = pipelineAnd(htmlPage(502));
    const r = await run(['rollback', '--stage', 'Beta', '--yes'], clients);
    expectOneLine(r, /^deployctl: AWS did not answer: HTTP 502 came back as an HTML page/, 2);
  });

  test('rollback whose StopDeployment says the deployment already completed, as AWS sends it', async () => {
    const clients = pipelineAnd(awsJsonError('DeploymentAlreadyCompletedException', 'The deployment d-LAMBDA001 has already completed.'));
    // GetDeployment (read after the refusal) still says InProgress in this stub: CodeDeploy contradicts itself.
    expectOneLine(
      await run(['rollback', '--stage', 'Beta', '--yes'], clients),
      'CodeDeploy says deployment d-LAMBDA001 has completed but reports it InProgress: nothing was rolled back yet; run the rollback again in a minute',
      1,
    );
  });
});
