import { Names, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as appconfig from 'aws-cdk-lib/aws-appconfig';
import { Construct, IConstruct } from 'constructs';

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
      throw new Error(
        `applicationId: ${JSON.stringify(applicationId)} is not an AppConfig application ID: use the 4 to 7 lower-case letters and digits AppConfig shows, e.g. "abc1234"`,
      );
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
      (!Token.isUnresolved(stackName) && stackName.length <= 58
        ? `${stackName}-flags`
        : Names.uniqueResourceName(this, { maxLength: 64, separator: '-' }));
    if (Token.isUnresolved(name) || !/^[^\n]{1,64}$/.test(name)) {
      throw new Error(
        `applicationName: ${JSON.stringify(name)} is not usable: services address the application by name, so give a literal of 1 to 64 characters, unique in the account and region`,
      );
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
