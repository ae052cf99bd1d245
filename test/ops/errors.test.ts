import { DescribeStackEventsCommand } from '@aws-sdk/client-cloudformation';
import { StopDeploymentCommand } from '@aws-sdk/client-codedeploy';
import { GetPipelineStateCommand } from '@aws-sdk/client-codepipeline';
import { describeError, exitCodeOf } from '../../lib/ops/errors';
import type { OpsClients } from '../../lib/runtime/clients';
import { OpsError } from '../../lib/runtime/context';
import { awsJsonError, errorFor, htmlPage } from '../support/http-answers';

const err = (name: string, message: string, extra: object = {}) => Object.assign(new Error(message), { name, ...extra });

test.each([
  [
    err('ExpiredTokenException', 'The security token included in the request is expired'),
    'your AWS credentials have expired (ExpiredTokenException): sign in again (e.g. `aws sso login`) and rerun',
  ],
  [
    err('UnrecognizedClientException', 'The security token included in the request is invalid.'),
    'AWS rejected the credentials (UnrecognizedClientException: The security token included in the request is invalid.): check AWS_PROFILE or your access keys',
  ],
  [err('AccessDeniedException', 'Access denied\nsecond line'), 'access denied (AccessDeniedException): Access denied'],
  [
    err('Error', 'getaddrinfo ENOTFOUND codepipeline.us-east-9.amazonaws.com', { code: 'ENOTFOUND' }),
    'cannot reach AWS (Error: getaddrinfo ENOTFOUND codepipeline.us-east-9.amazonaws.com): check your network, proxy and region',
  ],
  [
    err('InternalServerException', 'Internal failure', { $metadata: { httpStatusCode: 500 } }),
    'AWS had a temporary problem (InternalServerException: Internal failure) even after retries: rerun',
  ],
  [
    err('UnableToRollbackStageException', 'Unable to roll back stage Beta: the stage is in progress.'),
    'AWS refused (UnableToRollbackStageException): Unable to roll back stage Beta: the stage is in progress.',
  ],
  [err('SomethingNew', 'first line\n    at stack'), 'SomethingNew: first line'],
  [
    err('TimeoutError', '@smithy/node-http-handler - [ERROR] a request has exceeded the configured 10000 ms requestTimeout.', {
      code: 'ETIMEDOUT',
    }),
    'AWS did not answer in time (a request has exceeded the configured 10000 ms requestTimeout.): check your network, proxy and region (and AWS_ENDPOINT_URL if set)',
  ],
  [
    err('TimeoutError', 'Socket timed out without establishing a connection within 3000 ms'),
    'AWS did not answer in time (Socket timed out without establishing a connection within 3000 ms): check your network, proxy and region (and AWS_ENDPOINT_URL if set)',
  ],
  [
    err('Error', 'connect ECONNREFUSED 127.0.0.1:9', { code: 'ECONNREFUSED' }),
    'cannot reach AWS (Error: connect ECONNREFUSED 127.0.0.1:9): check your network, proxy and region',
  ],
  [
    new TypeError("Cannot read properties of undefined (reading 'map')"),
    "internal error (TypeError: Cannot read properties of undefined (reading 'map')): rerun with --debug for the stack trace and report it",
  ],
  [
    err('ThrottlingException', 'Rate exceeded', { $metadata: { httpStatusCode: 400 } }),
    'AWS is throttling requests (ThrottlingException) even after retries: wait a minute and rerun',
  ],
  [err('Error', 'Region is missing'), 'no AWS region: pass --region, set AWS_REGION, or set pipeline.region in safe-deploy.config.json'],
])('describes %p on one line', (e, line) => {
  expect(describeError(e)).toBe(line);
});

test('refusals exit 1, AWS errors exit 2', () => {
  expect(exitCodeOf(new OpsError('refused', 'no'))).toBe(1);
  expect(exitCodeOf(err('ThrottlingException', 'Rate exceeded'))).toBe(2);
});

describe('answers that did not come from the AWS API, as the SDK itself surfaces them', () => {
  const getState = (c: OpsClients) => c.codepipeline.send(new GetPipelineStateCommand({ name: 'safe-deploy-pipeline' }));
  const stop = (c: OpsClients) => c.codedeploy.send(new StopDeploymentCommand({ deploymentId: 'd-ABCDEF123', autoRollbackEnabled: true }));
  const events = (c: OpsClients) => c.cloudformation.send(new DescribeStackEventsCommand({ StackName: 'Prod-us-east-1-greeting-web' }));
  const HTML =
    /^AWS did not answer: HTTP (\d{3}) came back as an HTML page, most likely from a proxy, firewall or captive portal in between: check HTTPS_PROXY \/ NO_PROXY, AWS_ENDPOINT_URL and your network, then rerun$/;

  test.each([
    ['CodePipeline (JSON), HTTP 502', getState, htmlPage(502), '502'],
    ['CodeDeploy (JSON), HTTP 403', stop, htmlPage(403, 'Access blocked'), '403'],
    ['a captive portal answering HTTP 200', getState, htmlPage(200, 'Sign in to the hotel Wi-Fi'), '200'],
    ['CloudFormation (XML), HTTP 502', events, htmlPage(502), '502'],
  ])('an HTML page: %s', async (_what, send, answer, status) => {
    const e = await errorFor(send, answer);
    // What the SDK makes of it (so the test notices when a new SDK changes the shape).
    expect((e as Error).name).toMatch(/^(SyntaxError|Unknown)$/);
    const line = describeError(e);
    expect(line).toMatch(HTML);
    expect(line).toContain(`HTTP ${status}`);
    expect(line).not.toMatch(/SyntaxError|Unknown|Deserialization/);
  });

  test.each([
    ['CodePipeline, HTTP 400', getState, 400],
    ['CodeDeploy, HTTP 403', stop, 403],
    ['CloudFormation, HTTP 400', events, 400],
  ])('an empty error body: %s', async (_what, send, status) => {
    const e = await errorFor(send, { status, body: '' });
    expect((e as Error).name).toBe('Unknown');
    expect(describeError(e)).toBe(
      `the request was refused with HTTP ${status} and an empty error (no code, no message), which usually comes from a proxy or an endpoint that is not AWS: check HTTPS_PROXY, AWS_ENDPOINT_URL and your network`,
    );
  });

  test('an empty error body with a 5xx: temporary', async () => {
    const e = await errorFor(getState, { status: 503, body: '' });
    expect(describeError(e)).toBe(
      'AWS answered HTTP 503 with an empty error (no code, no message), even after retries: a temporary problem at AWS or in a proxy in between; rerun in a minute',
    );
  });

  test('a JSON error without an error code ("Unknown: UnknownError")', async () => {
    const e = await errorFor(stop, { status: 400, body: '{"reason":"blocked"}', headers: { 'content-type': 'application/json' } });
    expect(`${(e as Error).name}: ${(e as Error).message}`).toBe('Unknown: UnknownError');
    expect(describeError(e)).toMatch(/^the request was refused with HTTP 400 and an empty error/);
  });

  test('a body the XML parser cannot read', async () => {
    const e = await errorFor(events, { status: 400, body: '{"message":"not XML"}', headers: { 'content-type': 'application/json' } });
    expect(describeError(e)).toBe(
      "AWS's answer (HTTP 400) could not be read (@aws-sdk XML parse error: unexpected content.): check AWS_ENDPOINT_URL and any proxy in between; rerun with --debug to see the response",
    );
  });

  test('a real AWS error still reads as AWS wrote it', async () => {
    const e = await errorFor(
      stop,
      awsJsonError('DeploymentAlreadyCompletedException', 'The deployment d-ABCDEF123 has already completed.'),
    );
    expect(describeError(e)).toBe('AWS refused (DeploymentAlreadyCompletedException): The deployment d-ABCDEF123 has already completed.');
  });

  test.each([
    [
      Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }),
      'cannot reach AWS (Error: socket hang up): check your network, proxy and region',
    ],
    [
      Object.assign(new Error('self-signed certificate in certificate chain'), { code: 'SELF_SIGNED_CERT_IN_CHAIN' }),
      'the TLS connection to AWS failed its certificate check (SELF_SIGNED_CERT_IN_CHAIN: self-signed certificate in certificate chain): a proxy that inspects TLS needs its CA certificate, e.g. NODE_EXTRA_CA_CERTS=/path/to/proxy-ca.pem',
    ],
    [
      Object.assign(new Error('connect ETIMEDOUT 52.94.0.1:443'), { code: 'ETIMEDOUT' }),
      'cannot reach AWS (Error: connect ETIMEDOUT 52.94.0.1:443): check your network, proxy and region',
    ],
  ])('a network failure thrown by the HTTP layer: %p', async (thrown, line) => {
    const e = await errorFor(getState, { throws: thrown });
    expect(describeError(e)).toBe(line);
  });
});
