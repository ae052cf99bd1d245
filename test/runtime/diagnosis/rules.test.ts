/**
 * The classification table alone: evidence in, rule and verdict out, no SDK mocks. The end-to-end
 * scenarios (AWS responses to diagnosis) are in test/runtime/diagnose.test.ts.
 */
import { CLASSIFICATION_RULES, classifyFailure, FailureEvidence, failureFacts, matchingRule } from '../../../lib/runtime/diagnosis';

const DEPLOYMENT = 'd-7XKQ2M9PL';
const STACK = 'Beta-us-east-1-EcsService';
const EXEC_ROLE = 'arn:aws:sts::111111111111:assumed-role/cdk-hnb659fds-cfn-exec-role-111111111111-us-east-1/AWSCloudFormation';

/** For each rule, evidence it must be the first to match, and what its verdict must say. */
const CASES: Record<string, { evidence: FailureEvidence; summary: string; fix?: RegExp }[]> = {
  'alarm-rollback-code': [
    {
      // The code decides, even though the hook name in the rollback message would match a later rule.
      evidence: {
        deployment: {
          deploymentId: DEPLOYMENT,
          errorCode: 'ALARM_ACTIVE',
          errorMessage: 'One or more alarms have been activated. Activated alarms: <Beta-web-ErrorJudge, Beta-web-Latency>',
          rollbackMessage: 'Automatic rollback triggered during AfterAllowTraffic.',
        },
      },
      summary: `CodeDeploy deployment ${DEPLOYMENT} stopped and rolled back because alarm Beta-web-ErrorJudge, Beta-web-Latency went into ALARM during the traffic shift; the previous version serves all traffic again.`,
      fix: /^Look at the alarm's metric for the new version \(CloudWatch console, Beta-web-ErrorJudge\)/,
    },
  ],
  'lifecycle-hook-code': [
    {
      evidence: {
        deployment: {
          deploymentId: DEPLOYMENT,
          errorCode: 'HOOK_EXECUTION_FAILURE',
          errorMessage: 'The deployment failed because a hook failed.',
        },
      },
      summary: 'the lifecycle hook reported Failed, so CodeDeploy rolled the deployment back.',
      fix: /^Read the hook function's logs/,
    },
    {
      // A failed hook whose message says "timed out" is still the hook's failure, not a timeout.
      evidence: { deployment: { deploymentId: DEPLOYMENT, failedHook: 'AfterAllowTestTraffic', hookMessage: 'GET /health: timed out' } },
      summary: 'the AfterAllowTestTraffic hook reported Failed (GET /health: timed out), so CodeDeploy rolled the deployment back.',
      fix: /^Read the AfterAllowTestTraffic function's logs/,
    },
    {
      // A judged Lambda canary's AfterAllowTraffic hook may have held it: the stack names the log group.
      evidence: {
        provider: 'CloudFormation',
        stackEvent: {
          logicalId: 'ServiceAliasLive5F6E7D8C',
          resourceType: 'AWS::Lambda::Alias',
          stackName: 'Prod-us-east-1-greeting-api',
          reason: 'CodeDeploy deployment failed',
        },
        deployment: { deploymentId: DEPLOYMENT, errorCode: 'HOOK_EXECUTION_FAILURE', failedHook: 'AfterAllowTraffic' },
      },
      summary:
        'the AfterAllowTraffic hook reported Failed, so CodeDeploy rolled the deployment back; ' +
        'for a judged canary this may be a hold for too little canary traffic rather than a failed check.',
      fix: new RegExp(
        String.raw`^Read the hook's log \(log group Prod-us-east-1-greeting-api-ServicePostTrafficHookLogs\.\.\.\): ` +
          String.raw`a line \x60held: the canary served N requests\.\.\.\x60 is a hold: ` +
          String.raw`lengthen the canary step, raise traffic, or set judge\.minRequests lower`,
      ),
    },
    {
      // ECS: the traffic check hook's log group.
      evidence: {
        stackEvent: {
          logicalId: 'ServiceDeployment1A2B3C4D',
          resourceType: 'Custom::EcsCodeDeployDeployment',
          stackName: 'Prod-us-east-1-greeting-web',
        },
        deployment: { deploymentId: DEPLOYMENT, failedHook: 'AfterAllowTraffic' },
      },
      summary:
        'the AfterAllowTraffic hook reported Failed, so CodeDeploy rolled the deployment back; ' +
        'for a judged canary this may be a hold for too little canary traffic rather than a failed check.',
      fix: /\(log group Prod-us-east-1-greeting-web-ServiceTrafficCheckHookFunctionLogs\.\.\.\)/,
    },
    {
      // Without a stack (another account, or no stack event), both patterns are named.
      evidence: { deployment: { deploymentId: DEPLOYMENT, failedHook: 'AfterAllowTraffic' } },
      summary:
        'the AfterAllowTraffic hook reported Failed, so CodeDeploy rolled the deployment back; ' +
        'for a judged canary this may be a hold for too little canary traffic rather than a failed check.',
      fix: new RegExp(
        String.raw`in the service's stack: \.\.\.PostTrafficHookLogs\.\.\. \(Lambda\), \.\.\.TrafficCheckHookFunctionLogs\.\.\.` +
          String.raw` \(ECS\).*fix the new version or the test\. Either way, then push or run \x60deployctl retry\x60\.$`,
      ),
    },
    {
      // The hold's own sentence, when a message carries it, is named as the cause.
      evidence: {
        deployment: {
          deploymentId: DEPLOYMENT,
          failedHook: 'AfterAllowTraffic',
          hookMessage:
            'held: the canary served 42 requests in its 10-minute step; the judge needs 100 to tell a regression from noise: ' +
            'lengthen the canary step, raise traffic, or set judge.minRequests lower (alias live, 10:02-10:12 UTC)',
        },
      },
      summary:
        'the AfterAllowTraffic hook held the canary for too little traffic ' +
        '(held: the canary served 42 requests in its 10-minute step; the judge needs 100), so CodeDeploy rolled the deployment back.',
      fix: new RegExp(
        String.raw`^Not a fault found in the new version: lengthen the canary step, raise traffic, or set judge\.minRequests lower` +
          String.raw` \(stages\[\]\.lambda\|ecs\.judge or stages\[\]\.services\.<name>\.judge\), then push`,
      ),
    },
  ],
  'permission-denied': [
    {
      evidence: {
        provider: 'CloudFormation',
        stackEvent: {
          logicalId: 'WebService',
          resourceType: 'AWS::ECS::Service',
          stackName: STACK,
          reason: `User: ${EXEC_ROLE} is not authorized to perform: ecs:CreateService on resource: *`,
        },
      },
      summary: `permission denied: ${EXEC_ROLE} may not call ecs:CreateService while deploying WebService (AWS::ECS::Service).`,
      fix: /^Grant ecs:CreateService to role cdk-hnb659fds-cfn-exec-role-111111111111-us-east-1 in account 111111111111 \(in this app/,
    },
    {
      evidence: { actionError: 'Access Denied (Service: Amazon S3; Status Code: 403; Error Code: AccessDenied)' },
      summary: 'permission denied.',
      fix: /CloudTrail/,
    },
  ],
  'alarm-rollback-text': [
    {
      evidence: { actionError: `CodeDeploy deployment ${DEPLOYMENT} failed. alarm safe-deploy-beta-web-5xx went into ALARM.` },
      summary:
        'CodeDeploy stopped and rolled back because alarm safe-deploy-beta-web-5xx went into ALARM during the traffic shift; the previous version serves all traffic again.',
    },
    {
      evidence: { actionError: 'One or more alarms have been activated.' },
      summary:
        'CodeDeploy stopped and rolled back because one of its alarms went into ALARM during the traffic shift; the previous version serves all traffic again.',
      fix: /\(CloudWatch console, the alarm\)/,
    },
  ],
  'lifecycle-hook-text': [
    {
      evidence: { actionError: 'The deployment failed because one or more lifecycle event hooks failed.' },
      summary: 'the lifecycle hook reported Failed, so CodeDeploy rolled the deployment back.',
    },
    {
      // A hook named in a deployment's message (without the code) is the hook's failure.
      evidence: { deployment: { deploymentId: DEPLOYMENT, errorMessage: 'BeforeAllowTraffic reported failure' } },
      summary: 'the BeforeAllowTraffic hook reported Failed, so CodeDeploy rolled the deployment back.',
    },
  ],
  'missing-artifact': [
    {
      evidence: {
        stackEvent: {
          logicalId: 'WebService',
          resourceType: 'AWS::ECS::Service',
          reason:
            'CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref 111111111111.dkr.ecr.us-east-1.amazonaws.com/web:3f9c2e1: not found',
        },
      },
      summary: 'an artifact or container image the action needs does not exist (WebService (AWS::ECS::Service)).',
      fix: /deployctl artifacts --commit SHA/,
    },
  ],
  'ecs-health-check': [
    {
      evidence: {
        deployment: { deploymentId: DEPLOYMENT, errorCode: 'ECS_UPDATE_ERROR', errorMessage: 'The ECS service could not be updated.' },
      },
      summary: `the new ECS tasks did not pass their health checks, so CodeDeploy kept traffic on the old task set (deployment ${DEPLOYMENT}).`,
      fix: /target group's health check path and port/,
    },
    {
      evidence: { actionError: 'Primary task set targets are unhealthy.' },
      summary: 'the new ECS tasks did not pass their health checks, so CodeDeploy kept traffic on the old task set.',
    },
  ],
  timeout: [
    {
      // Before build-or-test: a build that ran out of time is a timeout.
      evidence: { category: 'Build', provider: 'CodeBuild', build: { status: 'TIMED_OUT', phase: 'BUILD' } },
      summary: 'the action ran out of time.',
      fix: /raise the timeout if the work is legitimately slow/,
    },
    {
      evidence: {
        deployment: { deploymentId: DEPLOYMENT, errorCode: 'TIMEOUT' },
        stackEvent: { logicalId: 'WebDeployment', resourceType: 'Custom::EcsDeployment' },
      },
      summary: `the action ran out of time (deployment ${DEPLOYMENT}) on WebDeployment (Custom::EcsDeployment).`,
    },
  ],
  'source-connection': [
    {
      evidence: { category: 'Source', provider: 'CodeStarSourceConnection', actionError: 'The connection is pending.' },
      summary: 'the source action could not fetch the commit from GitHub through the CodeConnections connection.',
      fix: /Developer Tools > Connections/,
    },
    {
      evidence: { actionError: 'Could not access the GitHub repository example-org/safe-deploy.' },
      summary: 'the source action could not fetch the commit from GitHub through the CodeConnections connection.',
    },
  ],
  'build-or-test': [
    {
      evidence: {
        category: 'Build',
        provider: 'CodeBuild',
        build: {
          status: 'FAILED',
          phase: 'BUILD',
          message: 'COMMAND_EXECUTION_ERROR: Error while executing command: npm test. Reason: exit status 1',
        },
      },
      summary:
        'the build or tests failed in phase BUILD (COMMAND_EXECUTION_ERROR: Error while executing command: npm test. Reason: exit status 1).',
      fix: /npm ci && npm test && npx cdk synth/,
    },
    {
      evidence: { category: 'Test', provider: 'Manual', actionError: 'Rejected' },
      summary: 'the build or tests failed.',
    },
  ],
  'cloudformation-resource': [
    {
      evidence: {
        provider: 'CloudFormation',
        stackEvent: {
          logicalId: 'WebQueue',
          resourceType: 'AWS::SQS::Queue',
          stackName: STACK,
          reason: 'Resource handler returned message: "Queue already exists"',
        },
      },
      summary: `CloudFormation could not deploy WebQueue (AWS::SQS::Queue) in stack ${STACK}: Resource handler returned message: "Queue already exists"; the stack rolled back.`,
      fix: /the first failure is the cause/,
    },
    {
      evidence: {
        actionError: `Stack ${STACK} failed to execute change set. The following resource(s) failed to update: [ApiServiceFunction1234ABCD].`,
      },
      summary: 'CloudFormation could not deploy ApiServiceFunction1234ABCD; the stack rolled back.',
    },
    {
      evidence: { provider: 'CloudFormation' },
      summary: 'CloudFormation could not deploy a resource; the stack rolled back.',
    },
  ],
  unknown: [
    {
      evidence: { actionError: 'Something unexpected happened.' },
      summary: 'deployctl does not recognise this error; it is shown as AWS reported it.',
      fix: /deployctl retry/,
    },
    { evidence: {}, summary: 'deployctl does not recognise this error; it is shown as AWS reported it.' },
  ],
};

describe('the classification table', () => {
  test('every rule has a unique name and cases here; unknown comes last and always holds', () => {
    const names = CLASSIFICATION_RULES.map((r) => r.name);
    expect(new Set(names).size).toBe(names.length);
    expect(Object.keys(CASES).sort()).toEqual([...names].sort());
    const last = CLASSIFICATION_RULES[CLASSIFICATION_RULES.length - 1];
    expect(last.name).toBe('unknown');
    expect(last.when(failureFacts({}))).toBe(true);
  });

  describe.each(CLASSIFICATION_RULES.map((r) => [r.name, r] as const))('%s', (name, rule) => {
    test.each(CASES[name].map((c) => [c.summary, c] as const))('%s', (_summary, c) => {
      const facts = failureFacts(c.evidence);
      expect(rule.when(facts)).toBe(true);
      // No earlier rule takes it: this rule's place in the table decides.
      expect(matchingRule(facts).name).toBe(name);
      const verdict = classifyFailure(c.evidence);
      expect(verdict.cause).toBe(rule.cause);
      expect(verdict.summary).toBe(c.summary);
      if (c.fix) expect(verdict.fix).toMatch(c.fix);
      expect(verdict).toEqual({ cause: rule.cause, ...rule.explain(facts) });
    });
  });
});

describe('failureFacts', () => {
  test('joins every message AWS gave, one a line, and names the failing resource', () => {
    const facts = failureFacts({
      actionError: 'action',
      build: { message: 'build' },
      stackEvent: { logicalId: 'WebService', resourceType: 'AWS::ECS::Service', reason: 'stack' },
      deployment: { deploymentId: DEPLOYMENT, errorMessage: 'deployment', rollbackMessage: 'rollback', hookMessage: 'hook' },
    });
    expect(facts.text).toBe('action\nbuild\nstack\ndeployment\nrollback\nhook');
    expect(facts.resource).toBe('WebService (AWS::ECS::Service)');
  });

  test('no messages, no resource', () => {
    const evidence = { provider: 'CloudFormation' };
    expect(failureFacts(evidence)).toEqual({ evidence, text: '', resource: undefined });
  });
});
