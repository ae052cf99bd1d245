/**
 * Per-request, per-version, high-resolution metrics for your services, so that the canary judge's
 * 30-second error alarm (HighResErrorJudge, evaluated every 10 seconds) can judge your canaries
 * faster than the one-minute metrics AWS publishes allow. Turn it on with
 * `"highResolutionMetrics": true` on the service in safe-deploy.config.json, which also sets
 * SAFE_DEPLOY_METRICS_SERVICE. README, "Faster judgement".
 *
 * The metrics use CloudWatch's embedded metric format (EMF): JSON log lines that CloudWatch Logs
 * turns into metrics (user guide, "Embedding metrics within logs"). No dependency and no AWS call:
 * a Lambda function's stdout and an ECS container's awslogs driver already deliver log lines to
 * CloudWatch Logs, and the `x-amzn-logs-format: json/emf` header is optional there ("Using the
 * PutLogEvents API to send manually-created embedded metric format logs").
 *
 * One file without imports: import it, or copy it into a service whose build context cannot reach
 * it (services/greeting-web/src/canary-metrics.ts is such a copy; a test keeps it identical). The
 * canary judge (JudgeTraffic.embeddedMetrics) and the simulator read CANARY_METRICS from here.
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
export function canaryMetricsDocument(service: string, version: string, batch: readonly RequestOutcome[], timestamp = Date.now()): string {
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

/** Options of both helpers; the defaults are what Lambda and ECS provide. */
export interface CanaryMetricsOptions {
  /** Value of the Service dimension. @default - process.env.SAFE_DEPLOY_METRICS_SERVICE */
  readonly service?: string;
  /** Where a line goes. @default - process.stdout */
  readonly write?: (line: string) => void;
  /** Where a warning goes (once). @default - process.stderr */
  readonly warn?: (line: string) => void;
  /** Clock, milliseconds. @default Date.now */
  readonly now?: () => number;
}

/** What a failed request looks like to a Lambda wrapper: a thrown error, or an HTTP result with a 5xx status. */
function failedResult(result: unknown): boolean {
  const status = (result as { statusCode?: unknown } | null | undefined)?.statusCode;
  return typeof status === 'number' && status >= 500;
}

/**
 * Wraps a Lambda handler: records every invocation under the version that ran it
 * (AWS_LAMBDA_FUNCTION_VERSION), as failed when it throws or returns a 5xx `statusCode`. The
 * handler's result and errors pass through unchanged.
 */
export function withCanaryMetrics<A extends unknown[], R>(
  handler: (...args: A) => Promise<R>,
  options: CanaryMetricsOptions = {},
): (...args: A) => Promise<R> {
  const recorder = createRecorder(options, async () => process.env.AWS_LAMBDA_FUNCTION_VERSION ?? '$LATEST');
  return async (...args: A): Promise<R> => {
    const started = recorder.now();
    try {
      const result = await handler(...args);
      await recorder.record([{ failed: failedResult(result), latencyMs: recorder.now() - started }], started);
      return result;
    } catch (err) {
      await recorder.record([{ failed: true, latencyMs: recorder.now() - started }], started);
      throw err;
    }
  };
}

/** The parts of a Node HTTP response the container helper reads (node:http's ServerResponse has them). */
export interface ObservedResponse {
  readonly statusCode: number;
  once(event: 'finish' | 'close', listener: () => void): unknown;
}

/** Options of `containerCanaryMetrics`. */
export interface ContainerCanaryMetricsOptions extends CanaryMetricsOptions {
  /**
   * The Version dimension. @default - the task definition revision, from the ECS task metadata
   * endpoint (ECS_CONTAINER_METADATA_URI_V4); "local" without one
   */
  readonly version?: string;
  /** @default globalThis.fetch */
  readonly fetch?: typeof globalThis.fetch;
  /**
   * How often the requests seen so far are written, as one line per up to 100 of them (a busy
   * container would otherwise write a line per request). The user guide asks for 5 s or less for
   * high-resolution alarms. @default 1000
   */
  readonly flushIntervalMs?: number;
}

/**
 * For a container's HTTP server: `observe(res)` at the start of each request records it when the
 * response finishes (failed for a 5xx, or a connection closed before the response ended), under the
 * task definition revision the task runs, the Version the judge compares. Requests are written in
 * batches every `flushIntervalMs` (the timer does not keep the process alive; `flush()` writes what
 * is pending, e.g. on SIGTERM).
 */
export function containerCanaryMetrics(options: ContainerCanaryMetricsOptions = {}): {
  observe(res: ObservedResponse): void;
  flush(): Promise<void>;
} {
  const recorder = createRecorder(options, () =>
    options.version !== undefined ? Promise.resolve(options.version) : taskRevision(options),
  );
  let pending: Array<{ outcome: RequestOutcome; at: number }> = [];
  let timer: ReturnType<typeof setInterval> | undefined;
  const flush = async (): Promise<void> => {
    const batch = pending;
    pending = [];
    for (let i = 0; i < batch.length; i += MAX_VALUES_PER_DOCUMENT) {
      const chunk = batch.slice(i, i + MAX_VALUES_PER_DOCUMENT);
      await recorder.record(
        chunk.map((c) => c.outcome),
        chunk[0].at,
      );
    }
  };
  return {
    observe(res: ObservedResponse): void {
      const started = recorder.now();
      let done = false;
      const finish = (failed: boolean) => {
        if (done) return;
        done = true;
        pending.push({ outcome: { failed, latencyMs: recorder.now() - started }, at: started });
        if (!timer) {
          timer = setInterval(() => void flush(), options.flushIntervalMs ?? 1000);
          timer.unref?.();
        }
      };
      res.once('finish', () => finish(res.statusCode >= 500));
      res.once('close', () => finish(true));
    },
    flush,
  };
}

/** The default `warn`: one line on stderr. */
const toStderr = (line: string): void => void process.stderr.write(`${line}\n`);

interface Recorder {
  now(): number;
  record(batch: readonly RequestOutcome[], at: number): Promise<void>;
}

function createRecorder(options: CanaryMetricsOptions, resolveVersion: () => Promise<string>): Recorder {
  const write = options.write ?? ((line: string) => void process.stdout.write(`${line}\n`));
  const warn = options.warn ?? toStderr;
  const now = options.now ?? Date.now;
  let version: Promise<string> | undefined;
  let warned = false;
  return {
    now,
    async record(batch, at) {
      const service = options.service ?? process.env[CANARY_METRICS.serviceEnv];
      if (!service) {
        // Loud once, never in the way: the service keeps serving, the one-minute judges keep judging.
        if (!warned) {
          warned = true;
          warn(
            `canary-metrics: ${CANARY_METRICS.serviceEnv} is not set, so no request is published: set "highResolutionMetrics": true on this service in safe-deploy.config.json`,
          );
        }
        return;
      }
      version ??= resolveVersion();
      write(canaryMetricsDocument(service, await version, batch, at));
    },
  };
}

/** The task definition revision from the ECS task metadata endpoint v4 ("Revision" of `${uri}/task`). */
async function taskRevision(options: ContainerCanaryMetricsOptions): Promise<string> {
  const uri = process.env.ECS_CONTAINER_METADATA_URI_V4;
  if (!uri) return 'local';
  const warn = options.warn ?? toStderr;
  try {
    const response = await (options.fetch ?? globalThis.fetch)(`${uri}/task`, { signal: AbortSignal.timeout(2000) });
    const body = (await response.json()) as { Revision?: unknown };
    if (response.ok && (typeof body.Revision === 'string' || typeof body.Revision === 'number')) return String(body.Revision);
    warn(
      `canary-metrics: the task metadata endpoint answered ${response.status} without a Revision: requests are published as version "unknown"`,
    );
  } catch (err) {
    warn(`canary-metrics: the task metadata endpoint failed (${(err as Error).message}): requests are published as version "unknown"`);
  }
  return 'unknown';
}
