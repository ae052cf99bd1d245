import { readFileSync } from 'node:fs';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { transformSync } from 'esbuild';
import { createFlagsClient, FlagsClientOptions } from '../../lib/flags-client/feature-flags';

/** A stand-in for the AppConfig agent on an ephemeral port: records requests, answers with `reply`. */
class FakeAgent {
  readonly requests: { url: string; headers: IncomingMessage['headers'] }[] = [];
  reply: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.end('{}');
  private server!: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      this.requests.push({ url: req.url ?? '', headers: req.headers });
      this.reply(req, res);
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

const json = (status: number, body: unknown) => (_req: IncomingMessage, res: ServerResponse) => {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
};

const agent = new FakeAgent();
let logs: string[];
beforeAll(() => agent.start());
afterAll(() => agent.stop());
beforeEach(() => {
  agent.requests.length = 0;
  logs = [];
});

/** A client of the fake agent, configured the way ServiceFeatureFlags configures a service. */
function client(extra: Partial<FlagsClientOptions> = {}) {
  return createFlagsClient({
    env: {
      FEATURE_FLAGS_AGENT_URL: agent.url,
      FEATURE_FLAGS_APPLICATION: 'safe-deploy-beta-flags',
      FEATURE_FLAGS_ENVIRONMENT: 'orders',
      FEATURE_FLAGS_PROFILE: 'orders',
    },
    log: (line) => logs.push(line),
    timeoutMs: 500,
    ...extra,
  });
}

describe('evaluating through the agent', () => {
  test('asks for the one flag with the caller context and an Entity-Id, and returns its status', async () => {
    agent.reply = json(200, { enabled: true });
    await expect(
      client().evaluateFlag('new_checkout', { userId: 'u-42', tenant: 'acme', plan: 'gold', beta: true, seats: 3 }, false),
    ).resolves.toBe(true);
    expect(agent.requests).toEqual([
      {
        url: '/applications/safe-deploy-beta-flags/environments/orders/configurations/orders?flag=new_checkout',
        headers: expect.objectContaining({
          context: 'userId=u-42,tenant=acme,plan=gold,beta=true,seats=3',
          'entity-id': 'u-42',
          accept: 'application/json',
        }),
      },
    ]);
    expect(logs).toEqual([]);
  });

  test('returns the variant and attributes of a multi-variant flag', async () => {
    agent.reply = json(200, { _variant: 'dark', enabled: true, palette: 'dark', weights: [1, 2] });
    await expect(client().evaluateFlagDetails('theme', { userId: 'u-1' }, { enabled: false, variant: 'classic' })).resolves.toEqual({
      enabled: true,
      variant: 'dark',
      attributes: { palette: 'dark', weights: [1, 2] },
      source: 'agent',
    });
  });

  test('accepts the answer keyed by flag name too (the whole-configuration shape)', async () => {
    agent.reply = json(200, { theme: { _variant: 'classic', enabled: false }, other: { enabled: true } });
    await expect(client().evaluateFlagDetails('theme', {}, { enabled: true })).resolves.toEqual({
      enabled: false,
      variant: 'classic',
      attributes: {},
      source: 'agent',
    });
  });

  test('sends no Context header without context, and no Entity-Id without a userId', async () => {
    agent.reply = json(200, { enabled: false });
    await expect(client().evaluateFlag('new_checkout', { tenant: undefined }, true)).resolves.toBe(false);
    expect(agent.requests[0].headers.context).toBeUndefined();
    expect(agent.requests[0].headers['entity-id']).toBeUndefined();
  });

  test('leaves out a context value the header cannot carry, says so once, and still asks', async () => {
    agent.reply = json(200, { enabled: true });
    const c = client();
    await c.evaluateFlag('f', { userId: 'u-1', tenant: 'a,b' }, false);
    await c.evaluateFlag('f', { userId: 'u-2', tenant: 'c=d' }, false);
    expect(agent.requests.map((r) => r.headers.context)).toEqual(['userId=u-1', 'userId=u-2']);
    expect(logs.map((l) => JSON.parse(l))).toEqual([
      expect.objectContaining({
        level: 'WARN',
        reason: 'context-not-sent',
        detail: expect.stringContaining('context attribute "tenant" was not sent'),
      }),
    ]);
  });

  test('escapes names in the path', async () => {
    agent.reply = json(200, { enabled: true });
    await createFlagsClient({
      agentUrl: `${agent.url}/`,
      application: 'app one',
      environment: 'env',
      profile: 'p',
      log: () => undefined,
    }).evaluateFlag('a-b', {}, false);
    expect(agent.requests[0].url).toBe('/applications/app%20one/environments/env/configurations/p?flag=a-b');
  });
});

describe('falling back to the declared default, and saying why once', () => {
  const reasons = () => logs.map((l) => JSON.parse(l));

  test('when the agent answers 404 (no such flag, or nothing deployed yet)', async () => {
    agent.reply = json(404, { Message: 'Configuration not found' });
    const c = client();
    await expect(c.evaluateFlag('nope', {}, true)).resolves.toBe(true);
    await expect(c.evaluateFlag('nope', {}, true)).resolves.toBe(true);
    expect(reasons()).toEqual([
      {
        level: 'WARN',
        message: 'feature flag: using the declared default',
        flag: 'nope',
        reason: 'http-404',
        detail: 'the agent answered 404: {"Message":"Configuration not found"}',
        default: true,
      },
    ]);
  });

  test('when the agent is too slow', async () => {
    agent.reply = (_req, res) => setTimeout(() => json(200, { enabled: true })(_req, res), 300);
    const started = Date.now();
    await expect(
      client({ timeoutMs: 50 }).evaluateFlagDetails('f', {}, { enabled: false, variant: 'off', attributes: { a: 1 } }),
    ).resolves.toEqual({
      enabled: false,
      variant: 'off',
      attributes: { a: 1 },
      source: 'default',
    });
    expect(Date.now() - started).toBeLessThan(250);
    expect(reasons()).toEqual([
      expect.objectContaining({ reason: 'timeout', detail: `the agent at ${agent.url} did not answer within 50 ms` }),
    ]);
  });

  test('when nothing listens on the agent port', async () => {
    const closed = new FakeAgent();
    await closed.start();
    await closed.stop();
    await expect(client({ agentUrl: closed.url }).evaluateFlag('f', {}, false)).resolves.toBe(false);
    expect(reasons()).toEqual([
      expect.objectContaining({ reason: 'unreachable', detail: `cannot reach the agent at ${closed.url}: ECONNREFUSED` }),
    ]);
  });

  test('when the answer is not JSON or has no "enabled"', async () => {
    agent.reply = json(200, 'not json');
    await expect(client().evaluateFlag('f', {}, true)).resolves.toBe(true);
    agent.reply = json(200, { something: 'else' });
    await expect(client().evaluateFlag('g', {}, false)).resolves.toBe(false);
    expect(reasons().map((r) => [r.reason, r.detail])).toEqual([
      ['not-json', "the agent's answer is not JSON: not json"],
      ['unexpected-answer', 'the agent\'s answer has no "enabled" for flag g: {"something":"else"}'],
    ]);
  });

  test('when the service is not configured, without asking anyone', async () => {
    const c = createFlagsClient({ env: {}, log: (l) => logs.push(l), fetch: jest.fn() });
    await expect(c.evaluateFlag('f', { userId: 'u' }, true)).resolves.toBe(true);
    expect(reasons()).toEqual([expect.objectContaining({ reason: 'not-configured' })]);
  });

  test('defaults: the agent on localhost:2772 and names from the environment variables ServiceFeatureFlags sets', async () => {
    const fetch = jest.fn(async () => new Response(JSON.stringify({ enabled: true })));
    const c = createFlagsClient({
      env: { FEATURE_FLAGS_APPLICATION: 'a', FEATURE_FLAGS_ENVIRONMENT: 'e', FEATURE_FLAGS_PROFILE: 'p' },
      fetch,
    });
    await expect(c.evaluateFlag('f', {}, false)).resolves.toBe(true);
    expect(fetch).toHaveBeenCalledWith(
      'http://localhost:2772/applications/a/environments/e/configurations/p?flag=f',
      expect.objectContaining({ signal: expect.any(AbortSignal) }),
    );
  });
});

test('the client is one dependency-free file a service can copy', () => {
  const source = readFileSync(path.join(__dirname, '..', '..', 'lib', 'flags-client', 'feature-flags.ts'), 'utf8');
  expect(source).not.toMatch(/^\s*import\s/m);
  expect(source).not.toMatch(/\brequire\(/);
});

describe('the copies the example services build from stay the client', () => {
  const root = path.join(__dirname, '..', '..');
  const source = readFileSync(path.join(root, 'lib', 'flags-client', 'feature-flags.ts'), 'utf8');

  test('services/greeting-web/src/feature-flags.ts (its image builds from its own directory) is the same file', () => {
    expect(readFileSync(path.join(root, 'services', 'greeting-web', 'src', 'feature-flags.ts'), 'utf8')).toBe(source);
  });

  test('services/greeting-web/src/canary-metrics.ts is lib/canary-metrics/index.ts, for the same reason', () => {
    expect(readFileSync(path.join(root, 'services', 'greeting-web', 'src', 'canary-metrics.ts'), 'utf8')).toBe(
      readFileSync(path.join(root, 'lib', 'canary-metrics', 'index.ts'), 'utf8'),
    );
  });

  test('the plain-JS fixture container runs the client compiled to CommonJS, and that copy evaluates like the source', async () => {
    const compiled = transformSync(source, { loader: 'ts', format: 'cjs', target: 'node22' }).code;
    const fixture = path.join(root, 'test', 'fixtures', 'services', 'greeting-web', 'feature-flags.js');
    // To refresh it after changing the client:
    // node -e "process.stdout.write(require('esbuild').transformSync(require('fs').readFileSync('lib/flags-client/feature-flags.ts', 'utf8'), { loader: 'ts', format: 'cjs', target: 'node22' }).code)" > test/fixtures/services/greeting-web/feature-flags.js
    expect(readFileSync(fixture, 'utf8')).toBe(compiled);
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the fixture is CommonJS found at run time
    const { createFlagsClient: fromCopy } = require(fixture) as typeof import('../../lib/flags-client/feature-flags');
    agent.reply = json(200, { enabled: true, _variant: 'warm', salutation: 'Welcome' });
    const c = fromCopy({ agentUrl: agent.url, application: 'a', environment: 'e', profile: 'p', log: () => undefined });
    await expect(c.evaluateFlagDetails('greeting_style', { tenant: 'acme' }, { enabled: false })).resolves.toEqual({
      enabled: true,
      variant: 'warm',
      attributes: { salutation: 'Welcome' },
      source: 'agent',
    });
  });
});
