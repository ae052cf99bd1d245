import { OpsError } from '../runtime/context';
import { isTransientError } from '../runtime/retry';

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
  const foreign = nonAwsAnswer(err);
  if (foreign) return foreign;
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
    return `stage ${c.stageName ?? ''} not found in pipeline ${c.pipelineName ?? ''}: check --stage (names are case-sensitive; \`deployctl status\` lists them)`.replace(
      'stage  not',
      'stage not',
    );
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
  if (REFUSALS.has(name)) {
    return `AWS refused (${name}): ${message}`;
  }
  if (/Region is missing/i.test(message) || (/region/i.test(name) && /missing/i.test(message))) {
    return 'no AWS region: pass --region, set AWS_REGION, or set pipeline.region in safe-deploy.config.json';
  }
  if (name === 'TimeoutError') {
    // The SDK's HTTP handler prefixes its own name and a log tag; the limit is what matters.
    return `AWS did not answer in time (${message.replace(/^@smithy\/[\w-]+ - \[\w+\]\s*/, '')}): check your network, proxy and region (and AWS_ENDPOINT_URL if set)`;
  }
  const code = (err as { code?: string })?.code ?? '';
  if (TLS_CODES.has(code) || /certificate/i.test(message)) {
    return `the TLS connection to AWS failed its certificate check (${code || name}: ${message}): a proxy that inspects TLS needs its CA certificate, e.g. NODE_EXTRA_CA_CERTS=/path/to/proxy-ca.pem`;
  }
  if (
    /ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|EHOSTUNREACH|ENETUNREACH|EPIPE|ETIMEDOUT|socket hang up|NetworkingError/.test(
      `${name} ${message} ${code}`,
    )
  ) {
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

/** AWS answers that refuse an operator's request for a reason its message states. */
const REFUSALS = new Set([
  'StageNotRetryableException',
  'UnableToRollbackStageException',
  'ConflictException',
  'NotLatestPipelineExecutionException',
  'PipelineExecutionOutdatedException',
  'DeploymentAlreadyCompletedException',
  'DeploymentDoesNotExistException',
]);

/** Node's codes for a certificate it could not verify (typically a proxy that inspects TLS). */
const TLS_CODES = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/**
 * An HTTP answer that is not an AWS API answer: a proxy's or captive portal's HTML page, an error
 * with an empty body, a body the SDK cannot parse. The SDK v3 (checked with 3.11xx clients and a
 * stub request handler) surfaces them as:
 * - JSON protocols (CodePipeline, CodeDeploy): a `SyntaxError` ("Unexpected token '<' ... is not
 *   valid JSON" plus a "Deserialization error" hint) whose `$metadata.httpStatusCode` and hidden
 *   `$response` its deserializer added, even for HTTP 200;
 * - an error body without an error code: a service exception named `Unknown` with the message
 *   `UnknownError` (JSON) or `Unknown` (XML: CloudFormation, also for an HTML page);
 * - XML protocols given something else: an `Error` "@aws-sdk XML parse error".
 */
function nonAwsAnswer(err: unknown): string | undefined {
  const e = err as {
    name?: string;
    message?: string;
    $metadata?: { httpStatusCode?: number };
    $response?: { headers?: Record<string, string> };
  } | null;
  if (!e || typeof e !== 'object' || !e.$metadata) return undefined;
  const name = e.name ?? '';
  const message = e.message ?? '';
  const unparsable = name === 'SyntaxError' || /Deserialization error|XML parse error/.test(message);
  const codeless = name === 'Unknown' || name === 'UnknownError' || (/^Unknown(Error)?$/.test(message) && /^(\d{3}|Error)?$/.test(name));
  if (!unparsable && !codeless) return undefined;
  const status = e.$metadata.httpStatusCode;
  const http = status ? `HTTP ${status}` : 'an HTTP answer';
  const contentType = Object.entries(e.$response?.headers ?? {}).find(([k]) => k.toLowerCase() === 'content-type')?.[1] ?? '';
  if (/html/i.test(contentType) || /token '<'|"<(!doctype|html)/i.test(message)) {
    return `AWS did not answer: ${http} came back as an HTML page, most likely from a proxy, firewall or captive portal in between: check HTTPS_PROXY / NO_PROXY, AWS_ENDPOINT_URL and your network, then rerun`;
  }
  if (codeless) {
    return status !== undefined && status >= 500
      ? `AWS answered ${http} with an empty error (no code, no message), even after retries: a temporary problem at AWS or in a proxy in between; rerun in a minute`
      : `the request was refused with ${http} and an empty error (no code, no message), which usually comes from a proxy or an endpoint that is not AWS: check HTTPS_PROXY, AWS_ENDPOINT_URL and your network`;
  }
  return `AWS's answer (${http}) could not be read (${firstLine(message)}): check AWS_ENDPOINT_URL and any proxy in between; rerun with --debug to see the response`;
}

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
