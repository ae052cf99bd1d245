import { patternField, showValue as show, wholeNumberField } from '../shared/limits';

/**
 * The bounds of a CanaryEcsService's props, each with its message: the construct checks its props
 * with them, and the config schema (lib/config) embeds them for the same fields of an ECS service.
 */

/** CodeDeploy keeps the blue task set at most 2 days after a successful shift. */
export const MAX_BLUE_TERMINATION_WAIT_MINUTES = 2880;
export const blueTerminationWaitMinutesField = wholeNumberField(
  0,
  MAX_BLUE_TERMINATION_WAIT_MINUTES,
  (v) => `${show(v)} minutes is out of CodeDeploy's range: use 0 to ${MAX_BLUE_TERMINATION_WAIT_MINUTES} minutes (2 days)`,
);

/** A TCP port (container or listener). */
export const portField = wholeNumberField(1, 65535, (v) => `${show(v)} is not a port: use a whole number from 1 to 65535, e.g. 8080`);

/** Tasks per task set: at least one; the product caps it at 100. */
export const desiredCountField = wholeNumberField(
  1,
  100,
  (v) => `${show(v)} is not a task count: use a whole number from 1 to 100 (2 or more spreads tasks over both AZs)`,
);

/** Probes the AfterAllowTestTraffic hook sends: each may take up to 19 s within the hook's time. */
export const MAX_TEST_TRAFFIC_PROBES = 10;
export const testTrafficProbesMessage = (count: number) =>
  `${count} probes: give 1 to ${MAX_TEST_TRAFFIC_PROBES} (each may take up to 19 s within the hook's time)`;

/** The container's user: uid[:gid] or a name, never root. */
export const containerUserField = patternField(
  /^(?!(root|0)(:|$))[A-Za-z0-9_][A-Za-z0-9_.-]*(:[A-Za-z0-9_][A-Za-z0-9_.-]*)?$/,
  (v) => `${show(v)} is root or not a user: use an unprivileged uid[:gid] or a user name the image has, e.g. "1000" or "node"`,
);

/** An ACM certificate for the HTTPS listener. */
export const certificateArnField = patternField(
  /^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[0-9a-f-]{36}$/,
  (v) => `${show(v)} is not an ACM certificate ARN: use arn:aws:acm:<region>:<account>:certificate/<uuid>`,
);
