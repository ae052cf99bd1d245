import type { GetMetricDataCommandOutput } from '@aws-sdk/client-cloudwatch';
import { GetDeploymentCommandOutput } from '@aws-sdk/client-codedeploy';
import type { InvokeCommandOutput } from '@aws-sdk/client-lambda';

/** Shared fixtures of the Lambda hook tests: realistic CodeDeploy and Lambda response shapes. */
export const FUNCTION_NAME = 'Beta-LambdaService-ServiceFunction243F2A49-AbCdEf012345';
export const HOOK_EVENT = {
  DeploymentId: 'd-8XQ2B7LMN',
  LifecycleEventHookExecutionId: 'eyJlbmNyeXB0ZWREYXRhIjoiUm9ZL0FsTjdqNnRBa3N5dz09IiwiaXZQYXJhbWV0ZXJTcGVjIjoiVzJjVHFxdUdCQ0pDTDRFMyIsIm1hdGVyaWFsU2V0U2VyaWFsIjoxfQ==',
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
  return { $metadata: { httpStatusCode: 200 }, StatusCode: 200, ExecutedVersion: '7', Payload: new TextEncoder().encode(payload) as InvokeCommandOutput['Payload'], ...extra };
}

export function healthResponse(body: unknown = { status: 'ok', version: '7' }, statusCode = 200) {
  return { statusCode, headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) };
}

/**
 * A GetMetricData answer: one-minute Sum datapoints per query id, the newest first as CloudWatch
 * returns them by default, starting at `start` (only minutes with requests have a datapoint).
 */
export function metricDataOutput(values: Record<string, number[]>, start: Date, extra: Partial<GetMetricDataCommandOutput> = {}): GetMetricDataCommandOutput {
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
