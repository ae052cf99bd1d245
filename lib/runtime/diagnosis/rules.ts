import type { FailureCause, FailureEvidence } from './types';

/** What the classification rules look at: the gathered evidence and its messages as one text. */
export interface FailureFacts {
  readonly evidence: FailureEvidence;
  /** Every message AWS gave (action, build, stack event, deployment, hook), one a line. */
  readonly text: string;
  /** The failing resource as "LogicalId (Type)", when a stack event names one. */
  readonly resource?: string;
}

/** What a rule says about a failure it recognises. */
export interface Verdict {
  readonly cause: FailureCause;
  /** One sentence: what went wrong. */
  readonly summary: string;
  /** What to do about it. */
  readonly fix: string;
}

/** One line of the classification table: the first rule whose `when` holds explains the failure. */
export interface ClassificationRule {
  /** Unique, for tests and logs; several rules may yield the same cause. */
  readonly name: string;
  readonly cause: FailureCause;
  readonly when: (facts: FailureFacts) => boolean;
  readonly explain: (facts: FailureFacts) => Omit<Verdict, 'cause'>;
}

const MISSING_ACTION = /not authori[sz]ed to perform:?\s*([A-Za-z0-9-]+:[A-Za-z0-9*]+)/;
const DENIED = /AccessDenied|Access Denied|UnauthorizedOperation|IAM_ROLE_PERMISSIONS|is not authori[sz]ed/i;
const PRINCIPAL = /User:\s*(arn:\S+)/;
const ALARM_NAMES = /(?:Activated alarms?|Alarm names?):\s*([^\n;]+)/i;
const ALARM_TEXT = /alarms? (?:was|were|has been|have been) (?:triggered|activated)|went into ALARM|ALARM_ACTIVE/i;
const HOOK_NAMES =
  /\b(BeforeInstall|AfterInstall|AfterAllowTestTraffic|BeforeAllowTraffic|AfterAllowTraffic|ApplicationStop|ApplicationStart|ValidateService)\b/;
const HOOK_TEXT = /lifecycle event|validation (?:Lambda )?functions?|HOOK_EXECUTION_FAILURE/i;
const MISSING_ARTIFACT =
  /CannotPullContainerError|manifest (?:for \S+ )?(?:not found|unknown)|image\S* .*(?:does not exist|not found)|NoSuchKey|specified key does not exist|artifact.*(?:not found|does not exist|missing)|REVISION_MISSING|Unable to find the artifact|requested image not found|repository .* does not exist/i;
const HEALTH = /health ?checks?|HEALTH_CONSTRAINTS|unhealthy|cannot reach a steady state/i;
const TIMEOUT = /timed out|time ?out\b|TIMED_OUT|exceeded the (?:maximum )?(?:time|duration)/i;
const SOURCE =
  /codestar-connections|codeconnections|connection is not (?:available|in)|not in (?:the )?AVAILABLE state|Could not access the (?:GitHub )?repository|No Branch \[|repository not found|Could not fetch|webhook/i;
const CFN_RESOURCE =
  /Resource handler returned message|failed to (?:create|update|delete)|resource\(s\) failed|ROLLBACK_(?:COMPLETE|IN_PROGRESS)|Failed to execute change set/i;

/** The facts the rules read, from the evidence. */
export function failureFacts(e: FailureEvidence): FailureFacts {
  const d = e.deployment;
  const messages = [e.actionError, e.build?.message, e.stackEvent?.reason, d?.errorMessage, d?.rollbackMessage, d?.hookMessage];
  const texts = messages.filter((t): t is string => !!t);
  const resource = e.stackEvent?.logicalId ? `${e.stackEvent.logicalId} (${e.stackEvent.resourceType})` : undefined;
  return { evidence: e, text: texts.join('\n'), resource };
}

/** " (deployment d-...)" when a deployment is involved: several summaries end a clause with it. */
const deploymentNote = ({ evidence: { deployment: d } }: FailureFacts) => (d ? ` (deployment ${d.deploymentId})` : '');

function explainAlarm({ evidence: { deployment: d }, text }: FailureFacts) {
  // "<a>, <b>" or "<a, b>": brackets off before splitting, so each name comes out whole.
  const listed = text.match(ALARM_NAMES)?.[1].replace(/[<>]/g, '').split(',') ?? [text.match(/alarms? (\S+) went into ALARM/)?.[1] ?? ''];
  const names = listed
    .map((n) =>
      n
        .trim()
        .replace(/\.$/, '')
        .replace(/^<(.*)>$/, '$1'),
    )
    .filter(Boolean);
  const which = names.length > 0 ? `alarm ${names.join(', ')}` : 'one of its alarms';
  return {
    summary: `CodeDeploy${d ? ` deployment ${d.deploymentId}` : ''} stopped and rolled back because ${which} went into ALARM during the traffic shift; the previous version serves all traffic again.`,
    fix: `Look at the alarm's metric for the new version (CloudWatch console, ${names[0] ?? 'the alarm'}), fix the regression and push a new commit; if the alarm was a false positive, adjust its threshold in safe-deploy.config.json (stages[].lambda|ecs.alarms).`,
  };
}

function explainHook(facts: FailureFacts) {
  const {
    evidence: { deployment: d },
    text,
  } = facts;
  const name = d?.failedHook ?? text.match(HOOK_NAMES)?.[1];
  const message = d?.hookMessage ? ` (${d.hookMessage})` : '';
  const summary = `the ${name ?? 'lifecycle'} hook reported Failed${message}, so CodeDeploy rolled the deployment back`;
  if (name === 'AfterAllowTraffic') return explainTrafficHook(facts, summary);
  return {
    summary: `${summary}.`,
    fix: `Read the ${name ?? 'hook'} function's logs (its CloudWatch log group) for the failed checks; fix the new version or the test, then push or run \`deployctl retry\`.`,
  };
}

/** The hold's sentence (lambda/shared/canary-traffic.ts heldReason), should a message carry it. */
const HELD = /held: the canary served \d+ requests in its \d+-minute step; the judge needs \d+/;
const HOLD_FIX =
  'lengthen the canary step, raise traffic, or set judge.minRequests lower (stages[].lambda|ecs.judge or stages[].services.<name>.judge)';

/**
 * A judged canary's AfterAllowTraffic hook counts the canary's requests after the shift and fails a
 * step that served fewer than judge.minRequests ("held: ..."). CodeDeploy passes only Failed on, so
 * the reason is in the hook's log: name the hold and, with the stack known, the log group.
 */
function explainTrafficHook({ evidence: { stackEvent }, text }: FailureFacts, summary: string) {
  const held = text.match(HELD)?.[0];
  if (held) {
    return {
      summary: `the AfterAllowTraffic hook held the canary for too little traffic (${held}), so CodeDeploy rolled the deployment back.`,
      fix: `Not a fault found in the new version: ${HOLD_FIX}, then push or run \`deployctl retry\`.`,
    };
  }
  return {
    summary: `${summary}; for a judged canary this may be a hold for too little canary traffic rather than a failed check.`,
    fix:
      `Read the hook's log (${trafficHookLogGroup(stackEvent)}): ` +
      `a line \`held: the canary served N requests...\` is a hold: ${HOLD_FIX}; ` +
      'any other failed check: fix the new version or the test. Either way, then push or run `deployctl retry`.',
  };
}

/**
 * CloudFormation names the hook's log group `<stack>-<logical id>-<random>`; the logical ids come
 * from the service stacks (construct `Service`, HandlerFunction's `<id>Logs`).
 */
function trafficHookLogGroup(stackEvent: FailureEvidence['stackEvent']): string {
  const stack = stackEvent?.stackName;
  if (!stack) {
    const groups = '...PostTrafficHookLogs... (Lambda), ...TrafficCheckHookFunctionLogs... (ECS)';
    return `the hook function's log group in the service's stack: ${groups}`;
  }
  const lambda = `log group ${stack}-ServicePostTrafficHookLogs...`;
  const ecs = `log group ${stack}-ServiceTrafficCheckHookFunctionLogs...`;
  if (stackEvent?.resourceType === 'AWS::Lambda::Alias') return lambda;
  if (stackEvent?.resourceType === 'Custom::EcsCodeDeployDeployment') return ecs;
  return `${lambda} for a Lambda service, ${ecs} for ECS`;
}

function explainDenied({ text, resource }: FailureFacts) {
  const principal = text.match(PRINCIPAL)?.[1];
  const actionName = text.match(MISSING_ACTION)?.[1];
  return {
    summary: `permission denied${actionName ? `: ${principal ?? 'the role'} may not call ${actionName}` : ''}${resource ? ` while deploying ${resource}` : ''}.`,
    fix: actionName
      ? `Grant ${actionName} to ${principal ? principal.replace(/^arn:aws[^:]*:sts::(\d+):assumed-role\/([^/]+)\/.*$/, 'role $2 in account $1') : 'the role that made the call'} (in this app: the construct's grant*/addToPolicy, or for the cdk-* bootstrap roles re-run cdk bootstrap with the right --cloudformation-execution-policies and --trust), then retry.`
      : 'Find the denied call in CloudTrail (errorCode AccessDenied) and grant it to the role that made it, then retry.',
  };
}

function explainStackFailure({ evidence: e, text, resource }: FailureFacts) {
  const failedList = text.match(/resource\(s\) failed to \w+: \[([^\]]+)\]/)?.[1];
  const what = resource ?? (failedList ? failedList : 'a resource');
  return {
    summary: `CloudFormation could not deploy ${what}${e.stackEvent?.stackName ? ` in stack ${e.stackEvent.stackName}` : ''}${e.stackEvent?.reason ? `: ${e.stackEvent.reason}` : ''}; the stack rolled back.`,
    fix: 'Fix the resource definition or the conflict the reason names (the first failure is the cause, later ones are cancellations), synthesize locally, push.',
  };
}

const UNKNOWN: ClassificationRule = {
  name: 'unknown',
  cause: 'unknown',
  when: () => true,
  explain: () => ({
    summary: 'deployctl does not recognise this error; it is shown as AWS reported it.',
    fix: 'Read the error and the linked execution; if it is transient, `deployctl retry`.',
  }),
};

/**
 * The classification table, in order: the first rule that holds wins. CodeDeploy's own error codes
 * come first (they are certain), then the texts, most specific first; `unknown` always holds.
 */
export const CLASSIFICATION_RULES: readonly ClassificationRule[] = [
  {
    name: 'alarm-rollback-code',
    cause: 'codedeploy-alarm-rollback',
    when: (f) => f.evidence.deployment?.errorCode === 'ALARM_ACTIVE',
    explain: explainAlarm,
  },
  {
    name: 'lifecycle-hook-code',
    cause: 'lifecycle-hook',
    when: ({ evidence: { deployment: d } }) => d?.errorCode === 'HOOK_EXECUTION_FAILURE' || !!d?.failedHook,
    explain: explainHook,
  },
  {
    name: 'permission-denied',
    cause: 'permission-denied',
    when: (f) => MISSING_ACTION.test(f.text) || DENIED.test(f.text),
    explain: explainDenied,
  },
  {
    name: 'alarm-rollback-text',
    cause: 'codedeploy-alarm-rollback',
    when: (f) => ALARM_NAMES.test(f.text) || ALARM_TEXT.test(f.text),
    explain: explainAlarm,
  },
  {
    name: 'lifecycle-hook-text',
    cause: 'lifecycle-hook',
    when: (f) => HOOK_TEXT.test(f.text) || (!!f.evidence.deployment && HOOK_NAMES.test(f.text)),
    explain: explainHook,
  },
  {
    name: 'missing-artifact',
    cause: 'missing-artifact',
    when: (f) => MISSING_ARTIFACT.test(f.text),
    explain: ({ resource }) => ({
      summary: `an artifact or container image the action needs does not exist${resource ? ` (${resource})` : ''}.`,
      fix: 'Check that the build published it (the Assets stage, the ECR image tagged with the commit, the S3 artifact still within retention: see `deployctl artifacts --commit SHA`); re-run the pipeline from the source with `aws codepipeline start-pipeline-execution` if it was cleaned up.',
    }),
  },
  {
    name: 'ecs-health-check',
    cause: 'ecs-health-check',
    when: (f) => HEALTH.test(f.text) || f.evidence.deployment?.errorCode === 'ECS_UPDATE_ERROR',
    explain: (f) => ({
      summary: `the new ECS tasks did not pass their health checks, so CodeDeploy kept traffic on the old task set${deploymentNote(f)}.`,
      fix: "Read the stopped tasks' reason and container logs (ECS console, service events), check the container's health check and the target group's health check path and port, fix and push.",
    }),
  },
  {
    name: 'timeout',
    cause: 'timeout',
    when: ({ evidence: e, text }) => TIMEOUT.test(text) || e.deployment?.errorCode === 'TIMEOUT' || e.build?.status === 'TIMED_OUT',
    explain: (f) => ({
      summary: `the action ran out of time${deploymentNote(f)}${f.resource ? ` on ${f.resource}` : ''}.`,
      fix: 'Find what it waited for (a hook that never reported, tasks that never became healthy, a slow build) in the linked logs; fix that, or raise the timeout if the work is legitimately slow, then `deployctl retry`.',
    }),
  },
  {
    name: 'source-connection',
    cause: 'source-connection',
    when: (f) => f.evidence.category === 'Source' || SOURCE.test(f.text),
    explain: () => ({
      summary: 'the source action could not fetch the commit from GitHub through the CodeConnections connection.',
      fix: 'Open Developer Tools > Connections in the console: the connection must be Available (finish the GitHub handshake if Pending) and the GitHub app must have access to the repository; check the branch name in safe-deploy.config.json, then `deployctl retry`.',
    }),
  },
  {
    name: 'build-or-test',
    cause: 'build-or-test',
    when: ({ evidence: e }) => e.provider === 'CodeBuild' || e.category === 'Build' || e.category === 'Test',
    explain: ({ evidence: { build } }) => ({
      summary: `the build or tests failed${build?.phase ? ` in phase ${build.phase}` : ''}${build?.message ? ` (${build.message})` : ''}.`,
      fix: 'Open the build log (first link), reproduce locally with `npm ci && npm test && npx cdk synth`, fix and push; retry only for flaky infrastructure.',
    }),
  },
  {
    name: 'cloudformation-resource',
    cause: 'cloudformation-resource',
    when: ({ evidence: e, text }) => !!e.stackEvent || CFN_RESOURCE.test(text) || e.provider === 'CloudFormation',
    explain: explainStackFailure,
  },
  UNKNOWN,
];

/** The first rule of the table that holds for these facts (`unknown` at worst). */
export function matchingRule(facts: FailureFacts): ClassificationRule {
  return CLASSIFICATION_RULES.find((r) => r.when(facts)) ?? UNKNOWN;
}

/** Turns the evidence into a cause, a sentence and a fix. Pure: the tests feed it evidence directly too. */
export function classifyFailure(e: FailureEvidence): Verdict {
  const facts = failureFacts(e);
  const rule = matchingRule(facts);
  return { cause: rule.cause, ...rule.explain(facts) };
}
