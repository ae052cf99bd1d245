import { Duration, IResolvable, IResolveContext, Stack } from 'aws-cdk-lib';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { accessLogBucket } from '../constructs/artifact-store';

/** The KMS actions CDK grants a role on an artifact bucket's key. */
const KEY_ACTIONS = /^kms:(Decrypt|DescribeKey|Encrypt|GenerateDataKey\*|ReEncrypt\*)$/;

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
  [key: string]: unknown;
}

/** A replication key of the pipeline: its region and its alias (CDK names it at synth). */
export interface ReplicationKey {
  readonly region: string;
  readonly alias: kms.IAlias;
}

/** The cross-region replication buckets of a pipeline (not its own region's artifact bucket). */
export function replicationSupport(pipeline: codepipeline.Pipeline): Array<{ region: string; bucket: s3.Bucket; stack: Stack }> {
  const home = Stack.of(pipeline).region;
  return Object.entries(pipeline.crossRegionSupport)
    .filter(([region]) => region !== home)
    .map(([region, support]) => {
      if (!(support.replicationBucket instanceof s3.Bucket))
        throw new Error(`cross-region support of ${region}: expected the bucket CDK Pipelines creates, found an imported one`);
      return { region, bucket: support.replicationBucket, stack: support.stack };
    });
}

/**
 * Scopes the pipeline role's grant on the replication keys. CDK grants a role on a key in another
 * region with `Resource: "*"` (a key ARN cannot be referenced across regions), which allows
 * Encrypt/Decrypt/GenerateDataKey on every key of the account whose key policy defers to IAM.
 * The statement is rewritten, as the policy is rendered, into: the same actions on the keys of the
 * replication regions of this account (`arn:...:kms:<region>:<account>:key/*`) that carry one of the
 * replication keys' aliases (`kms:ResourceAliases`, which KMS evaluates for every key operation:
 * AWS KMS developer guide, "Use aliases to control access to KMS keys"). Statements that name the
 * artifact key by ARN are kept as they are.
 */
export function scopeReplicationKeyGrants(pipeline: codepipeline.Pipeline, keys: readonly ReplicationKey[]): void {
  if (keys.length === 0) return;
  const role = pipeline.role;
  const policy = role.node.tryFindChild('DefaultPolicy');
  if (!(policy instanceof iam.Policy))
    throw new Error(`scopeReplicationKeyGrants: the pipeline role ${role.node.path} has no DefaultPolicy`);
  const cfn = policy.node.defaultChild as iam.CfnPolicy;
  cfn.policyDocument = new ScopedKeyDocument(cfn.policyDocument, Stack.of(pipeline), keys);
}

class ScopedKeyDocument implements IResolvable {
  readonly creationStack: string[] = [];
  constructor(
    private readonly document: unknown,
    private readonly stack: Stack,
    private readonly keys: readonly ReplicationKey[],
  ) {}

  resolve(context: IResolveContext): unknown {
    context.registerPostProcessor({ postProcess: (doc) => this.rewrite(doc as { Statement?: Statement[] }) });
    return this.document;
  }

  private rewrite(doc: { Statement?: Statement[] }): unknown {
    const aliases = this.keys.map((k) => this.stack.resolve(k.alias.aliasName));
    if (!aliases.every((a): a is string => typeof a === 'string' && a.startsWith('alias/'))) {
      throw new Error(`scopeReplicationKeyGrants: the replication keys' aliases are not known at synth (${JSON.stringify(aliases)})`);
    }
    const keyArns = this.keys.map((k) => `arn:${this.stack.partition}:kms:${k.region}:${this.stack.account}:key/*`);
    const statements = (doc.Statement ?? []).flatMap((s): Statement[] => {
      const actions = ([] as string[]).concat(s.Action);
      const resources = ([] as unknown[]).concat(s.Resource ?? []);
      if (s.Effect !== 'Allow' || s.Condition || !actions.every((a) => KEY_ACTIONS.test(a)) || !resources.includes('*')) return [s];
      const named = resources.filter((r) => r !== '*');
      return [
        ...(named.length > 0 ? [{ ...s, Resource: named.length === 1 ? named[0] : named }] : []),
        {
          Effect: 'Allow',
          Action: s.Action,
          Resource: keyArns.length === 1 ? keyArns[0] : keyArns,
          Condition: { 'ForAnyValue:StringEquals': { 'kms:ResourceAliases': aliases } },
        },
      ];
    });
    return { ...doc, Statement: statements };
  }
}

/**
 * Brings CDK Pipelines' replication buckets (one per other region, in its cross-region support
 * stacks) to the artifact bucket's standard: versioned, artifacts expiring after the same retention
 * as the artifact bucket (a stage rolls back to an execution only while its artifacts exist) and old
 * versions 30 days after, server access logs into a log bucket of their own. CDK already makes them
 * KMS-encrypted (the replication key), TLS-only and private.
 */
export function hardenReplicationBuckets(pipeline: codepipeline.Pipeline, retentionDays: number): void {
  for (const { bucket, stack } of replicationSupport(pipeline)) {
    const cfn = bucket.node.defaultChild as s3.CfnBucket;
    cfn.versioningConfiguration = { status: 'Enabled' };
    bucket.addLifecycleRule({
      id: 'ExpireOldArtifacts',
      expiration: Duration.days(retentionDays),
      noncurrentVersionExpiration: Duration.days(30),
    });
    bucket.addLifecycleRule({ id: 'AbortIncompleteUploads', abortIncompleteMultipartUploadAfter: Duration.days(7) });
    const logs = accessLogBucket(stack, 'ReplicationAccessLogs', retentionDays, 'the replication bucket of the pipeline artifacts');
    cfn.loggingConfiguration = { destinationBucketName: logs.bucketName, logFilePrefix: 'replication/' };
    logs.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'S3ServerAccessLogsPolicy',
        principals: [new iam.ServicePrincipal('logging.s3.amazonaws.com')],
        actions: ['s3:PutObject'],
        resources: [logs.arnForObjects('replication/*')],
        conditions: { ArnLike: { 'aws:SourceArn': bucket.bucketArn }, StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
    );
  }
}
