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

/** Values one EMF document may carry for a metric (the embedded metric format specification's limit). */
export const MAX_VALUES_PER_DOCUMENT = 100;

/**
 * One EMF document for up to MAX_VALUES_PER_DOCUMENT requests: `Requests` (their count), `Errors`
 * (how many failed, 0 included, so that a window with requests always has an Errors datapoint) and
 * `Latency` (each request's milliseconds), each with a storage resolution of 1 second (high
 * resolution, so that 10- and 30-second alarms can read them), under two dimension sets: [Service]
 * (every version: the total) and [Service, Version] (this version).
 */
export function canaryMetricsDocument(
  service: string,
  version: string,
  outcomes: RequestOutcome | readonly RequestOutcome[],
  timestamp = Date.now(),
): string {
  const batch = Array.isArray(outcomes) ? (outcomes as readonly RequestOutcome[]) : [outcomes as RequestOutcome];
  if (batch.length === 0 || batch.length > MAX_VALUES_PER_DOCUMENT)
    throw new Error(`an EMF document holds 1 to ${MAX_VALUES_PER_DOCUMENT} requests, not ${batch.length}`);
  const latencies = batch.map((o) => Math.round((Number.isFinite(o.latencyMs) && o.latencyMs >= 0 ? o.latencyMs : 0) * 1000) / 1000);
  const m = CANARY_METRICS;
  return JSON.stringify({
    _aws: {
      Timestamp: timestamp,
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
    [m.requests]: batch.length,
    [m.errors]: batch.filter((o) => o.failed).length,
    [m.latency]: latencies.length === 1 ? latencies[0] : latencies,
  });
}
