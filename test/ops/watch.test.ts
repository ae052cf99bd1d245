/**
 * `deployctl watch` against scripted releases on a simulated clock (test/ops/watch-world.ts): the
 * frames a terminal shows, the JSON events, the plain lines, the exit codes, and the call rate.
 */
import { WatchEvent } from '../../lib/ops/watch-model';
import { ANSI } from '../../lib/ops/watch-render';
import * as f from './fixtures';
import { watchWorld } from './watch-run';
import { ReleaseWorld, T0 } from './watch-world';

const lines = (frame: string) => frame.split('\n');
/** `16:56:00Z`: the time at a simulated minute. */
const clockAt = (minute: number) => `${new Date(T0 + minute * 60_000).toISOString().slice(11, 19)}Z`;
const ofType = <T extends WatchEvent['type']>(events: WatchEvent[], type: T) =>
  events.filter((e): e is Extract<WatchEvent, { type: T }> => e.type === type);

describe('a canary rolled back by its alarm', () => {
  test('JSON: the alarm, the stopped deployment, the failed action and stage, the diagnosis, exit 4', async () => {
    const world = new ReleaseWorld({ failLambdaIn: 'Prod-Wave1' });
    const run = await watchWorld(world, { mode: 'json', startMinute: 80 });
    expect(run.code).toBe(4);
    const events = run.events();
    // The canary judge's error alarm, first of the deployment group's alarms.
    const alarm = world.groupOf('greeting-api', 'Prod-us-east-1').alarms[0];
    expect(alarm).toBe('Prod-us-east-1-greeting-api-ErrorJudge');
    expect(ofType(events, 'alarm')).toEqual([
      expect.objectContaining({
        stage: 'Prod-Wave1',
        region: 'us-east-1',
        alarm,
        state: 'ALARM',
        previous: 'OK',
        reason: expect.stringMatching(/^Threshold Crossed/),
      }),
    ]);
    const lambda = ofType(events, 'deployment').filter((e) => e.deploymentId === 'd-P1LMBDA01');
    expect(lambda.map((e) => [e.status, e.lifecycleEvent, e.trafficPercent])).toEqual([
      ['InProgress', 'BeforeAllowTraffic', 0],
      ['InProgress', 'AllowTraffic', 10],
      ['InProgress', undefined, 0],
      ['Stopped', undefined, 0],
    ]);
    expect(lambda[3].error).toMatch(/^ALARM_ACTIVE: One or more alarms have been activated .* Activated alarms: </);
    expect(ofType(events, 'action')).toEqual([
      expect.objectContaining({ stage: 'Prod-Wave1', action: 'Prod-us-east-1-greeting-api.Deploy', status: 'Failed' }),
    ]);
    expect(
      ofType(events, 'stage')
        .filter((e) => e.stage === 'Prod-Wave1')
        .map((e) => e.status),
    ).toEqual(['InProgress', 'Failed']);
    const [diagnosis] = ofType(events, 'diagnosis');
    expect(diagnosis.diagnosis).toEqual(
      expect.objectContaining({
        found: true,
        cause: 'codedeploy-alarm-rollback',
        stageName: 'Prod-Wave1',
        actionName: 'Prod-us-east-1-greeting-api.Deploy',
      }),
    );
    expect(events[events.length - 1]).toEqual({
      type: 'end',
      time: expect.any(String),
      executionId: f.EXEC_CURRENT,
      outcome: 'Failed',
      status: 'Failed',
      exitCode: 4,
    });
    // One JSON object per line, `type` first.
    for (const l of run.out.trim().split('\n')) expect(l).toMatch(/^\{"type":"\w+","time":"[^"]+","executionId":"[^"]+"/);
  });

  test('terminal (--interval 60): the last frame shows the failed stage and the diagnosis in place of the footer', async () => {
    const run = await watchWorld(new ReleaseWorld({ failLambdaIn: 'Prod-Wave1' }), { mode: 'tty', startMinute: 84, intervalSeconds: 60 });
    expect(run.code).toBe(4);
    const final = lines(run.finalFrame());
    // The ECS service (the next run order) never deploys: the stage fails with its Lambda service.
    expect(final).toContainEqual(expect.stringMatching(/^✗ Prod-Wave1 +Failed +11:42 {2}Prod-us-east-1-greeting-api.Deploy failed$/));
    expect(final).toContain(
      '    ✗ Prod-us-east-1-greeting-api.Deploy: Stack Prod-us-east-1-greeting-api failed to update. Current stack status: UPDATE_ROLLBACK_COMPLETE. Reason: The following resource(s) failed to update: [ServiceAlias9BBF7D51].',
    );
    expect(final).toContainEqual(expect.stringMatching(/^- Gate-Prod-Wave2 +Skipped$/));
    expect(final).toContain(
      `Pipeline safe-deploy-pipeline, execution ${f.EXEC_CURRENT}: FAILED in Prod-Wave1 / Prod-us-east-1-greeting-api.Deploy`,
    );
    expect(final).toContain('Cause:   codedeploy-alarm-rollback');
    expect(final).toContainEqual(expect.stringMatching(/^Fix: {5}Look at the alarm's metric/));
    expect(final[final.length - 2]).toBe(`execution ${f.EXEC_CURRENT} Failed (exit 4)`);
    expect(run.out.endsWith(ANSI.showCursor)).toBe(true);
  });
});

describe('a bake gate waiting for traffic', () => {
  // Gate-Prod-Wave2 counts the requests Prod-Wave1 served; Gate-Prod-Wave1 does not (Beta is pre-production).
  test('plain lines: minutes baked, then requests served, then the verdict; Ctrl-C exits 130 and says the release goes on', async () => {
    const world = new ReleaseWorld({ gate: 'traffic' });
    const gates = world.fixture.gates;
    expect([gates['Gate-Prod-Wave1'].countRequests, gates['Gate-Prod-Wave2'].countRequests]).toEqual([false, true]);
    const run = await watchWorld(world, { mode: 'plain', startMinute: 171, abortAtMinute: 190 });
    expect(run.code).toBe(130);
    const gate = run.out.split('\n').filter((l) => l.includes('Gate-Prod-Wave2'));
    expect(gate).toEqual([
      '16:51:00Z Gate-Prod-Wave2: InProgress',
      '16:51:00Z Gate-Prod-Wave2: baking: 57.1 of 60 minutes elapsed',
      // The gate evaluates once a minute; watch sees each new summary at its next round.
      '16:52:00Z Gate-Prod-Wave2: baking: 58.1 of 60 minutes elapsed',
      '16:53:00Z Gate-Prod-Wave2: baking: 59.1 of 60 minutes elapsed',
      '16:54:00Z Gate-Prod-Wave2: baking: 300 of 500 requests served after 60.1 minutes',
      '16:55:00Z Gate-Prod-Wave2: baking: 313 of 500 requests served after 61.1 minutes',
      ...[326, 339, 353, 366, 380, 393, 406, 420, 433, 446, 460, 473, 486].map(
        (r, i) => `${clockAt(176 + i)} Gate-Prod-Wave2: baking: ${r} of 500 requests served after ${62 + i}.1 minutes`,
      ),
      '17:09:00Z Gate-Prod-Wave2: Prod-Wave2: baked 75.2 minutes (needs 60), 500 requests (needs 500), alarms quiet, 2 flag deployments complete',
      '17:09:15Z Gate-Prod-Wave2: Succeeded after 1:15:18',
    ]);
    expect(run.out).toContain('17:09:15Z Prod-Wave2: InProgress\n');
    expect(run.out.trimEnd().split('\n').pop()).toBe(
      `17:10:00Z stopped watching (Ctrl-C); the release goes on: deployctl watch --execution ${f.EXEC_CURRENT}`,
    );
    // Plain lines are for pipes: no escape sequences.
    expect(run.out).not.toContain('\x1b[');
  });

  test('terminal: the request count as a progress bar; Ctrl-C restores the cursor', async () => {
    const run = await watchWorld(new ReleaseWorld({ gate: 'traffic' }), { mode: 'tty', startMinute: 174, abortAtMinute: 177 });
    expect(run.code).toBe(130);
    expect(lines(run.frameAt(176.9))).toContain(
      '    traffic  [#############-------] 326 of 500 requests served after 62.1 min (bake time done)',
    );
    expect(lines(run.finalFrame())).toContain(
      `stopped watching (Ctrl-C); the release goes on: deployctl watch --execution ${f.EXEC_CURRENT}`,
    );
    expect(run.out.endsWith(ANSI.showCursor)).toBe(true);
  });

  test('when ListActionExecutions has no summary for the running gate, the pipeline state has it (one more call while the gate runs)', async () => {
    const world = new ReleaseWorld({ gate: 'traffic', summaryInList: false });
    const run = await watchWorld(world, { mode: 'plain', startMinute: 171, abortAtMinute: 175 });
    expect(run.out).toContain('16:54:00Z Gate-Prod-Wave2: baking: 300 of 500 requests served after 60.1 minutes');
    const state = run.world.calls.filter((c) => c.command === 'GetPipelineState').length;
    const rounds = run.world.calls.filter((c) => c.command === 'GetPipelineExecution').length;
    expect(state).toBe(rounds);
  });
});

describe('throttling and errors mid-watch', () => {
  test('throttled for three minutes: backs off exponentially with jitter, says so, and carries on', async () => {
    const world = new ReleaseWorld({ throttle: [{ from: 88, to: 91 }] });
    const run = await watchWorld(world, { mode: 'json', startMinute: 84, abortAtMinute: 100 });
    expect(run.code).toBe(130);
    expect(run.err).toBe('');
    const events = run.events();
    const retrying = ofType(events, 'retrying');
    expect(retrying.map((e) => e.delaySeconds)).toEqual([1, 2, 3, 6, 12, 24, 45, 45, 45]);
    expect(retrying[0].message).toBe('AWS is throttling requests (ThrottlingException); next try in 1s (attempt 2)');
    expect(ofType(events, 'recovered')).toEqual([
      expect.objectContaining({ message: 'AWS answers again', time: '2026-11-03T15:31:07.250Z' }),
    ]);
    // Few calls while throttled; the watch then sees what happened meanwhile.
    const during = run.world.calls.filter((c) => c.at >= T0 + 88 * 60_000 && c.at < T0 + 91 * 60_000);
    expect(during.length).toBeLessThanOrEqual(10);
    const after = ofType(events, 'deployment').filter((e) => e.time > '2026-11-03T15:31:07');
    expect(after.map((e) => [e.deploymentId, e.status, e.trafficPercent])).toContainEqual(['d-P1LMBDA01', 'Succeeded', 100]);
  });

  test('a call it may not make (cloudwatch:DescribeAlarms) becomes a note; the rest goes on', async () => {
    const run = await watchWorld(new ReleaseWorld({ deny: ['DescribeAlarms'] }), { mode: 'json', startMinute: 85, abortAtMinute: 91 });
    expect(run.code).toBe(130);
    expect(ofType(run.events(), 'note').map((e) => e.message)).toEqual([
      "cannot read the deployment groups' alarms in us-east-1: access denied: your credentials may not call cloudwatch:DescribeAlarms (AccessDeniedException); ask for that permission or use a role that has it",
    ]);
    // Not asked again, though the deployment group is read again until its deployment appears, and names its alarms each time.
    expect(run.world.calls.filter((c) => c.command === 'DescribeAlarms')).toHaveLength(1);
    expect(ofType(run.events(), 'deployment').length).toBeGreaterThan(0);
  });
});

describe('executions that change under the watch', () => {
  test('a restart of the same commit (the pipeline updated itself) is followed, not reported as superseded', async () => {
    const world = new ReleaseWorld({ restartAfterUpdatePipeline: true });
    const run = await watchWorld(world, { mode: 'json', abortAtMinute: 12 });
    const events = run.events();
    expect(ofType(events, 'restarted')).toEqual([
      expect.objectContaining({
        executionId: world.restartId,
        previousExecutionId: f.EXEC_CURRENT,
        reason: 'was superseded by a restart of the same commit (the pipeline updated itself)',
      }),
    ]);
    expect(ofType(events, 'start').map((e) => e.executionId)).toEqual([f.EXEC_CURRENT, world.restartId]);
    expect(
      ofType(events, 'stage')
        .filter((e) => e.executionId === world.restartId && e.stage === 'Beta')
        .map((e) => e.status),
    ).toEqual(['InProgress']);
    expect(run.code).toBe(130);
  });

  test('a production stage in another account: a note, and nothing read there', async () => {
    const run = await watchWorld(new ReleaseWorld({ prodAccount: f.PROD_ACCOUNT }), { mode: 'json', startMinute: 80, abortAtMinute: 95 });
    // Run order 3 of Prod-Wave1: its platform stack and its Lambda service (the ECS service deploys after).
    const note = (stack: string) =>
      `Prod-Wave1: stack ${stack} is in account ${f.PROD_ACCOUNT} (us-east-1): use credentials for it to see its deployments`;
    const notes = ofType(run.events(), 'note').map((e) => e.message);
    expect(notes).toEqual([note('Prod-us-east-1-Platform'), note('Prod-us-east-1-greeting-api')]);
    expect(run.world.calls.filter((c) => c.service !== 'codepipeline')).toEqual([]);
  });
});

describe('between two rounds', () => {
  test('a terminal frame is redrawn every second (clocks and countdowns move) without any AWS call', async () => {
    const run = await watchWorld(new ReleaseWorld(), { mode: 'tty', startMinute: 88, abortAtMinute: 89, redrawMs: 1000 });
    const frames = run.writes.filter((w) => w.text.includes('updated '));
    const rounds = run.world.calls.filter((c) => c.command === 'GetPipelineExecution').length;
    expect(rounds).toBe(4);
    expect(frames.length).toBeGreaterThanOrEqual(50);
    const countdowns = frames.map((w) => w.text.match(/next shift to 100% in ~(\d+:\d\d)/)?.[1]);
    expect(new Set(countdowns).size).toBeGreaterThanOrEqual(48);
  });
});
