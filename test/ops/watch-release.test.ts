/**
 * `deployctl watch` following a whole healthy release (about four simulated hours) on a terminal:
 * the frames of each phase, and the call rate over the release. Its own file: it is the longest
 * simulation, and jest runs files in parallel.
 */
import { ANSI, stripAnsi } from '../../lib/ops/watch-render';
import { WATCH_POLLING } from '../../lib/ops/watch';
import * as f from './fixtures';
import { docBlock, fenced, rateTable, watchWorld } from './watch-run';
import { ReleaseWorld, T0 } from './watch-world';

const lines = (frame: string) => frame.split('\n');

let run: Awaited<ReturnType<typeof watchWorld>>;
beforeAll(async () => {
  run = await watchWorld(new ReleaseWorld(), { mode: 'tty' });
});

describe('a healthy release through every stage, on a terminal', () => {
  test('exits 0 when the execution succeeds, and leaves the last frame with every stage done', () => {
    expect(run.code).toBe(0);
    expect(run.err).toBe('');
    const final = lines(run.finalFrame());
    for (const stage of ['Source', 'Build', 'UpdatePipeline', 'Assets', 'Beta', 'Gate-Prod-Wave1', 'Prod-Wave1', 'Gate-Prod-Wave2', 'Prod-Wave2']) {
      expect(final).toContainEqual(expect.stringMatching(new RegExp(`^✓ ${stage} +Succeeded +[0-9:]+`)));
    }
    expect(final[final.length - 2]).toBe(`execution ${f.EXEC_CURRENT} Succeeded (exit 0)`);
    expect(run.finalFrame()).not.toContain('Ctrl-C');
  });

  test('hides the cursor while it redraws, and shows it again at the end', () => {
    expect(run.out.startsWith(ANSI.hideCursor)).toBe(true);
    expect(run.out.endsWith(ANSI.showCursor)).toBe(true);
    // Every redraw goes back up over exactly the previous frame.
    const frames = run.writes.filter((w) => w.text.includes('\n')).map((w) => w.text);
    const wrong = frames.filter((frame, i) => i > 0 && !frame.startsWith(ANSI.up(frames[i - 1].split('\n').length - 1)));
    expect(frames.length).toBeGreaterThan(900);
    expect(wrong).toEqual([]);
  });

  test('the bake gate: minutes baked of 60, a progress bar, when it ends, the deployment window', () => {
    const frame = lines(run.frameAt(30));
    expect(frame).toContainEqual(expect.stringMatching(/^▶ Gate-Prod-Wave1 +InProgress +10:\d\d$/));
    expect(frame).toContain('    bake     [###-----------------] 10.1 of 60 min baked, ends in ~49:16');
    expect(frame).toContain('    then     at least 500 requests served by the previous stage');
    expect(frame).toContain('    window   open now');
    expect(frame).toContainEqual(expect.stringMatching(/^· Prod-Wave1 +Pending$/));
  });

  test('a canary: each service, its deployment, traffic shifted, the alarms, and the next shift', () => {
    const frame = lines(run.frameAt(88));
    expect(frame).toContain('✓ Gate-Prod-Wave1  Succeeded   1:00:18  passed: baked 60.2 minutes (needs 60), 612 requests (needs 500), alarms quiet');
    expect(frame).toContain('    running: Prod-us-east-1-LambdaService.Deploy, Prod-us-east-1-EcsService.Deploy');
    expect(frame).toContain('    ECS    Prod-us-east-1-EcsService  d-PUECSSV01  InProgress · AllowTraffic');
    expect(frame).toContain('    Lambda Prod-us-east-1-LambdaService  d-PULMBDA01  InProgress · AllowTraffic');
    expect(frame).toContain('           [##------------------]  10% on the new version · canary 10% then 100% after 10 min · next shift to 100% in ~6:16');
    expect(frame).toContain('           [##------------------]  10% on the new version · canary 10% then 100% after 10 min · next shift to 100% in ~9:28');
    expect(frame).toContain('           alarms: 3 OK');
    expect(frame).toContain('           alarms: 6 OK');
    expect(frame[frame.length - 2]).toMatch(/^updated 15:27:55Z · every 15s · Ctrl-C stops watching \(the release goes on\)$/);
  });

  test('the blue wait: the old ECS task set is kept for 30 minutes after the shift', () => {
    const frame = lines(run.frameAt(100));
    expect(frame).toContain('    Lambda Prod-us-east-1-LambdaService  d-PULMBDA01  Succeeded');
    expect(frame).toContain('           [####################] 100% on the new version');
    expect(frame).toContainEqual(expect.stringMatching(/^ {11}old task set kept until 16:07:54Z \(in ~27:\d\d\)$/));
  });

  test('a wave of two regions shows each region\'s services', () => {
    const frame = run.frameAt(194);
    for (const stack of ['Prod-us-west-2-EcsService', 'Prod-us-west-2-LambdaService', 'Prod-eu-west-1-EcsService', 'Prod-eu-west-1-LambdaService']) {
      expect(frame).toMatch(new RegExp(`(ECS|Lambda) +${stack}  d-\\w{9}  InProgress`));
    }
  });

  test('no frame line is wider than the terminal', () => {
    const widest = Math.max(...run.writes.slice(0, -2).flatMap((w) => lines(stripAnsi(w.text)).map((l) => l.length)));
    expect(widest).toBeLessThanOrEqual(140);
    expect(widest).toBeGreaterThan(100);
  });

  test('the call rate stays within the bound over the whole release (about 4 simulated hours)', () => {
    const perMinute = run.world.callsPerMinute();
    expect(perMinute.length).toBeGreaterThan(230);
    // A round reads: the execution and its actions (2), each running deployment group (1 each,
    // 4 in Prod-Wave2) and the alarms of each region (2): 8 calls, 4 rounds a minute. A new
    // deployment costs 3-4 more calls once (its group, the deployment, its targets, its config).
    const steady = 4 * (2 + 4 + 2);
    const sorted = [...perMinute].sort((a, b) => a - b);
    expect(sorted[Math.floor(sorted.length * 0.95)]).toBeLessThanOrEqual(steady);
    expect(Math.max(...perMinute)).toBeLessThanOrEqual(steady + 4 * 4);
    // The token bucket: never more than burst + rate calls in any second.
    const times = run.world.calls.map((c) => c.at);
    let busiestSecond = 0;
    for (let i = 0, j = 0; i < times.length; i++) {
      while (j < times.length && times[j] < times[i] + 1000) j++;
      busiestSecond = Math.max(busiestSecond, j - i);
    }
    expect(busiestSecond).toBeLessThanOrEqual(WATCH_POLLING.burst + WATCH_POLLING.ratePerSecond);
    // One read of the execution per round: 60 / 15 s.
    const reads = new Map<number, number>();
    for (const c of run.world.calls.filter((x) => x.command === 'GetPipelineExecution')) {
      const m = Math.floor((c.at - T0) / 60_000);
      reads.set(m, (reads.get(m) ?? 0) + 1);
    }
    expect(Math.max(...reads.values())).toBeLessThanOrEqual(5);
    // What does not change is read once.
    expect(run.world.calls.filter((c) => c.command === 'GetPipeline')).toHaveLength(1);
    // Eight stacks (a Lambda and an ECS service in Beta, Prod-Wave1 and the two regions of Prod-Wave2), a deployment each.
    expect(run.world.calls.filter((c) => c.command === 'ListStackResources')).toHaveLength(8);
    expect(run.world.calls.filter((c) => c.command === 'ListDeploymentTargets')).toHaveLength(8);
  });
});

describe('docs/deployctl-watch.md shows this run', () => {
  test('the frame of the Prod-Wave1 canary, as the renderer drew it', () => {
    const frame = fenced('text', run.frameAt(88).trimEnd());
    expect(docBlock('frame-canary', frame, 'README.md')).toBe(frame);
  });

  test('the call rate when every stage is readable with the pipeline account\'s credentials', () => {
    const table = rateTable(run.world);
    expect(docBlock('rate-single-account', table)).toBe(table);
  });
});
