import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';

/** What the server reports about itself. */
export interface ServerOptions {
  /** The release this process runs (the image tag: a git commit in the pipeline). */
  readonly version: string;
  /** Name shown in responses. */
  readonly serviceName: string;
}

const MAX_NAME = 64;

/** Routes one request; pure over (method, url) so it is easy to reason about. */
export function route(method: string, rawUrl: string, options: ServerOptions): { status: number; body: unknown } {
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
    return { status: 200, body: { message: `Hello, ${name}!`, service: options.serviceName, version: options.version } };
  }
  return { status: 404, body: { error: `no route for ${url.pathname}` } };
}

/** An HTTP server for the service; call `listen` yourself (tests use port 0). */
export function createAppServer(options: ServerOptions): Server {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let result: { status: number; body: unknown };
    try {
      result = route(req.method ?? 'GET', req.url ?? '/', options);
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
  });
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
