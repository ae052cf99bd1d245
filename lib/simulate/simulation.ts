import { DEFAULT_JUDGE_SETTINGS, PowerResult, requiredCanaryStep } from '../constructs/canary-judge';
import { alarmsFromTemplate } from './alarms';
import { AlarmSet, DEFAULT_EVALUATION, EvaluationModel, PreparedAlarmSet } from './evaluate';
import { Cell, CellResult, runCell } from './experiment';
import { checkTargets, pct, table, TargetCheck, targetsTable } from './report';
import { judgeTemplateVariants, todayTemplates } from './stacks';
import { DEFAULT_TRAFFIC, SCENARIOS } from './traffic';

export interface SimulationOptions {
  /** Seeded runs per cell. @default 1000 */
  readonly runs?: number;
  /** @default 11 */
  readonly seed?: number;
  /** Total requests per second to simulate. @default [0.2, 5, 200] */
  readonly rates?: readonly number[];
  /** Scenario ids. @default every scenario */
  readonly scenarios?: readonly string[];
  /** @default DEFAULT_EVALUATION */
  readonly evaluation?: EvaluationModel;
}

export interface SimulationResult {
  readonly runs: number;
  readonly seed: number;
  readonly evaluation: EvaluationModel;
  /** Every scenario at every rate, 10% canary for 10 minutes, today's alarms beside the judge's. */
  readonly lambda: CellResult[];
  readonly ecs: CellResult[];
  /** The quiet service with its canary step and error window sized by the power calculation. */
  readonly sized: { readonly rps: number; readonly power: PowerResult; readonly lambda: CellResult[]; readonly ecs: CellResult[] };
  /**
   * The judge of a service that publishes its own high-resolution metrics (its HighResErrorJudge
   * beside the one-minute alarms), on traffic drawn in 10-second buckets: every scenario and rate.
   */
  readonly highResolution: { readonly lambda: CellResult[]; readonly ecs: CellResult[] };
  readonly targets: TargetCheck[];
  readonly seconds: number;
}

const TODAY = 'today (fixed thresholds)';
const JUDGE = 'canary judge';
const HIGH_RES_JUDGE = 'canary judge, own 10-s metrics';

/** Runs the comparison `npm run simulate` prints. */
export function runSimulation(options: SimulationOptions = {}): SimulationResult {
  const started = Date.now();
  const runs = options.runs ?? 1000;
  const seed = options.seed ?? 11;
  const rates = options.rates ?? [0.2, 5, 200];
  const evaluation = options.evaluation ?? DEFAULT_EVALUATION;
  const unknown = (options.scenarios ?? []).filter((id) => !SCENARIOS.some((s) => s.id === id));
  if (unknown.length > 0)
    throw new Error(`unknown scenario ${unknown.map((id) => JSON.stringify(id)).join(', ')}: use ${SCENARIOS.map((s) => s.id).join(', ')}`);
  const scenarios = SCENARIOS.filter((s) => !options.scenarios || options.scenarios.includes(s.id));

  // A quiet service: at 5 rps a 10% canary serves 300 requests in 10 minutes, too few to see +2
  // points. The power calculation sizes its error window and step; both judges synthesize at once.
  const quiet = 5;
  const power = requiredCanaryStep(
    { requestsPerSecond: quiet, canaryPercent: 10, baselineErrorPercent: 0.2, effectPoints: 2 },
    DEFAULT_JUDGE_SETTINGS,
  );
  const today = todayTemplates();
  const [judge, sizedJudge, highRes] = judgeTemplateVariants([
    {},
    { settings: { errorWindowMinutes: power.windowMinutes ?? DEFAULT_JUDGE_SETTINGS.errorWindowMinutes } },
    { highResolution: true },
  ]);
  // Alarm sets 0-3: today Lambda, judge Lambda, today ECS, judge ECS; 4-5: the sized judges.
  const sets: AlarmSet[] = [
    { name: TODAY, alarms: alarmsFromTemplate(today.lambda) },
    { name: JUDGE, alarms: alarmsFromTemplate(judge.lambda), minRequests: judge.minRequests },
    { name: TODAY, alarms: alarmsFromTemplate(today.ecs) },
    { name: JUDGE, alarms: alarmsFromTemplate(judge.ecs), minRequests: judge.minRequests },
    { name: JUDGE, alarms: alarmsFromTemplate(sizedJudge.lambda), minRequests: sizedJudge.minRequests },
    { name: JUDGE, alarms: alarmsFromTemplate(sizedJudge.ecs), minRequests: sizedJudge.minRequests },
    // 6-7: the judge with the services' own high-resolution metrics.
    { name: HIGH_RES_JUDGE, alarms: alarmsFromTemplate(highRes.lambda), minRequests: highRes.minRequests },
    { name: HIGH_RES_JUDGE, alarms: alarmsFromTemplate(highRes.ecs), minRequests: highRes.minRequests },
  ];
  const jobs: Array<{ readonly cell: Cell; readonly sets: readonly number[] }> = [];
  for (const scenario of scenarios) for (const rps of rates) jobs.push({ cell: { scenario, rps }, sets: [0, 1, 2, 3] });
  const main = jobs.length;
  if (power.windowMinutes !== undefined) {
    const traffic = { stepMinutes: power.stepMinutes!, historyMinutes: Math.max(DEFAULT_TRAFFIC.historyMinutes, power.windowMinutes + 5) };
    for (const scenario of scenarios.filter((s) => ['healthy', 'healthy-noisy', 'errors-2pt', 'errors-0.3pt', 'outage'].includes(s.id))) {
      jobs.push({ cell: { scenario, rps: quiet, traffic }, sets: [0, 4, 2, 5] });
    }
  }
  const highResStart = jobs.length;
  for (const scenario of scenarios)
    for (const rps of rates) jobs.push({ cell: { scenario, rps, traffic: { bucketSeconds: 10 } }, sets: [6, 7] });
  const prepared = sets.map((set) => new PreparedAlarmSet(set, evaluation));
  const results = jobs.map((job) =>
    runCell(
      job.cell,
      job.sets.map((i) => prepared[i]),
      runs,
      seed,
    ),
  );
  const split = results.map(splitCell);
  const lambda = split.slice(0, main).map(([l]) => l);
  const ecs = split.slice(0, main).map(([, e]) => e);
  const sizedLambda = split.slice(main, highResStart).map(([l]) => l);
  const sizedEcs = split.slice(main, highResStart).map(([, e]) => e);
  const highResLambda = results.slice(highResStart).map((c) => ({ ...c, sets: c.sets.slice(0, 1) }));
  const highResEcs = results.slice(highResStart).map((c) => ({ ...c, sets: c.sets.slice(1) }));
  const targets = [
    ...checkTargets('Lambda', lambda, JUDGE, sizedLambda),
    ...checkTargets('ECS', ecs, JUDGE, sizedEcs),
    ...checkTargets('Lambda, own 10-s metrics', highResLambda, HIGH_RES_JUDGE),
    ...checkTargets('ECS, own 10-s metrics', highResEcs, HIGH_RES_JUDGE),
  ];
  return {
    runs,
    seed,
    evaluation,
    lambda,
    ecs,
    sized: { rps: quiet, power, lambda: sizedLambda, ecs: sizedEcs },
    highResolution: { lambda: highResLambda, ecs: highResEcs },
    targets,
    seconds: (Date.now() - started) / 1000,
  };
}

/** A cell run with the Lambda sets then the ECS sets (two each), as two cells. */
function splitCell(c: CellResult): [CellResult, CellResult] {
  return [
    { ...c, sets: c.sets.slice(0, 2) },
    { ...c, sets: c.sets.slice(2) },
  ];
}

/** The tables and target checks as markdown. */
export function formatSimulation(r: SimulationResult): string {
  const e = r.evaluation;
  const p = r.sized.power;
  const out = [
    `Canary 10% for the step, then 100% (watched ${DEFAULT_TRAFFIC.postShiftMinutes} more minutes); ${r.runs} seeded runs per cell (seed ${r.seed}).`,
    `Model: metrics visible ${e.metricDelaySeconds} s after their minute, alarms evaluated every ${e.evaluationIntervalSeconds} s, CodeDeploy polls every ${e.codeDeployPollSeconds} s, evaluation range N+${e.evaluationRangeExtra}; ` +
      `a service's own high-resolution metrics visible ${e.highResolutionDelaySeconds} s after their 10 seconds, their 10/30-s alarms evaluated every ${e.highResolutionEvaluationSeconds} s.`,
    "Times run from the canary's first request to rollback start; exposure is the share of requests the new version served until then.",
    '',
    '### Lambda (alias with ExecutedVersion = new version vs alias totals)',
    '',
    table(r.lambda),
    '',
    '### ECS blue/green (two target groups)',
    '',
    table(r.ecs),
    '',
    `### Quiet service sized by the power calculation (${r.sized.rps} rps, +2 points over 0.2%, 95% power)`,
    '',
    p.windowMinutes === undefined
      ? `No error window up to a day reaches the power (best ${p.power.toFixed(2)}).`
      : `requiredCanaryStep: errorWindowMinutes ${p.windowMinutes}, canary step ${p.stepMinutes} min (${p.canaryRequests} canary requests expected in the window, power ${p.power.toFixed(2)} by judgePower's Poisson approximation).`,
    '',
    ...bothShapes('Lambda:', r.sized),
    `### A service that publishes its own high-resolution metrics (HighResErrorJudge over ${DEFAULT_JUDGE_SETTINGS.highResolutionWindowSeconds} s beside the judge's one-minute alarms)`,
    '',
    ...bothShapes('Traffic drawn in 10-second buckets, independently of the tables above. Lambda:', r.highResolution),
    '### Targets (judge)',
    '',
    targetsTable(r.targets),
    '',
    `${r.targets.filter((t) => t.met).length} of ${r.targets.length} targets met; simulated in ${r.seconds.toFixed(1)} s.`,
  ];
  return out.join('\n');
}

/** The Lambda table after `intro`, then the ECS table, each followed by a blank line. */
function bothShapes(intro: string, cells: { readonly lambda: CellResult[]; readonly ecs: CellResult[] }): string[] {
  return [intro, '', table(cells.lambda), '', 'ECS:', '', table(cells.ecs), ''];
}

export { pct };
