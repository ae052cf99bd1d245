import { deploymentGroupRule } from './rule';

/** The deployment group of a production canary rolls back when an alarm stops the deployment. */
export const autoRollbackRule = deploymentGroupRule({
  id: 'SafeDeploy-AutoRollback',
  description:
    'The deployment group releasing a production Lambda alias or ECS service rolls back automatically on alarm (DEPLOYMENT_STOP_ON_ALARM).',
  property: 'AutoRollbackConfiguration',
  requires: (configuration) => (configuration.Events ?? []).includes('DEPLOYMENT_STOP_ON_ALARM'),
  message: (what, group) => ({
    description: `${what} is deployed by ${group} without automatic rollback on alarm (AutoRollbackConfiguration lacks DEPLOYMENT_STOP_ON_ALARM): an alarm would stop the deployment but leave the bad version serving.`,
    fix: `Set autoRollback: { failedDeployment: true, stoppedDeployment: true, deploymentInAlarm: true } on ${group}.`,
  }),
});
