/** Runs `watchPipeline` against a ReleaseWorld on its simulated clock, and captures what it prints. */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { watchPipeline, WatchOptions } from '../../lib/ops/watch';
import { WatchEvent } from '../../lib/ops/watch-model';
import { WatchClients } from '../../lib/ops/watch-poller';
import { lastFrame } from '../../lib/ops/watch-render';
import * as f from './fixtures';
import { ReleaseWorld, T0, watchMocks } from './watch-world';

export interface WatchRun {
  readonly code: number;
  /** Everything written to stdout. */
  readonly out: string;
  /** Each write with the simulated minute it happened at. */
  readonly writes: { minute: number; text: string }[];
  readonly err: string;
  readonly world: ReleaseWorld;
  /** The JSON events (mode json). */
  events(): WatchEvent[];
  /** The TTY frame on screen at `minute` (ANSI stripped). */
  frameAt(minute: number): string;
  /** The frame left on screen at the end. */
  finalFrame(): string;
}

export function watchClients(region: string): WatchClients {
  return { ...f.clients(), cloudwatch: new CloudWatchClient({ region, credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'example' } }) };
}

export async function watchWorld(
  world: ReleaseWorld,
  opts: { mode: WatchOptions['mode']; startMinute?: number; abortAtMinute?: number; executionId?: string; columns?: number; redrawMs?: number; intervalSeconds?: number } = { mode: 'json' },
): Promise<WatchRun> {
  const mocks = watchMocks();
  world.install(mocks);
  world.clock = T0 + (opts.startMinute ?? 0) * 60_000;
  const writes: { minute: number; text: string }[] = [];
  const err: string[] = [];
  const controller = new AbortController();
  const sleep = async (ms: number) => {
    await world.sleep(ms);
    if (opts.abortAtMinute !== undefined && world.minute() >= opts.abortAtMinute) controller.abort();
  };
  try {
    const code = await watchPipeline(
      { pipelineName: f.PIPELINE, region: f.REGION, mode: opts.mode, executionId: opts.executionId, intervalSeconds: opts.intervalSeconds },
      {
        clients: watchClients(f.REGION),
        clientsFor: watchClients,
        out: { write: (s: string) => writes.push({ minute: world.minute(), text: s }), isTTY: opts.mode === 'tty', columns: opts.columns ?? 140, rows: 60 },
        err: { write: (s: string) => err.push(s) },
        now: world.now,
        sleep,
        random: () => 0.5,
        signal: controller.signal,
        // Tests look at one frame per round; a redraw every second would only repeat them.
        redrawMs: opts.redrawMs ?? (opts.intervalSeconds ?? 15) * 1000,
      },
    );
    const out = writes.map((w) => w.text).join('');
    return {
      code,
      out,
      writes,
      err: err.join(''),
      world,
      events: () => out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as WatchEvent),
      frameAt: (minute: number) => {
        const upTo = writes.filter((w) => w.minute <= minute && w.text.includes('\n'));
        return lastFrame(upTo[upTo.length - 1]?.text ?? '');
      },
      finalFrame: () => lastFrame(out),
    };
  } finally {
    Object.values(mocks).forEach((m) => m.restore());
  }
}
