import { CloudWatchClient, GetMetricDataCommand, MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import { CanaryTrafficCheck, METRICS_SETTLE_MS } from '../../lib/runtime/canary-traffic-settings';
import { errorLine } from '../../lib/runtime/errors';
import { retry, RetryOptions } from '../../lib/runtime/retry';
import type { CheckResult } from './codedeploy-hook';

/**
 * The traffic check of a judged canary (docs/canary-judge.md, "Too little traffic"): after the shift
 * to 100%, the AfterAllowTraffic hook counts the requests the canary served during its step and
 * fails the deployment when they are fewer than the judge needs. CodeDeploy has no hook between the
 * canary step and the shift, so the refusal comes after it, and CodeDeploy rolls back.
 */

/** The canary step as the check counts it: whole minutes, [start, end). */
export interface StepWindow {
  readonly start: Date;
  readonly end: Date;
}

/**
 * The step's whole minutes: from the minute it starts in to the start of the minute it ends in.
 * GetMetricData rounds StartTime down to the minute anyway ("Start time less than 15 days ago -
 * Round down to the nearest whole minute"; EndTime is exclusive: GetMetricData API reference). The
 * minute the shift to 100% happens in is left out, so no full-traffic request counts as canary;
 * the price is up to a minute of the step's own requests.
 */
export function stepWindow(stepStart: Date, stepMinutes: number): StepWindow {
  const start = Math.floor(stepStart.getTime() / 60_000) * 60_000;
  const end = Math.floor((stepStart.getTime() + stepMinutes * 60_000) / 60_000) * 60_000;
  return { start: new Date(start), end: new Date(Math.max(end, start)) };
}

/** One count metric to sum over the window (statistic Sum, 60 s periods). */
export interface CountMetric {
  /** GetMetricData query id: starts with a lowercase letter. */
  readonly id: string;
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: Readonly<Record<string, string>>;
}

/**
 * Sums each metric's one-minute datapoints over the window, following NextToken. A result that
 * CloudWatch could not produce (StatusCode Forbidden or InternalError) throws: a count it did not
 * give is not zero. A minute without a datapoint is a minute without requests (Lambda and the ALB
 * publish none then).
 */
export async function sumCounts(
  client: CloudWatchClient,
  metrics: readonly CountMetric[],
  window: StepWindow,
  options: { signal?: AbortSignal; retry?: RetryOptions } = {},
): Promise<Record<string, number>> {
  const queries: MetricDataQuery[] = metrics.map((m) => ({
    Id: m.id,
    MetricStat: {
      Metric: {
        Namespace: m.namespace,
        MetricName: m.metricName,
        Dimensions: Object.entries(m.dimensions).map(([Name, Value]) => ({ Name, Value })),
      },
      Period: 60,
      Stat: 'Sum',
    },
    ReturnData: true,
  }));
  const sums: Record<string, number> = Object.fromEntries(metrics.map((m) => [m.id, 0]));
  let nextToken: string | undefined;
  do {
    const token = nextToken;
    const out = await retry(
      () =>
        client.send(
          new GetMetricDataCommand({
            MetricDataQueries: queries,
            StartTime: window.start,
            EndTime: window.end,
            ScanBy: 'TimestampAscending',
            NextToken: token,
          }),
          { abortSignal: options.signal },
        ),
      options.retry,
    );
    for (const r of out.MetricDataResults ?? []) {
      if (r.StatusCode === 'Forbidden' || r.StatusCode === 'InternalError') {
        throw new Error(
          `GetMetricData answered ${r.StatusCode} for ${r.Id}${(r.Messages ?? []).length > 0 ? `: ${r.Messages!.map((x) => x.Value ?? x.Code).join('; ')}` : ''}`,
        );
      }
      if (r.Id === undefined || !(r.Id in sums)) continue;
      sums[r.Id] += (r.Values ?? []).reduce((a, b) => a + b, 0);
    }
    nextToken = out.NextToken;
  } while (nextToken);
  return sums;
}

/** One reading of the canary's request count in the step. */
export interface CanaryCount {
  readonly count: number;
  /** Where the count comes from, for the reason (e.g. "target group targetgroup/a/1; the other served 3400"). */
  readonly detail: string;
}

/** Clock and pacing of the settling wait; tests pass a fake clock and a sleep that does not wait. */
export interface TrafficWaitOptions {
  /** @default Date.now */
  readonly now?: () => number;
  /** @default - setTimeout, cut short by `signal` */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Time between two readings while waiting. @default 20000 */
  readonly pollMs?: number;
  /** @default METRICS_SETTLE_MS */
  readonly settleMs?: number;
  readonly signal?: AbortSignal;
}

/**
 * Decides the check: Succeeded as soon as a reading reaches `minRequests`; while it does not, reads
 * again until the step's last minute has had `settleMs` to be published, then Failed with the
 * reason. A reading that fails (throttled beyond the retries, access denied) fails the check: a
 * canary whose traffic cannot be counted does not pass unjudged.
 */
export async function judgeCanaryTraffic(
  read: () => Promise<CanaryCount>,
  check: CanaryTrafficCheck,
  window: StepWindow,
  options: TrafficWaitOptions = {},
): Promise<CheckResult> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? abortableSleep;
  const settledAt = window.end.getTime() + (options.settleMs ?? METRICS_SETTLE_MS);
  const span = `${hhmm(window.start)}-${hhmm(window.end)} UTC`;
  for (;;) {
    let reading: CanaryCount;
    try {
      reading = await read();
    } catch (err) {
      if (options.signal?.aborted) throw err;
      return { status: 'Failed', reason: `could not count the canary's requests, so it cannot pass unjudged: ${errorLine(err)}` };
    }
    if (reading.count >= check.minRequests) {
      return {
        status: 'Succeeded',
        reason: `the canary served ${reading.count} requests in its ${check.stepMinutes}-minute step (the judge needs ${check.minRequests}; ${reading.detail}, ${span})`,
      };
    }
    const left = settledAt - now();
    if (left <= 0) return { status: 'Failed', reason: `${heldReason(reading.count, check)} (${reading.detail}, ${span})` };
    await sleep(Math.min(options.pollMs ?? 20_000, left), options.signal);
  }
}

/** The refusal, in the words the operator sees in CodeDeploy and CloudFormation. */
export function heldReason(count: number, check: CanaryTrafficCheck): string {
  return (
    `held: the canary served ${count} requests in its ${check.stepMinutes}-minute step; the judge needs ${check.minRequests} to tell a regression from noise: ` +
    'lengthen the canary step, raise traffic, or set judge.minRequests lower'
  );
}

/** Who created a deployment: a rollback goes back to a version that served before, and is not held. */
export function isRollbackCreator(creator: string | undefined): boolean {
  // DeploymentInfo.creator (CodeDeploy API): "codeDeployRollback" (a rollback process created the
  // deployment) and "CloudFormationRollback" (SDK enum DeploymentCreator).
  return creator === 'codeDeployRollback' || creator === 'CloudFormationRollback';
}

function hhmm(d: Date): string {
  return d.toISOString().slice(11, 16);
}

function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
