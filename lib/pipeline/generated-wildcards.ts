import { IAspect, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { IConstruct } from 'constructs';
import { flattenCfnReference } from '../policy/intrinsics';

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

/** A wildcard shape that CDK Pipelines' own grants produce, and why it is acceptable. */
interface KnownWildcard {
  /** Whether a whole statement has this shape. */
  readonly matches: (actions: string[], resources: string[], statement: Statement) => boolean;
  /** The reason recorded with the acknowledgement. */
  readonly reason: string;
}

const all = (xs: string[], p: (x: string) => boolean) => xs.length > 0 && xs.every(p);
const hasCondition = (s: Statement, key: string) => Object.values(s.Condition ?? {}).some((c) => key in c);

/**
 * The wildcard statements CDK Pipelines generates for its CodeBuild projects, pipeline and action
 * roles. Each is reviewed here once; a statement of any other shape is left for cdk-nag to report.
 */
const KNOWN_WILDCARDS: KnownWildcard[] = [
  {
    matches: (a, r) =>
      all(a, (x) => /^s3:(Abort\*|DeleteObject\*|GetBucket\*|GetObject\*|List\*|PutObject\w*)$/.test(x)) &&
      all(r, (x) => /[Bb]ucket|bucket/.test(x)),
    reason:
      'CDK bucket grant: object actions on the pipeline artifact bucket (or its cross-region replication bucket) and its objects only.',
  },
  {
    matches: (a) => all(a, (x) => /^kms:(Decrypt|DescribeKey|Encrypt|GenerateDataKey\*|ReEncrypt\*)$/.test(x)),
    reason:
      "CDK key grant for the artifact encryption keys: the artifact key by ARN, and the replication keys of the cross-region support stacks as the keys of those regions carrying the replication keys' aliases (kms:ResourceAliases; lib/pipeline/cross-region-support.ts).",
  },
  {
    matches: (a, r) => all(a, (x) => x.startsWith('logs:')) && all(r, (x) => x.includes(':log-group:/aws/codebuild/')),
    reason:
      "CodeBuild log groups only (/aws/codebuild/...): the project's own, or for the shared asset-publishing role, those of the asset projects whose names CDK Pipelines generates.",
  },
  {
    matches: (a, r) => all(a, (x) => x.startsWith('codebuild:')) && all(r, (x) => x.includes(':report-group/')),
    reason:
      'CodeBuild test-report groups only: those named after the project, or for the shared asset-publishing role, those of the generated asset projects.',
  },
  {
    matches: (a, r) =>
      all(a, (x) => ['codebuild:BatchGetBuilds', 'codebuild:StartBuild', 'codebuild:StopBuild'].includes(x)) && all(r, (x) => x === '*'),
    reason:
      'The shared asset-publishing role runs the asset CodeBuild projects that CDK Pipelines generates (one per asset, names unknown at synth); it can start and read builds, nothing else.',
  },
  {
    matches: (a, r) => a.length === 1 && a[0] === 'ecr:GetAuthorizationToken' && all(r, (x) => x === '*'),
    reason:
      'ecr:GetAuthorizationToken has no resource-level permissions; pushes are limited to the project repository by the next statement.',
  },
  {
    matches: (a, _r, s) => a.length === 1 && a[0] === 'sts:AssumeRole' && hasCondition(s, 'iam:ResourceTag/aws-cdk:bootstrap-role'),
    reason:
      'Only roles tagged as CDK bootstrap roles (deploy / file-publishing / image-publishing) can be assumed, by the condition on the statement.',
  },
  {
    matches: (a, r) => all(a, (x) => x === 'cloudformation:DescribeStacks' || x === 's3:ListBucket') && all(r, (x) => x === '*'),
    reason:
      'Self-mutation runs `cdk deploy`, which reads the bootstrap stack and bucket before deploying; read-only, no resource names known at synth.',
  },
  {
    matches: (a, r, s) =>
      all(a, (x) => x === 'codepipeline:GetPipelineState' || x === 'codepipeline:PutApprovalResult') &&
      all(r, (x) => x === '*') &&
      hasCondition(s, 'aws:ResourceTag/SECURITY_CHECK'),
    reason:
      'The security-check auto-approver may only approve pipelines tagged SECURITY_CHECK=ALLOW_APPROVE, by the condition on the statement.',
  },
  {
    matches: (a, r) => a.length === 1 && a[0] === 'lambda:ListFunctions' && all(r, (x) => x === '*'),
    reason:
      "CodePipeline's Lambda invoke action role: ListFunctions has no resource-level permissions; the role may invoke only the one function named in its other statement.",
  },
  {
    matches: (a, r) =>
      all(a, (x) => x === 'lambda:InvokeFunction') && all(r, (x) => !x.startsWith('*') && (x.endsWith(':*') || !x.includes('*'))),
    reason: 'Versions and aliases (<function>:*) of the one function named in the statement.',
  },
];

/**
 * Acknowledges cdk-nag's AwsSolutions-IAM5 findings on the wildcard statements that CDK Pipelines
 * generates under the scope it is applied to, one finding at a time, with the reviewed reason.
 */
export class AcknowledgeGeneratedWildcards implements IAspect {
  visit(node: IConstruct): void {
    if (!(node instanceof iam.CfnPolicy)) return;
    const document = Stack.of(node).resolve(node.policyDocument) as { Statement?: Statement[] };
    for (const statement of document.Statement ?? []) {
      if (statement.Effect !== 'Allow') continue;
      const actions = ([] as string[]).concat(statement.Action);
      const resources = ([] as unknown[]).concat(statement.Resource ?? []).map(flattenCfnReference);
      const known = KNOWN_WILDCARDS.find((k) => k.matches(actions, resources, statement));
      if (!known) continue;
      const findings = [
        ...actions.filter((a) => a.includes('*')).map((a) => `Action::${a}`),
        ...resources.filter((r) => r.includes('*')).map((r) => `Resource::${r}`),
      ];
      for (const finding of findings) {
        Validations.of(node).acknowledge({ id: `AwsSolutions-IAM5[${finding}]`, reason: known.reason });
      }
    }
  }
}
