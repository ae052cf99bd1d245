/**
 * The example configuration's release (test/fixtures/example.config.json, as the app synthesizes it:
 * Beta in the pipeline's account, Prod-Wave1 and Prod-Wave2 in account 222222222222), followed with
 * --json: what watch can read with the pipeline account's credentials, and the call rate
 * docs/deployctl-watch.md quotes.
 */
import { WatchEvent } from '../../lib/ops/watch-model';
import * as f from './fixtures';
import { docBlock, fenced, rateTable, watchWorld } from './watch-run';
import { ReleaseWorld } from './watch-world';

const ofType = <T extends WatchEvent['type']>(events: WatchEvent[], type: T) =>
  events.filter((e): e is Extract<WatchEvent, { type: T }> => e.type === type);

let run: Awaited<ReturnType<typeof watchWorld>>;
beforeAll(async () => {
  run = await watchWorld(new ReleaseWorld({ prodAccount: f.PROD_ACCOUNT }), { mode: 'json' });
});

test("the example release succeeds: exit 0, every stage in order, Beta's deployments, notes for production", () => {
  expect(run.code).toBe(0);
  const events = run.events();
  // Every stage of the pipeline (watch-release.test.ts lists them), in order.
  const stages = run.world.fixture.stages.map((s) => s.name);
  expect(stages).toHaveLength(10);
  expect(
    ofType(events, 'stage')
      .filter((e) => e.status === 'Succeeded')
      .map((e) => e.stage),
  ).toEqual(stages);
  // Beta's two services, one after the other (greeting-web runs after greeting-api and the platform stack).
  expect([...new Set(ofType(events, 'deployment').map((e) => [e.deploymentId, e.stackName].join(' ')))]).toEqual([
    'd-B0LMBDA01 Beta-us-east-1-greeting-api',
    'd-B0ECSSV02 Beta-us-east-1-greeting-web',
  ]);
  // A note per production stack, as each starts deploying: the platform stack and the Lambda service, then the ECS service.
  const note = (stage: string, stack: string, region: string) =>
    `${stage}: stack ${stack} is in account ${f.PROD_ACCOUNT} (${region}): use credentials for it to see its deployments`;
  expect(ofType(events, 'note').map((e) => e.message)).toEqual([
    note('Prod-Wave1', 'Prod-us-east-1-Platform', 'us-east-1'),
    note('Prod-Wave1', 'Prod-us-east-1-greeting-api', 'us-east-1'),
    note('Prod-Wave1', 'Prod-us-east-1-greeting-web', 'us-east-1'),
    note('Prod-Wave2', 'Prod-us-west-2-Platform', 'us-west-2'),
    note('Prod-Wave2', 'Prod-us-west-2-greeting-api', 'us-west-2'),
    note('Prod-Wave2', 'Prod-eu-west-1-Platform', 'eu-west-1'),
    note('Prod-Wave2', 'Prod-eu-west-1-greeting-api', 'eu-west-1'),
    note('Prod-Wave2', 'Prod-us-west-2-greeting-web', 'us-west-2'),
    note('Prod-Wave2', 'Prod-eu-west-1-greeting-web', 'eu-west-1'),
  ]);
  // Nothing is read in the production account's regions.
  expect(run.world.calls.filter((c) => c.region !== f.REGION)).toEqual([]);
});

test("docs/deployctl-watch.md quotes this run's call rate", () => {
  const table = rateTable(run.world);
  expect(docBlock('rate-example', table)).toBe(table);
});

test('docs/deployctl-watch.md shows real JSON events of this run', () => {
  const events = run.out.trim().split('\n');
  const pick = (type: string, contains = '') => events.find((l) => l.startsWith(`{"type":"${type}"`) && l.includes(contains))!;
  const sample = fenced(
    'json',
    [
      pick('start'),
      pick('stage', '"Beta","status":"InProgress"'),
      pick('deployment', 'AllowTraffic'),
      pick('gate', '"phase":"baking"'),
      pick('note'),
      pick('end'),
    ].join('\n'),
  );
  expect(docBlock('json-example', sample)).toBe(sample);
});

test('docs/deployctl-watch.md shows the plain lines of a canary that its alarm rolled back (a real run)', async () => {
  const plain = await watchWorld(new ReleaseWorld({ failLambdaIn: 'Prod-Wave1' }), { mode: 'plain', startMinute: 83 });
  expect(plain.code).toBe(4);
  const text = fenced('text', plain.out.trimEnd());
  expect(docBlock('plain-rollback', text)).toBe(text);
});
