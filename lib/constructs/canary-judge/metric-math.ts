import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';

/** Metric-math building blocks of the judge's alarms. */

/**
 * The significance of a canary's errors, in metric math: given `total` errors of both versions, the
 * canary's count `k` is Binomial(total, share) when both fail alike, about Poisson(total x share)
 * at these error rates: the conditional test for comparing two Poisson rates. Its upper tail
 * P(X >= k) = P(Gamma(k) <= mean) is turned into a standard normal deviate by the Wilson-Hilferty
 * cube-root approximation, z = 3 sqrt(k) (1 - 1/(9k) - (mean/k)^(1/3)), accurate to a few percent in
 * p for k >= 1. The two-proportion z-test with a pooled variance reaches the same figure with
 * hundreds of errors but not with a handful: two canary errors in 100 requests against 8 in 5,900
 * score z = 4.5 there, while their exact tail probability is 0.012 (z = 2.3). Metric math has no
 * square or cube root function in its documented list; `^` is its exponent operator.
 */
export function conditionalPoissonZ(k: string, total: string, share: string): string {
  return `(3 * (${k} ^ 0.5) * (1 - 1 / (9 * ${k}) - ((${total} * ${share} / ${k}) ^ (1 / 3))))`;
}

/** The entries of `pools` (later pools first) whose ids occur in `expression`. */
export function usedBy(
  expression: string,
  ...pools: Array<Readonly<Record<string, cloudwatch.IMetric>>>
): Record<string, cloudwatch.IMetric> {
  const ids = new Set(expression.match(/\b[a-z][a-zA-Z0-9_]*\b/g) ?? []);
  const out: Record<string, cloudwatch.IMetric> = {};
  for (const pool of [...pools].reverse()) {
    for (const [id, m] of Object.entries(pool)) if (ids.has(id) && !(id in out)) out[id] = m;
  }
  return out;
}

/** A number as metric math reads it: plain decimal notation, no exponent. */
export function num(x: number): string {
  if (!Number.isFinite(x)) throw new Error(`not a finite number: ${x}`);
  const s = x.toFixed(10).replace(/\.?0+$/, '');
  return s === '-0' ? '0' : s;
}
