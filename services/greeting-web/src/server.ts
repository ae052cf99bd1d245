import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
// A copy of lib/flags-client/feature-flags.ts: the image builds from this directory alone (a test keeps them equal).
import { createFlagsClient, FlagContext, FlagsClient } from './feature-flags';
// A copy of lib/canary-metrics/index.ts, for the same reason.
import { containerCanaryMetrics } from './canary-metrics';

/** What the server reports about itself. */
export interface ServerOptions {
  /** The release this process runs (the image tag: a git commit in the pipeline). */
  readonly version: string;
  /** Name shown in responses. */
  readonly serviceName: string;
  /** Asks the AppConfig agent (the task's sidecar) for flags. @default - a client configured from FEATURE_FLAGS_* */
  readonly flags?: FlagsClient;
  /**
   * Publishes each request for the canary judge's 30-second alarm ("highResolutionMetrics": true in
   * safe-deploy.config.json). @default - containerCanaryMetrics(): the task's revision, once a second
   */
  readonly metrics?: { observe(res: ServerResponse): void };
}

/**
 * What the service's feature flags decide for one request (declared under `flags` of greeting-web in
 * safe-deploy.config.json). Evaluated before routing, so that routing stays pure.
 */
export interface GreetingFlags {
  /** `greeting_emoji`: end the greeting with a waving hand. */
  readonly emoji: boolean;
  /** `greeting_style`'s `salutation` attribute: "Hello" (variant plain) or "Welcome" (variant warm). */
  readonly salutation: string;
}

/** The declared defaults: what every request gets when the agent cannot answer. */
export const DEFAULT_FLAGS: GreetingFlags = { emoji: false, salutation: 'Hello' };

/**
 * Who is asking, for the flags' targeting rules: `x-user-id` and `x-tenant` headers in this example.
 * A real service takes them from its authenticated identity (a header anyone can set lets anyone
 * pick their variant).
 */
export function flagContext(headers: IncomingMessage['headers']): FlagContext {
  const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v)?.trim() || undefined;
  const userId = one(headers['x-user-id']);
  const tenant = one(headers['x-tenant']);
  return { ...(userId ? { userId } : {}), ...(tenant ? { tenant } : {}) };
}

/**
 * Asks the agent for one request's flags. The targeted `greeting_style` (a tenant list, 5 % of
 * users) is evaluated only for a known user or tenant: anonymous requests, the deployment's test
 * traffic among them, get its declared default.
 */
export async function readFlags(context: FlagContext, client: FlagsClient): Promise<GreetingFlags> {
  const emoji = await client.evaluateFlag('greeting_emoji', context, DEFAULT_FLAGS.emoji);
  if (!context.userId && !context.tenant) return { ...DEFAULT_FLAGS, emoji };
  const style = await client.evaluateFlagDetails('greeting_style', context, { enabled: false, variant: 'plain', attributes: { salutation: DEFAULT_FLAGS.salutation } });
  const salutation = typeof style.attributes.salutation === 'string' ? style.attributes.salutation : DEFAULT_FLAGS.salutation;
  return { emoji, salutation };
}

const MAX_NAME = 64;

/** Routes one request; pure over (method, url) so it is easy to reason about. */
export function route(method: string, rawUrl: string, options: ServerOptions, flags: GreetingFlags = DEFAULT_FLAGS): { status: number; body: unknown } {
  const url = new URL(rawUrl, 'http://localhost');
  if (method !== 'GET' && method !== 'HEAD') {
    return { status: 405, body: { error: `method ${method} not allowed: use GET` } };
  }
  if (url.pathname === '/health') {
    return { status: 200, body: { status: 'ok', version: options.version } };
  }
  if (url.pathname === '/' || url.pathname === '/greeting') {
    const name = (url.searchParams.get('name') ?? 'world').trim();
    if (name.length === 0 || name.length > MAX_NAME || !/^[\p{L}\p{N} .'-]+$/u.test(name)) {
      return { status: 400, body: { error: `name must be 1 to ${MAX_NAME} letters, digits, spaces or . ' -` } };
    }
    return { status: 200, body: { message: `${flags.salutation}, ${name}!${flags.emoji ? ' \u{1F44B}' : ''}`, service: options.serviceName, version: options.version } };
  }
  return { status: 404, body: { error: `no route for ${url.pathname}` } };
}

/** An HTTP server for the service; call `listen` yourself (tests use port 0). */
export function createAppServer(options: ServerOptions): Server {
  const flagsClient = options.flags ?? createFlagsClient();
  const metrics = options.metrics ?? containerCanaryMetrics();
  const respond = async (req: IncomingMessage, res: ServerResponse) => {
    metrics.observe(res);
    let result: { status: number; body: unknown };
    try {
      // Only greetings depend on flags: the health check never waits for the agent.
      const path = new URL(req.url ?? '/', 'http://localhost').pathname;
      const flags = path === '/' || path === '/greeting' ? await readFlags(flagContext(req.headers), flagsClient) : DEFAULT_FLAGS;
      result = route(req.method ?? 'GET', req.url ?? '/', options, flags);
    } catch {
      result = { status: 400, body: { error: 'malformed request' } };
    }
    const payload = JSON.stringify(result.body);
    res.writeHead(result.status, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(payload),
      'cache-control': 'no-store',
    });
    res.end(req.method === 'HEAD' ? undefined : payload);
    // One JSON line per request: CloudWatch Logs Insights can query it.
    process.stdout.write(`${JSON.stringify({ level: 'INFO', method: req.method, path: req.url?.split('?')[0], status: result.status })}\n`);
  };
  const server = createServer((req, res) => void respond(req, res));
  // Longer than the ALB's 60 s idle timeout, so the ALB, not the task, closes idle connections.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  return server;
}

/**
 * Stops accepting connections and resolves once in-flight requests are done, or after `graceMs`.
 * ECS sends SIGTERM once the target is deregistered (after the ALB's deregistration delay).
 */
export function shutdown(server: Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      server.closeAllConnections();
      resolve();
    }, graceMs);
    timer.unref();
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    server.closeIdleConnections();
  });
}
