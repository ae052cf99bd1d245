import '../support/quiet-logs';
import { CodeDeployClient, PutLifecycleEventHookExecutionStatusCommand } from '@aws-sdk/client-codedeploy';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { CHECK_TIMEOUT_MS, checkTestTraffic, handler } from '../../lambda/ecs-test-traffic-hook';

const cd = mockClient(CodeDeployClient);
const URL_ = 'http://beta-alb-123456.us-east-1.elb.amazonaws.com:8080';
const event = { DeploymentId: 'd-ABCDEF123', LifecycleEventHookExecutionId: 'eyJlbmNyeXB0ZWREYXRhIjoiZXhhbXBsZSJ9' };
const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
const goodFetch = jest.fn(async (url: string | URL | Request) =>
  String(url).endsWith('/health') ? json(200, { status: 'ok', version: 'abc' }) : json(200, { message: 'Hello, canary!', version: 'abc' }),
) as unknown as typeof fetch;
const noSleep = async () => undefined;

beforeEach(() => {
  cd.reset();
  cd.on(PutLifecycleEventHookExecutionStatusCommand).resolves({ lifecycleEventHookExecutionId: event.LifecycleEventHookExecutionId });
});

describe('checkTestTraffic', () => {
  test('Succeeded when both probes answer correctly through the test listener', async () => {
    const result = await checkTestTraffic({ testUrl: URL_, fetch: goodFetch, sleep: noSleep });
    expect(result).toEqual({ status: 'Succeeded', reason: 'green task set answered /health, /greeting?name=canary through the test listener' });
    expect(goodFetch).toHaveBeenCalledWith(`${URL_}/health`, expect.objectContaining({ signal: expect.any(AbortSignal) }));
    expect(goodFetch).toHaveBeenCalledWith(`${URL_}/greeting?name=canary`, expect.anything());
  });

  test('Failed with the status when green answers 502 on every attempt', async () => {
    const f = jest.fn(async () => new Response('<html>502 Bad Gateway</html>', { status: 502 })) as unknown as typeof fetch;
    const result = await checkTestTraffic({ testUrl: URL_, fetch: f, sleep: noSleep });
    expect(result).toEqual({ status: 'Failed', reason: `GET ${URL_}/health: status 502, body <html>502 Bad Gateway</html> (after 3 attempts)` });
    expect(f).toHaveBeenCalledTimes(3);
  });

  test('retries a probe that fails once, then succeeds', async () => {
    const f = jest.fn().mockResolvedValueOnce(json(503, {})).mockImplementation(goodFetch) as unknown as typeof fetch;
    expect((await checkTestTraffic({ testUrl: URL_, fetch: f, sleep: noSleep })).status).toBe('Succeeded');
  });

  test('Failed when the body is wrong', async () => {
    const f = jest.fn(async (url: string) => (url.endsWith('/health') ? json(200, { status: 'ok' }) : json(200, { message: 'Hi' }))) as unknown as typeof fetch;
    expect(await checkTestTraffic({ testUrl: URL_, fetch: f, sleep: noSleep, attempts: 1 })).toEqual({
      status: 'Failed',
      reason: `GET ${URL_}/greeting?name=canary: expected message "Hello, canary!", got {"message":"Hi"} (after 1 attempts)`,
    });
  });

  test('Failed when the body is not JSON', async () => {
    const f = jest.fn(async () => new Response('ok', { status: 200 })) as unknown as typeof fetch;
    expect((await checkTestTraffic({ testUrl: URL_, fetch: f, sleep: noSleep, attempts: 1 })).reason).toBe(`GET ${URL_}/health: body is not JSON: ok (after 1 attempts)`);
  });

  test('Failed with the error when the connection fails', async () => {
    const f = jest.fn(async () => {
      throw new TypeError('fetch failed');
    }) as unknown as typeof fetch;
    expect((await checkTestTraffic({ testUrl: URL_, fetch: f, sleep: noSleep, attempts: 2 })).reason).toBe(`GET ${URL_}/health: TypeError: fetch failed (after 2 attempts)`);
  });

  test("the check's signal aborts a request in flight and stops further attempts", async () => {
    const controller = new AbortController();
    let seen: AbortSignal | undefined;
    const hanging = jest.fn((_url: string | URL | Request, init?: RequestInit) => {
      seen = init?.signal ?? undefined;
      return new Promise<Response>((_resolve, reject) => seen?.addEventListener('abort', () => reject(seen?.reason)));
    }) as unknown as typeof fetch;
    const pending = checkTestTraffic({ testUrl: URL_, fetch: hanging, sleep: noSleep, requestTimeoutMs: 60_000, signal: controller.signal });
    await new Promise((r) => setTimeout(r, 10));
    controller.abort(Object.assign(new Error('timed out after 45000 ms'), { name: 'CheckTimeout' }));
    await expect(pending).resolves.toEqual({ status: 'Failed', reason: `GET ${URL_}/health: abandoned, the check ran out of time` });
    expect(hanging).toHaveBeenCalledTimes(1);
  });

  test('Failed when TEST_URL is missing or not a base URL', async () => {
    expect(await checkTestTraffic({ testUrl: undefined, fetch: goodFetch })).toEqual({
      status: 'Failed',
      reason: 'TEST_URL undefined is not a base URL like http://<alb-dns>:8080',
    });
    expect((await checkTestTraffic({ testUrl: `${URL_}/path`, fetch: goodFetch })).status).toBe('Failed');
  });
});

describe('handler (always reports to CodeDeploy)', () => {
  const realFetch = global.fetch;
  afterEach(() => {
    global.fetch = realFetch;
    delete process.env.TEST_URL;
  });

  test('reports Succeeded when green is healthy', async () => {
    process.env.TEST_URL = URL_;
    global.fetch = goodFetch;
    expect(await handler(event)).toEqual({ status: 'Succeeded', reason: expect.stringContaining('green task set answered'), reported: true });
    expect(cd).toHaveReceivedCommandWith(PutLifecycleEventHookExecutionStatusCommand, {
      deploymentId: 'd-ABCDEF123',
      lifecycleEventHookExecutionId: event.LifecycleEventHookExecutionId,
      status: 'Succeeded',
    });
  });

  test('reports Failed when TEST_URL is not configured', async () => {
    expect(await handler(event)).toMatchObject({ status: 'Failed', reported: true });
    expect(cd).toHaveReceivedCommandWith(PutLifecycleEventHookExecutionStatusCommand, { status: 'Failed' });
  });

  test('reports Failed with the reason when the check throws', async () => {
    process.env.TEST_URL = URL_;
    global.fetch = jest.fn(async () => {
      throw new Error('boom');
    }) as unknown as typeof fetch;
    const result = await handler(event);
    expect(result.status).toBe('Failed');
    expect(result.reason).toContain('Error: boom');
    expect(cd).toHaveReceivedCommandWith(PutLifecycleEventHookExecutionStatusCommand, { status: 'Failed' });
  }, 20_000);

  test('reports Failed before the function times out when green never answers', async () => {
    process.env.TEST_URL = URL_;
    global.fetch = jest.fn((_url: string | URL | Request, init?: RequestInit) =>
      new Promise<Response>((_resolve, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal?.reason))),
    ) as unknown as typeof fetch;
    const result = await handler(event, { getRemainingTimeInMillis: () => 10_050 });
    expect(result).toEqual({ status: 'Failed', reason: 'check failed: CheckTimeout: timed out after 50 ms', reported: true });
    expect(cd).toHaveReceivedCommandWith(PutLifecycleEventHookExecutionStatusCommand, { status: 'Failed' });
  });

  test('the check is bounded well inside the 60 s function timeout, leaving time to report', () => {
    // 2 probes x 3 attempts x 5 s per request + 2 x 2 s pauses per probe.
    expect(2 * (3 * 5_000 + 2 * 2_000)).toBeLessThan(CHECK_TIMEOUT_MS);
    expect(CHECK_TIMEOUT_MS + 10_000).toBeLessThanOrEqual(60_000);
  });

  test('a malformed event cannot be reported and says why', async () => {
    expect(await handler({ DeploymentId: 'd-1' } as never)).toEqual({
      status: 'Failed',
      reason: 'malformed event: event lacks LifecycleEventHookExecutionId (got keys: DeploymentId)',
      reported: false,
    });
    expect(cd).not.toHaveReceivedAnyCommand();
  });
});
