import {
  AppConfigClient,
  DeploymentSummary,
  GetApplicationCommand,
  ListConfigurationProfilesCommand,
  ListDeploymentsCommand,
  ListEnvironmentsCommand,
  StartDeploymentCommand,
  StopDeploymentCommand,
} from '@aws-sdk/client-appconfig';
import { ListStackResourcesCommand } from '@aws-sdk/client-cloudformation';
import { describeStrategy } from '../constructs/feature-flags/rollout';
import { CLIENT_SETTINGS, OpsClients } from '../runtime/clients';
import { call, collectPages, CommonOptions, OpsContext, OpsError, opsContext } from '../runtime/context';
import { isMissingStack } from '../runtime/deployments';
import { getPipelineInfo, PipelineInfo } from '../runtime/pipeline';

/**
 * `deployctl flags`: the feature flags AppConfig serves to each service of each stage target, the
 * flag deployment in progress, and rolling a bad flag change back.
 *
 * How it finds them: the pipeline's stages deploy CloudFormation stacks; the AppConfig applications
 * those stacks created (ServiceFeatureFlags / FeatureFlagsApplication) hold one environment and one
 * feature-flag profile per service, both named after the service.
 *
 * AppConfig facts relied on (API reference, checked 2026-11):
 * - Deployment states BAKING, VALIDATING, DEPLOYING, COMPLETE, ROLLING_BACK, ROLLED_BACK, REVERTED;
 *   one deployment at a time per environment.
 * - StopDeployment stops a DEPLOYING deployment (it ends ROLLED_BACK); with AllowRevert it also
 *   stops a baking one, and reverts a COMPLETE one to the previous version (REVERTED) within 72 hours
 *   of its completion. https://docs.aws.amazon.com/appconfig/2019-10-09/APIReference/API_StopDeployment.html
 * - StartDeployment accepts the predefined strategy `AppConfig.AllAtOnce` (one step, 10-minute bake
 *   watched by the environment's monitors).
 *   https://docs.aws.amazon.com/appconfig/latest/userguide/appconfig-creating-deployment-strategy.html
 */

/** AppConfig clients by region: a stage's targets may be in other regions than the pipeline. */
export type AppConfigFor = (region: string) => AppConfigClient;

/** One AppConfig client per region, with the CLI's bounded timeouts and retries. */
export function appConfigClientsPerRegion(): AppConfigFor {
  const cache = new Map<string, AppConfigClient>();
  return (region) => {
    let client = cache.get(region);
    if (!client) cache.set(region, (client = new AppConfigClient({ region, ...CLIENT_SETTINGS })));
    return client;
  };
}

export const IN_PROGRESS_STATES = ['VALIDATING', 'DEPLOYING', 'BAKING', 'ROLLING_BACK'] as const;
/** AppConfig lets a COMPLETE deployment be reverted for this long after it completed. */
export const REVERT_WINDOW_HOURS = 72;
/** The predefined strategy a redeploy of an older version uses. */
export const REDEPLOY_STRATEGY = 'AppConfig.AllAtOnce';

/** A flag deployment as deployctl shows it. */
export interface FlagDeployment {
  readonly deploymentNumber: number;
  readonly state: string;
  readonly configurationVersion?: string;
  readonly percentComplete?: number;
  readonly startedAt?: string;
  readonly completedAt?: string;
  /** `linear 20 % over 30 min, step every 6 min, bake 30 min` */
  readonly strategy: string;
}

/** One service's flags in one stage target. */
export interface ServiceFlags {
  readonly stageName: string;
  readonly account: string;
  readonly region: string;
  /** The stack that created the AppConfig application. */
  readonly stackName: string;
  readonly service: string;
  readonly applicationId: string;
  readonly applicationName?: string;
  readonly environmentId: string;
  readonly profileId: string;
  /** AppConfig's environment state (READY_FOR_DEPLOYMENT, DEPLOYING, ROLLING_BACK, ROLLED_BACK, REVERTED). */
  readonly environmentState?: string;
  /** The version served to every agent: the newest COMPLETE deployment's. */
  readonly deployed?: FlagDeployment;
  /** The deployment running now, if any. */
  readonly inProgress?: FlagDeployment;
  /** The newest deployment when it ended without completing (ROLLED_BACK, REVERTED): what the last change did. */
  readonly lastUndone?: FlagDeployment;
  /** The newest COMPLETE deployment of another version before `deployed`: what a rollback goes back to. */
  readonly previous?: FlagDeployment;
}

/** What `deployctl flags` shows. */
export interface FlagsStatus {
  readonly pipelineName: string;
  readonly region: string;
  readonly services: ServiceFlags[];
  /** What could not be looked at, and how to see it. */
  readonly notes: string[];
}

export interface FlagsOptions extends CommonOptions {
  readonly pipelineName: string;
  /** Only this stage. @default - every stage */
  readonly stageName?: string;
  /** Only this service. @default - every service */
  readonly serviceName?: string;
  /** @default - appConfigClientsPerRegion() */
  readonly appconfigFor?: AppConfigFor;
}

/** Every service's flags in every stage target the credentials can see. */
export async function getFlagsStatus(clients: OpsClients, opts: FlagsOptions): Promise<FlagsStatus> {
  const ctx = opsContext(clients, opts);
  const appconfigFor = opts.appconfigFor ?? appConfigClientsPerRegion();
  const info = await getPipelineInfo(ctx, opts.pipelineName);
  const stages = selectStages(info, opts.stageName);
  const notes: string[] = [];
  const services: ServiceFlags[] = [];
  for (const app of await findApplications(ctx, stages, info.account, notes)) {
    services.push(...(await describeApplication(ctx, appconfigFor(app.region), app, opts.serviceName)));
  }
  if (opts.serviceName && services.length === 0 && notes.length === 0) {
    throw new OpsError(
      'not-found',
      `no feature flags of service "${opts.serviceName}" in ${opts.stageName ? `stage ${opts.stageName}` : 'any stage'}: \`deployctl flags\` lists the services that have flags`,
    );
  }
  return { pipelineName: opts.pipelineName, region: opts.region, services, notes };
}

function selectStages(info: PipelineInfo, stageName: string | undefined): PipelineInfo['stages'] {
  if (!stageName) return info.stages;
  const stage = info.stages.find((s) => s.name === stageName);
  if (!stage) {
    throw new OpsError(
      'stage-not-found',
      `stage "${stageName}" is not in pipeline ${info.name}: use one of ${info.stages.map((s) => s.name).join(', ') || '(none)'}`,
    );
  }
  return [stage];
}

interface FoundApplication {
  readonly stageName: string;
  readonly account: string;
  readonly region: string;
  readonly stackName: string;
  readonly applicationId: string;
}

/** AppConfig applications the stages' stacks created; other accounts' stacks become notes. */
async function findApplications(
  ctx: OpsContext,
  stages: PipelineInfo['stages'],
  pipelineAccount: string | undefined,
  notes: string[],
): Promise<FoundApplication[]> {
  const found: FoundApplication[] = [];
  const seen = new Set<string>();
  for (const stage of stages) {
    for (const target of stage.targets) {
      if (target.kind !== 'stack' || !target.stackName) continue;
      if (pipelineAccount && target.account !== pipelineAccount) {
        notes.push(
          `${stage.name}: stack ${target.stackName} is in account ${target.account} (${target.region}): use credentials for it to see its flags`,
        );
        continue;
      }
      let resources;
      try {
        resources = await collectPages(ctx, async (token) => {
          const out = await ctx
            .clientsFor(target.region)
            .cloudformation.send(new ListStackResourcesCommand({ StackName: target.stackName, NextToken: token }));
          return { items: out.StackResourceSummaries, next: out.NextToken };
        });
      } catch (err) {
        if (isMissingStack(err)) continue; // Not deployed yet: no flags there.
        throw err;
      }
      for (const r of resources) {
        if (r.ResourceType !== 'AWS::AppConfig::Application' || !r.PhysicalResourceId) continue;
        const key = `${target.region}|${r.PhysicalResourceId}`;
        if (seen.has(key)) continue;
        seen.add(key);
        found.push({
          stageName: stage.name,
          account: target.account,
          region: target.region,
          stackName: target.stackName,
          applicationId: r.PhysicalResourceId,
        });
      }
    }
  }
  return found;
}

/** The services of one application: environments with a feature-flag profile of the same name. */
async function describeApplication(
  ctx: OpsContext,
  client: AppConfigClient,
  app: FoundApplication,
  serviceName: string | undefined,
): Promise<ServiceFlags[]> {
  const ApplicationId = app.applicationId;
  const application = await call(ctx, () => client.send(new GetApplicationCommand({ ApplicationId })));
  const environments = await collectPages(ctx, async (token) => {
    const out = await client.send(new ListEnvironmentsCommand({ ApplicationId, NextToken: token, MaxResults: 50 }));
    return { items: out.Items, next: out.NextToken };
  });
  const profiles = await collectPages(ctx, async (token) => {
    const out = await client.send(
      new ListConfigurationProfilesCommand({ ApplicationId, Type: 'AWS.AppConfig.FeatureFlags', NextToken: token, MaxResults: 50 }),
    );
    return { items: out.Items, next: out.NextToken };
  });
  const services: ServiceFlags[] = [];
  for (const env of environments) {
    const profile = profiles.find((p) => p.Name === env.Name);
    if (!env.Id || !env.Name || !profile?.Id || (serviceName && env.Name !== serviceName)) continue;
    const history = await deploymentHistory(ctx, client, ApplicationId, env.Id, env.Name);
    services.push({
      stageName: app.stageName,
      account: app.account,
      region: app.region,
      stackName: app.stackName,
      service: env.Name,
      applicationId: ApplicationId,
      applicationName: application.Name,
      environmentId: env.Id,
      profileId: profile.Id,
      environmentState: env.State,
      ...history,
    });
  }
  return services;
}

/** Pages of history read at most: enough for the served version and the one before it. */
const MAX_HISTORY_PAGES = 10;

/** The served, previous, in-progress and last undone deployments of one profile, newest first. */
async function deploymentHistory(
  ctx: OpsContext,
  client: AppConfigClient,
  ApplicationId: string,
  EnvironmentId: string,
  profileName: string,
) {
  const mine: DeploymentSummary[] = [];
  let token: string | undefined;
  let deployed: DeploymentSummary | undefined;
  let previous: DeploymentSummary | undefined;
  for (let page = 0; page < MAX_HISTORY_PAGES; page++) {
    const asked = token;
    const out = await call(ctx, () =>
      client.send(new ListDeploymentsCommand({ ApplicationId, EnvironmentId, MaxResults: 50, NextToken: asked })),
    );
    mine.push(...(out.Items ?? []).filter((d) => d.ConfigurationName === profileName));
    mine.sort((a, b) => (b.DeploymentNumber ?? 0) - (a.DeploymentNumber ?? 0));
    deployed = mine.find((d) => d.State === 'COMPLETE');
    previous =
      deployed &&
      mine.find(
        (d) =>
          d.State === 'COMPLETE' &&
          (d.DeploymentNumber ?? 0) < deployed!.DeploymentNumber! &&
          d.ConfigurationVersion !== deployed!.ConfigurationVersion,
      );
    token = out.NextToken;
    if (previous || !token || token === asked) break;
  }
  const newest = mine[0];
  const inProgress = mine.find((d) => (IN_PROGRESS_STATES as readonly string[]).includes(d.State ?? ''));
  const undone = newest && (newest.State === 'ROLLED_BACK' || newest.State === 'REVERTED') ? newest : undefined;
  return { deployed: view(deployed), previous: view(previous), inProgress: view(inProgress), lastUndone: view(undone) };
}

function view(d: DeploymentSummary | undefined): FlagDeployment | undefined {
  if (!d) return undefined;
  return {
    deploymentNumber: d.DeploymentNumber ?? 0,
    state: d.State ?? 'UNKNOWN',
    configurationVersion: d.ConfigurationVersion,
    percentComplete: d.PercentageComplete,
    startedAt: d.StartedAt?.toISOString(),
    completedAt: d.CompletedAt?.toISOString(),
    strategy: describeStrategy({
      growthType: d.GrowthType,
      growthFactor: d.GrowthFactor,
      deploymentDurationInMinutes: d.DeploymentDurationInMinutes,
      finalBakeTimeInMinutes: d.FinalBakeTimeInMinutes,
    }),
  };
}

/** Compact text for a terminal. */
export function formatFlagsStatus(s: FlagsStatus): string {
  const lines = [`Feature flags of ${s.pipelineName} (${s.region})`];
  if (s.services.length === 0 && s.notes.length === 0)
    lines.push('  no feature flags found: no stack of the pipeline has created an AppConfig application yet');
  let heading = '';
  for (const f of s.services) {
    const h = `${f.stageName}  ${f.account}/${f.region}  application ${f.applicationName ?? f.applicationId} (${f.applicationId}, stack ${f.stackName})`;
    if (h !== heading) lines.push(`  ${(heading = h)}`);
    const served = f.deployed
      ? `version ${f.deployed.configurationVersion} since ${minute(f.deployed.completedAt)} (deployment #${f.deployed.deploymentNumber})`
      : 'no version deployed';
    lines.push(`    ${f.service}: ${served}`);
    if (f.inProgress) {
      const d = f.inProgress;
      lines.push(
        `      ${d.state} version ${d.configurationVersion} ${d.percentComplete ?? 0} %, ${d.strategy} (deployment #${d.deploymentNumber}, started ${minute(d.startedAt)})`,
      );
    }
    if (f.lastUndone) {
      lines.push(
        `      last change: deployment #${f.lastUndone.deploymentNumber} of version ${f.lastUndone.configurationVersion} was ${f.lastUndone.state} at ${minute(f.lastUndone.completedAt ?? f.lastUndone.startedAt)}`,
      );
    }
  }
  for (const n of s.notes) lines.push(`  note: ${n}`);
  return lines.join('\n');
}

function minute(iso: string | undefined): string {
  return iso ? `${iso.slice(0, 16).replace('T', ' ')} UTC` : '?';
}

/** What `deployctl flags rollback` does in one stage target. */
export interface FlagsRollbackAction {
  readonly target: ServiceFlags;
  /**
   * stop: stop the deployment in progress (AppConfig returns to the version served before it);
   * revert: undo the last completed deployment (StopDeployment with AllowRevert, within 72 hours);
   * redeploy: deploy the previous version again with AppConfig.AllAtOnce (older than 72 hours).
   */
  readonly kind: 'stop' | 'revert' | 'redeploy';
  readonly deployment: FlagDeployment;
  readonly fromVersion?: string;
  readonly toVersion?: string;
}

/** A rollback, shown before the operator confirms. */
export interface FlagsRollbackPlan {
  readonly pipelineName: string;
  readonly stageName: string;
  readonly serviceName: string;
  readonly actions: FlagsRollbackAction[];
  readonly notes: string[];
}

export interface FlagsRollbackOptions extends FlagsOptions {
  readonly stageName: string;
  readonly serviceName: string;
  /** @default - the current time */
  readonly now?: Date;
}

/** Works out, per target of the stage, what rolling the service's flags back means; changes nothing. */
export async function planFlagsRollback(clients: OpsClients, opts: FlagsRollbackOptions): Promise<FlagsRollbackPlan> {
  const status = await getFlagsStatus(clients, opts);
  const where = `service "${opts.serviceName}" in stage ${opts.stageName}`;
  if (status.services.length === 0) {
    throw new OpsError('refused', `cannot roll back the flags of ${where}: ${status.notes.join('; ')}`);
  }
  const now = (opts.now ?? new Date()).getTime();
  const actions = status.services.map((target): FlagsRollbackAction => {
    const at = `${where} (${target.region})`;
    const d = target.inProgress;
    if (d) {
      if (d.state === 'ROLLING_BACK')
        throw new OpsError('refused', `nothing to do for ${at}: deployment #${d.deploymentNumber} is already rolling back`);
      return { target, kind: 'stop', deployment: d, fromVersion: d.configurationVersion, toVersion: target.deployed?.configurationVersion };
    }
    if (!target.deployed) throw new OpsError('refused', `nothing to roll back for ${at}: no flag version has been deployed`);
    if (!target.previous) {
      throw new OpsError(
        'refused',
        `nothing to roll back to for ${at}: version ${target.deployed.configurationVersion} is the only version deployed; fix the flags in git and let the pipeline deploy them`,
      );
    }
    const completed = Date.parse(target.deployed.completedAt ?? '');
    const withinRevertWindow = Number.isFinite(completed) && now - completed < REVERT_WINDOW_HOURS * 3600_000;
    return {
      target,
      kind: withinRevertWindow ? 'revert' : 'redeploy',
      deployment: target.deployed,
      fromVersion: target.deployed.configurationVersion,
      toVersion: target.previous.configurationVersion,
    };
  });
  return { pipelineName: opts.pipelineName, stageName: opts.stageName, serviceName: opts.serviceName, actions, notes: status.notes };
}

/** The question asked before rolling back. */
export function describeFlagsRollbackPlan(p: FlagsRollbackPlan): string {
  const lines = [`Roll back the feature flags of ${p.serviceName} in stage ${p.stageName} of ${p.pipelineName}`];
  for (const a of p.actions) {
    const where = `${a.target.account}/${a.target.region}`;
    if (a.kind === 'stop') {
      lines.push(
        `  ${where}: stop deployment #${a.deployment.deploymentNumber} (${a.deployment.state} version ${a.fromVersion}, ${a.deployment.percentComplete ?? 0} %); agents go back to version ${a.toVersion ?? '(none)'}`,
      );
    } else if (a.kind === 'revert') {
      lines.push(
        `  ${where}: revert deployment #${a.deployment.deploymentNumber}: version ${a.fromVersion} -> ${a.toVersion}, at once (AppConfig revert of a completed deployment)`,
      );
    } else {
      lines.push(
        `  ${where}: deploy version ${a.toVersion} again over version ${a.fromVersion} with ${REDEPLOY_STRATEGY} (deployment #${a.deployment.deploymentNumber} completed more than ${REVERT_WINDOW_HOURS} hours ago, too long for a revert); the health alarm is watched for its 10-minute bake`,
      );
    }
  }
  lines.push('  The stack still names the new version: the next pipeline run does not redeploy it; a new flag change in git does.');
  for (const n of p.notes) lines.push(`  note: ${n}`);
  return lines.join('\n');
}

/** What `deployctl flags rollback` did. */
export interface FlagsRollbackResult {
  readonly plan: FlagsRollbackPlan;
  readonly done: {
    readonly region: string;
    readonly kind: FlagsRollbackAction['kind'];
    readonly deploymentNumber?: number;
    readonly state?: string;
  }[];
}

/** Carries the plan out, target by target. */
export async function executeFlagsRollback(
  clients: OpsClients,
  plan: FlagsRollbackPlan,
  opts: CommonOptions & { appconfigFor?: AppConfigFor },
): Promise<FlagsRollbackResult> {
  const ctx = opsContext(clients, opts);
  const appconfigFor = opts.appconfigFor ?? appConfigClientsPerRegion();
  const done: FlagsRollbackResult['done'][number][] = [];
  for (const a of plan.actions) {
    const client = appconfigFor(a.target.region);
    const ids = { ApplicationId: a.target.applicationId, EnvironmentId: a.target.environmentId };
    try {
      if (a.kind === 'redeploy') {
        const out = await call(ctx, () =>
          client.send(
            new StartDeploymentCommand({
              ...ids,
              ConfigurationProfileId: a.target.profileId,
              ConfigurationVersion: a.toVersion!,
              DeploymentStrategyId: REDEPLOY_STRATEGY,
              Description: `deployctl flags rollback: version ${a.fromVersion} -> ${a.toVersion}`,
            }),
          ),
        );
        done.push({ region: a.target.region, kind: a.kind, deploymentNumber: out.DeploymentNumber, state: out.State });
      } else {
        // A DEPLOYING deployment stops without AllowRevert; baking or completed ones need it.
        const allowRevert = a.deployment.state !== 'DEPLOYING';
        const out = await call(ctx, () =>
          client.send(
            new StopDeploymentCommand({ ...ids, DeploymentNumber: a.deployment.deploymentNumber, AllowRevert: allowRevert || undefined }),
          ),
        );
        done.push({
          region: a.target.region,
          kind: a.kind,
          deploymentNumber: out.DeploymentNumber ?? a.deployment.deploymentNumber,
          state: out.State,
        });
      }
    } catch (err) {
      const e = err as { name?: string; message?: string };
      if (e?.name === 'BadRequestException' || e?.name === 'ConflictException' || e?.name === 'ResourceNotFoundException') {
        const what = a.kind === 'redeploy' ? `deploy version ${a.toVersion}` : `${a.kind} deployment #${a.deployment.deploymentNumber}`;
        const before = done.length > 0 ? ` (already done: ${done.map((d) => `${d.kind} in ${d.region}`).join(', ')})` : '';
        throw new OpsError(
          'refused',
          `AppConfig refused to ${what} of ${plan.serviceName} in ${a.target.region} (${e.name}: ${(e.message ?? '').split('\n')[0]})${before}: run \`deployctl flags --stage ${plan.stageName} --service ${plan.serviceName}\` and retry`,
        );
      }
      throw err;
    }
  }
  return { plan, done };
}

export function formatFlagsRollback(r: FlagsRollbackResult): string {
  const lines = r.done.map((d) => {
    const verb = d.kind === 'stop' ? 'Stopped' : d.kind === 'revert' ? 'Reverted' : 'Started redeploy,';
    return `${verb} deployment #${d.deploymentNumber ?? '?'} of ${r.plan.serviceName}'s flags in ${d.region}: ${d.state ?? 'requested'}`;
  });
  lines.push(
    `Follow it with: deployctl flags --pipeline ${r.plan.pipelineName} --stage ${r.plan.stageName} --service ${r.plan.serviceName}`,
  );
  return lines.join('\n');
}
