/** Runs `watchPipeline` against a ReleaseWorld on its simulated clock, and captures what it prints. */
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CodeBuildClient } from '@aws-sdk/client-codebuild';
import { CodeDeployClient } from '@aws-sdk/client-codedeploy';
import { CodePipelineClient } from '@aws-sdk/client-codepipeline';
import { watchPipeline, WatchOptions } from '../../lib/ops/watch';
import { WatchEvent } from '../../lib/ops/watch-model';
import { WatchClients } from '../../lib/ops/watch-poller';
import { lastFrame } from '../../lib/ops/watch-render';
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

/** Clients of `region` (the mocks answer by the region a client is in). */
export function watchClients(region: string): WatchClients {
  const config = { region, credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'example' } };
  return {
    codepipeline: new CodePipelineClient(config),
    codedeploy: new CodeDeployClient(config),
    cloudformation: new CloudFormationClient(config),
    codebuild: new CodeBuildClient(config),
    cloudwatch: new CloudWatchClient(config),
  };
}

export async function watchWorld(
  world: ReleaseWorld,
  opts: {
    mode: WatchOptions['mode'];
    startMinute?: number;
    abortAtMinute?: number;
    executionId?: string;
    columns?: number;
    redrawMs?: number;
    intervalSeconds?: number;
  } = { mode: 'json' },
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
      {
        pipelineName: world.fixture.pipelineName,
        region: world.fixture.region,
        mode: opts.mode,
        executionId: opts.executionId,
        intervalSeconds: opts.intervalSeconds,
      },
      {
        clients: watchClients(world.fixture.region),
        clientsFor: watchClients,
        out: {
          write: (s: string) => writes.push({ minute: world.minute(), text: s }),
          isTTY: opts.mode === 'tty',
          columns: opts.columns ?? 140,
          rows: 60,
        },
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
      events: () =>
        out
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as WatchEvent),
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

/**
 * Calls per minute of a simulated release, per phase, as a markdown table (for docs/deployctl-watch.md):
 * the stages before the first deployment together, then each stage.
 */
export function rateTable(world: ReleaseWorld): string {
  const phases: { name: string; from: number; to: number }[] = [];
  const stageWindow = (names: string[]) => {
    const own = world.actions.filter((a) => names.includes(a.stage));
    return { from: Math.min(...own.map((a) => a.start)), to: Math.max(...own.map((a) => a.end)) };
  };
  const stages = world.fixture.stages.map((s) => s.name);
  const firstDeploy = world.fixture.stages.findIndex((s) => s.actions.some((a) => a.provider === 'CloudFormation'));
  const before = stages.slice(0, firstDeploy);
  phases.push({ name: before.join(', '), ...stageWindow(before) });
  for (const stage of stages.slice(firstDeploy)) phases.push({ name: stage, ...stageWindow([stage]) });
  const last = world.calls[world.calls.length - 1].at;
  phases.push({ name: 'Whole release', from: 0, to: (last - T0) / 60_000 });
  const rows = phases.map((p) => {
    const inside = world.calls.filter((c) => c.at >= T0 + p.from * 60_000 && c.at < T0 + p.to * 60_000);
    const minutes = p.to - p.from;
    const perMinute = new Map<number, number>();
    for (const c of inside) {
      const m = Math.floor((c.at - T0) / 60_000);
      perMinute.set(m, (perMinute.get(m) ?? 0) + 1);
    }
    const max = Math.max(0, ...perMinute.values());
    return `| ${p.name} | ${minutes.toFixed(0)} | ${inside.length} | ${(inside.length / minutes).toFixed(1)} | ${max} |`;
  });
  const times = world.calls.map((c) => c.at);
  let busiest = 0;
  for (let i = 0, j = 0; i < times.length; i++) {
    while (j < times.length && times[j] < times[i] + 1000) j++;
    busiest = Math.max(busiest, j - i);
  }
  return [
    '| Phase | Minutes | Calls | Calls per minute (average) | Calls in the busiest minute |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...rows,
    '',
    `Busiest second: ${busiest} calls.`,
  ].join('\n');
}

/** A markdown code block. */
export function fenced(lang: string, text: string): string {
  return `\`\`\`${lang}\n${text}\n\`\`\``;
}

/**
 * The generated block `name` of `doc` (docs/deployctl-watch.md, or the README for the screen it
 * shows). With UPDATE_DOCS=1 it is rewritten with `text` first, so the doc shows real output:
 * `UPDATE_DOCS=1 npx jest test/ops/watch-release test/ops/watch-docs`.
 */
export function docBlock(name: string, text: string, doc = 'docs/deployctl-watch.md'): string {
  const file = path.join(__dirname, '..', '..', doc);
  const begin = `<!-- generated:${name} -->`;
  const end = `<!-- /generated:${name} -->`;
  const content = readFileSync(file, 'utf8');
  const from = content.indexOf(begin);
  const to = content.indexOf(end);
  if (from < 0 || to < from) throw new Error(`${file} has no ${begin} ... ${end} block`);
  if (process.env.UPDATE_DOCS === '1') {
    writeFileSync(file, `${content.slice(0, from + begin.length)}\n${text}\n${content.slice(to)}`);
    return text;
  }
  return content.slice(from + begin.length + 1, to - 1);
}
