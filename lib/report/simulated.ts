import { alarmSpec, AlarmSpec } from '../simulate/alarms';
import { DEFAULT_EVALUATION, PreparedAlarmSet } from '../simulate/evaluate';
import { runCell } from '../simulate/experiment';
import { pct } from '../simulate/report';
import { DEFAULT_TRAFFIC, SCENARIOS, TrafficModel } from '../simulate/traffic';

/**
 * The readiness report's detection numbers from the simulator (lib/simulate): seeded deployments of
 * a bad release replayed through the service's alarms exactly as synthesized, instead of the
 * worst-case hand model (lib/constructs/shared/detection-time.ts). docs/canary-judge.md describes
 * the simulator and its model; README, "Rollback-readiness report", the report.
 */

/** Request rate of a service whose expected traffic the assembly does not record. */
export const DEFAULT_REPORT_RPS = 5;
/** Seeded runs per service and scenario: a few hundred keep the report fast and the figures stable to about a percent. */
export const REPORT_RUNS = 300;
export const REPORT_SEED = 11;
/** The bad releases the report replays: a crash loop, and an error rate 2 points above the baseline's 0.2%. */
export const REPORT_SCENARIOS: readonly string[] = ['crash-loop', 'errors-2pt'];
/** The step outlasts detection when at least this share of the runs roll back before it ends. */
export const STEP_OUTLASTS_SHARE = 0.95;

/** A traffic shift as the report reads it from the deployment config. */
export interface ShiftForSimulation {
  readonly type: 'canary' | 'linear' | 'all-at-once' | 'unknown';
  readonly percent?: number;
  readonly intervalMinutes?: number;
}

/** What the simulation of one service needs, all from the assembly. */
export interface ServiceSimulationInput {
  /** The alarms the deployment group watches, as template resources by logical ID. */
  readonly alarms: ReadonlyArray<{ readonly logicalId: string; readonly resource: { Type: string; Properties?: Record<string, unknown> } }>;
  readonly shift: ShiftForSimulation;
  /** Minutes CodeDeploy still watches the alarms after the shift to 100% (ECS: the blue termination wait). */
  readonly watchedAfterShiftMinutes: number;
  /** Requests per second, both versions together. */
  readonly rps: number;
  /** The AfterAllowTraffic traffic check's minimum (CANARY_TRAFFIC_CHECK), when the service has one. */
  readonly minRequests?: number;
  /** @default REPORT_RUNS */
  readonly runs?: number;
  /** @default REPORT_SEED */
  readonly seed?: number;
}

/** One bad release, replayed `runs` times. Shares are fractions of the runs. */
export interface SimulatedScenario {
  readonly id: string;
  readonly label: string;
  readonly rolledBack: number;
  /** Rolled back before the shift to 100%. */
  readonly rolledBackInStep: number;
  /** Refused by the traffic check for too little canary traffic (after the step). */
  readonly held: number;
  /** Reached the end of the deployment without a rollback. */
  readonly passed: number;
  /** Seconds from the first bad request (the canary's first) to rollback start, over the rolled-back runs. */
  readonly medianSeconds?: number;
  readonly p95Seconds?: number;
  /** Mean share of all requests the bad version served, from its first request until rollback, hold or the end. */
  readonly exposure: number;
  /** At least STEP_OUTLASTS_SHARE of the runs rolled back within the canary step. */
  readonly stepOutlastsDetection: boolean;
}

/** The simulated readiness of one service. */
export interface SimulatedReadiness {
  readonly rps: number;
  /** Where the rate comes from: the judge's expected traffic, or the report's default (`--rps`). */
  readonly rpsSource: 'expectedRequestsPerSecond' | 'default';
  readonly runs: number;
  readonly seed: number;
  /** Share of traffic in the canary step, percent (100 for all at once). */
  readonly canaryPercent: number;
  readonly stepMinutes: number;
  readonly watchedAfterShiftMinutes: number;
  readonly minRequests?: number;
  readonly scenarios: SimulatedScenario[];
  /** Alarms the simulator cannot evaluate, left out (another alarm can only make a rollback sooner). */
  readonly notSimulated: ReadonlyArray<{ readonly alarm: string; readonly reason: string }>;
}

/**
 * Simulates the service's bad releases, or says why the simulator cannot apply (then the report
 * keeps the hand model): a linear shift (the traffic model has one canary step), or no alarm it can
 * evaluate.
 */
export function simulateService(
  input: ServiceSimulationInput & { readonly rpsSource: SimulatedReadiness['rpsSource'] },
): SimulatedReadiness | { handModelReason: string } {
  const shift = input.shift;
  if (shift.type === 'linear') return { handModelReason: 'the simulator models one canary step (or all at once), not a linear shift' };
  if (shift.type === 'unknown') return { handModelReason: 'the deployment config could not be read' };
  if (input.alarms.length === 0) return { handModelReason: 'the deployment group watches no alarm' };
  const specs: AlarmSpec[] = [];
  const notSimulated: Array<{ alarm: string; reason: string }> = [];
  for (const a of input.alarms) {
    const name = typeof a.resource.Properties?.AlarmName === 'string' ? (a.resource.Properties.AlarmName as string) : a.logicalId;
    try {
      const spec = alarmSpec(a.logicalId, a.resource);
      // Compiling it binds every metric to a simulated series; a metric without a role throws.
      new PreparedAlarmSet({ name, alarms: [spec] });
      specs.push(spec);
    } catch (err) {
      notSimulated.push({ alarm: name, reason: (err as Error).message });
    }
  }
  if (specs.length === 0)
    return {
      handModelReason: `the simulator can evaluate none of the alarms (${notSimulated.map((n) => `${n.alarm}: ${n.reason}`).join('; ')})`,
    };

  const canary = shift.type === 'canary';
  const stepMinutes = canary ? shift.intervalMinutes! : 0;
  const longestWindow = Math.max(...specs.map((s) => s.periodSeconds / 60));
  const runs = input.runs ?? REPORT_RUNS;
  const seed = input.seed ?? REPORT_SEED;
  const set = new PreparedAlarmSet(
    { name: 'service', alarms: specs, minRequests: canary ? input.minRequests : undefined },
    DEFAULT_EVALUATION,
  );
  const traffic: Partial<Omit<TrafficModel, 'rps'>> = {
    canaryShare: canary ? shift.percent! / 100 : 1,
    stepMinutes,
    postShiftMinutes: input.watchedAfterShiftMinutes,
    historyMinutes: Math.max(DEFAULT_TRAFFIC.historyMinutes, longestWindow + 5),
    // 10-second buckets when the service publishes its own high-resolution metrics.
    bucketSeconds: set.resolution,
  };
  const scenarios = REPORT_SCENARIOS.map((id) => {
    const scenario = SCENARIOS.find((s) => s.id === id)!;
    const [r] = runCell({ scenario, rps: input.rps, traffic }, [set], runs, seed).sets;
    const share = (x: number) => Math.round(x * 10_000) / 10_000;
    const seconds = (x: number | undefined) => (x === undefined ? undefined : Math.round(x * 10) / 10);
    return {
      id,
      label: scenario.label,
      rolledBack: share(r.rollback),
      rolledBackInStep: share(r.rollbackInStep),
      held: share(r.held),
      passed: share(r.completed),
      medianSeconds: seconds(r.medianSeconds),
      p95Seconds: seconds(r.p95Seconds),
      exposure: share(r.exposure),
      stepOutlastsDetection: canary && r.rollbackInStep >= STEP_OUTLASTS_SHARE,
    };
  });
  return {
    rps: input.rps,
    rpsSource: input.rpsSource,
    runs,
    seed,
    canaryPercent: canary ? shift.percent! : 100,
    stepMinutes,
    watchedAfterShiftMinutes: input.watchedAfterShiftMinutes,
    ...(canary && input.minRequests !== undefined ? { minRequests: input.minRequests } : {}),
    scenarios,
    notSimulated,
  };
}

/** The text lines of a simulated service (indented under its header). */
export function formatSimulatedReadiness(s: SimulatedReadiness): string[] {
  const rate =
    s.rpsSource === 'expectedRequestsPerSecond'
      ? `${s.rps} requests/s (expectedRequestsPerSecond)`
      : `${s.rps} requests/s (default rate: set expectedRequestsPerSecond, or --rps)`;
  const hold = s.minRequests !== undefined ? `; the traffic check holds a step with fewer than ${s.minRequests} canary requests` : '';
  const lines = [
    `  simulated at ${rate}, ${s.runs} seeded runs (seed ${s.seed}) per bad release; times from its first request to rollback start${hold}:`,
  ];
  for (const c of s.scenarios) {
    const parts = [`rolled back ${pct(c.rolledBack)} (within the step ${pct(c.rolledBackInStep)})`];
    if (c.medianSeconds !== undefined) parts.push(`p50 ${Math.round(c.medianSeconds)} s, p95 ${Math.round(c.p95Seconds!)} s`);
    if (c.held > 0) parts.push(`held for too little traffic ${pct(c.held)}`);
    if (c.passed > 0) parts.push(`PASSED ${pct(c.passed)}`);
    const step =
      s.stepMinutes > 0
        ? `the ${s.stepMinutes}-minute canary step outlasts detection: ${c.stepOutlastsDetection ? 'yes' : 'NO'}`
        : 'no canary step: all traffic shifts at once';
    const until = c.held > 0 || c.passed > 0 ? 'until rollback, hold or the end of the deployment' : 'until rollback';
    lines.push(`    ${c.label}: ${parts.join(', ')}; the bad version served ${pct(c.exposure)} of requests ${until}; ${step}`);
  }
  return lines;
}
