/**
 * The event CodeDeploy sends to a lifecycle hook of a Lambda or ECS deployment. Typed as what
 * CodeDeploy documents; `runHook` still validates it, since a hook must report even on a bad event.
 */
export interface CodeDeployLambdaHookEvent {
  readonly DeploymentId: string;
  readonly LifecycleEventHookExecutionId: string;
}
