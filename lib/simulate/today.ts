import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App, Stage } from 'aws-cdk-lib';
import { EcsServiceStack } from '../stacks/ecs-service-stack';
import { LambdaServiceStack } from '../stacks/lambda-service-stack';
import type { CfnTemplate } from './alarms';
import type { Templates } from './stacks';

/**
 * Today's fixed-threshold alarms as the service stacks synthesize them in the example production
 * config (canary 10% for 10 minutes; Lambda alarms errorRatePercent 1, p99LatencyMs 1000; ECS
 * defaults): the deployment groups' alarm configuration and the alarms, nothing else. The
 * simulator reads the frozen copy (./today-alarms.json) so that it needs no asset bundling;
 * `npm run simulate -- --write-today` rewrites it and test/simulate/today-alarms.test.ts checks
 * that it is still what the stacks synthesize. Pass `app` to synthesize into it (tests), else a
 * temporary one is used and removed.
 */
export function synthesizeTodayTemplates(app?: App): Templates {
  const outdir = app ? undefined : mkdtempSync(path.join(tmpdir(), 'safe-deploy-today-'));
  try {
    const stage = new Stage(app ?? new App({ outdir, builtinCloudFormationValidation: false }), 'Prod');
    const deployment = { type: 'canary', percent: 10, intervalMinutes: 10 } as const;
    const lambdaStack = new LambdaServiceStack(stage, 'LambdaService', { deployment, alarms: { errorRatePercent: 1, p99LatencyMs: 1000 } });
    const ecsStack = new EcsServiceStack(stage, 'EcsService', { deployment, blueTerminationWaitMinutes: 30 });
    const assembly = stage.synth();
    const read = (stackName: string) =>
      alarmResources(JSON.parse(readFileSync(path.join(assembly.directory, assembly.getStackByName(stackName).templateFile), 'utf-8')) as CfnTemplate);
    return { lambda: read(lambdaStack.stackName), ecs: read(ecsStack.stackName) };
  } finally {
    if (outdir) rmSync(outdir, { recursive: true, force: true });
  }
}

/**
 * The alarms and deployment groups (their AlarmConfiguration only) of a template, with the Lambda
 * version's code hash masked so that a handler change does not change the fixture.
 */
export function alarmResources(template: CfnTemplate): CfnTemplate {
  const out: Record<string, { Type: string; Properties: Record<string, unknown> }> = {};
  for (const [id, r] of Object.entries(template.Resources ?? {})) {
    if (r.Type === 'AWS::CloudWatch::Alarm') out[id] = { Type: r.Type, Properties: r.Properties ?? {} };
    if (r.Type === 'AWS::CodeDeploy::DeploymentGroup') out[id] = { Type: r.Type, Properties: { AlarmConfiguration: r.Properties?.AlarmConfiguration } };
  }
  return JSON.parse(JSON.stringify({ Resources: out }).replace(/CurrentVersion[0-9A-Fa-f]{40}/g, 'CurrentVersionHASH')) as CfnTemplate;
}

/** The frozen fixture's path. */
export const TODAY_FIXTURE = path.join(__dirname, 'today-alarms.json');
