import 'aws-sdk-client-mock-jest';
import {
  AppConfigClient,
  BadRequestException,
  DeploymentSummary,
  GetApplicationCommand,
  ListConfigurationProfilesCommand,
  ListDeploymentsCommand,
  ListEnvironmentsCommand,
  StartDeploymentCommand,
  StopDeploymentCommand,
} from '@aws-sdk/client-appconfig';
import { ListStackResourcesCommand } from '@aws-sdk/client-cloudformation';
import { GetPipelineCommand } from '@aws-sdk/client-codepipeline';
import { AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { main } from '../../lib/ops/cli';
import {
  describeFlagsRollbackPlan,
  executeFlagsRollback,
  formatFlagsRollback,
  formatFlagsStatus,
  getFlagsStatus,
  planFlagsRollback,
} from '../../lib/ops/flags';
import { CLI_FIXTURE_ENV } from '../support/fixtures';
import * as f from './fixtures';

const BETA_LAMBDA = `Beta-${f.REGION}-LambdaService`;
const BETA_ECS = `Beta-${f.REGION}-EcsService`;
const APP = 'k3m9x2p';
const ENV_API = 'q7w2e5r';
const ENV_WEB = 't4y8u1i';
const PROFILE_API = 'a9s8d7f';
const PROFILE_WEB = 'g6h5j4k';
const NOW = new Date('2026-11-02T12:00:00Z');

/** A stack's resources as CloudFormation lists them, with the AppConfig ones ServiceFeatureFlags creates. */
function stackWithFlags(stackName: string, withApplication: boolean, service: string, env: string, profile: string) {
  const base = f.stackResources(stackName, stackName.endsWith('EcsService') ? 'ecs' : 'lambda').StackResourceSummaries;
  const r = (LogicalResourceId: string, ResourceType: string, PhysicalResourceId: string) => ({
    LogicalResourceId,
    PhysicalResourceId,
    ResourceType,
    LastUpdatedTimestamp: f.at('2026-11-02T10:00:00Z'),
    ResourceStatus: 'UPDATE_COMPLETE' as const,
  });
  return {
    StackResourceSummaries: [
      ...base,
      ...(withApplication ? [r('FlagsApp1A2B3C4D', 'AWS::AppConfig::Application', APP)] : []),
      r(`${service}FlagsEnvironmentAA5E14E7`, 'AWS::AppConfig::Environment', env),
      r(`${service}FlagsProfileE92C17A7`, 'AWS::AppConfig::ConfigurationProfile', profile),
      r(`${service}FlagsVersion49674757`, 'AWS::AppConfig::HostedConfigurationVersion', '7'),
    ],
  };
}

/** A deployment as ListDeployments returns it. */
function deployment(
  n: number,
  configurationName: string,
  version: string,
  state: DeploymentSummary['State'],
  extra: Partial<DeploymentSummary> = {},
): DeploymentSummary {
  return {
    DeploymentNumber: n,
    ConfigurationName: configurationName,
    ConfigurationVersion: version,
    DeploymentDurationInMinutes: 30,
    GrowthType: 'LINEAR',
    GrowthFactor: 20,
    FinalBakeTimeInMinutes: 30,
    State: state,
    PercentageComplete: state === 'COMPLETE' || state === 'REVERTED' ? 100 : 0,
    StartedAt: f.at(`2026-11-0${Math.min(n, 2)}T09:${String(n).padStart(2, '0')}:00Z`),
    CompletedAt:
      state === 'COMPLETE' || state === 'ROLLED_BACK' || state === 'REVERTED'
        ? f.at(`2026-11-0${Math.min(n, 2)}T10:${String(n).padStart(2, '0')}:00Z`)
        : undefined,
    Type: 'USER',
    ...extra,
  };
}

let m: f.Mocks;
let appconfig: AwsClientStub<AppConfigClient>;
const appconfigFor = (region: string) =>
  new AppConfigClient({ region, credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'example' } });
const opts = { pipelineName: f.PIPELINE, region: f.REGION, retry: f.RETRY, appconfigFor };

beforeEach(() => {
  m = f.mocks();
  appconfig = mockClient(AppConfigClient);
  m.codepipeline.on(GetPipelineCommand).resolves(f.getPipelineOutput());
  // The Lambda stack holds the target's shared application; the ECS stack only its environment and profile.
  m.cloudformation
    .on(ListStackResourcesCommand, { StackName: BETA_LAMBDA })
    .resolves(stackWithFlags(BETA_LAMBDA, true, 'Api', ENV_API, PROFILE_API));
  m.cloudformation
    .on(ListStackResourcesCommand, { StackName: BETA_ECS })
    .resolves(stackWithFlags(BETA_ECS, false, 'Web', ENV_WEB, PROFILE_WEB));
  appconfig
    .on(GetApplicationCommand, { ApplicationId: APP })
    .resolves({ Id: APP, Name: 'Beta-us-east-1-flags', Description: 'Feature flags of the services safe-deploy deploys here' });
  appconfig.on(ListEnvironmentsCommand, { ApplicationId: APP }).resolves({
    Items: [
      {
        ApplicationId: APP,
        Id: ENV_API,
        Name: 'api',
        State: 'READY_FOR_DEPLOYMENT',
        Monitors: [
          {
            AlarmArn: `arn:aws:cloudwatch:us-east-1:${f.PIPELINE_ACCOUNT}:alarm:${BETA_LAMBDA}-Health`,
            AlarmRoleArn: `arn:aws:iam::${f.PIPELINE_ACCOUNT}:role/Beta-ApiFlagsMonitorRole-1A2B`,
          },
        ],
      },
      { ApplicationId: APP, Id: ENV_WEB, Name: 'web', State: 'DEPLOYING' },
      // An environment without a feature-flag profile of its name is not a service's.
      { ApplicationId: APP, Id: 'z0x9c8v', Name: 'scratch', State: 'READY_FOR_DEPLOYMENT' },
    ],
  });
  appconfig.on(ListConfigurationProfilesCommand, { ApplicationId: APP }).resolves({
    Items: [
      { ApplicationId: APP, Id: PROFILE_API, Name: 'api', LocationUri: 'hosted', Type: 'AWS.AppConfig.FeatureFlags', ValidatorTypes: [] },
      { ApplicationId: APP, Id: PROFILE_WEB, Name: 'web', LocationUri: 'hosted', Type: 'AWS.AppConfig.FeatureFlags', ValidatorTypes: [] },
    ],
  });
  // api: version 7 served since deployment #12; the change before it (#13, version 8) was rolled back by the alarm.
  appconfig.on(ListDeploymentsCommand, { EnvironmentId: ENV_API }).resolves({
    Items: [
      deployment(13, 'api', '8', 'ROLLED_BACK'),
      deployment(12, 'api', '7', 'COMPLETE', { CompletedAt: f.at('2026-11-02T10:06:00Z') }),
      deployment(11, 'api', '6', 'COMPLETE'),
    ],
  });
  // web: version 4 deploying at 40 %, version 3 served.
  appconfig.on(ListDeploymentsCommand, { EnvironmentId: ENV_WEB }).resolves({
    Items: [
      deployment(5, 'web', '4', 'DEPLOYING', { PercentageComplete: 40, StartedAt: f.at('2026-11-02T11:50:00Z') }),
      deployment(4, 'web', '3', 'COMPLETE'),
      deployment(3, 'web', '2', 'COMPLETE'),
    ],
  });
});
afterEach(() => {
  Object.values(m).forEach((x) => x.restore());
  appconfig.restore();
});

describe('deployctl flags', () => {
  test('shows per stage target and service the served version, the deployment in progress and the last undone change', async () => {
    const status = await getFlagsStatus(f.clients(), opts);
    expect(
      status.services.map((s) => [
        s.stageName,
        s.region,
        s.service,
        s.deployed?.configurationVersion,
        s.inProgress?.state,
        s.lastUndone?.state,
      ]),
    ).toEqual([
      ['Beta', 'us-east-1', 'api', '7', undefined, 'ROLLED_BACK'],
      ['Beta', 'us-east-1', 'web', '3', 'DEPLOYING', undefined],
    ]);
    expect(status.services[1]).toEqual(
      expect.objectContaining({
        applicationId: APP,
        applicationName: 'Beta-us-east-1-flags',
        environmentId: ENV_WEB,
        profileId: PROFILE_WEB,
        environmentState: 'DEPLOYING',
        stackName: BETA_LAMBDA,
        inProgress: expect.objectContaining({
          deploymentNumber: 5,
          configurationVersion: '4',
          percentComplete: 40,
          strategy: 'linear 20 % over 30 min, step every 6 min, bake 30 min',
        }),
      }),
    );
    // Prod is in another account: a note, not an error.
    expect(status.notes).toEqual([
      `Prod-Wave1: stack Prod-Wave1-us-east-1-LambdaService is in account ${f.PROD_ACCOUNT} (us-east-1): use credentials for it to see its flags`,
      `Prod-Wave1: stack Prod-Wave1-us-east-1-EcsService is in account ${f.PROD_ACCOUNT} (us-east-1): use credentials for it to see its flags`,
    ]);
    // One application found twice (both stacks of the target) is read once.
    expect(appconfig).toHaveReceivedCommandTimes(GetApplicationCommand, 1);
    expect(appconfig).toHaveReceivedCommandWith(ListConfigurationProfilesCommand, {
      ApplicationId: APP,
      Type: 'AWS.AppConfig.FeatureFlags',
    });

    expect(formatFlagsStatus(status)).toBe(
      [
        `Feature flags of ${f.PIPELINE} (us-east-1)`,
        `  Beta  ${f.PIPELINE_ACCOUNT}/us-east-1  application Beta-us-east-1-flags (${APP}, stack ${BETA_LAMBDA})`,
        '    api: version 7 since 2026-11-02 10:06 UTC (deployment #12)',
        '      last change: deployment #13 of version 8 was ROLLED_BACK at 2026-11-02 10:13 UTC',
        '    web: version 3 since 2026-11-02 10:04 UTC (deployment #4)',
        '      DEPLOYING version 4 40 %, linear 20 % over 30 min, step every 6 min, bake 30 min (deployment #5, started 2026-11-02 11:50 UTC)',
        `  note: Prod-Wave1: stack Prod-Wave1-us-east-1-LambdaService is in account ${f.PROD_ACCOUNT} (us-east-1): use credentials for it to see its flags`,
        `  note: Prod-Wave1: stack Prod-Wave1-us-east-1-EcsService is in account ${f.PROD_ACCOUNT} (us-east-1): use credentials for it to see its flags`,
      ].join('\n'),
    );
  });

  test('filters by stage and service', async () => {
    const status = await getFlagsStatus(f.clients(), { ...opts, stageName: 'Beta', serviceName: 'web' });
    expect(status.services.map((s) => s.service)).toEqual(['web']);
    expect(status.notes).toEqual([]);
    expect(appconfig).not.toHaveReceivedCommandWith(ListDeploymentsCommand, { EnvironmentId: ENV_API });
  });

  test('a stack that is not deployed yet has no flags; a pipeline without flags says so', async () => {
    const missing = Object.assign(new Error(`Stack with id ${BETA_LAMBDA} does not exist`), { name: 'ValidationError' });
    m.cloudformation.on(ListStackResourcesCommand).rejects(missing);
    const status = await getFlagsStatus(f.clients(), { ...opts, stageName: 'Beta' });
    expect(status.services).toEqual([]);
    expect(formatFlagsStatus(status)).toContain(
      'no feature flags found: no stack of the pipeline has created an AppConfig application yet',
    );
  });

  test('reads the history page by page until it has the served and the previous version', async () => {
    appconfig
      .on(ListDeploymentsCommand, { EnvironmentId: ENV_API })
      .resolvesOnce({ Items: [deployment(13, 'api', '8', 'COMPLETE')], NextToken: 'page-2' })
      .resolves({ Items: [deployment(12, 'other', '1', 'COMPLETE'), deployment(11, 'api', '7', 'COMPLETE')] });
    const [api] = (await getFlagsStatus(f.clients(), { ...opts, stageName: 'Beta', serviceName: 'api' })).services;
    expect([api.deployed?.configurationVersion, api.previous?.configurationVersion]).toEqual(['8', '7']);
    expect(appconfig).toHaveReceivedCommandWith(ListDeploymentsCommand, { EnvironmentId: ENV_API, NextToken: 'page-2' });
  });

  test('fails when the stage is not in the pipeline, listing the stages', async () => {
    await expect(getFlagsStatus(f.clients(), { ...opts, stageName: 'Gamma' })).rejects.toThrow(
      `stage "Gamma" is not in pipeline ${f.PIPELINE}: use one of Source, Build, Beta, Prod-Wave1`,
    );
  });

  test('fails when the service has no flags there', async () => {
    await expect(getFlagsStatus(f.clients(), { ...opts, stageName: 'Beta', serviceName: 'billing' })).rejects.toThrow(
      'no feature flags of service "billing" in stage Beta: `deployctl flags` lists the services that have flags',
    );
  });
});

describe('deployctl flags rollback', () => {
  const rollbackOpts = { ...opts, stageName: 'Beta', now: NOW };

  test('stops a flag deployment in progress (AppConfig returns the agents to the served version)', async () => {
    appconfig
      .on(StopDeploymentCommand)
      .resolves({ ApplicationId: APP, EnvironmentId: ENV_WEB, DeploymentNumber: 5, State: 'ROLLED_BACK', ConfigurationVersion: '4' });
    const plan = await planFlagsRollback(f.clients(), { ...rollbackOpts, serviceName: 'web' });
    expect(plan.actions.map((a) => [a.kind, a.deployment.deploymentNumber, a.fromVersion, a.toVersion])).toEqual([['stop', 5, '4', '3']]);
    expect(describeFlagsRollbackPlan(plan)).toBe(
      [
        `Roll back the feature flags of web in stage Beta of ${f.PIPELINE}`,
        `  ${f.PIPELINE_ACCOUNT}/us-east-1: stop deployment #5 (DEPLOYING version 4, 40 %); agents go back to version 3`,
        '  The stack still names the new version: the next pipeline run does not redeploy it; a new flag change in git does.',
      ].join('\n'),
    );
    const result = await executeFlagsRollback(f.clients(), plan, opts);
    // A DEPLOYING deployment stops without AllowRevert (StopDeployment's documented default).
    expect(appconfig).toHaveReceivedCommandWith(StopDeploymentCommand, {
      ApplicationId: APP,
      EnvironmentId: ENV_WEB,
      DeploymentNumber: 5,
      AllowRevert: undefined,
    });
    expect(formatFlagsRollback(result)).toBe(
      `Stopped deployment #5 of web's flags in us-east-1: ROLLED_BACK\nFollow it with: deployctl flags --pipeline ${f.PIPELINE} --stage Beta --service web`,
    );
  });

  test('a baking deployment is stopped with AllowRevert', async () => {
    appconfig
      .on(ListDeploymentsCommand, { EnvironmentId: ENV_WEB })
      .resolves({ Items: [deployment(5, 'web', '4', 'BAKING', { PercentageComplete: 100 }), deployment(4, 'web', '3', 'COMPLETE')] });
    appconfig.on(StopDeploymentCommand).resolves({ DeploymentNumber: 5, State: 'ROLLED_BACK' });
    const plan = await planFlagsRollback(f.clients(), { ...rollbackOpts, serviceName: 'web' });
    await executeFlagsRollback(f.clients(), plan, opts);
    expect(appconfig).toHaveReceivedCommandWith(StopDeploymentCommand, { DeploymentNumber: 5, AllowRevert: true });
  });

  test('with nothing in progress, reverts the last completed deployment to the previous version (within 72 hours)', async () => {
    appconfig.on(StopDeploymentCommand).resolves({ DeploymentNumber: 12, State: 'REVERTED', ConfigurationVersion: '7' });
    const plan = await planFlagsRollback(f.clients(), { ...rollbackOpts, serviceName: 'api' });
    expect(plan.actions.map((a) => [a.kind, a.deployment.deploymentNumber, a.fromVersion, a.toVersion])).toEqual([
      ['revert', 12, '7', '6'],
    ]);
    expect(describeFlagsRollbackPlan(plan)).toContain(
      `${f.PIPELINE_ACCOUNT}/us-east-1: revert deployment #12: version 7 -> 6, at once (AppConfig revert of a completed deployment)`,
    );
    const result = await executeFlagsRollback(f.clients(), plan, opts);
    expect(appconfig).toHaveReceivedCommandWith(StopDeploymentCommand, {
      ApplicationId: APP,
      EnvironmentId: ENV_API,
      DeploymentNumber: 12,
      AllowRevert: true,
    });
    expect(formatFlagsRollback(result)).toMatch(/^Reverted deployment #12 of api's flags in us-east-1: REVERTED\n/);
  });

  test('after 72 hours, redeploys the previous version at once instead, and says the alarm still watches', async () => {
    appconfig
      .on(StartDeploymentCommand)
      .resolves({ ApplicationId: APP, EnvironmentId: ENV_API, DeploymentNumber: 14, State: 'DEPLOYING', ConfigurationVersion: '6' });
    const plan = await planFlagsRollback(f.clients(), { ...rollbackOpts, serviceName: 'api', now: new Date('2026-11-06T00:00:00Z') });
    expect(plan.actions[0].kind).toBe('redeploy');
    expect(describeFlagsRollbackPlan(plan)).toContain(
      'deploy version 6 again over version 7 with AppConfig.AllAtOnce (deployment #12 completed more than 72 hours ago, too long for a revert); the health alarm is watched for its 10-minute bake',
    );
    const result = await executeFlagsRollback(f.clients(), plan, opts);
    expect(appconfig).toHaveReceivedCommandWith(StartDeploymentCommand, {
      ApplicationId: APP,
      EnvironmentId: ENV_API,
      ConfigurationProfileId: PROFILE_API,
      ConfigurationVersion: '6',
      DeploymentStrategyId: 'AppConfig.AllAtOnce',
    });
    expect(formatFlagsRollback(result)).toMatch(/^Started redeploy, deployment #14 of api's flags in us-east-1: DEPLOYING/);
  });

  test('fails when the service has only ever had one version', async () => {
    appconfig.on(ListDeploymentsCommand, { EnvironmentId: ENV_API }).resolves({ Items: [deployment(1, 'api', '1', 'COMPLETE')] });
    await expect(planFlagsRollback(f.clients(), { ...rollbackOpts, serviceName: 'api' })).rejects.toThrow(
      'nothing to roll back to for service "api" in stage Beta (us-east-1): version 1 is the only version deployed; fix the flags in git and let the pipeline deploy them',
    );
  });

  test('fails when nothing was ever deployed', async () => {
    appconfig.on(ListDeploymentsCommand, { EnvironmentId: ENV_API }).resolves({ Items: [] });
    await expect(planFlagsRollback(f.clients(), { ...rollbackOpts, serviceName: 'api' })).rejects.toThrow(
      'nothing to roll back for service "api" in stage Beta (us-east-1): no flag version has been deployed',
    );
  });

  test('fails when AppConfig is already rolling the deployment back', async () => {
    appconfig
      .on(ListDeploymentsCommand, { EnvironmentId: ENV_WEB })
      .resolves({ Items: [deployment(5, 'web', '4', 'ROLLING_BACK'), deployment(4, 'web', '3', 'COMPLETE')] });
    await expect(planFlagsRollback(f.clients(), { ...rollbackOpts, serviceName: 'web' })).rejects.toThrow(
      'nothing to do for service "web" in stage Beta (us-east-1): deployment #5 is already rolling back',
    );
  });

  test('fails when the stage is in another account', async () => {
    await expect(planFlagsRollback(f.clients(), { ...rollbackOpts, stageName: 'Prod-Wave1', serviceName: 'api' })).rejects.toThrow(
      `cannot roll back the flags of service "api" in stage Prod-Wave1: Prod-Wave1: stack Prod-Wave1-us-east-1-LambdaService is in account ${f.PROD_ACCOUNT} (us-east-1): use credentials for it to see its flags; Prod-Wave1: stack Prod-Wave1-us-east-1-EcsService is in account ${f.PROD_ACCOUNT} (us-east-1): use credentials for it to see its flags`,
    );
  });

  test('fails with one line when AppConfig refuses the stop (the deployment finished meanwhile)', async () => {
    appconfig
      .on(StopDeploymentCommand)
      .rejects(new BadRequestException({ message: 'Deployment 5 is not in a state that can be stopped', $metadata: f.metadata }));
    const plan = await planFlagsRollback(f.clients(), { ...rollbackOpts, serviceName: 'web' });
    await expect(executeFlagsRollback(f.clients(), plan, opts)).rejects.toThrow(
      'AppConfig refused to stop deployment #5 of web in us-east-1 (BadRequestException: Deployment 5 is not in a state that can be stopped): run `deployctl flags --stage Beta --service web` and retry',
    );
  });
});

describe('the CLI verbs', () => {
  async function run(argv: string[], extra: { isTTY?: boolean; confirm?: (q: string) => Promise<boolean> } = {}) {
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(argv, {
      clients: f.clients(),
      appconfig: appconfigFor,
      stdout: { write: (s: string) => out.push(s) },
      stderr: { write: (s: string) => err.push(s) },
      isTTY: extra.isTTY ?? false,
      confirm: extra.confirm ?? (async () => false),
      env: CLI_FIXTURE_ENV,
      sleep: async () => undefined,
    });
    return { code, stdout: out.join(''), stderr: err.join('') };
  }

  test('`flags` prints the status; `--json` the object', async () => {
    const text = await run(['flags', '--stage', 'Beta']);
    expect(text).toEqual({
      code: 0,
      stderr: '',
      stdout: expect.stringContaining('    web: version 3 since 2026-11-02 10:04 UTC (deployment #4)'),
    });
    const json = await run(['flags', '--json', '--service', 'api']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout).services).toEqual([
      expect.objectContaining({ service: 'api', deployed: expect.objectContaining({ configurationVersion: '7' }) }),
    ]);
  });

  test('`flags rollback` refuses without a terminal and without --yes, changing nothing', async () => {
    const r = await run(['flags', 'rollback', '--stage', 'Beta', '--service', 'web']);
    expect(r).toEqual({
      code: 1,
      stdout: '',
      stderr: 'deployctl: refusing to roll back flags without confirmation: stdin is not a terminal, pass --yes\n',
    });
    expect(appconfig).not.toHaveReceivedCommand(StopDeploymentCommand);
  });

  test('`flags rollback` shows the plan and asks on a terminal; answering no changes nothing', async () => {
    const confirm = jest.fn(async () => false);
    const r = await run(['flags', 'rollback', '--stage', 'Beta', '--service', 'web'], { isTTY: true, confirm });
    expect(confirm).toHaveBeenCalledWith('Proceed? [y/N] ');
    expect(r.stdout).toContain('stop deployment #5 (DEPLOYING version 4, 40 %); agents go back to version 3');
    expect(r.stderr).toBe('deployctl: flags rollback cancelled: nothing was changed\n');
    expect(r.code).toBe(1);
    expect(appconfig).not.toHaveReceivedCommand(StopDeploymentCommand);
  });

  test('`flags rollback --yes` rolls back and exits 0', async () => {
    appconfig.on(StopDeploymentCommand).resolves({ DeploymentNumber: 5, State: 'ROLLED_BACK' });
    const r = await run(['flags', 'rollback', '--stage', 'Beta', '--service', 'web', '--yes', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).done).toEqual([{ region: 'us-east-1', kind: 'stop', deploymentNumber: 5, state: 'ROLLED_BACK' }]);
  });

  test('one line and exit 1 for a missing option, an unknown stage or service', async () => {
    const missing = await run(['flags', 'rollback', '--stage', 'Beta']);
    expect(missing).toEqual({ code: 1, stdout: '', stderr: "deployctl: error: required option '--service <name>' not specified\n" });
    const stage = await run(['flags', '--stage', 'Gamma']);
    expect(stage).toEqual({
      code: 1,
      stdout: '',
      stderr: `deployctl: stage "Gamma" is not in pipeline ${f.PIPELINE}: use one of Source, Build, Beta, Prod-Wave1\n`,
    });
    const service = await run(['flags', 'rollback', '--stage', 'Beta', '--service', 'billing', '--yes']);
    expect(service.stderr).toBe(
      'deployctl: no feature flags of service "billing" in stage Beta: `deployctl flags` lists the services that have flags\n',
    );
    expect(service.code).toBe(1);
  });

  test('one line and exit 2 when AppConfig denies access', async () => {
    appconfig.on(ListEnvironmentsCommand).rejects(
      Object.assign(
        new Error(
          `User: arn:aws:sts::${f.PIPELINE_ACCOUNT}:assumed-role/Dev/me is not authorized to perform: appconfig:ListEnvironments on resource: arn:aws:appconfig:us-east-1:${f.PIPELINE_ACCOUNT}:application/${APP}`,
        ),
        {
          name: 'AccessDeniedException',
          $metadata: { ...f.metadata, httpStatusCode: 403 },
        },
      ),
    );
    const r = await run(['flags', '--stage', 'Beta']);
    expect(r).toEqual({
      code: 2,
      stdout: '',
      stderr:
        'deployctl: access denied: your credentials may not call appconfig:ListEnvironments (AccessDeniedException); ask for that permission or use a role that has it\n',
    });
  });
});
