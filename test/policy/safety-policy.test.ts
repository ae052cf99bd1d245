import { App, Duration, Stack, Stage, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { markStageType, SAFETY_RULES, SafetyPolicyChecks, STAGE_TYPE_METADATA } from '../../lib/policy';
import { APP_RULES, TARGET_RULES } from '../../lib/policy/rules';
import { TestApps } from '../support/app';

const apps = new TestApps();
afterAll(() => apps.cleanup());

interface ServiceOptions {
  deploymentGroup?: boolean;
  config?: codedeploy.ILambdaDeploymentConfig;
  alarms?: boolean;
  deploymentInAlarm?: boolean;
  ackCanary?: string;
}

/** A stack like LambdaService: function, `live` alias, canary deployment group with an alarm. */
class LambdaServiceStack extends Stack {
  readonly alias: lambda.Alias;
  constructor(scope: Stage, id: string, o: ServiceOptions = {}) {
    super(scope, id);
    const fn = new lambda.Function(this, 'Fn', {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler=async()=>1'),
    });
    this.alias = new lambda.Alias(this, 'Live', { aliasName: 'live', version: fn.currentVersion });
    if (o.deploymentGroup === false) return;
    const alarm = new cloudwatch.Alarm(this, 'Errors', {
      metric: fn.metricErrors({ period: Duration.minutes(1) }),
      threshold: 1,
      evaluationPeriods: 1,
    });
    new codedeploy.LambdaDeploymentGroup(this, 'Deployment', {
      alias: this.alias,
      deploymentConfig: o.config ?? codedeploy.LambdaDeploymentConfig.CANARY_10PERCENT_5MINUTES,
      alarms: o.alarms === false ? [] : [alarm],
      autoRollback: { failedDeployment: true, stoppedDeployment: true, deploymentInAlarm: o.deploymentInAlarm ?? true },
    });
  }
}

/** CloudFormation validation off (TestApps): the policy reads templates; test/app.test.ts validates the whole app. */
function newApp(): App {
  const app = apps.create();
  Validations.of(app).addPlugins(new SafetyPolicyChecks());
  return app;
}

function pipelineApp(prod: ServiceOptions, opts: { betaFirst?: boolean } = {}): { app: App; prodStack: LambdaServiceStack } {
  const app = newApp();
  const addBeta = () => {
    const beta = new Stage(app, 'Beta-us-east-1');
    markStageType(beta, 'pre-production');
    new LambdaServiceStack(beta, 'LambdaService', { deploymentGroup: false }); // pre-production is not checked
  };
  if (opts.betaFirst !== false) addBeta();
  const prodStage = new Stage(app, 'Prod-Wave1-us-east-1');
  markStageType(prodStage, 'production', { bake: { minutes: 30, minRequests: 1000 } });
  const prodStack = new LambdaServiceStack(prodStage, 'LambdaService', prod);
  if (opts.betaFirst === false) addBeta();
  return { app, prodStack };
}

function synthError(app: App): string {
  try {
    app.synth();
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected synth to fail');
}

describe('SafetyPolicyChecks', () => {
  test('the plugin runs every rule, one file each, under the ids SAFETY_RULES publishes', () => {
    const rules = [...TARGET_RULES, ...APP_RULES];
    const ids = ['SafeDeploy-Canary', 'SafeDeploy-Alarms', 'SafeDeploy-AutoRollback', 'SafeDeploy-PreProduction'];
    expect(rules.map((r) => r.id)).toEqual(ids);
    expect(new SafetyPolicyChecks().ruleIds).toEqual(Object.values(SAFETY_RULES));
    expect([...new SafetyPolicyChecks().ruleIds].sort()).toEqual(rules.map((r) => r.id).sort());
    for (const r of rules) expect(r.description.length).toBeGreaterThan(40);
  });

  test('a production canary with alarms and rollback, after a pre-production stage, synthesizes', () => {
    const { app } = pipelineApp({});
    const assembly = app.synth();
    // The stage marker reaches the manifest for the report.
    const prod = assembly.getNestedAssembly('assembly-Prod-Wave1-us-east-1');
    const meta = prod.stacks[0].findMetadataByType(STAGE_TYPE_METADATA);
    expect(meta).toEqual([
      {
        path: '/Prod-Wave1-us-east-1/LambdaService',
        type: STAGE_TYPE_METADATA,
        data: { type: 'production', bake: { minutes: 30, minRequests: 1000 } },
      },
    ]);
  });

  test('fails when a production alias has no deployment group, naming the alias and the fix', () => {
    const msg = synthError(pipelineApp({ deploymentGroup: false }).app);
    expect(msg).toContain('SafeDeploy-Canary');
    expect(msg).toContain(
      'Lambda alias Prod-Wave1-us-east-1/LambdaService/Live/Resource has no CodeDeploy canary deployment group (no UpdatePolicy.CodeDeployLambdaAliasUpdate): a new version would take 100% of production traffic at once.',
    );
    expect(msg).toContain('Deploy the alias through a codedeploy.LambdaDeploymentGroup with a canary or linear config');
  });

  test('fails when the deployment group shifts all traffic at once', () => {
    const msg = synthError(pipelineApp({ config: codedeploy.LambdaDeploymentConfig.ALL_AT_ONCE }).app);
    expect(msg).toContain(
      'Lambda alias Prod-Wave1-us-east-1/LambdaService/Live/Resource is deployed by Prod-Wave1-us-east-1/LambdaService/Deployment/Resource with CodeDeployDefault.LambdaAllAtOnce: the new version takes all traffic at once, with no canary.',
    );
  });

  test('fails when the deployment group watches no alarms', () => {
    const msg = synthError(pipelineApp({ alarms: false, deploymentInAlarm: false }).app);
    expect(msg).toContain('SafeDeploy-Alarms');
    expect(msg).toContain(
      'Lambda alias Prod-Wave1-us-east-1/LambdaService/Live/Resource is deployed by Prod-Wave1-us-east-1/LambdaService/Deployment/Resource, which watches no CloudWatch alarms: a bad release would never be stopped during the canary.',
    );
  });

  test('fails when the deployment group does not roll back on alarm', () => {
    const msg = synthError(pipelineApp({ deploymentInAlarm: false }).app);
    expect(msg).toContain('SafeDeploy-AutoRollback');
    expect(msg).toContain('without automatic rollback on alarm (AutoRollbackConfiguration lacks DEPLOYMENT_STOP_ON_ALARM)');
    expect(msg).toContain(
      'Set autoRollback: { failedDeployment: true, stoppedDeployment: true, deploymentInAlarm: true } on Prod-Wave1-us-east-1/LambdaService/Deployment/Resource.',
    );
    expect(msg).not.toContain('SafeDeploy-Alarms');
  });

  test('fails when production comes before any pre-production stage', () => {
    const msg = synthError(pipelineApp({}, { betaFirst: false }).app);
    expect(msg).toContain('SafeDeploy-PreProduction');
    expect(msg).toContain(
      'Production stage Prod-Wave1-us-east-1 has no pre-production stage before it: the first environment to run a release would be production.',
    );
  });

  test('fails when a production ECS service does not use the CODE_DEPLOY controller', () => {
    const app = newApp();
    const beta = new Stage(app, 'Beta-us-east-1');
    markStageType(beta, 'pre-production');
    new Stack(beta, 'Empty').templateOptions.description = 'placeholder';
    const prod = new Stage(app, 'Prod-Wave1-us-east-1');
    markStageType(prod, 'production');
    const stack = new Stack(prod, 'EcsService');
    new ecs.CfnService(stack, 'Service', {
      cluster: 'c',
      taskDefinition: 'arn:aws:ecs:us-east-1:111111111111:task-definition/app:1',
      desiredCount: 2,
    });
    const msg = synthError(app);
    expect(msg).toContain(
      'ECS service Prod-Wave1-us-east-1/EcsService/Service has no CodeDeploy canary deployment group (DeploymentController is ECS (default), not CODE_DEPLOY): a new task definition would replace all tasks without a canary.',
    );
  });

  test('an acknowledged finding with a reason passes', () => {
    const { app, prodStack } = pipelineApp({ deploymentGroup: false });
    Validations.of(prodStack.alias).acknowledge({
      id: 'SafeDeploy-Canary',
      reason: 'Internal batch alias, invoked only by the nightly job; no live traffic to shift.',
    });
    expect(() => app.synth()).not.toThrow();
  });

  test('an acknowledgement without a real reason does not suppress', () => {
    const { app, prodStack } = pipelineApp({ deploymentGroup: false });
    Validations.of(prodStack.alias).acknowledge({ id: 'SafeDeploy-Canary', reason: 'ok' });
    expect(synthError(app)).toContain('SafeDeploy-Canary');
  });

  test('pre-production stacks and unmarked stacks are not checked', () => {
    const app = newApp();
    const beta = new Stage(app, 'Beta-us-east-1');
    markStageType(beta, 'pre-production');
    new LambdaServiceStack(beta, 'LambdaService', { deploymentGroup: false });
    new LambdaServiceStack(new Stage(app, 'Laptop'), 'LambdaService', { deploymentGroup: false });
    expect(() => app.synth()).not.toThrow();
  });

  test('fails when markStageType is given a bad type or called twice', () => {
    const app = new App();
    const s = new Stage(app, 'X');
    expect(() => markStageType(s, 'prod' as never)).toThrow(
      'markStageType(X): "prod" is not a stage type: use "pre-production" or "production"',
    );
    markStageType(s, 'production');
    expect(() => markStageType(s, 'production')).toThrow('markStageType(X): the scope is already marked; mark each Stage once');
  });
});

describe('SafetyPolicyChecks over hand-written templates (L1s: property overrides and names count)', () => {
  const deploymentGroup = (stack: Stack, props: Partial<codedeploy.CfnDeploymentGroupProps> = {}) =>
    new codedeploy.CfnDeploymentGroup(stack, 'Deployment', {
      applicationName: 'app',
      serviceRoleArn: 'arn:aws:iam::111111111111:role/codedeploy',
      deploymentConfigName: 'CodeDeployDefault.LambdaCanary10Percent5Minutes',
      alarmConfiguration: { enabled: true, alarms: [{ name: 'errors' }] },
      autoRollbackConfiguration: { enabled: true, events: ['DEPLOYMENT_STOP_ON_ALARM'] },
      ...props,
    });
  const alias = (stack: Stack, deploymentGroupName: string) => {
    const a = new lambda.CfnAlias(stack, 'Live', { functionName: 'fn', functionVersion: '1', name: 'live' });
    a.cfnOptions.updatePolicy = { codeDeployLambdaAliasUpdate: { applicationName: 'app', deploymentGroupName } };
  };
  const ecsService = (stack: Stack) =>
    new ecs.CfnService(stack, 'Service', { cluster: 'c', desiredCount: 2, deploymentController: { type: 'CODE_DEPLOY' } });

  let msg: string;
  beforeAll(() => {
    const app = newApp();
    markStageType(new Stage(app, 'Beta'), 'pre-production');
    const prod = new Stage(app, 'Prod');
    markStageType(prod, 'production');
    // A custom deployment config that shifts all at once.
    const custom = new Stack(prod, 'CustomConfig');
    const config = new codedeploy.CfnDeploymentConfig(custom, 'AllAtOnce', {
      computePlatform: 'Lambda',
      trafficRoutingConfig: { type: 'AllAtOnce' },
    });
    alias(custom, deploymentGroup(custom, { deploymentConfigName: config.ref }).ref);
    // The group named by its literal name; its alarms switched off by an override.
    const named = new Stack(prod, 'NamedGroup');
    deploymentGroup(named, { deploymentGroupName: 'orders-dg' }).addPropertyOverride('AlarmConfiguration.Enabled', 'false');
    alias(named, 'orders-dg');
    // A group that is not in the stack.
    alias(new Stack(prod, 'MissingGroup'), 'elsewhere-dg');
    // A CODE_DEPLOY service no group lists.
    ecsService(new Stack(prod, 'EcsNoGroup'));
    // A service whose group keeps CodeDeploy's default config and lacks rollback on alarm, acknowledged on the group.
    const acked = new Stack(prod, 'EcsAckOnGroup');
    const group = deploymentGroup(acked, {
      deploymentConfigName: undefined,
      autoRollbackConfiguration: undefined,
      ecsServices: [{ serviceName: ecsService(acked).attrName, clusterName: 'c' }],
    });
    const reason = 'Rolled back by the pipeline stage instead, after the bake.';
    Validations.of(group).acknowledge({ id: 'SafeDeploy-AutoRollback', reason });
    msg = synthError(app);
  });

  test('a custom config that shifts all at once is a canary finding', () => {
    expect(msg).toContain(
      'Lambda alias Prod/CustomConfig/Live is deployed by Prod/CustomConfig/Deployment with custom deployment config AllAtOnce (AllAtOnce): ' +
        'the new version takes all traffic at once, with no canary.',
    );
  });

  test('a group named by its DeploymentGroupName is found; Enabled "false" means no alarms', () => {
    expect(msg).toContain(
      'Lambda alias Prod/NamedGroup/Live is deployed by Prod/NamedGroup/Deployment, which watches no CloudWatch alarms',
    );
    expect(msg).not.toContain('Prod/NamedGroup/Live names a deployment group');
  });

  test('fails when the alias names a deployment group outside its stack', () => {
    expect(msg).toContain(
      'Lambda alias Prod/MissingGroup/Live names a deployment group that is not in its stack, so its canary, alarms and rollback cannot be checked.',
    );
  });

  test('fails when no deployment group lists a CODE_DEPLOY service', () => {
    expect(msg).toContain(
      'ECS service Prod/EcsNoGroup/Service has no CodeDeploy canary deployment group (no AWS::CodeDeploy::DeploymentGroup in its stack lists it in ECSServices)',
    );
  });

  test("CodeDeploy's default config is all at once; an acknowledgement on the deployment group suppresses that rule only", () => {
    expect(msg).toContain(
      "ECS service Prod/EcsAckOnGroup/Service is deployed by Prod/EcsAckOnGroup/Deployment with no DeploymentConfigName (CodeDeploy's default, CodeDeployDefault.ECSAllAtOnce)",
    );
    expect(msg).not.toContain('Prod/EcsAckOnGroup/Deployment without automatic rollback');
  });
});
