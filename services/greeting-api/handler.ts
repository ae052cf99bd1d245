import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { withCanaryMetrics } from '../../lib/canary-metrics';
import { createFlagsClient, FlagContext, FlagsClient } from '../../lib/flags-client/feature-flags';

/** What the service knows about itself; injected so tests need no Lambda environment. */
export interface ServiceInfo {
  /** The version that runs this code (`$LATEST` outside Lambda). */
  readonly version: string;
}

const MAX_NAME_LENGTH = 64;

/**
 * What the service's feature flags decide for one request (declared under `flags` of greeting-api in
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

const logger = new Logger({ serviceName: 'greeting-api' });

/** Routes one Function URL request (payload format 2.0). Pure: no I/O besides the returned value. */
export function handleRequest(event: APIGatewayProxyEventV2, info: ServiceInfo, flags: GreetingFlags = DEFAULT_FLAGS): APIGatewayProxyStructuredResultV2 {
  const method = event.requestContext?.http?.method ?? 'GET';
  const path = event.rawPath ?? '/';
  if (path === '/health') {
    if (method !== 'GET') return methodNotAllowed(method, path);
    return json(200, { status: 'ok', version: info.version });
  }
  if (path === '/greeting') {
    if (method !== 'GET') return methodNotAllowed(method, path);
    const name = (event.queryStringParameters?.name ?? 'world').trim();
    if (name.length === 0 || name.length > MAX_NAME_LENGTH) {
      return json(400, { message: `name must be 1 to ${MAX_NAME_LENGTH} characters, got ${name.length}` });
    }
    return json(200, { greeting: `${flags.salutation}, ${name}!${flags.emoji ? ' \u{1F44B}' : ''}`, version: info.version });
  }
  return json(404, { message: `no route for ${method} ${path}: try GET /health or GET /greeting?name=you` });
}

/**
 * Who is asking, for the flags' targeting rules. The example takes the user from an `x-user-id`
 * header; a real service takes it from its authenticated identity (a header anyone can set lets
 * anyone pick their variant).
 */
export function flagContext(event: APIGatewayProxyEventV2): FlagContext {
  const userId = event.headers?.['x-user-id']?.trim();
  return userId ? { userId } : {};
}

/**
 * Asks the AppConfig agent (the Lambda extension) for this request's flags. The user-targeted
 * `greeting_style` is evaluated only for a known user: anonymous requests, the deployment hooks'
 * among them, get its declared default, so the checks see the same answer whatever the rollout.
 */
export async function readFlags(context: FlagContext, client: FlagsClient): Promise<GreetingFlags> {
  const emoji = await client.evaluateFlag('greeting_emoji', context, DEFAULT_FLAGS.emoji);
  if (!context.userId) return { ...DEFAULT_FLAGS, emoji };
  const style = await client.evaluateFlagDetails('greeting_style', context, { enabled: false, variant: 'plain', attributes: { salutation: DEFAULT_FLAGS.salutation } });
  const salutation = typeof style.attributes.salutation === 'string' ? style.attributes.salutation : DEFAULT_FLAGS.salutation;
  return { emoji, salutation };
}

// Created once per execution environment: it reads FEATURE_FLAGS_* (set by the stack) once.
const flagsClient = createFlagsClient();

/** One request with a given flags client (tests pass a fake one). */
export async function serve(event: APIGatewayProxyEventV2, client: FlagsClient): Promise<APIGatewayProxyStructuredResultV2> {
  // Only the greeting depends on flags: the health check never waits for the agent.
  const flags = event.rawPath === '/greeting' ? await readFlags(flagContext(event), client) : DEFAULT_FLAGS;
  const response = handleRequest(event, { version: process.env.AWS_LAMBDA_FUNCTION_VERSION ?? '$LATEST' }, flags);
  logger.info('Request', { method: event.requestContext?.http?.method, path: event.rawPath, statusCode: response.statusCode, salutation: flags.salutation });
  return response;
}

// Lambda passes (event, context): the flags client is not a parameter of the entry point. Each
// request is also published per version for the canary judge's 30-second alarm
// ("highResolutionMetrics": true in safe-deploy.config.json).
export const handler = withCanaryMetrics((event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => serve(event, flagsClient));

function methodNotAllowed(method: string, path: string): APIGatewayProxyStructuredResultV2 {
  return { ...json(405, { message: `${method} is not allowed on ${path}: use GET` }), headers: { 'content-type': 'application/json', allow: 'GET' } };
}

function json(statusCode: number, body: unknown): APIGatewayProxyStructuredResultV2 {
  return { statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}
