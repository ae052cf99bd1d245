import { CodeDeployClient, PutLifecycleEventHookExecutionStatusCommand } from '@aws-sdk/client-codedeploy';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { checkTestTraffic, parseProbes, Probe, testTrafficHandler } from '../../lambda/ecs-test-traffic-hook';
import { createLogger } from '../../lambda/shared/logger';

const cd = mockClient(CodeDeployClient);
const URL_ = 'http://beta-alb-123456.us-east-1.elb.amazonaws.com:8080';
const event = { DeploymentId: 'd-ABCDEF123', LifecycleEventHookExecutionId: 'eyJlbmNyeXB0ZWREYXRhIjoiZXhhbXBsZSJ9' };
const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
/** The example greeting-web's probes: a health check and an API call with a known answer. */
const PROBES: Probe[] = [
  { path: '/health', expectedStatus: 200, bodyContains: '"status":"ok"' },
  { path: '/greeting?name=canary', bodyContains: 'Hello, canary!' },
];
const goodFetch = jest.fn(async (url: string | URL | Request) =>
  String(url).endsWith('/health') ? json(200, { status: 'ok', version: 'abc' }) : json(200, { message: 'Hello, canary!', version: 'abc' }),
) as unknown as typeof fetch;
const noSleep = async () => undefined;

beforeEach(() => {
  cd.reset();
  cd.on(PutLifecycleEventHookExecutionStatusCommand).resolves({ lifecycleEventHookExecutionId: event.LifecycleEventHookExecutionId });
});

describe('checkTestTraffic', () => {
  test('Succeeded when every probe answers as the service declares, through the test listener', async () => {
    const result = await checkTestTraffic({ testUrl: URL_, fetch: goodFetch, sleep: noSleep }, PROBES);
    expect(result).toEqual({
      status: 'Succeeded',
      reason: 'green task set answered /health, /greeting?name=canary through the test listener',
    });
    expect(goodFetch).toHaveBeenCalledWith(`${URL_}/health`, expect.objectContaining({ signal: expect.any(AbortSignal) }));
    expect(goodFetch).toHaveBeenCalledWith(`${URL_}/greeting?name=canary`, expect.anything());
  });

  test('a plain-text service with its health at /healthz', async () => {
    const f = jest.fn(async () => new Response('storefront ok', { status: 200 })) as unknown as typeof fetch;
    expect(await checkTestTraffic({ testUrl: URL_, fetch: f, sleep: noSleep }, [{ path: '/healthz' }])).toEqual({
      status: 'Succeeded',
      reason: 'green task set answered /healthz through the test listener',
    });
  });

  test('an expected status other than 200', async () => {
    const f = jest.fn(async () => new Response(null, { status: 204 })) as unknown as typeof fetch;
    expect((await checkTestTraffic({ testUrl: URL_, fetch: f, sleep: noSleep }, [{ path: '/ready', expectedStatus: 204 }])).status).toBe(
      'Succeeded',
    );
  });

  test('Failed with the status when green answers 502 on every attempt', async () => {
    const f = jest.fn(async () => new Response('<html>502 Bad Gateway</html>', { status: 502 })) as unknown as typeof fetch;
    const result = await checkTestTraffic({ testUrl: URL_, fetch: f, sleep: noSleep }, PROBES);
    expect(result).toEqual({
      status: 'Failed',
      reason: `GET ${URL_}/health: status 502 (expected 200), body <html>502 Bad Gateway</html> (after 3 attempts)`,
    });
    expect(f).toHaveBeenCalledTimes(3);
  });

  test('retries a probe that fails once, then succeeds', async () => {
    const f = jest.fn().mockResolvedValueOnce(json(503, {})).mockImplementation(goodFetch) as unknown as typeof fetch;
    expect((await checkTestTraffic({ testUrl: URL_, fetch: f, sleep: noSleep }, PROBES)).status).toBe('Succeeded');
  });

  test('Failed when the body lacks the declared text', async () => {
    const f = jest.fn(async (url: string) =>
      url.endsWith('/health') ? json(200, { status: 'ok' }) : json(200, { message: 'Hi' }),
    ) as unknown as typeof fetch;
    expect(await checkTestTraffic({ testUrl: URL_, fetch: f, sleep: noSleep, attempts: 1 }, PROBES)).toEqual({
      status: 'Failed',
      reason: `GET ${URL_}/greeting?name=canary: the body does not contain "Hello, canary!": {"message":"Hi"} (after 1 attempts)`,
    });
  });

  test('Failed with the error when the connection fails', async () => {
    const f = jest.fn(async () => {
      throw new TypeError('fetch failed');
    }) as unknown as typeof fetch;
    expect((await checkTestTraffic({ testUrl: URL_, fetch: f, sleep: noSleep, attempts: 2 }, PROBES)).reason).toBe(
      `GET ${URL_}/health: TypeError: fetch failed (after 2 attempts)`,
    );
  });

  test("the check's signal aborts a request in flight and stops further attempts", async () => {
    const controller = new AbortController();
    let seen: AbortSignal | undefined;
    const hanging = jest.fn((_url: string | URL | Request, init?: RequestInit) => {
      seen = init?.signal ?? undefined;
      return new Promise<Response>((_resolve, reject) => seen?.addEventListener('abort', () => reject(seen?.reason)));
    }) as unknown as typeof fetch;
    const pending = checkTestTraffic(
      { testUrl: URL_, fetch: hanging, sleep: noSleep, requestTimeoutMs: 60_000, signal: controller.signal },
      PROBES,
    );
    await new Promise((r) => setTimeout(r, 10));
    controller.abort(Object.assign(new Error('timed out after 45000 ms'), { name: 'CheckTimeout' }));
    await expect(pending).resolves.toEqual({ status: 'Failed', reason: `GET ${URL_}/health: abandoned, the check ran out of time` });
    expect(hanging).toHaveBeenCalledTimes(1);
  });

  test('Failed when TEST_URL is missing or not a base URL', async () => {
    expect(await checkTestTraffic({ testUrl: undefined, fetch: goodFetch }, PROBES)).toEqual({
      status: 'Failed',
      reason: 'TEST_URL undefined is not a base URL like http://<alb-dns>:8080',
    });
    expect((await checkTestTraffic({ testUrl: `${URL_}/path`, fetch: goodFetch }, PROBES)).status).toBe('Failed');
  });
});

describe('parseProbes', () => {
  test('reads the probes the construct writes', () => {
    expect(parseProbes(JSON.stringify(PROBES))).toEqual(PROBES);
  });
  test.each([
    [undefined, 'TEST_PROBES undefined is not JSON: set it to e.g. [{"path":"/health"}]'],
    ['[]', 'TEST_PROBES "[]" is not a non-empty list of probes'],
    ['[{"path":"health"}]', 'TEST_PROBES[0].path "health" is not a path starting with "/"'],
    ['[{"path":"/h","expectedStatus":"200"}]', 'TEST_PROBES[0].expectedStatus is not an HTTP status'],
    ['[{"path":"/h","bodyContains":1}]', 'TEST_PROBES[0].bodyContains is not a string'],
  ])('fails on %j', (raw, error) => {
    expect(parseProbes(raw)).toEqual({ error });
  });
});

describe('handler (always reports to CodeDeploy)', () => {
  const saved = { ...process.env };
  const run = (fetchImpl: typeof fetch) =>
    testTrafficHandler({
      codedeploy: new CodeDeployClient({ region: 'us-east-1' }),
      logger: createLogger('test'),
      fetch: fetchImpl,
      sleep: noSleep,
    });
  beforeEach(() => {
    process.env = { ...saved, TEST_URL: URL_, TEST_PROBES: JSON.stringify(PROBES), CHECK_TIMEOUT_MS: '45000' };
  });
  afterAll(() => {
    process.env = saved;
  });

  test('reports Succeeded when green is healthy', async () => {
    expect(await run(goodFetch)(event)).toEqual({
      status: 'Succeeded',
      reason: expect.stringContaining('green task set answered'),
      reported: true,
    });
    expect(cd).toHaveReceivedCommandWith(PutLifecycleEventHookExecutionStatusCommand, {
      deploymentId: 'd-ABCDEF123',
      lifecycleEventHookExecutionId: event.LifecycleEventHookExecutionId,
      status: 'Succeeded',
    });
  });

  test('reports Failed when TEST_URL is not configured', async () => {
    delete process.env.TEST_URL;
    expect(await run(goodFetch)(event)).toMatchObject({ status: 'Failed', reported: true });
    expect(cd).toHaveReceivedCommandWith(PutLifecycleEventHookExecutionStatusCommand, { status: 'Failed' });
  });

  test('reports Failed, naming the variable, when the probes are not configured', async () => {
    delete process.env.TEST_PROBES;
    expect(await run(goodFetch)(event)).toEqual({
      status: 'Failed',
      reason: 'hook misconfigured: TEST_PROBES undefined is not JSON: set it to e.g. [{"path":"/health"}]',
      reported: true,
    });
  });

  test('reports Failed with the reason when the check throws', async () => {
    const boom = jest.fn(async () => {
      throw new Error('boom');
    }) as unknown as typeof fetch;
    const result = await run(boom)(event);
    expect(result).toMatchObject({ status: 'Failed', reason: expect.stringContaining('Error: boom') });
    expect(cd).toHaveReceivedCommandWith(PutLifecycleEventHookExecutionStatusCommand, { status: 'Failed' });
  });

  test('reports Failed before the function times out when green never answers', async () => {
    const hanging = jest.fn(
      (_url: string | URL | Request, init?: RequestInit) =>
        new Promise<Response>((_resolve, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal?.reason))),
    ) as unknown as typeof fetch;
    const result = await run(hanging)(event, { getRemainingTimeInMillis: () => 10_050 });
    expect(result).toEqual({ status: 'Failed', reason: 'check failed: CheckTimeout: timed out after 50 ms', reported: true });
    expect(cd).toHaveReceivedCommandWith(PutLifecycleEventHookExecutionStatusCommand, { status: 'Failed' });
  });

  test('a malformed event fails the invocation: nothing to report against', async () => {
    await expect(run(goodFetch)({ DeploymentId: 'd-1' } as never)).rejects.toThrow(
      'malformed CodeDeploy hook event: event lacks LifecycleEventHookExecutionId (got keys: DeploymentId): nothing to report against; CodeDeploy fails the hook at its timeout',
    );
    expect(cd).not.toHaveReceivedAnyCommand();
  });
});
