import { CodeDeployClient, GetDeploymentCommand } from '@aws-sdk/client-codedeploy';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { retry, RetryOptions } from '../../lib/runtime/retry';
import type { ServiceCheck } from '../../lib/runtime/service-check';
import type { CheckResult } from './codedeploy-hook';

/** What a Lambda deployment's AppSpec says is being deployed. */
export interface LambdaDeploymentTarget {
  /** Function name (or ARN) as written in the AppSpec. */
  readonly functionName: string;
  readonly alias: string;
  readonly currentVersion: string;
  readonly targetVersion: string;
  /** When the deployment was created (GetDeployment), when read from CodeDeploy. */
  readonly createTime?: Date;
  /** Who created it (`user`, `CloudFormation`, `CloudFormationRollback`, `codeDeployRollback`, ...), when read from CodeDeploy. */
  readonly creator?: string;
  /** Its CodeDeploy application and deployment group, when read from CodeDeploy. */
  readonly group?: { readonly applicationName: string; readonly deploymentGroupName: string };
}

/**
 * Reads the deployment's AppSpec (`deploymentInfo.revision.appSpecContent.content`, or the older
 * `string.content`) and returns the one `AWS::Lambda::Function` resource in it. Throws with the
 * reason when the deployment has no usable AppSpec.
 */
export async function getDeploymentTarget(
  client: CodeDeployClient,
  deploymentId: string,
  options: { signal?: AbortSignal; retry?: RetryOptions } = {},
): Promise<LambdaDeploymentTarget> {
  const out = await retry(() => client.send(new GetDeploymentCommand({ deploymentId }), { abortSignal: options.signal }), options.retry);
  const revision = out.deploymentInfo?.revision;
  const content = revision?.appSpecContent?.content ?? revision?.string?.content;
  if (typeof content !== 'string' || content.trim() === '') {
    throw new Error(`deployment ${deploymentId} has no AppSpec content (revisionType: ${revision?.revisionType ?? 'none'})`);
  }
  const info = out.deploymentInfo;
  return {
    ...parseAppSpec(content),
    ...(info?.createTime ? { createTime: info.createTime } : {}),
    ...(info?.creator ? { creator: info.creator } : {}),
    ...(info?.applicationName && info.deploymentGroupName
      ? { group: { applicationName: info.applicationName, deploymentGroupName: info.deploymentGroupName } }
      : {}),
  };
}

/**
 * Parses a Lambda AppSpec. CloudFormation-started deployments carry JSON; YAML is accepted in the
 * flat form CodeDeploy documents (one function, scalar properties) without a YAML dependency.
 */
export function parseAppSpec(content: string): LambdaDeploymentTarget {
  const props = content.trim().startsWith('{') ? jsonProperties(content) : yamlProperties(content);
  const missing = (['Name', 'Alias', 'CurrentVersion', 'TargetVersion'] as const).filter(
    (k) => typeof props[k] !== 'string' || props[k] === '',
  );
  if (missing.length > 0) {
    throw new Error(`AppSpec lacks ${missing.join(', ')} in Resources[].*.Properties`);
  }
  return { functionName: props.Name!, alias: props.Alias!, currentVersion: props.CurrentVersion!, targetVersion: props.TargetVersion! };
}

type AppSpecProps = Partial<Record<'Name' | 'Alias' | 'CurrentVersion' | 'TargetVersion', string>>;

function jsonProperties(content: string): AppSpecProps {
  let doc: unknown;
  try {
    doc = JSON.parse(content);
  } catch (e) {
    throw new Error(`AppSpec is not valid JSON: ${(e as Error).message}`, { cause: e });
  }
  const resources = (doc as { Resources?: unknown })?.Resources;
  if (!Array.isArray(resources) || resources.length === 0) {
    throw new Error('AppSpec has no Resources list');
  }
  const functions = resources
    .flatMap((r) => Object.values((r ?? {}) as Record<string, { Type?: string; Properties?: Record<string, unknown> }>))
    .filter((r) => r?.Type === 'AWS::Lambda::Function');
  if (functions.length !== 1) {
    throw new Error(`AppSpec has ${functions.length} AWS::Lambda::Function resources, expected exactly 1`);
  }
  const p = functions[0].Properties ?? {};
  return { Name: str(p.Name), Alias: str(p.Alias), CurrentVersion: str(p.CurrentVersion), TargetVersion: str(p.TargetVersion) };
}

function yamlProperties(content: string): AppSpecProps {
  if (!/Type:\s*["']?AWS::Lambda::Function/.test(content)) {
    throw new Error('AppSpec is neither JSON nor YAML with an AWS::Lambda::Function resource');
  }
  const field = (k: string) => new RegExp(`^\\s*${k}:\\s*["']?([^"'\\s#]+)`, 'm').exec(content)?.[1];
  return { Name: field('Name'), Alias: field('Alias'), CurrentVersion: field('CurrentVersion'), TargetVersion: field('TargetVersion') };
}

function str(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v); // versions are sometimes written unquoted
  return undefined;
}

/** A Function URL (payload 2.0) event for `GET <path>`, as the smoke request. */
export function functionUrlEvent(path: string, query: Record<string, string> = {}): APIGatewayProxyEventV2 {
  const rawQueryString = new URLSearchParams(query).toString();
  const now = new Date();
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString,
    headers: { 'user-agent': 'safe-deploy-smoke-test', accept: 'application/json' },
    queryStringParameters: Object.keys(query).length > 0 ? query : undefined,
    isBase64Encoded: false,
    requestContext: {
      accountId: 'anonymous',
      apiId: 'smoke-test',
      domainName: 'smoke-test.lambda-url.local',
      domainPrefix: 'smoke-test',
      http: { method: 'GET', path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'safe-deploy-smoke-test' },
      requestId: `smoke-${now.getTime()}`,
      routeKey: '$default',
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
  };
}

/** Which version or alias of which function a check goes to. */
export interface CheckTarget {
  readonly functionName: string;
  /** A version number or an alias name. */
  readonly qualifier: string;
  /** When set, Lambda's ExecutedVersion must equal it. */
  readonly expectVersion?: string;
}

/**
 * Runs the service's own check on a function version or alias: an HTTP request as a Function URL
 * event (status and, optionally, body text), or an invocation with the configured payload (no
 * function error and, optionally, response text). Throttling is retried; a timeout comes from `signal`.
 */
export async function runServiceCheck(
  client: LambdaClient,
  target: CheckTarget,
  check: ServiceCheck,
  options: { signal?: AbortSignal; retry?: RetryOptions } = {},
): Promise<CheckResult> {
  const where = `${target.functionName}:${target.qualifier}`;
  if (check.type === 'none') {
    return { status: 'Succeeded', reason: `${where}: the service declares no health or invoke check; its alarms judge the version` };
  }
  const what = check.type === 'http' ? `GET ${check.path}` : 'the invoke check';
  const event = check.type === 'http' ? functionUrlEvent(...splitPath(check.path)) : check.payload;
  const out = await retry(
    () =>
      client.send(
        new InvokeCommand({
          FunctionName: target.functionName,
          Qualifier: target.qualifier,
          InvocationType: 'RequestResponse',
          Payload: new TextEncoder().encode(JSON.stringify(event ?? {})),
        }),
        { abortSignal: options.signal },
      ),
    options.retry,
  );
  const payload = out.Payload ? new TextDecoder().decode(out.Payload) : '';
  if (out.FunctionError) {
    return { status: 'Failed', reason: `${where} ${what} raised ${out.FunctionError} error: ${payload.slice(0, 500)}` };
  }
  if (target.expectVersion !== undefined && out.ExecutedVersion !== undefined && out.ExecutedVersion !== target.expectVersion) {
    return { status: 'Failed', reason: `${where} ran version ${out.ExecutedVersion}, expected ${target.expectVersion}` };
  }
  let body = payload;
  if (check.type === 'http') {
    let response: { statusCode?: unknown; body?: unknown };
    try {
      response = JSON.parse(payload);
    } catch {
      return {
        status: 'Failed',
        reason: `${where} ${what} returned a payload that is not a Function URL response: ${payload.slice(0, 200)}`,
      };
    }
    // A Function URL treats a returned value without statusCode as a 200 with that value as body.
    const status = typeof response === 'object' && response !== null && 'statusCode' in response ? response.statusCode : 200;
    if (status !== check.expectedStatus) {
      return { status: 'Failed', reason: `${where} ${what} answered status ${JSON.stringify(status)}, expected ${check.expectedStatus}` };
    }
    body = typeof response?.body === 'string' ? response.body : JSON.stringify(response?.body ?? response);
  }
  if (check.bodyContains !== undefined && !body.includes(check.bodyContains)) {
    return {
      status: 'Failed',
      reason: `${where} ${what}: the response does not contain ${JSON.stringify(check.bodyContains)}: ${body.slice(0, 200)}`,
    };
  }
  const version = target.expectVersion ? ` from version ${target.expectVersion}` : '';
  return { status: 'Succeeded', reason: `${where} ${what} answered as expected${version}` };
}

/** "/orders?id=1" → ["/orders", { id: "1" }] */
function splitPath(pathAndQuery: string): [string, Record<string, string>] {
  const url = new URL(pathAndQuery, 'http://check.local');
  return [url.pathname, Object.fromEntries(url.searchParams)];
}
