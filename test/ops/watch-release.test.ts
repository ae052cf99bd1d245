/**
 * `deployctl watch` following a whole healthy release (about 3.5 simulated hours) on a terminal:
 * the frames of each phase, and the call rate over the release. Its own file: it is the longest
 * simulation, and jest runs files in parallel.
 */
import { WATCH_POLLING } from '../../lib/ops/watch';
import { ANSI, stripAnsi } from '../../lib/ops/watch-render';
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
    const stages = run.world.fixture.stages.map((s) => s.name);
    expect(stages).toEqual([
      'Source',
      'Build',
      'UpdatePipeline',
      'Assets',
      'Images',
      'Beta',
      'Gate-Prod-Wave1',
      'Prod-Wave1',
      'Gate-Prod-Wave2',
      'Prod-Wave2',
    ]);
    for (const stage of stages) {
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
    expect(frames.length).toBeGreaterThan(800);
    expect(wrong).toEqual([]);
  });

  test('the bake gate: minutes baked of 60, a progress bar, when it ends', () => {
    const frame = lines(run.frameAt(32));
    expect(frame).toContainEqual(expect.stringMatching(/^▶ Gate-Prod-Wave1 +InProgress +10:\d\d$/));
    expect(frame).toContain('    bake     [###-----------------] 10.1 of 60 min baked, ends in ~49:50');
    // The gate names its settings in the release manifest (UserParameters {"gate": ...}), which watch
    // does not read: the requests due after the bake and the window are not known ahead (see
    // watch-model.test.ts for a gate that carries them).
    expect(frame.filter((l) => /^ {4}(then|window) /.test(l))).toEqual([]);
    expect(frame).toContainEqual(expect.stringMatching(/^· Prod-Wave1 +Pending$/));
  });

  test('a canary: its deployment, traffic shifted, the alarms, and the next shift', () => {
    const frame = lines(run.frameAt(88));
    // The passed gate's summary, cut at the terminal's width.
    expect(frame).toContain(
      '✓ Gate-Prod-Wave1  Succeeded   1:00:18  passed: baked 60.2 minutes (needs 60), requests not counted (the previous stage is pre-production),…',
    );
    expect(frame).toContain('    running: Prod-us-east-1-greeting-api.Deploy');
    expect(frame).toContain('    Lambda Prod-us-east-1-greeting-api  d-P1LMBDA01  InProgress · AllowTraffic');
    expect(frame).toContain(
      '           [##------------------]  10% on the new version · canary 10% then 100% after 10 min · next shift to 100% in ~7:45',
    );
    // The judge's four alarms, throttles, Function URL 5xx and hook errors.
    expect(frame).toContain('           alarms: 7 OK');
    expect(frame[frame.length - 2]).toMatch(/^updated 15:27:57Z · every 15s · Ctrl-C stops watching \(the release goes on\)$/);
  });

  test('each service in turn: the Lambda service done, the ECS service in its canary', () => {
    const frame = lines(run.frameAt(105));
    expect(frame).toContain('    running: Prod-us-east-1-greeting-web.Deploy');
    expect(frame).toContain('    Lambda Prod-us-east-1-greeting-api  d-P1LMBDA01  Succeeded');
    expect(frame).toContain('           [####################] 100% on the new version');
    expect(frame).toContain('    ECS    Prod-us-east-1-greeting-web  d-P1ECSSV02  InProgress · AllowTraffic');
    expect(frame).toContain(
      '           [##------------------]  10% on the new version · canary 10% then 100% after 10 min · next shift to 100% in ~6:54',
    );
    // The judge's four alarms, unhealthy hosts of both target groups, the load balancer's 5xx and hook errors.
    expect(frame).toContain('           alarms: 8 OK');
  });

  test('the blue wait: the old ECS task set is kept for 30 minutes after the shift', () => {
    const frame = lines(run.frameAt(113.5));
    expect(frame).toContain('    ECS    Prod-us-east-1-greeting-web  d-P1ECSSV02  InProgress');
    expect(frame).toContain('           [####################] 100% on the new version · canary 10% then 100% after 10 min');
    expect(frame).toContainEqual(expect.stringMatching(/^ {11}old task set kept until 16:22:54Z \(in ~29:\d\d\)$/));
    // The deployment resource completes once all traffic has shifted: the stage moves on during the wait.
    expect(lines(run.frameAt(115))).toContainEqual(expect.stringMatching(/^✓ Prod-Wave1 +Succeeded/));
  });

  test("a wave of two regions shows each region's services", () => {
    const frame = run.frameAt(200);
    for (const stack of ['Prod-us-west-2-greeting-web', 'Prod-eu-west-1-greeting-web']) {
      expect(frame).toMatch(new RegExp(`ECS +${stack}  d-\\w{9}  InProgress · AllowTraffic`));
    }
    for (const stack of ['Prod-us-west-2-greeting-api', 'Prod-eu-west-1-greeting-api']) {
      expect(frame).toMatch(new RegExp(`Lambda +${stack}  d-\\w{9}  Succeeded`));
    }
  });

  test('no frame line is wider than the terminal', () => {
    const widest = Math.max(...run.writes.slice(0, -2).flatMap((w) => lines(stripAnsi(w.text)).map((l) => l.length)));
    expect(widest).toBeLessThanOrEqual(140);
    expect(widest).toBeGreaterThan(100);
  });

  test('the call rate stays within the bound over the whole release (about 3.5 simulated hours)', () => {
    const world = run.world;
    const perMinute = world.callsPerMinute();
    expect(perMinute.length).toBeGreaterThan(200);
    // Service stacks deploying at once (a run order of a stage), and in how many regions: Prod-Wave2
    // deploys one service at a time in each of its two regions.
    const deploysService = (a: { stackName?: string }) => !!world.stackOf(a.stackName ?? '')?.service;
    const runOrders = world.fixture.stages.flatMap((s) =>
      [...new Set(s.actions.map((a) => a.runOrder))].map((o) => s.actions.filter((a) => a.runOrder === o && deploysService(a))),
    );
    const groups = Math.max(...runOrders.map((g) => g.length));
    const regions = Math.max(...runOrders.map((g) => new Set(g.map((a) => a.region)).size));
    expect([groups, regions]).toEqual([2, 2]);
    // A round reads: the execution and its actions (2), each running deployment group (1 each) and
    // the alarms of each region (1 each): 6 calls, 4 rounds a minute. A new deployment costs 3-4 more
    // calls once (its group, the deployment, its targets, its config).
    const steady = 4 * (2 + groups + regions);
    const sorted = [...perMinute].sort((a, b) => a - b);
    expect(sorted[Math.floor(sorted.length * 0.95)]).toBeLessThanOrEqual(steady);
    expect(Math.max(...perMinute)).toBeLessThanOrEqual(steady + 4 * 4);
    // The token bucket: never more than burst + rate calls in any second.
    const times = world.calls.map((c) => c.at);
    let busiestSecond = 0;
    for (let i = 0, j = 0; i < times.length; i++) {
      while (j < times.length && times[j] < times[i] + 1000) j++;
      busiestSecond = Math.max(busiestSecond, j - i);
    }
    expect(busiestSecond).toBeLessThanOrEqual(WATCH_POLLING.burst + WATCH_POLLING.ratePerSecond);
    // One read of the execution per round: 60 / 15 s.
    const reads = new Map<number, number>();
    for (const c of world.calls.filter((x) => x.command === 'GetPipelineExecution')) {
      const m = Math.floor((c.at - T0) / 60_000);
      reads.set(m, (reads.get(m) ?? 0) + 1);
    }
    expect(Math.max(...reads.values())).toBeLessThanOrEqual(5);
    // What does not change is read once.
    expect(world.calls.filter((c) => c.command === 'GetPipeline')).toHaveLength(1);
    // Twelve stacks, a platform stack and two service stacks per target. A service stack is listed
    // once. A platform stack has no deployment group: listed each round while it deploys (a stack
    // being created may not have its groups yet, 1 minute here) and once after, then never again.
    const listed = new Map<string, number>();
    for (const c of world.calls.filter((x) => x.command === 'ListStackResources')) {
      listed.set(c.resource!, (listed.get(c.resource!) ?? 0) + 1);
    }
    const services = world.fixture.targets.flatMap((t) => t.services.map((x) => x.stackName));
    const platforms = world.fixture.targets.map((t) => t.platformStack);
    expect([services.length, platforms.length]).toEqual([8, 4]);
    expect(services.map((name) => listed.get(name))).toEqual(services.map(() => 1));
    for (const name of platforms) expect(listed.get(name)).toBeLessThanOrEqual(5);
    expect([...listed.keys()].sort()).toEqual([...services, ...platforms].sort());
    // A deployment per service stack.
    const targetsRead = world.calls.filter((c) => c.command === 'ListDeploymentTargets').map((c) => c.resource);
    expect(targetsRead.sort()).toEqual(world.deployments.map((d) => d.id).sort());
    expect(world.deployments).toHaveLength(8);
  });
});

describe('docs/deployctl-watch.md shows this run', () => {
  test('the frame of the Prod-Wave1 canary, as the renderer drew it', () => {
    const frame = fenced('text', run.frameAt(105).trimEnd());
    expect(docBlock('frame-canary', frame, 'README.md')).toBe(frame);
  });

  test("the call rate when every stage is readable with the pipeline account's credentials", () => {
    const table = rateTable(run.world);
    expect(docBlock('rate-single-account', table)).toBe(table);
  });
});
