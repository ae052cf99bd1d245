/**
 * Per-version, high-resolution request metrics a service publishes itself, in CloudWatch embedded
 * metric format (EMF): one JSON log line per request, which CloudWatch Logs turns into metrics
 * (CloudWatch user guide, "Embedding metrics within logs"). No dependency and no AWS call: a Lambda
 * function's stdout and an ECS container's awslogs driver already deliver log lines to CloudWatch
 * Logs, and the `x-amzn-logs-format: json/emf` header is optional there ("Using the PutLogEvents API
 * to send manually-created embedded metric format logs").
 *
 * The canary judge reads these names (JudgeTraffic.embeddedMetrics): keep them in one place.
 */
export const CANARY_METRICS = {
  namespace: 'SafeDeploy/Canary',
  requests: 'Requests',
  errors: 'Errors',
  latency: 'Latency',
  serviceDimension: 'Service',
  versionDimension: 'Version',
  /** Environment variable through which the service learns the value of its `Service` dimension. */
  serviceEnv: 'SAFE_DEPLOY_METRICS_SERVICE',
} as const;

/** One request's outcome. */
export interface RequestOutcome {
  /** Whether the request failed (a 5xx, an unhandled error). */
  readonly failed: boolean;
  /** How long it took, in milliseconds. */
  readonly latencyMs: number;
}

/**
 * One EMF document for one request: `Requests` 1, `Errors` 0 or 1, `Latency` in milliseconds, each
 * with a storage resolution of 1 second (high resolution, so that 10- and 30-second alarms can read
 * them) under two dimension sets: [Service] (every version: the total) and [Service, Version] (this
 * version). Errors is written for every request, so that a window with requests always has an
 * Errors datapoint.
 */
export function canaryMetricsDocument(service: string, version: string, outcome: RequestOutcome, now = Date.now()): string {
  const latency = Number.isFinite(outcome.latencyMs) && outcome.latencyMs >= 0 ? outcome.latencyMs : 0;
  const m = CANARY_METRICS;
  return JSON.stringify({
    _aws: {
      Timestamp: now,
      CloudWatchMetrics: [
        {
          Namespace: m.namespace,
          Dimensions: [[m.serviceDimension], [m.serviceDimension, m.versionDimension]],
          Metrics: [
            { Name: m.requests, Unit: 'Count', StorageResolution: 1 },
            { Name: m.errors, Unit: 'Count', StorageResolution: 1 },
            { Name: m.latency, Unit: 'Milliseconds', StorageResolution: 1 },
          ],
        },
      ],
    },
    [m.serviceDimension]: service,
    [m.versionDimension]: version,
    [m.requests]: 1,
    [m.errors]: outcome.failed ? 1 : 0,
    [m.latency]: Math.round(latency * 1000) / 1000,
  });
}
