import { createHash } from 'node:crypto';
/** Fixed role names: the gate in the pipeline account and the readers in service accounts meet by name. */

/** Role of the bake gate function in the pipeline account. */
export function gateFunctionRoleName(appName: string): string {
  return `${appName}-bake-gate`;
}

/** Role the gate assumes in a service account and region (IAM names are per account, so the region is in it). */
export function gateReaderRoleName(appName: string, region: string): string {
  return `${appName}-gate-reader-${region}`;
}

/** ARN of a GateReaderRole. */
export function gateReaderRoleArn(appName: string, account: string, region: string, partition = 'aws'): string {
  return `arn:${partition}:iam::${account}:role/${gateReaderRoleName(appName, region)}`;
}

/** The parts of an ARN cdk-nag shows in a finding id: literals when they resolve, `<AWS::...>` otherwise. */
export interface ArnParts {
  readonly partition: string;
  readonly region: string;
  readonly account: string;
}

/**
 * The resource as cdk-nag names it in an IAM5 finding (`AwsSolutions-IAM5[Resource::<this>]`), so an
 * acknowledgement matches whether or not partition literals are enabled.
 */
export function nagResource(resolve: (x: unknown) => unknown, actual: ArnParts, build: (p: ArnParts) => string): string {
  const literal = resolve(build(actual));
  if (typeof literal === 'string') return literal;
  const part = (v: string, placeholder: string) => (typeof resolve(v) === 'string' ? (resolve(v) as string) : placeholder);
  return build({
    partition: part(actual.partition, '<AWS::Partition>'),
    region: part(actual.region, '<AWS::Region>'),
    account: part(actual.account, '<AWS::AccountId>'),
  });
}

/**
 * Reader role name for one pipeline target (a CDK Stage such as "Prod-us-west-2"): unique even when
 * several stages share an account and region. Falls back to a hash when IAM's 64 characters run out.
 */
export function gateReaderRoleNameForTarget(appName: string, targetStageName: string): string {
  const name = `${appName}-gate-reader-${targetStageName}`;
  return name.length <= 64 ? name : `${appName}-gate-reader-${createHash('sha256').update(targetStageName).digest('hex').slice(0, 16)}`;
}
