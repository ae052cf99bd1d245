import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createAppServer, route, shutdown } from '../src/server';

const options = { version: 'abc1234', serviceName: 'svc' };

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
