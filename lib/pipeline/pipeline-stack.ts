import * as cdk from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as pipelines from 'aws-cdk-lib/pipelines';
import { RegionInfo } from 'aws-cdk-lib/region-info';
import { Construct } from 'constructs';
import { pipelineName, waveAccount } from '../config/load-config';
import type { SafeDeployConfig, StageConfig } from '../config/schema';
import { ArtifactStore } from '../constructs/artifact-store';
import { DeploymentSafety, gateReaderRoleNameForTarget } from '../constructs/deployment-safety';
import { AcknowledgeGeneratedWildcards } from './generated-wildcards';
import { ServiceStage } from './service-stage';

/** Properties of the PipelineStack. */
export interface PipelineStackProps extends cdk.StackProps {
  /** The validated configuration. */
  readonly config: SafeDeployConfig;
  /** The git commit being synthesized: the tag of the container image every stage runs. */
  readonly commit: string;
  /** The aws-cdk CLI version the pipeline's CodeBuild steps install (the repo's pinned one). */
  readonly cliVersion: string;
}

/** A pipeline stage (one wave) and the deployment targets in it, for the safety wiring. */
export interface DeployedWave {
  /** The CodePipeline stage's name, e.g. "Prod-Wave1". */
  readonly pipelineStageName: string;
  /** The configuration stage it belongs to. */
  readonly stage: StageConfig;
  /** Index of the wave within its stage. */
  readonly waveIndex: number;
  /** The CDK stages (one per region) deployed by this wave. */
  readonly targets: ServiceStage[];
}

/**
 * The self-mutating delivery pipeline: GitHub (CodeConnections) → build, test and synth once →
 * update itself → publish assets and the container image once → pre-production (smoke-tested) →
 * production in waves, guarded by a security-diff check and optional manual approval.
 */
export class PipelineStack extends cdk.Stack {
  /** The CDK pipeline; `pipeline.pipeline` is the built CodePipeline. */
  readonly pipeline: pipelines.CodePipeline;
  /** Artifact bucket and image repository. */
  readonly artifacts: ArtifactStore;
  /** Every wave, in order. */
  readonly waves: DeployedWave[] = [];
  /** Bake gates, production rollback on failure and notifications. */
  readonly safety: DeploymentSafety;

  constructor(scope: Construct, id: string, props: PipelineStackProps) {
    super(scope, id, props);
    const { config, commit } = props;
    const account = config.pipeline.account;
    const region = config.pipeline.region;
    const stageAccounts = config.stages.flatMap((s) => s.waves.map((w) => waveAccount(config, s, w)));

    const repositoryName = `${config.appName}-service`;
    this.artifacts = new ArtifactStore(this, 'Artifacts', {
      repositoryName,
      retentionDays: config.artifacts.retentionDays,
      imageCount: config.artifacts.imageCount,
      pullAccounts: stageAccounts.filter((a) => a !== account),
    });

    const { owner, repo, branch, connectionArn } = config.github;
    const source = pipelines.CodePipelineSource.connection(`${owner}/${repo}`, branch, { connectionArn, triggerOnPush: true });
    const buildCache = codebuild.Cache.bucket(this.artifacts.bucket, { prefix: 'build-cache' });
    const buildEnvironment: codebuild.BuildEnvironment = {
      buildImage: codebuild.LinuxBuildImage.STANDARD_7_0,
      computeType: codebuild.ComputeType.MEDIUM,
    };

    const synth = new pipelines.CodeBuildStep('Synth', {
      input: source,
      installCommands: ['npm ci'],
      // The README's test command: a failing type-check or test stops the pipeline here.
      commands: ['npm test', 'npx cdk synth'],
      primaryOutputDirectory: 'cdk.out',
      env: { CI: 'true' },
      buildEnvironment,
      cache: buildCache,
      partialBuildSpec: codebuild.BuildSpec.fromObject({
        phases: { install: { 'runtime-versions': { nodejs: '20' } } },
        cache: { paths: ['/root/.npm/**/*'] },
      }),
    });

    this.pipeline = new pipelines.CodePipeline(this, 'Pipeline', {
      pipelineName: pipelineName(config),
      pipelineType: codepipeline.PipelineType.V2,
      synth,
      selfMutation: true,
      artifactBucket: this.artifacts.bucket,
      crossAccountKeys: true,
      enableKeyRotation: true,
      cliVersion: props.cliVersion,
      publishAssetsInParallel: false,
      codeBuildDefaults: { buildEnvironment },
    });

    // A literal ARN: the stage stacks live in other stages (and accounts), so no cross-stack reference.
    const repositoryArn = `arn:${RegionInfo.get(region).partition ?? 'aws'}:ecr:${region}:${account}:repository/${repositoryName}`;
    const image = { repositoryArn, tag: commit };
    const publishImage = this.publishImageStep(source, buildEnvironment);

    let firstWave = true;
    for (const stage of config.stages) {
      stage.waves.forEach((wave, waveIndex) => {
        const name = wave.name === stage.name ? stage.name : `${stage.name}-${wave.name}`;
        const pipelineWave = this.pipeline.addWave(name);
        if (firstWave) {
          pipelineWave.addPre(publishImage);
          firstWave = false;
        }
        if (waveIndex === 0 && stage.manualApproval) {
          pipelineWave.addPre(new pipelines.ManualApprovalStep(`Approve-${stage.name}`, { comment: `Promote to ${stage.name}?` }));
        }
        const targets = wave.regions.map((targetRegion) => {
          const targetId = `${stage.name}-${targetRegion}`;
          const target = new ServiceStage(this, targetId, {
            env: { account: waveAccount(config, stage, wave), region: targetRegion },
            settings: stage,
            image,
            pipeline: { account, region, appName: config.appName, gateReaderRoleName: gateReaderRoleNameForTarget(config.appName, targetId) },
          });
          const steps = {
            pre: stage.type === 'production' ? [new pipelines.ConfirmPermissionsBroadening(`SecurityCheck-${target.stageName}`, { stage: target })] : [],
            post: stage.type === 'pre-production' ? [smokeTest(target)] : [],
          };
          if (wave.regions.length === 1) {
            // CDK Pipelines names a one-target wave after its Stage ("Prod-us-east-1"); keep the
            // configured name ("Prod-Wave1") so that operators and deployctl see the config's names.
            pipelineWave.stages.push(pipelines.StageDeployment.fromStage(target, { ...steps, stageName: name }));
          } else {
            pipelineWave.addStage(target, steps);
          }
          return target;
        });
        this.waves.push({ pipelineStageName: name, stage, waveIndex, targets });
      });
    }

    this.pipeline.buildPipeline();
    this.triggerOnBranchPush(branch);
    this.safety = new DeploymentSafety(this, 'Safety', {
      pipeline: this.pipeline.pipeline,
      pipelineName: pipelineName(config),
      appName: config.appName,
      notificationEmails: config.notifications.emails,
      stages: this.waves.map((w) => ({
        stageName: w.pipelineStageName,
        type: w.stage.type,
        bake: w.stage.bake,
        deploymentWindow: w.stage.deploymentWindow,
        targets: w.targets.map((t) => ({
          account: t.account!,
          region: t.region!,
          healthAlarmNames: t.healthAlarmNames,
          readerRoleName: t.gateReaderRoleName,
        })),
      })),
    });
    this.acknowledgeGeneratedFindings();
  }

  /** cdk-nag findings on what CDK Pipelines generates, each with its reviewed reason. */
  private acknowledgeGeneratedFindings(): void {
    cdk.Aspects.of(this.pipeline).add(new AcknowledgeGeneratedWildcards());
    const autoApprove = this.pipeline.node.tryFindChild('PipelinesSecurityCheck')?.node.tryFindChild('CDKPipelinesAutoApprove');
    if (autoApprove) {
      cdk.Validations.of(autoApprove).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason: "CDK Pipelines' security-check auto-approver: the basic execution policy only lets it write its own logs.",
      });
    }
    for (const support of Object.values(this.pipeline.pipeline.crossRegionSupport)) {
      cdk.Validations.of(support.replicationBucket).acknowledge({
        id: 'AwsSolutions-S1',
        reason: "CodePipeline's cross-region replication bucket holds transient, KMS-encrypted copies of artifacts that are access-logged in the primary artifact bucket; only the pipeline's roles can use it.",
      });
    }
  }

  /** Builds the service image once per commit and pushes it as `<repo>:<commit>`. */
  private publishImageStep(source: pipelines.CodePipelineSource, env: codebuild.BuildEnvironment): pipelines.CodeBuildStep {
    const repo = this.artifacts.repository;
    return new pipelines.CodeBuildStep('PublishImage', {
      input: source,
      buildEnvironment: { ...env, privileged: true }, // docker build needs the Docker daemon
      env: { REPOSITORY_URI: repo.repositoryUri, REPOSITORY_NAME: repo.repositoryName, REGISTRY: `${this.account}.dkr.ecr.${this.region}.${this.urlSuffix}` },
      commands: [
        'TAG="$CODEBUILD_RESOLVED_SOURCE_VERSION"',
        // Tags are immutable: a re-run of the same commit reuses the image it already published.
        'if aws ecr describe-images --repository-name "$REPOSITORY_NAME" --image-ids imageTag="$TAG" >/dev/null 2>&1; then echo "image $TAG already published"; else ' +
          'aws ecr get-login-password | docker login --username AWS --password-stdin "$REGISTRY" && ' +
          'docker build --label "org.opencontainers.image.revision=$TAG" -t "$REPOSITORY_URI:$TAG" container && ' +
          'docker push "$REPOSITORY_URI:$TAG"; fi',
      ],
      rolePolicyStatements: [
        new iam.PolicyStatement({ actions: ['ecr:GetAuthorizationToken'], resources: ['*'] }),
        new iam.PolicyStatement({
          actions: ['ecr:BatchCheckLayerAvailability', 'ecr:InitiateLayerUpload', 'ecr:UploadLayerPart', 'ecr:CompleteLayerUpload', 'ecr:PutImage', 'ecr:DescribeImages', 'ecr:BatchGetImage'],
          resources: [repo.repositoryArn],
        }),
      ],
    });
  }

  /** A V2 trigger: only pushes to the configured branch start the pipeline. */
  private triggerOnBranchPush(branch: string): void {
    const sourceAction = this.pipeline.pipeline.stages[0].actions[0];
    this.pipeline.pipeline.addTrigger({
      providerType: codepipeline.ProviderType.CODE_STAR_SOURCE_CONNECTION,
      gitConfiguration: { sourceAction, pushFilter: [{ branchesIncludes: [branch] }] },
    });
  }
}

/** Calls the stage's deployed services through their stack outputs; a bad response fails the pipeline. */
function smokeTest(target: ServiceStage): pipelines.ShellStep {
  return new pipelines.ShellStep(`SmokeTest-${target.stageName}`, {
    envFromCfnOutputs: {
      LAMBDA_URL: target.lambdaService.serviceUrl,
      ECS_URL: target.ecsService.serviceUrl,
    },
    commands: [
      smokeCheck('Lambda /health', '${LAMBDA_URL%/}/health', '"status":"ok"'),
      smokeCheck('Lambda /greeting', '${LAMBDA_URL%/}/greeting?name=pipeline', 'pipeline'),
      smokeCheck('ECS /health', '${ECS_URL%/}/health', '"status":"ok"'),
      smokeCheck('ECS /greeting', '${ECS_URL%/}/greeting?name=pipeline', 'pipeline'),
    ],
  });
}

/** One POSIX-sh line: GET the URL (retrying while the service warms up), fail unless the body has `expected`. */
function smokeCheck(what: string, url: string, expected: string): string {
  return `curl -fsS --retry 5 --retry-all-errors --retry-delay 5 --max-time 10 "${url}" | grep -qF '${expected}' || { echo "smoke test failed: ${what} (${url}) did not return the expected body" >&2; exit 1; }`;
}
