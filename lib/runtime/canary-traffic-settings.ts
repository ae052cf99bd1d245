/**
 * What a judged canary step must serve, as the AfterAllowTraffic hooks receive it (environment
 * variable CANARY_TRAFFIC_CHECK, JSON `{ "minRequests": 100, "stepMinutes": 10 }`). Absent when the
 * service has no canary judge: then there is no traffic check. Pure: the constructs and the
 * readiness report read it too.
 */
export interface CanaryTrafficCheck {
  /** Canary requests the step must serve (the judge's `minRequests`). */
  readonly minRequests: number;
  /** Length of the canary step (the deployment config's interval), whole minutes. */
  readonly stepMinutes: number;
}

/** Name of the environment variable. */
export const CANARY_TRAFFIC_CHECK_ENV = 'CANARY_TRAFFIC_CHECK';

/**
 * Allowance after the step's last whole minute for its datapoint to be published: Lambda and the ALB
 * publish one-minute metrics about a minute late (docs/canary-judge.md, "What remains a model": an
 * allowance, not a documented bound). A count still short of `minRequests` is final only then.
 */
export const METRICS_SETTLE_MS = 180_000;

/** Time the traffic check may take beyond the service's own check: the settling wait, and the reads. */
export const TRAFFIC_CHECK_BUDGET_MS = METRICS_SETTLE_MS + 60_000;

/** Parses CANARY_TRAFFIC_CHECK: undefined when unset (no judge), an error the hook reports as Failed when malformed. */
export function parseCanaryTrafficCheck(raw: string | undefined): CanaryTrafficCheck | undefined | { error: string } {
  if (raw === undefined || raw === '') return undefined;
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch (err) {
    return { error: `${CANARY_TRAFFIC_CHECK_ENV} is not JSON: ${(err as Error).message}` };
  }
  const c = (typeof v === 'object' && v !== null ? v : {}) as Record<string, unknown>;
  const problems: string[] = [];
  if (!(Number.isInteger(c.minRequests) && (c.minRequests as number) >= 1))
    problems.push(`${CANARY_TRAFFIC_CHECK_ENV}.minRequests ${JSON.stringify(c.minRequests)} is not a whole number of at least 1`);
  if (!(Number.isInteger(c.stepMinutes) && (c.stepMinutes as number) >= 1))
    problems.push(
      `${CANARY_TRAFFIC_CHECK_ENV}.stepMinutes ${JSON.stringify(c.stepMinutes)} is not a whole number of minutes of at least 1`,
    );
  if (problems.length > 0) return { error: problems.join('; ') };
  return { minRequests: c.minRequests as number, stepMinutes: c.stepMinutes as number };
}

/** The environment variable's value for a check. */
export function canaryTrafficCheckValue(check: CanaryTrafficCheck): string {
  return JSON.stringify({ minRequests: check.minRequests, stepMinutes: check.stepMinutes });
}
