import * as pipelines from 'aws-cdk-lib/pipelines';
import type { HttpCheck } from '../config/service-schema';
import { EcsServiceStack } from '../stacks/ecs-service-stack';
import type { ServiceStage } from './service-stage';

/** The requests a pre-production smoke test sends to one service, through its public endpoint. */
function smokeChecks(stack: ServiceStage['services'][number]): HttpCheck[] {
  if (stack instanceof EcsServiceStack) return [...(stack.config.testTraffic ?? [stack.config.healthCheck])];
  // IAM-signed URLs and functions without a URL are checked by their hooks, which invoke them in-account.
  return stack.config.url === 'public' && stack.config.healthCheck ? [stack.config.healthCheck] : [];
}

/** `orders-api` → `URL_ORDERS_API` */
function urlVariable(service: string): string {
  return `URL_${service.toUpperCase().replace(/-/g, '_')}`;
}

/**
 * Calls each HTTP service of a pre-production target through its stack output URL, with the
 * service's own checks: a wrong status or body fails the pipeline before production. Returns
 * undefined when the target has no public HTTP endpoint (its hooks and alarms guard it).
 */
export function smokeTest(target: ServiceStage): pipelines.ShellStep | undefined {
  const checked = target.services.filter((s) => s.serviceUrl && smokeChecks(s).length > 0);
  if (checked.length === 0) return undefined;
  return new pipelines.ShellStep(`SmokeTest-${target.stageName}`, {
    envFromCfnOutputs: Object.fromEntries(checked.map((s) => [urlVariable(s.config.name), s.serviceUrl!])),
    commands: checked.flatMap((s) => smokeChecks(s).map((check) => smokeCommand(s.config.name, urlVariable(s.config.name), check))),
  });
}

/**
 * One POSIX-sh line: GET the URL (retrying while the service warms up), fail unless the status
 * and, when configured, the body are what the service's check expects.
 */
export function smokeCommand(service: string, variable: string, check: HttpCheck): string {
  const url = `\${${variable}%/}${check.path}`;
  const expected = check.expectedStatus ?? 200;
  const what = `${service} GET ${check.path}`;
  const body = check.bodyContains === undefined ? '' : ` && grep -qF ${shellQuote(check.bodyContains)} /tmp/smoke-body`;
  return (
    `status=$(curl -sS --retry 5 --retry-all-errors --retry-delay 5 --max-time 10 -o /tmp/smoke-body -w '%{http_code}' "${url}") && ` +
    `[ "$status" = "${expected}" ]${body} || { echo "smoke test failed: ${what} (${url}) answered $status, expected ${expected}${check.bodyContains === undefined ? '' : ` with a body containing ${check.bodyContains.replace(/["`$\\]/g, '')}`}" >&2; exit 1; }`
  );
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
