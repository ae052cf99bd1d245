import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import { fieldProblem, patternField, showValue as show } from '../shared/limits';

/**
 * Where the AWS AppConfig agent comes from, for Lambda (an extension layer) and ECS (a sidecar image).
 *
 * Lambda: the "AWS AppConfig Agent Lambda extension" layer, version 2.0.17054.0 (released
 * 2026-05-14), one ARN per region and architecture, from
 * https://docs.aws.amazon.com/appconfig/latest/userguide/appconfig-integration-lambda-extensions-versions.html
 * Multi-variant flags need 2.0.678 or later (release notes, 2024-07-23). aws-cdk-lib's own table
 * (`appconfig.Application.getLambdaLayerVersionArn`) still lists 2023 versions (us-east-1 x86-64
 * :128), which predate variants, so this module keeps its own. To move to a newer release, replace
 * the table and `LAMBDA_EXTENSION_VERSION` from that page; a layer change updates the functions'
 * configuration once, like any other infrastructure change.
 */
export const LAMBDA_EXTENSION_VERSION = '2.0.17054.0';

/** region: [layer account, x86_64 layer version, arm64 layer version] */
const LAMBDA_EXTENSION_LAYERS: Readonly<Record<string, readonly [string, number, number]>> = {
  'us-east-1': ['027255383542', 321, 254],
  'us-east-2': ['728743619870', 277, 229],
  'us-west-1': ['958113053741', 395, 272],
  'us-west-2': ['359756378197', 373, 275],
  'ca-central-1': ['039592058896', 262, 182],
  'ca-west-1': ['436199621743', 172, 162],
  'eu-central-1': ['066940009817', 295, 238],
  'eu-central-2': ['758369105281', 220, 178],
  'eu-west-1': ['434848589818', 303, 241],
  'eu-west-2': ['282860088358', 242, 194],
  'eu-west-3': ['493207061005', 273, 192],
  'eu-north-1': ['646970417810', 367, 226],
  'eu-south-1': ['203683718741', 249, 177],
  'eu-south-2': ['586093569114', 214, 175],
  'cn-north-1': ['615057806174', 243, 165],
  'cn-northwest-1': ['615084187847', 241, 163],
  'ap-east-1': ['630222743974', 254, 182],
  'ap-east-2': ['730335625313', 147, 121],
  'ap-northeast-1': ['980059726660', 272, 225],
  'ap-northeast-2': ['826293736237', 273, 181],
  'ap-northeast-3': ['706869817123', 272, 187],
  'ap-southeast-1': ['421114256042', 258, 210],
  'ap-southeast-2': ['080788657173', 313, 256],
  'ap-southeast-3': ['418787028745', 256, 193],
  'ap-southeast-4': ['307021474294', 188, 173],
  'ap-southeast-5': ['631746059939', 161, 136],
  'ap-southeast-6': ['381491832265', 97, 87],
  'ap-southeast-7': ['851725616657', 134, 133],
  'ap-south-1': ['554480029851', 290, 232],
  'ap-south-2': ['489524808438', 217, 175],
  'sa-east-1': ['000010852771', 327, 215],
  'mx-central-1': ['891376990304', 142, 141],
  'af-south-1': ['574348263942', 260, 188],
  'il-central-1': ['895787185223', 188, 171],
  'me-central-1': ['662846165436', 212, 168],
  'me-south-1': ['559955524753', 254, 182],
  'us-gov-east-1': ['946561847325', 219, 165],
  'us-gov-west-1': ['946746059096', 220, 166],
};

/** Regions the table covers, for messages and tests. */
export const LAMBDA_EXTENSION_REGIONS: readonly string[] = Object.keys(LAMBDA_EXTENSION_LAYERS);

/**
 * The extension layer's ARN for a region and architecture; throws naming the region when the table
 * has none (a new region, or a token because the stack is environment-agnostic).
 */
export function appConfigExtensionLayerArn(region: string, architecture: lambda.Architecture): string {
  const entry = LAMBDA_EXTENSION_LAYERS[region];
  if (!entry) {
    const what =
      /\$\{Token/.test(region) || region.startsWith('${')
        ? 'an unresolved region (the stack has no env.region)'
        : `region ${JSON.stringify(region)}`;
    throw new Error(
      `feature flags: the AWS AppConfig Lambda extension ${LAMBDA_EXTENSION_VERSION} has no layer for ${what}: deploy the stack to a concrete region listed in lib/constructs/feature-flags/agent.ts, ` +
        'or add the region from https://docs.aws.amazon.com/appconfig/latest/userguide/appconfig-integration-lambda-extensions-versions.html',
    );
  }
  const [account, x86, arm] = entry;
  const partition = partitionOf(region);
  const arm64 = architecture.name === 'arm64';
  return `arn:${partition}:lambda:${region}:${account}:layer:AWS-AppConfig-Extension${arm64 ? '-Arm64' : ''}:${arm64 ? arm : x86}`;
}

/** The partition a concrete region belongs to. */
function partitionOf(region: string): string {
  return region.startsWith('cn-') ? 'aws-cn' : region.startsWith('us-gov-') ? 'aws-us-gov' : 'aws';
}

/**
 * The agent's sidecar image for ECS, from the AppConfig guide "Starting the AWS AppConfig agent for
 * Amazon ECS integration" (`public.ecr.aws/aws-appconfig/aws-appconfig-agent:2.x`, port 2772).
 * https://docs.aws.amazon.com/appconfig/latest/userguide/appconfig-integration-containers-agent-starting-ecs.html
 * `2.x` moves with new agent releases; pin a digest (config `services[].flagsAgentImage`) to control upgrades.
 * Multi-variant flags need agent 2.0.4416 or later; per-user consistency during a gradual deployment
 * (the `Entity-Id` header) needs 2.0.136060 or later.
 */
export const ECS_AGENT_IMAGE = 'public.ecr.aws/aws-appconfig/aws-appconfig-agent:2.x';

const HOST = /[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+(?::\d{1,5})?/.source;
const PATH_COMPONENT = /[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*/.source;
const TAG_OR_DIGEST = /(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?/.source;
/** An image reference with its registry: `registry/repository[:tag][@sha256:<64 hex>]` (Docker's grammar). */
const IMAGE_REFERENCE = new RegExp(`^${HOST}/${PATH_COMPONENT}(?:/${PATH_COMPONENT})*${TAG_OR_DIGEST}$`);
/** A private ECR repository: the task execution role needs a grant to pull from it. */
const PRIVATE_ECR = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\/([^:@]+)(?::([^@]+))?(?:@(sha256:[a-f0-9]{64}))?$/;

/** The agent's sidecar image as the config names it (`services[].flagsAgentImage`). */
export const agentImageField = patternField(
  IMAGE_REFERENCE,
  (v) =>
    `${show(v)} is not an image reference: use registry/repository[:tag][@sha256:<64 hex digits>]; ` +
    `pin a digest so every task runs the agent build you tested, e.g. "${ECS_AGENT_IMAGE}@sha256:<digest>"`,
);

/**
 * The agent's sidecar image from its reference: a private ECR image is pulled with a grant to the task
 * execution role (as the service's own image is), any other registry as a public image.
 */
export function agentContainerImage(scope: Construct, reference: string): ecs.ContainerImage {
  const problem = fieldProblem('flagsAgentImage', agentImageField, reference);
  if (problem) throw new Error(problem);
  const ecrImage = PRIVATE_ECR.exec(reference);
  if (!ecrImage) return ecs.ContainerImage.fromRegistry(reference);
  const [, account, region, repositoryName, tag, digest] = ecrImage;
  const arn = `arn:${partitionOf(region)}:ecr:${region}:${account}:repository/${repositoryName}`;
  const repository = ecr.Repository.fromRepositoryArn(scope, 'AppConfigAgentRepository', arn);
  // A digest alone is `@sha256:...`; with a tag, ECS takes `:<tag>@sha256:...` as written.
  return ecs.ContainerImage.fromEcrRepository(repository, tag && digest ? `${tag}@${digest}` : (digest ?? tag ?? 'latest'));
}

/** The agent's default local port, for Lambda and ECS alike. */
export const AGENT_PORT = 2772;
