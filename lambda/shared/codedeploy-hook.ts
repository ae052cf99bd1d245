import type { Logger } from '@aws-lambda-powertools/logger';
import { CodeDeployClient, LifecycleEventStatus, PutLifecycleEventHookExecutionStatusCommand } from '@aws-sdk/client-codedeploy';
import { errorLine } from '../../lib/runtime/errors';
import { isTransientError, retry, RetryOptions } from '../../lib/runtime/retry';

/** The ids CodeDeploy sends to a lifecycle hook (Lambda and ECS deployments alike). */
export interface HookIds {
  readonly DeploymentId: string;
  readonly LifecycleEventHookExecutionId: string;
}

/** The outcome of a hook's check. `reason` is logged and returned. */
export interface CheckResult {
  readonly status: 'Succeeded' | 'Failed';
  readonly reason: string;
}

/** What a hook handler returns (and logs). */
export interface HookResult extends CheckResult {
  /** CodeDeploy was told (an event it cannot be told about fails the invocation instead). */
  readonly reported: true;
}

/** Dependencies of `runHook`, injected so tests pass mocked clients. */
export interface HookDeps {
  readonly codedeploy: CodeDeployClient;
  readonly logger: Logger;
  /** Upper bound for the check; a check still running then counts as Failed. */
  readonly checkTimeoutMs: number;
  /** Retry settings for reporting. @default - 5 attempts, exponential backoff from 200 ms */
  readonly retry?: RetryOptions;
  /**
   * Time left in this invocation (Lambda's `context.getRemainingTimeInMillis`). The check then
   * also stops `reportReserveMs` before the function's own timeout, so a hook whose
   * CHECK_TIMEOUT_MS outgrew its function timeout still reports instead of being killed.
   * @default - only `checkTimeoutMs` bounds the check
   */
  readonly remainingTimeMs?: () => number;
  /** Time kept for reporting after the check, with `remainingTimeMs`. @default 10000 */
  readonly reportReserveMs?: number;
}

/** Time a hook keeps after its check for reporting (with retries) before Lambda's timeout. */
export const REPORT_RESERVE_MS = 10_000;

/** Extracts the two ids from a hook event, or says what is wrong with it. */
export function parseHookIds(event: unknown): HookIds | { error: string } {
  if (typeof event !== 'object' || event === null) {
    return {
      error: `event is ${event === null ? 'null' : typeof event}, expected an object with DeploymentId and LifecycleEventHookExecutionId`,
    };
  }
  const e = event as Record<string, unknown>;
  const missing = (['DeploymentId', 'LifecycleEventHookExecutionId'] as const).filter((k) => typeof e[k] !== 'string' || e[k] === '');
  if (missing.length > 0) {
    return { error: `event lacks ${missing.join(' and ')} (got keys: ${Object.keys(e).join(', ') || 'none'})` };
  }
  return { DeploymentId: e.DeploymentId as string, LifecycleEventHookExecutionId: e.LifecycleEventHookExecutionId as string };
}

/** Tells CodeDeploy the hook's outcome, retrying throttling and server errors. */
export async function reportHookStatus(
  client: CodeDeployClient,
  ids: HookIds,
  status: 'Succeeded' | 'Failed',
  options?: RetryOptions,
): Promise<void> {
  await retry(
    () =>
      client.send(
        new PutLifecycleEventHookExecutionStatusCommand({
          deploymentId: ids.DeploymentId,
          lifecycleEventHookExecutionId: ids.LifecycleEventHookExecutionId,
          status: status === 'Succeeded' ? LifecycleEventStatus.SUCCEEDED : LifecycleEventStatus.FAILED,
        }),
      ),
    { ...options, shouldRetry: options?.shouldRetry ?? isTransientError },
  );
}

/**
 * A hook's check. `signal` aborts when `checkTimeoutMs` elapses: pass it to SDK calls
 * (`client.send(cmd, { abortSignal: signal })`) so a timed-out check stops its requests.
 */
export type HookCheck = (ids: HookIds, signal: AbortSignal) => Promise<CheckResult>;

/**
 * Runs a hook's check and always reports its outcome to CodeDeploy: a check that throws or
 * outlives `checkTimeoutMs` reports Failed with the reason logged. An unreported hook would stall
 * the deployment until CodeDeploy's one-hour hook timeout. Only an event without the two ids cannot
 * be reported (there is nothing to report against): the invocation then fails, so the function's
 * Errors metric (and the alarm on it) shows it, instead of returning as if all were well.
 */
export async function runHook(event: unknown, check: HookCheck, deps: HookDeps): Promise<HookResult> {
  const ids = parseHookIds(event);
  if ('error' in ids) {
    deps.logger.error('Malformed hook event; cannot report to CodeDeploy', { reason: ids.error, event });
    throw new Error(`malformed CodeDeploy hook event: ${ids.error}: nothing to report against; CodeDeploy fails the hook at its timeout`);
  }
  let outcome: CheckResult;
  const controller = new AbortController();
  try {
    const timeoutMs = checkBudgetMs(deps);
    outcome = await withTimeout(() => check(ids, controller.signal), timeoutMs, controller);
    if (!isCheckResult(outcome)) {
      outcome = { status: 'Failed', reason: `check returned ${JSON.stringify(outcome)}, not { status, reason }` };
    }
  } catch (err) {
    outcome = { status: 'Failed', reason: `check failed: ${errorLine(err)}` };
  }
  deps.logger.info('Hook decision', { deploymentId: ids.DeploymentId, status: outcome.status, reason: outcome.reason });
  try {
    await reportHookStatus(deps.codedeploy, ids, outcome.status, deps.retry);
  } catch (err) {
    deps.logger.error('Could not report hook status to CodeDeploy', { deploymentId: ids.DeploymentId, error: errorLine(err) });
    throw err; // Lambda's async retry then tries the whole hook again.
  }
  return { ...outcome, reported: true };
}

/** The check's time limit: `checkTimeoutMs`, cut short when the invocation has less time left. */
export function checkBudgetMs(deps: Pick<HookDeps, 'checkTimeoutMs' | 'remainingTimeMs' | 'reportReserveMs'>): number {
  if (!deps.remainingTimeMs) return deps.checkTimeoutMs;
  const left = deps.remainingTimeMs() - (deps.reportReserveMs ?? REPORT_RESERVE_MS);
  return Math.max(0, Math.min(deps.checkTimeoutMs, left));
}

function isCheckResult(v: unknown): v is CheckResult {
  const r = v as Partial<CheckResult> | null | undefined;
  return typeof r === 'object' && r !== null && (r.status === 'Succeeded' || r.status === 'Failed') && typeof r.reason === 'string';
}

/**
 * Races `start()` against a timer; on timeout, aborts `controller` (so the work's requests stop)
 * and rejects with a `CheckTimeout` error. A synchronous throw of `start` becomes a rejection.
 */
export async function withTimeout<T>(start: () => Promise<T>, ms: number, controller: AbortController): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const err = new Error(`timed out after ${ms} ms`);
      err.name = 'CheckTimeout';
      controller.abort(err);
      reject(err);
    }, ms);
  });
  try {
    // `start` runs inside the race so that a synchronous throw becomes a rejection too.
    return await Promise.race([Promise.resolve().then(start), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs part of a check under its own time limit, inside the check's: `start` gets a signal that
 * aborts at `ms` or when `parent` does. On timeout it rejects as `withTimeout` does.
 */
export async function withinTimeout<T>(ms: number, parent: AbortSignal, start: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const forward = () => controller.abort(parent.reason);
  if (parent.aborted) forward();
  else parent.addEventListener('abort', forward, { once: true });
  try {
    return await withTimeout(() => start(controller.signal), ms, controller);
  } finally {
    parent.removeEventListener('abort', forward);
  }
}
