import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { handler, handleRequest } from './handler';

const info = { version: '7' };
const body = (r: { body?: string }) => JSON.parse(r.body ?? 'null');

/** A Function URL (payload 2.0) request, as Lambda passes it to the handler. */
function event(method: string, path: string, query?: Record<string, string>): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: new URLSearchParams(query).toString(),
    headers: {},
    queryStringParameters: query,
    isBase64Encoded: false,
    requestContext: {
      accountId: 'anonymous',
      apiId: 'test',
      domainName: 'test.lambda-url.us-east-1.on.aws',
      domainPrefix: 'test',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'jest' },
      requestId: 'r1',
      routeKey: '$default',
      stage: '$default',
      time: '29/Nov/2026:18:00:00 +0000',
      timeEpoch: 0,
    },
  };
}

test('GET /health answers ok with the running version', () => {
  const r = handleRequest(event('GET', '/health'), info);
  expect(r.statusCode).toBe(200);
  expect(r.headers).toEqual({ 'content-type': 'application/json' });
  expect(body(r)).toEqual({ status: 'ok', version: '7' });
});

test('GET /greeting greets by name', () => {
  const r = handleRequest(event('GET', '/greeting', { name: 'Ada' }), info);
  expect(r.statusCode).toBe(200);
  expect(body(r)).toEqual({ greeting: 'Hello, Ada!', version: '7' });
});

test('GET /greeting without a name greets the world', () => {
  expect(body(handleRequest(event('GET', '/greeting'), info))).toEqual({ greeting: 'Hello, world!', version: '7' });
});

test('GET /greeting rejects an empty or overlong name with 400', () => {
  const empty = handleRequest(event('GET', '/greeting', { name: '  ' }), info);
  expect(empty.statusCode).toBe(400);
  expect(body(empty)).toEqual({ message: 'name must be 1 to 64 characters, got 0' });
  expect(handleRequest(event('GET', '/greeting', { name: 'x'.repeat(65) }), info).statusCode).toBe(400);
});

test('unknown routes are 404 with a hint', () => {
  const r = handleRequest(event('GET', '/nope'), info);
  expect(r.statusCode).toBe(404);
  expect(body(r)).toEqual({ message: 'no route for GET /nope: try GET /health or GET /greeting?name=you' });
});

test('other methods on known routes are 405 with Allow: GET', () => {
  const r = handleRequest(event('POST', '/health'), info);
  expect(r.statusCode).toBe(405);
  expect(r.headers).toEqual({ 'content-type': 'application/json', allow: 'GET' });
  expect(body(r)).toEqual({ message: 'POST is not allowed on /health: use GET' });
});

test('the handler reports the Lambda version it runs as', async () => {
  const saved = process.env.AWS_LAMBDA_FUNCTION_VERSION;
  process.env.AWS_LAMBDA_FUNCTION_VERSION = '12';
  try {
    expect(body(await handler(event('GET', '/health')))).toEqual({ status: 'ok', version: '12' });
  } finally {
    if (saved === undefined) delete process.env.AWS_LAMBDA_FUNCTION_VERSION;
    else process.env.AWS_LAMBDA_FUNCTION_VERSION = saved;
  }
});
