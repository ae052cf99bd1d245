/**
 * What `deployctl watch` knows about a release at one instant (a snapshot), the change events
 * between two snapshots, and the pure rules behind them: the bake gate's summary, the time of the
 * next traffic shift, the exit code of an outcome. No SDK here: watch-poller.ts fills snapshots.
 */
import type { TrafficSplit } from '../runtime/deployments';
import type { Diagnosis } from '../runtime/diagnosis';
import type { Revision } from '../runtime/pipeline';

/**
 * Exit codes of `deployctl watch`. 1 and 2 keep the CLI's meaning (bad input; AWS or environment
 * error) and 3 stays diagnose's; the outcomes of a followed execution get codes of their own.
 */
export const WATCH_EXIT = {
  succeeded: 0,
  failed: 4,
  stopped: 5,
  superseded: 6,
  interrupted: 130,
} as const;

/** How a followed execution ended, from watch's point of view. */
export type WatchOutcome = 'Succeeded' | 'Failed' | 'Stopped' | 'Superseded' | 'Interrupted';

/** CodePipeline execution statuses that end an execution. */
export const TERMINAL_EXECUTION: ReadonlySet<string> = new Set(['Succeeded', 'Failed', 'Stopped', 'Superseded', 'Cancelled']);

/** The outcome and exit code of an execution that has ended with `status`. */
export function outcomeOf(status: string): { outcome: WatchOutcome; exitCode: number } {
  switch (status) {
    case 'Succeeded':
      return { outcome: 'Succeeded', exitCode: WATCH_EXIT.succeeded };
    case 'Superseded':
      return { outcome: 'Superseded', exitCode: WATCH_EXIT.superseded };
    case 'Stopped':
    case 'Cancelled':
      return { outcome: 'Stopped', exitCode: WATCH_EXIT.stopped };
    default:
      return { outcome: 'Failed', exitCode: WATCH_EXIT.failed };
  }
}

/** A stage of the followed execution. `Pending`: not reached yet; `Skipped`: the execution ended first. */
export type StageStatus = 'Pending' | 'InProgress' | 'Succeeded' | 'Failed' | 'Stopped' | 'Skipped';

/** Alarm states as CloudWatch names them, plus `UNKNOWN` for an alarm that was not found. */
export type AlarmState = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA' | 'UNKNOWN';

export interface AlarmView {
  readonly name: string;
  readonly state: AlarmState;
  /** CloudWatch's StateReason, when not OK. */
  readonly reason?: string;
}

/** The bake gate's progress, parsed from its latest execution summary. */
export interface GateProgress {
  /** The summary as the gate wrote it. */
  readonly summary?: string;
  /**
   * `evaluating`: no summary yet; `baking`: waiting for bake time; `waiting-for-traffic`: bake time
   * is over, not enough requests yet; `passed` / `blocked`: the gate's verdict.
   */
  readonly phase: 'evaluating' | 'baking' | 'waiting-for-traffic' | 'passed' | 'blocked';
  readonly bakedMinutes?: number;
  readonly requiredMinutes?: number;
  readonly requests?: number;
  readonly requiredRequests?: number;
  /** The guarded stage's deployment window now, evaluated from the gate's parameters. */
  readonly window?: { readonly open: boolean; readonly reason: string; readonly nextOpen?: string };
}

/** How a deployment configuration shifts traffic. */
export type TrafficRule =
  | { readonly type: 'AllAtOnce' }
  | { readonly type: 'TimeBasedCanary'; readonly percent: number; readonly intervalMinutes: number }
  | { readonly type: 'TimeBasedLinear'; readonly percent: number; readonly intervalMinutes: number };

/** One CodeDeploy deployment group of a running stage, and its deployment of this release. */
export interface DeploymentView {
  readonly region: string;
  /** Stack that owns the group (CDK Pipelines targets). */
  readonly stackName?: string;
  readonly applicationName: string;
  readonly deploymentGroupName: string;
  /** CodeDeploy's compute platform of the group, once read. */
  readonly platform?: 'Lambda' | 'ECS' | 'Server';
  /** Undefined until CodeDeploy has created this release's deployment. */
  readonly deploymentId?: string;
  /** Deployment status (`Created`, `InProgress`, `Succeeded`, `Stopped`, ...). */
  readonly status?: string;
  /** Lifecycle event now running, e.g. `AllowTraffic`. */
  readonly lifecycleEvent?: string;
  /** Percent of production traffic on the new version. */
  readonly trafficPercent?: number;
  readonly traffic?: TrafficSplit;
  readonly rule?: TrafficRule;
  /** Estimated time of the next traffic shift, and the percent it shifts to. */
  readonly nextShift?: { readonly at: string; readonly toPercent: number };
  /** ECS: when the old (blue) task set is terminated after the termination wait. */
  readonly blueTerminationAt?: string;
  /** CodeDeploy's error, once the deployment has failed or stopped. */
  readonly error?: string;
  readonly alarms: AlarmView[];
}

export interface StageView {
  readonly name: string;
  readonly status: StageStatus;
  readonly startedAt?: string;
  readonly endedAt?: string;
  /** Actions running now (a manual approval shows here as `Manual`). */
  readonly running: { readonly name: string; readonly provider?: string }[];
  readonly failed: { readonly name: string; readonly error?: string }[];
  /** Set for bake gate stages. */
  readonly gate?: GateProgress;
  readonly deployments: DeploymentView[];
}

/** Everything watch knows about the followed execution at `observedAt`. */
export interface WatchSnapshot {
  readonly pipelineName: string;
  readonly region: string;
  readonly account?: string;
  readonly executionId: string;
  /** CodePipeline's execution status. */
  readonly status: string;
  readonly statusSummary?: string;
  readonly revision?: Revision;
  readonly startedAt?: string;
  readonly observedAt: string;
  readonly stages: StageView[];
  /** What could not be looked at (another account's stacks, a denied call), and why. */
  readonly notes: string[];
}

/** Fields every watch event has. */
interface EventBase {
  /** When watch observed the change (ISO 8601). */
  readonly time: string;
  readonly executionId: string;
}

/**
 * One line of `deployctl watch --json`: a change. The shape is a contract for scripts; fields are
 * only ever added. Optional fields are left out when unknown.
 */
export type WatchEvent =
  | (EventBase & {
      readonly type: 'start';
      readonly pipelineName: string;
      readonly region: string;
      readonly status: string;
      readonly revision?: { readonly id?: string; readonly summary?: string };
      readonly stages: string[];
    })
  | (EventBase & {
      readonly type: 'stage';
      readonly stage: string;
      readonly status: StageStatus;
      readonly previous?: StageStatus;
      readonly elapsedSeconds?: number;
    })
  | (EventBase & {
      readonly type: 'action';
      readonly stage: string;
      readonly action: string;
      readonly status: 'Failed';
      readonly error?: string;
    })
  | (EventBase & {
      readonly type: 'gate';
      readonly stage: string;
      readonly phase: GateProgress['phase'];
      readonly summary?: string;
      readonly bakedMinutes?: number;
      readonly requiredMinutes?: number;
      readonly requests?: number;
      readonly requiredRequests?: number;
      readonly windowOpen?: boolean;
    })
  | (EventBase & {
      readonly type: 'deployment';
      readonly stage: string;
      readonly region: string;
      readonly stackName?: string;
      readonly applicationName: string;
      readonly deploymentGroupName: string;
      readonly deploymentId: string;
      readonly status?: string;
      readonly lifecycleEvent?: string;
      readonly trafficPercent?: number;
      readonly nextShiftAt?: string;
      readonly error?: string;
    })
  | (EventBase & {
      readonly type: 'alarm';
      readonly stage: string;
      readonly region: string;
      readonly alarm: string;
      readonly state: AlarmState;
      readonly previous?: AlarmState;
      readonly reason?: string;
    })
  | (EventBase & { readonly type: 'note'; readonly message: string })
  | (EventBase & { readonly type: 'retrying'; readonly message: string; readonly attempt: number; readonly delaySeconds: number })
  | (EventBase & { readonly type: 'recovered'; readonly message: string })
  | (EventBase & { readonly type: 'restarted'; readonly previousExecutionId: string; readonly reason: string })
  | (EventBase & { readonly type: 'diagnosis'; readonly diagnosis: Diagnosis })
  | (EventBase & {
      readonly type: 'end';
      readonly outcome: WatchOutcome;
      readonly status: string;
      readonly exitCode: number;
      readonly supersededBy?: string;
    })
  | (EventBase & { readonly type: 'error'; readonly message: string; readonly exitCode: number });

const GATE_TIME = /^baking: ([\d.]+) of ([\d.]+) minutes elapsed/;
const GATE_REQUESTS = /^baking: (\d+) of (\d+) requests served after ([\d.]+) minutes/;
// The requests are counted only after a production wave: `requests not counted (...)` otherwise.
const GATE_PASSED = /baked ([\d.]+) minutes \(needs ([\d.]+)\)(?:, (\d+) requests \(needs (\d+)\))?/;

/**
 * Reads the bake gate's execution summary (lambda/bake-gate/gate.ts writes it): `baking: 12.5 of 60
 * minutes elapsed`, `baking: 120 of 500 requests served after 61 minutes`, `<stage>: baked 61
 * minutes (needs 60), 612 requests (needs 500), alarms quiet` (or `requests not counted (...)`), or
 * `<stage> is blocked: ...`.
 */
export function parseGateSummary(summary: string | undefined): GateProgress {
  if (!summary) return { phase: 'evaluating' };
  let m = summary.match(GATE_TIME);
  if (m) return { summary, phase: 'baking', bakedMinutes: Number(m[1]), requiredMinutes: Number(m[2]) };
  m = summary.match(GATE_REQUESTS);
  if (m)
    return { summary, phase: 'waiting-for-traffic', requests: Number(m[1]), requiredRequests: Number(m[2]), bakedMinutes: Number(m[3]) };
  m = summary.match(GATE_PASSED);
  if (m) {
    const requests = m[3] === undefined ? {} : { requests: Number(m[3]), requiredRequests: Number(m[4]) };
    return { summary, phase: 'passed', bakedMinutes: Number(m[1]), requiredMinutes: Number(m[2]), ...requests };
  }
  if (/ is blocked: /.test(summary) || /^gate error: /.test(summary)) return { summary, phase: 'blocked' };
  if (/: alarms quiet/.test(summary)) return { summary, phase: 'passed' };
  return { summary, phase: 'evaluating' };
}

/** Fraction (0..1) of the gate's way to passing: bake time first, then requests. */
export function gateFraction(g: GateProgress): number | undefined {
  if (g.phase === 'passed') return 1;
  if (g.phase === 'baking' && g.requiredMinutes) return Math.min(1, (g.bakedMinutes ?? 0) / g.requiredMinutes);
  if (g.phase === 'waiting-for-traffic' && g.requiredRequests) return Math.min(1, (g.requests ?? 0) / g.requiredRequests);
  return undefined;
}

/**
 * When the next traffic shift should happen, from the deployment configuration and the start of
 * the AllowTraffic lifecycle event. An approximation: CodeDeploy counts the intervals from when it
 * shifted the first increment, which is within seconds of AllowTraffic's start, and it shifts the
 * next increment only after its alarms were checked, so the real shift can be a little later.
 */
export function nextTrafficShift(
  rule: TrafficRule | undefined,
  allowTrafficStart: Date | undefined,
  now: Date,
): { at: Date; toPercent: number } | undefined {
  if (!rule || !allowTrafficStart || rule.type === 'AllAtOnce' || !(rule.intervalMinutes > 0) || !(rule.percent > 0)) return undefined;
  const start = allowTrafficStart.getTime();
  const step = rule.intervalMinutes * 60_000;
  if (rule.type === 'TimeBasedCanary') {
    const at = start + step;
    return now.getTime() < at ? { at: new Date(at), toPercent: 100 } : undefined;
  }
  const shifts = Math.ceil(100 / rule.percent);
  for (let k = 1; k < shifts; k++) {
    const at = start + k * step;
    if (now.getTime() < at) return { at: new Date(at), toPercent: Math.min(100, (k + 1) * rule.percent) };
  }
  return undefined;
}

/** `canary 10% then 100% after 10 min`, `linear 10% every 1 min`, `all at once`. */
export function describeRule(rule: TrafficRule): string {
  if (rule.type === 'AllAtOnce') return 'all at once';
  if (rule.type === 'TimeBasedCanary') return `canary ${rule.percent}% then 100% after ${rule.intervalMinutes} min`;
  return `linear ${rule.percent}% every ${rule.intervalMinutes} min`;
}

/**
 * The events that lead from `prev` to `next` (all of `next` when `prev` is undefined). Derived
 * values that move by themselves (elapsed times, countdowns) are not events.
 */
export function diffSnapshots(prev: WatchSnapshot | undefined, next: WatchSnapshot): WatchEvent[] {
  const base = { time: next.observedAt, executionId: next.executionId };
  const events: WatchEvent[] = [];
  if (!prev || prev.executionId !== next.executionId) {
    events.push({
      ...base,
      type: 'start',
      pipelineName: next.pipelineName,
      region: next.region,
      status: next.status,
      revision: next.revision ? { id: next.revision.revisionId, summary: next.revision.summary } : undefined,
      stages: next.stages.map((s) => s.name),
    });
  }
  const same = prev && prev.executionId === next.executionId ? prev : undefined;
  for (const note of next.notes) {
    if (!same?.notes.includes(note)) events.push({ ...base, type: 'note', message: note });
  }
  for (const stage of next.stages) {
    const before = same?.stages.find((s) => s.name === stage.name);
    const wasStatus = before?.status ?? 'Pending';
    if (stage.status !== wasStatus || (!same && stage.status !== 'Pending')) {
      events.push({
        ...base,
        type: 'stage',
        stage: stage.name,
        status: stage.status,
        previous: same ? wasStatus : undefined,
        elapsedSeconds: elapsedSeconds(stage, next.observedAt),
      });
    }
    for (const a of stage.failed) {
      if (!before?.failed.some((b) => b.name === a.name))
        events.push({ ...base, type: 'action', stage: stage.name, action: a.name, status: 'Failed', error: a.error });
    }
    if (stage.gate && stage.gate.summary !== before?.gate?.summary && (stage.gate.summary || !before)) {
      const g = stage.gate;
      events.push({
        ...base,
        type: 'gate',
        stage: stage.name,
        phase: g.phase,
        summary: g.summary,
        bakedMinutes: g.bakedMinutes,
        requiredMinutes: g.requiredMinutes,
        requests: g.requests,
        requiredRequests: g.requiredRequests,
        windowOpen: g.window?.open,
      });
    }
    for (const d of stage.deployments) {
      const key = deploymentKey(d);
      const old = before?.deployments.find((x) => deploymentKey(x) === key);
      if (
        d.deploymentId &&
        (old?.deploymentId !== d.deploymentId ||
          old.status !== d.status ||
          old.lifecycleEvent !== d.lifecycleEvent ||
          old.trafficPercent !== d.trafficPercent ||
          old.error !== d.error)
      ) {
        events.push({
          ...base,
          type: 'deployment',
          stage: stage.name,
          region: d.region,
          stackName: d.stackName,
          applicationName: d.applicationName,
          deploymentGroupName: d.deploymentGroupName,
          deploymentId: d.deploymentId,
          status: d.status,
          lifecycleEvent: d.lifecycleEvent,
          trafficPercent: d.trafficPercent,
          nextShiftAt: d.nextShift?.at,
          error: d.error,
        });
      }
      for (const alarm of d.alarms) {
        const was = old?.alarms.find((x) => x.name === alarm.name)?.state;
        // First sight of a quiet alarm is no news; any later change, or a first sight not OK, is.
        if (was === undefined ? alarm.state !== 'OK' : was !== alarm.state) {
          events.push({
            ...base,
            type: 'alarm',
            stage: stage.name,
            region: d.region,
            alarm: alarm.name,
            state: alarm.state,
            previous: was,
            reason: alarm.state === 'OK' ? undefined : alarm.reason,
          });
        }
      }
    }
  }
  return events.map(stripUndefined);
}

/** Identity of a deployment group across snapshots. */
export function deploymentKey(d: Pick<DeploymentView, 'region' | 'applicationName' | 'deploymentGroupName'>): string {
  return `${d.region}/${d.applicationName}/${d.deploymentGroupName}`;
}

export function elapsedSeconds(stage: Pick<StageView, 'startedAt' | 'endedAt'>, now: string): number | undefined {
  if (!stage.startedAt) return undefined;
  const end = stage.endedAt ?? now;
  return Math.max(0, Math.round((Date.parse(end) - Date.parse(stage.startedAt)) / 1000));
}

/** An event as one JSON line: `type`, `time`, `executionId` first, then its own fields, none undefined. */
export function eventJson(e: WatchEvent): string {
  const { type, time, executionId, ...rest } = e;
  return JSON.stringify(stripUndefined({ type, time, executionId, ...rest }));
}

/** JSON without `"x": undefined` keys, so each line carries only what is known. */
export function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
