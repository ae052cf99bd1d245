import { createHash } from 'node:crypto';
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { acknowledgeRule, EQUIVALENT_RULES } from '../../policy/acknowledgements';
import { bundledHandler, HANDLER_RUNTIME } from '../lambda-code';
import { logWriterRole } from '../shared/log-writer-role';

/** Properties of a HandlerFunction. */
export interface HandlerFunctionProps {
  /** Source file, absolute or relative to lambda/ (e.g. 'bake-gate/index.ts'). */
  readonly entry: string;
  /** Exported function to run. @default 'handler' */
  readonly handlerName?: string;
  /** What the function does, shown in the console. */
  readonly description: string;
  /** @default Duration.seconds(30) */
  readonly timeout?: Duration;
  /** @default - none */
  readonly environment?: Record<string, string>;
  /** Run in this VPC (private subnets with egress). @default - not in a VPC */
  readonly vpc?: ec2.IVpc;
  /** With `vpc`. @default - a security group of Lambda's choosing */
  readonly securityGroups?: ec2.ISecurityGroup[];
  /** A fixed name for the execution role, when other accounts trust it by name. @default - generated */
  readonly roleName?: string;
  /**
   * A fixed function name, when something must name the function without referencing it (an alarm
   * the deployment group watches, which the function's own policy references). @default - generated
   */
  readonly functionName?: string;
}

/**
 * A function name unique to its stack: `<stack name>-<suffix>`, or, past Lambda's 64 characters,
 * the stack name cut short with a hash of the whole.
 */
export function stackScopedFunctionName(scope: Construct, suffix: string): string {
  const stackName = Stack.of(scope).stackName;
  const name = `${stackName}-${suffix}`;
  if (name.length <= 64 && /^[A-Za-z0-9_-]+$/.test(name)) return name;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 8);
  return `${stackName.replace(/[^A-Za-z0-9_-]/g, '').slice(0, 64 - suffix.length - 10)}-${hash}-${suffix}`;
}

/** How long every handler's logs are kept (the hooks', the gate's, the Provider framework's alike). */
export const HANDLER_LOG_RETENTION = logs.RetentionDays.THREE_MONTHS;

/**
 * A log group for one of safe-deploy's own handlers (or the Provider framework's functions and state
 * machine that serve them): kept HANDLER_LOG_RETENTION, deleted with its stack.
 */
export function handlerLogGroup(scope: Construct, id: string): logs.LogGroup {
  return new logs.LogGroup(scope, id, { retention: HANDLER_LOG_RETENTION, removalPolicy: RemovalPolicy.DESTROY });
}

/**
 * One of safe-deploy's own handlers (hooks, gate, notifier, custom resources): Node.js 22 on ARM,
 * bundled in-process by esbuild, JSON logs into a log group of its own, and an execution role that
 * may write only to that group (instead of AWSLambdaBasicExecutionRole's logs:* on every group).
 * Attaching to a VPC adds exactly the network-interface actions Lambda needs.
 */
export class HandlerFunction extends NodejsFunction {
  /** The function's own log group. */
  readonly logGroupResource: logs.LogGroup;
  /** Its execution role. */
  readonly executionRole: iam.Role;
  /** The function name when it was given (`functionName`), else undefined. */
  readonly fixedName?: string;

  constructor(scope: Construct, id: string, props: HandlerFunctionProps) {
    const logGroup = handlerLogGroup(scope, `${id}Logs`);
    const role = logWriterRole(scope, `${id}Role`, {
      logGroup,
      description: `Execution role of ${scope.node.path}/${id}`,
      roleName: props.roleName,
    });
    super(scope, id, {
      code: bundledHandler(props.entry),
      handler: `index.${props.handlerName ?? 'handler'}`,
      runtime: HANDLER_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 256,
      timeout: props.timeout ?? Duration.seconds(30),
      description: props.description,
      environment: props.environment,
      loggingFormat: lambda.LoggingFormat.JSON,
      logGroup,
      role,
      vpc: props.vpc,
      vpcSubnets: props.vpc ? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS } : undefined,
      securityGroups: props.securityGroups,
      functionName: props.functionName,
    });
    this.logGroupResource = logGroup;
    this.fixedName = props.functionName;
    this.executionRole = role;
    if (props.vpc) {
      // AWSLambdaVPCAccessExecutionRole minus its logs:* on every log group.
      role.addToPolicy(
        new iam.PolicyStatement({
          actions: [
            'ec2:CreateNetworkInterface',
            'ec2:DescribeNetworkInterfaces',
            'ec2:DescribeSubnets',
            'ec2:DeleteNetworkInterface',
            'ec2:AssignPrivateIpAddresses',
            'ec2:UnassignPrivateIpAddresses',
          ],
          resources: ['*'],
        }),
      );
      Validations.of(role).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'Lambda attaches a VPC function with ec2 network-interface actions (Create/Describe/DeleteNetworkInterface, DescribeSubnets, ' +
          'Assign/UnassignPrivateIpAddresses) that the role must hold on any resource, as AWSLambdaVPCAccessExecutionRole grants them; the Describe actions have no resource-level permissions.',
      });
    }
    acknowledgeNodeRuntime(this);
    acknowledgeHandlerConventions(this, props.vpc !== undefined);
  }
}

/**
 * What every one of safe-deploy's own handlers does differently from the serverless packs' defaults,
 * and why: the findings are the same for the hooks, the gate, the notifier and the custom resources.
 */
function acknowledgeHandlerConventions(fn: HandlerFunction, inVpc: boolean): void {
  acknowledgeRule(
    fn,
    'lambdaDlq',
    "Each handler's caller records a failed invocation where an operator looks: CodeDeploy hooks stop the deployment through the hook-errors alarm, " +
      'the gate and approver fail their pipeline action, custom resources fail their stack event. The notifier, invoked by EventBridge, ' +
      'has an on-failure destination (an encrypted SQS queue) instead of the legacy DLQ setting this rule checks.',
  );
  acknowledgeRule(
    fn,
    'lambdaConcurrency',
    'A handler runs once per deployment event (a few at a time); reserving concurrency would take it from the account pool, and a cap low enough to matter could throttle a hook mid-deployment.',
  );
  if (!inVpc) {
    acknowledgeRule(
      fn,
      'lambdaInVpc',
      'The handler calls only AWS APIs, over TLS; a VPC would add NAT cost and no control. The ECS test-traffic hook, which calls the service, runs in its VPC.',
    );
  } else {
    Validations.of(fn).acknowledge({
      id: EQUIVALENT_RULES.lambdaInVpc[1],
      reason:
        "The function is in the VPC's private subnets with a security group; its subnet ids are imports from the platform stack, which the cfn-guard rule cannot read.",
    });
  }
}

/** The runtime finding every Node.js handler of this project has, with the reason it is accepted. */
export function acknowledgeNodeRuntime(fn: lambda.Function): void {
  acknowledgeRule(
    fn,
    'lambdaRuntime',
    'The project pins Node.js 22 (nodejs22.x) for every handler, the runtime its toolchain and AWS SDK pins are tested on; moving to 24 is a deliberate upgrade of all handlers together.',
  );
}
