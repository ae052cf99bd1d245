import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createFlagsClient } from '../src/feature-flags';
import { createAppServer, route, shutdown } from '../src/server';

/** Records the responses the server hands to its canary metrics. */
const observed: Array<{ statusCode: number }> = [];
const options = { version: 'abc1234', serviceName: 'svc', metrics: { observe: (res: { statusCode: number }) => void observed.push(res) } };

describe('container server over HTTP', () => {
  let server: Server;
  let base: string;

  beforeAll(async () => {
    server = createAppServer(options);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
  });

  afterAll(async () => {
    jest.restoreAllMocks();
    await shutdown(server, 1000);
  });

  test('GET /health answers 200 with the version', async () => {
    const res = await fetch(`${base}/health`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(await res.json()).toEqual({ status: 'ok', version: 'abc1234' });
  });

  test('GET /greeting greets by name', async () => {
    const res = await fetch(`${base}/greeting?name=Ada`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ message: 'Hello, Ada!', service: 'svc', version: 'abc1234' });
  });

  test('every request is handed to the canary metrics with its response', async () => {
    observed.length = 0;
    await fetch(`${base}/health`);
    await fetch(`${base}/nope`);
    expect(observed.map((r) => r.statusCode)).toEqual([200, 404]);
  });

  test('GET / greets the world', async () => {
    const res = await fetch(`${base}/`);
    expect(await res.json()).toMatchObject({ message: 'Hello, world!' });
  });

  test('rejects a bad name with 400', async () => {
    const res = await fetch(`${base}/greeting?name=${encodeURIComponent('<script>')}`);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: "name must be 1 to 64 letters, digits, spaces or . ' -" });
  });

  test('unknown path is 404 and POST is 405', async () => {
    expect((await fetch(`${base}/nope`)).status).toBe(404);
    const post = await fetch(`${base}/health`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(await post.json()).toEqual({ error: 'method POST not allowed: use GET' });
  });

  test('HEAD /health has no body', async () => {
    const res = await fetch(`${base}/health`, { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('');
  });
});

describe('route', () => {
  test('trims and bounds the name', () => {
    expect(route('GET', '/greeting?name=%20Bob%20', options)).toEqual({ status: 200, body: { message: 'Hello, Bob!', service: 'svc', version: 'abc1234' } });
    expect(route('GET', `/greeting?name=${'a'.repeat(65)}`, options).status).toBe(400);
  });
});

describe('shutdown', () => {
  test('resolves once the server is closed and refuses new connections', async () => {
    const server = createAppServer(options);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    await shutdown(server, 1000);
    expect(server.listening).toBe(false);
    await expect(fetch(`http://127.0.0.1:${port}/health`)).rejects.toThrow();
  });

  test('forces open connections closed after the grace period', async () => {
    const server = createAppServer(options);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    // A request that never finishes sending keeps a connection busy.
    const net = await import('node:net');
    const socket = net.connect(port, '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write('GET /health HTTP/1.1\r\nHost: x\r\n');
    socket.on('error', () => undefined);
    const started = Date.now();
    await shutdown(server, 200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    socket.destroy();
  });
});

describe('feature flags, through the AppConfig agent sidecar', () => {
  const env = { FEATURE_FLAGS_APPLICATION: 'Prod-us-east-1-greeting-web-flags', FEATURE_FLAGS_ENVIRONMENT: 'greeting-web', FEATURE_FLAGS_PROFILE: 'greeting-web' };
  let server: Server;
  let base: string;
  let requests: Array<{ flag: string | null; headers: Record<string, string> }>;
  /** What the fake agent answers per flag (as the agent does for one `?flag=`); undefined: the agent is down. */
  let answers: Record<string, unknown> | undefined;

  beforeAll(async () => {
    const fetch = (async (url: string, init: { headers: Record<string, string> }) => {
      if (!answers) throw Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } });
      const flag = new URL(url).searchParams.get('flag');
      requests.push({ flag, headers: init.headers });
      return flag && flag in answers ? new Response(JSON.stringify(answers[flag])) : new Response('not found', { status: 404 });
    }) as unknown as typeof globalThis.fetch;
    server = createAppServer({ ...options, flags: createFlagsClient({ env, fetch, log: () => undefined }) });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
  });
  beforeEach(() => {
    requests = [];
    answers = { greeting_emoji: { enabled: false }, greeting_style: { enabled: true, _variant: 'warm', salutation: 'Welcome' } };
  });
  afterAll(async () => {
    jest.restoreAllMocks();
    await shutdown(server, 1000);
  });

  test('a tenant on the list gets the warm variant, its tenant sent as targeting context', async () => {
    const res = await fetch(`${base}/greeting?name=Ada`, { headers: { 'x-tenant': 'acme' } });
    expect(await res.json()).toMatchObject({ message: 'Welcome, Ada!' });
    expect(requests.find((q) => q.flag === 'greeting_style')?.headers).toMatchObject({ Context: 'tenant=acme' });
  });

  test('anonymous requests (the test traffic) get the declared default without asking for the targeted flag', async () => {
    answers = { greeting_emoji: { enabled: true }, greeting_style: { enabled: true, _variant: 'warm', salutation: 'Welcome' } };
    expect(await (await fetch(`${base}/greeting?name=canary`)).json()).toMatchObject({ message: 'Hello, canary! \u{1F44B}' });
    expect(requests.map((q) => q.flag)).toEqual(['greeting_emoji']);
  });

  test('the declared defaults when the agent is down', async () => {
    answers = undefined;
    const res = await fetch(`${base}/greeting?name=Ada`, { headers: { 'x-user-id': 'u-1' } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ message: 'Hello, Ada!' });
  });

  test('the health check never asks the agent', async () => {
    expect((await fetch(`${base}/health`)).status).toBe(200);
    expect(requests).toEqual([]);
  });
});
