import type { GetMetricDataCommandOutput } from '@aws-sdk/client-cloudwatch';
import { DeploymentInfo, GetDeploymentCommandOutput } from '@aws-sdk/client-codedeploy';
import type { FunctionConfiguration, InvokeCommandOutput, ListVersionsByFunctionCommandOutput } from '@aws-sdk/client-lambda';

/** Shared fixtures of the Lambda hook tests: realistic CodeDeploy and Lambda response shapes. */
export const FUNCTION_NAME = 'Beta-LambdaService-ServiceFunction243F2A49-AbCdEf012345';
export const HOOK_EVENT = {
  DeploymentId: 'd-8XQ2B7LMN',
  LifecycleEventHookExecutionId:
    'eyJlbmNyeXB0ZWREYXRhIjoiUm9ZL0FsTjdqNnRBa3N5dz09IiwiaXZQYXJhbWV0ZXJTcGVjIjoiVzJjVHFxdUdCQ0pDTDRFMyIsIm1hdGVyaWFsU2V0U2VyaWFsIjoxfQ==',
};

/** The check the example's HTTP services declare: GET /health, 200, body with "status":"ok". */
export const HEALTH_CHECK = { type: 'http' as const, path: '/health', expectedStatus: 200, bodyContains: '"status":"ok"' };

export function appSpec(props: Record<string, unknown> = {}): string {
  return JSON.stringify({
    version: 0.0,
    Resources: [
      {
        ServiceFunction243F2A49: {
          Type: 'AWS::Lambda::Function',
          Properties: { Name: FUNCTION_NAME, Alias: 'live', CurrentVersion: '6', TargetVersion: '7', ...props },
        },
      },
    ],
  });
}

export function getDeploymentOutput(content: string | undefined): GetDeploymentCommandOutput {
  return {
    $metadata: { httpStatusCode: 200 },
    deploymentInfo: {
      applicationName: 'Beta-LambdaService-ServiceDeploymentGroupApplication2E566B76-1XYZ',
      deploymentGroupName: 'Beta-LambdaService-ServiceDeploymentGroupE338BE38-ABC',
      deploymentConfigName: 'Beta-LambdaService-DeploymentConfig4FADF16C-QWE',
      deploymentId: HOOK_EVENT.DeploymentId,
      status: 'InProgress',
      computePlatform: 'Lambda',
      creator: 'user',
      createTime: new Date('2026-11-22T10:00:00Z'),
      deploymentStyle: { deploymentType: 'BLUE_GREEN', deploymentOption: 'WITH_TRAFFIC_CONTROL' },
      revision: content === undefined ? undefined : { revisionType: 'AppSpecContent', appSpecContent: { content, sha256: 'b'.repeat(64) } },
    },
  };
}

/** An Invoke answer: the function's return value as the payload. */
export function invokeOutput(result: unknown, extra: Partial<InvokeCommandOutput> = {}): InvokeCommandOutput {
  const payload = typeof result === 'string' ? result : JSON.stringify(result);
  return {
    $metadata: { httpStatusCode: 200 },
    StatusCode: 200,
    ExecutedVersion: '7',
    Payload: new TextEncoder().encode(payload) as InvokeCommandOutput['Payload'],
    ...extra,
  };
}

export function healthResponse(body: unknown = { status: 'ok', version: '7' }, statusCode = 200) {
  return { statusCode, headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) };
}

/**
 * A GetMetricData answer: one-minute Sum datapoints per query id, the newest first as CloudWatch
 * returns them by default, starting at `start` (only minutes with requests have a datapoint).
 */
export function metricDataOutput(
  values: Record<string, number[]>,
  start: Date,
  extra: Partial<GetMetricDataCommandOutput> = {},
): GetMetricDataCommandOutput {
  return {
    $metadata: { httpStatusCode: 200 },
    MetricDataResults: Object.entries(values).map(([id, v]) => ({
      Id: id,
      Label: 'Invocations',
      Timestamps: v.map((_, i) => new Date(start.getTime() + i * 60_000)).reverse(),
      Values: [...v].reverse(),
      StatusCode: 'Complete' as const,
    })),
    Messages: [],
    ...extra,
  };
}

/** Code hashes of three builds of the service (base64 SHA-256, as Lambda reports CodeSha256). */
export const CODE = {
  A: 'n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=',
  B: 'Q1h2bHd4eXZ1dHNycXBvbm1sa2ppaGdmZWRjYmE5ODc=',
  C: 'YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXoxMjM0NTY=',
};

/** One published version as ListVersionsByFunction lists it: the service's configuration, with `code`. */
export function functionVersion(version: string, code: string, extra: Partial<FunctionConfiguration> = {}): FunctionConfiguration {
  return {
    FunctionName: FUNCTION_NAME,
    FunctionArn: `arn:aws:lambda:us-east-1:111111111111:function:${FUNCTION_NAME}:${version}`,
    Runtime: 'nodejs22.x',
    Role: 'arn:aws:iam::111111111111:role/Beta-LambdaService-ServiceFunctionRole-1A2B3C',
    Handler: 'index.handler',
    CodeSize: 48213,
    Description: 'Beta-LambdaService/Service (canary-released by CodeDeploy)',
    Timeout: 10,
    MemorySize: 256,
    // Published versions carry the time of publication; one per release, a day apart.
    LastModified: `2026-11-${/^\d+$/.test(version) ? String(10 + Number(version)) : '28'}T09:58:31.123+0000`,
    CodeSha256: code,
    Version: version,
    Environment: { Variables: { LOG_LEVEL: 'info', POWERTOOLS_SERVICE_NAME: 'orders-api' } },
    TracingConfig: { Mode: 'PassThrough' },
    RevisionId: `7c1e2b7a-0d3f-4a51-9b8e-00000000000${version.slice(-1)}`,
    PackageType: 'Zip',
    Architectures: ['arm64'],
    EphemeralStorage: { Size: 512 },
    ...extra,
  };
}

/** ListVersionsByFunction's answer ($LATEST first, then the versions in order). */
export function versionsOutput(
  versions: FunctionConfiguration[],
  extra: Partial<ListVersionsByFunctionCommandOutput> = {},
): ListVersionsByFunctionCommandOutput {
  return {
    $metadata: { httpStatusCode: 200 },
    Versions: [functionVersion('$LATEST', versions[versions.length - 1]?.CodeSha256 ?? CODE.A), ...versions],
    ...extra,
  };
}

/** A past deployment of the alias, as BatchGetDeployments returns it. */
export function pastDeployment(
  deploymentId: string,
  current: string,
  target: string,
  status: 'Succeeded' | 'Failed' | 'Stopped',
  createTime: Date,
): DeploymentInfo {
  const { deploymentInfo } = getDeploymentOutput(appSpec({ CurrentVersion: current, TargetVersion: target }));
  return { ...deploymentInfo, deploymentId, status, createTime, creator: 'CloudFormation' };
}
