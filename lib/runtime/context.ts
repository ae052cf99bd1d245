import { ClientsForRegion, clientsPerRegion, OpsClients } from './clients';
import { isTransientError, retry, RetryOptions } from './retry';

/** What every operator function works with. */
export interface OpsContext {
  /** Clients of the pipeline's region. */
  readonly clients: OpsClients;
  /** Region of the pipeline. */
  readonly region: string;
  /** Clients of another region (cross-region stage actions). */
  readonly clientsFor: ClientsForRegion;
  /** How AWS calls are retried on throttling. */
  readonly retry?: RetryOptions;
}

/** Options shared by the operator functions, beyond the required ones. */
export interface CommonOptions {
  /** Region of the pipeline. */
  readonly region: string;
  /** Clients for other regions. @default - createClients(region), cached */
  readonly clientsFor?: ClientsForRegion;
  /** Retry of throttled calls, on top of the SDK's own. @default - 3 attempts, 200 ms doubling */
  readonly retry?: RetryOptions;
}

export function opsContext(clients: OpsClients, opts: CommonOptions): OpsContext {
  return {
    clients,
    region: opts.region,
    clientsFor: opts.clientsFor ?? clientsPerRegion(clients, opts.region),
    // The SDK has already retried each call; a few more attempts here, for answers only.
    retry: { attempts: 3, shouldRetry: isRetryableAnswer, ...opts.retry },
  };
}

/**
 * Throttling and 5xx answers are worth more attempts after the SDK's own. Network errors and
 * timeouts (no HTTP answer) are not: the SDK has already retried them with its timeouts, and
 * retrying again would multiply the wait of an operator whose endpoint is unreachable.
 */
export function isRetryableAnswer(err: unknown): boolean {
  const status = (err as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
  return status !== undefined && isTransientError(err);
}

/** One AWS call, retried on throttling and 5xx beyond what the SDK already did. */
export function call<T>(ctx: OpsContext, fn: () => Promise<T>): Promise<T> {
  return retry(fn, ctx.retry);
}

/** Upper bound of pages `collectPages` reads: a list API that never stops paging must not hang the CLI. */
export const MAX_LIST_PAGES = 100;

/**
 * Calls a paginated list API page by page (each call retried like `call`) and returns every item.
 * Stops after `MAX_LIST_PAGES` pages or when a page repeats the token it was asked with.
 */
export async function collectPages<T>(
  ctx: OpsContext,
  page: (token: string | undefined) => Promise<{ items?: T[]; next?: string }>,
): Promise<T[]> {
  const all: T[] = [];
  let token: string | undefined;
  for (let n = 0; n < MAX_LIST_PAGES; n++) {
    const asked = token;
    const out = await call(ctx, () => page(asked));
    all.push(...(out.items ?? []));
    token = out.next;
    if (!token || token === asked) break;
  }
  return all;
}

/**
 * A failure the operator can act on, with a one-line message that says what to do.
 * `kind` lets callers pick an exit code or a test assert the reason.
 */
export class OpsError extends Error {
  constructor(
    readonly kind: 'refused' | 'stage-not-found' | 'not-found' | 'input',
    message: string,
  ) {
    super(message);
    this.name = 'OpsError';
  }
}

/** The account of an ARN (`arn:aws:iam::123456789012:role/x`), if it has one. */
export function arnAccount(arn: string | undefined): string | undefined {
  const account = arn?.split(':')[4];
  return account && /^\d{12}$/.test(account) ? account : undefined;
}

/** Shortens a commit id for humans. */
export function shortSha(revisionId: string | undefined): string {
  return revisionId && /^[0-9a-f]{40}$/.test(revisionId) ? revisionId.slice(0, 7) : (revisionId ?? '-');
}
