/**
 * What `deployctl watch` prints: the frame a terminal redraws in place, the plain line of each
 * change event for pipes and CI logs, and the few ANSI sequences that redraw the frame. No
 * dependency: a redraw needs four escape sequences (cursor up, clear line, clear below, hide/show
 * cursor), which every terminal deployctl runs in understands.
 */
import { shortSha } from '../runtime/context';
import { formatDiagnosis } from '../runtime/diagnosis';
import { oneLine, truncate } from '../runtime/text';
import {
  AlarmView,
  DeploymentView,
  describeRule,
  elapsedSeconds,
  gateFraction,
  GateProgress,
  StageStatus,
  StageView,
  WatchEvent,
  WatchSnapshot,
} from './watch-model';

/** Where output goes; process.stdout fits (its isTTY, columns and rows are read when present). */
export interface TerminalOutput {
  write(text: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
  readonly rows?: number;
}

const MARK: Record<StageStatus, string> = {
  Pending: '·',
  InProgress: '▶',
  Succeeded: '✓',
  Failed: '✗',
  Stopped: '■',
  Skipped: '-',
};

/** What the frame shows besides the snapshot. */
export interface FrameExtras {
  /** The current time, for elapsed times and countdowns. */
  readonly now: Date;
  readonly intervalSeconds: number;
  /** The transient error being waited out, if any. */
  readonly retrying?: string;
  /** A line about the watch itself (e.g. it follows a restarted execution now). */
  readonly notice?: string;
  /** The last lines: outcome and diagnosis, once the execution has ended. */
  readonly ending?: string[];
}

/** The frame's lines: a header, one line per stage, the running stages' details, notes, a footer. */
export function renderFrame(s: WatchSnapshot, x: FrameExtras): string[] {
  const nowIso = x.now.toISOString();
  const rev = s.revision ? `${shortSha(s.revision.revisionId)}${s.revision.summary ? ` "${truncate(s.revision.summary, 60)}"` : ''}` : '';
  const total = s.startedAt ? ` ${duration((x.now.getTime() - Date.parse(s.startedAt)) / 1000)}` : '';
  const lines = [
    `Pipeline ${s.pipelineName} (${s.account ? `${s.account}/` : ''}${s.region})`,
    `Execution ${s.executionId}  ${rev}  ${s.status}${s.status === 'InProgress' ? total : ''}`.replace(/ {3,}/g, '  '),
    '',
  ];
  const width = Math.max(5, ...s.stages.map((st) => st.name.length));
  for (const st of s.stages) {
    const secs = elapsedSeconds(st, nowIso);
    const time = secs === undefined ? '' : duration(secs);
    const summary = stageSummary(st);
    lines.push(
      `${MARK[st.status]} ${st.name.padEnd(width)}  ${st.status.padEnd(10)} ${time.padStart(8)}${summary ? `  ${summary}` : ''}`.trimEnd(),
    );
    for (const detail of stageDetails(st, x.now)) lines.push(`    ${detail}`);
  }
  if (s.notes.length > 0) lines.push('', ...s.notes.map((n) => `note: ${n}`));
  if (x.ending && x.ending.length > 0) {
    lines.push('', ...x.ending);
  } else {
    lines.push('');
    if (x.notice) lines.push(x.notice);
    if (x.retrying) lines.push(`retrying: ${x.retrying}`);
    lines.push(`updated ${clock(s.observedAt)} · every ${x.intervalSeconds}s · Ctrl-C stops watching (the release goes on)`);
  }
  return lines;
}

/** The stage line's short summary: the gate's verdict or progress, or a finished stage's failure. */
function stageSummary(st: StageView): string {
  if (st.gate && st.status !== 'Pending' && st.status !== 'Skipped') {
    const g = st.gate;
    if (g.phase === 'passed') return g.summary ? `passed: ${g.summary.replace(/^[^:]+: /, '')}` : 'passed';
    if (st.status !== 'InProgress' && g.summary) return truncate(g.summary, 100);
  }
  if (st.status === 'Failed' && st.failed.length > 0) return `${st.failed[0].name} failed`;
  return '';
}

function stageDetails(st: StageView, now: Date): string[] {
  const out: string[] = [];
  if (st.status === 'Failed') {
    for (const a of st.failed) out.push(`✗ ${a.name}: ${truncate(oneLine(a.error ?? 'failed'), 200)}`);
  }
  if (st.status !== 'InProgress') return out;
  const approvals = st.running.filter((a) => a.provider === 'Manual').map((a) => a.name);
  // A gate stage's only action is the gate, shown by its progress.
  const others = st.gate ? [] : st.running.filter((a) => a.provider !== 'Manual').map((a) => a.name);
  if (approvals.length > 0) out.push(`waiting for approval: ${approvals.join(', ')}`);
  if (others.length > 0) out.push(`running: ${others.join(', ')}`);
  if (st.gate) out.push(...gateLines(st.gate, st, now));
  for (const d of st.deployments) out.push(...deploymentLines(d, now));
  return out;
}

function gateLines(g: GateProgress, st: StageView, now: Date): string[] {
  const lines: string[] = [];
  const fraction = gateFraction(g);
  if (g.phase === 'evaluating') {
    lines.push(g.summary ? `gate: ${g.summary}` : 'gate: first evaluation pending');
  } else if (g.phase === 'baking') {
    const ends = st.startedAt && g.requiredMinutes !== undefined ? Date.parse(st.startedAt) + g.requiredMinutes * 60_000 : undefined;
    const left = ends !== undefined && ends > now.getTime() ? `, ends in ~${duration((ends - now.getTime()) / 1000)}` : '';
    lines.push(`bake     ${bar(fraction)} ${num(g.bakedMinutes)} of ${num(g.requiredMinutes)} min baked${left}`);
    if (g.requiredRequests) lines.push(`then     at least ${g.requiredRequests} requests served by the previous stage`);
  } else if (g.phase === 'waiting-for-traffic') {
    lines.push(
      `traffic  ${bar(fraction)} ${g.requests} of ${g.requiredRequests} requests served after ${num(g.bakedMinutes)} min (bake time done)`,
    );
  } else if (g.phase === 'blocked') {
    lines.push(`blocked: ${g.summary}`);
  }
  if (g.window)
    lines.push(
      g.window.open
        ? 'window   open now'
        : `window   closed now${g.window.nextOpen ? `, opens ${g.window.nextOpen.replace(/:00\.000Z$/, 'Z')}` : ''}: the gate fails if it is still closed when the bake ends`,
    );
  return lines;
}

function deploymentLines(d: DeploymentView, now: Date): string[] {
  const kind = (d.platform ?? (d.traffic?.kind === 'ecs' ? 'ECS' : d.traffic?.kind === 'lambda' ? 'Lambda' : 'CodeDeploy')).padEnd(6);
  const name = d.stackName ?? `${d.applicationName}/${d.deploymentGroupName}`;
  if (!d.deploymentId) return [`${kind} ${name}: no deployment yet`];
  const state = [d.status, d.lifecycleEvent].filter(Boolean).join(' · ');
  const lines = [`${kind} ${name}  ${d.deploymentId}  ${state}`];
  const parts = [`${bar((d.trafficPercent ?? 0) / 100)} ${String(d.trafficPercent ?? 0).padStart(3)}% on the new version`];
  if (d.rule && d.status !== 'Succeeded') parts.push(describeRule(d.rule));
  if (d.nextShift) {
    parts.push(`next shift to ${d.nextShift.toPercent}% in ~${duration(Math.max(0, (Date.parse(d.nextShift.at) - now.getTime()) / 1000))}`);
  }
  lines.push(`       ${parts.join(' · ')}`);
  if (d.blueTerminationAt) {
    lines.push(
      `       old task set kept until ${clock(d.blueTerminationAt)} (in ~${duration(Math.max(0, (Date.parse(d.blueTerminationAt) - now.getTime()) / 1000))})`,
    );
  }
  if (d.alarms.length > 0) lines.push(`       alarms: ${alarmSummary(d.alarms)}`);
  if (d.error) lines.push(`       ✗ ${truncate(oneLine(d.error), 200)}`);
  return lines;
}

/** `3 OK` or `! name ALARM, 2 OK`. */
export function alarmSummary(alarms: AlarmView[]): string {
  const ok = alarms.filter((a) => a.state === 'OK').length;
  const loud = alarms.filter((a) => a.state !== 'OK').map((a) => `${a.state === 'ALARM' ? '! ' : ''}${a.name} ${a.state}`);
  return [...loud, ...(ok > 0 ? [`${ok} OK`] : [])].join(', ');
}

/** `[#####---------------]` for a fraction 0..1. */
export function bar(fraction: number | undefined, width = 20): string {
  const f = Math.max(0, Math.min(1, fraction ?? 0));
  const filled = Math.round(f * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
}

/** `0:42`, `12:05`, `1:02:03`. */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

/** `14:02:15Z` */
export function clock(iso: string): string {
  return `${iso.slice(11, 19)}Z`;
}

function num(n: number | undefined): string {
  return n === undefined ? '?' : String(Math.round(n * 10) / 10);
}

/** One plain line (or a few, for a diagnosis) per change event, for pipes and CI logs. */
export function formatEvent(e: WatchEvent): string {
  const t = clock(e.time);
  switch (e.type) {
    case 'start': {
      const rev = e.revision ? ` (${shortSha(e.revision.id)}${e.revision.summary ? ` "${truncate(e.revision.summary, 60)}"` : ''})` : '';
      return `${t} watching execution ${e.executionId} of ${e.pipelineName}${rev}: ${e.status}`;
    }
    case 'stage':
      return `${t} ${e.stage}: ${e.status}${e.status !== 'InProgress' && e.status !== 'Pending' && e.elapsedSeconds !== undefined ? ` after ${duration(e.elapsedSeconds)}` : ''}`;
    case 'action':
      return `${t} ${e.stage}: ${e.action} failed: ${truncate(oneLine(e.error ?? 'no error message'), 300)}`;
    case 'gate':
      return `${t} ${e.stage}: ${e.summary ?? 'gate evaluating'}${e.windowOpen === false ? ' (deployment window closed now)' : ''}`;
    case 'deployment': {
      const parts = [e.status, e.lifecycleEvent, e.trafficPercent !== undefined ? `${e.trafficPercent}% on the new version` : undefined];
      if (e.nextShiftAt) parts.push(`next shift ~${clock(e.nextShiftAt)}`);
      if (e.error) parts.push(e.error);
      return `${t} ${e.stage}: CodeDeploy ${e.deploymentId} ${e.stackName ?? `${e.applicationName}/${e.deploymentGroupName}`} (${e.region}): ${parts.filter(Boolean).join(', ')}`;
    }
    case 'alarm':
      return `${t} ${e.stage}: alarm ${e.alarm} (${e.region}) ${e.state}${e.previous ? ` (was ${e.previous})` : ''}${e.reason ? `: ${truncate(oneLine(e.reason), 200)}` : ''}`;
    case 'note':
      return `${t} note: ${e.message}`;
    case 'retrying':
      return `${t} retrying: ${e.message}`;
    case 'recovered':
      return `${t} ${e.message}`;
    case 'restarted':
      return `${t} execution ${e.previousExecutionId} ${e.reason}: following ${e.executionId}`;
    case 'diagnosis':
      return formatDiagnosis(e.diagnosis);
    case 'end':
      return `${t} ${endLine(e)}`;
    case 'error':
      return `${t} ${e.message}`;
  }
}

/** The outcome, in words. */
export function endLine(e: Extract<WatchEvent, { type: 'end' }>): string {
  if (e.outcome === 'Interrupted') {
    return `stopped watching (Ctrl-C); the release goes on: deployctl watch --execution ${e.executionId}`;
  }
  const by = e.supersededBy ? ` by execution ${e.supersededBy}` : '';
  return `execution ${e.executionId} ${e.status}${e.outcome === 'Superseded' ? by : ''} (exit ${e.exitCode})`;
}

const ESC = '\x1b[';
export const ANSI = {
  hideCursor: `${ESC}?25l`,
  showCursor: `${ESC}?25h`,
  clearLine: `${ESC}K`,
  clearBelow: `${ESC}J`,
  up: (n: number) => `${ESC}${n}A\r`,
};

/**
 * A block of lines redrawn in place: the cursor goes back up over the previous frame, each line is
 * rewritten and cleared to its end, and whatever the previous frame had below is cleared. Lines
 * are cut to the terminal's width (a wrapped line would break the count) and the frame to its
 * height, except the last frame, which stays on screen whole.
 */
export class TerminalFrame {
  private height = 0;
  private cursorHidden = false;

  constructor(private readonly out: TerminalOutput) {}

  draw(lines: string[]): void {
    const columns = Math.max(20, this.out.columns || 120); // 0: a terminal that does not know its size
    const rows = Math.max(4, (this.out.rows || 60) - 1);
    let fitted = lines.map((l) => (l.length > columns ? `${l.slice(0, columns - 1)}…` : l));
    if (fitted.length > rows) fitted = [...fitted.slice(0, rows - 1), `… ${fitted.length - rows + 1} more lines: enlarge the terminal`];
    this.write(fitted);
  }

  /** The last frame: not cut, cursor shown again. */
  finish(lines: string[]): void {
    this.write(lines);
    this.restore();
  }

  /** Shows the cursor again (Ctrl-C, errors); safe to call twice. */
  restore(): void {
    if (this.cursorHidden) {
      this.out.write(ANSI.showCursor);
      this.cursorHidden = false;
    }
  }

  private write(lines: string[]): void {
    let text = '';
    if (!this.cursorHidden && this.height === 0) {
      text += ANSI.hideCursor;
      this.cursorHidden = true;
    }
    if (this.height > 0) text += ANSI.up(this.height);
    for (const line of lines) text += `${line}${ANSI.clearLine}\n`;
    text += ANSI.clearBelow;
    this.out.write(text);
    this.height = lines.length;
  }
}

/** Removes ANSI escape sequences, for tests and logs. */
export function stripAnsi(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
}

/** The last frame written by a TerminalFrame: the text after the last cursor-up, without ANSI. */
export function lastFrame(written: string): string {
  // eslint-disable-next-line no-control-regex -- cursor-up is an ANSI sequence, which starts with ESC
  const parts = written.split(/\x1b\[\d+A\r/);
  return stripAnsi(parts[parts.length - 1]);
}
