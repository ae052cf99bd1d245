import { Annotations, Names, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as appconfig from 'aws-cdk-lib/aws-appconfig';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { AGENT_PORT } from './agent';
import { FeatureFlagsApplication, IFeatureFlagsApplication } from './application';
import { bindFlagsToFunction, bindFlagsToTaskDefinition, grantFlagsRead } from './bindings';
import { featureFlagsDigest, renderFeatureFlagsDocument } from './document';
import type { FlagDeclaration } from './flag-types';
import { describeStrategy, FlagRollout, predefinedStrategyId, toAppConfigStrategy } from './rollout';
import { parseServiceFlags } from './schema';

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
        applicationName:
          !Token.isUnresolved(stack.stackName) && ownName.length <= 64
            ? ownName
            : Names.uniqueResourceName(this, { maxLength: 64, separator: '-' }),
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
   * and architecture, the identifiers as environment variables, and read access to this configuration only.
   */
  bindToFunction(fn: lambda.Function): void {
    bindFlagsToFunction(this, fn);
  }

  /**
   * Gives an ECS task its flags: the AppConfig agent as a (non-essential) sidecar container, the
   * identifiers as environment variables of `appContainer`, and read access for the task role.
   */
  bindToTaskDefinition(
    taskDefinition: ecs.TaskDefinition,
    appContainer: ecs.ContainerDefinition,
    options: { agentImage?: ecs.ContainerImage } = {},
  ): ecs.ContainerDefinition {
    return bindFlagsToTaskDefinition(this, taskDefinition, appContainer, options);
  }

  /** Lets `grantee` start a session on this service's profile and read it, and nothing else in AppConfig. */
  grantRead(grantee: iam.IGrantable): iam.Grant {
    return grantFlagsRead(this, grantee);
  }
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
      r.kind === 'percent'
        ? { variant: r.variant, percent: r.percent, by: r.by }
        : { variant: r.variant, attribute: r.attribute, values: [...r.values] },
    ),
  };
}
