import type { AppConfigClient } from '@aws-sdk/client-appconfig';
import {
  CloudWatchClient,
  CompositeAlarm,
  DescribeAlarmHistoryCommand,
  DescribeAlarmsCommand,
  GetMetricDataCommand,
  MetricAlarm,
  MetricDataQuery,
} from '@aws-sdk/client-cloudwatch';
import { z } from 'zod';
import { evaluateDeploymentWindow } from '../../lib/runtime/deployment-window';
import { parseJsonWith } from '../../lib/runtime/gate-settings';
import type { GateParameters, GateSettings, GateTarget } from '../../lib/runtime/gate-settings';
import { checkGuardedFlags, checkObservedFlags } from './flags';

export type { GateParameters, GateSettings, GateTarget } from '../../lib/runtime/gate-settings';

/** State carried between invocations in the continuation token (the gate writes and reads it). */
const gateStateSchema = z.object({
  /** When the gate first ran: the previous stage had just finished deploying. */
  startedAt: z.string().refine((s) => !Number.isNaN(Date.parse(s)), { error: 'is not a date' }),
  polls: z.number().int().min(0).default(0),
});
export type GateState = Readonly<z.infer<typeof gateStateSchema>>;

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
  /**
   * Whether the latest run of a deploy action of the guarded stage succeeded: then what it deploys
   * exists, and a missing role or alarm is a fault, not a first run.
   */
  readonly deployedBefore: (stageName: string, actionName: string) => Promise<boolean>;
  /**
   * An AppConfig client acting as the target's GateReaderRole, for targets whose services have
   * feature flags. @default - none: a target with flags fails the gate
   */
  readonly appConfigFor?: (target: GateTarget) => Promise<AppConfigClient>;
}

const NO_OVERRIDE = new Set(['', 'none']);

/** Reads the continuation token, or starts a fresh state. */
export function parseGateState(token: string | undefined, now: Date): GateState {
  if (!token) return { startedAt: now.toISOString(), polls: 0 };
  return parseJsonWith(gateStateSchema, token, 'continuation token');
}

/**
 * One evaluation of the gate. Order matters: the window and firing alarms fail at once (waiting
 * would not help or would hide a bad release); bake time and request count wait. A guarded target
 * that the pipeline has never deployed has no role or alarms yet: it passes, and the reason says so.
 * When no guarded target has ever been deployed (the first run), requests are not counted: that
 * stage has no users to protect, and the previous wave, just created, has none to show.
 */
export async function evaluateGate(
  settings: GateSettings,
  params: Pick<GateParameters, 'override' | 'executionId'>,
  state: GateState,
  deps: GateDeps,
): Promise<GateDecision> {
  const now = deps.now();
  const stageName = settings.stageName;
  const override = (params.override ?? '').trim();
  let overridden: string | undefined;
  if (settings.window) {
    const w = evaluateDeploymentWindow(settings.window, now);
    if (!w.open) {
      if (NO_OVERRIDE.has(override.toLowerCase())) {
        return {
          kind: 'fail',
          reason: `${stageName} is blocked: ${w.reason}. To deploy an emergency fix anyway, start a new execution with the pipeline variable SafetyOverride set to the reason (e.g. "INC-1234 hotfix").`,
        };
      }
      overridden = override;
      await deps.logOverride({ stageName, executionId: params.executionId, override, window: w.reason });
    }
  }

  const notes: string[] = [];
  let undeployed = 0;
  for (const target of settings.guard) {
    const { problems, deployed } = await guardTarget(settings, target, deps, notes);
    if (problems.length > 0) return { kind: 'fail', reason: `${stageName} is blocked: ${problems.join('; ')}` };
    if (!deployed) undeployed++;
  }
  // The guarded stage has never been deployed anywhere (the first run): it has no users to protect,
  // and the previous wave, just created, has none yet either. Waiting for requests would only block.
  const newStage = settings.guard.length > 0 && undeployed === settings.guard.length;
  for (const target of settings.observe) {
    const cw = await deps.cloudWatchFor(target);
    const firing = await firingAlarms(cw, target, target.healthAlarmNames);
    if (firing.length > 0) return { kind: 'fail', reason: `${stageName} is blocked: ${firing.join('; ')}` };
    const fired = await alarmsFiredSince(cw, target, new Date(state.startedAt), now);
    if (fired.length > 0) {
      return {
        kind: 'fail',
        reason: `${stageName} is blocked: the previous stage did not stay quiet during the bake: ${fired.join('; ')}`,
      };
    }
  }
  const elapsedMin = (now.getTime() - Date.parse(state.startedAt)) / 60_000;
  const next: GateState = { startedAt: state.startedAt, polls: state.polls + 1 };
  const flags = await checkFlags(settings, deps, notes);
  if (flags.fail) return { kind: 'fail', reason: `${stageName} is blocked: ${flags.fail}` };
  if (flags.waits.length > 0) {
    if (elapsedMin >= settings.maxWaitMinutes) {
      return {
        kind: 'fail',
        reason: `${stageName} is blocked: flag deployments still running after ${fmt(elapsedMin)} minutes: ${flags.waits.join('; ')}. See deployctl flags`,
      };
    }
    return { kind: 'wait', reason: `flags: ${flags.waits.join('; ')}`, state: next };
  }
  const firstRun = notes.length > 0 ? ` (${notes.join('; ')})` : '';
  const flagsDone = flags.checked > 0 ? `, ${flags.checked} flag deployment${flags.checked > 1 ? 's' : ''} complete` : '';

  const bake = settings.bake;
  if (!bake) return pass(`${stageName}: alarms quiet${flagsDone}${overridden ? ', window overridden' : ''}${firstRun}`, overridden);
  if (elapsedMin < bake.minutes) {
    return { kind: 'wait', reason: `baking: ${fmt(elapsedMin)} of ${bake.minutes} minutes elapsed`, state: next };
  }
  const counting = settings.countRequests && bake.minRequests > 0 && !newStage;
  let requests = 0;
  if (counting) {
    requests = await countRequests(settings.observe, new Date(state.startedAt), now, deps);
    if (requests < bake.minRequests) {
      if (elapsedMin < settings.maxWaitMinutes) {
        return {
          kind: 'wait',
          reason: `baking: ${requests} of ${bake.minRequests} requests served after ${fmt(elapsedMin)} minutes`,
          state: next,
        };
      }
      return {
        kind: 'fail',
        reason: `${stageName} is blocked: the previous stage served only ${requests} requests in ${fmt(elapsedMin)} minutes (needs ${bake.minRequests}); send traffic or lower bake.minRequests`,
      };
    }
  }
  const served = counting
    ? `${requests} requests (needs ${bake.minRequests})`
    : settings.countRequests && bake.minRequests > 0
      ? `requests not counted (${stageName} has never been deployed: no users there to protect yet)`
      : 'requests not counted (the previous stage is pre-production)';
  return pass(
    `${stageName}: baked ${fmt(elapsedMin)} minutes (needs ${bake.minutes}), ${served}, alarms quiet${flagsDone}${overridden ? ', window overridden' : ''}${firstRun}`,
    overridden,
  );
}

/**
 * Feature-flag deployments of both stages (rules in ./flags.ts): the first failure, what is still
 * running, and how many services' flags of the previous stage were checked complete. A guarded
 * target never deployed (its reader role does not exist yet) was noted by guardTarget: skipped.
 */
async function checkFlags(
  settings: GateSettings,
  deps: GateDeps,
  notes: string[],
): Promise<{ fail?: string; waits: string[]; checked: number }> {
  const waits: string[] = [];
  let checked = 0;
  const sides = [
    { targets: settings.observe, check: checkObservedFlags, observed: true },
    { targets: settings.guard, check: checkGuardedFlags, observed: false },
  ];
  for (const { targets, check, observed } of sides) {
    for (const target of targets.filter((t) => (t.flags ?? []).length > 0)) {
      if (!deps.appConfigFor)
        throw new Error(`gate misconfigured: ${target.account}/${target.region} has feature flags, and the gate has no AppConfig client`);
      let client: AppConfigClient;
      try {
        client = await deps.appConfigFor(target);
      } catch (err) {
        if (!observed && isAccessDenied(err) && !(await deps.deployedBefore(settings.stageName, target.platformAction))) continue;
        throw err;
      }
      for (const f of target.flags ?? []) {
        const verdict = await check(client, target, f);
        if (verdict.kind === 'fail') return { fail: verdict.reason, waits, checked };
        if (verdict.kind === 'wait') waits.push(verdict.reason);
        else if (verdict.note) notes.push(verdict.note);
        else if (observed) checked++;
      }
    }
  }
  return { waits, checked };
}

/**
 * The guarded target's health alarms must not be firing. What the pipeline has never deployed
 * there (no reader role yet, or a service stack not yet created) is noted and passes; the same
 * thing missing after a successful deployment fails.
 */
async function guardTarget(
  settings: GateSettings,
  target: GateTarget,
  deps: GateDeps,
  notes: string[],
): Promise<{ problems: string[]; deployed: boolean }> {
  const where = `${target.account}/${target.region}`;
  let cw: CloudWatchClient;
  try {
    cw = await deps.cloudWatchFor(target);
  } catch (err) {
    if (!isAccessDenied(err) || (await deps.deployedBefore(settings.stageName, target.platformAction))) throw err;
    notes.push(
      `${where} not deployed yet: its platform stack (${target.platformAction}) has never been deployed, so there is no reader role or alarm to check`,
    );
    return { problems: [], deployed: false };
  }
  const { all } = await describeNamed(cw, target.healthAlarmNames);
  const problems: string[] = [];
  let services = 0;
  for (const [i, name] of target.healthAlarmNames.entries()) {
    const alarm = all.find((a) => a.AlarmName === name);
    if (!alarm) {
      if (await deps.deployedBefore(settings.stageName, target.serviceActions[i])) {
        problems.push(
          `alarm "${name}" does not exist in ${where}, although ${target.serviceActions[i]} deployed it: check the stack (deleted by hand?)`,
        );
        services++;
      } else {
        notes.push(`${name} not deployed yet (${target.serviceActions[i]} has never succeeded)`);
      }
    } else {
      services++;
      if (alarm.StateValue === 'ALARM') problems.push(`alarm "${name}" is in ALARM in ${where}: ${alarm.StateReason ?? 'no reason given'}`);
    }
  }
  // A target whose services have never been deployed serves no one yet.
  return { problems, deployed: services > 0 || target.healthAlarmNames.length === 0 };
}

/** AssumeRole refused: the role does not exist (or does not trust the gate). */
function isAccessDenied(err: unknown): boolean {
  const name = (err as { name?: string } | null)?.name ?? '';
  return name === 'AccessDenied' || name === 'AccessDeniedException';
}

function pass(reason: string, overridden: string | undefined): GateDecision {
  return overridden ? { kind: 'pass', reason, overridden } : { kind: 'pass', reason };
}

function fmt(n: number): string {
  return (Math.round(n * 10) / 10).toString();
}

async function describeAll(
  cw: CloudWatchClient,
  names: readonly string[],
): Promise<{ metric: MetricAlarm[]; composite: CompositeAlarm[] }> {
  const metric: MetricAlarm[] = [];
  const composite: CompositeAlarm[] = [];
  for (let i = 0; i < names.length; i += 100) {
    let nextToken: string | undefined;
    do {
      const out = await cw.send(
        new DescribeAlarmsCommand({
          AlarmNames: names.slice(i, i + 100),
          AlarmTypes: ['CompositeAlarm', 'MetricAlarm'],
          NextToken: nextToken,
        }),
      );
      metric.push(...(out.MetricAlarms ?? []));
      composite.push(...(out.CompositeAlarms ?? []));
      nextToken = out.NextToken;
    } while (nextToken);
  }
  return { metric, composite };
}

async function describeNamed(cw: CloudWatchClient, names: readonly string[]): Promise<{ all: Array<MetricAlarm | CompositeAlarm> }> {
  if (names.length === 0) return { all: [] };
  const { metric, composite } = await describeAll(cw, names);
  return { all: [...metric, ...composite] };
}

async function firingAlarms(cw: CloudWatchClient, target: GateTarget, names: readonly string[]): Promise<string[]> {
  const { all } = await describeNamed(cw, names);
  const where = `${target.account}/${target.region}`;
  const problems: string[] = [];
  for (const name of names) {
    const alarm = all.find((a) => a.AlarmName === name);
    if (!alarm) problems.push(`alarm "${name}" does not exist in ${where}: check the stage's healthAlarmNames`);
    else if (alarm.StateValue === 'ALARM')
      problems.push(`alarm "${name}" is in ALARM in ${where}: ${alarm.StateReason ?? 'no reason given'}`);
  }
  return problems;
}

async function alarmsFiredSince(cw: CloudWatchClient, target: GateTarget, since: Date, now: Date): Promise<string[]> {
  const fired: string[] = [];
  for (const name of target.healthAlarmNames) {
    let nextToken: string | undefined;
    do {
      const out = await cw.send(
        new DescribeAlarmHistoryCommand({
          AlarmName: name,
          HistoryItemType: 'StateUpdate',
          StartDate: since,
          EndDate: now,
          NextToken: nextToken,
        }),
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
      m = {
        namespace,
        metricName: 'Invocations',
        dimensions: d.filter((x) => ['FunctionName', 'Resource', 'ExecutedVersion'].includes(x.Name)),
      };
    } else if (namespace === 'AWS/ApplicationELB' && names.has('TargetGroup')) {
      m = { namespace, metricName: 'RequestCount', dimensions: d.filter((x) => ['TargetGroup', 'LoadBalancer'].includes(x.Name)) };
    }
    if (m) found.set(JSON.stringify([...m.dimensions].sort((a, b) => a.Name.localeCompare(b.Name))) + m.namespace, m);
  };
  for (const a of alarms) {
    add(a.Namespace, a.Dimensions as Array<{ Name?: string; Value?: string }>);
    for (const q of a.Metrics ?? [])
      add(q.MetricStat?.Metric?.Namespace, q.MetricStat?.Metric?.Dimensions as Array<{ Name?: string; Value?: string }>);
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
      const out = await cw.send(
        new GetMetricDataCommand({ MetricDataQueries: queries, StartTime: since, EndTime: now, NextToken: nextToken }),
      );
      for (const r of out.MetricDataResults ?? []) total += (r.Values ?? []).reduce((a, b) => a + b, 0);
      nextToken = out.NextToken;
    } while (nextToken);
  }
  return total;
}
