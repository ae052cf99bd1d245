import { deploymentGroupRule } from './rule';

/** The deployment group of a production canary watches CloudWatch alarms. */
export const alarmsRule = deploymentGroupRule({
  id: 'SafeDeploy-Alarms',
  description: 'The deployment group releasing a production Lambda alias or ECS service watches at least one CloudWatch alarm.',
  property: 'AlarmConfiguration',
  requires: (configuration) => (configuration.Alarms ?? []).length > 0,
  message: (what, group) => ({
    description: `${what} is deployed by ${group}, which watches no CloudWatch alarms: a bad release would never be stopped during the canary.`,
    fix: `Add the service's alarms to ${group} (deploymentGroup.addAlarm(alarm) or alarms: [...]), e.g. error rate and p99 latency of the new version.`,
  }),
});
