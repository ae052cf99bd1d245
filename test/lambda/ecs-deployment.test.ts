import { Logger } from '@aws-lambda-powertools/logger';
import {
  BatchGetDeploymentTargetsCommand,
  CodeDeployClient,
  ContinueDeploymentCommand,
  CreateDeploymentCommand,
  GetDeploymentCommand,
  GetDeploymentGroupCommand,
  GetDeploymentGroupOutput,
  GetDeploymentOutput,
  ListDeploymentsCommand,
  ListDeploymentTargetsCommand,
  StopDeploymentCommand,
} from '@aws-sdk/client-codedeploy';
import { DescribeServicesCommand, ECSClient } from '@aws-sdk/client-ecs';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import {
  buildAppSpec,
  DeploymentDeps,
  describeFailure,
  isComplete,
  IsCompleteRequest,
  onEvent,
  parseProperties,
  taskDefinitionOf,
  trafficFullyShifted,
} from '../../lambda/ecs-deployment/deployment';

const cd = mockClient(CodeDeployClient);
const ecsMock = mockClient(ECSClient);
const logger = new Logger({ serviceName: 'test', logLevel: 'SILENT' });
const deps: DeploymentDeps = {
  codedeploy: cd as unknown as CodeDeployClient,
  ecs: ecsMock as unknown as ECSClient,
  logger,
  retry: { sleep: async () => undefined },
};
/** DescribeServices of a CODE_DEPLOY service whose PRIMARY task set runs `td` (none: no task sets yet). */
const serving = (td?: string) =>
  ecsMock.on(DescribeServicesCommand).resolves({
    services: [
      { serviceName: 'Beta-EcsService-Service', taskSets: td ? [{ id: 'ecs-svc/1', status: 'PRIMARY', taskDefinition: td }] : [] },
    ],
    failures: [],
  });

const TD1 = 'arn:aws:ecs:us-east-1:111111111111:task-definition/BetaEcsServiceTaskDef:1';
const TD2 = 'arn:aws:ecs:us-east-1:111111111111:task-definition/BetaEcsServiceTaskDef:2';
const HOOK = 'arn:aws:lambda:us-east-1:111111111111:function:Beta-EcsService-TestTrafficHook';
const props = (td = TD2) => ({
  ServiceToken: 'arn:aws:lambda:us-east-1:111111111111:function:provider',
  ApplicationName: 'Beta-EcsService-App',
  DeploymentGroupName: 'Beta-EcsService-Group',
  ClusterName: 'Beta-Platform-Cluster',
  ServiceName: 'Beta-EcsService-Service',
  TaskDefinitionArn: td,
  ContainerName: 'app',
  ContainerPort: '8080',
  Revision: '111111111111.dkr.ecr.us-east-1.amazonaws.com/app:abc123',
  Hooks: { AfterAllowTestTraffic: HOOK },
});
const base = {
  ServiceToken: props().ServiceToken,
  ResponseURL: 'https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/x',
  StackId: 'arn:aws:cloudformation:us-east-1:111111111111:stack/Beta-EcsService/0f4b0c10-8a4e-11ef-9f6b-0a1b2c3d4e5f',
  RequestId: '5d9c9f0e-1b1a-4f3b-9f0a-2f0e4c3b2a10',
  LogicalResourceId: 'ServiceDeployment0C7A1F2B',
  ResourceType: 'Custom::EcsCodeDeployDeployment',
};
const create = (): CloudFormationCustomResourceEvent => ({ ...base, RequestType: 'Create', ResourceProperties: props() });
const update = (td = TD2, old = TD1): CloudFormationCustomResourceEvent => ({
  ...base,
  RequestType: 'Update',
  PhysicalResourceId: 'Beta-EcsService-App/Beta-EcsService-Group',
  ResourceProperties: props(td),
  OldResourceProperties: props(old),
});
const del = (): CloudFormationCustomResourceEvent => ({
  ...base,
  RequestType: 'Delete',
  PhysicalResourceId: 'Beta-EcsService-App/Beta-EcsService-Group',
  ResourceProperties: props(),
});
const appSpecFor = (td: string) => buildAppSpec({ ...parseProperties(props(td)) });
const deploymentInfo = (id: string, status: string, td: string, extra: object = {}): GetDeploymentOutput =>
  ({
    deploymentInfo: {
      deploymentId: id,
      applicationName: 'Beta-EcsService-App',
      deploymentGroupName: 'Beta-EcsService-Group',
      status,
      computePlatform: 'ECS',
      revision: { revisionType: 'AppSpecContent', appSpecContent: { content: appSpecFor(td), sha256: 'x' } },
      ...extra,
    },
  }) as GetDeploymentOutput;
const group = (lastSuccessful?: string): GetDeploymentGroupOutput => ({
  deploymentGroupInfo: {
    applicationName: 'Beta-EcsService-App',
    deploymentGroupName: 'Beta-EcsService-Group',
    computePlatform: 'ECS',
    lastSuccessfulDeployment: lastSuccessful ? { deploymentId: lastSuccessful, status: 'Succeeded' } : undefined,
  },
});
const throttle = () => Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } });
const awsError = (name: string, message: string) => Object.assign(new Error(message), { name, $metadata: { httpStatusCode: 400 } });

beforeEach(() => {
  cd.reset();
  ecsMock.reset();
  serving(TD1);
});

describe('onEvent: Create / Update', () => {
  test('an Update with a new task definition creates a deployment with the AppSpec and hooks', async () => {
    cd.on(GetDeploymentGroupCommand).resolves(group('d-OLD'));
    cd.on(ListDeploymentsCommand).resolves({ deployments: [] });
    cd.on(GetDeploymentCommand, { deploymentId: 'd-OLD' }).resolves(deploymentInfo('d-OLD', 'Succeeded', TD1));
    cd.on(CreateDeploymentCommand).resolves({ deploymentId: 'd-NEW' });

    const res = await onEvent(update(), deps);

    expect(res).toEqual({
      PhysicalResourceId: 'Beta-EcsService-App/Beta-EcsService-Group',
      Data: { DeploymentId: 'd-NEW', StoppedDeploymentId: '', Action: 'created' },
    });
    expect(cd).toHaveReceivedCommandWith(ListDeploymentsCommand, {
      applicationName: 'Beta-EcsService-App',
      deploymentGroupName: 'Beta-EcsService-Group',
      includeOnlyStatuses: ['Created', 'Queued', 'InProgress', 'Baking', 'Ready'],
    });
    const input = cd.commandCalls(CreateDeploymentCommand)[0].args[0].input;
    expect(input.applicationName).toBe('Beta-EcsService-App');
    expect(input.deploymentGroupName).toBe('Beta-EcsService-Group');
    expect(input.description).toBe(`CloudFormation Update of ServiceDeployment0C7A1F2B in Beta-EcsService: ${TD2}`);
    expect(input.revision?.revisionType).toBe('AppSpecContent');
    expect(JSON.parse(input.revision!.appSpecContent!.content!)).toEqual({
      version: '0.0',
      Resources: [
        {
          TargetService: {
            Type: 'AWS::ECS::Service',
            Properties: { TaskDefinition: TD2, LoadBalancerInfo: { ContainerName: 'app', ContainerPort: 8080 } },
          },
        },
      ],
      Hooks: [{ AfterAllowTestTraffic: HOOK }],
    });
    expect(input.revision!.appSpecContent!.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  test('an unchanged task definition is a no-op (no new deployment)', async () => {
    cd.on(GetDeploymentGroupCommand).resolves(group('d-OLD'));
    cd.on(ListDeploymentsCommand).resolves({ deployments: [] });
    serving(TD2);

    const res = await onEvent(update(TD2, TD2), deps);

    expect(res.Data).toEqual({ DeploymentId: '', StoppedDeploymentId: '', Action: 'no-op' });
    expect(cd).not.toHaveReceivedCommand(CreateDeploymentCommand);
  });

  test('Create is a no-op: the service was just created with this task definition', async () => {
    cd.on(GetDeploymentGroupCommand).resolves(group());
    cd.on(ListDeploymentsCommand).resolves({ deployments: [] });

    const res = await onEvent(create(), deps);

    expect(res.Data.Action).toBe('no-op');
    expect(cd).not.toHaveReceivedCommand(CreateDeploymentCommand);
  });

  test('an Update with no successful deployment yet deploys when the service runs another revision', async () => {
    cd.on(GetDeploymentGroupCommand).resolves(group());
    cd.on(ListDeploymentsCommand).resolves({ deployments: [] });
    cd.on(CreateDeploymentCommand).resolves({ deploymentId: 'd-NEW' });
    expect((await onEvent(update(), deps)).Data.DeploymentId).toBe('d-NEW');
    expect(ecsMock).toHaveReceivedCommandWith(DescribeServicesCommand, {
      cluster: 'Beta-Platform-Cluster',
      services: ['Beta-EcsService-Service'],
    });
  });

  test('the rollback of the first failed release deploys nothing: the service already serves the old revision', async () => {
    // Release TD2 failed and CodeDeploy rolled it back; there is no successful CodeDeploy deployment
    // yet (the service was created with TD1). CloudFormation's rollback asks to go back to TD1.
    cd.on(GetDeploymentGroupCommand).resolves(group());
    cd.on(ListDeploymentsCommand).resolves({ deployments: [] });
    serving(TD1);
    const res = await onEvent(update(TD1, TD2), deps);
    expect(res.Data).toEqual({ DeploymentId: '', StoppedDeploymentId: '', Action: 'no-op' });
    expect(cd).not.toHaveReceivedCommand(CreateDeploymentCommand);
  });

  test('what the service serves wins over the last successful deployment (an operator rolled back outside CloudFormation)', async () => {
    cd.on(GetDeploymentGroupCommand).resolves(group('d-OLD'));
    cd.on(ListDeploymentsCommand).resolves({ deployments: [] });
    cd.on(GetDeploymentCommand, { deploymentId: 'd-OLD' }).resolves(deploymentInfo('d-OLD', 'Succeeded', TD2));
    cd.on(CreateDeploymentCommand).resolves({ deploymentId: 'd-REDEPLOY' });
    serving(TD1);
    expect((await onEvent(update(TD2, TD2), deps)).Data).toMatchObject({ Action: 'created', DeploymentId: 'd-REDEPLOY' });
  });

  test('a service with no task set yet falls back to the last successful deployment', async () => {
    cd.on(GetDeploymentGroupCommand).resolves(group('d-OLD'));
    cd.on(ListDeploymentsCommand).resolves({ deployments: [] });
    cd.on(GetDeploymentCommand, { deploymentId: 'd-OLD' }).resolves(deploymentInfo('d-OLD', 'Succeeded', TD2));
    serving(undefined);
    expect((await onEvent(update(TD2, TD2), deps)).Data.Action).toBe('no-op');
  });

  test('fails clearly when the service does not exist', async () => {
    cd.on(GetDeploymentGroupCommand).resolves(group('d-OLD'));
    cd.on(ListDeploymentsCommand).resolves({ deployments: [] });
    ecsMock.on(DescribeServicesCommand).resolves({ services: [], failures: [{ arn: 'arn:aws:ecs:...', reason: 'MISSING' }] });
    await expect(onEvent(update(), deps)).rejects.toThrow(
      'ECS service Beta-EcsService-Service of cluster Beta-Platform-Cluster was not found (MISSING)',
    );
  });

  test('adopts a deployment already in progress for the same task definition (retried invocation)', async () => {
    cd.on(GetDeploymentGroupCommand).resolves(group('d-OLD'));
    cd.on(ListDeploymentsCommand).resolves({ deployments: ['d-RUNNING'] });
    cd.on(GetDeploymentCommand, { deploymentId: 'd-RUNNING' }).resolves(deploymentInfo('d-RUNNING', 'InProgress', TD2));

    const res = await onEvent(update(), deps);

    expect(res.Data).toEqual({ DeploymentId: 'd-RUNNING', StoppedDeploymentId: '', Action: 'adopted' });
    expect(cd).not.toHaveReceivedCommand(CreateDeploymentCommand);
  });

  test('fails clearly when another deployment is in progress for the group', async () => {
    const TD9 = 'arn:aws:ecs:us-east-1:111111111111:task-definition/BetaEcsServiceTaskDef:9';
    cd.on(GetDeploymentGroupCommand).resolves(group('d-OLD'));
    cd.on(ListDeploymentsCommand).resolves({ deployments: ['d-OTHER'] });
    cd.on(GetDeploymentCommand, { deploymentId: 'd-OTHER' }).resolves(deploymentInfo('d-OTHER', 'InProgress', TD9));

    await expect(onEvent(update(), deps)).rejects.toThrow(
      `The deployment group Beta-EcsService-Group of CodeDeploy application Beta-EcsService-App already has deployment d-OTHER in progress (status InProgress, task definition ${TD9}), ` +
        'not started by this stack update: wait for it to finish, or stop it (aws deploy stop-deployment --deployment-id d-OTHER --auto-rollback-enabled), then retry the update',
    );
    expect(cd).not.toHaveReceivedCommand(CreateDeploymentCommand);
  });

  test('a rollback Update stops the still-running deployment of the replaced revision, with auto-rollback', async () => {
    cd.on(GetDeploymentGroupCommand).resolves(group('d-OLD'));
    cd.on(ListDeploymentsCommand).resolves({ deployments: ['d-NEW'] });
    cd.on(GetDeploymentCommand, { deploymentId: 'd-NEW' }).resolves(deploymentInfo('d-NEW', 'InProgress', TD2));
    cd.on(StopDeploymentCommand).resolves({ status: 'Pending' });

    const res = await onEvent(update(TD1, TD2), deps);

    expect(res.Data).toEqual({ DeploymentId: '', StoppedDeploymentId: 'd-NEW', Action: 'stopped' });
    expect(cd).toHaveReceivedCommandWith(StopDeploymentCommand, { deploymentId: 'd-NEW', autoRollbackEnabled: true });
  });

  test('fails clearly when the deployment group does not exist', async () => {
    cd.on(GetDeploymentGroupCommand).rejects(
      awsError('DeploymentGroupDoesNotExistException', 'No Deployment Group found for name: Beta-EcsService-Group'),
    );
    await expect(onEvent(update(), deps)).rejects.toThrow(
      'The deployment group Beta-EcsService-Group of CodeDeploy application Beta-EcsService-App does not exist (DeploymentGroupDoesNotExistException): ' +
        'create it (EcsDeploymentGroup) before this resource, in the same account and region',
    );
  });

  test('fails clearly when the group is not an ECS one', async () => {
    cd.on(GetDeploymentGroupCommand).resolves({ deploymentGroupInfo: { computePlatform: 'Lambda' } });
    await expect(onEvent(update(), deps)).rejects.toThrow(
      "The deployment group Beta-EcsService-Group of CodeDeploy application Beta-EcsService-App is for Lambda, not ECS: point the resource at the ECS service's deployment group",
    );
  });

  test('retries throttled calls', async () => {
    cd.on(GetDeploymentGroupCommand).rejectsOnce(throttle()).resolves(group('d-OLD'));
    cd.on(ListDeploymentsCommand).rejectsOnce(throttle()).resolves({ deployments: [] });
    cd.on(GetDeploymentCommand).resolves(deploymentInfo('d-OLD', 'Succeeded', TD1));
    cd.on(CreateDeploymentCommand).rejectsOnce(throttle()).rejectsOnce(throttle()).resolves({ deploymentId: 'd-NEW' });

    expect((await onEvent(update(), deps)).Data.DeploymentId).toBe('d-NEW');
    expect(cd).toHaveReceivedCommandTimes(CreateDeploymentCommand, 3);
    expect(cd).toHaveReceivedCommandTimes(GetDeploymentGroupCommand, 2);
  });

  test('does not retry a non-transient error', async () => {
    cd.on(GetDeploymentGroupCommand).resolves(group());
    cd.on(ListDeploymentsCommand).resolves({ deployments: [] });
    cd.on(CreateDeploymentCommand).rejects(awsError('InvalidRoleException', 'The service role cannot be assumed'));
    await expect(onEvent(update(), deps)).rejects.toThrow('The service role cannot be assumed');
    expect(cd).toHaveReceivedCommandTimes(CreateDeploymentCommand, 1);
  });
});

describe('onEvent: malformed events', () => {
  test.each([null, 'Create', ['Create'], { RequestType: 'Upsert' }])('fails on the event %j, naming RequestType', async (event) => {
    await expect(onEvent(event as never, deps)).rejects.toThrow(
      /^Malformed custom resource event: RequestType .* is not Create, Update or Delete$/,
    );
    expect(cd).not.toHaveReceivedAnyCommand();
  });

  test('fails when RequestType is missing', async () => {
    await expect(onEvent({} as CloudFormationCustomResourceEvent, deps)).rejects.toThrow(
      'Malformed custom resource event: RequestType undefined is not Create, Update or Delete',
    );
  });

  test('fails when the properties are invalid, listing each problem', async () => {
    const event = {
      ...create(),
      ResourceProperties: {
        ServiceToken: 'x',
        ApplicationName: 'app',
        TaskDefinitionArn: 'family:1',
        ContainerName: 'app',
        ContainerPort: '0',
        Hooks: { Bogus: 'fn' },
      },
    };
    await expect(onEvent(event, deps)).rejects.toThrow(
      'Invalid ECS deployment resource properties: DeploymentGroupName: undefined is not a CodeDeploy deployment group name; ' +
        'ClusterName: undefined is not an ECS cluster name; ServiceName: undefined is not an ECS service name; ' +
        'TaskDefinitionArn: "family:1" is not a task definition revision ARN (arn:aws:ecs:<region>:<account>:task-definition/<family>:<revision>); ' +
        'ContainerPort: "0" is not a port (1-65535); ' +
        'Hooks.Bogus: not an ECS lifecycle event (use one of BeforeInstall, AfterInstall, AfterAllowTestTraffic, BeforeAllowTraffic, AfterAllowTraffic)',
    );
    expect(cd).not.toHaveReceivedAnyCommand();
  });
});

describe('onEvent: Delete', () => {
  test('stops an in-flight deployment with auto-rollback', async () => {
    cd.on(ListDeploymentsCommand).resolves({ deployments: ['d-NEW'] });
    cd.on(GetDeploymentCommand).resolves(deploymentInfo('d-NEW', 'InProgress', TD2));
    cd.on(StopDeploymentCommand).resolves({ status: 'Pending', statusMessage: 'Stopping' });

    const res = await onEvent(del(), deps);

    expect(res).toEqual({
      PhysicalResourceId: 'Beta-EcsService-App/Beta-EcsService-Group',
      Data: { DeploymentId: '', StoppedDeploymentId: 'd-NEW', Action: 'stopped' },
    });
    expect(cd).toHaveReceivedCommandWith(StopDeploymentCommand, { deploymentId: 'd-NEW', autoRollbackEnabled: true });
  });

  test('nothing in flight: nothing to stop', async () => {
    cd.on(ListDeploymentsCommand).resolves({ deployments: [] });
    expect((await onEvent(del(), deps)).Data.Action).toBe('nothing-to-stop');
    expect(cd).not.toHaveReceivedCommand(StopDeploymentCommand);
  });

  test('a group already deleted does not block the stack delete', async () => {
    cd.on(ListDeploymentsCommand).rejects(awsError('DeploymentGroupDoesNotExistException', 'gone'));
    expect((await onEvent(del(), deps)).Data.Action).toBe('nothing-to-stop');
  });

  test('malformed properties on Delete succeed without calls', async () => {
    const event = { ...del(), ResourceProperties: { ServiceToken: 'x' } };
    expect((await onEvent(event, deps)).Data.Action).toBe('nothing-to-stop');
    expect(cd).not.toHaveReceivedAnyCommand();
  });
});

describe('isComplete', () => {
  const waiting = (data: object): IsCompleteRequest =>
    ({
      ...update(),
      PhysicalResourceId: 'Beta-EcsService-App/Beta-EcsService-Group',
      Data: { StoppedDeploymentId: '', Action: 'created', ...data },
    }) as IsCompleteRequest;

  test('keeps waiting while the deployment is in progress', async () => {
    cd.on(GetDeploymentCommand).resolves(deploymentInfo('d-NEW', 'InProgress', TD2, { deploymentOverview: { InProgress: 1 } }));
    expect(await isComplete(waiting({ DeploymentId: 'd-NEW' }), deps)).toEqual({ IsComplete: false });
  });

  test('completes when the deployment succeeded', async () => {
    cd.on(GetDeploymentCommand).resolves(deploymentInfo('d-NEW', 'Succeeded', TD2));
    expect(await isComplete(waiting({ DeploymentId: 'd-NEW' }), deps)).toEqual({
      IsComplete: true,
      Data: { DeploymentId: 'd-NEW', StoppedDeploymentId: '', Action: 'created', Status: 'Succeeded' },
    });
  });

  test('completes once traffic is fully shifted, without waiting out the blue termination wait', async () => {
    cd.on(GetDeploymentCommand).resolves(
      deploymentInfo('d-NEW', 'InProgress', TD2, {
        deploymentOverview: { Pending: 0, InProgress: 0, Succeeded: 1, Failed: 0, Skipped: 0, Ready: 0 },
      }),
    );
    expect(await isComplete(waiting({ DeploymentId: 'd-NEW' }), deps)).toEqual({
      IsComplete: true,
      Data: { DeploymentId: 'd-NEW', StoppedDeploymentId: '', Action: 'created', Status: 'TrafficShifted' },
    });
  });

  test('completes at once for a no-op', async () => {
    expect(await isComplete(waiting({ DeploymentId: '', Action: 'no-op' }), deps)).toMatchObject({ IsComplete: true });
    expect(cd).not.toHaveReceivedAnyCommand();
  });

  test('fails naming the alarm when CodeDeploy rolled back on an alarm', async () => {
    cd.on(GetDeploymentCommand).resolves(
      deploymentInfo('d-NEW', 'Stopped', TD2, {
        errorInformation: {
          code: 'ALARM_ACTIVE',
          message:
            'One or more alarms have been activated according to the Amazon CloudWatch metrics you selected, and the affected deployments have been stopped. Activated alarms: Beta-EcsService-Green-5xxRate',
        },
        rollbackInfo: { rollbackDeploymentId: 'd-RB', rollbackMessage: 'Deployment d-NEW was rolled back by deployment d-RB' },
      }),
    );
    cd.on(ListDeploymentTargetsCommand).resolves({ targetIds: ['Beta-EcsService-Cluster:Beta-EcsService-Service'] });
    cd.on(BatchGetDeploymentTargetsCommand).resolves({
      deploymentTargets: [
        {
          deploymentTargetType: 'ECSTarget',
          ecsTarget: { lifecycleEvents: [{ lifecycleEventName: 'AfterAllowTestTraffic', status: 'Succeeded' }] },
        },
      ],
    });

    await expect(isComplete(waiting({ DeploymentId: 'd-NEW' }), deps)).rejects.toThrow(
      `CodeDeploy deployment d-NEW of ${TD2} was stopped and was rolled back (rollback deployment d-RB). alarm Beta-EcsService-Green-5xxRate went into ALARM. rollback: Deployment d-NEW was rolled back by deployment d-RB.`,
    );
  });

  test('fails naming the hook when the AfterAllowTestTraffic hook failed', async () => {
    cd.on(GetDeploymentCommand).resolves(
      deploymentInfo('d-NEW', 'Failed', TD2, {
        errorInformation: {
          code: 'HOOK_EXECUTION_FAILURE',
          message: 'The deployment failed because one or more lifecycle event hooks failed.',
        },
      }),
    );
    cd.on(ListDeploymentTargetsCommand).resolves({ targetIds: ['cluster:service'] });
    cd.on(BatchGetDeploymentTargetsCommand).resolves({
      deploymentTargets: [
        {
          deploymentTargetType: 'ECSTarget',
          ecsTarget: {
            lifecycleEvents: [
              { lifecycleEventName: 'Install', status: 'Succeeded' },
              {
                lifecycleEventName: 'AfterAllowTestTraffic',
                status: 'Failed',
                diagnostics: { errorCode: 'ScriptFailed', message: 'Hook reported Failed' },
              },
            ],
          },
        },
      ],
    });

    await expect(isComplete(waiting({ DeploymentId: 'd-NEW' }), deps)).rejects.toThrow(
      `CodeDeploy deployment d-NEW of ${TD2} failed and traffic stayed on or returned to the previous task set. ` +
        'HOOK_EXECUTION_FAILURE: The deployment failed because one or more lifecycle event hooks failed. failed lifecycle hooks: AfterAllowTestTraffic (ScriptFailed: Hook reported Failed).',
    );
  });

  test("still fails with CodeDeploy's reason when the lifecycle events cannot be read", async () => {
    cd.on(GetDeploymentCommand).resolves(
      deploymentInfo('d-NEW', 'Failed', TD2, { errorInformation: { code: 'TIMEOUT', message: 'timed out' } }),
    );
    cd.on(ListDeploymentTargetsCommand).rejects(awsError('AccessDeniedException', 'not authorized'));
    await expect(isComplete(waiting({ DeploymentId: 'd-NEW' }), deps)).rejects.toThrow(
      'TIMEOUT: timed out. (lifecycle events unreadable: AccessDeniedException: not authorized).',
    );
  });

  test('retries a throttled GetDeployment', async () => {
    cd.on(GetDeploymentCommand)
      .rejectsOnce(throttle())
      .resolves(deploymentInfo('d-NEW', 'Succeeded', TD2));
    expect((await isComplete(waiting({ DeploymentId: 'd-NEW' }), deps)).IsComplete).toBe(true);
    expect(cd).toHaveReceivedCommandTimes(GetDeploymentCommand, 2);
  });

  test('after a stop, waits until the stopped deployment has rolled back', async () => {
    cd.on(GetDeploymentCommand)
      .resolvesOnce(deploymentInfo('d-NEW', 'InProgress', TD2))
      .resolves(deploymentInfo('d-NEW', 'Stopped', TD2));
    const event = waiting({ DeploymentId: '', StoppedDeploymentId: 'd-NEW', Action: 'stopped' });
    expect(await isComplete(event, deps)).toEqual({ IsComplete: false });
    expect(await isComplete(event, deps)).toMatchObject({ IsComplete: true });
  });

  test.each(['Created', 'Queued', 'Ready', 'Baking'])('keeps waiting while the deployment is %s (not terminal)', async (status) => {
    cd.on(GetDeploymentCommand).resolves(deploymentInfo('d-NEW', status, TD2));
    expect(await isComplete(waiting({ DeploymentId: 'd-NEW' }), deps)).toEqual({ IsComplete: false });
  });

  test('after a Delete that stopped two deployments, completes once both ended (one already gone)', async () => {
    cd.on(GetDeploymentCommand, { deploymentId: 'd-A' }).resolves(deploymentInfo('d-A', 'Stopped', TD2));
    cd.on(GetDeploymentCommand, { deploymentId: 'd-B' }).rejects(awsError('DeploymentDoesNotExistException', 'gone'));
    const event = { ...del(), Data: { DeploymentId: '', StoppedDeploymentId: 'd-A,d-B', Action: 'stopped' } } as IsCompleteRequest;
    expect(await isComplete(event, deps)).toEqual({
      IsComplete: true,
      Data: { DeploymentId: '', StoppedDeploymentId: 'd-A,d-B', Action: 'stopped' },
    });
  });

  test.each([null, undefined, 'x'])('fails (the Provider framework then fails the resource) on a %p event', async (event) => {
    await expect(isComplete(event as never, deps)).rejects.toThrow(/^Malformed isComplete event: Data undefined lacks/);
  });

  test('fails when Data from onEvent is missing', async () => {
    await expect(isComplete({ ...update() } as IsCompleteRequest, deps)).rejects.toThrow(
      'Malformed isComplete event: Data undefined lacks DeploymentId/StoppedDeploymentId from onEvent',
    );
  });

  test('fails when the deployment has disappeared', async () => {
    cd.on(GetDeploymentCommand).rejects(awsError('DeploymentDoesNotExistException', 'no such deployment'));
    await expect(isComplete(waiting({ DeploymentId: 'd-GONE' }), deps)).rejects.toThrow(
      "CodeDeploy deployment d-GONE no longer exists: check the deployment group's history",
    );
  });
});

describe("a release that arrives during the previous release's termination wait", () => {
  const TD3 = 'arn:aws:ecs:us-east-1:111111111111:task-definition/BetaEcsServiceTaskDef:3';
  const SHIFTED = { deploymentOverview: { Pending: 0, InProgress: 0, Succeeded: 1, Failed: 0, Skipped: 0, Ready: 0 } };
  /** The service while d-PREV (TD2) waits to remove the original task set (TD1). */
  const inTerminationWait = () =>
    ecsMock.on(DescribeServicesCommand).resolves({
      services: [
        {
          serviceName: 'Beta-EcsService-Service',
          taskSets: [
            { id: 'ecs-svc/2', status: 'PRIMARY', taskDefinition: TD2 },
            { id: 'ecs-svc/1', status: 'ACTIVE', taskDefinition: TD1 },
          ],
        },
      ],
      failures: [],
    });
  const NOW = new Date('2026-11-29T20:00:00Z');
  const clocked: DeploymentDeps = { ...deps, now: () => NOW };

  beforeEach(() => {
    cd.on(GetDeploymentGroupCommand).resolves(group('d-OLD'));
    cd.on(ListDeploymentsCommand).resolves({ deployments: ['d-PREV'] });
    cd.on(GetDeploymentCommand, { deploymentId: 'd-PREV' }).resolves(deploymentInfo('d-PREV', 'InProgress', TD2, SHIFTED));
    inTerminationWait();
  });

  test('the next release ends the wait (TERMINATION_WAIT) and deploys after it, instead of rolling the previous one back', async () => {
    cd.on(ContinueDeploymentCommand).resolves({});
    const res = await onEvent(update(TD3, TD2), clocked);
    expect(res.Data).toEqual({
      DeploymentId: '',
      StoppedDeploymentId: '',
      Action: 'after-previous',
      PreviousDeploymentId: 'd-PREV',
      Since: NOW.toISOString(),
    });
    expect(cd).toHaveReceivedCommandWith(ContinueDeploymentCommand, { deploymentId: 'd-PREV', deploymentWaitType: 'TERMINATION_WAIT' });
    expect(cd).not.toHaveReceivedCommand(StopDeploymentCommand);
    expect(cd).not.toHaveReceivedCommand(CreateDeploymentCommand);
  });

  test('a CloudFormation rollback to the revision still running as the original task set stops the deployment with rollback', async () => {
    cd.on(StopDeploymentCommand).resolves({ status: 'Pending' });
    const res = await onEvent(update(TD1, TD2), deps);
    expect(res.Data).toEqual({ DeploymentId: '', StoppedDeploymentId: 'd-PREV', Action: 'stopped' });
    expect(cd).toHaveReceivedCommandWith(StopDeploymentCommand, { deploymentId: 'd-PREV', autoRollbackEnabled: true });
    expect(cd).not.toHaveReceivedCommand(ContinueDeploymentCommand);
  });

  describe('isComplete', () => {
    const after = (extra: object = {}): IsCompleteRequest =>
      ({
        ...update(TD3, TD2),
        PhysicalResourceId: 'Beta-EcsService-App/Beta-EcsService-Group',
        Data: {
          DeploymentId: '',
          StoppedDeploymentId: '',
          Action: 'after-previous',
          PreviousDeploymentId: 'd-PREV',
          Since: NOW.toISOString(),
          ...extra,
        },
      }) as IsCompleteRequest;

    test('waits while the previous deployment removes its original task set', async () => {
      expect(await isComplete(after(), deps)).toEqual({ IsComplete: false });
      expect(cd).not.toHaveReceivedCommand(CreateDeploymentCommand);
    });

    test('then starts this revision once, and follows it to its outcome', async () => {
      cd.on(GetDeploymentCommand, { deploymentId: 'd-PREV' }).resolves(deploymentInfo('d-PREV', 'Succeeded', TD2));
      cd.on(ListDeploymentsCommand).resolves({ deployments: [] });
      serving(TD2);
      cd.on(CreateDeploymentCommand).resolves({ deploymentId: 'd-NEXT' });
      expect(await isComplete(after(), deps)).toEqual({ IsComplete: false });
      expect(cd).toHaveReceivedCommandTimes(CreateDeploymentCommand, 1);
      expect(cd).toHaveReceivedCommandWith(ListDeploymentsCommand, { createTimeRange: { start: NOW } });

      // Later polls find it by its task definition and do not start another.
      cd.on(ListDeploymentsCommand).resolves({ deployments: ['d-NEXT'] });
      cd.on(GetDeploymentCommand, { deploymentId: 'd-NEXT' }).resolves(
        deploymentInfo('d-NEXT', 'InProgress', TD3, { deploymentOverview: { InProgress: 1 } }),
      );
      expect(await isComplete(after(), deps)).toEqual({ IsComplete: false });
      cd.on(GetDeploymentCommand, { deploymentId: 'd-NEXT' }).resolves(deploymentInfo('d-NEXT', 'Succeeded', TD3));
      expect(await isComplete(after(), deps)).toMatchObject({ IsComplete: true, Data: { DeploymentId: 'd-NEXT', Status: 'Succeeded' } });
      expect(cd).toHaveReceivedCommandTimes(CreateDeploymentCommand, 1);
    });

    test("fails with the reason when this revision's own deployment rolls back", async () => {
      cd.on(GetDeploymentCommand, { deploymentId: 'd-PREV' }).resolves(deploymentInfo('d-PREV', 'Succeeded', TD2));
      cd.on(ListDeploymentsCommand).resolves({ deployments: ['d-NEXT'] });
      cd.on(GetDeploymentCommand, { deploymentId: 'd-NEXT' }).resolves(
        deploymentInfo('d-NEXT', 'Stopped', TD3, {
          errorInformation: { code: 'ALARM_ACTIVE', message: 'One or more alarms have been activated' },
        }),
      );
      cd.on(ListDeploymentTargetsCommand).resolves({ targetIds: [] });
      await expect(isComplete(after(), deps)).rejects.toThrow(/d-NEXT/);
    });

    test('deploys even when an alarm rolled the previous release back during its wait (this revision has its own canary)', async () => {
      cd.on(GetDeploymentCommand, { deploymentId: 'd-PREV' }).resolves(deploymentInfo('d-PREV', 'Stopped', TD2));
      cd.on(ListDeploymentsCommand).resolves({ deployments: [] });
      serving(TD1);
      cd.on(CreateDeploymentCommand).resolves({ deploymentId: 'd-NEXT' });
      expect(await isComplete(after(), deps)).toEqual({ IsComplete: false });
      expect(cd).toHaveReceivedCommandTimes(CreateDeploymentCommand, 1);
    });

    test('fails loudly when Since is not a time', async () => {
      cd.on(GetDeploymentCommand, { deploymentId: 'd-PREV' }).resolves(deploymentInfo('d-PREV', 'Succeeded', TD2));
      await expect(isComplete(after({ Since: 'yesterday' }), deps)).rejects.toThrow(
        'Malformed isComplete event: Data.Since "yesterday" is not a time',
      );
    });
  });
});

describe('trafficFullyShifted', () => {
  const info = (status: string, extra: object = {}) => deploymentInfo('d-1', status, TD2, extra).deploymentInfo!;
  test.each([
    [
      'the target succeeded, the old task set waits for termination',
      info('InProgress', { deploymentOverview: { Succeeded: 1, Failed: 0, InProgress: 0, Pending: 0 } }),
      true,
    ],
    ['CodeDeploy says the termination wait started', info('InProgress', { instanceTerminationWaitTimeStarted: true }), true],
    ['traffic still shifting', info('InProgress', { deploymentOverview: { Succeeded: 0, InProgress: 1 } }), false],
    ['no overview yet', info('InProgress'), false],
    ['a failed target', info('InProgress', { deploymentOverview: { Succeeded: 1, Failed: 1 } }), false],
    ['already stopped', info('Stopped', { instanceTerminationWaitTimeStarted: true }), false],
  ])('%s: %p', (_what, i, expected) => {
    expect(trafficFullyShifted(i)).toBe(expected);
  });
});

describe('helpers', () => {
  test('taskDefinitionOf reads JSON and YAML AppSpecs', () => {
    expect(taskDefinitionOf(appSpecFor(TD1))).toBe(TD1);
    expect(
      taskDefinitionOf(
        `version: 0.0\nResources:\n  - TargetService:\n      Type: AWS::ECS::Service\n      Properties:\n        TaskDefinition: "${TD2}"\n`,
      ),
    ).toBe(TD2);
    expect(taskDefinitionOf(undefined)).toBeUndefined();
  });

  test('describeFailure says which alarms fired when several did', () => {
    expect(
      describeFailure(
        { deploymentId: 'd-1', status: 'Stopped', errorInformation: { code: 'ALARM_ACTIVE', message: 'x. Activated alarms: A, B' } },
        [],
      ),
    ).toBe('CodeDeploy deployment d-1 of the new task definition was stopped. alarm A, B went into ALARM.');
  });
});
