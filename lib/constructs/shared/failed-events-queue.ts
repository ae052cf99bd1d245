import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { acknowledgeRule } from '../../policy/acknowledgements';

/** Properties of a FailedEventsQueue. */
export interface FailedEventsQueueProps {
  /** What lands in the queue, for the alarm's description. */
  readonly purpose: string;
}

/**
 * Where notification events go when they cannot be delivered (an EventBridge target that keeps
 * failing, a notifier invocation that fails all its retries): an SQS queue encrypted with SQS-managed
 * keys (EventBridge and Lambda deliver to it without a key policy), TLS-only, kept 14 days (SQS's
 * maximum) so an operator can read what was lost; an alarm fires as soon as one message is there.
 */
export class FailedEventsQueue extends Construct {
  readonly queue: sqs.Queue;
  /** In ALARM while the queue holds any message. */
  readonly alarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: FailedEventsQueueProps) {
    super(scope, id);
    this.queue = new sqs.Queue(this, 'Queue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    acknowledgeRule(
      this.queue,
      'sqsDlq',
      'This queue is itself the dead-letter queue of undeliverable notification events; a queue behind it would never be read.',
    );
    this.alarm = this.queue
      .metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' })
      .createAlarm(this, 'NotEmpty', {
        threshold: 0,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: `${props.purpose} could not be delivered and waits in ${this.queue.node.path} (kept 14 days): read it, then run deployctl diagnose.`,
      });
  }
}
