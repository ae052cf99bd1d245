import { BatchGetDeploymentsCommand, CodeDeployClient, DeploymentInfo, ListDeploymentsCommand } from '@aws-sdk/client-codedeploy';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { canonicalJson, EarlierTwin, lookupFailedNote, rolledBackNote, servedTwin } from '../../../lambda/shared/served-before';

const cd = mockClient(CodeDeployClient);
const codedeploy = new CodeDeployClient({ region: 'us-east-1' });
const GROUP = { applicationName: 'Beta-orders-App', deploymentGroupName: 'Beta-orders-Group' };
/** Past deployments' AppSpecs here are just the target's id, read back by `targetOf`. */
const targetOf = (content: string | undefined) => content;
const twin = (id: string, since = '2026-11-01T09:00:00Z'): EarlierTwin => ({ id, label: `version ${id}`, since: new Date(since) });
function past(
  deploymentId: string,
  target: string,
  status: DeploymentInfo['status'],
  creator: DeploymentInfo['creator'] = 'CloudFormation',
): DeploymentInfo {
  return { deploymentId, status, creator, ...GROUP, revision: { revisionType: 'AppSpecContent', appSpecContent: { content: target } } };
}
/** The group's history: ListDeployments lists the ids, BatchGetDeployments answers for those asked. */
function history(infos: DeploymentInfo[]) {
  cd.on(ListDeploymentsCommand).resolves({ deployments: infos.map((i) => i.deploymentId!) });
  cd.on(BatchGetDeploymentsCommand).callsFake((input: { deploymentIds: string[] }) => ({
    deploymentsInfo: infos.filter((i) => input.deploymentIds.includes(i.deploymentId!)),
  }));
}

beforeEach(() => cd.reset());

describe('servedTwin', () => {
  test('no twin: nothing to read', async () => {
    await expect(servedTwin(codedeploy, GROUP, [], targetOf)).resolves.toEqual({ rolledBack: [] });
    expect(cd).not.toHaveReceivedAnyCommand();
  });

  test('a twin that a deployment took live served; the history is read from an hour before the oldest twin, ended deployments only', async () => {
    history([past('d-5', '5', 'Succeeded'), past('d-6', '6', 'Succeeded')]);
    await expect(
      servedTwin(codedeploy, GROUP, [twin('5', '2026-11-10T09:00:00Z'), twin('3', '2026-11-01T09:00:00Z')], targetOf),
    ).resolves.toEqual({ served: twin('5', '2026-11-10T09:00:00Z'), rolledBack: [] });
    expect(cd).toHaveReceivedCommandWith(ListDeploymentsCommand, {
      ...GROUP,
      includeOnlyStatuses: ['Succeeded', 'Failed', 'Stopped'],
      createTimeRange: { start: new Date('2026-11-01T08:00:00Z') },
    });
    expect(cd).toHaveReceivedCommandWith(BatchGetDeploymentsCommand, { deploymentIds: ['d-5', 'd-6'] });
  });

  test('a twin no deployment targeted (the version the service was created with) served', async () => {
    history([past('d-6', '6', 'Succeeded')]);
    await expect(servedTwin(codedeploy, GROUP, [twin('1')], targetOf)).resolves.toMatchObject({ served: twin('1') });
  });

  test('a twin whose deployment failed or was stopped was rolled back: the next older twin that served is the one', async () => {
    history([past('d-4', '4', 'Succeeded'), past('d-5', '5', 'Failed'), past('d-3', '3', 'Stopped'), past('d-6', '6', 'Succeeded')]);
    const verdict = await servedTwin(codedeploy, GROUP, [twin('5'), twin('3'), twin('2')], targetOf);
    expect(verdict).toEqual({
      served: twin('2'),
      rolledBack: [
        { twin: twin('5'), deploymentId: 'd-5', status: 'Failed' },
        { twin: twin('3'), deploymentId: 'd-3', status: 'Stopped' },
      ],
    });
  });

  test('every twin rolled back: none served, and the note names them', async () => {
    history([past('d-5', '5', 'Failed')]);
    const verdict = await servedTwin(codedeploy, GROUP, [twin('5')], targetOf);
    expect(verdict).toEqual({ rolledBack: [{ twin: twin('5'), deploymentId: 'd-5', status: 'Failed' }] });
    expect(rolledBackNote(verdict)).toBe(
      'it runs the same as version 5 (deployment d-5 Failed), rolled back, so it is counted as a release',
    );
  });

  test('failed once, then deployed again and succeeded (Lambda republishes no unchanged version): served', async () => {
    history([past('d-5a', '5', 'Failed'), past('d-5b', '5', 'Succeeded')]);
    await expect(servedTwin(codedeploy, GROUP, [twin('5')], targetOf)).resolves.toMatchObject({ served: twin('5') });
  });

  test("a rollback deployment's outcome is no evidence: a failed rollback to a version does not make it rolled back", async () => {
    history([
      past('d-5', '5', 'Succeeded'),
      past('d-r', '5', 'Failed', 'codeDeployRollback'),
      past('d-s', '5', 'Stopped', 'CloudFormationRollback'),
    ]);
    await expect(servedTwin(codedeploy, GROUP, [twin('5')], targetOf)).resolves.toMatchObject({ served: twin('5'), rolledBack: [] });
  });

  test('reads every page of the list and asks for at most 25 deployments at a time', async () => {
    const infos = Array.from({ length: 60 }, (_, i) => past(`d-${i}`, String(100 + i), 'Succeeded'));
    cd.on(ListDeploymentsCommand)
      .resolvesOnce({ deployments: infos.slice(0, 40).map((i) => i.deploymentId!), nextToken: 'more' })
      .resolvesOnce({ deployments: infos.slice(40).map((i) => i.deploymentId!) });
    cd.on(BatchGetDeploymentsCommand).callsFake((input: { deploymentIds: string[] }) => ({
      deploymentsInfo: infos.filter((i) => input.deploymentIds.includes(i.deploymentId!)),
    }));
    await servedTwin(codedeploy, GROUP, [twin('5')], targetOf);
    expect(cd.commandCalls(ListDeploymentsCommand).map((c) => c.args[0].input.nextToken)).toEqual([undefined, 'more']);
    expect(cd.commandCalls(BatchGetDeploymentsCommand).map((c) => c.args[0].input.deploymentIds!.length)).toEqual([25, 25, 10]);
  });

  test('a history longer than the bound is not searched: the newest twin counts as served, and the reason says so', async () => {
    cd.on(ListDeploymentsCommand).resolves({ deployments: Array.from({ length: 100 }, (_, i) => `d-${i}`), nextToken: 'more' });
    const verdict = await servedTwin(codedeploy, GROUP, [twin('5')], targetOf, { maxDeployments: 150 });
    expect(verdict).toEqual({
      served: twin('5'),
      rolledBack: [],
      note: 'the deployment group has more than 150 deployments since 2026-11-01T08:00:00.000Z, so version 5 was not checked for a rollback',
    });
    expect(cd).toHaveReceivedCommandTimes(ListDeploymentsCommand, 2);
    expect(cd).not.toHaveReceivedCommand(BatchGetDeploymentsCommand);
  });

  test('a history that cannot be read throws (after the retries), for the hook to say so and count the canary', async () => {
    cd.on(ListDeploymentsCommand).rejects(
      Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } }),
    );
    await expect(servedTwin(codedeploy, GROUP, [twin('5')], targetOf, { retry: { sleep: async () => undefined } })).rejects.toThrow(
      'Rate exceeded',
    );
    expect(cd).toHaveReceivedCommandTimes(ListDeploymentsCommand, 5);
  });
});

test('lookupFailedNote', () => {
  expect(lookupFailedNote('AccessDeniedException: no')).toBe(
    'could not tell whether it returns to code that served before (AccessDeniedException: no), so it is counted as a release',
  );
});

test('canonicalJson ignores key order but keeps array order', () => {
  expect(canonicalJson({ b: 1, a: { d: [2, 1], c: null } })).toBe(canonicalJson({ a: { c: null, d: [2, 1] }, b: 1 }));
  expect(canonicalJson({ a: [1, 2] })).not.toBe(canonicalJson({ a: [2, 1] }));
});
