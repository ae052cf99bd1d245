import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { createFlagsClient } from '../../lib/flags-client/feature-flags';
import { DEFAULT_FLAGS, handler, handleRequest, serve } from './handler';

const info = { version: '7' };
const body = (r: { body?: string }) => JSON.parse(r.body ?? 'null');

/** A Function URL (payload 2.0) request, as Lambda passes it to the handler. */
function event(method: string, path: string, query?: Record<string, string>, headers: Record<string, string> = {}): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: new URLSearchParams(query).toString(),
    headers,
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

test('the handler reports the Lambda version it runs as, and publishes the request under it for the canary judge', async () => {
  const saved = { ...process.env };
  process.env.AWS_LAMBDA_FUNCTION_VERSION = '12';
  process.env.SAFE_DEPLOY_METRICS_SERVICE = 'Prod-us-east-1-greeting-api';
  const lines: string[] = [];
  const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    lines.push(String(chunk));
    return true;
  });
  try {
    expect(body(await handler(event('GET', '/health')))).toEqual({ status: 'ok', version: '12' });
  } finally {
    write.mockRestore();
    process.env = saved;
  }
  const published = lines.map((l) => JSON.parse(l)).filter((l) => l._aws);
  expect(published).toEqual([expect.objectContaining({ Service: 'Prod-us-east-1-greeting-api', Version: '12', Requests: 1, Errors: 0 })]);
});

describe('feature flags, through the AppConfig agent', () => {
  const env = { FEATURE_FLAGS_APPLICATION: 'Prod-us-east-1-greeting-api-flags', FEATURE_FLAGS_ENVIRONMENT: 'greeting-api', FEATURE_FLAGS_PROFILE: 'greeting-api' };
  /** A fake agent: answers each `?flag=` from `answers` (as the agent does for one flag), and records the requests. */
  function agent(answers: Record<string, unknown>) {
    const requests: Array<{ flag: string | null; headers: Record<string, string> }> = [];
    const fetch = (async (url: string, init: { headers: Record<string, string> }) => {
      const flag = new URL(url).searchParams.get('flag');
      requests.push({ flag, headers: init.headers });
      return flag && flag in answers ? new Response(JSON.stringify(answers[flag]), { status: 200 }) : new Response('not found', { status: 404 });
    }) as unknown as typeof globalThis.fetch;
    return { requests, client: createFlagsClient({ env, fetch, log: () => undefined }) };
  }

  test('a targeted user gets the variant the agent picks: its salutation, and the on/off flag', async () => {
    const { client, requests } = agent({ greeting_emoji: { enabled: true }, greeting_style: { enabled: true, _variant: 'warm', salutation: 'Welcome' } });
    const r = await serve(event('GET', '/greeting', { name: 'Ada' }, { 'x-user-id': 'beta-tester-1' }), client);
    expect(body(r).greeting).toBe('Welcome, Ada! \u{1F44B}');
    // The user travels as the targeting context and as the entity of a gradual rollout.
    expect(requests.find((q) => q.flag === 'greeting_style')?.headers).toMatchObject({ Context: 'userId=beta-tester-1', 'Entity-Id': 'beta-tester-1' });
  });

  test('an anonymous request (the deployment checks) never asks for the user-targeted flag', async () => {
    const { client, requests } = agent({ greeting_emoji: { enabled: false }, greeting_style: { enabled: true, _variant: 'warm', salutation: 'Welcome' } });
    expect(body(await serve(event('GET', '/greeting', { name: 'canary' }), client)).greeting).toBe('Hello, canary!');
    expect(requests.map((q) => q.flag)).toEqual(['greeting_emoji']);
  });

  test('falls back to the declared defaults when the agent is not there', async () => {
    const fetch = (async () => {
      throw Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } });
    }) as unknown as typeof globalThis.fetch;
    const client = createFlagsClient({ env, fetch, log: () => undefined });
    const r = await serve(event('GET', '/greeting', { name: 'Ada' }, { 'x-user-id': 'u-1' }), client);
    expect(r.statusCode).toBe(200);
    expect(body(r).greeting).toBe(`${DEFAULT_FLAGS.salutation}, Ada!`);
  });

  test('the health check does not wait for the agent', async () => {
    const { client, requests } = agent({});
    expect((await serve(event('GET', '/health'), client)).statusCode).toBe(200);
    expect(requests).toEqual([]);
  });
});
