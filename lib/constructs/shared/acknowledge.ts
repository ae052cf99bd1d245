import { Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * Acknowledges policy-validation findings (cdk-nag, CloudFormation validation) on `scope`, each
 * with the reason it is accepted: `{ 'AwsSolutions-L1': 'why', ... }`.
 */
export function acknowledgeFindings(scope: IConstruct, reasons: Readonly<Record<string, string>>): void {
  for (const [id, reason] of Object.entries(reasons)) Validations.of(scope).acknowledge({ id, reason });
}
