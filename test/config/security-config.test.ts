import { PUBLIC_URL_DEFAULT_CONCURRENCY } from '../../lib/config/concurrency';
import { ConfigError } from '../../lib/config/load-config';
import { stageServices } from '../../lib/config/stage-services';
import { fixtureConfig } from '../support/fixtures';

function problems(mutate: (c: any) => void): string[] {
  try {
    fixtureConfig('example', mutate);
    return [];
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return e.problems;
  }
}

describe('reserved concurrency of Lambda services', () => {
  test('a public Function URL gets the default cap; an IAM or no URL stays unreserved', () => {
    const config = fixtureConfig('example');
    const api = (c: typeof config, stage = 1) =>
      stageServices(c, c.stages[stage]).find((s) => s.name === 'greeting-api') as { reservedConcurrency?: number };
    expect(api(config).reservedConcurrency).toBe(PUBLIC_URL_DEFAULT_CONCURRENCY);
    const iam = fixtureConfig('example', (c) => (c.services[0].url = 'iam'));
    expect(api(iam).reservedConcurrency).toBeUndefined();
  });

  test("the service's own setting and a stage's override win over the default", () => {
    const config = fixtureConfig('example', (c) => {
      c.services[0].reservedConcurrency = 30;
      c.stages[1].services = { 'greeting-api': { reservedConcurrency: 250 } };
    });
    expect(stageServices(config, config.stages[0]).find((s) => s.name === 'greeting-api')).toMatchObject({ reservedConcurrency: 30 });
    expect(stageServices(config, config.stages[1]).find((s) => s.name === 'greeting-api')).toMatchObject({ reservedConcurrency: 250 });
  });

  test('fails when the reservations of one account and region leave Lambda less than its 100 unreserved', () => {
    expect(
      problems((c) => {
        c.services.push({
          name: 'second-api',
          kind: 'lambda',
          entry: 'services/greeting-api/handler.ts',
          url: 'public',
          reservedConcurrency: 850,
        });
      }),
    ).toEqual([
      expect.stringMatching(
        /^services\[2\]\.reservedConcurrency: reserves 850: the Lambda services of account \d{12} in us-east-1 reserve 950 in all \(Beta\/greeting-api 100 \(public URL default\), Beta\/second-api 850.*\), and Lambda keeps 100 of the default 1000 unreserved .*: lower the reservations to at most 900 in all/,
      ),
    ]);
  });

  test('a stage override is named where it is written', () => {
    const found = problems((c) => (c.stages[1].services = { 'greeting-api': { reservedConcurrency: 901 } }));
    expect(found[0]).toMatch(/^stages\[1\]\.services\.greeting-api\.reservedConcurrency: reserves 901: /);
  });
});

describe('the container user', () => {
  test('fails when an ECS service runs as root', () => {
    expect(problems((c) => (c.services[1].user = 'root'))).toEqual([
      'services[1].user: "root" is root or not a user: use an unprivileged uid[:gid] or a user name the image has, e.g. "1000" or "node"',
    ]);
    expect(problems((c) => (c.services[1].user = '0'))).toHaveLength(1);
  });

  test('accepts a uid, a uid:gid or a name', () => {
    for (const user of ['1000', '1000:1000', 'node']) expect(problems((c) => (c.services[1].user = user))).toEqual([]);
  });
});
