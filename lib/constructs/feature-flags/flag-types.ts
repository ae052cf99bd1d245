/** The declared flags' types and AppConfig's limits on them (shared by the schema, its checks and the renderer). */

/** AppConfig's key pattern for flags and attributes (type reference, `patternProperties`). */
export const KEY = /^[a-z][a-zA-Z\d_-]{0,63}$/;
/** Stricter than AppConfig's `^[^\n]{1,64}$`: variant names appear in logs, metrics and the agent's `_variant`. */
export const VARIANT_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
/** A context key: `$key` in a rule and `key=value` in the agent's Context header. */
export const CONTEXT_KEY = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;
/**
 * A value a rule compares with. The agent's Context header is `key=value[,key=value]`, so a value
 * with ',' or '=' could not be sent; quotes, backslashes and control characters would need escaping
 * in the rule language, which its documentation does not describe.
 */
// eslint-disable-next-line no-control-regex -- control characters cannot appear in a rule's string literal
export const CONTEXT_VALUE = /^[^",=\\\u0000-\u001f\u007f]{1,256}$/;
/** AppConfig limits: `rule` maxLength, attributes per flag, variants per flag (the schema's `maxLength: 32` on `_variants`). */
export const APPCONFIG_LIMITS = {
  ruleChars: 16384,
  attributes: 25,
  variants: 32,
  stringAttributeChars: 1024,
  descriptionChars: 1024,
} as const;
/** Context keys the sugar fields `userIds` and `tenants` compare, and `percent` splits by unless `by` says otherwise. */
export const CONTEXT_KEYS = { userId: 'userId', tenant: 'tenant' } as const;

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
