import { parseExpression, referencedIds } from './metric-math';

/**
 * Alarms as synthesized: the `AWS::CloudWatch::Alarm` resources of a CloudFormation template,
 * single-metric or metric-math, reduced to what their evaluation needs. Whatever the simulator
 * cannot evaluate faithfully fails here, loudly, instead of being approximated.
 */

/** A metric as an alarm names it. Dimension values are literal strings or JSON of CloudFormation intrinsics. */
export interface MetricIdentity {
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: Readonly<Record<string, string>>;
  /** `Sum`, `Maximum`, `Average`, `p99`, ... */
  readonly stat: string;
}

/** One entry of the alarm's metric query: a metric, or an expression over other entries. */
export interface AlarmEntry {
  readonly id: string;
  readonly metric?: MetricIdentity;
  readonly expression?: string;
}

export type ComparisonOperator =
  'GreaterThanThreshold' | 'GreaterThanOrEqualToThreshold' | 'LessThanThreshold' | 'LessThanOrEqualToThreshold';
export type TreatMissingData = 'missing' | 'notBreaching' | 'breaching' | 'ignore';

export interface AlarmSpec {
  readonly logicalId: string;
  /** The alarm name if literal, else the logical id. */
  readonly name: string;
  readonly periodSeconds: number;
  readonly threshold: number;
  readonly comparison: ComparisonOperator;
  readonly evaluationPeriods: number;
  readonly datapointsToAlarm: number;
  readonly treatMissingData: TreatMissingData;
  readonly entries: readonly AlarmEntry[];
  /** Id of the entry the alarm watches. */
  readonly returnId: string;
}

type Resource = { Type?: string; Properties?: Record<string, unknown> };
export interface CfnTemplate {
  readonly Resources?: Readonly<Record<string, Resource>>;
}

const COMPARISONS: readonly ComparisonOperator[] = [
  'GreaterThanThreshold',
  'GreaterThanOrEqualToThreshold',
  'LessThanThreshold',
  'LessThanOrEqualToThreshold',
];
const TREATMENTS: readonly TreatMissingData[] = ['missing', 'notBreaching', 'breaching', 'ignore'];

/**
 * The alarms CodeDeploy watches: those in the deployment groups' `AlarmConfiguration` when the
 * template has a deployment group, else every metric alarm of the template.
 */
export function alarmsFromTemplate(template: CfnTemplate): AlarmSpec[] {
  const resources = template.Resources ?? {};
  const groups = Object.values(resources).filter((r) => r.Type === 'AWS::CodeDeploy::DeploymentGroup');
  let ids: string[];
  if (groups.length > 0) {
    ids = groups.flatMap((g) => {
      const config = g.Properties?.AlarmConfiguration as { Enabled?: boolean; Alarms?: Array<{ Name?: unknown }> } | undefined;
      if (!config || config.Enabled === false) return [];
      return (config.Alarms ?? []).map((a) => {
        const ref = (a.Name as { Ref?: unknown } | undefined)?.Ref;
        if (typeof ref === 'string' && resources[ref]) return ref;
        const byName = Object.entries(resources).find(([, r]) => r.Properties?.AlarmName === a.Name)?.[0];
        if (!byName) throw new Error(`deployment group alarm ${JSON.stringify(a.Name)} is not an alarm of this template`);
        return byName;
      });
    });
  } else {
    ids = Object.entries(resources)
      .filter(([, r]) => r.Type === 'AWS::CloudWatch::Alarm')
      .map(([id]) => id);
  }
  return ids.map((id) => alarmSpec(id, resources[id]));
}

export function alarmSpec(logicalId: string, resource: Resource): AlarmSpec {
  const where = `alarm ${logicalId}`;
  if (resource.Type === 'AWS::CloudWatch::CompositeAlarm')
    throw new Error(`${where}: composite alarms are not simulated (CodeDeploy is given metric alarms)`);
  if (resource.Type !== 'AWS::CloudWatch::Alarm') throw new Error(`${where}: ${String(resource.Type)} is not an AWS::CloudWatch::Alarm`);
  const p = resource.Properties ?? {};
  for (const unsupported of ['ThresholdMetricId', 'EvaluationWindow']) {
    if (p[unsupported] !== undefined) throw new Error(`${where}: ${unsupported} is not supported by the simulator`);
  }
  if (p.EvaluateLowSampleCountPercentile === 'ignore')
    throw new Error(`${where}: EvaluateLowSampleCountPercentile "ignore" is not supported by the simulator`);
  const comparison = p.ComparisonOperator as ComparisonOperator;
  if (!COMPARISONS.includes(comparison))
    throw new Error(`${where}: ComparisonOperator ${JSON.stringify(p.ComparisonOperator)} is not supported by the simulator`);
  const treatMissingData = (p.TreatMissingData ?? 'missing') as TreatMissingData;
  if (!TREATMENTS.includes(treatMissingData))
    throw new Error(`${where}: TreatMissingData ${JSON.stringify(p.TreatMissingData)} is not a CloudWatch value`);
  const threshold = numberOf(p.Threshold, `${where}: Threshold`);
  const evaluationPeriods = numberOf(p.EvaluationPeriods, `${where}: EvaluationPeriods`);
  const datapointsToAlarm =
    p.DatapointsToAlarm === undefined ? evaluationPeriods : numberOf(p.DatapointsToAlarm, `${where}: DatapointsToAlarm`);

  let entries: AlarmEntry[];
  let returnId: string;
  let periods: number[];
  if (Array.isArray(p.Metrics)) {
    const queries = p.Metrics as Array<Record<string, unknown>>;
    entries = queries.map((q) => {
      const id = String(q.Id);
      if (typeof q.Expression === 'string') {
        // Parse now, so that a bad expression fails when the template is read.
        referencedIds(parseExpression(q.Expression));
        return { id, expression: q.Expression };
      }
      const stat = q.MetricStat as { Metric?: Record<string, unknown>; Stat?: unknown; Period?: unknown } | undefined;
      if (!stat?.Metric) throw new Error(`${where}: metric entry ${id} has neither Expression nor MetricStat`);
      return { id, metric: identity(stat.Metric, String(stat.Stat), `${where}, entry ${id}`) };
    });
    const returned = queries.filter((q) => q.ReturnData === undefined || q.ReturnData === true);
    if (returned.length !== 1) throw new Error(`${where}: ${returned.length} entries return data; an alarm watches exactly one`);
    returnId = String(returned[0].Id);
    periods = queries.filter((q) => q.MetricStat).map((q) => numberOf((q.MetricStat as { Period?: unknown }).Period, `${where}: Period`));
  } else {
    const stat = (p.ExtendedStatistic ?? p.Statistic) as string | undefined;
    if (typeof stat !== 'string') throw new Error(`${where}: neither Statistic nor ExtendedStatistic`);
    entries = [{ id: 'm1', metric: identity({ Namespace: p.Namespace, MetricName: p.MetricName, Dimensions: p.Dimensions }, stat, where) }];
    returnId = 'm1';
    periods = [numberOf(p.Period, `${where}: Period`)];
  }
  // "A math expression used for an alarm can include as many as 10 metrics. Each metric must be
  // using the same period." (CloudWatch user guide, "Alarms on math expressions").
  if (new Set(periods).size !== 1)
    throw new Error(`${where}: its metrics use different periods (${[...new Set(periods)].join(', ')} s); CloudWatch requires one`);
  const periodSeconds = periods[0];
  // High-resolution alarms (10 or 30 s) read metrics stored at a 1-second resolution; the simulator
  // models those as 10-second buckets, so the periods below a minute it accepts are 10, 20 and 30.
  if (!(periodSeconds === 10 || periodSeconds === 20 || periodSeconds === 30 || (periodSeconds >= 60 && periodSeconds % 60 === 0)))
    throw new Error(`${where}: period ${periodSeconds} s: the simulator models periods of 10, 20, 30 s and whole minutes`);
  const name = typeof p.AlarmName === 'string' ? p.AlarmName : logicalId;
  return {
    logicalId,
    name,
    periodSeconds,
    threshold,
    comparison,
    evaluationPeriods,
    datapointsToAlarm,
    treatMissingData,
    entries,
    returnId,
  };
}

function identity(m: Record<string, unknown>, stat: string, where: string): MetricIdentity {
  if (typeof m.Namespace !== 'string' || typeof m.MetricName !== 'string')
    throw new Error(`${where}: metric without a literal Namespace and MetricName`);
  const dims: Record<string, string> = {};
  for (const d of (m.Dimensions as Array<{ Name: string; Value: unknown }> | undefined) ?? []) {
    dims[d.Name] = typeof d.Value === 'string' ? d.Value : JSON.stringify(d.Value);
  }
  return { namespace: m.Namespace, metricName: m.MetricName, dimensions: dims, stat };
}

function numberOf(v: unknown, what: string): number {
  const n = typeof v === 'string' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n)) throw new Error(`${what}: ${JSON.stringify(v)} is not a number`);
  return n;
}
