import { ConfigError } from '../../lib/config/load-config';
import { stageServices } from '../../lib/config/stage-services';
import { fixtureConfig } from '../support/fixtures';

/** The problems of the example fixture after `mutate` (empty when valid). */
function problems(mutate: (c: any) => void): string[] {
  try {
    fixtureConfig('example', mutate);
    return [];
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return e.problems;
  }
}

describe('feature flags in the config', () => {
  test('the example declares flags on both services, each with a multi-variant flag targeting users or tenants', () => {
    const config = fixtureConfig('example');
    for (const svc of config.services) {
      const variant = svc.flags?.find((f) => f.kind === 'multi-variant');
      expect({ service: svc.name, boolean: svc.flags?.some((f) => f.kind === 'boolean') }).toEqual({ service: svc.name, boolean: true });
      expect(
        variant &&
          variant.kind === 'multi-variant' &&
          variant.rules.map((r) => (r.kind === 'percent' ? `percent ${r.percent}` : r.attribute)),
      ).toEqual(svc.name === 'greeting-api' ? ['userId', 'percent 5'] : ['tenant', 'percent 5']);
    }
  });

  test('each stage rolls flags out with its own rollout, or the default of its type', () => {
    const config = fixtureConfig('example', (c) => {
      delete c.stages[0].flags;
      c.stages[1].flags = { rollout: { type: 'linear', percent: 10, intervalMinutes: 3, bakeMinutes: 20 } };
    });
    expect(stageServices(config, config.stages[0]).map((s) => s.flagRollout)).toEqual([
      { type: 'all-at-once', bakeMinutes: 10 },
      { type: 'all-at-once', bakeMinutes: 10 },
    ]);
    expect(stageServices(config, config.stages[1])[1].flagRollout).toEqual({
      type: 'linear',
      percent: 10,
      intervalMinutes: 3,
      bakeMinutes: 20,
    });
    const plain = fixtureConfig('example', (c) => delete c.stages[1].flags);
    expect(stageServices(plain, plain.stages[1])[0].flagRollout).toEqual({
      type: 'linear',
      percent: 20,
      intervalMinutes: 6,
      bakeMinutes: 30,
    });
  });

  test('fails when a percentage is out of range, naming the service, flag and rule', () => {
    expect(problems((c) => (c.services[1].flags[1].rules[1].percent = 150))).toEqual([
      'services[1].flags[1].rules[1].percent: 150 is not a percentage: use 0 to 100',
    ]);
  });

  test('fails when a rule selects a variant the flag does not have', () => {
    expect(problems((c) => (c.services[0].flags[1].rules[0].variant = 'wram'))).toEqual([
      'services[0].flags[1].rules[0].variant: "wram" is not one of its variants ("plain", "warm"): use one of them',
    ]);
  });

  test('fails when a flag name is not an AppConfig key, or is declared twice', () => {
    expect(problems((c) => (c.services[0].flags[0].name = 'Greeting Emoji'))).toEqual([
      `services[0].flags[0].name: "Greeting Emoji" is not a valid flag name: start with a lower-case letter, then letters, digits, '_' or '-' (at most 64 characters), e.g. "new_checkout"`,
    ]);
    expect(problems((c) => (c.services[0].flags[1].name = 'greeting_emoji'))).toEqual([
      'services[0].flags[1].name: "greeting_emoji" is already declared by [0]: give each flag a unique name',
    ]);
  });

  test('fails when a flag lacks its default, saying what to add', () => {
    expect(problems((c) => delete c.services[0].flags[0].default)).toEqual([
      expect.stringMatching(/^services\[0\]\.flags\[0\]\.default: is missing: /),
    ]);
  });

  test('fails when a tenant list is empty', () => {
    expect(problems((c) => (c.services[1].flags[1].rules[0].tenants = []))).toEqual([
      'services[1].flags[1].rules[0].tenants: is empty: list at least one value, e.g. ["acme"]',
    ]);
  });

  test('fails when flags is not a list', () => {
    expect(problems((c) => (c.services[0].flags = { greeting_emoji: false }))).toEqual([
      'services[0].flags: {"greeting_emoji":false} is not a list of flags: use [ { "name": "new_checkout", "default": false }, ... ]',
    ]);
  });

  test("fails when a stage rollout has an unknown type, a bake over AppConfig's limit, or misses a field", () => {
    expect(problems((c) => (c.stages[0].flags.rollout = { type: 'canary' }))).toEqual([
      'stages[0].flags.rollout.type: "canary" is not a rollout type: use "all-at-once" or "linear"',
    ]);
    expect(problems((c) => (c.stages[1].flags.rollout.bakeMinutes = 2000))).toEqual([
      "stages[1].flags.rollout.bakeMinutes: 2000 minutes is longer than AppConfig's 1440-minute final bake: use at most 1440",
    ]);
    expect(problems((c) => delete c.stages[1].flags.rollout.intervalMinutes)).toEqual([
      'stages[1].flags.rollout.intervalMinutes: is missing: use 1 or more, e.g. 6',
    ]);
  });

  test("fails when a linear rollout takes longer than AppConfig's 24-hour deployment", () => {
    expect(problems((c) => (c.stages[1].flags.rollout = { type: 'linear', percent: 1, intervalMinutes: 15, bakeMinutes: 30 }))).toEqual([
      "stages[1].flags.rollout.intervalMinutes: 15 minutes x 100 steps of 1 % take 1500 minutes, longer than AppConfig's 1440-minute deployment: use a shorter interval or a bigger step",
    ]);
  });

  test("an ECS service's flagsAgentImage reaches the stage's service; without it, the default tag applies", () => {
    const pinned = `public.ecr.aws/aws-appconfig/aws-appconfig-agent:2.x@sha256:${'a'.repeat(64)}`;
    const config = fixtureConfig('example', (c) => (c.services[1].flagsAgentImage = pinned));
    expect(stageServices(config, config.stages[1])[1]).toMatchObject({ name: 'greeting-web', flagsAgentImage: pinned });
    expect(stageServices(fixtureConfig('example'), config.stages[1])[1]).not.toHaveProperty('flagsAgentImage');
  });

  test('fails when flagsAgentImage is not an image reference, naming the value and the form to use', () => {
    const fix =
      'is not an image reference: use registry/repository[:tag][@sha256:<64 hex digits>]; pin a digest so every task runs the agent build you tested, ' +
      'e.g. "public.ecr.aws/aws-appconfig/aws-appconfig-agent:2.x@sha256:<digest>"';
    for (const bad of [
      'aws-appconfig-agent:2.x',
      'public.ecr.aws/aws-appconfig/aws-appconfig-agent@sha256:abc',
      'public.ecr.aws/Agent:2.x',
    ]) {
      expect(problems((c) => (c.services[1].flagsAgentImage = bad))).toEqual([
        `services[1].flagsAgentImage: ${JSON.stringify(bad)} ${fix}`,
      ]);
    }
  });

  test('fails when flagsAgentImage is set on a service without flags', () => {
    expect(
      problems((c) => {
        delete c.services[1].flags;
        c.services[1].flagsAgentImage = 'public.ecr.aws/aws-appconfig/aws-appconfig-agent:2.x';
      }),
    ).toEqual([
      'services[1].flagsAgentImage: is set, but "greeting-web" declares no flags, so its tasks run no agent: remove it, or declare flags',
    ]);
  });

  test('fails when a stage flags block has an unknown field', () => {
    expect(problems((c) => (c.stages[1].flags = { rollout: c.stages[1].flags.rollout, rolout: {} }))).toEqual([
      'stages[1].flags: unknown field "rolout": remove it or check the spelling (README, "Configuration reference")',
    ]);
  });
});
