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
])('describes %p on one line', (e, line) => {
  expect(describeError(e)).toBe(line);
});

test('refusals exit 1, AWS errors exit 2', () => {
  expect(exitCodeOf(new OpsError('refused', 'no'))).toBe(1);
  expect(exitCodeOf(err('ThrottlingException', 'Rate exceeded'))).toBe(2);
});
