import { Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * The rule packs the product runs, and the id prefix each gives its findings. AwsSolutions and
 * Serverless run at every synth (bin/app.ts); NIST 800-53 R5 and the Control Tower proactive
 * controls (cfn-guard) run in `npm test` (test/policy/security-packs.test.ts).
 */
export const RULE_PACKS = {
  awsSolutions: 'AwsSolutions',
  serverless: 'Serverless',
  nist80053r5: 'NIST.800.53.R5',
  controlTower: 'cdk-validator-cfnguard',
} as const;

/** A Control Tower proactive control as `Validations.acknowledge` matches it (the cfn-guard rule name, namespaced). */
const ct = (guardRule: string) => `${RULE_PACKS.controlTower}::${guardRule}`;

/**
 * One control as each pack names it. The same control in several packs is acknowledged once, with
 * one reason, through `acknowledgeRule(scope, 'lambdaDlq', reason)`: a reviewer reads one reason,
 * and a pack added later only needs its id added here.
 */
export const EQUIVALENT_RULES = {
  /** A Lambda function has no dead-letter queue or on-failure destination for async invocations. */
  lambdaDlq: ['Serverless-LambdaDLQ', 'NIST.800.53.R5-LambdaDLQ'],
  /** A Lambda function does not run the newest runtime of its language. */
  lambdaRuntime: ['AwsSolutions-L1', 'Serverless-LambdaLatestVersion'],
  /** A Lambda function has no reserved concurrency. */
  lambdaConcurrency: ['NIST.800.53.R5-LambdaConcurrency'],
  /** A Lambda function is not attached to a VPC. */
  lambdaInVpc: ['NIST.800.53.R5-LambdaInsideVPC', ct('lambda_inside_vpc_check')],
  /** A Lambda function uses the 128 MB default memory size. */
  lambdaMemory: ['Serverless-LambdaDefaultMemorySize'],
  /** A Lambda function or its URL may be invoked by anyone. */
  lambdaPublic: [
    'NIST.800.53.R5-LambdaFunctionPublicAccessProhibited',
    ct('lambda_function_public_access_prohibited_check'),
    ct('lambda_function_url_auth_check'),
  ],
  /** A Step Functions state machine does not trace with X-Ray. */
  stateMachineTracing: ['Serverless-StepFunctionStateMachineXray', ct('step_functions_state_machine_tracing_enabled_check')],
  /** A CloudWatch log group is not encrypted with a customer-managed KMS key. */
  logGroupKms: ['NIST.800.53.R5-CloudWatchLogGroupEncrypted', ct('cloudwatch_log_group_encrypted_check')],
  /** A CloudWatch log group keeps its events for less than a year. */
  logGroupRetention: [ct('cloudwatch_log_group_retention_period_check')],
  /** A CloudWatch alarm has no alarm, OK or insufficient-data action. */
  alarmAction: ['NIST.800.53.R5-CloudWatchAlarmAction', ct('cloudwatch_alarm_action_check')],
  /** An IAM role carries an inline policy. */
  inlinePolicy: ['NIST.800.53.R5-IAMNoInlinePolicy'],
  /** An S3 bucket is not encrypted with a KMS key. */
  s3Kms: ['NIST.800.53.R5-S3DefaultEncryptionKMS', ct('s3_bucket_default_encryption_kms_check')],
  /** An S3 bucket does not replicate to another region. */
  s3Replication: ['NIST.800.53.R5-S3BucketReplicationEnabled'],
  /** An S3 bucket has no server access logging. */
  s3Logging: ['AwsSolutions-S1', 'NIST.800.53.R5-S3BucketLoggingEnabled', ct('s3_bucket_logging_enabled_check')],
  /** An S3 bucket has no object lock. */
  s3ObjectLock: [ct('s3_bucket_object_lock_enabled_check')],
  /** An S3 bucket sends no event notifications. */
  s3EventNotifications: [ct('s3_event_notifications_enabled_check')],
  /** A KMS key policy allows kms:CreateGrant without kms:GrantIsForAWSResource. */
  kmsCreateGrant: [ct('kms_create_grant_aws_service_check')],
  /** A public subnet routes to an internet gateway. */
  igwRoute: ['NIST.800.53.R5-VPCNoUnrestrictedRouteToIGW'],
  /** A load balancer has no deletion protection. */
  elbDeletionProtection: ['NIST.800.53.R5-ELBDeletionProtectionEnabled', ct('elbv2_deletion_protection_enabled_check')],
  /** An application load balancer has no WAF web ACL. */
  albWaf: ['NIST.800.53.R5-ALBWAFEnabled'],
  /** An ALB listener serves plain HTTP (no redirect to HTTPS, no ACM certificate). */
  albHttp: [
    'NIST.800.53.R5-ALBHttpToHttpsRedirection',
    'NIST.800.53.R5-ELBv2ACMCertificateRequired',
    ct('alb_http_to_https_redirection_check'),
  ],
  /** A security group admits the internet on a common port. */
  openCommonPorts: ['NIST.800.53.R5-EC2RestrictedCommonPorts', 'NIST.800.53.R5-EC2RestrictedSSH'],
  /** A CodeBuild project runs privileged (Docker builds). */
  codeBuildPrivileged: [ct('codebuild_project_environment_privileged_check')],
  /** A CodeBuild project does not configure its logs explicitly. */
  codeBuildLogging: [ct('codebuild_project_logging_enabled_check')],
  /** An SQS queue has no dead-letter queue of its own. */
  sqsDlq: ['AwsSolutions-SQS3', 'Serverless-SQSRedrivePolicy', ct('sqs_dlq_check')],
  /** A container of a task definition runs as root, writes its root file system, or has no memory hard limit. */
  sidecarContainer: [
    ct('ecs_task_definition_nonroot_user_check'),
    ct('ecs_containers_readonly_access_check'),
    ct('ecs_task_definition_memory_hard_limit_check'),
  ],
  /** A Lambda function does not trace with X-Ray (a warning of the Serverless pack). */
  lambdaTracing: ['Serverless-LambdaTracing'],
} as const satisfies Record<string, readonly string[]>;

/** A control, by its name in EQUIVALENT_RULES. */
export type EquivalentRule = keyof typeof EQUIVALENT_RULES;

/**
 * Acknowledges every pack's id of one control on `scope` (and what it contains) with one reason.
 * `extraIds` adds ids that only make sense here (e.g. a finding-specific `AwsSolutions-IAM5[...]`).
 */
export function acknowledgeRule(scope: IConstruct, rule: EquivalentRule, reason: string, extraIds: readonly string[] = []): void {
  for (const id of [...EQUIVALENT_RULES[rule], ...extraIds]) Validations.of(scope).acknowledge({ id, reason });
}
