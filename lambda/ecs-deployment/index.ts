import { CodeDeployClient } from '@aws-sdk/client-codedeploy';
import { ECSClient } from '@aws-sdk/client-ecs';
import { BOUNDED_HTTP } from '../../lib/runtime/http';
import { createLogger } from '../shared/logger';
import * as deployment from './deployment';

const codedeploy = new CodeDeployClient({ requestHandler: BOUNDED_HTTP });
const ecs = new ECSClient({ requestHandler: BOUNDED_HTTP });
const logger = createLogger('ecs-deployment');

/** Provider framework onEvent: starts the CodeDeploy deployment (or stops one on Delete). */
export async function onEvent(event: deployment.OnEventRequest): Promise<deployment.OnEventResponse> {
  logger.info('onEvent', { requestType: event?.RequestType, logicalId: event?.LogicalResourceId, properties: event?.ResourceProperties });
  return deployment.onEvent(event, { codedeploy, ecs, logger });
}

/** Provider framework isComplete: polled until the deployment ends; throws when it rolled back. */
export async function isComplete(event: deployment.IsCompleteRequest): Promise<deployment.IsCompleteResponse> {
  return deployment.isComplete(event, { codedeploy, ecs, logger });
}
