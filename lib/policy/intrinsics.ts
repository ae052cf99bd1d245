/**
 * A value read from a synthesized template: untyped JSON whose shape the reader checks as it goes
 * (the one place `any` is allowed in lib/, so that template reads need no cast at every step).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type CfnValue = any;

/**
 * Reading CloudFormation intrinsic functions (Ref, Fn::GetAtt, Fn::Join, Fn::Sub, Fn::ImportValue) in
 * synthesized templates: shared by the safety policy, the readiness report and the acknowledgement
 * of generated wildcards.
 */

/** The logical ID a `{ Ref }` or `{ 'Fn::GetAtt': [id, attribute] }` points at; undefined for anything else. */
export function refOf(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const o = value as Record<string, unknown>;
  if (typeof o.Ref === 'string') return o.Ref;
  const getAtt = o['Fn::GetAtt'];
  return Array.isArray(getAtt) && typeof getAtt[0] === 'string' ? getAtt[0] : undefined;
}

/** Every logical ID referenced (Ref or Fn::GetAtt) anywhere inside `value`, in document order, repeats kept. */
export function referencedIds(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(referencedIds);
  if (typeof value !== 'object' || value === null) return [];
  const own = refOf(value);
  return [...(own ? [own] : []), ...Object.values(value).flatMap(referencedIds)];
}

/** Whether two template values are the same (same JSON). */
export function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * A template value as one flat string, the way cdk-nag names findings (`AwsSolutions-IAM5[Resource::<Bucket.Arn>/*]`):
 * `{ Ref: X }` is `<X>`, `{ 'Fn::GetAtt': [X, Arn] }` is `<X.Arn>`, Fn::Join joins its flattened parts, Fn::Sub and
 * Fn::ImportValue give their flattened argument, and `${...}` in strings becomes `<...>`. Anything else is its JSON.
 * Same output as cdk-nag 3's (private) `flattenCfnReference`, so acknowledgement ids match its findings.
 */
export function flattenCfnReference(value: unknown): string {
  if (value === undefined) return '';
  if (typeof value === 'string') return value.replace(/\$\{/g, '<').replace(/\}/g, '>');
  if (typeof value !== 'object' || value === null) return JSON.stringify(value);
  const o = value as Record<string, CfnValue>;
  // Truthiness, not `in`, as cdk-nag tests them: `{ Ref: '' }` falls through to JSON.
  if (o['Fn::Join']) {
    const [delimiter, parts] = o['Fn::Join'] as [string, unknown[]];
    return parts.map((p) => flattenCfnReference(p)).join(delimiter);
  }
  if (o['Fn::Sub']) return flattenCfnReference(o['Fn::Sub']);
  if (o['Fn::GetAtt']) {
    const [resource, attribute] = o['Fn::GetAtt'] as [unknown, unknown];
    return `<${flattenCfnReference(resource)}.${flattenCfnReference(attribute)}>`;
  }
  if (o['Fn::ImportValue']) return flattenCfnReference(o['Fn::ImportValue']);
  if (o.Ref) return `<${flattenCfnReference(o.Ref)}>`;
  return JSON.stringify(value);
}
