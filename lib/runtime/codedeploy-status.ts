import type { DeploymentStatus } from '@aws-sdk/client-codedeploy';

/** CodeDeploy deployment states in which a deployment still holds its deployment group. */
export const IN_FLIGHT_STATUSES: DeploymentStatus[] = ['Created', 'Queued', 'InProgress', 'Baking', 'Ready'];

/** States a deployment never leaves. */
export const TERMINAL_STATUSES: ReadonlySet<string> = new Set<DeploymentStatus>(['Succeeded', 'Failed', 'Stopped']);
