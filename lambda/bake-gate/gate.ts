import {
  CloudWatchClient,
  CompositeAlarm,
  DescribeAlarmHistoryCommand,
  DescribeAlarmsCommand,
  GetMetricDataCommand,
  MetricAlarm,
  MetricDataQuery,
} from '@aws-sdk/client-cloudwatch';
import { evaluateDeploymentWindow, DeploymentWindowSpec } from '../shared/deployment-window';

/** One service region the gate looks at, read through the GateReaderRole in its account. */
export interface GateTarget {
  readonly account: string;
  readonly region: string;
  /** The GateReaderRole the gate assumes in that account. */
  readonly roleArn: string;
  /** Aggregate (composite) health alarms of the stage's stacks, e.g. "Prod-Wave1-us-east-1-LambdaService-Health". */
  readonly healthAlarmNames: readonly string[];
}

/** What the pipeline passes in the action's UserParameters (JSON), rendered by DeploymentSafety. */
export interface GateParameters {
  /** The pipeline stage this gate guards, e.g. "Prod-Wave1". */
  readonly stageName: string;
  /** Bake required of the previous stage. @default - no bake, only alarms and window */
  readonly bake?: { readonly minutes: number; readonly minRequests: number };
  /** Window the guarded stage may start in. @default - any time */
  readonly window?: DeploymentWindowSpec;
  /** Targets of the previous stage: they must have baked, served enough and stayed quiet. */
  readonly observe: readonly GateTarget[];
  /** Targets of the guarded stage: their health alarms must not be firing. */
  readonly guard: readonly GateTarget[];
  /** Operator's override reason (pipeline variable); empty or "none" means no override. */
  readonly override?: string;
  /** Pipeline execution id (CodePipeline variable), for the override log. */
  readonly executionId?: string;
  /** Give up waiting for enough requests after this many minutes. */
  readonly maxWaitMinutes: number;
}

/** State carried between invocations in the continuation token. */
export interface GateState {
  /** When the gate first ran: the previous stage had just finished deploying. */
  readonly startedAt: string;
  readonly polls: number;
}

/** What the gate decided on one invocation. */
export type GateDecision =
  | { readonly kind: 'pass'; readonly reason: string; readonly overridden?: string }
  | { readonly kind: 'wait'; readonly reason: string; readonly state: GateState }
  | { readonly kind: 'fail'; readonly reason: string };

/** Dependencies of `evaluateGate`; tests pass mocked clients. */
export interface GateDeps {
  /** A CloudWatch client acting as the target's GateReaderRole. */
  readonly cloudWatchFor: (target: GateTarget) => Promise<CloudWatchClient>;
  readonly now: () => Date;
  /** Records an operator override (structured log line). */
  readonly logOverride: (details: Record<string, unknown>) => Promise<void> | void;
}

const NO_OVERRIDE = new Set(['', 'none']);

/** Parses and checks UserParameters; throws a message that names the bad field. */
export function parseGateParameters(raw: string | undefined): GateParameters {
  if (!raw) throw new Error('UserParameters is empty: the gate action needs its JSON parameters (rendered by DeploymentSafety)');
  let p: unknown;
  try {
    p = JSON.parse(raw);
  } catch (err) {
    throw new Error(`UserParameters is not JSON: ${(err as Error).message}`);
  }
  const o = p as Record<string, unknown>;
  if (typeof o !== 'object' || o === null) throw new Error('UserParameters must be a JSON object');
  if (typeof o.stageName !== 'string' || !o.stageName) throw new Error('UserParameters.stageName must be a non-empty string');
  for (const key of ['observe', 'guard'] as const) {
    if (!Array.isArray(o[key])) throw new Error(`UserParameters.${key} must be an array of targets`);
    (o[key] as unknown[]).forEach((t, i) => {
      const target = t as Record<string, unknown>;
      for (const f of ['account', 'region', 'roleArn'] as const) {
        if (typeof target?.[f] !== 'string' || !target[f]) throw new Error(`UserParameters.${key}[${i}].${f} must be a non-empty string`);
      }
      if (!Array.isArray(target.healthAlarmNames) || target.healthAlarmNames.some((n) => typeof n !== 'string')) {
        throw new Error(`UserParameters.${key}[${i}].healthAlarmNames must be an array of alarm names`);
      }
    });
  }
  if (o.bake !== undefined) {
    const b = o.bake as Record<string, unknown>;
    if (typeof b?.minutes !== 'number' || typeof b?.minRequests !== 'number' || b.minutes < 0 || b.minRequests < 0) {
      throw new Error('UserParameters.bake must be { "minutes": number >= 0, "minRequests": number >= 0 }');
    }
  }
  if (typeof o.maxWaitMinutes !== 'number' || o.maxWaitMinutes <= 0) throw new Error('UserParameters.maxWaitMinutes must be a positive number');
  return o as unknown as GateParameters;
}

/** Reads the continuation token, or starts a fresh state. */
export function parseGateState(token: string | undefined, now: Date): GateState {
  if (!token) return { startedAt: now.toISOString(), polls: 0 };
  const s = JSON.parse(token) as GateState;
  if (typeof s.startedAt !== 'string' || Number.isNaN(Date.parse(s.startedAt))) throw new Error(`continuation token has no valid startedAt: ${token}`);
  return { startedAt: s.startedAt, polls: typeof s.polls === 'number' ? s.polls : 0 };
}

/**
 * One evaluation of the gate. Order matters: the window and firing alarms fail at once (waiting
 * would not help or would hide a bad release); bake time and request count wait.
 */
export async function evaluateGate(params: GateParameters, state: GateState, deps: GateDeps): Promise<GateDecision> {
  const now = deps.now();
  const override = (params.override ?? '').trim();
  let overridden: string | undefined;
  if (params.window) {
    const w = evaluateDeploymentWindow(params.window, now);
    if (!w.open) {
      if (NO_OVERRIDE.has(override.toLowerCase())) {
        return { kind: 'fail', reason: `${params.stageName} is blocked: ${w.reason}. To deploy an emergency fix anyway, start a new execution with the pipeline variable SafetyOverride set to the reason (e.g. "INC-1234 hotfix").` };
      }
      overridden = override;
      await deps.logOverride({ stageName: params.stageName, executionId: params.executionId, override, window: w.reason });
    }
  }

  for (const target of [...params.guard, ...params.observe]) {
    const cw = await deps.cloudWatchFor(target);
    const firing = await firingAlarms(cw, target);
    if (firing.length > 0) return { kind: 'fail', reason: `${params.stageName} is blocked: ${firing.join('; ')}` };
  }

  for (const target of params.observe) {
    const cw = await deps.cloudWatchFor(target);
    const fired = await alarmsFiredSince(cw, target, new Date(state.startedAt), now);
    if (fired.length > 0) {
      return { kind: 'fail', reason: `${params.stageName} is blocked: the previous stage did not stay quiet during the bake: ${fired.join('; ')}` };
    }
  }

  const bake = params.bake;
  if (!bake) return pass(`${params.stageName}: alarms quiet${overridden ? ', window overridden' : ''}`, overridden);
  const elapsedMin = (now.getTime() - Date.parse(state.startedAt)) / 60_000;
  const next: GateState = { startedAt: state.startedAt, polls: state.polls + 1 };
  if (elapsedMin < bake.minutes) {
    return { kind: 'wait', reason: `baking: ${fmt(elapsedMin)} of ${bake.minutes} minutes elapsed`, state: next };
  }
  let requests = 0;
  if (bake.minRequests > 0) {
    requests = await countRequests(params.observe, new Date(state.startedAt), now, deps);
    if (requests < bake.minRequests) {
      if (elapsedMin < params.maxWaitMinutes) {
        return { kind: 'wait', reason: `baking: ${requests} of ${bake.minRequests} requests served after ${fmt(elapsedMin)} minutes`, state: next };
      }
      return {
        kind: 'fail',
        reason: `${params.stageName} is blocked: the previous stage served only ${requests} requests in ${fmt(elapsedMin)} minutes (needs ${bake.minRequests}); send traffic or lower bake.minRequests`,
      };
    }
  }
  return pass(`${params.stageName}: baked ${fmt(elapsedMin)} minutes (needs ${bake.minutes}), ${requests} requests (needs ${bake.minRequests}), alarms quiet${overridden ? ', window overridden' : ''}`, overridden);
}

function pass(reason: string, overridden: string | undefined): GateDecision {
  return overridden ? { kind: 'pass', reason, overridden } : { kind: 'pass', reason };
}

function fmt(n: number): string {
  return (Math.round(n * 10) / 10).toString();
}

async function describeAll(cw: CloudWatchClient, names: readonly string[]): Promise<{ metric: MetricAlarm[]; composite: CompositeAlarm[] }> {
  const metric: MetricAlarm[] = [];
  const composite: CompositeAlarm[] = [];
  for (let i = 0; i < names.length; i += 100) {
    let nextToken: string | undefined;
    do {
      const out = await cw.send(
        new DescribeAlarmsCommand({ AlarmNames: names.slice(i, i + 100), AlarmTypes: ['CompositeAlarm', 'MetricAlarm'], NextToken: nextToken }),
      );
      metric.push(...(out.MetricAlarms ?? []));
      composite.push(...(out.CompositeAlarms ?? []));
      nextToken = out.NextToken;
    } while (nextToken);
  }
  return { metric, composite };
}

async function firingAlarms(cw: CloudWatchClient, target: GateTarget): Promise<string[]> {
  if (target.healthAlarmNames.length === 0) return [];
  const { metric, composite } = await describeAll(cw, target.healthAlarmNames);
  const all = [...metric, ...composite];
  const where = `${target.account}/${target.region}`;
  const problems: string[] = [];
  for (const name of target.healthAlarmNames) {
    const alarm = all.find((a) => a.AlarmName === name);
    if (!alarm) problems.push(`alarm "${name}" does not exist in ${where}: check the stage's healthAlarmNames`);
    else if (alarm.StateValue === 'ALARM') problems.push(`alarm "${name}" is in ALARM in ${where}: ${alarm.StateReason ?? 'no reason given'}`);
  }
  return problems;
}

async function alarmsFiredSince(cw: CloudWatchClient, target: GateTarget, since: Date, now: Date): Promise<string[]> {
  const fired: string[] = [];
  for (const name of target.healthAlarmNames) {
    let nextToken: string | undefined;
    do {
      const out = await cw.send(
        new DescribeAlarmHistoryCommand({ AlarmName: name, HistoryItemType: 'StateUpdate', StartDate: since, EndDate: now, NextToken: nextToken }),
      );
      for (const item of out.AlarmHistoryItems ?? []) {
        if (historyNewState(item.HistoryData) === 'ALARM') {
          fired.push(`alarm "${name}" fired in ${target.account}/${target.region} at ${item.Timestamp?.toISOString() ?? 'unknown time'}`);
        }
      }
      nextToken = out.NextToken;
    } while (nextToken);
  }
  return fired;
}

function historyNewState(data: string | undefined): string | undefined {
  try {
    return (JSON.parse(data ?? '{}') as { newState?: { stateValue?: string } }).newState?.stateValue;
  } catch {
    return undefined;
  }
}

/** A metric as CloudWatch names it. */
interface MetricId {
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: ReadonlyArray<{ Name: string; Value: string }>;
}

/**
 * Finds the request metrics of a target from its alarms: the composite health alarm names its
 * children, whose metrics carry the generated function / target group names. Lambda: Invocations
 * of the same FunctionName+Resource (alias); ALB: RequestCount of each target group. After a
 * completed shift every such request was served by the new version.
 */
export function requestMetricsFromAlarms(alarms: readonly MetricAlarm[]): MetricId[] {
  const found = new Map<string, MetricId>();
  const add = (namespace: string | undefined, dims: ReadonlyArray<{ Name?: string; Value?: string }> | undefined) => {
    const d = (dims ?? []).filter((x): x is { Name: string; Value: string } => !!x.Name && !!x.Value);
    const names = new Set(d.map((x) => x.Name));
    let m: MetricId | undefined;
    if (namespace === 'AWS/Lambda' && names.has('FunctionName')) {
      m = { namespace, metricName: 'Invocations', dimensions: d.filter((x) => ['FunctionName', 'Resource', 'ExecutedVersion'].includes(x.Name)) };
    } else if (namespace === 'AWS/ApplicationELB' && names.has('TargetGroup')) {
      m = { namespace, metricName: 'RequestCount', dimensions: d.filter((x) => ['TargetGroup', 'LoadBalancer'].includes(x.Name)) };
    }
    if (m) found.set(JSON.stringify([...m.dimensions].sort((a, b) => a.Name.localeCompare(b.Name))) + m.namespace, m);
  };
  for (const a of alarms) {
    add(a.Namespace, a.Dimensions as Array<{ Name?: string; Value?: string }>);
    for (const q of a.Metrics ?? []) add(q.MetricStat?.Metric?.Namespace, q.MetricStat?.Metric?.Dimensions as Array<{ Name?: string; Value?: string }>);
  }
  return [...found.values()];
}

/** Child alarm names referenced by a composite alarm rule: ALARM("name") or ALARM(arn). */
export function childAlarmNames(rule: string | undefined): string[] {
  const out = new Set<string>();
  for (const m of (rule ?? '').matchAll(/(?:ALARM|OK|INSUFFICIENT_DATA)\(\s*"?([^")]+?)"?\s*\)/g)) {
    const ref = m[1];
    out.add(ref.startsWith('arn:') ? ref.slice(ref.indexOf(':alarm:') + ':alarm:'.length) : ref);
  }
  return [...out];
}

async function countRequests(targets: readonly GateTarget[], since: Date, now: Date, deps: GateDeps): Promise<number> {
  let total = 0;
  for (const target of targets) {
    const cw = await deps.cloudWatchFor(target);
    const { metric, composite } = await describeAll(cw, target.healthAlarmNames);
    const childNames = composite.flatMap((c) => childAlarmNames(c.AlarmRule)).filter((n) => !metric.some((m) => m.AlarmName === n));
    const children = childNames.length > 0 ? (await describeAll(cw, childNames)).metric : [];
    const metrics = requestMetricsFromAlarms([...metric, ...children]);
    if (metrics.length === 0) {
      throw new Error(
        `cannot count requests in ${target.account}/${target.region}: no alarm under ${target.healthAlarmNames.join(', ')} watches an AWS/Lambda or AWS/ApplicationELB metric`,
      );
    }
    const queries: MetricDataQuery[] = metrics.map((m, i) => ({
      Id: `r${i}`,
      MetricStat: { Metric: { Namespace: m.namespace, MetricName: m.metricName, Dimensions: [...m.dimensions] }, Period: 60, Stat: 'Sum' },
      ReturnData: true,
    }));
    let nextToken: string | undefined;
    do {
      const out = await cw.send(new GetMetricDataCommand({ MetricDataQueries: queries, StartTime: since, EndTime: now, NextToken: nextToken }));
      for (const r of out.MetricDataResults ?? []) total += (r.Values ?? []).reduce((a, b) => a + b, 0);
      nextToken = out.NextToken;
    } while (nextToken);
  }
  return total;
}
