import * as lambda from 'aws-cdk-lib/aws-lambda';
import { fieldProblem } from '../shared/limits';
import { judgeProblems } from '../shared/service-judge';
import { reservedConcurrencyField } from './limits';
import type { CanaryLambdaServiceProps } from '.';

/** Refuses a CanaryLambdaService's props with every problem at once, each naming the prop, its value and the fix. */
export function validate(props: CanaryLambdaServiceProps, aliasName: string): void {
  const problems: string[] = [];
  if (!/^(?!^[0-9]+$)[a-zA-Z0-9-_]{1,128}$/.test(aliasName)) {
    problems.push(
      `aliasName: ${JSON.stringify(aliasName)} is not a Lambda alias name: use letters, digits, '-' or '_' (not only digits), e.g. "live"`,
    );
  }
  const checkTimeout = props.hookCheckTimeout?.toSeconds() ?? 30;
  if (checkTimeout < 1 || checkTimeout > 600)
    problems.push(`hookCheckTimeout: ${checkTimeout} s is out of range: use 1 to 600 seconds, e.g. Duration.seconds(30)`);
  if (props.judge) problems.push(...judgeProblems(props.judge));
  if (props.healthCheck && props.invokeCheck)
    problems.push('healthCheck and invokeCheck are both set: give an HTTP service a healthCheck, an event-driven one an invokeCheck');
  const concurrency = fieldProblem('reservedConcurrentExecutions', reservedConcurrencyField, props.reservedConcurrentExecutions);
  if (concurrency) problems.push(concurrency);
  if (props.functionUrlAuthType === lambda.FunctionUrlAuthType.NONE && props.reservedConcurrentExecutions === undefined) {
    problems.push(
      'reservedConcurrentExecutions: is not set, and the Function URL is public (auth NONE): a flood of anonymous requests could use the whole account concurrency and throttle ' +
        'the deployment hooks; set a cap (e.g. 100) or use FunctionUrlAuthType.AWS_IAM',
    );
  }
  if (problems.length > 0) throw new Error(`Invalid CanaryLambdaService props:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
}
