/** Console links: what an operator clicks next, in deployctl's output and in notifications. */
const consoleUrl = (region: string, path: string) => `https://${region}.console.aws.amazon.com/${path}`;

export const consoleLinks = {
  execution: (region: string, pipeline: string, executionId: string) =>
    consoleUrl(
      region,
      `codesuite/codepipeline/pipelines/${encodeURIComponent(pipeline)}/executions/${encodeURIComponent(executionId)}/timeline?region=${region}`,
    ),
  deployment: (region: string, deploymentId: string) =>
    consoleUrl(region, `codesuite/codedeploy/deployments/${encodeURIComponent(deploymentId)}?region=${region}`),
  stack: (region: string, stackId: string) =>
    consoleUrl(region, `cloudformation/home?region=${region}#/stacks/events?stackId=${encodeURIComponent(stackId)}`),
};
