/**
 * What AWS shows of a pipeline fixture (test/lifecycle/example-pipeline.json, read from a real
 * synth): the declaration GetPipeline returns, each action's input as ListActionExecutions reports
 * it, and each service's CodeDeploy deployment group as its stack creates it, so simulated worlds
 * take names and layout from the product instead of writing their own.
 *
 * Names the constructs set (the judge's and the ECS service's alarms, `<prefix>-ErrorJudge`) are
 * theirs. Names CloudFormation generates (deployment groups, the Lambda service's own alarms,
 * functions, clusters) are built as CloudFormation builds them, `<stack>-<logical id>-<suffix>`,
 * from the logical ids of the synthesized templates; the suffix is a hash here, not random.
 */
import { createHash } from 'node:crypto';
import type { ActionDeclaration, GetPipelineOutput } from '@aws-sdk/client-codepipeline';
import type { TrafficRule } from '../../lib/ops/watch-model';
import type { FixtureAction, FixtureService, FixtureTarget, PipelineFixture } from '../lifecycle/fixture';

/** Logical ids of the service and platform stacks' resources (lib/constructs, as synthesized). */
export const LOGICAL_IDS = {
  application: 'ServiceDeploymentGroupApplication2E566B76',
  deploymentGroup: 'ServiceDeploymentGroupE338BE38',
  deploymentConfig: 'DeploymentConfig4FADF16C',
  function: 'ServiceFunction243F2A49',
  alias: 'ServiceAlias9BBF7D51',
  ecsService: 'Service9571FDD8',
  ecsDeployment: 'ServiceDeployment90D6F883',
  cluster: 'ClusterEB0386A7',
} as const;

/**
 * A physical name CloudFormation generates: the stack name, the logical id and a 13-character
 * suffix, the first two cut short when the resource's name limit requires it.
 */
export function generatedName(stackName: string, logicalId: string, maxLength = 128): string {
  const digest = createHash('sha256').update(`${stackName}/${logicalId}`).digest();
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  const suffix = [...digest.subarray(0, 13)].map((b) => alphabet[b % alphabet.length]).join('');
  const prefix = `${stackName}-${logicalId}`.slice(0, maxLength - suffix.length - 1);
  return `${prefix}-${suffix}`;
}

/** An action's configuration as CodePipeline holds it (CDK Pipelines without change sets: CREATE_UPDATE). */
export function actionConfiguration(action: FixtureAction, gateFunctionName = 'safe-deploy-bake-gate'): Record<string, string> {
  if (action.stackName) {
    return {
      StackName: action.stackName,
      ActionMode: 'CREATE_UPDATE',
      RoleArn: `arn:aws:iam::${action.account}:role/cdk-hnb659fds-cfn-exec-role-${action.account}-${action.region}`,
    };
  }
  if (action.userParameters) return { FunctionName: gateFunctionName, UserParameters: action.userParameters };
  return {};
}

/** The role CodePipeline assumes for an action: the CDK deploy role of the target for CloudFormation. */
export function actionRoleArn(action: FixtureAction): string | undefined {
  return action.provider === 'CloudFormation'
    ? `arn:aws:iam::${action.account}:role/cdk-hnb659fds-deploy-role-${action.account}-${action.region}`
    : undefined;
}

/** The pipeline as GetPipeline returns it. */
export function pipelineDeclaration(f: PipelineFixture, version: number): GetPipelineOutput {
  return {
    pipeline: {
      name: f.pipelineName,
      roleArn: `arn:aws:iam::${f.account}:role/safe-deploy-pipeline-PipelineRole`,
      artifactStore: { type: 'S3', location: 'safedeploypipeline-artifacts' },
      stages: f.stages.map((s) => ({
        name: s.name,
        actions: s.actions.map((a): ActionDeclaration => ({
          name: a.name,
          actionTypeId: { category: a.category as 'Build', owner: 'AWS', provider: a.provider, version: '1' },
          runOrder: a.runOrder,
          region: a.region === f.region ? undefined : a.region,
          roleArn: actionRoleArn(a),
          configuration: actionConfiguration(a),
        })),
        ...(s.onFailure ? { onFailure: { result: s.onFailure as 'ROLLBACK' } } : {}),
      })),
      version,
      pipelineType: 'V2',
      executionMode: f.executionMode as 'SUPERSEDED',
      variables: f.variables,
    },
    metadata: {
      pipelineArn: `arn:aws:codepipeline:${f.region}:${f.account}:${f.pipelineName}`,
      created: new Date('2026-10-01T09:00:00Z'),
      updated: new Date('2026-11-02T10:00:00Z'),
    },
  };
}

/** A service's CodeDeploy deployment group, as its stack creates it. */
export interface ServiceDeploymentGroup {
  readonly applicationName: string;
  readonly deploymentGroupName: string;
  readonly computePlatform: 'Lambda' | 'ECS';
  /** A predefined configuration (all at once), or the stack's own. */
  readonly deploymentConfigName: string;
  readonly rule: TrafficRule;
  /** ECS: minutes the old task set is kept after the shift. */
  readonly terminationWaitMinutes?: number;
  /** The alarms that stop and roll back a deployment, in the group's order. */
  readonly alarms: string[];
  /** The alarm that judges the new version's errors: the judge's, or the fixed error-rate alarm. */
  readonly errorAlarm: string;
}

/**
 * The deployment group of a service stack. Its alarms are those the constructs attach for the
 * service's kind and deployment, as the example configuration synthesizes them: a judged canary
 * (a `trafficCheck` in the fixture) has the canary judge's four alarms instead of the fixed
 * error-rate and latency ones; a Lambda service has a Function URL.
 */
export function serviceDeploymentGroup(service: FixtureService): ServiceDeploymentGroup {
  const stack = service.stackName;
  const prefix = service.healthAlarmName.replace(/-Health$/, '');
  const judged = service.trafficCheck !== undefined;
  const judge = judged ? ['ErrorJudge', 'FastErrorJudge', 'LatencyJudge', 'Catastrophe'].map((n) => `${prefix}-${n}`) : [];
  const generated = (logicalId: string) => generatedName(stack, logicalId, 255);
  const hookErrors = generated('ServiceHookErrorsAlarm490F8165');
  let alarms: string[];
  if (service.kind === 'lambda') {
    const fixed = judged ? [] : [generated('ServiceErrorRateAlarm36AFDBF5'), generated('ServiceLatencyAlarmFD74A5A8')];
    alarms = [...judge, ...fixed, generated('ServiceThrottlesAlarm74F95215'), generated('ServiceUrlErrorsAlarm82EDCD4A'), hookErrors];
  } else {
    const perTargetGroup = judged ? ['UnhealthyHosts'] : ['5xxRate', 'p99Latency', 'UnhealthyHosts'];
    const fixed = ['Blue', 'Green'].flatMap((color) => perTargetGroup.map((n) => `${prefix}-${color}-${n}`));
    alarms = [...judge, ...fixed, `${prefix}-Elb5xxRate`, hookErrors];
  }
  const d = service.deployment;
  const rule: TrafficRule =
    d.type === 'all-at-once'
      ? { type: 'AllAtOnce' }
      : { type: d.type === 'canary' ? 'TimeBasedCanary' : 'TimeBasedLinear', percent: d.percent, intervalMinutes: d.intervalMinutes };
  const predefined = service.kind === 'lambda' ? 'CodeDeployDefault.LambdaAllAtOnce' : 'CodeDeployDefault.ECSAllAtOnce';
  return {
    applicationName: generated(LOGICAL_IDS.application),
    deploymentGroupName: generated(LOGICAL_IDS.deploymentGroup),
    computePlatform: service.kind === 'lambda' ? 'Lambda' : 'ECS',
    deploymentConfigName: d.type === 'all-at-once' ? predefined : generated(LOGICAL_IDS.deploymentConfig),
    rule,
    ...(service.kind === 'ecs' ? { terminationWaitMinutes: service.blueTerminationWaitMinutes ?? 0 } : {}),
    alarms,
    errorAlarm: alarms[0],
  };
}

/** The Lambda service's function (CloudFormation names it; Lambda allows 64 characters). */
export function functionName(service: FixtureService): string {
  return generatedName(service.stackName, LOGICAL_IDS.function, 64);
}

/** The ECS service's cluster (in the target's platform stack) and service names. */
export function ecsNames(target: FixtureTarget, service: FixtureService): { cluster: string; service: string } {
  return {
    cluster: generatedName(target.platformStack, LOGICAL_IDS.cluster, 255),
    service: generatedName(service.stackName, LOGICAL_IDS.ecsService, 255),
  };
}

/** The example pipeline with its production targets in `account` (the same names: only the account changes). */
export function withProductionAccount(f: PipelineFixture, account: string): PipelineFixture {
  let json = JSON.stringify(f);
  for (const a of new Set(f.targets.filter((t) => t.account !== f.account).map((t) => t.account))) json = json.split(a).join(account);
  return JSON.parse(json) as PipelineFixture;
}
