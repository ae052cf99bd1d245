import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';

/**
 * What the Lambda and ECS canary services share: a deployment group that rolls back on alarm, the
 * alarms it watches, and the alarms the service's composite health alarm watches.
 */
export abstract class CanaryService extends Construct {
  /** The CodeDeploy deployment group that shifts this service's traffic. */
  abstract readonly deploymentGroup: { addAlarm(alarm: cloudwatch.IAlarm): void };
  /** Alarms that roll a deployment back, in the order the deployment group lists them. */
  protected readonly rollbackAlarms: cloudwatch.IAlarm[] = [];
  /** Alarms the composite health alarm (gates, AppConfig monitors) watches. */
  protected readonly healthAlarms: cloudwatch.IAlarm[] = [];

  /** Adds an alarm that rolls a deployment back; it also feeds the composite health alarm. */
  addAlarm(alarm: cloudwatch.IAlarm): void {
    this.deploymentGroup.addAlarm(alarm);
    this.rollbackAlarms.push(alarm);
    this.healthAlarms.push(alarm);
  }

  /** The alarms that roll a deployment back: the service's own first, then added ones. */
  get alarms(): cloudwatch.IAlarm[] {
    return [...this.rollbackAlarms];
  }
}
