import { z } from 'zod';
import {
  DEFAULT_FLAG_ROLLOUTS,
  describeStrategy,
  featureFlagsDigest,
  FlagDeclarationError,
  flagRolloutSchema,
  flagsFileSchema,
  parseServiceFlags,
  renderFeatureFlagsDocument,
  serviceFlagsSchema,
  toAppConfigStrategy,
} from '../../lib/constructs/feature-flags';
import { DEFAULT_ALARM_SETTINGS, worstCaseDetectionSeconds } from '../../lib/constructs/shared/alarm-settings';

/** The problems parseServiceFlags reports for `flags`, one line each. */
function problems(flags: unknown): string[] {
  try {
    parseServiceFlags(flags);
  } catch (e) {
    if (e instanceof FlagDeclarationError) return e.problems;
    throw e;
  }
  throw new Error('expected the flags to be rejected');
}

const onOff = { on: { enabled: true }, off: { enabled: false } };
const variantFlag = (rules: unknown[], extra: Record<string, unknown> = {}) => ({
  name: 'checkout',
  variants: onOff,
  default: 'off',
  rules,
  ...extra,
});

describe('rendering the AppConfig feature-flag document', () => {
  const declared = [
    { name: 'new_checkout', description: 'The one-page checkout', default: true },
    {
      name: 'theme',
      description: 'Colour scheme experiment',
      variants: {
        classic: { enabled: false },
        dark: { enabled: true, attributes: { palette: 'dark', weights: [1, 2] } },
        beta: { enabled: true, attributes: { palette: 'light', weights: [3] } },
      },
      default: 'classic',
      rules: [
        { variant: 'beta', tenants: ['acme', 'globex'] },
        { variant: 'beta', userIds: ['u-1'] },
        { variant: 'beta', percent: 5 },
        { variant: 'dark', attribute: 'country', values: ['DE', 'FR'] },
        { variant: 'dark', percent: 10 },
      ],
    },
  ];

  test('boolean flags become enabled values; multi-variant flags become ordered variants with AppConfig rules, the default last without a rule', () => {
    const doc = JSON.parse(renderFeatureFlagsDocument(parseServiceFlags(declared)));
    expect(doc).toEqual({
      version: '1',
      flags: {
        new_checkout: { name: 'new_checkout', description: 'The one-page checkout' },
        theme: {
          name: 'theme',
          description: 'Colour scheme experiment',
          attributes: {
            palette: { constraints: { type: 'string' } },
            weights: { constraints: { type: 'array', elements: { type: 'number' } } },
          },
        },
      },
      values: {
        new_checkout: { enabled: true },
        theme: {
          _variants: [
            {
              name: 'beta',
              enabled: true,
              rule: '(or (in $tenant ["acme", "globex"]) (in $userId ["u-1"]) (split pct::5 by::$userId seed::"theme"))',
              attributeValues: { palette: 'light', weights: [3] },
            },
            {
              name: 'dark',
              enabled: true,
              // 10 % after beta's 5 %: the splits share one hash, so dark's rule covers 0-15 and beta took 0-5.
              rule: '(or (in $country ["DE", "FR"]) (split pct::15 by::$userId seed::"theme"))',
              attributeValues: { palette: 'dark', weights: [1, 2] },
            },
            { name: 'classic', enabled: false },
          ],
        },
      },
    });
  });

  test('the same declaration renders the same bytes, whatever the order of flags and keys', () => {
    const a = renderFeatureFlagsDocument(parseServiceFlags(declared));
    const reordered = [...declared].reverse().map((f) => Object.fromEntries(Object.entries(f).reverse()));
    const b = renderFeatureFlagsDocument(parseServiceFlags(reordered));
    expect(b).toBe(a);
    expect(featureFlagsDigest(b)).toBe(featureFlagsDigest(a));
    expect(featureFlagsDigest(a)).toMatch(/^[0-9a-f]{64}$/);
    // Keys sorted at every level; variant order (evaluation order) kept.
    expect(a.indexOf('"flags"')).toBeLessThan(a.indexOf('"values"'));
    expect(a.indexOf('"name": "beta"')).toBeLessThan(a.indexOf('"name": "dark"'));
  });

  test('a percentage rule may split by another attribute, and 0 % is a valid start', () => {
    const [flag] = parseServiceFlags([variantFlag([{ variant: 'on', percent: 0, by: 'tenant' }])]);
    const doc = JSON.parse(renderFeatureFlagsDocument([flag]));
    expect(doc.values.checkout._variants[0].rule).toBe('(split pct::0 by::$tenant seed::"checkout")');
  });

  test('an empty list renders an empty, valid document', () => {
    expect(JSON.parse(renderFeatureFlagsDocument(parseServiceFlags([])))).toEqual({ version: '1', flags: {}, values: {} });
  });

  test('the flags file schema and the list schema compose into a larger schema, with paths from its root', () => {
    expect(flagsFileSchema.parse({ flags: [{ name: 'a', default: false }] })).toEqual({
      flags: [{ kind: 'boolean', name: 'a', default: false }],
    });
    const config = z.object({ services: z.array(z.object({ name: z.string(), flags: serviceFlagsSchema })) });
    const result = config.safeParse({
      services: [{ name: 'orders', flags: [{ name: 'a', default: false }, variantFlag([{ variant: 'on', percent: 150 }])] }],
    });
    expect(result.success).toBe(false);
    expect(result.error!.issues.map((i) => [i.path.join('.'), i.message])).toEqual([
      ['services.0.flags.1.rules.0.percent', '150 is not a percentage: use 0 to 100'],
    ]);
  });
});

describe('flag declarations: every message names the field, the value and the fix', () => {
  test('fails when a percentage is out of range', () => {
    expect(problems([{ name: 'a', default: false }, variantFlag([{ variant: 'on', percent: 150 }])])).toEqual([
      'flags[1].rules[0].percent: 150 is not a percentage: use 0 to 100',
    ]);
    expect(problems([variantFlag([{ variant: 'on', percent: -1 }])])).toEqual([
      'flags[0].rules[0].percent: -1 is not a percentage: use 0 to 100',
    ]);
  });

  test('fails when a percentage is not whole', () => {
    expect(problems([variantFlag([{ variant: 'on', percent: 2.5 }])])).toEqual([
      'flags[0].rules[0].percent: 2.5 is not a whole percentage: use a whole number from 0 to 100',
    ]);
  });

  test('fails when the percentages of a flag add up to more than 100', () => {
    const flags = [
      {
        name: 'f',
        variants: { a: { enabled: true }, b: { enabled: true }, off: { enabled: false } },
        default: 'off',
        rules: [
          { variant: 'a', percent: 60 },
          { variant: 'b', percent: 50 },
        ],
      },
    ];
    expect(problems(flags)).toEqual([
      'flags[0].rules[1].percent: the percentages add up to 110 (rules[0] 60 + rules[1] 50): keep their sum at most 100',
    ]);
  });

  test('fails when a rule references an unknown variant', () => {
    expect(problems([variantFlag([{ variant: 'onn', tenants: ['acme'] }])])).toEqual([
      'flags[0].rules[0].variant: "onn" is not one of its variants ("on", "off"): use one of them',
    ]);
  });

  test('fails when the default is not a variant', () => {
    expect(problems([{ name: 'f', variants: onOff, default: 'of', rules: [{ variant: 'on', percent: 5 }] }])).toEqual([
      'flags[0].default: "of" is not one of its variants ("on", "off"): use one of them',
    ]);
  });

  test('fails when a rule selects the default variant', () => {
    expect(
      problems([
        variantFlag([
          { variant: 'on', percent: 5 },
          { variant: 'off', tenants: ['acme'] },
        ]),
      ]),
    ).toEqual([
      'flags[0].rules[1].variant: "off" is the default variant, which users get when no rule matches (AppConfig gives the default variant no rule): select another variant or remove the rule',
    ]);
  });

  test('fails when two flags have the same name', () => {
    expect(
      problems([
        { name: 'a', default: false },
        { name: 'b', default: true },
        { name: 'a', default: true },
      ]),
    ).toEqual(['flags[2].name: "a" is already declared by [0]: give each flag a unique name']);
  });

  test('fails when a flag name is not an AppConfig key', () => {
    expect(problems([{ name: 'New-Checkout', default: false }])).toEqual([
      'flags[0].name: "New-Checkout" is not a valid flag name: start with a lower-case letter, then letters, digits, \'_\' or \'-\' (at most 64 characters), e.g. "new_checkout"',
    ]);
  });

  test('fails when a field is missing, unknown or of the wrong type, listing every problem at once', () => {
    expect(problems([{ default: 'yes', colour: 'red' }, 'x'])).toEqual([
      'flags[0].name: is missing: add it, e.g. "new_checkout"',
      'flags[0].default: "yes" is not true or false: a flag without "variants" is on or off; use true or false, or declare "variants"',
      'flags[0]: unknown field "colour": remove it or check the spelling (README, "Feature flags and limited rollout")',
      'flags[1]: "x" is not a flag: use an object, e.g. { "name": "new_checkout", "default": false }',
    ]);
    expect(problems({ name: 'a' })).toEqual([
      'flags: {"name":"a"} is not a list of flags: use [ { "name": "new_checkout", "default": false }, ... ]',
    ]);
  });

  test('fails when a rule selects nobody or mixes kinds', () => {
    expect(problems([variantFlag([{ variant: 'on' }])])).toEqual([
      'flags[0].rules[0]: selects nobody: give exactly one of "percent", "userIds", "tenants", or "attribute" with "values"',
    ]);
    expect(problems([variantFlag([{ variant: 'on', percent: 5, tenants: ['acme'] }])])).toEqual([
      'flags[0].rules[0]: mixes percent and tenants: give exactly one of "percent", "userIds", "tenants", or "attribute" with "values"',
    ]);
    expect(problems([variantFlag([{ variant: 'on', attribute: 'country' }])])).toEqual([
      'flags[0].rules[0].values: is missing: "attribute" and "values" go together, e.g. { "variant": "on", "attribute": "country", "values": ["DE"] }',
    ]);
  });

  test('fails when "by" is given without a percentage', () => {
    expect(problems([variantFlag([{ variant: 'on', tenants: ['acme'], by: 'tenant' }])])).toEqual([
      'flags[0].rules[0].by: "tenant" only applies to a "percent" rule: remove it or add "percent"',
    ]);
  });

  test('fails when percentage rules split by different attributes', () => {
    const flags = [
      {
        name: 'f',
        variants: { a: { enabled: true }, b: { enabled: true }, off: { enabled: false } },
        default: 'off',
        rules: [
          { variant: 'a', percent: 10 },
          { variant: 'b', percent: 10, by: 'tenant' },
        ],
      },
    ];
    expect(problems(flags)).toEqual([
      'flags[0].rules[1].by: "tenant" differs from rules[0], which splits by "userId": split all percentage rules of a flag by the same attribute',
    ]);
  });

  test('fails when a variant has two percentage rules', () => {
    expect(
      problems([
        variantFlag([
          { variant: 'on', percent: 5 },
          { variant: 'on', percent: 10 },
        ]),
      ]),
    ).toEqual(['flags[0].rules[1].percent: variant "on" already has a percentage in rules[0]: merge them into one rule']);
  });

  test('fails when the rules of a variant are not next to each other', () => {
    const flags = [
      {
        name: 'f',
        variants: { a: { enabled: true }, b: { enabled: true }, off: { enabled: false } },
        default: 'off',
        rules: [
          { variant: 'a', tenants: ['x'] },
          { variant: 'b', tenants: ['y'] },
          { variant: 'a', percent: 5 },
        ],
      },
    ];
    expect(problems(flags)).toEqual([
      'flags[0].rules[2].variant: "a" also has rules[0], and other variants\' rules sit between them: put the rules of a variant next to each other (AppConfig evaluates one rule per variant, in order)',
    ]);
  });

  test('fails when a variant is never selected', () => {
    const flags = [
      {
        name: 'f',
        variants: { a: { enabled: true }, unused: { enabled: true }, off: { enabled: false } },
        default: 'off',
        rules: [{ variant: 'a', percent: 5 }],
      },
    ];
    expect(problems(flags)).toEqual([
      'flags[0].variants.unused: no rule selects "unused" and it is not the default: add a rule for it or remove it',
    ]);
  });

  test('fails when a variant name, attribute name or attribute value is not usable', () => {
    const flags = [
      {
        name: 'f',
        variants: { 'bad name': { enabled: true }, off: { enabled: false, attributes: { enabled: true, ok: { nested: 1 } } } },
        default: 'off',
        rules: [{ variant: 'bad name', percent: 5 }],
      },
    ];
    expect(problems(flags)).toEqual([
      'flags[0].variants.off.attributes.ok: {"nested":1} is not an AppConfig attribute value: use a string (at most 1024 characters), a number, true/false, or a list of only strings or only numbers',
    ]);
    flags[0].variants.off.attributes = { enabled: true } as never;
    expect(problems(flags)).toEqual([
      "flags[0].variants.bad name: \"bad name\" is not a valid variant name: start with a letter or digit, then letters, digits, '_', '.' or '-' (at most 64), e.g. \"control\"",
      'flags[0].variants.off.attributes.enabled: "enabled" is not a valid attribute name: start with a lower-case letter, then letters, digits, \'_\' or \'-\' (at most 64), and do not use "enabled" (the agent returns it beside the attributes)',
    ]);
  });

  test('fails when variants give one attribute different types', () => {
    const flags = [
      {
        name: 'f',
        variants: { on: { enabled: true, attributes: { size: 3 } }, off: { enabled: false, attributes: { size: 'big' } } },
        default: 'off',
        rules: [{ variant: 'on', percent: 5 }],
      },
    ];
    expect(problems(flags)).toEqual([
      'flags[0].variants.off.attributes.size: "big" is a string but variant "on" gives a number: use the same type in every variant',
    ]);
  });

  test("fails when a value to match could not be sent in the agent's Context header", () => {
    expect(problems([variantFlag([{ variant: 'on', tenants: ['acme', 'a,b', 'say "hi"'] }])])).toEqual([
      "flags[0].rules[0].tenants[1]: \"a,b\" cannot be matched: use 1 to 256 characters without quotes, backslashes, ',' or '=' (the agent's Context header separates pairs with ',' and '=')",
      "flags[0].rules[0].tenants[2]: \"say \\\"hi\\\"\" cannot be matched: use 1 to 256 characters without quotes, backslashes, ',' or '=' (the agent's Context header separates pairs with ',' and '=')",
    ]);
    expect(problems([variantFlag([{ variant: 'on', userIds: [] }])])).toEqual([
      'flags[0].rules[0].userIds: is empty: list at least one value, e.g. ["user-123"]',
    ]);
  });

  test("fails when a variant's rules exceed AppConfig's 16384-character rule", () => {
    const tenants = Array.from({ length: 1200 }, (_, i) => `tenant-${String(i).padStart(5, '0')}`);
    expect(problems([variantFlag([{ variant: 'on', tenants }])])).toEqual([
      `flags[0].rules[0]: the rules of variant "on" render to ${`(in $tenant [${tenants.map((t) => JSON.stringify(t)).join(', ')}])`.length} characters, more than AppConfig's 16384: shorten the lists`,
    ]);
  });

  test('fails when a description is longer than AppConfig allows', () => {
    expect(problems([{ name: 'a', default: true, description: 'x'.repeat(1025) }])).toEqual([
      'flags[0].description: is 1025 characters long: AppConfig allows 1024, shorten it',
    ]);
  });

  test('names the source and lists the problems in the error message', () => {
    expect(() => parseServiceFlags([{ name: 'a', default: 1 }], { source: 'services/orders/flags.json' })).toThrow(
      'Invalid feature flags in services/orders/flags.json:\n  - flags[0].default: 1 is not true or false: a flag without "variants" is on or off; use true or false, or declare "variants"',
    );
  });
});

describe('rollouts', () => {
  test('all-at-once is one 100 % step; its bake defaults to 0', () => {
    expect(toAppConfigStrategy({ type: 'all-at-once' })).toEqual({
      growthType: 'LINEAR',
      growthFactor: 100,
      deploymentDurationInMinutes: 0,
      finalBakeTimeInMinutes: 0,
    });
    expect(toAppConfigStrategy({ type: 'all-at-once', bakeMinutes: 15 }).finalBakeTimeInMinutes).toBe(15);
  });

  test('linear: a step of `percent` every `intervalMinutes` is a duration of interval x 100 / percent', () => {
    expect(toAppConfigStrategy({ type: 'linear', percent: 20, intervalMinutes: 6, bakeMinutes: 30 })).toEqual({
      growthType: 'LINEAR',
      growthFactor: 20,
      deploymentDurationInMinutes: 30,
      finalBakeTimeInMinutes: 30,
    });
    // 30 % does not divide 100: AppConfig takes whole minutes, so the duration rounds up.
    expect(toAppConfigStrategy({ type: 'linear', percent: 30, intervalMinutes: 5, bakeMinutes: 0 }).deploymentDurationInMinutes).toBe(17);
  });

  test('describes a strategy for people', () => {
    expect(describeStrategy(toAppConfigStrategy({ type: 'linear', percent: 20, intervalMinutes: 6, bakeMinutes: 30 }))).toBe(
      'linear 20 % over 30 min, step every 6 min, bake 30 min',
    );
    expect(describeStrategy(toAppConfigStrategy({ type: 'all-at-once', bakeMinutes: 10 }))).toBe('all at once, bake 10 min');
  });

  const fails = (rollout: unknown, message: string) => expect(() => toAppConfigStrategy(rollout as never)).toThrow(message);

  test("fails when the deployment would exceed AppConfig's 1440 minutes", () => {
    fails(
      { type: 'linear', percent: 1, intervalMinutes: 15, bakeMinutes: 0 },
      "rollout.intervalMinutes: 15 minutes x 100 steps of 1 % take 1500 minutes, longer than AppConfig's 1440-minute deployment: use a shorter interval or a bigger step",
    );
  });

  test('fails when the bake is out of range', () => {
    fails(
      { type: 'all-at-once', bakeMinutes: 2000 },
      "rollout.bakeMinutes: 2000 minutes is longer than AppConfig's 1440-minute final bake: use at most 1440",
    );
    fails({ type: 'linear', percent: 10, intervalMinutes: 1 }, 'rollout.bakeMinutes: is missing: use 0 to 1440, e.g. 30');
  });

  test('fails when the step or the interval is out of range', () => {
    fails(
      { type: 'linear', percent: 0, intervalMinutes: 5, bakeMinutes: 0 },
      'rollout.percent: 0 is not a step: use 1 to 100 (percent of agents per step)',
    );
    fails(
      { type: 'linear', percent: 10, intervalMinutes: 0, bakeMinutes: 0 },
      'rollout.intervalMinutes: 0 minutes is too short: use 1 or more',
    );
  });

  test('fails when the type is unknown', () => {
    fails({ type: 'canary', percent: 10 }, 'rollout.type: "canary" is not a rollout type: use "all-at-once" or "linear"');
  });

  test('defaults by stage type bake at least as long as the default alarms take to fire', () => {
    expect(toAppConfigStrategy(DEFAULT_FLAG_ROLLOUTS['pre-production'])).toEqual({
      growthType: 'LINEAR',
      growthFactor: 100,
      deploymentDurationInMinutes: 0,
      finalBakeTimeInMinutes: 10,
    });
    expect(toAppConfigStrategy(DEFAULT_FLAG_ROLLOUTS.production)).toEqual({
      growthType: 'LINEAR',
      growthFactor: 20,
      deploymentDurationInMinutes: 30,
      finalBakeTimeInMinutes: 30,
    });
    const detectionMinutes = worstCaseDetectionSeconds(DEFAULT_ALARM_SETTINGS) / 60;
    for (const r of Object.values(DEFAULT_FLAG_ROLLOUTS))
      expect(toAppConfigStrategy(r).finalBakeTimeInMinutes).toBeGreaterThanOrEqual(detectionMinutes);
  });

  test('the rollout schema embeds in a configuration schema', () => {
    expect(flagRolloutSchema.parse({ type: 'linear', percent: 25, intervalMinutes: 10, bakeMinutes: 60 })).toEqual({
      type: 'linear',
      percent: 25,
      intervalMinutes: 10,
      bakeMinutes: 60,
    });
  });
});
