import { Annotations, Aws, CfnMapping, Names, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as appconfig from 'aws-cdk-lib/aws-appconfig';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct, IConstruct } from 'constructs';
import { acknowledgeFindings } from '../shared/acknowledge';
import { acknowledgeRule } from '../../policy/acknowledgements';
import { AGENT_PORT, appConfigExtensionLayerArn, ECS_AGENT_IMAGE, LAMBDA_EXTENSION_REGIONS } from './agent';
import { describeStrategy, FlagRollout, predefinedStrategyId, toAppConfigStrategy } from './rollout';
import { FlagDeclaration, featureFlagsDigest, parseServiceFlags, renderFeatureFlagsDocument } from './schema';

/**
 * Environment variables a service reads to find its flags (lib/flags-client/feature-flags.ts reads
 * them). They hold AppConfig identifiers and the agent's address only, never flag content, so a flag
 * change leaves the function's configuration and the task definition untouched.
 *
 * The identifiers are names (the agent and StartConfigurationSession accept a name or an ID), known
 * at synth: referencing the environment's ID would make a dependency cycle, since the environment's
 * monitor is the service's health alarm, whose metrics name the function version.
 */
export const FLAG_ENV = {
  application: 'FEATURE_FLAGS_APPLICATION',
  environment: 'FEATURE_FLAGS_ENVIRONMENT',
  profile: 'FEATURE_FLAGS_PROFILE',
  agentUrl: 'FEATURE_FLAGS_AGENT_URL',
} as const;

/** The AppConfig profile type of feature flags. */
export const FEATURE_FLAGS_PROFILE_TYPE = 'AWS.AppConfig.FeatureFlags';

/** An AppConfig application holding services' flags. */
export interface IFeatureFlagsApplication extends IConstruct {
  /** The AppConfig application ID. */
  readonly applicationId: string;
  /**
   * What services call the application by: its name, or its ID when imported by ID. Must be known at
   * synth (not a token) and unique in the account and region, as the agent resolves it.
   */
  readonly applicationIdentifier: string;
}

/** Properties of a FeatureFlagsApplication. */
export interface FeatureFlagsApplicationProps {
  /**
   * Name of the AppConfig application (1 to 64 characters). Services address the application by
   * this name, so it must be unique in the account and region.
   * @default - `<stack name>-flags`, or a name derived from the construct path if that is too long
   */
  readonly applicationName?: string;
  /**
   * Description shown in the AppConfig console.
   * @default 'Feature flags of the services safe-deploy deploys here'
   */
  readonly description?: string;
}

/**
 * An AppConfig application for the feature flags of the services of one deployment target (account
 * and region), each service with its own environment and profile (see ServiceFeatureFlags).
 *
 * Retained on deletion: CloudFormation cannot delete a profile that still has hosted configuration
 * versions ("Cannot delete configuration profile ... because there are still hosted configuration
 * versions existing under it", aws-cdk issue 26804), and the versions are kept as rollback targets.
 */
export class FeatureFlagsApplication extends Construct implements IFeatureFlagsApplication {
  /** An application created elsewhere, by ID. */
  static fromApplicationId(scope: Construct, id: string, applicationId: string): IFeatureFlagsApplication {
    if (Token.isUnresolved(applicationId) || !/^[a-z0-9]{4,7}$/.test(applicationId)) {
      throw new Error(`applicationId: ${JSON.stringify(applicationId)} is not an AppConfig application ID: use the 4 to 7 lower-case letters and digits AppConfig shows, e.g. "abc1234"`);
    }
    class Imported extends Construct implements IFeatureFlagsApplication {
      readonly applicationId = applicationId;
      readonly applicationIdentifier = applicationId;
    }
    return new Imported(scope, id);
  }

  readonly applicationId: string;
  readonly applicationIdentifier: string;
  /** The AWS::AppConfig::Application. */
  readonly resource: appconfig.CfnApplication;

  constructor(scope: Construct, id: string, props: FeatureFlagsApplicationProps = {}) {
    super(scope, id);
    const stackName = Stack.of(this).stackName;
    const name =
      props.applicationName ??
      (!Token.isUnresolved(stackName) && stackName.length <= 58 ? `${stackName}-flags` : Names.uniqueResourceName(this, { maxLength: 64, separator: '-' }));
    if (Token.isUnresolved(name) || !/^[^\n]{1,64}$/.test(name)) {
      throw new Error(`applicationName: ${JSON.stringify(name)} is not usable: services address the application by name, so give a literal of 1 to 64 characters, unique in the account and region`);
    }
    this.applicationIdentifier = name;
    this.resource = new appconfig.CfnApplication(this, 'Resource', {
      name,
      description: props.description ?? 'Feature flags of the services safe-deploy deploys here',
    });
    this.resource.applyRemovalPolicy(RemovalPolicy.RETAIN);
    this.applicationId = this.resource.ref;
  }
}

/** Properties of ServiceFeatureFlags. */
export interface ServiceFeatureFlagsProps {
  /**
   * The service's name: the name of its AppConfig environment and profile, and what
   * `deployctl flags --service` takes. Letters, digits and '-', starting with a letter, at most 64.
   */
  readonly serviceName: string;
  /** The service's flags, as `parseServiceFlags` or the configuration schema returns them. */
  readonly flags: readonly FlagDeclaration[];
  /**
   * The alarm that says the service is unhealthy (its composite health alarm). AppConfig watches it
   * during a flag deployment and its bake, and rolls the flags back when it is in ALARM.
   */
  readonly healthAlarm: cloudwatch.IAlarm;
  /** How a flag change rolls out, e.g. `{ type: 'all-at-once' }` before production. */
  readonly rollout: FlagRollout;
  /**
   * The AppConfig application to put the service's environment and profile in (one per deployment
   * target, shared by its services, is the intended layout).
   * @default - a FeatureFlagsApplication for this service alone, named `<stack name>-<service name>-flags`
   */
  readonly application?: IFeatureFlagsApplication;
}

const SERVICE_NAME = /^[A-Za-z][A-Za-z0-9-]{0,63}$/;

/**
 * One service's feature flags in one deployment target: an AppConfig environment watched by the
 * service's health alarm, a feature-flag profile, the flags as a hosted configuration version, a
 * deployment strategy, and the deployment of that version. `bindToFunction` and
 * `bindToTaskDefinition` give the service the AppConfig agent, the identifiers and read access.
 *
 * Lifecycle:
 * - first deploy: application, environment, profile, version 1 and its deployment are created in
 *   the same stack update as the service, which finds them by name (only its role's policy names the
 *   profile's ID); until the first deployment is done the client answers with the declared defaults.
 * - a flags-only change: a new hosted configuration version replaces the old resource (the old
 *   version is retained, it is what AppConfig rolls back to) and a new deployment starts with the
 *   rollout. Nothing else in the template changes.
 * - a bad flag change: the health alarm goes to ALARM during the deployment or bake, and AppConfig
 *   rolls the environment back to the previous version. `deployctl flags rollback` does the same on
 *   demand.
 * - deletion: the application, environment, profile and versions are retained (see
 *   FeatureFlagsApplication); the monitor role and strategy are deleted.
 */
export class ServiceFeatureFlags extends Construct {
  /** The application holding the environment and profile. */
  readonly application: IFeatureFlagsApplication;
  /** The service's AppConfig environment (monitored by the health alarm). */
  readonly environment: appconfig.CfnEnvironment;
  /** The feature-flag configuration profile. */
  readonly profile: appconfig.CfnConfigurationProfile;
  /** The version holding the rendered flags; replaced when they change. */
  readonly version: appconfig.CfnHostedConfigurationVersion;
  /**
   * How the flags roll out, when the rollout is none of AppConfig's predefined strategies (AppConfig
   * allows 20 custom strategies per account and region); undefined when `strategyId` is predefined.
   */
  readonly strategy?: appconfig.CfnDeploymentStrategy;
  /** The deployment strategy's ID: a predefined one (e.g. `AppConfig.AllAtOnce`) or `strategy`'s. */
  readonly strategyId: string;
  /** The deployment of `version` to `environment`. */
  readonly deployment: appconfig.CfnDeployment;
  /** The role AppConfig assumes to read the health alarm. */
  readonly monitorRole: iam.Role;
  /** The AppConfig feature-flag document deployed, as bytes. */
  readonly content: string;
  /** SHA-256 of `content`. */
  readonly contentDigest: string;
  /** AppConfig identifiers: stable when only the flags change. */
  readonly applicationId: string;
  readonly environmentId: string;
  readonly profileId: string;
  /**
   * ARN pattern of the configuration a service reads (StartConfigurationSession's resource): this
   * profile in any environment of the application (see `grantRead`).
   */
  readonly configurationArn: string;
  /** The service's name (environment and profile name). */
  readonly serviceName: string;

  constructor(scope: Construct, id: string, props: ServiceFeatureFlagsProps) {
    super(scope, id);
    if (!SERVICE_NAME.test(props.serviceName)) {
      throw new Error(
        `serviceName: ${JSON.stringify(props.serviceName)} is not a service name: start with a letter, then letters, digits or '-' (at most 64), e.g. "orders"`,
      );
    }
    this.serviceName = props.serviceName;
    const stack = Stack.of(this);
    // Validates again, so flags built in code get the same checks as flags read from a file.
    const flags = parseServiceFlags(props.flags.map(toDeclarationInput), { source: `ServiceFeatureFlags ${props.serviceName}` });
    const strategySettings = toAppConfigStrategy(props.rollout);
    if (strategySettings.deploymentDurationInMinutes === 0 && strategySettings.finalBakeTimeInMinutes === 0) {
      // AppConfig watches monitors only while a deployment runs or bakes: this one does neither.
      Annotations.of(this).addWarningV2(
        '@safe-deploy/feature-flags:noBake',
        `rollout of ${props.serviceName}'s flags: all at once without a bake, so the health alarm cannot roll a bad flag back; give bakeMinutes at least the alarm's detection time (e.g. 10)`,
      );
    }
    this.content = renderFeatureFlagsDocument(flags);
    this.contentDigest = featureFlagsDigest(this.content);

    // The agent finds the application by name: a per-service one is named after the stack and the service.
    const ownName = `${stack.stackName}-${props.serviceName}-flags`;
    this.application =
      props.application ??
      new FeatureFlagsApplication(this, 'Application', {
        applicationName: !Token.isUnresolved(stack.stackName) && ownName.length <= 64 ? ownName : Names.uniqueResourceName(this, { maxLength: 64, separator: '-' }),
      });
    this.applicationId = this.application.applicationId;

    // AppConfig assumes this role to read the alarm during deployments: DescribeAlarms on that alarm only.
    this.monitorRole = new iam.Role(this, 'MonitorRole', {
      assumedBy: new iam.ServicePrincipal('appconfig.amazonaws.com'),
      description: `Lets AppConfig read ${props.serviceName}'s health alarm to roll back a bad flag deployment`,
      inlinePolicies: {
        ReadHealthAlarm: new iam.PolicyDocument({
          statements: [new iam.PolicyStatement({ actions: ['cloudwatch:DescribeAlarms'], resources: [props.healthAlarm.alarmArn] })],
        }),
      },
    });

    this.environment = new appconfig.CfnEnvironment(this, 'Environment', {
      applicationId: this.applicationId,
      name: props.serviceName,
      description: `Where ${props.serviceName} reads its feature flags; rolled back when its health alarm fires during a flag deployment`,
      monitors: [{ alarmArn: props.healthAlarm.alarmArn, alarmRoleArn: this.monitorRole.roleArn }],
    });
    this.environment.applyRemovalPolicy(RemovalPolicy.RETAIN);
    this.environmentId = this.environment.ref;

    this.profile = new appconfig.CfnConfigurationProfile(this, 'Profile', {
      applicationId: this.applicationId,
      name: props.serviceName,
      description: `Feature flags of ${props.serviceName}`,
      locationUri: 'hosted',
      type: FEATURE_FLAGS_PROFILE_TYPE,
    });
    this.profile.applyRemovalPolicy(RemovalPolicy.RETAIN);
    this.profileId = this.profile.ref;

    // Every change of content replaces this resource (hosted versions are immutable); the replaced
    // version stays, as the previous version AppConfig and `deployctl flags rollback` go back to.
    this.version = new appconfig.CfnHostedConfigurationVersion(this, 'Version', {
      applicationId: this.applicationId,
      configurationProfileId: this.profileId,
      content: this.content,
      contentType: 'application/json',
      description: `Flags of ${props.serviceName}, sha256 ${this.contentDigest.slice(0, 16)}`,
    });
    this.version.applyRemovalPolicy(RemovalPolicy.RETAIN);

    const predefined = predefinedStrategyId(props.rollout);
    if (predefined) {
      this.strategyId = predefined;
    } else {
      this.strategy = new appconfig.CfnDeploymentStrategy(this, 'Strategy', {
        name: Names.uniqueResourceName(this, { maxLength: 64, separator: '-' }),
        description: `Flag rollout of ${props.serviceName}: ${describeStrategy(strategySettings)}`,
        growthType: strategySettings.growthType,
        growthFactor: strategySettings.growthFactor,
        deploymentDurationInMinutes: strategySettings.deploymentDurationInMinutes,
        finalBakeTimeInMinutes: strategySettings.finalBakeTimeInMinutes,
        replicateTo: 'NONE',
      });
      this.strategyId = this.strategy.ref;
    }

    // One AppConfig deployment per environment at a time: this is the only one this construct makes.
    this.deployment = new appconfig.CfnDeployment(this, 'Deployment', {
      applicationId: this.applicationId,
      environmentId: this.environmentId,
      configurationProfileId: this.profileId,
      configurationVersion: this.version.ref,
      deploymentStrategyId: this.strategyId,
      // The digest makes a content change visible on this resource in the template diff too.
      description: `safe-deploy: flags of ${props.serviceName}, sha256 ${this.contentDigest.slice(0, 16)}`,
    });

    this.configurationArn = stack.formatArn({
      service: 'appconfig',
      resource: 'application',
      resourceName: `${this.applicationId}/environment/*/configuration/${this.profileId}`,
    });
  }

  /** The variables a service needs to find its flags: names known at synth, identical for every flag content. */
  get environmentVariables(): Record<string, string> {
    return {
      [FLAG_ENV.application]: this.application.applicationIdentifier,
      [FLAG_ENV.environment]: this.serviceName,
      [FLAG_ENV.profile]: this.serviceName,
      [FLAG_ENV.agentUrl]: `http://localhost:${AGENT_PORT}`,
    };
  }

  /** The agent's path of this configuration, for its prefetch list. */
  get agentPath(): string {
    return `/applications/${this.application.applicationIdentifier}/environments/${this.serviceName}/configurations/${this.serviceName}`;
  }

  /**
   * Gives a Lambda function its flags: the AppConfig agent extension layer of the function's region
   * (chosen at deploy time in a stack without a concrete region) and architecture, the identifiers as environment variables (plus the extension's prefetch list,
   * so the first invocation finds the flags cached), and read access to this configuration only.
   */
  bindToFunction(fn: lambda.Function): void {
    // Explicit runtimes: an imported layer's default is Runtime.ALL, a list that grows whenever a
    // Runtime is created in the process, and aws-lambda hashes it into the function's version, which
    // would then change with unrelated code. The function's own runtime keeps the hash stable.
    const layer = lambda.LayerVersion.fromLayerVersionAttributes(this, `AgentLayer${Names.nodeUniqueId(fn.node)}`, {
      layerVersionArn: extensionLayerArn(fn),
      compatibleRuntimes: [fn.runtime],
    });
    fn.addLayers(layer);
    for (const [k, v] of Object.entries(this.environmentVariables)) fn.addEnvironment(k, v);
    // https://docs.aws.amazon.com/appconfig/latest/userguide/appconfig-integration-lambda-extensions-config.html
    fn.addEnvironment('AWS_APPCONFIG_EXTENSION_PREFETCH_LIST', this.agentPath);
    this.grantRead(fn);
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
  bindToTaskDefinition(taskDefinition: ecs.TaskDefinition, appContainer: ecs.ContainerDefinition, options: { agentImage?: ecs.ContainerImage } = {}): ecs.ContainerDefinition {
    if (appContainer.taskDefinition !== taskDefinition) {
      throw new Error(`feature flags of ${this.serviceName}: container ${appContainer.containerName} does not belong to task definition ${taskDefinition.node.path}`);
    }
    const logGroup = new logs.LogGroup(this, `AgentLogs${Names.nodeUniqueId(taskDefinition.node)}`, {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const agent = taskDefinition.addContainer('AppConfigAgent', {
      containerName: 'appconfig-agent',
      image: options.agentImage ?? ecs.ContainerImage.fromRegistry(ECS_AGENT_IMAGE),
      essential: false,
      logging: ecs.LogDrivers.awsLogs({ streamPrefix: 'appconfig-agent', logGroup }),
      // https://docs.aws.amazon.com/appconfig/latest/userguide/appconfig-integration-containers-agent-configuring.html
      environment: { PREFETCH_LIST: this.agentPath },
    });
    appContainer.addContainerDependencies({ container: agent, condition: ecs.ContainerDependencyCondition.START });
    for (const [k, v] of Object.entries(this.environmentVariables)) appContainer.addEnvironment(k, v);
    this.grantRead(taskDefinition.taskRole);
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
  grantRead(grantee: iam.IGrantable): iam.Grant {
    const grant = iam.Grant.addToPrincipal({
      grantee,
      actions: ['appconfig:StartConfigurationSession', 'appconfig:GetLatestConfiguration'],
      resourceArns: [this.configurationArn],
    });
    const role = grantee.grantPrincipal;
    if (role instanceof iam.Role) {
      acknowledgeFindings(role, {
        [`AwsSolutions-IAM5[Resource::${nagResource(Stack.of(role), this.configurationArn)}]`]:
          `Reads the feature flags of ${this.serviceName}: one configuration profile in its application; the environment is a wildcard because naming its ID would make a dependency cycle (environment monitor -> health alarm -> function version -> role policy).`,
      });
    }
    return grant;
  }
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
        LAMBDA_EXTENSION_REGIONS.map((r) => [r, { x8664: appConfigExtensionLayerArn(r, lambda.Architecture.X86_64), arm64: appConfigExtensionLayerArn(r, lambda.Architecture.ARM_64) }]),
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

/** A parsed flag back in its declaration form, to validate flags built in code like flags read from JSON. */
function toDeclarationInput(f: FlagDeclaration): unknown {
  if (f.kind === 'boolean') return { name: f.name, description: f.description, default: f.default };
  return {
    name: f.name,
    description: f.description,
    default: f.default,
    variants: Object.fromEntries(Object.entries(f.variants).map(([n, v]) => [n, { enabled: v.enabled, attributes: v.attributes }])),
    rules: f.rules.map((r) =>
      r.kind === 'percent' ? { variant: r.variant, percent: r.percent, by: r.by } : { variant: r.variant, attribute: r.attribute, values: [...r.values] },
    ),
  };
}
