import { createHash } from 'node:crypto';
import { z } from 'zod';

/**
 * A service's feature flags as its team declares them (`services[].flags` in the configuration, or
 * `services/<name>/flags.json`), validated with messages that name the field, the value and the
 * fix, and rendered to the AWS AppConfig feature-flag document (`AWS.AppConfig.FeatureFlags`,
 * format version 1).
 *
 * Declaration format, one entry per flag:
 *   { "name": "new_checkout", "description": "...", "default": false }            boolean flag
 *   { "name": "checkout_flow", "variants": { "control": { "enabled": false },       multi-variant flag
 *       "new": { "enabled": true, "attributes": { "theme": "dark" } } },
 *     "default": "control",
 *     "rules": [ { "variant": "new", "tenants": ["acme"] },                        first match wins
 *                { "variant": "new", "percent": 5 } ] }                            5 % of users by userId
 *
 * AppConfig facts this relies on (checked 2026-11):
 * - Document schema: flag and attribute keys match ^[a-z][a-zA-Z\d_-]{0,63}$, names at most 64
 *   characters, at most 25 attributes, a variant rule at most 16384 characters, `version` "1".
 *   https://docs.aws.amazon.com/appconfig/latest/userguide/appconfig-type-reference-feature-flags.html
 * - Variants are evaluated in order, the first whose rule matches wins; the default variant comes
 *   last and has no rule.
 *   https://docs.aws.amazon.com/appconfig/latest/userguide/appconfig-creating-multi-variant-feature-flags-concepts.html
 * - Rule operators `in`, `split pct::N by::$key seed::"s"`, `or`. `split` hashes the context value,
 *   so two split rules of one flag overlap: `A: pct::20, B: pct::25` gives A 20 % and B 5 %. A
 *   declared share is therefore rendered cumulatively. With a seed, the same user lands in the same
 *   bucket in every profile and account, so a user in the 5 % of Beta is in the 5 % of Prod.
 *   https://docs.aws.amazon.com/appconfig/latest/userguide/appconfig-creating-multi-variant-feature-flags-rules.html
 *   https://docs.aws.amazon.com/appconfig/latest/userguide/appconfig-creating-multi-variant-feature-flags-rules-operators.html
 */

/** AppConfig's key pattern for flags and attributes (type reference, `patternProperties`). */
const KEY = /^[a-z][a-zA-Z\d_-]{0,63}$/;
/** Stricter than AppConfig's `^[^\n]{1,64}$`: variant names appear in logs, metrics and the agent's `_variant`. */
const VARIANT_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
/** A context key: `$key` in a rule and `key=value` in the agent's Context header. */
const CONTEXT_KEY = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;
/**
 * A value a rule compares with. The agent's Context header is `key=value[,key=value]`, so a value
 * with ',' or '=' could not be sent; quotes, backslashes and control characters would need escaping
 * in the rule language, which its documentation does not describe.
 */
const CONTEXT_VALUE = /^[^",=\\\u0000-\u001f\u007f]{1,256}$/;
/** AppConfig limits: `rule` maxLength, attributes per flag, variants per flag (the schema's `maxLength: 32` on `_variants`). */
export const APPCONFIG_LIMITS = { ruleChars: 16384, attributes: 25, variants: 32, stringAttributeChars: 1024, descriptionChars: 1024 } as const;
/** Context keys the sugar fields `userIds` and `tenants` compare, and `percent` splits by unless `by` says otherwise. */
export const CONTEXT_KEYS = { userId: 'userId', tenant: 'tenant' } as const;

const show = (v: unknown) => JSON.stringify(v);
type IssueInput = { input?: unknown };
const missingOr = (fix: string, otherwise: (i: IssueInput) => string) => (i: IssueInput) => (i.input === undefined ? `is missing: ${fix}` : otherwise(i));

const flagName = z
  .string({ error: missingOr('add it, e.g. "new_checkout"', (i) => `${show(i.input)} is not a flag name: use a string, e.g. "new_checkout"`) })
  .regex(KEY, {
    error: (i) => `${show(i.input)} is not a valid flag name: start with a lower-case letter, then letters, digits, '_' or '-' (at most 64 characters), e.g. "new_checkout"`,
  });

const description = z
  .string({ error: (i) => `${show(i.input)} is not a description: use a string` })
  .max(APPCONFIG_LIMITS.descriptionChars, { error: (i) => `is ${(i.input as string).length} characters long: AppConfig allows ${APPCONFIG_LIMITS.descriptionChars}, shorten it` });

const contextKey = z
  .string({ error: (i) => `${show(i.input)} is not a context attribute name: use a string, e.g. "country"` })
  .regex(CONTEXT_KEY, { error: (i) => `${show(i.input)} is not a valid context attribute name: start with a letter, then letters, digits or '_' (at most 64), e.g. "country"` });

const contextValue = z
  .string({ error: (i) => `${show(i.input)} is not a value to match: use a string, e.g. "acme"` })
  .regex(CONTEXT_VALUE, {
    error: (i) => `${show(i.input)} cannot be matched: use 1 to 256 characters without quotes, backslashes, ',' or '=' (the agent's Context header separates pairs with ',' and '=')`,
  });

const valueList = (example: string) =>
  z
    .array(contextValue, { error: (i) => `${show(i.input)} is not a list: use a list of strings, e.g. [${show(example)}]` })
    .min(1, { error: `is empty: list at least one value, e.g. [${show(example)}]` });

const percent = z
  .number({ error: (i) => `${show(i.input)} is not a percentage: use a whole number from 0 to 100` })
  .int({ error: (i) => `${show(i.input)} is not a whole percentage: use a whole number from 0 to 100` })
  .min(0, { error: (i) => `${show(i.input)} is not a percentage: use 0 to 100` })
  .max(100, { error: (i) => `${show(i.input)} is not a percentage: use 0 to 100` });

/** An attribute value AppConfig accepts: a string of at most 1024 characters, a number, a boolean, or a list of strings or of numbers. */
const attributeValue = z.unknown().superRefine((v, ctx) => {
  const ok =
    (typeof v === 'string' && v.length <= APPCONFIG_LIMITS.stringAttributeChars) ||
    (typeof v === 'number' && Number.isFinite(v)) ||
    typeof v === 'boolean' ||
    (Array.isArray(v) && (v.every((e) => typeof e === 'string' && e.length <= APPCONFIG_LIMITS.stringAttributeChars) || v.every((e) => typeof e === 'number' && Number.isFinite(e))));
  if (!ok) {
    ctx.addIssue({
      code: 'custom',
      input: v,
      message: `${show(v)} is not an AppConfig attribute value: use a string (at most ${APPCONFIG_LIMITS.stringAttributeChars} characters), a number, true/false, or a list of only strings or only numbers`,
    });
  }
}) as unknown as z.ZodType<AttributeValue>;

const variantSchema = z.strictObject(
  {
    /** Whether the flag is on for users who get this variant. */
    enabled: z.boolean({ error: missingOr('add "enabled": true or false', (i) => `${show(i.input)} is not true or false: use true or false`) }),
    /** Values the service reads with the flag (AppConfig attribute values). */
    attributes: z.record(z.string(), attributeValue, { error: (i) => `${show(i.input)} is not an object: use { "name": value, ... }` }).optional(),
  },
  { error: unknownOrNotObject('a variant', '{ "enabled": true }') },
);

const ruleSchema = z.strictObject(
  {
    /** The variant users matching this rule get. */
    variant: z.string({ error: missingOr('name the variant this rule selects', (i) => `${show(i.input)} is not a variant name: use a string`) }),
    /** Share of all users, by a consistent hash of the `by` context value. */
    percent: percent.optional(),
    /** Context attribute `percent` splits by. */
    by: contextKey.optional(),
    /** Users (context `userId`) that get the variant. */
    userIds: valueList('user-123').optional(),
    /** Tenants (context `tenant`) that get the variant. */
    tenants: valueList('acme').optional(),
    /** Any context attribute, with `values`. */
    attribute: contextKey.optional(),
    /** Values of `attribute` that get the variant. */
    values: valueList('DE').optional(),
  },
  { error: unknownOrNotObject('a rule', '{ "variant": "on", "percent": 5 }') },
);

const booleanFlagSchema = z.strictObject(
  {
    name: flagName,
    description: description.optional(),
    /** On or off for everyone. */
    default: z.boolean({ error: missingOr('add "default": true or false', (i) => `${show(i.input)} is not true or false: a flag without "variants" is on or off; use true or false, or declare "variants"`) }),
  },
  { error: unknownOrNotObject('a flag', '{ "name": "new_checkout", "default": false }') },
);

const variantFlagSchema = z.strictObject(
  {
    name: flagName,
    description: description.optional(),
    /** The variants by name. */
    variants: z.record(z.string(), variantSchema, { error: (i) => `${show(i.input)} is not an object: use { "<variant>": { "enabled": true }, ... }` }),
    /** The variant users get when no rule matches. */
    default: z.string({ error: missingOr('name the variant users get when no rule matches', (i) => `${show(i.input)} is not a variant name: use the name of one of "variants"`) }),
    /** Evaluated in order; the first that matches selects its variant. */
    rules: z.array(ruleSchema, { error: (i) => `${show(i.input)} is not a list: use a list of rules` }).default([]),
  },
  { error: unknownOrNotObject('a flag', '{ "name": "checkout_flow", "variants": { ... }, "default": "control" }') },
);

function unknownOrNotObject(what: string, example: string) {
  return (i: { code?: string; input?: unknown; keys?: string[] }) =>
    i.code === 'unrecognized_keys'
      ? `unknown field${i.keys!.length > 1 ? 's' : ''} ${i.keys!.map(show).join(', ')}: remove ${i.keys!.length > 1 ? 'them' : 'it'} or check the spelling (README, "Feature flags and limited rollout")`
      : `${show(i.input)} is not ${what}: use an object, e.g. ${example}`;
}

/** A value a flag variant carries to the service. */
export type AttributeValue = string | number | boolean | string[] | number[];

/** One variant: on or off, and the values it carries. */
export interface FlagVariant {
  readonly enabled: boolean;
  readonly attributes: Readonly<Record<string, AttributeValue>>;
}

/** How a rule picks users, normalized from the declaration. */
export type FlagRule =
  | { readonly variant: string; readonly kind: 'percent'; readonly percent: number; readonly by: string }
  | { readonly variant: string; readonly kind: 'match'; readonly attribute: string; readonly values: readonly string[] };

/** A flag that is on or off for everyone. */
export interface BooleanFlag {
  readonly kind: 'boolean';
  readonly name: string;
  readonly description?: string;
  readonly default: boolean;
}

/** A flag whose variant depends on the caller's context. */
export interface MultiVariantFlag {
  readonly kind: 'multi-variant';
  readonly name: string;
  readonly description?: string;
  readonly variants: Readonly<Record<string, FlagVariant>>;
  readonly default: string;
  readonly rules: readonly FlagRule[];
}

/** A validated flag declaration. */
export type FlagDeclaration = BooleanFlag | MultiVariantFlag;

/** A flag as written in JSON, before validation. */
export type FlagDeclarationInput =
  | z.input<typeof booleanFlagSchema>
  | z.input<typeof variantFlagSchema>;

/** One flag: multi-variant when it has `variants`, boolean otherwise. */
export const flagSchema: z.ZodType<FlagDeclaration, FlagDeclarationInput> = z.unknown().transform((input, ctx): FlagDeclaration => {
  const isVariantFlag = typeof input === 'object' && input !== null && !Array.isArray(input) && 'variants' in input;
  const result = (isVariantFlag ? variantFlagSchema : booleanFlagSchema).safeParse(input, { reportInput: true });
  if (!result.success) {
    for (const issue of result.error.issues) ctx.addIssue({ ...issue } as Parameters<typeof ctx.addIssue>[0]);
    return z.NEVER;
  }
  if (!isVariantFlag) return { kind: 'boolean', ...(result.data as z.output<typeof booleanFlagSchema>) };
  const flag = result.data as z.output<typeof variantFlagSchema>;
  const before = ctx.issues.length;
  checkVariantFlag(flag, (path, message) => ctx.addIssue({ code: 'custom', path, message, input: undefined }));
  if (ctx.issues.length > before) return z.NEVER;
  return {
    kind: 'multi-variant',
    name: flag.name,
    description: flag.description,
    default: flag.default,
    variants: Object.fromEntries(Object.entries(flag.variants).map(([n, v]) => [n, { enabled: v.enabled, attributes: v.attributes ?? {} }])),
    rules: flag.rules.map(normalizeRule),
  };
}) as z.ZodType<FlagDeclaration, FlagDeclarationInput>;

/** A service's flags; place it at `services[].flags` in the configuration schema. */
export const serviceFlagsSchema = z
  .array(flagSchema, { error: (i) => `${show(i.input)} is not a list of flags: use [ { "name": "new_checkout", "default": false }, ... ]` })
  .superRefine((flags, ctx) => {
    const first = new Map<string, number>();
    flags.forEach((f, i) => {
      const seen = first.get(f.name);
      if (seen === undefined) first.set(f.name, i);
      else ctx.addIssue({ code: 'custom', path: [i, 'name'], input: f.name, message: `${show(f.name)} is already declared by [${seen}]: give each flag a unique name` });
    });
  });

/** The shape of `services/<name>/flags.json`. */
export const flagsFileSchema = z.strictObject({ flags: serviceFlagsSchema }, { error: unknownOrNotObject('a flags file', '{ "flags": [ ... ] }') });

type RawRule = z.output<typeof ruleSchema>;

function normalizeRule(r: RawRule): FlagRule {
  if (r.percent !== undefined) return { variant: r.variant, kind: 'percent', percent: r.percent, by: r.by ?? CONTEXT_KEYS.userId };
  if (r.userIds) return { variant: r.variant, kind: 'match', attribute: CONTEXT_KEYS.userId, values: r.userIds };
  if (r.tenants) return { variant: r.variant, kind: 'match', attribute: CONTEXT_KEYS.tenant, values: r.tenants };
  return { variant: r.variant, kind: 'match', attribute: r.attribute!, values: r.values! };
}

/** The checks that need the whole flag: names, references, shares, types and AppConfig's limits. */
function checkVariantFlag(flag: z.output<typeof variantFlagSchema>, report: (path: PropertyKey[], message: string) => void): void {
  let problems = 0;
  const problem = (path: PropertyKey[], message: string) => {
    problems++;
    report(path, message);
  };
  const names = Object.keys(flag.variants);
  const listed = names.map((n) => show(n)).join(', ');
  for (const n of names) {
    if (!VARIANT_NAME.test(n)) {
      problem(['variants', n], `${show(n)} is not a valid variant name: start with a letter or digit, then letters, digits, '_', '.' or '-' (at most 64), e.g. "control"`);
    }
  }
  if (names.length > APPCONFIG_LIMITS.variants) {
    problem(['variants'], `${names.length} variants are more than AppConfig's ${APPCONFIG_LIMITS.variants} per flag: remove some`);
  }
  if (!(flag.default in flag.variants)) {
    problem(['default'], `${show(flag.default)} is not one of its variants (${listed || 'none declared'}): use one of them`);
  }

  // Attributes: AppConfig names, at most 25, and one type per attribute across variants.
  const typeOf = new Map<string, { type: string; variant: string }>();
  for (const [vName, v] of Object.entries(flag.variants)) {
    const attrs = Object.entries(v.attributes ?? {});
    if (attrs.length > APPCONFIG_LIMITS.attributes) {
      problem(['variants', vName, 'attributes'], `${attrs.length} attributes are more than AppConfig's ${APPCONFIG_LIMITS.attributes} per flag: remove some`);
    }
    for (const [aName, value] of attrs) {
      if (!KEY.test(aName) || aName === 'enabled') {
        problem(['variants', vName, 'attributes', aName], `${show(aName)} is not a valid attribute name: start with a lower-case letter, then letters, digits, '_' or '-' (at most 64), and do not use "enabled" (the agent returns it beside the attributes)`);
        continue;
      }
      const type = attributeType(value);
      const seen = typeOf.get(aName);
      if (!seen) typeOf.set(aName, { type, variant: vName });
      else if (seen.type !== type) {
        problem(['variants', vName, 'attributes', aName], `${show(value)} is ${type} but variant ${show(seen.variant)} gives ${seen.type}: use the same type in every variant`);
      }
    }
  }
  if (typeOf.size > APPCONFIG_LIMITS.attributes) {
    problem(['variants'], `the variants declare ${typeOf.size} attributes, more than AppConfig's ${APPCONFIG_LIMITS.attributes} per flag: remove some`);
  }

  // Rules: known variants, not the default, one kind each, contiguous per variant, shares within 100 %.
  const lastRuleOf = new Map<string, number>();
  const percentRuleOf = new Map<string, number>();
  let splitBy: { by: string; at: number } | undefined;
  let total = 0;
  const shares: string[] = [];
  flag.rules.forEach((r, i) => {
    const at = (field?: string) => (field ? ['rules', i, field] : ['rules', i]);
    const kinds = [r.percent !== undefined && 'percent', r.userIds && 'userIds', r.tenants && 'tenants', (r.attribute !== undefined || r.values !== undefined) && 'attribute'].filter(Boolean);
    if (kinds.length !== 1) {
      problem(at(), `${kinds.length === 0 ? 'selects nobody' : `mixes ${kinds.join(' and ')}`}: give exactly one of "percent", "userIds", "tenants", or "attribute" with "values"`);
      return;
    }
    if ((r.attribute === undefined) !== (r.values === undefined)) {
      const missing = r.attribute === undefined ? 'attribute' : 'values';
      problem(at(missing), `is missing: "attribute" and "values" go together, e.g. { "variant": "on", "attribute": "country", "values": ["DE"] }`);
      return;
    }
    if (r.by !== undefined && r.percent === undefined) {
      problem(at('by'), `${show(r.by)} only applies to a "percent" rule: remove it or add "percent"`);
    }
    if (!(r.variant in flag.variants)) {
      problem(at('variant'), `${show(r.variant)} is not one of its variants (${listed}): use one of them`);
      return;
    }
    if (r.variant === flag.default) {
      problem(at('variant'), `${show(r.variant)} is the default variant, which users get when no rule matches (AppConfig gives the default variant no rule): select another variant or remove the rule`);
      return;
    }
    const previous = lastRuleOf.get(r.variant);
    if (previous !== undefined && previous !== i - 1) {
      problem(at('variant'), `${show(r.variant)} also has rules[${previous}], and other variants' rules sit between them: put the rules of a variant next to each other (AppConfig evaluates one rule per variant, in order)`);
    }
    lastRuleOf.set(r.variant, i);
    if (r.percent !== undefined) {
      const other = percentRuleOf.get(r.variant);
      if (other !== undefined) problem(at('percent'), `variant ${show(r.variant)} already has a percentage in rules[${other}]: merge them into one rule`);
      percentRuleOf.set(r.variant, i);
      const by = r.by ?? CONTEXT_KEYS.userId;
      if (splitBy && splitBy.by !== by) {
        problem(at('by'), `${show(by)} differs from rules[${splitBy.at}], which splits by ${show(splitBy.by)}: split all percentage rules of a flag by the same attribute`);
      }
      splitBy ??= { by, at: i };
      total += r.percent;
      shares.push(`rules[${i}] ${r.percent}`);
      if (total > 100) {
        problem(at('percent'), `the percentages add up to ${total} (${shares.join(' + ')}): keep their sum at most 100`);
      }
    }
  });
  // Unused variants only once the rules and the default are right: a misspelt reference would report both.
  if (problems > 0) return;
  for (const n of names) {
    if (n !== flag.default && !lastRuleOf.has(n)) {
      problem(['variants', n], `no rule selects ${show(n)} and it is not the default: add a rule for it or remove it`);
    }
  }
  if (problems > 0) return;
  for (const [variant, rule] of renderRules({ name: flag.name, rules: flag.rules.map(normalizeRule) })) {
    if (rule.length > APPCONFIG_LIMITS.ruleChars) {
      problem(['rules', lastRuleOf.get(variant) ?? 0], `the rules of variant ${show(variant)} render to ${rule.length} characters, more than AppConfig's ${APPCONFIG_LIMITS.ruleChars}: shorten the lists`);
    }
  }
}

function attributeType(v: AttributeValue): string {
  if (Array.isArray(v)) return v.length > 0 && typeof v[0] === 'number' ? 'a list of numbers' : 'a list of strings';
  return typeof v === 'string' ? 'a string' : typeof v === 'number' ? 'a number' : 'a boolean';
}

/** A declaration that cannot be used; `problems` are `flags[1].rules[0].percent: ...` lines. */
export class FlagDeclarationError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`Invalid feature flags in ${source}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'FlagDeclarationError';
  }
}

/**
 * Validates a service's flag list (the value of `flags`); throws FlagDeclarationError listing every
 * problem as `<root>[i].field: value ...: fix`.
 */
export function parseServiceFlags(input: unknown, options: { source?: string; root?: string } = {}): FlagDeclaration[] {
  const result = serviceFlagsSchema.safeParse(input, { reportInput: true });
  if (result.success) return result.data;
  const root = options.root ?? 'flags';
  throw new FlagDeclarationError(options.source ?? 'flag declarations', result.error.issues.map((issue) => describeFlagIssue(issue, root)));
}

/** `flags[1].rules[0].percent: 150 is not a percentage: use 0 to 100` */
export function describeFlagIssue(issue: z.core.$ZodIssue, root = 'flags'): string {
  const where = issue.path.reduce<string>((acc, k) => (typeof k === 'number' ? `${acc}[${k}]` : `${acc}.${String(k)}`), root);
  if (issue.code === 'unrecognized_keys' && issue.message.startsWith('Unrecognized')) {
    return `${where}: unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map(show).join(', ')}: remove ${issue.keys.length > 1 ? 'them' : 'it'} or check the spelling`;
  }
  return `${where}: ${issue.message}`;
}

/** The `_variants` rule of each non-default variant, in evaluation order. */
function renderRules(flag: { name: string; rules: readonly FlagRule[] }): Array<[string, string]> {
  const groups: Array<[string, string[]]> = [];
  let cumulative = 0;
  for (const r of flag.rules) {
    let group = groups[groups.length - 1];
    if (!group || group[0] !== r.variant) groups.push((group = [r.variant, []]));
    if (r.kind === 'percent') {
      // Splits share one hash, so this variant's users are those between the previous variants' total and this one's.
      cumulative += r.percent;
      group[1].push(`(split pct::${cumulative} by::$${r.by} seed::${show(flag.name)})`);
    } else {
      group[1].push(`(in $${r.attribute} [${r.values.map(show).join(', ')}])`);
    }
  }
  return groups.map(([variant, parts]) => [variant, parts.length === 1 ? parts[0] : `(or ${parts.join(' ')})`]);
}

/** The AppConfig feature-flag document (type `AWS.AppConfig.FeatureFlags`, version 1) as a JavaScript object. */
export function featureFlagsDocument(flags: readonly FlagDeclaration[]): Record<string, unknown> {
  const definitions: Record<string, unknown> = {};
  const values: Record<string, unknown> = {};
  for (const f of flags) {
    if (f.kind === 'boolean') {
      definitions[f.name] = { name: f.name, ...(f.description ? { description: f.description } : {}) };
      values[f.name] = { enabled: f.default };
      continue;
    }
    const attributes: Record<string, unknown> = {};
    for (const v of Object.values(f.variants)) {
      for (const [name, value] of Object.entries(v.attributes)) attributes[name] ??= { constraints: constraintsOf(value) };
    }
    definitions[f.name] = {
      name: f.name,
      ...(f.description ? { description: f.description } : {}),
      ...(Object.keys(attributes).length > 0 ? { attributes } : {}),
    };
    const variant = (name: string, rule?: string) => ({
      name,
      enabled: f.variants[name].enabled,
      ...(rule ? { rule } : {}),
      ...(Object.keys(f.variants[name].attributes).length > 0 ? { attributeValues: f.variants[name].attributes } : {}),
    });
    values[f.name] = { _variants: [...renderRules(f).map(([name, rule]) => variant(name, rule)), variant(f.default)] };
  }
  return { version: '1', flags: definitions, values };
}

function constraintsOf(value: AttributeValue): Record<string, unknown> {
  if (Array.isArray(value)) return { type: 'array', elements: { type: value.length > 0 && typeof value[0] === 'number' ? 'number' : 'string' } };
  return { type: typeof value === 'string' ? 'string' : typeof value === 'number' ? 'number' : 'boolean' };
}

/**
 * The document as bytes: object keys sorted at every level (list order kept, since variant order is
 * evaluation order), so the same flags always render the same content, whatever order the file
 * lists them in, and only a real change makes a new AppConfig version.
 */
export function renderFeatureFlagsDocument(flags: readonly FlagDeclaration[]): string {
  return `${JSON.stringify(sortKeys(featureFlagsDocument(flags)), null, 2)}\n`;
}

/** SHA-256 (hex) of the rendered document; names the content in descriptions. */
export function featureFlagsDigest(content: string): string {
  return createHash('sha256').update(content).digest('hex');
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value).sort().map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]));
  }
  return value;
}
