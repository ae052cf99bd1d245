import * as path from 'node:path';
import * as cdk from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as pipelines from 'aws-cdk-lib/pipelines';
import { RegionInfo } from 'aws-cdk-lib/region-info';
import { Construct } from 'constructs';
import { pipelineName, REPO_ROOT, waveAccount } from '../config/load-config';
import type { SafeDeployConfig, StageConfig } from '../config/schema';
import type { EcsServiceConfig } from '../config/service-schema';
import { ArtifactStore } from '../constructs/artifact-store';
import { DeploymentSafety, gateReaderRoleNameForTarget } from '../constructs/deployment-safety';
import { ImageReplication, ImageRepository, pullRolePath } from '../constructs/image-repository';
import { acknowledgeRule } from '../policy/acknowledgements';
import type { PublishedImage } from '../stacks/ecs-service-stack';
import { hardenReplicationBuckets, replicationSupport, scopeReplicationKeyGrants } from './cross-region-support';
import { flagQuotaWarnings } from './flag-quotas';
import { AcknowledgeGeneratedWildcards } from './generated-wildcards';
import { dockerPlatform, imageTag } from './images';
import { checkPipelineLayout, validateBuiltPipeline } from './limits';
import { PermissionsCheck, WavePermissionsCheck } from './permissions-check';
import type { ImageSpec, ReleaseManifest } from './release-manifest';
import { ServiceExtensions, ServiceStage } from './service-stage';
import { smokeTest } from './smoke-test';

/** Properties of the PipelineStack. */
export interface PipelineStackProps extends cdk.StackProps {
  /** The validated configuration. */
  readonly config: SafeDeployConfig;
  /** The git commit being synthesized (recorded in the release manifest and the images' labels). */
  readonly commit: string;
  /** The aws-cdk CLI version the pipeline's CodeBuild steps install (the repo's pinned one). */
  readonly cliVersion: string;
  /** The cdk-assets version the pipeline publishes assets with. @default - CDK Pipelines' default */
  readonly cdkAssetsVersion?: string;
  /** Code added to services by name. @default - none */
  readonly extensions?: ServiceExtensions;
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

/** The CodeBuild image and Node.js of every step: Node 20 is past end of life (April 2026). */
const NODE_RUNTIME = codebuild.BuildSpec.fromObject({ phases: { install: { 'runtime-versions': { nodejs: '22' } } } });

/**
 * The self-mutating delivery pipeline: GitHub (CodeConnections) → build, test and synth once →
 * update itself → publish the Lambda bundles and each service's image once → pre-production
 * (smoke-tested) → production in waves, each behind a bake gate and a permission-broadening check.
 */
export class PipelineStack extends cdk.Stack {
  /** The CDK pipeline; `pipeline.pipeline` is the built CodePipeline. */
  readonly pipeline: pipelines.CodePipeline;
  /** The artifact bucket. */
  readonly artifacts: ArtifactStore;
  /** One image repository per ECS service, by service name. */
  readonly repositories: Record<string, ImageRepository> = {};
  /** Every wave, in order. */
  readonly waves: DeployedWave[] = [];
  /** Bake gates, production rollback on failure and notifications. */
  readonly safety: DeploymentSafety;
  private readonly manifestBase: Omit<ReleaseManifest, 'gates'>;
  /** The stacks holding the image replicas, by region. */
  readonly replicaStacks: Record<string, cdk.Stack> = {};

  constructor(scope: Construct, id: string, props: PipelineStackProps) {
    super(scope, id, props);
    const { config, commit } = props;
    const account = config.pipeline.account;
    const region = config.pipeline.region;
    const partition = RegionInfo.get(region).partition ?? 'aws';
    // Refuse, with the numbers, a layout CodePipeline cannot hold, before CDK Pipelines splits stages.
    checkPipelineLayout(config);
    // AppConfig quotas can be raised: warn with the numbers rather than refuse.
    for (const warning of flagQuotaWarnings(config)) cdk.Annotations.of(this).addWarningV2('@safe-deploy/feature-flags:quota', warning);

    const stageAccounts = [...new Set(config.stages.flatMap((s) => s.waves.map((w) => waveAccount(config, s, w))))];
    this.artifacts = new ArtifactStore(this, 'Artifacts', { retentionDays: config.artifacts.retentionDays });
    const images = this.imageRepositories(
      config,
      stageAccounts.filter((a) => a !== account),
    );

    const key = new kms.Key(this, 'NotificationKey', { enableKeyRotation: true, description: `${config.appName} pipeline notifications` });
    const topic = new sns.Topic(this, 'Notifications', { masterKey: key, enforceSSL: true, displayName: `${config.appName} deployments` });

    const { owner, repo, branch, connectionArn } = config.github;
    const source = pipelines.CodePipelineSource.connection(`${owner}/${repo}`, branch, { connectionArn, triggerOnPush: true });
    const buildEnvironment: codebuild.BuildEnvironment = {
      buildImage: codebuild.LinuxBuildImage.STANDARD_7_0,
      computeType: codebuild.ComputeType.MEDIUM,
    };

    const synth = new pipelines.CodeBuildStep('Synth', {
      input: source,
      installCommands: ['npm ci'],
      // The README's test command: a failing type-check, lint or test stops the pipeline here.
      commands: ['npm test', 'npx cdk synth'],
      primaryOutputDirectory: 'cdk.out',
      // CDK_VALIDATION: bin/app.ts runs CloudFormation's template validation over your configuration here.
      env: { CI: 'true', CDK_VALIDATION: 'true' },
      buildEnvironment,
      cache: codebuild.Cache.bucket(this.artifacts.bucket, { prefix: 'build-cache' }),
      // npm's download cache, and .cache/: type-check, jest, ESLint and Prettier caches (see package.json).
      partialBuildSpec: codebuild.BuildSpec.fromObject({ cache: { paths: ['/root/.npm/**/*', '.cache/**/*'] } }),
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
      cdkAssetsCliVersion: props.cdkAssetsVersion,
      publishAssetsInParallel: false,
      // One CloudFormation action per stack instead of two (prepare + execute a change set): a wave
      // of 8 regions × 6 stacks then fits CodePipeline's 50 actions per stage.
      useChangeSets: false,
      codeBuildDefaults: { buildEnvironment, partialBuildSpec: NODE_RUNTIME },
    });
    const permissions = new PermissionsCheck(this, 'PermissionsCheck', {
      pipelineName: pipelineName(config),
      cliVersion: props.cliVersion,
      topic,
      buildEnvironment,
    });

    const imageSteps = Object.values(images).map((spec) => this.publishImageStep(spec, source, synth, buildEnvironment));
    if (imageSteps.length > 0) this.pipeline.addWave('Images', { pre: imageSteps });

    const manifestWaves: Record<string, ReleaseManifest['waves'][string]> = {};
    for (const stage of config.stages) {
      if (stage.manualApproval && stage.type === 'pre-production') {
        this.pipeline.addWave(`Approve-${stage.name}`, {
          pre: [new pipelines.ManualApprovalStep(`Approve-${stage.name}`, { comment: `Promote to ${stage.name}?` })],
        });
      }
      stage.waves.forEach((wave, waveIndex) => {
        const name = wave.name === stage.name ? stage.name : `${stage.name}-${wave.name}`;
        const pre =
          stage.type === 'production' ? [new WavePermissionsCheck(`PermissionsCheck-${name}`, { waveName: name, check: permissions })] : [];
        const pipelineWave = this.pipeline.addWave(name, { pre });
        const targets = wave.regions.map((targetRegion) => {
          const targetId = `${stage.name}-${targetRegion}`;
          const target = new ServiceStage(this, targetId, {
            env: { account: waveAccount(config, stage, wave), region: targetRegion },
            settings: stage,
            services: config.services,
            images: Object.fromEntries(
              Object.entries(images).map(([svc, spec]): [string, PublishedImage] => [
                svc,
                { repositoryArn: `arn:${partition}:ecr:${targetRegion}:${account}:repository/${spec.repositoryName}`, tag: spec.tag },
              ]),
            ),
            pipeline: {
              account,
              region,
              appName: config.appName,
              gateReaderRoleName: gateReaderRoleNameForTarget(config.appName, targetId),
            },
            extensions: props.extensions,
          });
          const smoke = stage.type === 'pre-production' ? smokeTest(target) : undefined;
          const steps = { post: smoke ? [smoke] : [] };
          if (wave.regions.length === 1) {
            // CDK Pipelines names a one-target wave after its Stage ("Prod-us-east-1"); keep the
            // configured name ("Prod-Wave1") so that operators and deployctl see the config's names.
            pipelineWave.stages.push(pipelines.StageDeployment.fromStage(target, { ...steps, stageName: name }));
          } else {
            pipelineWave.addStage(target, steps);
          }
          return target;
        });
        manifestWaves[name] = targets.map((t) => ({ stagePath: t.node.path, account: t.account!, region: t.region! }));
        this.waves.push({ pipelineStageName: name, stage, waveIndex, targets });
      });
    }

    this.pipeline.buildPipeline();
    // CDK Pipelines' cross-region support: its replication buckets kept like the artifact bucket,
    // and the pipeline role's grant on their keys scoped to those keys (not `*`).
    hardenReplicationBuckets(this.pipeline.pipeline, config.artifacts.retentionDays);
    scopeReplicationKeyGrants(
      this.pipeline.pipeline,
      replicationSupport(this.pipeline.pipeline).map((s) => ({ region: s.region, alias: s.bucket.encryptionKey as kms.IAlias })),
    );
    this.triggerOnBranchPush(branch);
    this.grantConnection(connectionArn);
    this.safety = new DeploymentSafety(this, 'Safety', {
      pipeline: this.pipeline.pipeline,
      pipelineName: pipelineName(config),
      appName: config.appName,
      topic,
      notificationEmails: config.notifications.emails,
      stages: this.waves.map((w) => ({
        stageName: w.pipelineStageName,
        type: w.stage.type,
        bake: w.stage.bake,
        deploymentWindow: w.stage.deploymentWindow,
        manualApproval: w.stage.type === 'production' && w.waveIndex === 0 && w.stage.manualApproval,
        targets: w.targets.map((t) => ({
          account: t.account!,
          region: t.region!,
          healthAlarmNames: t.healthAlarmNames,
          readerRoleName: t.gateReaderRoleName,
          platformStackName: t.platform.stackName,
          serviceStackNames: t.services.map((s) => s.stackName),
          featureFlags: t.services.flatMap((s) =>
            s.flags
              ? [
                  {
                    service: s.config.name,
                    application: s.flags.application.applicationIdentifier,
                    environment: s.flags.serviceName,
                    digest: s.flags.contentDigest.slice(0, 16),
                  },
                ]
              : [],
          ),
        })),
      })),
    });
    this.safety.alarmOnErrors(
      permissions.approver,
      'The permission-check approver failed: a wave without permission broadening waits for a person to approve it. See its log group.',
    );
    validateBuiltPipeline(this, this.pipeline.pipeline.node.defaultChild as codepipeline.CfnPipeline);
    this.manifestBase = { version: 1, commit, images: Object.values(images), waves: manifestWaves };
    this.acknowledgeGeneratedFindings();
  }

  /** What the pipeline's own steps read from the cloud assembly (write it with writeReleaseManifest). */
  get releaseManifest(): ReleaseManifest {
    return { ...this.manifestBase, gates: this.safety.gates() };
  }

  /**
   * One repository per ECS service (`<appName>/<service>`) in the pipeline region, and replicas in
   * every other region a target runs in, filled by ECR replication. Returns what to publish.
   */
  private imageRepositories(config: SafeDeployConfig, pullAccounts: string[]): Record<string, ImageSpec> {
    const ecsServices = config.services.filter((s): s is EcsServiceConfig => s.kind === 'ecs');
    if (ecsServices.length === 0) return {};
    const prefix = `${config.appName}/`;
    const replicaRegions = [...new Set(config.stages.flatMap((s) => s.waves.flatMap((w) => w.regions)))]
      .filter((r) => r !== this.region)
      .sort();
    const specs: Record<string, ImageSpec> = {};
    for (const svc of ecsServices) {
      const repositoryName = `${prefix}${svc.name}`;
      this.repositories[svc.name] = new ImageRepository(this, `Image-${svc.name}`, {
        repositoryName,
        imageCount: config.artifacts.imageCount,
        pullAccounts,
        pullRolePath: pullRolePath(config.appName),
      });
      const directory = path.relative(REPO_ROOT, svc.directory).split(path.sep).join('/');
      if (directory.startsWith('..')) {
        throw new Error(
          `services: ${JSON.stringify(svc.name)} builds from ${svc.directory}, outside the repository: the pipeline builds from its checkout of the repository; move the service under services/`,
        );
      }
      specs[svc.name] = {
        service: svc.name,
        repositoryName,
        tag: imageTag(svc),
        directory,
        dockerfile: svc.dockerfile,
        platform: dockerPlatform(svc),
        replicaRegions,
      };
    }
    if (replicaRegions.length > 0) {
      new ImageReplication(this, 'ImageReplication', { repositoryPrefix: prefix, regions: replicaRegions, account: this.account });
      for (const replicaRegion of replicaRegions) {
        const stack = new cdk.Stack(this.node.scope!, `${this.node.id}-Images-${replicaRegion}`, {
          stackName: `${config.appName}-images-${replicaRegion}`,
          env: { account: this.account, region: replicaRegion },
          description: `safe-deploy image replicas of ${config.appName} in ${replicaRegion}`,
        });
        for (const svc of ecsServices) {
          new ImageRepository(stack, `Image-${svc.name}`, {
            repositoryName: `${prefix}${svc.name}`,
            imageCount: config.artifacts.imageCount,
            pullAccounts,
            pullRolePath: pullRolePath(config.appName),
          });
        }
        // Self-mutation deploys the pipeline stack and, first, what it depends on.
        this.addStackDependency(stack, 'replica repositories exist before replication fills them');
        this.replicaStacks[replicaRegion] = stack;
      }
    }
    return specs;
  }

  /**
   * Builds one service's image once per content hash of its build context and pushes it, then
   * makes sure every replica region has it (lib/pipeline/scripts/publish-image.sh).
   */
  private publishImageStep(
    spec: ImageSpec,
    source: pipelines.CodePipelineSource,
    synth: pipelines.CodeBuildStep,
    env: codebuild.BuildEnvironment,
  ): pipelines.CodeBuildStep {
    const repositories = [spec.replicaRegions, [this.region]]
      .flat()
      .map((r) => `arn:${this.partition}:ecr:${r}:${this.account}:repository/${spec.repositoryName}`);
    const step = new pipelines.CodeBuildStep(`Image-${spec.service}`, {
      input: source,
      additionalInputs: { 'cdk.out': synth },
      buildEnvironment: { ...env, privileged: true }, // docker build needs the Docker daemon
      env: { ACCOUNT: this.account },
      commands: [`bash lib/pipeline/scripts/publish-image.sh ${spec.service}`, 'set -a && . ./image.env && set +a'],
      rolePolicyStatements: [
        new iam.PolicyStatement({ actions: ['ecr:GetAuthorizationToken'], resources: ['*'] }),
        new iam.PolicyStatement({
          actions: [
            'ecr:BatchCheckLayerAvailability',
            'ecr:InitiateLayerUpload',
            'ecr:UploadLayerPart',
            'ecr:CompleteLayerUpload',
            'ecr:PutImage',
            'ecr:DescribeImages',
            'ecr:BatchGetImage',
            'ecr:GetDownloadUrlForLayer',
            'ecr:DescribeImageReplicationStatus',
          ],
          resources: repositories,
        }),
      ],
    });
    for (const name of ['IMAGE_TAG', 'IMAGE_BUILT', 'IMAGE_REPOSITORY']) step.exportedVariable(name);
    return step;
  }

  /**
   * Connections created since mid-2024 have `arn:aws:codeconnections:` ARNs, and IAM requires the
   * action's prefix to match the resource's; aws-cdk-lib grants only `codestar-connections:`.
   * Both prefixes are granted so that either kind of connection works.
   */
  private grantConnection(connectionArn: string): void {
    // The source action's role is created when CDK Pipelines binds the action: find it in the Source stage.
    const sourceStage = this.pipeline.pipeline.node.findChild('Source');
    const roles = sourceStage.node.findAll().filter((c): c is iam.Role => c instanceof iam.Role);
    if (roles.length !== 1) throw new Error(`PipelineStack: expected one source action role, found ${roles.length}`);
    roles[0].addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['codeconnections:UseConnection', 'codestar-connections:UseConnection'],
        resources: [connectionArn],
      }),
    );
  }

  /** cdk-nag findings on what CDK Pipelines generates, each with its reviewed reason. */
  private acknowledgeGeneratedFindings(): void {
    cdk.Aspects.of(this.pipeline).add(new AcknowledgeGeneratedWildcards());
    acknowledgeRule(
      this.pipeline,
      'codeBuildPrivileged',
      "Only the image steps (Image-<service>) run privileged: `docker build` needs the Docker daemon. They build the repository's own Dockerfiles and push only to the service's repository.",
    );
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
