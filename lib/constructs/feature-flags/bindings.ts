import { Aws, CfnMapping, Names, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { acknowledgeRule } from '../../policy/acknowledgements';
import { acknowledgeFindings } from '../shared/acknowledge';
import { appConfigExtensionLayerArn, ECS_AGENT_IMAGE, LAMBDA_EXTENSION_REGIONS } from './agent';
import type { ServiceFeatureFlags } from './feature-flags';

/* How a service gets its flags: ServiceFeatureFlags' bindToFunction, bindToTaskDefinition and grantRead. */

/**
 * Gives a Lambda function its flags: the AppConfig agent extension layer of the function's region
 * (chosen at deploy time in a stack without a concrete region) and architecture, the identifiers as environment variables (plus the extension's prefetch list,
 * so the first invocation finds the flags cached), and read access to this configuration only.
 */
export function bindFlagsToFunction(flags: ServiceFeatureFlags, fn: lambda.Function): void {
  // Explicit runtimes: an imported layer's default is Runtime.ALL, a list that grows whenever a
  // Runtime is created in the process, and aws-lambda hashes it into the function's version, which
  // would then change with unrelated code. The function's own runtime keeps the hash stable.
  const layer = lambda.LayerVersion.fromLayerVersionAttributes(flags, `AgentLayer${Names.nodeUniqueId(fn.node)}`, {
    layerVersionArn: extensionLayerArn(fn),
    compatibleRuntimes: [fn.runtime],
  });
  fn.addLayers(layer);
  for (const [k, v] of Object.entries(flags.environmentVariables)) fn.addEnvironment(k, v);
  // https://docs.aws.amazon.com/appconfig/latest/userguide/appconfig-integration-lambda-extensions-config.html
  fn.addEnvironment('AWS_APPCONFIG_EXTENSION_PREFETCH_LIST', flags.agentPath);
  grantFlagsRead(flags, fn);
}

/**
 * Gives an ECS task its flags: the AppConfig agent as a sidecar container, the identifiers as
 * environment variables of `appContainer`, and read access for the task role.
 *
 * The agent is not essential: if it stops, the task keeps serving and the flags client answers with
 * the declared defaults (and logs why), rather than ECS stopping a healthy task over flags. The
 * application container starts after the agent has started. No port mapping: in awsvpc mode the
 * containers of a task share localhost, and nothing outside the task needs the agent.
 */
export function bindFlagsToTaskDefinition(
  flags: ServiceFeatureFlags,
  taskDefinition: ecs.TaskDefinition,
  appContainer: ecs.ContainerDefinition,
  options: { agentImage?: ecs.ContainerImage } = {},
): ecs.ContainerDefinition {
  if (appContainer.taskDefinition !== taskDefinition) {
    throw new Error(
      `feature flags of ${flags.serviceName}: container ${appContainer.containerName} does not belong to task definition ${taskDefinition.node.path}`,
    );
  }
  const logGroup = new logs.LogGroup(flags, `AgentLogs${Names.nodeUniqueId(taskDefinition.node)}`, {
    retention: logs.RetentionDays.ONE_MONTH,
    removalPolicy: RemovalPolicy.DESTROY,
  });
  const agent = taskDefinition.addContainer('AppConfigAgent', {
    containerName: 'appconfig-agent',
    image: options.agentImage ?? ecs.ContainerImage.fromRegistry(ECS_AGENT_IMAGE),
    essential: false,
    logging: ecs.LogDrivers.awsLogs({ streamPrefix: 'appconfig-agent', logGroup }),
    // https://docs.aws.amazon.com/appconfig/latest/userguide/appconfig-integration-containers-agent-configuring.html
    environment: { PREFETCH_LIST: flags.agentPath },
  });
  appContainer.addContainerDependencies({ container: agent, condition: ecs.ContainerDependencyCondition.START });
  for (const [k, v] of Object.entries(flags.environmentVariables)) appContainer.addEnvironment(k, v);
  grantFlagsRead(flags, taskDefinition.taskRole);
  acknowledgeFindings(taskDefinition, {
    'AwsSolutions-ECS2':
      'Container environment variables hold AppConfig identifiers, the agent address and the agent prefetch path: no secrets.',
  });
  // The checks look at every container of the task definition; the service's own container stays
  // non-root, read-only and memory-capped (CanaryEcsService, tested). AWS documents neither the
  // user nor the writable paths of its agent image, and the task memory is the service container's
  // hard limit, so the agent keeps its image's defaults (it is not essential: if it stops, the flags
  // client answers with the declared defaults and logs why).
  acknowledgeRule(
    taskDefinition,
    'sidecarContainer',
    "The AppConfig agent sidecar runs AWS's image as that image defines it (user and writable paths are not documented) and shares the task's memory without a hard limit; the service container is non-root, read-only and memory-limited.",
  );
  return agent;
}

/**
 * Lets `grantee` start a session on this service's profile and read it, and nothing else in AppConfig.
 * The environment is a wildcard: a grant naming its ID would make the service's role depend on the
 * environment, whose monitor (the health alarm) depends on the service's function version: a cycle.
 */
export function grantFlagsRead(flags: ServiceFeatureFlags, grantee: iam.IGrantable): iam.Grant {
  const grant = iam.Grant.addToPrincipal({
    grantee,
    actions: ['appconfig:StartConfigurationSession', 'appconfig:GetLatestConfiguration'],
    resourceArns: [flags.configurationArn],
  });
  const role = grantee.grantPrincipal;
  if (role instanceof iam.Role) {
    acknowledgeFindings(role, {
      [`AwsSolutions-IAM5[Resource::${nagResource(Stack.of(role), flags.configurationArn)}]`]: `Reads the feature flags of ${flags.serviceName}: one configuration profile in its application; the environment is a wildcard because naming its ID would make a dependency cycle (environment monitor -> health alarm -> function version -> role policy).`,
    });
  }
  return grant;
}

/**
 * The extension layer for the function's region and architecture. A stack without a concrete region
 * (a laptop deploy without a default region) picks it at deploy time from a mapping of the table by
 * AWS::Region; a region the table lacks then fails the deployment ("Fn::FindInMap ... key not found").
 */
function extensionLayerArn(fn: lambda.Function): string {
  const stack = Stack.of(fn);
  if (!Token.isUnresolved(stack.region)) return appConfigExtensionLayerArn(stack.region, fn.architecture);
  const id = 'AppConfigExtensionLayers';
  const mapping =
    (stack.node.tryFindChild(id) as CfnMapping | undefined) ??
    new CfnMapping(stack, id, {
      mapping: Object.fromEntries(
        LAMBDA_EXTENSION_REGIONS.map((r) => [
          r,
          {
            x8664: appConfigExtensionLayerArn(r, lambda.Architecture.X86_64),
            arm64: appConfigExtensionLayerArn(r, lambda.Architecture.ARM_64),
          },
        ]),
      ),
    });
  return mapping.findInMap(Aws.REGION, fn.architecture.name === 'arm64' ? 'arm64' : 'x8664');
}

/**
 * How cdk-nag prints a resource in a finding ID: intrinsics as `<LogicalId>` / `<LogicalId.Attr>`,
 * so an acknowledgement names exactly the wildcard it accepts.
 */
function nagResource(stack: Stack, arn: string): string {
  const part = (v: unknown): string => {
    if (typeof v === 'string') return v;
    const o = v as { Ref?: string; 'Fn::GetAtt'?: [string, string]; 'Fn::Join'?: [string, unknown[]] };
    if (o.Ref) return `<${o.Ref}>`;
    if (o['Fn::GetAtt']) return `<${o['Fn::GetAtt'].join('.')}>`;
    if (o['Fn::Join']) return o['Fn::Join'][1].map(part).join(o['Fn::Join'][0]);
    return JSON.stringify(v);
  };
  return part(stack.resolve(arn));
}
