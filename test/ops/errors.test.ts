import { OpsError } from '../../lib/ops/context';
import { describeError, exitCodeOf } from '../../lib/ops/errors';

const err = (name: string, message: string, extra: object = {}) => Object.assign(new Error(message), { name, ...extra });

test.each([
  [err('ExpiredTokenException', 'The security token included in the request is expired'), 'your AWS credentials have expired (ExpiredTokenException): sign in again (e.g. `aws sso login`) and rerun'],
  [err('UnrecognizedClientException', 'The security token included in the request is invalid.'), 'AWS rejected the credentials (UnrecognizedClientException: The security token included in the request is invalid.): check AWS_PROFILE or your access keys'],
  [err('AccessDeniedException', 'Access denied\nsecond line'), 'access denied (AccessDeniedException): Access denied'],
  [err('Error', 'getaddrinfo ENOTFOUND codepipeline.us-east-9.amazonaws.com', { code: 'ENOTFOUND' }), 'cannot reach AWS (Error: getaddrinfo ENOTFOUND codepipeline.us-east-9.amazonaws.com): check your network, proxy and region'],
  [err('InternalServerException', 'Internal failure', { $metadata: { httpStatusCode: 500 } }), 'AWS had a temporary problem (InternalServerException: Internal failure) even after retries: rerun'],
  [err('UnableToRollbackStageException', 'Unable to roll back stage Beta: the stage is in progress.'), 'AWS refused (UnableToRollbackStageException): Unable to roll back stage Beta: the stage is in progress.'],
  [err('SomethingNew', 'first line\n    at stack'), 'SomethingNew: first line'],
  [
    err('TimeoutError', '@smithy/node-http-handler - [ERROR] a request has exceeded the configured 10000 ms requestTimeout.', { code: 'ETIMEDOUT' }),
    'AWS did not answer in time (a request has exceeded the configured 10000 ms requestTimeout.): check your network, proxy and region (and AWS_ENDPOINT_URL if set)',
  ],
  [
    err('TimeoutError', 'Socket timed out without establishing a connection within 3000 ms'),
    'AWS did not answer in time (Socket timed out without establishing a connection within 3000 ms): check your network, proxy and region (and AWS_ENDPOINT_URL if set)',
  ],
  [err('Error', 'connect ECONNREFUSED 127.0.0.1:9', { code: 'ECONNREFUSED' }), 'cannot reach AWS (Error: connect ECONNREFUSED 127.0.0.1:9): check your network, proxy and region'],
  [
    new TypeError("Cannot read properties of undefined (reading 'map')"),
    "internal error (TypeError: Cannot read properties of undefined (reading 'map')): rerun with --debug for the stack trace and report it",
  ],
  [err('ThrottlingException', 'Rate exceeded', { $metadata: { httpStatusCode: 400 } }), 'AWS is throttling requests (ThrottlingException) even after retries: wait a minute and rerun'],
  [err('Error', 'Region is missing'), 'no AWS region: pass --region, set AWS_REGION, or set pipeline.region in safe-deploy.config.json'],
])('describes %p on one line', (e, line) => {
  expect(describeError(e)).toBe(line);
});

test('refusals exit 1, AWS errors exit 2', () => {
  expect(exitCodeOf(new OpsError('refused', 'no'))).toBe(1);
  expect(exitCodeOf(err('ThrottlingException', 'Rate exceeded'))).toBe(2);
});
