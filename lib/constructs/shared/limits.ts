import { z } from 'zod';

/**
 * How a limit is written once and checked twice: a zod field whose every failure gives one message
 * ("<value> is ...: use ..."), embedded by the config schema (which prefixes the config path) and
 * applied by the construct to its props (prefixed with the prop's name by `fieldProblem`).
 */

/** A value as the messages quote it: JSON, so strings keep their quotes. */
export const showValue = (v: unknown): string => JSON.stringify(v);

/** A number field whose every failure (wrong type included) gives the same fix-it message. */
export function numberField(ok: (v: number) => boolean, message: (v: unknown) => string) {
  return z.number({ error: (i) => message(i.input) }).refine((v) => Number.isFinite(v) && ok(v), { error: (i) => message(i.input) });
}

/** A whole number from `min` to `max`, with `message` for anything else. */
export function wholeNumberField(min: number, max: number, message: (v: unknown) => string) {
  return numberField((v) => Number.isInteger(v) && v >= min && v <= max, message);
}

/** A string field matching `pattern`, with `message` for anything else. */
export function patternField(pattern: RegExp, message: (v: unknown) => string) {
  return z.string({ error: (i) => message(i.input) }).regex(pattern, { error: (i) => message(i.input) });
}

/** `<field>: <message>` when `value` breaks `schema`, else undefined (undefined values pass). */
export function fieldProblem(field: string, schema: z.ZodType, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  const parsed = schema.safeParse(value);
  return parsed.success ? undefined : `${field}: ${parsed.error.issues[0].message}`;
}
