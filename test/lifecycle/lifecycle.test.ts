/**
 * The stories a team lives through with the example pipeline, each played in one simulated AWS
 * (world.ts) by the product's own handlers and deployctl: the first run into empty accounts, the
 * next release, a release whose canary alarm fires, the first ECS release that fails, a pipeline
 * change followed by a failed release, and an operator's rollback racing CodeDeploy's own.
 */
import { examplePipeline, singleAccountPipeline } from './fixture';
import { Behaviour, Execution, MINUTE, Release, World, WorldOptions } from './world';

const commit = (n: number) => `${n}${'0f3c9e2a7b'.repeat(4)}`.slice(0, 40);
function release(
  n: number,
  message: string,
  api: string,
  web: string,
  extra: Partial<Release> & { apiBehaviour?: Behaviour; webBehaviour?: Behaviour } = {},
): Release {
  const { apiBehaviour, webBehaviour, ...rest } = extra;
  return {
    commit: commit(n),
    message,
    services: { 'greeting-api': { code: api, behaviour: apiBehaviour }, 'greeting-web': { code: web, behaviour: webBehaviour } },
    ...rest,
  };
}
const R1 = release(1, 'Initial import of the greeting services', 'api-1', 'web-1');
const PROD1 = 'Prod-us-east-1';
const WAVE2 = ['Prod-us-west-2', 'Prod-eu-west-1'];
const ALL = ['Beta-us-east-1', PROD1, ...WAVE2];
const lines = (s: string) => s.split('\n').filter(Boolean);
const failures = (e: Execution) => e.actions.filter((a) => a.status === 'Failed').map((a) => `${a.stage}/${a.action.name}`);

let world: World;
afterEach(() => world?.restore());

/** A world where the first run has reached production and users call every production service. */
async function afterFirstRun(options: Partial<WorldOptions> = {}): Promise<World> {
  world = new World({ fixture: examplePipeline(), ...options });
  world.push(R1);
  await world.settle();
  for (const target of [PROD1, ...WAVE2]) for (const svc of ['greeting-api', 'greeting-web']) world.setUsers(target, svc, 200);
  // The next morning, 09:00 in New York.
  await world.idleUntil(T_NEXT_DAY);
  return world;
}
const T_NEXT_DAY = Date.parse('2026-11-04T14:00:00Z');

describe('the first run into empty stage accounts', () => {
  test('reaches every production region; the gates pass what was never deployed and say why', async () => {
    world = new World({ fixture: examplePipeline() });
    const run = world.push(R1);
    await world.settle();

    expect({ status: run.status, failed: failures(run) }).toEqual({ status: 'Succeeded', failed: [] });
    for (const target of ALL) {
      expect(world.lambdaServes(`${target}-greeting-api`)).toBe('api-1');
      expect(world.ecsServes(`${target}-greeting-web`)).toBe('web-1');
    }
    // Every stack was created; nothing was deployed through CodeDeploy, and the ECS deployment
    // resource's Create started no deployment (the service starts with its task definition).
    expect([...world.stacks.values()].map((s) => s.status)).toEqual(Array(12).fill('CREATE_COMPLETE'));
    expect(world.deployments.size).toBe(0);
    expect(world.callsTo('CreateDeployment')).toEqual([]);

    const passed = world.gateDecisions.filter((d) => d.outcome === 'succeeded');
    expect(passed.map((d) => d.gate)).toEqual(['Gate-Prod-Wave1', 'Gate-Prod-Wave2']);
    expect(passed[0].reason).toBe(
      'Prod-Wave1: baked 60 minutes (needs 60), requests not counted (the previous stage is pre-production), alarms quiet, 2 flag deployments complete (222222222222/us-east-1 not deployed yet: its platform stack (Prod-us-east-1-Platform.Deploy) has never been deployed, so there is no reader role or alarm to check)',
    );
    expect(passed[1].reason).toMatch(
      /^Prod-Wave2: baked \d+ minutes \(needs 60\), requests not counted \(Prod-Wave2 has never been deployed: no users there to protect yet\), alarms quiet, 2 flag deployments complete \(222222222222\/us-west-2 not deployed yet: .*; 222222222222\/eu-west-1 not deployed yet: /,
    );
    // The gate could not assume the reader roles that did not exist yet, and did not fail for it.
    expect(world.callsTo('AssumeRole').map((c) => c.input.RoleArn)).toEqual(
      expect.arrayContaining([
        'arn:aws:iam::222222222222:role/safe-deploy-gate-reader-Prod-us-east-1',
        'arn:aws:iam::111111111111:role/safe-deploy-gate-reader-Beta-us-east-1',
      ]),
    );
    // Brand-new stacks broaden permissions: a person confirmed each production wave once.
    expect(world.personApprovals).toEqual(['Prod-Wave1', 'Prod-Wave2']);
    expect(world.published).toEqual([]);

    const status = await world.deployctl(['status']);
    expect(status.code).toBe(0);
    expect(
      lines(status.stdout)
        .filter((l) => /^\s{2}\S/.test(l))
        .map((l) => l.trim().split(/\s+/).slice(0, 2).join(' ')),
    ).toEqual([
      'Source Succeeded',
      'Build Succeeded',
      'UpdatePipeline Succeeded',
      'Assets Succeeded',
      'Images Succeeded',
      'Beta Succeeded',
      'Gate-Prod-Wave1 Succeeded',
      'Prod-Wave1 Succeeded',
      'Gate-Prod-Wave2 Succeeded',
      'Prod-Wave2 Succeeded',
    ]);
    expect(await world.deployctl(['diagnose'])).toEqual({
      code: 0,
      stdout: `no failure: the latest finished execution ${run.id} Succeeded\n`,
      stderr: '',
    });
  });
});

describe('the second release', () => {
  test('goes out through CodeDeploy canaries and hooks, the gate counts real requests, and no person is asked', async () => {
    await afterFirstRun();
    const run = world.push(release(2, 'Greet in French too', 'api-2', 'web-2'));
    await world.settle();

    expect({ status: run.status, failed: failures(run) }).toEqual({ status: 'Succeeded', failed: [] });
    for (const target of ALL) {
      expect(world.lambdaServes(`${target}-greeting-api`)).toBe('api-2');
      expect(world.ecsServes(`${target}-greeting-web`)).toBe('web-2');
      for (const svc of ['greeting-api', 'greeting-web'])
        expect(world.deploymentsOf(`${target}-${svc}`).map((d) => d.status)).toEqual(['Succeeded']);
    }
    // The ECS resource started one deployment per target, of the new revision.
    expect(world.ecsCreateDeployments.map((c) => c.taskDefinition?.replace(/^.*:task-definition\//, ''))).toEqual(
      ALL.map((t) => `${t}-greeting-web-TaskDef:2`),
    );
    // Every hook ran and reported: pre- and post-traffic per Lambda deployment, test traffic per ECS
    // one, and in production the judged canaries' traffic checks counted enough canary requests.
    expect(world.hookReports.map((h) => h.status)).toEqual(Array(ALL.length * 3 + 3).fill('Succeeded'));
    expect(world.callsTo('PutLifecycleEventHookExecutionStatus')).toHaveLength(world.hookReports.length);
    const checks = world.hookReports.filter((h) => h.event === 'AfterAllowTraffic' && h.stack.startsWith('Prod-'));
    expect(checks).toHaveLength(6);
    for (const c of checks) expect(c.reason).toMatch(/the canary served \d+ requests in its 10-minute step \(the judge needs 100;/);
    const wave2 = world.gateDecisions.find((d) => d.execution === run.id && d.gate === 'Gate-Prod-Wave2' && d.outcome === 'succeeded')!;
    // Prod-us-east-1's two services, 200 requests a minute each, for the hour of the bake.
    expect(wave2.reason).toBe(
      'Prod-Wave2: baked 60 minutes (needs 60), 24000 requests (needs 500), alarms quiet, 2 flag deployments complete',
    );
    expect(world.personApprovals).toEqual(['Prod-Wave1', 'Prod-Wave2']); // still only the first run's
    expect(world.pipelineVersion).toBe(1);
    expect(world.published).toEqual([]);
  });
});

describe('a release whose canary alarm fires', () => {
  /** The new greeting-api passes its hooks but fails users: 10% of Prod-us-east-1's traffic shows it. */
  const BAD = release(2, 'Cache greetings', 'api-2', 'web-1', { apiBehaviour: 'errors-under-traffic' });
  // The error judge of the canary and the catastrophe alarm of the alias fire together: CodeDeploy names both.
  const ALARMS = 'Prod-us-east-1-greeting-api-ErrorJudge, Prod-us-east-1-greeting-api-Catastrophe';

  test('CodeDeploy rolls back, the stack update fails, CodePipeline rolls the stage back, the team is told which alarm', async () => {
    await afterFirstRun({ fixture: singleAccountPipeline() });
    const first = world.executions[0];
    const run = world.push(BAD);
    await world.settle();

    expect(run.status).toBe('Failed');
    expect(failures(run)).toEqual(['Prod-Wave1/Prod-us-east-1-greeting-api.Deploy']);
    const [d] = world.deploymentsOf(`${PROD1}-greeting-api`);
    expect(d.status).toBe('Stopped');
    expect(d.errorInformation?.message).toContain(`Activated alarms: <${ALARMS}>`);
    expect(world.lambdaServes(`${PROD1}-greeting-api`)).toBe('api-1');
    expect(world.stack(`${PROD1}-greeting-api`)!.status).toBe('UPDATE_ROLLBACK_COMPLETE');
    // Beta took it (no users there to show the errors); Wave2 never did.
    expect(world.lambdaServes('Beta-us-east-1-greeting-api')).toBe('api-2');
    for (const t of WAVE2) expect(world.lambdaServes(`${t}-greeting-api`)).toBe('api-1');

    // CodePipeline's rollback on failure redeploys the first run's revision, which serves already.
    const [rollback] = world.rollbacksOf('Prod-Wave1');
    expect(rollback).toMatchObject({ status: 'Succeeded', rollbackTarget: first.id, trigger: { triggerType: 'AutomatedRollback' } });

    expect(world.published.map((n) => n.subject).sort()).toEqual([
      `[safe-deploy] CodeDeploy rollback: ${d.group.app}/${d.group.name}`.slice(0, 97) + '...',
      '[safe-deploy] safe-deploy-pipeline failed in Prod-Wave1',
    ]);
    const failure = world.published.find((n) => n.subject.endsWith('failed in Prod-Wave1'))!;
    expect(failure.message).toContain('Cause:   codedeploy-alarm-rollback');
    expect(failure.message).toContain(`because alarm ${ALARMS} went into ALARM`);

    // The operator, told of a failure, asks deployctl: the failure, not the rollback that undid it.
    const diagnosis = await world.deployctl(['diagnose']);
    expect(diagnosis.code).toBe(0);
    expect(diagnosis.stdout).toContain(`FAILED in Prod-Wave1 / Prod-us-east-1-greeting-api.Deploy`);
    expect(diagnosis.stdout).toContain(`CodeDeploy deployment ${d.id} stopped and rolled back because alarm ${ALARMS} went into ALARM`);
    expect(diagnosis.stdout).toContain(`Since then, rollback execution ${rollback.id} succeeded (back to execution ${first.id}).`);
  });

  test('with production in its own account, the team still hears of the rollback, and is told where to look', async () => {
    await afterFirstRun();
    world.push(BAD);
    await world.settle();
    const [d] = world.deploymentsOf(`${PROD1}-greeting-api`);
    expect(d.status).toBe('Stopped');
    // The stage account's rule forwards CodeDeploy's STOP to the pipeline account's notifier.
    const codedeploy = world.published.find((n) => n.subject.startsWith('[safe-deploy] CodeDeploy rollback'))!;
    expect(codedeploy.message).toContain(
      `CodeDeploy deployment ${d.id} of ${d.group.app} / ${d.group.name} ended in STOP in account 222222222222, region us-east-1.`,
    );
    const failure = world.published.find((n) => n.subject.endsWith('failed in Prod-Wave1'))!;
    expect(failure.message).toContain(
      `Stack ${PROD1}-greeting-api is in account 222222222222 (us-east-1): use credentials for it to see the failing resource`,
    );
  });
});

describe('the first ECS release through CodeDeploy fails', () => {
  test("its test traffic fails, CodeDeploy keeps blue; CloudFormation's rollback does not deploy again", async () => {
    await afterFirstRun();
    const run = world.push(release(2, 'New landing page', 'api-1', 'web-2', { webBehaviour: 'fails-health-check' }));
    await world.settle();

    expect(failures(run)).toEqual(['Beta/us-east-1-greeting-web.Deploy']);
    expect(run.stages.has('Gate-Prod-Wave1')).toBe(false);
    const [d] = world.deploymentsOf('Beta-us-east-1-greeting-web');
    expect(d).toMatchObject({ status: 'Failed', errorInformation: { code: 'HOOK_EXECUTION_FAILURE' } });
    expect(d.group.lastSuccessful).toBeUndefined(); // no successful CodeDeploy deployment ever
    expect(world.ecsServes('Beta-us-east-1-greeting-web')).toBe('web-1');
    // One deployment: the rollback's Update saw the primary task set already serving web-1.
    expect(world.callsTo('CreateDeployment')).toHaveLength(1);
    const stack = world.stack('Beta-us-east-1-greeting-web')!;
    expect(stack.status).toBe('UPDATE_ROLLBACK_COMPLETE');
    const resourceEvents = stack.events.filter((e) => e.LogicalResourceId === 'ServiceDeployment0F8E1D2C').map((e) => e.ResourceStatus);
    expect(resourceEvents.slice(0, 3)).toEqual(['UPDATE_COMPLETE', 'UPDATE_IN_PROGRESS', 'UPDATE_FAILED']);
    expect(stack.events.find((e) => e.ResourceStatus === 'UPDATE_FAILED')?.ResourceStatusReason).toMatch(
      new RegExp(
        `^CodeDeploy deployment ${d.id} of arn:aws:ecs:us-east-1:111111111111:task-definition/Beta-us-east-1-greeting-web-TaskDef:2 failed .* failed lifecycle hooks: AfterAllowTestTraffic`,
      ),
    );

    const diagnosis = await world.deployctl(['diagnose', '--json']);
    expect(JSON.parse(diagnosis.stdout)).toMatchObject({
      cause: 'lifecycle-hook',
      stageName: 'Beta',
      actionName: 'us-east-1-greeting-web.Deploy',
      summary: expect.stringContaining('the AfterAllowTestTraffic hook reported Failed'),
    });
    expect(world.published.map((n) => n.subject)).toEqual(expect.arrayContaining(['[safe-deploy] safe-deploy-pipeline failed in Beta']));
  });
});

describe('a pipeline change, then a failed release', () => {
  test('gate settings travel with the release; a structure change leaves no stage rollback, and deployctl says why', async () => {
    await afterFirstRun();
    // A new blocked date is a release-manifest change: the pipeline's structure (and its rollback targets) stay.
    const blocked = world.push(
      release(2, 'Block the release freeze', 'api-1', 'web-1', {
        gates: (g) => {
          for (const gate of Object.values(g)) gate.window!.blockedDates!.push('2026-11-26');
          return g;
        },
      }),
    );
    await world.settle();
    expect(blocked.status).toBe('Succeeded');
    expect(world.pipelineVersion).toBe(1);

    // A structure change (and a bad greeting-api) in one commit: the pipeline updates itself first.
    await world.idleUntil(Date.parse('2026-11-05T14:00:00Z'));
    const change = release(3, 'Add a wave and cache greetings', 'api-3', 'web-1', {
      changesPipeline: true,
      apiBehaviour: 'errors-under-traffic',
    });
    world.push(change);
    await world.settle();
    const [superseded, restarted] = world.executions.filter((e) => e.release === change);
    expect(superseded.status).toBe('Superseded');
    expect(restarted).toMatchObject({ version: 2, status: 'Failed', trigger: { triggerType: 'CloudFormationStackUpdate' } });
    expect(failures(restarted)).toEqual(['Prod-Wave1/Prod-us-east-1-greeting-api.Deploy']);
    // CodeDeploy rolled the alias back; CodePipeline had nothing of version 2 to roll the stage back to.
    expect(world.lambdaServes(`${PROD1}-greeting-api`)).toBe('api-1');
    expect(world.rollbacksOf('Prod-Wave1')).toEqual([]);

    const r = await world.deployctl(['rollback', '--stage', 'Prod-Wave1', '--yes']);
    expect(r.stdout).toBe('');
    expect(lines(r.stderr)).toEqual([
      `deployctl: stage rollback is not possible: execution ${blocked.id} ran pipeline version 1 and the pipeline is now version 2; CodePipeline rolls a stage back only within one pipeline structure version. Deploy the old code forward instead: revert the change (to commit ${commit(2).slice(0, 7)}) and push`,
    ]);
    expect(r.code).toBe(1);
    expect(world.callsTo('RollbackStage')).toEqual([]);
  });
});

describe("an operator's rollback racing CodeDeploy's own", () => {
  const BAD = release(2, 'Cache greetings', 'api-2', 'web-1', { apiBehaviour: 'errors-under-traffic' });
  /** Until the Prod-us-east-1 canary of the bad release takes traffic. */
  async function untilCanary(): Promise<void> {
    world.push(BAD);
    await world.runUntil(() =>
      world
        .deploymentsOf(`${PROD1}-greeting-api`)
        .some((d) => d.status === 'InProgress' && d.events.find((e) => e.lifecycleEventName === 'AllowTraffic')?.status === 'InProgress'),
    );
  }

  test('CodeDeploy stops on its alarm while the operator reads the plan: deployctl says so and leaves the rollback to CodePipeline', async () => {
    await afterFirstRun({ fixture: singleAccountPipeline() });
    await untilCanary();
    const [d] = world.deploymentsOf(`${PROD1}-greeting-api`);
    const r = await world.deployctl(['rollback', '--stage', 'Prod-Wave1'], {
      isTTY: true,
      // Five minutes to read the plan: the canary's alarm fires meanwhile.
      confirm: async () => {
        await world.sleep(5 * MINUTE);
        return true;
      },
    });
    const [rollback] = world.rollbacksOf('Prod-Wave1');
    expect(r.stderr).toBe('');
    expect(lines(r.stdout).slice(-3)).toEqual([
      `CodeDeploy deployment ${d.id} had already ended before it could be stopped: Stopped. CodeDeploy had already stopped (alarm ${PROD1}-greeting-api-ErrorJudge, ${PROD1}-greeting-api-Catastrophe went into ALARM); Traffic was rerouted to the original version (automatic rollback).`,
      `CodePipeline is already rolling back stage Prod-Wave1 to execution ${world.executions[0].id} (its automatic rollback on failure): rollback execution ${rollback.id}; deployctl started no second one.`,
      'Follow it with: deployctl status --pipeline safe-deploy-pipeline',
    ]);
    expect(r.code).toBe(0);
    expect(lines(r.stdout)[0]).toBe('Roll back stage Prod-Wave1 of safe-deploy-pipeline (us-east-1)');
    expect(world.callsTo('RollbackStage')).toEqual([]);
    await world.settle();
    expect(world.rollbacksOf('Prod-Wave1').map((e) => [e.trigger.triggerType, e.status])).toEqual([['AutomatedRollback', 'Succeeded']]);
    expect(world.lambdaServes(`${PROD1}-greeting-api`)).toBe('api-1');
  });

  test('the operator stops first: CodeDeploy rolls back on the stop, deployctl rolls the stage back, CodePipeline does not a second time', async () => {
    await afterFirstRun({ fixture: singleAccountPipeline() });
    await untilCanary();
    const [d] = world.deploymentsOf(`${PROD1}-greeting-api`);
    const r = await world.deployctl(['rollback', '--stage', 'Prod-Wave1', '--yes']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(lines(r.stdout)[0]).toBe(
      `Stopped CodeDeploy deployment ${d.id}: Pending (Stopping Pending. Stopping to deploy the revision, and rolling back.)`,
    );
    expect(lines(r.stdout)[1]).toMatch(
      new RegExp(
        `^Rolling back stage Prod-Wave1 to execution ${world.executions[0].id} \\(commit ${commit(1).slice(0, 7)} "Initial import of the greeting services"\\): rollback execution \\S+\\.$`,
      ),
    );
    expect(d).toMatchObject({ status: 'Stopped', errorInformation: { code: 'MANUAL_STOP' } });
    await world.settle();
    expect(world.rollbacksOf('Prod-Wave1').map((e) => [e.trigger.triggerType, e.status])).toEqual([['ManualRollback', 'Succeeded']]);
    expect(world.lambdaServes(`${PROD1}-greeting-api`)).toBe('api-1');
  });

  test('a second rollback while the first runs is refused on one line', async () => {
    await afterFirstRun({ fixture: singleAccountPipeline() });
    await untilCanary();
    await world.deployctl(['rollback', '--stage', 'Prod-Wave1', '--yes']);
    await world.runUntil(() => world.rollbacksOf('Prod-Wave1').some((e) => e.status === 'InProgress'));
    const [rollback] = world.rollbacksOf('Prod-Wave1');
    const again = await world.deployctl(['rollback', '--stage', 'Prod-Wave1', '--yes']);
    expect(again).toEqual({
      code: 1,
      stdout: '',
      stderr: `deployctl: stage Prod-Wave1 is already rolling back to execution ${world.executions[0].id} (rollback execution ${rollback.id}): nothing to do; follow it with \`deployctl watch --execution ${rollback.id}\`\n`,
    });
  });
});
