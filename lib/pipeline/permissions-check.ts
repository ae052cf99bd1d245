import * as cdk from 'aws-cdk-lib';
import { Duration, Stack } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as cpa from 'aws-cdk-lib/aws-codepipeline-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as pipelines from 'aws-cdk-lib/pipelines';
import { Construct } from 'constructs';
import { HandlerFunction } from '../constructs/handler-function';
import { acknowledgeFindings } from '../constructs/shared/acknowledge';
import { AcknowledgeGeneratedWildcards } from './generated-wildcards';
import { RELEASE_MANIFEST_FILE } from './release-manifest';

/** Properties of the shared machinery of the permission checks. */
export interface PermissionsCheckProps {
  /** The pipeline's name (the approver may act on this pipeline only). */
  readonly pipelineName: string;
  /** The aws-cdk CLI version to run `cdk diff` with. */
  readonly cliVersion: string;
  /** Where a broadening is announced. @default - not announced; the pending approval shows it */
  readonly topic?: sns.ITopic;
  /** CodeBuild settings of the check. */
  readonly buildEnvironment: codebuild.BuildEnvironment;
}

/**
 * One CodeBuild project and one approver function for every wave's permission check: the project
 * runs the pinned `cdk diff --security-only --fail` over the wave's targets (read from the release
 * manifest in the cloud assembly); with no broadening it has the approver approve the wave's
 * confirmation, otherwise a person must. CDK Pipelines' ConfirmPermissionsBroadening does the same
 * per target (two actions each) and installs the latest CLI; this does it per wave, pinned.
 */
export class PermissionsCheck extends Construct {
  readonly project: codebuild.Project;
  readonly approver: HandlerFunction;

  constructor(scope: Construct, id: string, props: PermissionsCheckProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.approver = new HandlerFunction(this, 'Approver', {
      entry: 'approve-permissions/index.ts',
      description: `Approves a wave of ${props.pipelineName} when cdk diff found no security-impacting change`,
      timeout: Duration.minutes(5),
    });
    const pipelineArn = stack.formatArn({ service: 'codepipeline', resource: props.pipelineName });
    this.approver.addToRolePolicy(new iam.PolicyStatement({ actions: ['codepipeline:GetPipelineState'], resources: [pipelineArn] }));
    this.approver.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['codepipeline:PutApprovalResult'], resources: [`${pipelineArn}/*`] }),
    );
    acknowledgeFindings(this.approver.executionRole, {
      [`AwsSolutions-IAM5[Resource::${stack.resolve(pipelineArn)}/*]`]:
        "PutApprovalResult is authorised on the approval action's ARN (<pipeline>/<stage>/<action>); the wildcard spans the actions of this one pipeline, and the function approves only the action the check names.",
    });

    const announce = props.topic
      ? 'aws sns publish --topic-arn "$TOPIC_ARN" --subject "Confirm permission broadening in $WAVE" --message "A change would broaden permissions in $WAVE of $PIPELINE_NAME. Review: $LINK  Approve or reject: $PIPELINE_LINK"'
      : 'true';
    this.project = new codebuild.Project(this, 'Project', {
      description: `cdk diff --security-only over one wave of ${props.pipelineName}`,
      environment: props.buildEnvironment,
      environmentVariables: {
        APPROVER: { value: this.approver.functionName },
        ...(props.topic ? { TOPIC_ARN: { value: props.topic.topicArn } } : {}),
      },
      buildSpec: codebuild.BuildSpec.fromObject({
        version: '0.2',
        env: { 'exported-variables': ['LINK', 'MESSAGE'] },
        phases: {
          install: { 'runtime-versions': { nodejs: '22' }, commands: [`npm install -g aws-cdk@${props.cliVersion}`] },
          build: {
            commands: [
              'export PIPELINE_NAME="${CODEBUILD_INITIATOR#codepipeline/}"',
              `PATTERNS="$(node -e 'const m = require("./${RELEASE_MANIFEST_FILE}"); const t = m.waves[process.env.WAVE]; if (!t) { console.error("no wave " + process.env.WAVE); process.exit(2); } console.log(t.map((x) => x.stagePath + "/*").join(" "))')"`,
              'export LINK="https://$AWS_REGION.console.aws.amazon.com/codesuite/codebuild/projects/${CODEBUILD_BUILD_ID%%:*}/build/$CODEBUILD_BUILD_ID/?region=$AWS_REGION"',
              'export PIPELINE_LINK="https://$AWS_REGION.console.aws.amazon.com/codesuite/codepipeline/pipelines/$PIPELINE_NAME/view?region=$AWS_REGION"',
              'payload="{\\"PipelineName\\":\\"$PIPELINE_NAME\\",\\"StageName\\":\\"$WAVE\\",\\"ActionName\\":\\"$APPROVAL_ACTION\\"}"',
              // An error of cdk diff (no access, no template) counts as "needs a person", never as "no change".
              `if cdk diff -a . --security-only --fail $PATTERNS; then aws lambda invoke --function-name "$APPROVER" --invocation-type Event --cli-binary-format raw-in-base64-out --payload "$payload" /dev/null && export MESSAGE="No security-impacting changes detected."; else ${announce}; export MESSAGE="This wave would make security-impacting changes (or the check could not run). Open the link to review them, then approve or reject."; fi`,
            ],
          },
        },
      }),
      timeout: Duration.minutes(30),
    });
    this.approver.grantInvoke(this.project);
    acknowledgeFindings(this.project, {
      [`AwsSolutions-IAM5[Resource::<${stack.getLogicalId(this.approver.node.defaultChild as cdk.CfnElement)}.Arn>:*]`]:
        'grantInvoke covers the approver function and its versions and aliases (:*); the project can invoke this one function only.',
    });
    // The project's artifact, log and report grants have the shapes CDK Pipelines' own projects have.
    cdk.Aspects.of(this).add(new AcknowledgeGeneratedWildcards());
    props.topic?.grantPublish(this.project);
    // cdk diff reads the deployed templates through the target accounts' bootstrap roles.
    this.project.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['sts:AssumeRole'],
        resources: ['arn:*:iam::*:role/*'],
        conditions: { 'ForAnyValue:StringEquals': { 'iam:ResourceTag/aws-cdk:bootstrap-role': ['deploy', 'lookup'] } },
      }),
    );
  }
}

/** Properties of a WavePermissionsCheck step. */
export interface WavePermissionsCheckProps {
  /** The pipeline stage (wave) it guards, e.g. "Prod-Wave2". */
  readonly waveName: string;
  /** The shared project and approver. */
  readonly check: PermissionsCheck;
}

/**
 * A pipeline step before a production wave: Check (the project above) then Confirm (a manual
 * approval the approver passes when nothing broadens). Two actions per wave, whatever its size.
 */
export class WavePermissionsCheck extends pipelines.Step implements pipelines.ICodePipelineActionFactory {
  constructor(
    id: string,
    private readonly props: WavePermissionsCheckProps,
  ) {
    super(id);
  }

  produceAction(stage: codepipeline.IStage, options: pipelines.ProduceActionOptions): pipelines.CodePipelineActionFactoryResult {
    const namespace = `PermissionsCheck-${this.props.waveName}`;
    const approveActionName = `${options.actionName}.Confirm`;
    stage.addAction(
      new cpa.CodeBuildAction({
        actionName: `${options.actionName}.Check`,
        runOrder: options.runOrder,
        input: options.artifacts.toCodePipeline(options.pipeline.cloudAssemblyFileSet),
        project: this.props.check.project,
        variablesNamespace: namespace,
        environmentVariables: { WAVE: { value: this.props.waveName }, APPROVAL_ACTION: { value: approveActionName } },
      }),
    );
    stage.addAction(
      new cpa.ManualApprovalAction({
        actionName: approveActionName,
        runOrder: options.runOrder + 1,
        additionalInformation: `#{${namespace}.MESSAGE}`,
        externalEntityLink: `#{${namespace}.LINK}`,
      }),
    );
    return { runOrdersConsumed: 2 };
  }
}
