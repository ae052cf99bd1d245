/** How `retry` spaces and bounds its attempts. */
export interface RetryOptions {
  /** Attempts in all, the first included. @default 5 */
  readonly attempts?: number;
  /** Delay before the second attempt; doubles each time, with jitter. @default 200 */
  readonly baseDelayMs?: number;
  /** Waits between attempts; tests pass one that resolves at once. @default - setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Which errors are worth another attempt. @default - isTransientError */
  readonly shouldRetry?: (err: unknown) => boolean;
}

const TRANSIENT_NAMES = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'InternalFailure',
  'InternalServerError',
  'TimeoutError',
  'RequestTimeout',
]);

/** Throttling, 5xx and network timeouts: errors that another attempt may not meet. */
export function isTransientError(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { name?: string; $retryable?: unknown; $metadata?: { httpStatusCode?: number } };
  return (
    TRANSIENT_NAMES.has(e.name ?? '') ||
    e.$retryable !== undefined ||
    (e.$metadata?.httpStatusCode ?? 0) >= 500 ||
    e.$metadata?.httpStatusCode === 429
  );
}

/**
 * Calls `fn` until it succeeds, a non-transient error occurs, or attempts run out. The SDK's own
 * retries cover most transient errors in production; this one also covers what they give up on
 * and is what tests exercise, since a mocked client bypasses the SDK's retry middleware.
 */
export async function retry<T>(fn: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const attempts = options.attempts ?? 5;
  const base = options.baseDelayMs ?? 200;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const shouldRetry = options.shouldRetry ?? isTransientError;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= attempts || !shouldRetry(err)) throw err;
      await sleep(base * 2 ** (attempt - 1) * (0.5 + Math.random() / 2));
    }
  }
}
