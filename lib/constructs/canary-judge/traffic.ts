import { Duration, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { CANARY_METRICS } from '../../canary-metrics';

/** The three metrics the judge reads for one side of the comparison. */
export interface VersionMetrics {
  /** Requests served in a period, as a `Sum` (e.g. Lambda `Invocations`, ALB `RequestCount`). */
  readonly requests: cloudwatch.IMetric;
  /**
   * Failed requests in a period, as a `Sum` (e.g. Lambda `Errors`, ALB `HTTPCode_Target_5XX_Count`).
   * Missing datapoints count as zero: the ALB publishes no 5xx datapoint in a minute without 5xx.
   */
  readonly errors: cloudwatch.IMetric;
  /** A latency statistic in a period, e.g. `p90` of Lambda `Duration` or of ALB `TargetResponseTime`. */
  readonly latency: cloudwatch.IMetric;
}

/** Unit of the latency metrics: Lambda `Duration` is in milliseconds, ALB `TargetResponseTime` in seconds. */
export type LatencyUnit = 'milliseconds' | 'seconds';

/** Properties of `JudgeTraffic.canaryWithinTotal`. */
export interface CanaryWithinTotalProps {
  /** The version being deployed, as part of the total. */
  readonly canary: VersionMetrics;
  /** Both versions together (the canary included). */
  readonly total: VersionMetrics;
  /**
   * Unit of the latency metrics.
   * @default 'milliseconds'
   */
  readonly latencyUnit?: LatencyUnit;
}

/** Properties of `JudgeTraffic.canaryAndBaseline`. */
export interface CanaryAndBaselineProps {
  /** The version being deployed. */
  readonly canary: VersionMetrics;
  /** The version it replaces. */
  readonly baseline: VersionMetrics;
  /**
   * Unit of the latency metrics.
   * @default 'milliseconds'
   */
  readonly latencyUnit?: LatencyUnit;
}

/** Properties of `JudgeTraffic.targetGroupPair`. */
export interface TargetGroupPairProps {
  /** One target group's metrics. */
  readonly first: VersionMetrics;
  /** The other's. */
  readonly second: VersionMetrics;
  /**
   * Unit of the latency metrics.
   * @default 'seconds' (ALB TargetResponseTime)
   */
  readonly latencyUnit?: LatencyUnit;
}

/** Properties of `JudgeTraffic.lambdaAlias`. */
export interface LambdaAliasTrafficProps {
  /** The function. */
  readonly function: lambda.IFunction;
  /** Name of the alias CodeDeploy shifts. */
  readonly aliasName: string;
  /** The version being deployed (the function's `currentVersion`). */
  readonly version: lambda.IVersion;
  /**
   * Statistic of `Duration` the latency judge compares. The baseline's is the alias's, a mixture of
   * both versions, which dampens a p99 regression more than a p90 one (docs/canary-judge.md).
   * @default 'p90'
   */
  readonly latencyStatistic?: string;
}

/** Properties of `JudgeTraffic.applicationTargetGroups`. */
export interface ApplicationTargetGroupsTrafficProps {
  /** One of the two target groups of the blue/green deployment. */
  readonly first: elbv2.IApplicationTargetGroup;
  /** The other. */
  readonly second: elbv2.IApplicationTargetGroup;
  /**
   * Statistic of `TargetResponseTime` the latency judge compares.
   * @default 'p90'
   */
  readonly latencyStatistic?: string;
}

/** Properties of `JudgeTraffic.embeddedMetrics`. */
export interface EmbeddedMetricsTrafficProps {
  /** Value of the `Service` dimension the service publishes under (its `SAFE_DEPLOY_METRICS_SERVICE`). */
  readonly service: string;
  /**
   * Value of the `Version` dimension the version being deployed publishes under: a Lambda version
   * number (`AWS_LAMBDA_FUNCTION_VERSION`), an ECS task definition revision.
   */
  readonly version: string;
  /**
   * Statistic of `Latency` the latency judge would compare.
   * @default 'p90'
   */
  readonly latencyStatistic?: string;
}

/** Metrics of the side-by-side versions as the alarms' math needs them, for one alarm period. */
export interface JudgeBinding {
  /**
   * Metrics and helper expressions by id. Always `creq`, `cerr`, `clat` (the canary's requests,
   * errors and latency) and `xreq`, `xerr`, `xlat` (the baseline's), each a metric or an expression.
   */
  readonly using: Readonly<Record<string, cloudwatch.IMetric>>;
  /** Sides the catastrophe alarm watches, whatever the other side does: `[requests, errors]` each. */
  readonly catastropheSides: ReadonlyArray<readonly [cloudwatch.IMetric, cloudwatch.IMetric]>;
  /** Metric-math expression (over `using`) for the canary's request count. */
  readonly canaryRequestsExpression: string;
}

/**
 * Which versions serve side by side during a canary, and how to read each one's metrics: the
 * Lambda shape (the new version inside the alias totals), two target groups of an ALB (ECS
 * blue/green), or a canary and a baseline measured separately.
 */
export abstract class JudgeTraffic {
  /**
   * A canary that is part of a measured total, the baseline being `total - canary` (Lambda: the
   * alias's metrics with `ExecutedVersion` = the new version, against the alias's own). The
   * baseline's latency is the total's: percentiles cannot be subtracted, so the canary is compared
   * with the mixture of both versions, which dampens a latency regression by about the canary's
   * share (docs/canary-judge.md, "Latency").
   */
  static canaryWithinTotal(props: CanaryWithinTotalProps): JudgeTraffic {
    return new CanaryWithinTotal(props.canary, props.total, props.latencyUnit ?? 'milliseconds');
  }

  /** A canary and a baseline with metrics of their own. */
  static canaryAndBaseline(props: CanaryAndBaselineProps): JudgeTraffic {
    return new Pair(props.canary, props.baseline, props.latencyUnit ?? 'milliseconds', false);
  }

  /**
   * Two target groups that swap roles with every successful blue/green deployment: in each period,
   * the one with fewer requests is the canary and the other the baseline. The catastrophe alarm
   * watches both.
   */
  static targetGroupPair(props: TargetGroupPairProps): JudgeTraffic {
    return new Pair(props.first, props.second, props.latencyUnit ?? 'seconds', true);
  }

  /**
   * The Lambda shape from the function, alias and version: `Invocations`, `Errors` and `Duration`
   * with dimensions FunctionName and Resource = `<function>:<alias>`, plus ExecutedVersion = the
   * version being deployed for the canary.
   */
  static lambdaAlias(props: LambdaAliasTrafficProps): JudgeTraffic {
    const fn = props.function.functionName;
    const aliasDims = { FunctionName: fn, Resource: `${fn}:${props.aliasName}` };
    const metrics = (dimensionsMap: Record<string, string>): VersionMetrics => {
      const m = (metricName: string, statistic: string) =>
        new cloudwatch.Metric({ namespace: 'AWS/Lambda', metricName, statistic, dimensionsMap, period: Duration.minutes(1) });
      return { requests: m('Invocations', 'Sum'), errors: m('Errors', 'Sum'), latency: m('Duration', props.latencyStatistic ?? 'p90') };
    };
    return JudgeTraffic.canaryWithinTotal({
      canary: metrics({ ...aliasDims, ExecutedVersion: props.version.version }),
      total: metrics(aliasDims),
      latencyUnit: 'milliseconds',
    });
  }

  /** The ECS blue/green shape from the two target groups: `RequestCount`, `HTTPCode_Target_5XX_Count`, `TargetResponseTime`. */
  static applicationTargetGroups(props: ApplicationTargetGroupsTrafficProps): JudgeTraffic {
    const metrics = (tg: elbv2.IApplicationTargetGroup): VersionMetrics => ({
      requests: tg.metrics.requestCount({ statistic: 'Sum', period: Duration.minutes(1) }),
      errors: tg.metrics.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, { statistic: 'Sum', period: Duration.minutes(1) }),
      latency: tg.metrics.targetResponseTime({ statistic: props.latencyStatistic ?? 'p90', period: Duration.minutes(1) }),
    });
    return JudgeTraffic.targetGroupPair({ first: metrics(props.first), second: metrics(props.second), latencyUnit: 'seconds' });
  }

  /**
   * The high-resolution metrics a service publishes per request with lib/canary-metrics
   * (embedded metric format, storage resolution 1 s): `Requests`, `Errors` and `Latency` in
   * `SafeDeploy/Canary`, with dimension Service for both versions together and Service plus Version
   * for the version being deployed. The Lambda shape: the baseline is `total - canary`.
   */
  static embeddedMetrics(props: EmbeddedMetricsTrafficProps): JudgeTraffic {
    const m = CANARY_METRICS;
    const metrics = (dimensionsMap: Record<string, string>): VersionMetrics => {
      const metric = (metricName: string, statistic: string) =>
        new cloudwatch.Metric({ namespace: m.namespace, metricName, statistic, dimensionsMap, period: Duration.seconds(10) });
      return {
        requests: metric(m.requests, 'Sum'),
        errors: metric(m.errors, 'Sum'),
        latency: metric(m.latency, props.latencyStatistic ?? 'p90'),
      };
    };
    const service = { [m.serviceDimension]: props.service };
    return JudgeTraffic.canaryWithinTotal({
      canary: metrics({ ...service, [m.versionDimension]: props.version }),
      total: metrics(service),
      latencyUnit: 'milliseconds',
    });
  }

  /** Unit of the latency metrics. */
  abstract readonly latencyUnit: LatencyUnit;

  /** The metrics and helper expressions for alarms of the given period. */
  abstract bind(period: Duration): JudgeBinding;

  /** Checks the statistics of the metrics; returns one message per problem. */
  abstract validate(): string[];
}

class CanaryWithinTotal extends JudgeTraffic {
  constructor(
    private readonly canary: VersionMetrics,
    private readonly total: VersionMetrics,
    readonly latencyUnit: LatencyUnit,
  ) {
    super();
  }

  bind(period: Duration): JudgeBinding {
    const c = withPeriod(this.canary, period);
    const t = withPeriod(this.total, period);
    const using = {
      creq: c.requests,
      cerr: c.errors,
      clat: c.latency,
      // Metric math treats a missing datapoint as 0 in arithmetic (CloudWatch user guide, "Basic
      // arithmetic functions"), so a minute without canary traffic leaves the baseline = the total.
      xreq: new cloudwatch.MathExpression({ expression: 'treq - creq', usingMetrics: { treq: t.requests, creq: c.requests }, period }),
      xerr: new cloudwatch.MathExpression({
        expression: 'FILL(terr, 0) - FILL(cerr, 0)',
        usingMetrics: { terr: t.errors, cerr: c.errors },
        period,
      }),
      xlat: t.latency,
    };
    return { using, catastropheSides: [[c.requests, c.errors]], canaryRequestsExpression: 'FILL(creq, 0)' };
  }

  validate(): string[] {
    return [...checkVersion('canary', this.canary), ...checkVersion('total', this.total)];
  }
}

class Pair extends JudgeTraffic {
  constructor(
    private readonly first: VersionMetrics,
    private readonly second: VersionMetrics,
    readonly latencyUnit: LatencyUnit,
    /** true: the smaller share is the canary (target groups); false: `first` is the canary. */
    private readonly bySmallerShare: boolean,
  ) {
    super();
  }

  bind(period: Duration): JudgeBinding {
    const a = withPeriod(this.first, period);
    const b = withPeriod(this.second, period);
    if (!this.bySmallerShare) {
      return {
        using: { creq: a.requests, cerr: a.errors, clat: a.latency, xreq: b.requests, xerr: b.errors, xlat: b.latency },
        catastropheSides: [[a.requests, a.errors]],
        canaryRequestsExpression: 'FILL(creq, 0)',
      };
    }
    const raw = { areq: a.requests, aerr: a.errors, alat: a.latency, breq: b.requests, berr: b.errors, blat: b.latency };
    // Target group A is the canary in a period where it served no more requests than B. Blue and
    // green swap roles after each successful deployment, so the roles are decided from the traffic.
    // No FILL on the request counts: a comparison of two series already reads a point missing in one
    // as 0, and a minute not yet published (missing in both) must stay missing. FILL would make it a
    // datapoint that hides the published ones from the alarm (the FILL caveat of the CloudWatch user
    // guide, "Functions supported for metric math").
    const isa = new cloudwatch.MathExpression({ expression: 'areq <= breq', usingMetrics: { areq: raw.areq, breq: raw.breq }, period });
    const pick = (canaryOf: 'a' | 'b', what: 'req' | 'err' | 'lat', fill: boolean) => {
      const other = canaryOf === 'a' ? 'b' : 'a';
      const ref = (side: string) => (fill ? `FILL(${side}${what}, 0)` : `${side}${what}`);
      return new cloudwatch.MathExpression({
        expression: `IF(isa, ${ref(canaryOf)}, ${ref(other)})`,
        usingMetrics: { isa, [`a${what}`]: raw[`a${what}`], [`b${what}`]: raw[`b${what}`] },
        period,
      });
    };
    return {
      using: {
        // Where the condition holds and the chosen side has no datapoint, IF gives 0 (no requests,
        // no 5xx, no latency); the judges' request guards cover it.
        creq: pick('a', 'req', false),
        cerr: pick('a', 'err', true),
        clat: pick('a', 'lat', false),
        xreq: pick('b', 'req', false),
        xerr: pick('b', 'err', true),
        xlat: pick('b', 'lat', false),
      },
      catastropheSides: [
        [a.requests, a.errors],
        [b.requests, b.errors],
      ],
      canaryRequestsExpression: 'MIN([FILL(areq, 0), FILL(breq, 0)])',
    };
  }

  validate(): string[] {
    const [n1, n2] = this.bySmallerShare ? ['first', 'second'] : ['canary', 'baseline'];
    return [...checkVersion(n1, this.first), ...checkVersion(n2, this.second)];
  }
}

/** The metrics re-made with the alarm's period (metric math requires one period for all its metrics). */
function withPeriod(v: VersionMetrics, period: Duration): VersionMetrics {
  return {
    requests: withAlarmPeriod(v.requests, period),
    errors: withAlarmPeriod(v.errors, period),
    latency: withAlarmPeriod(v.latency, period),
  };
}

function withAlarmPeriod(m: cloudwatch.IMetric, period: Duration): cloudwatch.IMetric {
  if (m instanceof cloudwatch.Metric || m instanceof cloudwatch.MathExpression) return m.with({ period });
  // Any other IMetric: CDK's MathExpression overrides the period itself and needs `with` for it.
  return m;
}

function checkVersion(name: string, v: VersionMetrics): string[] {
  const problems: string[] = [];
  for (const field of ['requests', 'errors'] as const) {
    const stat = statisticOf(v[field]);
    if (stat !== undefined && stat !== 'Sum') {
      problems.push(`traffic.${name}.${field}: statistic ${JSON.stringify(stat)} cannot be pooled over a window: use "Sum"`);
    }
  }
  const lat = statisticOf(v.latency);
  if (lat !== undefined && ['Sum', 'SampleCount'].includes(lat)) {
    problems.push(`traffic.${name}.latency: statistic ${JSON.stringify(lat)} is a count, not a latency: use a percentile such as "p90"`);
  }
  for (const field of ['requests', 'errors', 'latency'] as const) {
    if (!(v[field] instanceof cloudwatch.Metric || v[field] instanceof cloudwatch.MathExpression)) {
      problems.push(
        `traffic.${name}.${field}: ${String(v[field])} is neither a Metric nor a MathExpression: use one, so the judge can set its period`,
      );
    }
  }
  return problems;
}

function statisticOf(m: cloudwatch.IMetric): string | undefined {
  const stat = m.toMetricConfig().metricStat?.statistic;
  return stat === undefined || Token.isUnresolved(stat) ? undefined : stat;
}
