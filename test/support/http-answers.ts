/**
 * Real SDK v3 clients whose HTTP layer is a stub: the SDK's own deserializers turn the stub's
 * answer into the error (or result) a real endpoint would produce, so tests see exactly what the
 * SDK makes of a proxy's HTML page, an empty error body or a network failure. No network is used.
 */
import { Readable } from 'node:stream';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { CodeBuildClient } from '@aws-sdk/client-codebuild';
import { CodeDeployClient } from '@aws-sdk/client-codedeploy';
import { CodePipelineClient } from '@aws-sdk/client-codepipeline';
import type { OpsClients } from '../../lib/runtime/clients';

/** One HTTP answer, or a network failure thrown by the HTTP layer. */
export type HttpAnswer =
  { readonly status: number; readonly body: string; readonly headers?: Record<string, string> } | { readonly throws: Error };

/** An HTTP answer of AWS's JSON protocols, e.g. `{"__type":"DeploymentAlreadyCompletedException","message":"..."}`. */
export const awsJsonError = (type: string, message: string, status = 400): HttpAnswer => ({
  status,
  body: JSON.stringify({ __type: type, message }),
  headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': '6a1f0e2d-3c4b-4a59-8e7d-0f1e2d3c4b5a' },
});

/** A corporate proxy's or captive portal's page. */
export const htmlPage = (status: number, title = `${status} Bad Gateway`): HttpAnswer => ({
  status,
  body: `<!DOCTYPE html><html><head><title>${title}</title></head><body><h1>${title}</h1><p>proxy.corp.example</p></body></html>`,
  headers: { 'content-type': 'text/html; charset=utf-8' },
});

/** A request handler that gives `answer` to every request (`maxAttempts: 1` keeps the SDK from retrying). */
export function stubHandler(answer: HttpAnswer | ((request: { path?: string; body?: unknown }) => HttpAnswer)) {
  return {
    handle: async (request: { path?: string; body?: unknown }) => {
      const a = typeof answer === 'function' ? answer(request) : answer;
      if ('throws' in a) throw a.throws;
      return { response: { statusCode: a.status, headers: a.headers ?? {}, body: Readable.from([Buffer.from(a.body)]) } };
    },
    updateHttpClientConfig: () => undefined,
    httpHandlerConfigs: () => ({}),
  };
}

const config = (answer: Parameters<typeof stubHandler>[0], region: string) => ({
  region,
  maxAttempts: 1,
  credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'example' },
  requestHandler: stubHandler(answer),
});

/** deployctl's clients, every one answering `answer`. */
export function answeringClients(answer: Parameters<typeof stubHandler>[0], region = 'us-east-1'): OpsClients {
  return {
    codepipeline: new CodePipelineClient(config(answer, region)),
    codedeploy: new CodeDeployClient(config(answer, region)),
    cloudformation: new CloudFormationClient(config(answer, region)),
    codebuild: new CodeBuildClient(config(answer, region)),
  };
}

/** What a client's `send` rejects with when the endpoint answers `answer`. */
export async function errorFor(send: (clients: OpsClients) => Promise<unknown>, answer: HttpAnswer): Promise<unknown> {
  try {
    await send(answeringClients(answer));
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to fail');
}
