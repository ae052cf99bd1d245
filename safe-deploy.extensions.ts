/**
 * Code your services need beyond what safe-deploy.config.json offers, by service name: a queue, a
 * table, grants, more alarms. Each function runs for every deployment target, after the service's
 * stack is built. See README, "Put your own services through it".
 *
 *   import * as sqs from 'aws-cdk-lib/aws-sqs';
 *   import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
 *   import { LambdaServiceStack } from './lib/stacks/lambda-service-stack';
 *
 *   export const extensions: ServiceExtensions = {
 *     'billing-worker': (stack) => {
 *       if (!(stack instanceof LambdaServiceStack)) return;
 *       const queue = new sqs.Queue(stack, 'Jobs', { enforceSSL: true });
 *       // Event sources attach to the alias, so CodeDeploy's canary shifts the queue's traffic too.
 *       stack.service.alias.addEventSource(new SqsEventSource(queue));
 *     },
 *   };
 */
import type { ServiceExtensions } from './lib/pipeline/service-stage';

export const extensions: ServiceExtensions = {};
