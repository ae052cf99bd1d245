import type { Diagnosis, FailureEvidence } from './types';

/** Everything AWS said, as AWS said it, for the `error` field. */
export function rawError(e: FailureEvidence): string | undefined {
  const parts = [e.actionError];
  if (e.build?.message) parts.push(`Build phase ${e.build.phase}: ${e.build.message}`);
  if (e.stackEvent?.reason) parts.push(`${e.stackEvent.logicalId} (${e.stackEvent.resourceType}): ${e.stackEvent.reason}`);
  if (e.deployment?.errorMessage)
    parts.push(`CodeDeploy ${e.deployment.deploymentId} ${e.deployment.errorCode ?? ''}: ${e.deployment.errorMessage}`.replace(' :', ':'));
  if (e.deployment?.hookMessage) parts.push(`${e.deployment.failedHook}: ${e.deployment.hookMessage}`);
  const text = parts.filter(Boolean).join('\n');
  return text || undefined;
}

/** Human-readable form of a diagnosis. */
export function formatDiagnosis(d: Diagnosis): string {
  if (!d.found) return d.summary;
  const lines = [
    `Pipeline ${d.pipelineName}, execution ${d.executionId}: FAILED${d.stageName ? ` in ${d.stageName} / ${d.actionName}` : ''}`,
    `Cause:   ${d.cause}`,
    `Summary: ${d.summary}`,
  ];
  if (d.error) {
    const [first, ...rest] = d.error.split('\n');
    lines.push(`Error:   ${first}`, ...rest.map((l) => `         ${l}`));
  }
  lines.push(`Fix:     ${d.fix}`);
  if (d.links.length > 0) lines.push('Links:', ...d.links.map((l) => `  ${l}`));
  return lines.join('\n');
}
