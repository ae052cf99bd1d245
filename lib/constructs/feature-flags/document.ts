import { createHash } from 'node:crypto';
import { showValue as show } from '../shared/limits';
import type { AttributeValue, FlagDeclaration, FlagRule } from './flag-types';

/**
 * The AppConfig feature-flag document (`AWS.AppConfig.FeatureFlags`, format version 1) of validated
 * flags, rendered byte-stable so that only a real change makes a new hosted version.
 */

/** The `_variants` rule of each non-default variant, in evaluation order. */
export function renderRules(flag: { name: string; rules: readonly FlagRule[] }): Array<[string, string]> {
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
  if (Array.isArray(value))
    return { type: 'array', elements: { type: value.length > 0 && typeof value[0] === 'number' ? 'number' : 'string' } };
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
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}
