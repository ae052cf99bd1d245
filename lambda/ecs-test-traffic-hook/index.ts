import { CodeDeployClient } from '@aws-sdk/client-codedeploy';
import type { Context } from 'aws-lambda';
import { errorLine } from '../../lib/runtime/errors';
import { BOUNDED_HTTP } from '../../lib/runtime/http';
import type { CheckResult, HookResult } from '../shared/codedeploy-hook';
import { runHook } from '../shared/codedeploy-hook';
import { createLogger } from '../shared/logger';

/**
 * CodeDeploy AfterAllowTestTraffic hook of the ECS service: while the test listener routes to the
 * green task set (and production still to blue), call the green tasks through it and fail the
 * deployment, before any user traffic reaches green, if they do not answer correctly.
 */

/** The event CodeDeploy sends to an ECS lifecycle hook. */
export interface EcsHookEvent {
  readonly DeploymentId: string;
  readonly LifecycleEventHookExecutionId: string;
}

/** One request the check makes and what a good answer is (the service's `testTraffic` in the config). */
export interface Probe {
  /** Path and query, e.g. "/health". */
  readonly path: string;
  /** @default 200 */
  readonly expectedStatus?: number;
  /** Text the body must contain. @default - any body */
  readonly bodyContains?: string;
}

/** Parses TEST_PROBES (JSON array of probes); a bad value is an error the hook reports as Failed. */
export function parseProbes(raw: string | undefined): Probe[] | { error: string } {
  let v: unknown;
  try {
    v = JSON.parse(raw ?? '');
  } catch {
    return { error: `TEST_PROBES ${JSON.stringify(raw)} is not JSON: set it to e.g. [{"path":"/health"}]` };
  }
  if (!Array.isArray(v) || v.length === 0) return { error: `TEST_PROBES ${JSON.stringify(raw)} is not a non-empty list of probes` };
  for (const [i, p] of v.entries()) {
    const probe = p as Partial<Probe> | null;
    if (typeof probe?.path !== 'string' || !probe.path.startsWith('/'))
      return { error: `TEST_PROBES[${i}].path ${JSON.stringify(probe?.path)} is not a path starting with "/"` };
    if (probe.expectedStatus !== undefined && !Number.isInteger(probe.expectedStatus))
      return { error: `TEST_PROBES[${i}].expectedStatus is not an HTTP status` };
    if (probe.bodyContains !== undefined && typeof probe.bodyContains !== 'string')
      return { error: `TEST_PROBES[${i}].bodyContains is not a string` };
  }
  return v as Probe[];
}

/** Settings of the check. */
export interface TestTrafficOptions {
  /** Base URL of the test listener, e.g. http://my-alb-123.us-east-1.elb.amazonaws.com:8080 */
  readonly testUrl: string | undefined;
  readonly fetch: typeof fetch;
  /** Attempts per probe (green targets may still be settling behind the test listener). @default 3 */
  readonly attempts?: number;
  /** Wait between attempts. @default 2000 */
  readonly delayMs?: number;
  /** Timeout of one request. @default 5000 */
  readonly requestTimeoutMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  /** Aborts the check's requests (runHook's timeout). @default - only the per-request timeout */
  readonly signal?: AbortSignal;
}

/** Calls every probe through the test listener; Succeeded only if all answer as expected. */
export async function checkTestTraffic(options: TestTrafficOptions, probes: Probe[]): Promise<CheckResult> {
  if (!options.testUrl || !/^https?:\/\/[^/\s]+$/.test(options.testUrl)) {
    return { status: 'Failed', reason: `TEST_URL ${JSON.stringify(options.testUrl)} is not a base URL like http://<alb-dns>:8080` };
  }
  const attempts = options.attempts ?? 3;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const passed: string[] = [];
  for (const probe of probes) {
    const url = `${options.testUrl}${probe.path}`;
    let problem = '';
    for (let attempt = 1; attempt <= attempts; attempt++) {
      if (options.signal?.aborted) return { status: 'Failed', reason: `GET ${url}: abandoned, the check ran out of time` };
      problem = await callOnce(url, probe, options);
      if (problem === '') break;
      if (attempt < attempts) await sleep(options.delayMs ?? 2000);
    }
    if (problem !== '') return { status: 'Failed', reason: `GET ${url}: ${problem} (after ${attempts} attempts)` };
    passed.push(probe.path);
  }
  return { status: 'Succeeded', reason: `green task set answered ${passed.join(', ')} through the test listener` };
}

async function callOnce(url: string, probe: Probe, options: TestTrafficOptions): Promise<string> {
  try {
    const perRequest = AbortSignal.timeout(options.requestTimeoutMs ?? 5000);
    const res = await options.fetch(url, { signal: options.signal ? AbortSignal.any([perRequest, options.signal]) : perRequest });
    const text = await res.text();
    const expected = probe.expectedStatus ?? 200;
    if (res.status !== expected) return `status ${res.status} (expected ${expected}), body ${text.slice(0, 200)}`;
    if (probe.bodyContains !== undefined && !text.includes(probe.bodyContains))
      return `the body does not contain ${JSON.stringify(probe.bodyContains)}: ${text.slice(0, 200)}`;
    return '';
  } catch (err) {
    return errorLine(err);
  }
}

/**
 * Upper bound of the check (runHook aborts it then and reports Failed). One probe takes at most
 * 3 attempts x 5 s + 2 x 2 s pauses = 19 s; CanaryEcsService sizes the function's timeout from the
 * number of probes and passes this bound as CHECK_TIMEOUT_MS.
 */
export const DEFAULT_CHECK_TIMEOUT_MS = 45_000;

/** What the handler is built from; tests pass mocks and a sleep that does not wait. */
export interface TestTrafficHookDeps {
  readonly codedeploy: CodeDeployClient;
  readonly logger: ReturnType<typeof createLogger>;
  readonly fetch: typeof fetch;
  readonly sleep?: (ms: number) => Promise<void>;
}

/**
 * The hook's handler over its dependencies. The environment (TEST_URL, TEST_PROBES,
 * CHECK_TIMEOUT_MS) is read per invocation: a bad value is reported as Failed, not thrown at import.
 */
export function testTrafficHandler(deps: TestTrafficHookDeps) {
  return async (event: EcsHookEvent, context?: Pick<Context, 'getRemainingTimeInMillis'>): Promise<HookResult> => {
    const probes = parseProbes(process.env.TEST_PROBES);
    const checkTimeoutMs = Number(process.env.CHECK_TIMEOUT_MS ?? DEFAULT_CHECK_TIMEOUT_MS);
    return runHook(
      event,
      async (_ids, signal) =>
        'error' in probes
          ? { status: 'Failed', reason: `hook misconfigured: ${probes.error}` }
          : checkTestTraffic({ testUrl: process.env.TEST_URL, fetch: deps.fetch, sleep: deps.sleep, signal }, probes),
      {
        codedeploy: deps.codedeploy,
        logger: deps.logger,
        checkTimeoutMs: Number.isInteger(checkTimeoutMs) && checkTimeoutMs > 0 ? checkTimeoutMs : DEFAULT_CHECK_TIMEOUT_MS,
        remainingTimeMs: context && (() => context.getRemainingTimeInMillis()),
      },
    );
  };
}

export const handler = testTrafficHandler({
  codedeploy: new CodeDeployClient({ requestHandler: BOUNDED_HTTP }),
  logger: createLogger('ecs-test-traffic-hook'),
  fetch: (...args) => fetch(...args),
});
