import { CodeDeployClient } from '@aws-sdk/client-codedeploy';
import type { Context } from 'aws-lambda';
import type { CheckResult, HookResult } from '../shared/codedeploy-hook';
import { describeError, runHook } from '../shared/codedeploy-hook';
import { BOUNDED_HTTP } from '../shared/http';
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

/** One request the check makes and what a good answer looks like. */
export interface Probe {
  readonly path: string;
  /** Returns a problem with the JSON body, or undefined when it is right. */
  readonly validate: (body: unknown) => string | undefined;
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

export const PROBES: Probe[] = [
  {
    path: '/health',
    validate: (b) => ((b as { status?: unknown })?.status === 'ok' ? undefined : `expected {"status":"ok"}, got ${JSON.stringify(b)}`),
  },
  {
    path: '/greeting?name=canary',
    validate: (b) => ((b as { message?: unknown })?.message === 'Hello, canary!' ? undefined : `expected message "Hello, canary!", got ${JSON.stringify(b)}`),
  },
];

/** Calls every probe through the test listener; Succeeded only if all answer 200 with the right body. */
export async function checkTestTraffic(options: TestTrafficOptions, probes: Probe[] = PROBES): Promise<CheckResult> {
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
    if (res.status !== 200) return `status ${res.status}, body ${text.slice(0, 200)}`;
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return `body is not JSON: ${text.slice(0, 200)}`;
    }
    return probe.validate(body) ?? '';
  } catch (err) {
    return describeError(err);
  }
}

/**
 * Worst case of the check: 2 probes x 3 attempts x 5 s request timeout + 2 x 2 s pauses each = 38 s.
 * The function's timeout is 60 s (CanaryEcsService); the rest is for reporting.
 */
export const CHECK_TIMEOUT_MS = 45_000;

const codedeploy = new CodeDeployClient({ requestHandler: BOUNDED_HTTP });
const logger = createLogger('ecs-test-traffic-hook');

export async function handler(event: EcsHookEvent, context?: Pick<Context, 'getRemainingTimeInMillis'>): Promise<HookResult> {
  // TEST_URL is read per invocation: a missing one is reported as Failed, not thrown at import.
  return runHook(event, (_ids, signal) => checkTestTraffic({ testUrl: process.env.TEST_URL, fetch, signal }), {
    codedeploy,
    logger,
    checkTimeoutMs: CHECK_TIMEOUT_MS,
    remainingTimeMs: context && (() => context.getRemainingTimeInMillis()),
  });
}
