import type { z } from 'zod';
import { showValue as show } from '../shared/limits';
import { renderRules } from './document';
import { APPCONFIG_LIMITS, AttributeValue, CONTEXT_KEYS, FlagRule, KEY, VARIANT_NAME } from './flag-types';
import type { ruleSchema, variantFlagSchema } from './schema';

/** The checks of a multi-variant flag that need the whole flag, and the normalization of its rules. */

type RawRule = z.output<typeof ruleSchema>;

export function normalizeRule(r: RawRule): FlagRule {
  if (r.percent !== undefined) return { variant: r.variant, kind: 'percent', percent: r.percent, by: r.by ?? CONTEXT_KEYS.userId };
  if (r.userIds) return { variant: r.variant, kind: 'match', attribute: CONTEXT_KEYS.userId, values: r.userIds };
  if (r.tenants) return { variant: r.variant, kind: 'match', attribute: CONTEXT_KEYS.tenant, values: r.tenants };
  return { variant: r.variant, kind: 'match', attribute: r.attribute!, values: r.values! };
}

/** The checks that need the whole flag: names, references, shares, types and AppConfig's limits. */
export function checkVariantFlag(flag: z.output<typeof variantFlagSchema>, report: (path: PropertyKey[], message: string) => void): void {
  let problems = 0;
  const problem = (path: PropertyKey[], message: string) => {
    problems++;
    report(path, message);
  };
  const names = Object.keys(flag.variants);
  const listed = names.map((n) => show(n)).join(', ');
  for (const n of names) {
    if (!VARIANT_NAME.test(n)) {
      problem(
        ['variants', n],
        `${show(n)} is not a valid variant name: start with a letter or digit, then letters, digits, '_', '.' or '-' (at most 64), e.g. "control"`,
      );
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
      problem(
        ['variants', vName, 'attributes'],
        `${attrs.length} attributes are more than AppConfig's ${APPCONFIG_LIMITS.attributes} per flag: remove some`,
      );
    }
    for (const [aName, value] of attrs) {
      if (!KEY.test(aName) || aName === 'enabled') {
        problem(
          ['variants', vName, 'attributes', aName],
          `${show(aName)} is not a valid attribute name: start with a lower-case letter, then letters, digits, '_' or '-' (at most 64), and do not use "enabled" (the agent returns it beside the attributes)`,
        );
        continue;
      }
      const type = attributeType(value);
      const seen = typeOf.get(aName);
      if (!seen) typeOf.set(aName, { type, variant: vName });
      else if (seen.type !== type) {
        problem(
          ['variants', vName, 'attributes', aName],
          `${show(value)} is ${type} but variant ${show(seen.variant)} gives ${seen.type}: use the same type in every variant`,
        );
      }
    }
  }
  if (typeOf.size > APPCONFIG_LIMITS.attributes) {
    problem(
      ['variants'],
      `the variants declare ${typeOf.size} attributes, more than AppConfig's ${APPCONFIG_LIMITS.attributes} per flag: remove some`,
    );
  }

  // Rules: known variants, not the default, one kind each, contiguous per variant, shares within 100 %.
  const lastRuleOf = new Map<string, number>();
  const percentRuleOf = new Map<string, number>();
  let splitBy: { by: string; at: number } | undefined;
  let total = 0;
  const shares: string[] = [];
  flag.rules.forEach((r, i) => {
    const at = (field?: string) => (field ? ['rules', i, field] : ['rules', i]);
    const kinds = [
      r.percent !== undefined && 'percent',
      r.userIds && 'userIds',
      r.tenants && 'tenants',
      (r.attribute !== undefined || r.values !== undefined) && 'attribute',
    ].filter(Boolean);
    if (kinds.length !== 1) {
      problem(
        at(),
        `${kinds.length === 0 ? 'selects nobody' : `mixes ${kinds.join(' and ')}`}: give exactly one of "percent", "userIds", "tenants", or "attribute" with "values"`,
      );
      return;
    }
    if ((r.attribute === undefined) !== (r.values === undefined)) {
      const missing = r.attribute === undefined ? 'attribute' : 'values';
      problem(
        at(missing),
        `is missing: "attribute" and "values" go together, e.g. { "variant": "on", "attribute": "country", "values": ["DE"] }`,
      );
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
      problem(
        at('variant'),
        `${show(r.variant)} is the default variant, which users get when no rule matches (AppConfig gives the default variant no rule): select another variant or remove the rule`,
      );
      return;
    }
    const previous = lastRuleOf.get(r.variant);
    if (previous !== undefined && previous !== i - 1) {
      problem(
        at('variant'),
        `${show(r.variant)} also has rules[${previous}], and other variants' rules sit between them: put the rules of a variant next to each other (AppConfig evaluates one rule per variant, in order)`,
      );
    }
    lastRuleOf.set(r.variant, i);
    if (r.percent !== undefined) {
      const other = percentRuleOf.get(r.variant);
      if (other !== undefined)
        problem(at('percent'), `variant ${show(r.variant)} already has a percentage in rules[${other}]: merge them into one rule`);
      percentRuleOf.set(r.variant, i);
      const by = r.by ?? CONTEXT_KEYS.userId;
      if (splitBy && splitBy.by !== by) {
        problem(
          at('by'),
          `${show(by)} differs from rules[${splitBy.at}], which splits by ${show(splitBy.by)}: split all percentage rules of a flag by the same attribute`,
        );
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
      problem(
        ['rules', lastRuleOf.get(variant) ?? 0],
        `the rules of variant ${show(variant)} render to ${rule.length} characters, more than AppConfig's ${APPCONFIG_LIMITS.ruleChars}: shorten the lists`,
      );
    }
  }
}

function attributeType(v: AttributeValue): string {
  if (Array.isArray(v)) return v.length > 0 && typeof v[0] === 'number' ? 'a list of numbers' : 'a list of strings';
  return typeof v === 'string' ? 'a string' : typeof v === 'number' ? 'a number' : 'a boolean';
}
