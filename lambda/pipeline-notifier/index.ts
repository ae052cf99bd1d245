import type { Logger } from '@aws-lambda-powertools/logger';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import type { Context, EventBridgeEvent } from 'aws-lambda';
import { createClients } from '../../lib/runtime/clients';
import { consoleLinks } from '../../lib/runtime/console-links';
import { Diagnosis, diagnosePipeline, formatDiagnosis } from '../../lib/runtime/diagnosis';
import { errorLine } from '../../lib/runtime/errors';
import { BOUNDED_HTTP } from '../../lib/runtime/http';
import { isTransientError, retry, RetryOptions } from '../../lib/runtime/retry';
import { truncate } from '../../lib/runtime/text';
import { withTimeout } from '../shared/codedeploy-hook';
import { createLogger } from '../shared/logger';

/** Detail of "CodePipeline Pipeline Execution State Change". */
export interface PipelineExecutionDetail {
  readonly pipeline: string;
  readonly 'execution-id': string;
  readonly state: string;
}

/** Detail of "CodeDeploy Deployment State-change Notification" (forwarded from service accounts). */
export interface CodeDeployDeploymentDetail {
  readonly application: string;
  readonly deploymentGroup: string;
  readonly deploymentId: string;
  readonly state: string;
  readonly region?: string;
}

export type NotifierEvent =
  | EventBridgeEvent<'CodePipeline Pipeline Execution State Change', PipelineExecutionDetail>
  | EventBridgeEvent<'CodeDeploy Deployment State-change Notification', CodeDeployDeploymentDetail>;

/** An SNS message: subject (at most 100 characters) and body. */
export interface Notification {
  readonly subject: string;
  readonly message: string;
}

export interface NotifierDeps {
  readonly sns: SNSClient;
  readonly topicArn: string;
  /** Explains a failed execution (deployctl's diagnosis). */
  readonly diagnose: (pipelineName: string, executionId: string, region: string) => Promise<Diagnosis>;
  readonly logger: Logger;
  readonly retry?: RetryOptions;
  /**
   * Time the diagnosis may take: a slow one (many pages of history, a throttled API) is cut short
   * so that a notification still goes out before the function's timeout. @default - unbounded
   */
  readonly diagnosisBudgetMs?: () => number;
}

/** Builds the notification for a failed pipeline execution; a diagnosis error still notifies. */
export async function pipelineFailureNotification(
  event: EventBridgeEvent<string, PipelineExecutionDetail>,
  deps: NotifierDeps,
): Promise<Notification> {
  const { pipeline } = event.detail;
  const executionId = event.detail['execution-id'];
  const link = consoleLinks.execution(event.region, pipeline, executionId);
  let body: string;
  let where = '';
  try {
    const budget = deps.diagnosisBudgetMs?.();
    const d =
      budget === undefined
        ? await deps.diagnose(pipeline, executionId, event.region)
        : await withTimeout(() => deps.diagnose(pipeline, executionId, event.region), budget, new AbortController());
    where = d.stageName ? ` in ${d.stageName}` : '';
    const blocked = d.stageName?.startsWith('Gate-') ? 'A safety gate blocked the release (bake, alarms or deployment window).\n\n' : '';
    body = `${blocked}${formatDiagnosis(d)}`;
  } catch (err) {
    deps.logger.error('Diagnosis failed; notifying without it', { pipeline, executionId, error: errorLine(err) });
    body = `Pipeline ${pipeline}, execution ${executionId}: FAILED.\nThe automatic diagnosis failed (${errorLine(err)}); run \`deployctl diagnose --execution ${executionId}\`.`;
  }
  return {
    subject: truncate(`[safe-deploy] ${pipeline} failed${where}`, 100),
    message: `${body}\n\nExecution: ${link}\nAccount ${event.account}, region ${event.region}, at ${event.time}.`,
  };
}

/** Builds the notification for a CodeDeploy deployment that failed and rolled back. */
export function rollbackNotification(event: EventBridgeEvent<string, CodeDeployDeploymentDetail>): Notification {
  const d = event.detail;
  const region = d.region ?? event.region;
  return {
    subject: truncate(`[safe-deploy] CodeDeploy rollback: ${d.application}/${d.deploymentGroup}`, 100),
    message: [
      `CodeDeploy deployment ${d.deploymentId} of ${d.application} / ${d.deploymentGroup} ended in ${d.state} in account ${event.account}, region ${region}.`,
      'With automatic rollback on alarm or failure, the previous version is serving again; the pipeline stage that started it fails and rolls back.',
      'Why: open the deployment (alarm that fired, or failed lifecycle hook), or run `deployctl diagnose`.',
      `Deployment: ${consoleLinks.deployment(region, d.deploymentId)}`,
      `At ${event.time}.`,
    ].join('\n'),
  };
}

/** Routes an event to its notification and publishes it to the topic. */
export async function notify(event: NotifierEvent, deps: NotifierDeps): Promise<Notification | undefined> {
  let n: Notification | undefined;
  if (event['detail-type'] === 'CodePipeline Pipeline Execution State Change' && event.detail.state === 'FAILED') {
    n = await pipelineFailureNotification(event, deps);
  } else if (
    event['detail-type'] === 'CodeDeploy Deployment State-change Notification' &&
    ['FAILURE', 'STOP'].includes(event.detail.state)
  ) {
    n = rollbackNotification(event);
  }
  if (!n) {
    deps.logger.info('Event ignored', { detailType: event['detail-type'] });
    return undefined;
  }
  const message = n;
  await retry(() => deps.sns.send(new PublishCommand({ TopicArn: deps.topicArn, Subject: message.subject, Message: message.message })), {
    ...deps.retry,
    shouldRetry: isTransientError,
  });
  deps.logger.info('Notification published', { subject: n.subject });
  return n;
}

/** Time kept after the diagnosis for publishing (with retries) before the function's timeout. */
export const PUBLISH_RESERVE_MS = 15_000;

const logger = createLogger('pipeline-notifier');
const sns = new SNSClient({ requestHandler: BOUNDED_HTTP });

export const handler = async (
  event: NotifierEvent,
  context?: Pick<Context, 'getRemainingTimeInMillis'>,
): Promise<Notification | undefined> => {
  if (!process.env.TOPIC_ARN) throw new Error('notifier misconfigured: TOPIC_ARN is not set');
  return notify(event, {
    sns,
    topicArn: process.env.TOPIC_ARN,
    logger,
    diagnose: (pipelineName, executionId, region) => diagnosePipeline(createClients(region), { pipelineName, executionId, region }),
    diagnosisBudgetMs: context && (() => Math.max(1_000, context.getRemainingTimeInMillis() - PUBLISH_RESERVE_MS)),
  });
};
