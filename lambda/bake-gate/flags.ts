import {
  AppConfigClient,
  GetDeploymentCommand,
  ListApplicationsCommand,
  ListDeploymentsCommand,
  ListEnvironmentsCommand,
} from '@aws-sdk/client-appconfig';
import type { GateFlags, GateTarget } from '../../lib/runtime/gate-settings';

/**
 * What the bake gate checks of feature-flag deployments (AppConfig), read through the target's
 * GateReaderRole. The rules, per service with flags:
 *
 * - previous stage (observed): the newest flag deployment of the service's environment must be
 *   COMPLETE (rolled out and baked) and be this release's flags (its description names their
 *   digest). Still rolling out or baking: wait. Rolled back by the health alarm or reverted by an
 *   operator (`deployctl flags rollback`), or other flags than this release's: fail, because the next
 *   stage would get flags the previous one did not keep.
 * - guarded stage: a flag deployment still running there (an earlier release's) makes the gate
 *   wait, since AppConfig runs one deployment per environment at a time and the stage's stack update
 *   would fail on it. A rolled-back one does not block: this release may be the fix. No application
 *   yet: the stage has never deployed the service's flags, nothing to wait for.
 *
 * AppConfig facts relied on (API reference, checked 2026-11): deployment states BAKING, VALIDATING,
 * DEPLOYING, COMPLETE, ROLLING_BACK, ROLLED_BACK, REVERTED; ListDeployments lists an environment's
 * deployments (summaries without description); GetDeployment has the description.
 * https://docs.aws.amazon.com/appconfig/2019-10-09/APIReference/API_Deployment.html
 */

/** States in which AppConfig is still changing or watching what the agents get. */
export const FLAG_DEPLOYMENT_RUNNING = ['VALIDATING', 'DEPLOYING', 'BAKING', 'ROLLING_BACK'];

/** One service's verdict. */
export type FlagVerdict =
  | { readonly kind: 'ok'; readonly note?: string }
  | { readonly kind: 'wait'; readonly reason: string }
  | { readonly kind: 'fail'; readonly reason: string };

/** The newest deployment of a service's flags in one target, or why there is none. */
interface Newest {
  readonly number: number;
  readonly state: string;
  readonly percent?: number;
  readonly description: string;
  readonly version?: string;
}

/** Finds the service's newest flag deployment: application and environment by name, then its deployments. */
export async function newestFlagDeployment(
  client: AppConfigClient,
  flags: GateFlags,
): Promise<Newest | 'no-application' | 'no-environment' | 'no-deployment'> {
  const applications: string[] = [];
  let next: string | undefined;
  do {
    const out = await client.send(new ListApplicationsCommand({ MaxResults: 50, NextToken: next }));
    applications.push(...(out.Items ?? []).filter((a) => a.Name === flags.application && a.Id).map((a) => a.Id!));
    next = out.NextToken;
  } while (next);
  if (applications.length === 0) return 'no-application';
  // A name can repeat (an application retained from an earlier stack): the most recently started deployment wins.
  let newest: { applicationId: string; environmentId: string; number: number; startedAt: number } | undefined;
  let environments = 0;
  for (const ApplicationId of applications) {
    let envToken: string | undefined;
    do {
      const out = await client.send(new ListEnvironmentsCommand({ ApplicationId, MaxResults: 50, NextToken: envToken }));
      for (const env of (out.Items ?? []).filter((e) => e.Name === flags.environment && e.Id)) {
        environments++;
        // One page is enough: AppConfig lists an environment's deployments newest first; sorted again to be sure.
        const list = await client.send(new ListDeploymentsCommand({ ApplicationId, EnvironmentId: env.Id!, MaxResults: 50 }));
        const top = (list.Items ?? [])
          .filter((d) => d.ConfigurationName === flags.environment && d.DeploymentNumber !== undefined)
          .sort((a, b) => b.DeploymentNumber! - a.DeploymentNumber!)[0];
        const startedAt = top?.StartedAt?.getTime() ?? 0;
        if (top && (!newest || startedAt > newest.startedAt))
          newest = { applicationId: ApplicationId, environmentId: env.Id!, number: top.DeploymentNumber!, startedAt };
      }
      envToken = out.NextToken;
    } while (envToken);
  }
  if (environments === 0) return 'no-environment';
  if (!newest) return 'no-deployment';
  const d = await client.send(
    new GetDeploymentCommand({ ApplicationId: newest.applicationId, EnvironmentId: newest.environmentId, DeploymentNumber: newest.number }),
  );
  return {
    number: newest.number,
    state: d.State ?? 'UNKNOWN',
    percent: d.PercentageComplete,
    description: d.Description ?? '',
    version: d.ConfigurationVersion,
  };
}

/** The previous stage must have completed this release's flags. */
export async function checkObservedFlags(client: AppConfigClient, target: GateTarget, flags: GateFlags): Promise<FlagVerdict> {
  const where = `${flags.service}'s flags in ${target.account}/${target.region}`;
  const found = await newestFlagDeployment(client, flags);
  if (typeof found === 'string') {
    return {
      kind: 'fail',
      reason: `${where}: ${missing(found, flags)}, although the previous stage deployed them: check the service's stack (application "${flags.application}")`,
    };
  }
  const d = `deployment #${found.number} (version ${found.version ?? '?'})`;
  if (FLAG_DEPLOYMENT_RUNNING.includes(found.state)) {
    return {
      kind: 'wait',
      reason: `${where}: ${d} is ${found.state} (${found.percent ?? 0} %): waiting for the flag rollout and its bake to finish`,
    };
  }
  const ours = found.description.includes(`sha256 ${flags.digest}`);
  if (found.state === 'ROLLED_BACK' || found.state === 'REVERTED') {
    return {
      kind: 'fail',
      reason:
        `${where}: ${d} was ${found.state}${ours ? ', and it holds the flags this release deploys' : ''}: ` +
        'fix the flags in git (any change to them, even a description, deploys them anew), then release again',
    };
  }
  if (found.state !== 'COMPLETE')
    return {
      kind: 'fail',
      reason: `${where}: ${d} is in state ${found.state}, which the gate does not know: check it with deployctl flags`,
    };
  if (!ours) {
    return {
      kind: 'fail',
      reason: `${where}: the newest deployment, ${d}, is not of the flags this release deploys (sha256 ${flags.digest}): flags were deployed or rolled back by hand there; fix the flags in git, or release what runs there`,
    };
  }
  return { kind: 'ok' };
}

/** The guarded stage must not be in the middle of a flag deployment. */
export async function checkGuardedFlags(client: AppConfigClient, target: GateTarget, flags: GateFlags): Promise<FlagVerdict> {
  const where = `${flags.service}'s flags in ${target.account}/${target.region}`;
  const found = await newestFlagDeployment(client, flags);
  if (typeof found === 'string') return { kind: 'ok', note: `${where} not deployed yet (${missing(found, flags)})` };
  if (FLAG_DEPLOYMENT_RUNNING.includes(found.state)) {
    return {
      kind: 'wait',
      reason: `${where}: deployment #${found.number} is still ${found.state} (${found.percent ?? 0} %), and AppConfig runs one deployment per environment at a time: waiting for it to finish`,
    };
  }
  return { kind: 'ok' };
}

function missing(what: 'no-application' | 'no-environment' | 'no-deployment', flags: GateFlags): string {
  if (what === 'no-application') return `no AppConfig application "${flags.application}"`;
  if (what === 'no-environment') return `no environment "${flags.environment}" in application "${flags.application}"`;
  return `no deployment of profile "${flags.environment}"`;
}
