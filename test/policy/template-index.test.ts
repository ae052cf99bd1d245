import { TemplateIndex } from '../../lib/policy/template-index';

const DG = 'AWS::CodeDeploy::DeploymentGroup';

/** A template as synthesized: aliases and a service, their groups by Ref, by name and by GetAtt. */
const index = new TemplateIndex({
  Resources: {
    Errors: { Type: 'AWS::CloudWatch::Alarm', Properties: { AlarmName: 'orders-errors' } },
    Live: { Type: 'AWS::Lambda::Alias', UpdatePolicy: { CodeDeployLambdaAliasUpdate: { DeploymentGroupName: { Ref: 'Deployment' } } } },
    Deployment: { Type: DG, Properties: { AlarmConfiguration: { Alarms: [{ Name: { Ref: 'Errors' } }] } } },
    Named: { Type: 'AWS::Lambda::Alias', UpdatePolicy: { CodeDeployLambdaAliasUpdate: { DeploymentGroupName: 'named-dg' } } },
    NamedDeployment: { Type: DG, Properties: { DeploymentGroupName: 'named-dg' } },
    Plain: { Type: 'AWS::Lambda::Alias' },
    // A Ref to something that is not a deployment group does not count as one.
    WrongRef: { Type: 'AWS::Lambda::Alias', UpdatePolicy: { CodeDeployLambdaAliasUpdate: { DeploymentGroupName: { Ref: 'Errors' } } } },
    Service: { Type: 'AWS::ECS::Service', Properties: { DeploymentController: { Type: 'CODE_DEPLOY' } } },
    EcsDeployment: { Type: DG, Properties: { ECSServices: [{ ServiceName: { 'Fn::GetAtt': ['Service', 'Name'] }, ClusterName: 'c' }] } },
  },
});

test('resources by type, in template order, and by logical ID', () => {
  expect(index.ofType(DG).map(([id]) => id)).toEqual(['Deployment', 'NamedDeployment', 'EcsDeployment']);
  expect(index.ofType('AWS::SQS::Queue')).toEqual([]);
  expect(index.get('Errors')?.Type).toBe('AWS::CloudWatch::Alarm');
  expect(index.get(undefined)).toBeUndefined();
  expect(new TemplateIndex({}).ofType(DG)).toEqual([]);
});

test('references resolve to resources of the template', () => {
  expect(index.referenced({ Ref: 'Errors' })?.Properties?.AlarmName).toBe('orders-errors');
  expect(index.referenced({ 'Fn::GetAtt': ['Service', 'Name'] })?.Type).toBe('AWS::ECS::Service');
  expect(index.referenced({ Ref: 'Elsewhere' })).toBeUndefined();
  expect(index.referenced('Errors')).toBeUndefined();
});

test('a resource designated by reference or by its name property, optionally of one type', () => {
  expect(index.idOfNamed({ Ref: 'Errors' }, 'AlarmName')).toBe('Errors');
  expect(index.idOfNamed('orders-errors', 'AlarmName')).toBe('Errors');
  expect(index.idOfNamed('named-dg', 'DeploymentGroupName', DG)).toBe('NamedDeployment');
  expect(index.idOfNamed({ Ref: 'Errors' }, 'DeploymentGroupName', DG)).toBeUndefined();
  expect(index.idOfNamed('unknown', 'AlarmName')).toBeUndefined();
  expect(index.idOfNamed(undefined, 'AlarmName')).toBeUndefined();
});

test('deployment targets: aliases and services with the groups that release them', () => {
  expect(index.deploymentTargets().map(({ logicalId, kind, deploymentGroupId }) => ({ logicalId, kind, deploymentGroupId }))).toEqual([
    { logicalId: 'Live', kind: 'lambda-alias', deploymentGroupId: 'Deployment' },
    { logicalId: 'Named', kind: 'lambda-alias', deploymentGroupId: 'NamedDeployment' },
    { logicalId: 'Plain', kind: 'lambda-alias', deploymentGroupId: undefined },
    { logicalId: 'WrongRef', kind: 'lambda-alias', deploymentGroupId: undefined },
    { logicalId: 'Service', kind: 'ecs-service', deploymentGroupId: 'EcsDeployment' },
  ]);
});
