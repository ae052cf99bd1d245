import { referencedIds, refOf } from '../policy/intrinsics';
import type { TemplateIndex, CfnValue } from '../policy/template-index';
import { metricAlarmDetectionSeconds } from './hand-model';
import type { AlarmReport } from './types';

/**
 * An alarm a deployment group or an AppConfig monitor names (by Ref, Fn::GetAtt or literal name),
 * with its worst-case detection time by the hand model; NaN for an alarm defined outside the template.
 */
export function alarmReport(nameRef: unknown, index: TemplateIndex, depth = 0): AlarmReport {
  const id = index.idOfNamed(nameRef, 'AlarmName');
  const r = index.get(id);
  const name = typeof r?.Properties?.AlarmName === 'string' ? r.Properties.AlarmName : (id ?? refOf(nameRef) ?? String(nameRef));
  if (r?.Type === 'AWS::CloudWatch::Alarm') {
    const p = r.Properties ?? {};
    const period = Number(
      p.Period ?? Math.max(...(p.Metrics ?? []).map((m: CfnValue) => Number(m.MetricStat?.Period ?? m.Period ?? 0)), 0),
    );
    const n = Number(p.EvaluationPeriods);
    const m = Number(p.DatapointsToAlarm ?? n);
    return {
      name,
      kind: 'metric',
      periodSeconds: period,
      evaluationPeriods: n,
      datapointsToAlarm: m,
      detectionSeconds: metricAlarmDetectionSeconds(period, m),
    };
  }
  if (r?.Type === 'AWS::CloudWatch::CompositeAlarm' && depth < 5) {
    const childIds = [
      ...new Set(referencedIds(r.Properties?.AlarmRule).filter((c) => index.get(c)?.Type?.startsWith('AWS::CloudWatch::') && c !== id)),
    ];
    const children = childIds.map((c) => alarmReport({ Ref: c }, index, depth + 1));
    return {
      name,
      kind: 'composite',
      children,
      detectionSeconds: children.length > 0 ? Math.max(...children.map((c) => c.detectionSeconds)) : Number.NaN,
    };
  }
  // An alarm defined elsewhere: nothing to compute from.
  return { name, kind: 'metric', detectionSeconds: Number.NaN };
}
