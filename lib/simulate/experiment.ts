import { PreparedAlarmSet, RunOutcome } from './evaluate';
import { mixSeed, Random } from './random';
import { DEFAULT_TRAFFIC, generateRun, RunTraffic, Scenario, TrafficModel } from './traffic';

/** One scenario at one request rate, replayed through several alarm sets on the same traffic. */
export interface Cell {
  readonly scenario: Scenario;
  readonly rps: number;
  /** Overrides of the deployment and service model (step length, canary share, ...). */
  readonly traffic?: Partial<Omit<TrafficModel, 'rps'>>;
}

export interface SetResult {
  readonly set: string;
  readonly runs: number;
  /** Fractions of the runs. */
  readonly rollback: number;
  readonly rollbackInStep: number;
  readonly held: number;
  readonly completed: number;
  /** Seconds from the canary's first request to rollback start, over the rolled-back runs. */
  readonly medianSeconds?: number;
  readonly p95Seconds?: number;
  /** Mean share of requests the new version served from its first request until rollback, hold or completion. */
  readonly exposure: number;
  /** How often each alarm was the one CodeDeploy found first. */
  readonly firstAlarm: Readonly<Record<string, number>>;
}

export interface CellResult {
  readonly scenario: string;
  readonly label: string;
  readonly expect: Scenario['expect'];
  readonly rps: number;
  readonly stepMinutes: number;
  readonly sets: SetResult[];
}

/**
 * Runs `runs` seeded deployments of one cell. Run r's traffic depends only on (seed, scenario,
 * rate, step, r), so results are reproducible and every alarm set sees the same traffic; each set
 * draws its own evaluation and poll phases (seeded by the run and its position in `sets`).
 */
export function runCell(cell: Cell, sets: readonly PreparedAlarmSet[], runs: number, seed: number): CellResult {
  const model: TrafficModel = { ...DEFAULT_TRAFFIC, ...cell.traffic, rps: cell.rps };
  const outcomes: RunOutcome[][] = sets.map(() => []);
  const scenarioSeed = hashString(cell.scenario.id);
  let traffic: RunTraffic | undefined;
  for (let r = 0; r < runs; r++) {
    const runSeed = mixSeed(seed, scenarioSeed, Math.round(cell.rps * 1000), model.stepMinutes, r);
    traffic = generateRun(model, cell.scenario, new Random(runSeed), traffic);
    const t = traffic;
    sets.forEach((set, i) => outcomes[i].push(set.simulate(t, new Random(mixSeed(runSeed, i + 1)))));
  }
  return {
    scenario: cell.scenario.id,
    label: cell.scenario.label,
    expect: cell.scenario.expect,
    rps: cell.rps,
    stepMinutes: model.stepMinutes,
    sets: sets.map((set, i) => summarize(set.name, outcomes[i])),
  };
}

export function summarize(set: string, outcomes: readonly RunOutcome[]): SetResult {
  const n = outcomes.length;
  const share = (f: (o: RunOutcome) => boolean) => outcomes.filter(f).length / n;
  const times = outcomes
    .filter((o) => o.result === 'rollback')
    .map((o) => o.seconds)
    .sort((a, b) => a - b);
  const firstAlarm: Record<string, number> = {};
  for (const o of outcomes) if (o.alarm) firstAlarm[o.alarm] = (firstAlarm[o.alarm] ?? 0) + 1;
  return {
    set,
    runs: n,
    rollback: share((o) => o.result === 'rollback'),
    rollbackInStep: share((o) => o.result === 'rollback' && o.inStep),
    held: share((o) => o.result === 'held'),
    completed: share((o) => o.result === 'completed'),
    medianSeconds: times.length ? quantile(times, 0.5) : undefined,
    p95Seconds: times.length ? quantile(times, 0.95) : undefined,
    exposure: outcomes.reduce((s, o) => s + o.exposure, 0) / n,
    firstAlarm,
  };
}

/** Quantile of sorted values (nearest rank). */
function quantile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
}

function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}
