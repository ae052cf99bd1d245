/**
 * `deployctl watch`: follows a pipeline execution until it ends, redrawing a frame on a terminal,
 * printing a line per change elsewhere, or one JSON object per change with --json; exits by the
 * execution's outcome (WATCH_EXIT). Reading is in watch-poller.ts, drawing in watch-render.ts.
 */
import { OpsClients, ClientsForRegion } from '../runtime/clients';
import { OpsError } from '../runtime/context';
import { diagnosePipeline, formatDiagnosis } from '../runtime/diagnosis';
import type { Output } from './cli';
import { describeError, exitCodeOf } from './errors';
import {
  diffSnapshots,
  eventJson,
  outcomeOf,
  stripUndefined,
  TERMINAL_EXECUTION,
  WATCH_EXIT,
  WatchEvent,
  WatchOutcome,
  WatchSnapshot,
} from './watch-model';
import {
  CallPolicy,
  createWatchClients,
  isNetworkError,
  limitClients,
  Sleep,
  TokenBucket,
  WatchClients,
  WatchClientsForRegion,
  watchShouldRetry,
  WatchPoller,
  withCloudWatch,
} from './watch-poller';
import { endLine, formatEvent, renderFrame, TerminalFrame, TerminalOutput } from './watch-render';

/** Polling defaults and bounds. */
export const WATCH_POLLING = {
  /** Seconds between two rounds of reads. */
  intervalSeconds: 15,
  minIntervalSeconds: 5,
  maxIntervalSeconds: 300,
  /** Token bucket shared by every call: sustained calls per second, and the burst above it. */
  ratePerSecond: 2,
  burst: 4,
  /** Retry delays on throttling and transient errors: first, and longest. */
  baseRetryDelayMs: 1_000,
  maxRetryDelayMs: 60_000,
  /** How often a terminal frame is redrawn between rounds (elapsed times, countdowns). */
  redrawMs: 1_000,
} as const;

export interface WatchOptions {
  readonly pipelineName: string;
  /** The pipeline's region. */
  readonly region: string;
  /** Execution to follow. @default - the latest in progress, else the latest */
  readonly executionId?: string;
  /** @default 15 */
  readonly intervalSeconds?: number;
  /** `tty`: redraw a frame in place; `plain`: a line per change; `json`: a JSON object per change, one per line. */
  readonly mode: 'tty' | 'plain' | 'json';
  /** Print stack traces of fatal errors on `err`. */
  readonly debug?: boolean;
}

export interface WatchDeps {
  /** Clients of the pipeline's region, not rate-limited: watch limits them. */
  readonly clients: WatchClients;
  /** Clients of other regions. @default - createWatchClients(region) */
  readonly clientsFor?: WatchClientsForRegion;
  readonly out: TerminalOutput;
  /** Where the one-line error of a fatal error goes. */
  readonly err: Output;
  /** @default Date.now */
  readonly now?: () => number;
  /** @default - setTimeout, cancelled by `signal` */
  readonly sleep?: (ms: number) => Promise<void>;
  /** @default Math.random */
  readonly random?: () => number;
  /** Aborting it (Ctrl-C) ends the watch with exit code 130. */
  readonly signal?: AbortSignal;
  /** @default WATCH_POLLING.redrawMs */
  readonly redrawMs?: number;
  /** Token bucket. @default WATCH_POLLING.ratePerSecond, WATCH_POLLING.burst */
  readonly rate?: { readonly perSecond: number; readonly burst: number };
}

/** Thrown out of the loop when the signal aborts. */
class Interrupted extends Error {}

/**
 * Follows an execution until it ends and returns the exit code. Never throws: a fatal error (bad
 * credentials, a pipeline or execution that does not exist, a denied core call) prints the CLI's
 * one line on `err` (and an `error` event with --json) and returns its exit code.
 */
export async function watchPipeline(opts: WatchOptions, deps: WatchDeps): Promise<number> {
  const now = deps.now ?? Date.now;
  const sleep = abortableSleep(deps.sleep, deps.signal);
  const iso = () => new Date(now()).toISOString();
  const intervalSeconds = opts.intervalSeconds ?? WATCH_POLLING.intervalSeconds;
  const sink = createSink(opts.mode, deps.out, { now, intervalSeconds });
  const bucket = new TokenBucket(deps.rate?.perSecond ?? WATCH_POLLING.ratePerSecond, deps.rate?.burst ?? WATCH_POLLING.burst, now, sleep);
  let executionId = opts.executionId ?? '';
  let connected = false;
  let retrying = false;

  const policy: CallPolicy = {
    bucket,
    sleep,
    signal: deps.signal,
    random: deps.random,
    baseDelayMs: WATCH_POLLING.baseRetryDelayMs,
    maxDelayMs: WATCH_POLLING.maxRetryDelayMs,
    shouldRetry: (err) => watchShouldRetry(err, connected),
    onRetry: ({ error, attempt, delayMs }) => {
      retrying = true;
      const delaySeconds = Math.ceil(delayMs / 1000);
      sink.emit({
        type: 'retrying',
        time: iso(),
        executionId,
        message: `${retryReason(error)}; next try in ${delaySeconds}s (attempt ${attempt + 1})`,
        attempt,
        delaySeconds,
      });
    },
    onSuccess: () => {
      if (!retrying) return;
      retrying = false;
      sink.emit({ type: 'recovered', time: iso(), executionId, message: 'AWS answers again' });
    },
  };
  const limited = new Map<string, WatchClients>();
  const clientsFor = (region: string): WatchClients => {
    let c = limited.get(region);
    if (!c) {
      const base = region === opts.region ? deps.clients : (deps.clientsFor ?? createWatchClients)(region);
      c = limitClients(base, policy);
      limited.set(region, c);
    }
    return c;
  };
  const clients = clientsFor(opts.region);
  const poller = new WatchPoller({ pipelineName: opts.pipelineName, region: opts.region, clients, clientsFor, now });
  let last: WatchSnapshot | undefined;

  const end = (snap: WatchSnapshot, outcome: WatchOutcome, exitCode: number, supersededBy?: string): number => {
    sink.emit(
      stripUndefined({ type: 'end', time: iso(), executionId: snap.executionId, outcome, status: snap.status, exitCode, supersededBy }),
    );
    sink.close();
    return exitCode;
  };

  try {
    if (!executionId) executionId = (await poller.latestExecution()).pipelineExecutionId!;
    for (;;) {
      const snap = await poller.poll(executionId);
      connected = true;
      sink.update(snap, diffSnapshots(last, snap));
      last = snap;
      if (TERMINAL_EXECUTION.has(snap.status)) {
        const { outcome, exitCode } = outcomeOf(snap.status);
        if (outcome === 'Superseded') {
          const next = await poller.successor(executionId, snap.revision?.revisionId);
          if (next.restart) {
            const previous = executionId;
            executionId = next.restart;
            sink.emit({
              type: 'restarted',
              time: iso(),
              executionId,
              previousExecutionId: previous,
              reason: 'was superseded by a restart of the same commit (the pipeline updated itself)',
            });
            continue;
          }
          return end(snap, outcome, exitCode, next.supersededBy);
        }
        if (outcome === 'Failed') {
          try {
            const diagnosis = await diagnosePipeline(clients, {
              pipelineName: opts.pipelineName,
              executionId,
              region: opts.region,
              clientsFor,
              retry: { attempts: 1 },
            });
            sink.emit({ type: 'diagnosis', time: iso(), executionId, diagnosis });
          } catch (err) {
            if (deps.signal?.aborted) throw err;
            sink.emit({
              type: 'note',
              time: iso(),
              executionId,
              message: `could not diagnose the failure: ${describeError(err)}; run deployctl diagnose --execution ${executionId}`,
            });
          }
        }
        return end(snap, outcome, exitCode);
      }
      // Between rounds a terminal frame keeps its clocks moving; nothing is read.
      const redraw = opts.mode === 'tty' ? (deps.redrawMs ?? WATCH_POLLING.redrawMs) : intervalSeconds * 1000;
      for (let left = intervalSeconds * 1000; left > 0; left -= redraw) {
        await sleep(Math.min(redraw, left));
        if (left > redraw) sink.redraw();
      }
    }
  } catch (err) {
    if (deps.signal?.aborted || err instanceof Interrupted) {
      const snap: WatchSnapshot = last ?? {
        pipelineName: opts.pipelineName,
        region: opts.region,
        executionId,
        status: 'Unknown',
        observedAt: iso(),
        stages: [],
        notes: [],
      };
      return end(snap, 'Interrupted', WATCH_EXIT.interrupted);
    }
    const message = describeError(err, { pipelineName: opts.pipelineName, region: opts.region });
    const exitCode = exitCodeOf(err);
    sink.fail({ type: 'error', time: iso(), executionId, message, exitCode });
    deps.err.write(`deployctl: ${message}\n`);
    if (opts.debug && err instanceof Error && err.stack) deps.err.write(`${err.stack}\n`);
    return exitCode;
  }
}

/** Words for a transient error, without the "even after retries" of the one-shot verbs. */
export function retryReason(err: unknown): string {
  const e = (err ?? {}) as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const name = e.name ?? 'Error';
  if (/Throttl|TooManyRequests|RequestLimitExceeded|SlowDown/.test(name) || e.$metadata?.httpStatusCode === 429)
    return `AWS is throttling requests (${name})`;
  if (isNetworkError(err)) return `cannot reach AWS (${name}: ${(e.message ?? '').split('\n')[0]})`;
  const status = e.$metadata?.httpStatusCode;
  return `AWS had a temporary problem (${name}${status ? `, HTTP ${status}` : ''})`;
}

/** A sleep that an abort ends at once (and that throws Interrupted then). */
function abortableSleep(inner: ((ms: number) => Promise<void>) | undefined, signal: AbortSignal | undefined): Sleep {
  return (ms, s = signal) =>
    new Promise<void>((resolve, reject) => {
      if (s?.aborted) return reject(new Interrupted());
      let timer: NodeJS.Timeout | undefined;
      const onAbort = () => {
        if (timer) clearTimeout(timer);
        reject(new Interrupted());
      };
      s?.addEventListener('abort', onAbort, { once: true });
      const done = () => {
        s?.removeEventListener('abort', onAbort);
        if (s?.aborted) reject(new Interrupted());
        else resolve();
      };
      const fail = (err: unknown) => {
        s?.removeEventListener('abort', onAbort);
        reject(err);
      };
      if (inner) inner(ms).then(done, fail);
      else timer = setTimeout(done, ms);
    });
}

/** Where events and frames go, by output mode. */
interface Sink {
  /** After each round: the snapshot and what changed. */
  update(snapshot: WatchSnapshot, events: WatchEvent[]): void;
  /** An event outside a round (retrying, recovered, restarted, diagnosis, end). */
  emit(event: WatchEvent): void;
  /** Between rounds (terminal only). */
  redraw(): void;
  /** A fatal error: leave the terminal usable. */
  fail(event: Extract<WatchEvent, { type: 'error' }>): void;
  close(): void;
}

function createSink(mode: WatchOptions['mode'], out: TerminalOutput, x: { now: () => number; intervalSeconds: number }): Sink {
  if (mode === 'json') {
    const line = (e: WatchEvent) => out.write(`${eventJson(e)}\n`);
    return { update: (_s, events) => events.forEach(line), emit: line, redraw: () => undefined, fail: line, close: () => undefined };
  }
  if (mode === 'plain') {
    const line = (e: WatchEvent) => out.write(`${formatEvent(e)}\n`);
    // The error's one line goes to stderr already.
    return {
      update: (_s, events) => events.forEach(line),
      emit: line,
      redraw: () => undefined,
      fail: () => undefined,
      close: () => undefined,
    };
  }
  return new TerminalSink(out, x);
}

/** Redraws one frame in place; the last frame, with the outcome and any diagnosis, stays. */
class TerminalSink implements Sink {
  private readonly frame: TerminalFrame;
  private snapshot?: WatchSnapshot;
  private retrying?: string;
  private notice?: string;
  private readonly ending: string[] = [];

  constructor(
    out: TerminalOutput,
    private readonly x: { now: () => number; intervalSeconds: number },
  ) {
    this.frame = new TerminalFrame(out);
  }

  update(snapshot: WatchSnapshot): void {
    this.snapshot = snapshot;
    this.redraw();
  }

  emit(e: WatchEvent): void {
    switch (e.type) {
      case 'retrying':
        this.retrying = e.message;
        break;
      case 'recovered':
        this.retrying = undefined;
        break;
      case 'restarted':
        this.notice = formatEvent(e);
        break;
      case 'note':
        this.ending.push(`note: ${e.message}`);
        break;
      case 'diagnosis':
        this.ending.push(...formatDiagnosis(e.diagnosis).split('\n'), '');
        break;
      case 'end':
        this.ending.push(endLine(e));
        if (this.snapshot) this.frame.finish(this.lines());
        else this.frame.finish([endLine(e)]);
        return;
      default:
        break;
    }
    this.redraw();
  }

  redraw(): void {
    if (this.snapshot) this.frame.draw(this.lines());
    else if (this.retrying) this.frame.draw([`retrying: ${this.retrying}`]);
  }

  fail(): void {
    this.frame.restore();
  }

  close(): void {
    this.frame.restore();
  }

  private lines(): string[] {
    return renderFrame(this.snapshot!, {
      now: new Date(this.x.now()),
      intervalSeconds: this.x.intervalSeconds,
      retrying: this.retrying,
      notice: this.notice,
      ending: this.ending.length > 0 ? this.ending : undefined,
    });
  }
}

/** Reads `--interval`: whole or decimal seconds within WATCH_POLLING's bounds. */
export function parseInterval(raw: string | undefined): number {
  if (raw === undefined) return WATCH_POLLING.intervalSeconds;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < WATCH_POLLING.minIntervalSeconds || n > WATCH_POLLING.maxIntervalSeconds) {
    throw new OpsError(
      'input',
      `--interval "${raw}" is not a number of seconds from ${WATCH_POLLING.minIntervalSeconds} to ${WATCH_POLLING.maxIntervalSeconds} (e.g. --interval 15)`,
    );
  }
  return n;
}

/** What the CLI hands the watch verb. */
export interface WatchCommandIo {
  readonly stdout: Output;
  readonly stderr: Output;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly now?: () => number;
  /** Whether the CLI's clients were injected (tests); otherwise watch makes its own single-attempt clients. */
  readonly injected: boolean;
}

/**
 * The watch verb: options in, exit code out. Ctrl-C (SIGINT) aborts the watch, which restores
 * the cursor and exits 130; the handler is removed when the watch ends.
 */
export async function watchCommand(
  target: { pipelineName: string; region: string; clients: OpsClients; clientsFor?: ClientsForRegion },
  opts: { execution?: unknown; interval?: unknown; json?: boolean; debug?: boolean },
  io: WatchCommandIo,
): Promise<number> {
  const intervalSeconds = parseInterval(opts.interval as string | undefined);
  const out = io.stdout as TerminalOutput;
  const controller = new AbortController();
  const onSigint = () => controller.abort();
  process.on('SIGINT', onSigint);
  try {
    const injectedFor = target.clientsFor;
    return await watchPipeline(
      {
        pipelineName: target.pipelineName,
        region: target.region,
        executionId: opts.execution as string | undefined,
        intervalSeconds,
        mode: opts.json ? 'json' : out.isTTY ? 'tty' : 'plain',
        debug: opts.debug,
      },
      {
        clients: io.injected ? withCloudWatch(target.clients, target.region) : createWatchClients(target.region),
        clientsFor: io.injected && injectedFor ? (region) => withCloudWatch(injectedFor(region), region) : undefined,
        out,
        err: io.stderr,
        now: io.now,
        sleep: io.sleep,
        signal: controller.signal,
      },
    );
  } finally {
    process.off('SIGINT', onSigint);
  }
}
