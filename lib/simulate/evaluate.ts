import { CANARY_METRICS } from '../canary-metrics';
import { DETECTION_MODEL } from '../constructs/shared/detection-time';
import type { AlarmSpec, MetricIdentity } from './alarms';
import { compileAlarm } from './metric-math';
import { normalCdf, normalQuantile, Random } from './random';
import { MAX_COMPONENTS, RunTraffic, VersionTraffic } from './traffic';

/**
 * Replays a deployment's traffic through alarms as synthesized: CloudWatch evaluates each alarm
 * once a minute over its evaluation range, and CodeDeploy polls the alarms' states and starts a
 * rollback at the first poll that finds one in ALARM.
 *
 * What is documented and what is a model:
 * - documented: M of N and the missing-data rules (CloudWatch user guide, "How alarm state is
 *   evaluated when data is missing": the most recent N existing datapoints when the range holds
 *   that many, else the existing ones plus missing ones filled per TreatMissingData), one period
 *   for every metric of an alarm, the sliding evaluation window (the default: "the window advances
 *   each time the alarm is evaluated"), the metric-math rules (./metric-math.ts);
 * - model parameters: the evaluation range (N + `evaluationRangeExtra` datapoints; the guide's
 *   example retrieves 5 for N = 3), the metric delivery delay, the evaluation interval (once a
 *   minute for periods of a minute or more) and CodeDeploy's poll interval (undocumented), the
 *   shared allowances of ../constructs/shared/detection-time.ts.
 */
export interface EvaluationModel {
  /** Seconds after a one-minute bucket ends until its datapoint is visible to alarms. */
  readonly metricDelaySeconds: number;
  /** Seconds between two evaluations of an alarm with a period of a minute or more. */
  readonly evaluationIntervalSeconds: number;
  /**
   * Seconds after a 10-second bucket of a high-resolution metric the service publishes itself
   * (embedded metric format, through CloudWatch Logs) ends until it is visible to alarms.
   */
  readonly highResolutionDelaySeconds: number;
  /** Seconds between two evaluations of an alarm with a period of 10 or 30 s (documented: 10). */
  readonly highResolutionEvaluationSeconds: number;
  /** Seconds between two CodeDeploy alarm polls. */
  readonly codeDeployPollSeconds: number;
  /** Datapoints retrieved beyond EvaluationPeriods. */
  readonly evaluationRangeExtra: number;
}

export const DEFAULT_EVALUATION: EvaluationModel = {
  metricDelaySeconds: DETECTION_MODEL.metricDelaySeconds,
  evaluationIntervalSeconds: DETECTION_MODEL.evaluationIntervalSeconds,
  highResolutionDelaySeconds: DETECTION_MODEL.highResolutionMetricDelaySeconds,
  highResolutionEvaluationSeconds: DETECTION_MODEL.highResolutionEvaluationSeconds,
  codeDeployPollSeconds: DETECTION_MODEL.codeDeployPollSeconds,
  evaluationRangeExtra: 2,
};

/** The alarms one deployment group watches, and the traffic check's threshold if it has one. */
export interface AlarmSet {
  readonly name: string;
  readonly alarms: readonly AlarmSpec[];
  /** Canary requests the step must serve, else the deployment is held (the judge's traffic check). */
  readonly minRequests?: number;
}

export type AlarmState = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';

export interface RunOutcome {
  readonly result: 'rollback' | 'held' | 'completed';
  /** Seconds from the canary's first request to rollback start (or hold, or completion). */
  readonly seconds: number;
  /** Whether the rollback started before the shift to 100%. */
  readonly inStep: boolean;
  /** Share of requests since the canary started that the new version served, until then. */
  readonly exposure: number;
  /** The alarm CodeDeploy found in ALARM first. */
  readonly alarm?: string;
}

type Role = 'canary' | 'total' | 'tg0' | 'tg1';
type Quantity = 'requests' | 'errors' | 'latency' | 'unhealthy' | 'never';

interface Binding {
  readonly role: Role;
  readonly quantity: Quantity;
  /** When a datapoint exists: the service publishes only when there were requests, or errors. */
  readonly existsWhen: 'requests' | 'errors' | 'always' | 'never';
  readonly percentile?: number;
  readonly average?: boolean;
  /** Latency unit factor from milliseconds (ALB TargetResponseTime is in seconds). */
  readonly scale: number;
  /** Seconds per datapoint the metric is stored at: 60 for AWS's, 10 (as simulated) for high-resolution ones. */
  readonly resolution: number;
}

/**
 * Maps a metric of a template to a simulated series by the role its dimensions give it:
 * AWS/Lambda with ExecutedVersion is the version being deployed, without it the alias total;
 * SafeDeploy/Canary (the service's own high-resolution metrics) likewise with Version;
 * AWS/ApplicationELB metrics belong to one of two target groups, which is the canary decided per
 * run (blue and green alternate between deployments).
 */
export function bindMetric(m: MetricIdentity, targetGroups: readonly string[]): Binding {
  const what = `${m.namespace} ${m.metricName} ${m.stat} ${JSON.stringify(Object.keys(m.dimensions).sort())}`;
  const resolution = m.namespace === CANARY_METRICS.namespace ? 10 : 60;
  const sum = (quantity: Quantity, existsWhen: Binding['existsWhen'], role: Role): Binding => {
    if (m.stat !== 'Sum') throw new Error(`${what}: only the Sum of a count is simulated`);
    return { role, quantity, existsWhen, scale: 1, resolution };
  };
  const latency = (role: Role, scale: number): Binding => {
    const p = /^p(\d+(\.\d+)?)$/.exec(m.stat);
    if (p) return { role, quantity: 'latency', existsWhen: 'requests', percentile: Number(p[1]) / 100, scale, resolution };
    if (m.stat === 'Average') return { role, quantity: 'latency', existsWhen: 'requests', average: true, scale, resolution };
    throw new Error(`${what}: latency statistic ${m.stat} is not simulated (use pNN or Average)`);
  };
  if (m.namespace === CANARY_METRICS.namespace) {
    if (!(CANARY_METRICS.serviceDimension in m.dimensions))
      throw new Error(`${what}: a ${CANARY_METRICS.namespace} metric without the ${CANARY_METRICS.serviceDimension} dimension has no role`);
    const role: Role = CANARY_METRICS.versionDimension in m.dimensions ? 'canary' : 'total';
    const own: Record<string, () => Binding> = {
      // The helper writes Requests and Errors (0 included) for every request.
      [CANARY_METRICS.requests]: () => sum('requests', 'requests', role),
      [CANARY_METRICS.errors]: () => sum('errors', 'requests', role),
      [CANARY_METRICS.latency]: () => latency(role, 1),
    };
    const bind = Object.hasOwn(own, m.metricName) ? own[m.metricName] : undefined;
    if (bind) return bind();
  }
  if (m.namespace === 'AWS/Lambda') {
    if (!('FunctionName' in m.dimensions && 'Resource' in m.dimensions))
      throw new Error(`${what}: a Lambda metric without FunctionName and Resource has no role`);
    const role: Role = 'ExecutedVersion' in m.dimensions ? 'canary' : 'total';
    const lambda: Record<string, () => Binding> = {
      Invocations: () => sum('requests', 'requests', role),
      // Lambda publishes Errors (0 included) for every minute with invocations.
      Errors: () => sum('errors', 'requests', role),
      Duration: () => latency(role, 1),
      // Nothing throttles in these scenarios, and Lambda publishes no datapoint then.
      Throttles: () => sum('never', 'never', role),
    };
    const bind = Object.hasOwn(lambda, m.metricName) ? lambda[m.metricName] : undefined;
    if (bind) return bind();
  }
  if (m.namespace === 'AWS/ApplicationELB' && 'TargetGroup' in m.dimensions) {
    const index = targetGroups.indexOf(m.dimensions.TargetGroup);
    if (index < 0 || index > 1) throw new Error(`${what}: more than two target groups`);
    const role: Role = index === 0 ? 'tg0' : 'tg1';
    const alb: Record<string, () => Binding> = {
      RequestCount: () => sum('requests', 'requests', role),
      // The ALB publishes no 5xx datapoint in a minute without 5xx responses.
      HTTPCode_Target_5XX_Count: () => sum('errors', 'errors', role),
      TargetResponseTime: () => latency(role, 1 / 1000),
      UnHealthyHostCount: () => {
        if (!['Maximum', 'Average', 'Minimum'].includes(m.stat))
          throw new Error(`${what}: only Maximum/Average/Minimum of UnHealthyHostCount are simulated`);
        return { role, quantity: 'unhealthy', existsWhen: 'always', scale: 1, resolution };
      },
    };
    const bind = Object.hasOwn(alb, m.metricName) ? alb[m.metricName] : undefined;
    if (bind) return bind();
  }
  throw new Error(
    `${what}: this metric has no role in the simulation (Lambda Invocations/Errors/Duration/Throttles, ALB RequestCount/HTTPCode_Target_5XX_Count/TargetResponseTime/UnHealthyHostCount, ${CANARY_METRICS.namespace} Requests/Errors/Latency)`,
  );
}

interface Context {
  traffic: RunTraffic;
  rng: Random;
  /** The versions behind each role in this run. */
  roles: Record<Role, VersionTraffic[]>;
  /** Index of the datapoint (in the evaluated alarm's resolution) the evaluation time falls in (incomplete). */
  current: number;
  /** Last datapoint (same units) that has been delivered. */
  delivered: number;
  /** Traffic buckets per datapoint of the evaluated alarm's resolution. */
  factor: number;
  /** Sampled latency statistics by metric and window, so that one window gives one value per run. */
  readonly memo: Map<number, number>;
  /** Scratch space for a window's latency mixture. */
  readonly mixMu: Float64Array;
  readonly mixWeight: Float64Array;
}

interface AlarmRuntime {
  readonly spec: AlarmSpec;
  /** Seconds per stored datapoint of its metrics (60, or 10 for high-resolution ones). */
  readonly resolution: number;
  /** Datapoints per period. */
  readonly periodUnits: number;
  /** Seconds between two evaluations. */
  readonly interval: number;
  /** Seconds after a datapoint's end until it is visible. */
  readonly delay: number;
  readonly value: (i: number) => number;
  /** The alarm's value for a window without any delivered datapoint (every metric missing). */
  readonly empty: number;
  /** Values of fully delivered windows by their last bucket: they cannot change any more. */
  readonly settled: Map<number, number>;
  state: AlarmState;
  /** Time of its next evaluation in the run being simulated. */
  next: number;
}

/** An alarm set compiled once, replayed against many runs. */
export class PreparedAlarmSet {
  readonly name: string;
  readonly minRequests?: number;
  /** Seconds per datapoint of its finest metrics: the traffic's bucket size must divide it (60, or 10 with a service's own metrics). */
  readonly resolution: number;
  private readonly alarms: AlarmRuntime[];
  private readonly ctx: Context;

  constructor(
    set: AlarmSet,
    private readonly model: EvaluationModel = DEFAULT_EVALUATION,
  ) {
    this.name = set.name;
    this.minRequests = set.minRequests;
    const targetGroups = [
      ...new Set(
        set.alarms.flatMap((a) =>
          a.entries.flatMap((e) => (e.metric && 'TargetGroup' in e.metric.dimensions ? [e.metric.dimensions.TargetGroup] : [])),
        ),
      ),
    ].sort();
    this.ctx = {
      traffic: undefined as unknown as RunTraffic,
      rng: new Random(0),
      roles: { canary: [], total: [], tg0: [], tg1: [] },
      current: 0,
      delivered: -1,
      factor: 1,
      memo: new Map(),
      mixMu: new Float64Array(4 * MAX_COMPONENTS),
      mixWeight: new Float64Array(4 * MAX_COMPONENTS),
    };
    let bindingIds = 0;
    let finest = 60;
    this.alarms = set.alarms.map((spec) => {
      const metrics = new Map(
        spec.entries.filter((e) => e.metric).map((e) => [e.id, { binding: bindMetric(e.metric!, targetGroups), key: bindingIds++ }]),
      );
      const resolutions = [...new Set([...metrics.values()].map((m) => m.binding.resolution))];
      if (resolutions.length !== 1)
        throw new Error(`alarm ${spec.name}: its metrics mix resolutions (${resolutions.join(', ')} s); the simulator needs one`);
      const resolution = resolutions[0];
      if (spec.periodSeconds % resolution !== 0)
        throw new Error(
          `alarm ${spec.name}: period ${spec.periodSeconds} s on metrics stored every ${resolution} s: CloudWatch finds no datapoint for most periods`,
        );
      const periodUnits = spec.periodSeconds / resolution;
      finest = Math.min(finest, resolution);
      const highResolution = spec.periodSeconds < 60;
      const value = compileAlarm(spec.entries, spec.returnId, (id) => {
        const m = metrics.get(id)!;
        return (i) => this.datapoint(m.binding, m.key, periodUnits, i);
      });
      // A window with no delivered bucket reads every metric as missing: its value is a constant.
      this.ctx.delivered = -1;
      this.ctx.current = -1;
      const empty = value(0);
      return {
        spec,
        resolution,
        periodUnits,
        interval: highResolution ? model.highResolutionEvaluationSeconds : model.evaluationIntervalSeconds,
        delay: resolution < 60 ? model.highResolutionDelaySeconds : model.metricDelaySeconds,
        value,
        empty,
        settled: new Map<number, number>(),
        state: 'OK' as AlarmState,
        next: 0,
      };
    });
    this.resolution = finest;
  }

  /**
   * Replays one run; `rng` draws the evaluation and poll phases and the percentile sampling noise.
   * `phases` fixes them instead (seconds past the minute for every alarm's evaluations, seconds
   * after the canary starts for the first poll), for hand-computed cases.
   */
  simulate(traffic: RunTraffic, rng: Random, phases?: { readonly evaluation: number; readonly poll: number }): RunOutcome {
    this.start(traffic, rng);
    const m = this.model;
    for (const alarm of this.alarms) {
      alarm.state = 'OK';
      alarm.settled.clear();
      const interval = alarm.interval;
      const first = traffic.t0 - interval;
      const phase = phases ? phases.evaluation % interval : rng.uniform() * interval;
      alarm.next = Math.ceil((first - phase) / interval) * interval + phase;
    }
    let poll = traffic.t0 + (phases ? phases.poll : rng.uniform() * m.codeDeployPollSeconds);
    let hold = this.minRequests === undefined ? Infinity : traffic.stepEnd;
    // Events in time order; at equal times an evaluation comes before a poll, a poll before the hold.
    for (;;) {
      let alarm: AlarmRuntime | undefined;
      for (const a of this.alarms) if (!alarm || a.next < alarm.next) alarm = a;
      const t = Math.min(alarm ? alarm.next : Infinity, poll, hold);
      if (t > traffic.end) break;
      if (alarm && alarm.next === t) {
        this.evaluate(alarm, t);
        alarm.next += alarm.interval;
      } else if (poll === t) {
        const firing = this.alarms.find((a) => a.state === 'ALARM');
        if (firing) return outcome('rollback', t, traffic, firing.spec.name);
        poll += m.codeDeployPollSeconds;
      } else {
        if (traffic.stepCanaryRequests < this.minRequests!) return outcome('held', t, traffic);
        hold = Infinity;
      }
    }
    return outcome('completed', traffic.end, traffic);
  }

  /** State of every alarm after evaluating them all at `t` (for tests and diagnostics). */
  statesAt(traffic: RunTraffic, t: number, rng = new Random(1)): Record<string, AlarmState> {
    this.start(traffic, rng);
    const out: Record<string, AlarmState> = {};
    for (const a of this.alarms) {
      a.state = 'OK';
      a.settled.clear();
      this.evaluate(a, t);
      out[a.spec.name] = a.state;
    }
    return out;
  }

  /** The alarm's value for datapoint `i` (0 = most recent) at time `t`, NaN when missing (for tests). */
  valueAt(alarmName: string, traffic: RunTraffic, t: number, i: number, rng = new Random(1)): number {
    const a = this.alarms.find((x) => x.spec.name === alarmName);
    if (!a) throw new Error(`no alarm ${alarmName} in ${this.name}`);
    this.start(traffic, rng);
    this.setTime(t, a);
    return a.value(i);
  }

  private start(traffic: RunTraffic, rng: Random): void {
    const ctx = this.ctx;
    ctx.traffic = traffic;
    ctx.rng = rng;
    ctx.memo.clear();
    for (const a of this.alarms) {
      if (a.resolution % traffic.bucketSeconds !== 0)
        throw new Error(
          `alarm ${a.spec.name} reads metrics stored every ${a.resolution} s: simulate traffic in buckets of ${a.resolution} s or a divisor of it, not ${traffic.bucketSeconds} s`,
        );
    }
    const [first, second] = traffic.canaryIsFirst ? [traffic.canary, traffic.baseline] : [traffic.baseline, traffic.canary];
    ctx.roles = { canary: [traffic.canary], total: [traffic.canary, traffic.baseline], tg0: [first], tg1: [second] };
  }

  /** The evaluation time, in datapoints of the alarm's resolution R: datapoint k covers [Rk, Rk + R) and is visible from Rk + R + delay. */
  private setTime(t: number, a: AlarmRuntime): void {
    this.ctx.current = Math.floor(t / a.resolution);
    this.ctx.delivered = Math.floor((t - a.delay) / a.resolution) - 1;
    this.ctx.factor = a.resolution / this.ctx.traffic.bucketSeconds;
  }

  /**
   * One evaluation. With a sliding window, datapoint i covers [t - (i+1)P, t - iP): the stored
   * datapoints (minutes, or 10-second ones) that start in it. The alarm reads the most recent N existing datapoints of its range,
   * or, when the range holds fewer, those plus missing ones treated per TreatMissingData.
   */
  private evaluate(a: AlarmRuntime, t: number): void {
    const s = a.spec;
    this.setTime(t, a);
    const range = s.evaluationPeriods + this.model.evaluationRangeExtra;
    const periodBuckets = a.periodUnits;
    let existing = 0;
    let breaching = 0;
    const { current, delivered } = this.ctx;
    for (let i = 0; i < range && existing < s.evaluationPeriods; i++) {
      const last = current - i * periodBuckets;
      let v: number;
      if (last - periodBuckets + 1 > delivered || last < 0) {
        v = a.empty;
      } else if (last <= delivered) {
        // Every bucket of the window is published: the same value at every later evaluation.
        const known = a.settled.get(last);
        v = known ?? a.value(i);
        if (known === undefined) a.settled.set(last, v);
      } else {
        v = a.value(i);
      }
      if (v !== v) continue;
      existing++;
      if (breaches(s, v)) breaching++;
    }
    a.state = nextState(s, a.state, existing, breaching);
  }

  private datapoint(b: Binding, key: number, periodUnits: number, i: number): number {
    const ctx = this.ctx;
    const tr = ctx.traffic;
    let last = ctx.current - i * periodUnits;
    let firstUnit = last - periodUnits + 1;
    if (last > ctx.delivered) last = ctx.delivered;
    if (firstUnit < 0) firstUnit = 0;
    if (last < firstUnit || b.existsWhen === 'never') return NaN;
    // From the alarm's datapoints to the traffic's buckets (the same when both are a minute).
    const lo = firstUnit * ctx.factor;
    let hi = last * ctx.factor + ctx.factor - 1;
    if (hi > tr.buckets - 1) hi = tr.buckets - 1;
    const versions = ctx.roles[b.role];
    if (b.quantity === 'unhealthy') {
      let max = 0;
      for (const v of versions) for (let k = lo; k <= hi; k++) max = Math.max(max, v.unhealthy[k]);
      return max;
    }
    let n = 0;
    let e = 0;
    for (const v of versions) {
      n += v.requestsPrefix[hi + 1] - v.requestsPrefix[lo];
      e += v.errorsPrefix[hi + 1] - v.errorsPrefix[lo];
    }
    if (b.existsWhen === 'requests' && n === 0) return NaN;
    if (b.existsWhen === 'errors' && e === 0) return NaN;
    if (b.quantity === 'requests') return n;
    if (b.quantity === 'errors') return e;
    const memoKey = (key * 4096 + lo) * 4096 + hi;
    const known = ctx.memo.get(memoKey);
    if (known !== undefined) return known;
    // The window's latency mixture: its buckets' components, merged by log-median.
    const mu = ctx.mixMu;
    const weight = ctx.mixWeight;
    let count = 0;
    for (const v of versions) {
      for (let k = lo; k <= hi; k++) {
        for (let c = 0; c < v.latencyCount[k]; c++) {
          const m = v.latencyMu[k * MAX_COMPONENTS + c];
          let at = 0;
          while (at < count && mu[at] !== m) at++;
          if (at === count) {
            if (count === mu.length) throw new Error(`a window holds more than ${mu.length} latency components`);
            mu[count] = m;
            weight[count++] = 0;
          }
          weight[at] += v.latencyWeight[k * MAX_COMPONENTS + c];
        }
      }
    }
    const ms = b.average
      ? sampleMean(mu, weight, count, tr.latencySigma, n, ctx.rng)
      : sampleQuantile(mu, weight, count, tr.latencySigma, n, b.percentile!, ctx.rng);
    const value = ms * b.scale;
    ctx.memo.set(memoKey, value);
    return value;
  }
}

function breaches(s: AlarmSpec, v: number): boolean {
  switch (s.comparison) {
    case 'GreaterThanThreshold':
      return v > s.threshold;
    case 'GreaterThanOrEqualToThreshold':
      return v >= s.threshold;
    case 'LessThanThreshold':
      return v < s.threshold;
    case 'LessThanOrEqualToThreshold':
      return v <= s.threshold;
  }
}

/**
 * The alarm state from the datapoints found: `existing` real ones (at most N, the most recent),
 * `breaching` of them over the threshold. With fewer than N real datapoints the rest are missing:
 * notBreaching counts them as good, breaching as bad; for missing and ignore this follows the
 * guide's tables except one case ("X - - - -" with M = N = 3 and missing gives ALARM there, here
 * INSUFFICIENT_DATA); CodeDeploy acts on ALARM only, and our alarms use notBreaching.
 */
export function nextState(
  s: Pick<AlarmSpec, 'evaluationPeriods' | 'datapointsToAlarm' | 'treatMissingData'>,
  current: AlarmState,
  existing: number,
  breaching: number,
): AlarmState {
  const n = s.evaluationPeriods;
  const m = s.datapointsToAlarm;
  if (existing >= n) return breaching >= m ? 'ALARM' : 'OK';
  switch (s.treatMissingData) {
    case 'notBreaching':
      return breaching >= m ? 'ALARM' : 'OK';
    case 'breaching':
      return breaching + (n - existing) >= m ? 'ALARM' : 'OK';
    case 'ignore':
      if (breaching >= m) return 'ALARM';
      return existing === 0 || breaching === existing ? current : 'OK';
    case 'missing':
      if (breaching >= m) return 'ALARM';
      return existing === 0 || breaching === existing ? 'INSUFFICIENT_DATA' : 'OK';
  }
}

function outcome(result: RunOutcome['result'], at: number, tr: RunTraffic, alarm?: string): RunOutcome {
  const seconds = Math.max(0, at - tr.t0);
  const canaryTime = tr.canaryShare * (Math.min(at, tr.stepEnd) - tr.t0) + Math.max(0, at - tr.stepEnd);
  return { result, seconds, inStep: at < tr.stepEnd, exposure: seconds > 0 ? canaryTime / seconds : tr.canaryShare, alarm };
}

/**
 * The p-quantile of n requests drawn from the mixture (log-medians `mu`, request counts `weight`,
 * common sigma), taken as their k-th smallest, k = ceil(p n): the k-th of n uniform order
 * statistics is Beta(k, n + 1 - k) (normal for large counts), mapped through the mixture's inverse
 * CDF. Overlapping windows draw independently, which ignores that they share requests: more
 * independent chances to cross a threshold, so it errs towards false alarms.
 */
export function sampleQuantile(
  mu: ArrayLike<number>,
  weight: ArrayLike<number>,
  count: number,
  sigma: number,
  n: number,
  p: number,
  rng: Random,
): number {
  const k = Math.min(n, Math.max(1, Math.ceil(p * n)));
  const a = k;
  const b = n + 1 - k;
  let u: number;
  if (Math.min(a, b) < 30) u = rng.beta(a, b);
  else u = a / (n + 1) + Math.sqrt((a * b) / ((n + 1) * (n + 1) * (n + 2))) * rng.normal();
  u = Math.min(1 - 1e-12, Math.max(1e-12, u));
  return mixtureQuantile(mu, weight, count, sigma, u);
}

/** The u-quantile of a mixture of lognormals with common sigma. */
export function mixtureQuantile(mu: ArrayLike<number>, weight: ArrayLike<number>, count: number, sigma: number, u: number): number {
  const z = normalQuantile(u);
  if (count === 1) return Math.exp(mu[0] + sigma * z);
  let lo = Infinity;
  let hi = -Infinity;
  let total = 0;
  for (let c = 0; c < count; c++) {
    lo = Math.min(lo, mu[c] + sigma * z);
    hi = Math.max(hi, mu[c] + sigma * z);
    total += weight[c];
  }
  // The mixture's quantile lies between its components' quantiles; bisect on log latency.
  for (let iter = 0; iter < 40 && hi - lo > 1e-4; iter++) {
    const x = (lo + hi) / 2;
    let cdf = 0;
    for (let c = 0; c < count; c++) cdf += weight[c] * normalCdf((x - mu[c]) / sigma);
    if (cdf / total < u) lo = x;
    else hi = x;
  }
  return Math.exp((lo + hi) / 2);
}

function sampleMean(mu: ArrayLike<number>, weight: ArrayLike<number>, count: number, sigma: number, n: number, rng: Random): number {
  const s2 = sigma * sigma;
  let mean = 0;
  let second = 0;
  let total = 0;
  for (let c = 0; c < count; c++) {
    mean += weight[c] * Math.exp(mu[c] + s2 / 2);
    second += weight[c] * Math.exp(2 * mu[c] + 2 * s2);
    total += weight[c];
  }
  mean /= total;
  const variance = Math.max(0, second / total - mean * mean);
  return Math.max(0, mean + Math.sqrt(variance / n) * rng.normal());
}
