import { z } from 'zod';
import { showValue as show } from '../shared/limits';
import { APPCONFIG_LIMITS, AttributeValue, CONTEXT_KEY, CONTEXT_VALUE, FlagDeclaration, KEY } from './flag-types';
import { checkVariantFlag, normalizeRule } from './variant-checks';

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

type IssueInput = { input?: unknown };
const missingOr = (fix: string, otherwise: (i: IssueInput) => string) => (i: IssueInput) =>
  i.input === undefined ? `is missing: ${fix}` : otherwise(i);

const flagName = z
  .string({
    error: missingOr('add it, e.g. "new_checkout"', (i) => `${show(i.input)} is not a flag name: use a string, e.g. "new_checkout"`),
  })
  .regex(KEY, {
    error: (i) =>
      `${show(i.input)} is not a valid flag name: start with a lower-case letter, then letters, digits, '_' or '-' (at most 64 characters), e.g. "new_checkout"`,
  });

const description = z
  .string({ error: (i) => `${show(i.input)} is not a description: use a string` })
  .max(APPCONFIG_LIMITS.descriptionChars, {
    error: (i) => `is ${(i.input as string).length} characters long: AppConfig allows ${APPCONFIG_LIMITS.descriptionChars}, shorten it`,
  });

const contextKey = z
  .string({ error: (i) => `${show(i.input)} is not a context attribute name: use a string, e.g. "country"` })
  .regex(CONTEXT_KEY, {
    error: (i) =>
      `${show(i.input)} is not a valid context attribute name: start with a letter, then letters, digits or '_' (at most 64), e.g. "country"`,
  });

const contextValue = z
  .string({ error: (i) => `${show(i.input)} is not a value to match: use a string, e.g. "acme"` })
  .regex(CONTEXT_VALUE, {
    error: (i) =>
      `${show(i.input)} cannot be matched: use 1 to 256 characters without quotes, backslashes, ',' or '=' (the agent's Context header separates pairs with ',' and '=')`,
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
    (Array.isArray(v) &&
      (v.every((e) => typeof e === 'string' && e.length <= APPCONFIG_LIMITS.stringAttributeChars) ||
        v.every((e) => typeof e === 'number' && Number.isFinite(e))));
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
    enabled: z.boolean({
      error: missingOr('add "enabled": true or false', (i) => `${show(i.input)} is not true or false: use true or false`),
    }),
    /** Values the service reads with the flag (AppConfig attribute values). */
    attributes: z
      .record(z.string(), attributeValue, { error: (i) => `${show(i.input)} is not an object: use { "name": value, ... }` })
      .optional(),
  },
  { error: unknownOrNotObject('a variant', '{ "enabled": true }') },
);

export const ruleSchema = z.strictObject(
  {
    /** The variant users matching this rule get. */
    variant: z.string({
      error: missingOr('name the variant this rule selects', (i) => `${show(i.input)} is not a variant name: use a string`),
    }),
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
    default: z.boolean({
      error: missingOr(
        'add "default": true or false',
        (i) => `${show(i.input)} is not true or false: a flag without "variants" is on or off; use true or false, or declare "variants"`,
      ),
    }),
  },
  { error: unknownOrNotObject('a flag', '{ "name": "new_checkout", "default": false }') },
);

export const variantFlagSchema = z.strictObject(
  {
    name: flagName,
    description: description.optional(),
    /** The variants by name. */
    variants: z.record(z.string(), variantSchema, {
      error: (i) => `${show(i.input)} is not an object: use { "<variant>": { "enabled": true }, ... }`,
    }),
    /** The variant users get when no rule matches. */
    default: z.string({
      error: missingOr(
        'name the variant users get when no rule matches',
        (i) => `${show(i.input)} is not a variant name: use the name of one of "variants"`,
      ),
    }),
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

/** A flag as written in JSON, before validation. */
export type FlagDeclarationInput = z.input<typeof booleanFlagSchema> | z.input<typeof variantFlagSchema>;

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
    variants: Object.fromEntries(
      Object.entries(flag.variants).map(([n, v]) => [n, { enabled: v.enabled, attributes: v.attributes ?? {} }]),
    ),
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
      else
        ctx.addIssue({
          code: 'custom',
          path: [i, 'name'],
          input: f.name,
          message: `${show(f.name)} is already declared by [${seen}]: give each flag a unique name`,
        });
    });
  });

/** The shape of `services/<name>/flags.json`. */
export const flagsFileSchema = z.strictObject(
  { flags: serviceFlagsSchema },
  { error: unknownOrNotObject('a flags file', '{ "flags": [ ... ] }') },
);

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
  throw new FlagDeclarationError(
    options.source ?? 'flag declarations',
    result.error.issues.map((issue) => describeFlagIssue(issue, root)),
  );
}

/** `flags[1].rules[0].percent: 150 is not a percentage: use 0 to 100` */
export function describeFlagIssue(issue: z.core.$ZodIssue, root = 'flags'): string {
  const where = issue.path.reduce<string>((acc, k) => (typeof k === 'number' ? `${acc}[${k}]` : `${acc}.${String(k)}`), root);
  if (issue.code === 'unrecognized_keys' && issue.message.startsWith('Unrecognized')) {
    return `${where}: unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map(show).join(', ')}: remove ${issue.keys.length > 1 ? 'them' : 'it'} or check the spelling`;
  }
  return `${where}: ${issue.message}`;
}
