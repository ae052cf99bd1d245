import { isTransientError } from '../../lambda/shared/retry';
import { OpsError } from './context';

/** What the failing command was about, to name it in the message. */
export interface ErrorContext {
  readonly pipelineName?: string;
  readonly region?: string;
  readonly stageName?: string;
}

/**
 * One line an operator can act on, for any error a command can meet: no stack trace, no SDK
 * internals. The CLI prints the stack only with --debug.
 */
export function describeError(err: unknown, c: ErrorContext = {}): string {
  const e = (err ?? {}) as { name?: string; message?: string; Code?: string };
  const name = e.name ?? 'Error';
  const message = firstLine(e.message ?? String(err));
  if (err instanceof OpsError) return message;
  if (name === 'CredentialsProviderError' || /Could not load credentials/i.test(message)) {
    return 'no AWS credentials found: run `aws sso login` / `aws configure`, or set AWS_PROFILE (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)';
  }
  if (/ExpiredToken|TokenRefreshRequired|token (?:has|is) expired/i.test(`${name} ${message}`)) {
    return `your AWS credentials have expired (${name}): sign in again (e.g. \`aws sso login\`) and rerun`;
  }
  if (/InvalidClientTokenId|UnrecognizedClientException|InvalidSignatureException|SignatureDoesNotMatch/.test(name)) {
    return `AWS rejected the credentials (${name}: ${message}): check AWS_PROFILE or your access keys`;
  }
  if (name === 'PipelineNotFoundException') {
    return `pipeline ${c.pipelineName ?? '(unnamed)'} not found in ${c.region ?? 'this region'}: check --pipeline and --region, and that your credentials are for the pipeline's account`;
  }
  if (name === 'StageNotFoundException') {
    return `stage ${c.stageName ?? ''} not found in pipeline ${c.pipelineName ?? ''}: check --stage (names are case-sensitive; \`deployctl status\` lists them)`.replace('stage  not', 'stage not');
  }
  if (name === 'PipelineExecutionNotFoundException') {
    return `execution not found in pipeline ${c.pipelineName ?? ''}: ${message}`;
  }
  if (/AccessDenied|UnauthorizedOperation|AuthorizationError|Forbidden/i.test(name) || /not authori[sz]ed to perform/.test(message)) {
    const action = message.match(/not authori[sz]ed to perform:?\s*([A-Za-z0-9-]+:[A-Za-z0-9*]+)/)?.[1];
    return action
      ? `access denied: your credentials may not call ${action} (${name}); ask for that permission or use a role that has it`
      : `access denied (${name}): ${message}`;
  }
  if (isThrottling(err)) {
    return `AWS is throttling requests (${name}) even after retries: wait a minute and rerun`;
  }
  if (name === 'StageNotRetryableException' || name === 'UnableToRollbackStageException' || name === 'ConflictException' || name === 'NotLatestPipelineExecutionException') {
    return `AWS refused (${name}): ${message}`;
  }
  if (/Region is missing/i.test(message) || (/region/i.test(name) && /missing/i.test(message))) {
    return 'no AWS region: pass --region, set AWS_REGION, or set pipeline.region in safe-deploy.config.json';
  }
  if (name === 'TimeoutError') {
    // The SDK's HTTP handler prefixes its own name and a log tag; the limit is what matters.
    return `AWS did not answer in time (${message.replace(/^@smithy\/[\w-]+ - \[\w+\]\s*/, '')}): check your network, proxy and region (and AWS_ENDPOINT_URL if set)`;
  }
  if (/ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT|NetworkingError/.test(`${name} ${message} ${(err as { code?: string })?.code ?? ''}`)) {
    return `cannot reach AWS (${name}: ${message}): check your network, proxy and region`;
  }
  if (isTransientError(err)) {
    return `AWS had a temporary problem (${name}: ${message}) even after retries: rerun`;
  }
  if (PROGRAMMING_ERRORS.has(name) && !(err as { $metadata?: unknown })?.$metadata) {
    // Not an AWS answer: most likely a response shape deployctl did not expect.
    return `internal error (${name}: ${message}): rerun with --debug for the stack trace and report it`;
  }
  return `${name}: ${message}`;
}

const PROGRAMMING_ERRORS = new Set(['TypeError', 'RangeError', 'ReferenceError', 'SyntaxError']);

function isThrottling(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return /Throttl|TooManyRequests|RequestLimitExceeded|SlowDown/.test(e?.name ?? '') || e?.$metadata?.httpStatusCode === 429;
}

function firstLine(text: string): string {
  return text.split('\n')[0].trim();
}

/** Exit code of an error: 1 for a refusal or bad input, 2 for a failure to talk to AWS. */
export function exitCodeOf(err: unknown): number {
  return err instanceof OpsError ? 1 : 2;
}
