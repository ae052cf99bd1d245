import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { CanaryJudge, JudgeSettingsInput, JudgeTraffic, resolveJudgeSettings } from '../constructs/canary-judge';
import type { CfnTemplate } from './alarms';

/** What the simulator compares: today's alarms and the judge's, for the Lambda and the ECS shape. */
export interface Templates {
  readonly lambda: CfnTemplate;
  readonly ecs: CfnTemplate;
}

/** Options of the judge stacks. */
export interface JudgeStackOptions {
  /** @default DEFAULT_JUDGE_SETTINGS */
  readonly settings?: JudgeSettingsInput;
  /** @default 10 */
  readonly canaryPercent?: number;
  /** Latency statistic of the Lambda judge (its baseline is the alias mixture). @default 'p90' */
  readonly lambdaLatencyStatistic?: string;
  /** Latency statistic of the ECS judge. @default 'p90' */
  readonly ecsLatencyStatistic?: string;
  /**
   * The services publish their own high-resolution metrics (lib/canary-metrics), which
   * adds the judge's HighResErrorJudge. @default false
   */
  readonly highResolution?: boolean;
}

/**
 * Two small stacks with a CanaryJudge each, fed the way a service would feed it: the Lambda shape
 * (JudgeTraffic.lambdaAlias on a function, version and alias) and the ECS shape
 * (JudgeTraffic.applicationTargetGroups on two target groups of an ALB). Synthesized without
 * assets, in a temporary folder that is removed.
 */
export function judgeTemplates(options: JudgeStackOptions = {}, app?: App): JudgeTemplates {
  return judgeTemplateVariants([options], app)[0];
}

/** The judge's templates and traffic-check threshold for one set of options. */
export type JudgeTemplates = Templates & { readonly minRequests: number };

/**
 * `judgeTemplates` for several option sets in one synthesis (two stacks per variant), into `app`
 * when given (tests), else into a temporary App whose folder is removed.
 */
export function judgeTemplateVariants(variants: readonly JudgeStackOptions[], target?: App): JudgeTemplates[] {
  const tempdir = target ? undefined : mkdtempSync(path.join(tmpdir(), 'safe-deploy-simulate-'));
  try {
    const app = target ?? new App({ outdir: tempdir, builtinCloudFormationValidation: false });
    const names = variants.map((options, v) => {
      const canaryPercent = options.canaryPercent ?? 10;
      const lambdaStack = new Stack(app, `JudgeLambda${v}`);
      const fn = new lambda.Function(lambdaStack, 'Function', {
        code: lambda.Code.fromInline('exports.handler = async () => ({ statusCode: 200 });'),
        handler: 'index.handler',
        runtime: lambda.Runtime.NODEJS_22_X,
      });
      const version = fn.currentVersion;
      new lambda.Alias(lambdaStack, 'Alias', { aliasName: 'live', version });
      new CanaryJudge(lambdaStack, 'Judge', {
        traffic: JudgeTraffic.lambdaAlias({ function: fn, aliasName: 'live', version, latencyStatistic: options.lambdaLatencyStatistic }),
        highResolutionTraffic: options.highResolution
          ? JudgeTraffic.embeddedMetrics({ service: 'JudgeLambda', version: version.version })
          : undefined,
        canaryPercent,
        settings: options.settings,
      });

      const ecsStack = new Stack(app, `JudgeEcs${v}`);
      const vpc = new ec2.Vpc(ecsStack, 'Vpc', {
        maxAzs: 2,
        natGateways: 0,
        subnetConfiguration: [{ name: 'Public', subnetType: ec2.SubnetType.PUBLIC }],
      });
      const lb = new elbv2.ApplicationLoadBalancer(ecsStack, 'LoadBalancer', { vpc, internetFacing: true });
      const tg = (id: string) =>
        new elbv2.ApplicationTargetGroup(ecsStack, id, {
          vpc,
          port: 8080,
          protocol: elbv2.ApplicationProtocol.HTTP,
          targetType: elbv2.TargetType.IP,
        });
      const blue = tg('BlueTargetGroup');
      const green = tg('GreenTargetGroup');
      lb.addListener('ProductionListener', { port: 80, defaultTargetGroups: [blue], open: true });
      lb.addListener('TestListener', { port: 8080, defaultTargetGroups: [green], open: false });
      new CanaryJudge(ecsStack, 'Judge', {
        traffic: JudgeTraffic.applicationTargetGroups({ first: blue, second: green, latencyStatistic: options.ecsLatencyStatistic }),
        // The version being deployed publishes its task definition's revision (any value: the
        // simulator tells the canary by the presence of the Version dimension).
        highResolutionTraffic: options.highResolution ? JudgeTraffic.embeddedMetrics({ service: 'JudgeEcs', version: '2' }) : undefined,
        canaryPercent,
        settings: options.settings,
      });
      return [lambdaStack.stackName, ecsStack.stackName] as const;
    });
    const assembly = app.synth();
    const read = (name: string) =>
      JSON.parse(readFileSync(path.join(assembly.directory, assembly.getStackByName(name).templateFile), 'utf-8')) as CfnTemplate;
    return names.map(([l, e], v) => ({
      lambda: read(l),
      ecs: read(e),
      minRequests: resolveJudgeSettings(variants[v].settings).minRequests,
    }));
  } finally {
    if (tempdir) rmSync(tempdir, { recursive: true, force: true });
  }
}

/** Today's alarms: the deployment groups and alarms of the production Lambda and ECS service stacks, frozen in ./today-alarms.json. */
export function todayTemplates(): Templates {
  const fixture = JSON.parse(readFileSync(path.join(__dirname, 'today-alarms.json'), 'utf-8')) as Templates;
  return { lambda: fixture.lambda, ecs: fixture.ecs };
}
