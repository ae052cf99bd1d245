import { Random } from './random';

/**
 * Simulated traffic of one deployment, as buckets per version: one minute (the resolution Lambda and
 * the ALB publish at), or 10 seconds for alarms on high-resolution metrics (the noise factors still
 * change once a minute): request and error counts (Poisson, so a bucket split by an event is exact:
 * the pieces are independent Poisson draws), latency as lognormal components weighted by their
 * request counts, and the unhealthy-host flag of a crash-looping task set.
 */

/** A regression, a healthy release or an incident, as rates per version. */
export interface Scenario {
  readonly id: string;
  readonly label: string;
  /** Whether a correct judge rolls this release back. */
  readonly expect: 'rollback' | 'pass';
  /** Error rate of the running (baseline) version, a fraction. */
  readonly baselineErrorRate: number;
  /** Error-rate increase of the new version, a fraction (0.02 = +2 points). @default 0 */
  readonly canaryErrorDelta?: number;
  /** Error rate of the new version, replacing baseline + delta (a crash loop: 0.99). */
  readonly canaryErrorRate?: number;
  /** Latency multiplier of the new version. @default 1 */
  readonly canaryLatencyFactor?: number;
  /** The new version's tasks fail their health checks (ECS UnHealthyHostCount). @default false */
  readonly canaryUnhealthy?: boolean;
  /** An incident that hits both versions alike, starting a uniform time after the canary starts. */
  readonly outage?: {
    readonly startMinutes: readonly [number, number];
    readonly durationMinutes: number;
    /** Error rate the incident adds (combined as independent failures). */
    readonly errorRate: number;
    readonly latencyFactor: number;
  };
  /**
   * Minute-to-minute error-rate noise: lognormal sigmas of a factor shared by both versions (the
   * traffic mix, a flaky dependency) and of one per version (a noisy host).
   */
  readonly errorNoise?: { readonly shared: number; readonly perVersion: number };
  /** Minute-to-minute sigma of log latency, shared by both versions. @default 0 */
  readonly latencyNoise?: number;
}

/** The deployment and service: who gets what share when, and the latency distribution. */
export interface TrafficModel {
  /** Requests per second, both versions together. */
  readonly rps: number;
  /** Fraction of requests the canary step sends to the new version. */
  readonly canaryShare: number;
  readonly stepMinutes: number;
  /** Minutes CodeDeploy still watches the alarms after the shift to 100% (hooks, termination wait). */
  readonly postShiftMinutes: number;
  /** Minutes of pre-deployment traffic (must cover the longest alarm window). */
  readonly historyMinutes: number;
  /** Median latency of a healthy version, milliseconds. */
  readonly latencyMedianMs: number;
  /** Sigma of log latency (0.5: p90 = 1.9 x median, p99 = 3.2 x median). */
  readonly latencySigma: number;
  /** Seconds per bucket: 60, or 10 for high-resolution alarms (a divisor of 60). */
  readonly bucketSeconds: number;
}

export const DEFAULT_TRAFFIC: Omit<TrafficModel, 'rps'> = {
  canaryShare: 0.1,
  stepMinutes: 10,
  postShiftMinutes: 2,
  historyMinutes: 15,
  latencyMedianMs: 80,
  latencySigma: 0.5,
  bucketSeconds: 60,
};

/** Lognormal latency components a bucket of one version can hold (healthy, in an incident). */
export const MAX_COMPONENTS = 4;

export interface VersionTraffic {
  /** Requests per bucket, and their running sum (prefix[k] = sum of buckets before k). */
  readonly requests: Float64Array;
  readonly requestsPrefix: Float64Array;
  readonly errors: Float64Array;
  readonly errorsPrefix: Float64Array;
  /**
   * Latency per bucket: component c of bucket k has log-median `latencyMu[k * MAX_COMPONENTS + c]`
   * and `latencyWeight[...]` requests, for c < latencyCount[k]; all share the run's sigma.
   */
  readonly latencyMu: Float64Array;
  readonly latencyWeight: Float64Array;
  readonly latencyCount: Uint8Array;
  /** 1 where the version's tasks fail health checks in the bucket. */
  readonly unhealthy: Uint8Array;
}

export interface RunTraffic {
  /** Seconds from the start of bucket 0 at which the canary step starts (its first request). */
  readonly t0: number;
  /** When the step ends and the remaining traffic shifts. */
  readonly stepEnd: number;
  /** When CodeDeploy stops watching the alarms. */
  readonly end: number;
  readonly buckets: number;
  /** Seconds per bucket. */
  readonly bucketSeconds: number;
  readonly canary: VersionTraffic;
  readonly baseline: VersionTraffic;
  /** Canary requests served during the step (what the traffic check sums). */
  readonly stepCanaryRequests: number;
  /** Whether the canary is the first of the two target groups (sorted by their template ids): blue and green alternate. */
  readonly canaryIsFirst: boolean;
  readonly outageStart?: number;
  readonly canaryShare: number;
  /** Sigma of log latency, common to every component. */
  readonly latencySigma: number;
}

/**
 * Generates one deployment's traffic. Deterministic for a given `rng` state. `reuse` is a previous
 * run of the same model whose buffers are overwritten (it must not be read afterwards).
 */
export function generateRun(model: TrafficModel, scenario: Scenario, rng: Random, reuse?: RunTraffic): RunTraffic {
  const size = model.bucketSeconds;
  if (!(Number.isInteger(size) && size > 0 && 60 % size === 0))
    throw new Error(`bucketSeconds ${size}: use a divisor of 60 (60, 30, 20, 10, ...)`);
  const t0 = model.historyMinutes * 60 + 60 * rng.uniform();
  const stepEnd = t0 + model.stepMinutes * 60;
  const end = stepEnd + model.postShiftMinutes * 60;
  const buckets = Math.ceil(end / size) + 1;
  const canaryIsFirst = rng.uniform() < 0.5;
  let outageStart: number | undefined;
  let outageEnd = -1;
  if (scenario.outage) {
    const [a, b] = scenario.outage.startMinutes;
    outageStart = t0 + 60 * (a + (b - a) * rng.uniform());
    outageEnd = outageStart + 60 * scenario.outage.durationMinutes;
  }
  const canary = reuse && reuse.buckets === buckets ? clearVersion(reuse.canary) : emptyVersion(buckets);
  const baseline = reuse && reuse.buckets === buckets ? clearVersion(reuse.baseline) : emptyVersion(buckets);
  const baseMu = Math.log(model.latencyMedianMs);
  const canaryOwnRate = Math.min(1, scenario.canaryErrorRate ?? scenario.baselineErrorRate + (scenario.canaryErrorDelta ?? 0));
  const canaryMuShift = Math.log(scenario.canaryLatencyFactor ?? 1);
  let stepCanaryRequests = 0;
  const cuts = [t0, stepEnd, ...(outageStart === undefined ? [] : [outageStart, outageEnd])];

  let shared = 1;
  let noiseC = 1;
  let noiseB = 1;
  let jitter = 0;
  for (let k = 0; k < buckets; k++) {
    const from = size * k;
    const to = from + size;
    if (from % 60 === 0) {
      // The noise is minute-to-minute whatever the bucket size (drawn in the same order at 60 s).
      shared = scenario.errorNoise ? rng.lognormalFactor(scenario.errorNoise.shared) : 1;
      noiseC = scenario.errorNoise ? rng.lognormalFactor(scenario.errorNoise.perVersion) : 1;
      noiseB = scenario.errorNoise ? rng.lognormalFactor(scenario.errorNoise.perVersion) : 1;
      jitter = scenario.latencyNoise ? scenario.latencyNoise * rng.normal() : 0;
    }
    const points = cuts.some((c) => c > from && c < to)
      ? [from, ...cuts.filter((c) => c > from && c < to).sort((x, y) => x - y), to]
      : [from, to];
    for (let p = 0; p + 1 < points.length; p++) {
      const a = points[p];
      const b = points[p + 1];
      const mid = (a + b) / 2;
      const share = mid < t0 ? 0 : mid < stepEnd ? model.canaryShare : 1;
      const inOutage = outageStart !== undefined && mid >= outageStart && mid < outageEnd;
      const outageRate = inOutage ? scenario.outage!.errorRate : 0;
      const outageMu = inOutage ? Math.log(scenario.outage!.latencyFactor) : 0;
      const expected = model.rps * (b - a);
      const rateC = combine(Math.min(1, canaryOwnRate * shared * noiseC), outageRate);
      const rateB = combine(Math.min(1, scenario.baselineErrorRate * shared * noiseB), outageRate);
      const nC = add(canary, k, rng, expected * share, rateC, baseMu + canaryMuShift + outageMu + jitter);
      add(baseline, k, rng, expected * (1 - share), rateB, baseMu + outageMu + jitter);
      if (share > 0 && share < 1) stepCanaryRequests += nC;
      if (scenario.canaryUnhealthy && mid >= t0) canary.unhealthy[k] = 1;
    }
  }
  finish(canary);
  finish(baseline);
  return {
    t0,
    stepEnd,
    end,
    buckets,
    bucketSeconds: size,
    canary,
    baseline,
    stepCanaryRequests,
    canaryIsFirst,
    outageStart,
    canaryShare: model.canaryShare,
    latencySigma: model.latencySigma,
  };
}

/** Two independent causes of failure. */
function combine(p: number, q: number): number {
  return 1 - (1 - p) * (1 - q);
}

function add(v: VersionTraffic, k: number, rng: Random, expected: number, errorRate: number, mu: number): number {
  if (expected <= 0) return 0;
  const errors = rng.poisson(expected * errorRate);
  const n = errors + rng.poisson(expected * (1 - errorRate));
  (v.requests as Float64Array)[k] += n;
  (v.errors as Float64Array)[k] += errors;
  if (n > 0) {
    const base = k * MAX_COMPONENTS;
    const count = v.latencyCount[k];
    let c = 0;
    while (c < count && v.latencyMu[base + c] !== mu) c++;
    if (c === count) {
      if (count === MAX_COMPONENTS) throw new Error(`bucket ${k} has more than ${MAX_COMPONENTS} latency components`);
      (v.latencyMu as Float64Array)[base + c] = mu;
      (v.latencyCount as Uint8Array)[k] = count + 1;
    }
    (v.latencyWeight as Float64Array)[base + c] += n;
  }
  return n;
}

function emptyVersion(buckets: number): VersionTraffic {
  return {
    requests: new Float64Array(buckets),
    requestsPrefix: new Float64Array(buckets + 1),
    errors: new Float64Array(buckets),
    errorsPrefix: new Float64Array(buckets + 1),
    latencyMu: new Float64Array(buckets * MAX_COMPONENTS),
    latencyWeight: new Float64Array(buckets * MAX_COMPONENTS),
    latencyCount: new Uint8Array(buckets),
    unhealthy: new Uint8Array(buckets),
  };
}

function clearVersion(v: VersionTraffic): VersionTraffic {
  for (const a of [v.requests, v.requestsPrefix, v.errors, v.errorsPrefix, v.latencyMu, v.latencyWeight, v.latencyCount, v.unhealthy])
    a.fill(0);
  return v;
}

function finish(v: VersionTraffic): void {
  const rp = v.requestsPrefix as Float64Array;
  const ep = v.errorsPrefix as Float64Array;
  for (let k = 0; k < v.requests.length; k++) {
    rp[k + 1] = rp[k] + v.requests[k];
    ep[k + 1] = ep[k] + v.errors[k];
  }
}

/** The scenarios of the brief (docs/canary-judge.md, "Simulation"). */
export const SCENARIOS: readonly Scenario[] = [
  { id: 'healthy', label: 'healthy (0.2% errors)', expect: 'pass', baselineErrorRate: 0.002 },
  {
    id: 'healthy-noisy',
    label: 'healthy, noisy errors',
    expect: 'pass',
    baselineErrorRate: 0.005,
    errorNoise: { shared: 0.8, perVersion: 0.15 },
    latencyNoise: 0.1,
  },
  { id: 'errors-2pt', label: 'errors +2 points', expect: 'rollback', baselineErrorRate: 0.002, canaryErrorDelta: 0.02 },
  { id: 'errors-0.3pt', label: 'errors 0.2% -> 0.5%', expect: 'rollback', baselineErrorRate: 0.002, canaryErrorDelta: 0.003 },
  { id: 'latency-2x', label: 'latency x2', expect: 'rollback', baselineErrorRate: 0.002, canaryLatencyFactor: 2 },
  { id: 'crash-loop', label: 'crash loop', expect: 'rollback', baselineErrorRate: 0.002, canaryErrorRate: 0.99, canaryUnhealthy: true },
  {
    id: 'outage',
    label: 'dependency outage, both (20% errors, latency x3)',
    expect: 'pass',
    baselineErrorRate: 0.002,
    outage: { startMinutes: [0, 9], durationMinutes: 5, errorRate: 0.2, latencyFactor: 3 },
  },
  {
    id: 'outage-total',
    label: 'total outage, both fail all',
    expect: 'pass',
    baselineErrorRate: 0.002,
    outage: { startMinutes: [0, 9], durationMinutes: 5, errorRate: 1, latencyFactor: 1 },
  },
];

/** Per-bucket counts of one version, for a hand-made run. */
export interface BucketSeries {
  readonly requests: readonly number[];
  readonly errors: readonly number[];
  /** Median latency per bucket (one lognormal component each). @default 80 */
  readonly latencyMedianMs?: readonly number[];
  readonly unhealthy?: readonly number[];
}

/**
 * A run built from given bucket counts instead of drawn ones, for hand-computed cases: bucket k is
 * [Bk, Bk + B), B = `bucketSeconds` (default 60). The step's canary requests are those of the
 * buckets starting in it.
 */
export function trafficFromBuckets(props: {
  readonly t0: number;
  readonly bucketSeconds?: number;
  readonly stepMinutes: number;
  readonly postShiftMinutes?: number;
  readonly canaryShare?: number;
  readonly canaryIsFirst?: boolean;
  readonly latencySigma?: number;
  readonly canary: BucketSeries;
  readonly baseline: BucketSeries;
}): RunTraffic {
  const size = props.bucketSeconds ?? 60;
  const stepEnd = props.t0 + props.stepMinutes * 60;
  const end = stepEnd + (props.postShiftMinutes ?? 2) * 60;
  const buckets = Math.max(props.canary.requests.length, props.baseline.requests.length, Math.ceil(end / size) + 1);
  const fill = (series: BucketSeries): VersionTraffic => {
    const v = emptyVersion(buckets);
    for (let k = 0; k < buckets; k++) {
      const n = series.requests[k] ?? 0;
      (v.requests as Float64Array)[k] = n;
      (v.errors as Float64Array)[k] = series.errors[k] ?? 0;
      (v.unhealthy as Uint8Array)[k] = series.unhealthy?.[k] ?? 0;
      if (n > 0) {
        (v.latencyMu as Float64Array)[k * MAX_COMPONENTS] = Math.log(series.latencyMedianMs?.[k] ?? 80);
        (v.latencyWeight as Float64Array)[k * MAX_COMPONENTS] = n;
        (v.latencyCount as Uint8Array)[k] = 1;
      }
    }
    finish(v);
    return v;
  };
  const canary = fill(props.canary);
  let stepCanaryRequests = 0;
  for (let k = 0; k < buckets; k++)
    if (size * k >= Math.floor(props.t0 / size) * size && size * k < stepEnd) stepCanaryRequests += canary.requests[k];
  return {
    t0: props.t0,
    stepEnd,
    end,
    buckets,
    bucketSeconds: size,
    canary,
    baseline: fill(props.baseline),
    stepCanaryRequests,
    canaryIsFirst: props.canaryIsFirst ?? true,
    canaryShare: props.canaryShare ?? 0.1,
    latencySigma: props.latencySigma ?? 0.5,
  };
}
