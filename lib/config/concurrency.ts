import type { z } from 'zod';

/**
 * Reserved concurrency of Lambda services, checked at synth against what Lambda allows.
 *
 * Lambda lets an account reserve concurrency only while at least 100 units stay unreserved for the
 * functions without a reservation ("you can reserve up to the unreserved account concurrency minus
 * 100", Lambda developer guide, "Configuring reserved concurrency"); the default regional quota is
 * 1000. safe-deploy's hooks and gates are such functions: the reservations of one account and region
 * must leave them room, or the deployment that sets them fails.
 */
export const DEFAULT_ACCOUNT_CONCURRENCY = 1000;
/** Concurrency Lambda keeps unreserved in every account and region. */
export const MIN_UNRESERVED_CONCURRENCY = 100;
/**
 * The cap a service with a public Function URL (auth NONE) gets when the config sets none: a flood of
 * requests can then use at most this much of the account's concurrency, and the deployment hooks
 * (unreserved) are never throttled by it.
 */
export const PUBLIC_URL_DEFAULT_CONCURRENCY = 100;

/** What the check needs of a config (the shape zod has validated so far). */
interface ConcurrencyConfig {
  readonly pipeline: { readonly account: string };
  readonly services: ReadonlyArray<{
    readonly name: string;
    readonly kind: string;
    readonly url?: string;
    readonly reservedConcurrency?: number;
  }>;
  readonly stages: ReadonlyArray<{
    readonly name: string;
    readonly account?: string;
    readonly waves: ReadonlyArray<{ readonly account?: string; readonly regions: readonly string[] }>;
    readonly services: Readonly<Record<string, { readonly reservedConcurrency?: number }>>;
  }>;
}

/** The reserved concurrency a Lambda service gets in a stage: its override, its own setting, or the public-URL cap. */
export function effectiveReservedConcurrency(
  svc: { readonly url?: string; readonly reservedConcurrency?: number },
  override: { readonly reservedConcurrency?: number } | undefined,
): number | undefined {
  return override?.reservedConcurrency ?? svc.reservedConcurrency ?? (svc.url === 'public' ? PUBLIC_URL_DEFAULT_CONCURRENCY : undefined);
}

/**
 * Adds an issue for every account and region whose Lambda services reserve more than the default
 * quota leaves reservable (1000 - 100 = 900), naming the field that reserves the most.
 */
export function checkReservedConcurrency(cfg: ConcurrencyConfig, ctx: z.core.$RefinementCtx<unknown>): void {
  const limit = DEFAULT_ACCOUNT_CONCURRENCY - MIN_UNRESERVED_CONCURRENCY;
  const byTarget = new Map<string, Array<{ path: PropertyKey[]; what: string; value: number }>>();
  cfg.stages.forEach((stage, i) => {
    const reserved = cfg.services.flatMap((svc, j) => {
      if (svc.kind !== 'lambda') return [];
      const override = stage.services[svc.name];
      const value = effectiveReservedConcurrency(svc, override);
      if (value === undefined) return [];
      const path =
        override?.reservedConcurrency !== undefined
          ? ['stages', i, 'services', svc.name, 'reservedConcurrency']
          : ['services', j, 'reservedConcurrency'];
      const what =
        svc.reservedConcurrency === undefined && override?.reservedConcurrency === undefined
          ? `${svc.name} ${value} (public URL default)`
          : `${svc.name} ${value}`;
      return [{ path, what: `${stage.name}/${what}`, value }];
    });
    for (const wave of stage.waves) {
      const account = wave.account ?? stage.account ?? cfg.pipeline.account;
      for (const region of wave.regions) {
        const list = byTarget.get(`${account} ${region}`) ?? [];
        list.push(...reserved);
        byTarget.set(`${account} ${region}`, list);
      }
    }
  });
  // One issue per field: the first account and region it overfills stands for the others.
  const reported = new Set<string>();
  for (const [target, reserved] of byTarget) {
    const total = reserved.reduce((n, r) => n + r.value, 0);
    if (total <= limit) continue;
    const [account, region] = target.split(' ');
    const largest = reserved.reduce((a, b) => (b.value > a.value ? b : a));
    if (reported.has(largest.path.join('.'))) continue;
    reported.add(largest.path.join('.'));
    ctx.addIssue({
      code: 'custom',
      path: largest.path,
      message:
        `reserves ${largest.value}: the Lambda services of account ${account} in ${region} reserve ${total} in all (${[...new Set(reserved.map((r) => r.what))].join(', ')}), ` +
        `and Lambda keeps ${MIN_UNRESERVED_CONCURRENCY} of the default ${DEFAULT_ACCOUNT_CONCURRENCY} unreserved for the functions without a reservation (safe-deploy's hooks among them): ` +
        `lower the reservations to at most ${limit} in all, e.g. with stages[].services.<name>.reservedConcurrency`,
    });
  }
}
