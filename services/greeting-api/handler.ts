import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { Logger } from '@aws-lambda-powertools/logger';

/** What the service knows about itself; injected so tests need no Lambda environment. */
export interface ServiceInfo {
  /** The version that runs this code (`$LATEST` outside Lambda). */
  readonly version: string;
}

const MAX_NAME_LENGTH = 64;

const logger = new Logger({ serviceName: 'greeting-api' });

/** Routes one Function URL request (payload format 2.0). Pure: no I/O besides the returned value. */
export function handleRequest(event: APIGatewayProxyEventV2, info: ServiceInfo): APIGatewayProxyStructuredResultV2 {
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
    return json(200, { greeting: `Hello, ${name}!`, version: info.version });
  }
  return json(404, { message: `no route for ${method} ${path}: try GET /health or GET /greeting?name=you` });
}

export async function handler(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
  const response = handleRequest(event, { version: process.env.AWS_LAMBDA_FUNCTION_VERSION ?? '$LATEST' });
  logger.info('Request', { method: event.requestContext?.http?.method, path: event.rawPath, statusCode: response.statusCode });
  return response;
}

function methodNotAllowed(method: string, path: string): APIGatewayProxyStructuredResultV2 {
  return { ...json(405, { message: `${method} is not allowed on ${path}: use GET` }), headers: { 'content-type': 'application/json', allow: 'GET' } };
}

function json(statusCode: number, body: unknown): APIGatewayProxyStructuredResultV2 {
  return { statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}
