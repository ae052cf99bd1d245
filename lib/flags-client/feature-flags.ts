/**
 * Feature-flag evaluation for services, through the local AWS AppConfig agent (the Lambda extension
 * or the ECS sidecar that ServiceFeatureFlags adds). No dependencies: global fetch (Node 20+).
 * Import it or copy this one file into a service.
 *
 *   if (await evaluateFlag('new_checkout', { userId, tenant }, false)) { ... }
 *   const { variant, attributes } = await evaluateFlagDetails('theme', { userId }, { enabled: false, variant: 'classic' });
 *
 * Whenever the agent cannot answer (not running, slow, unknown flag, no configuration deployed yet,
 * an unexpected answer), the call returns the default the caller declares, and logs why, once per
 * reason, so a missing agent costs a log line rather than an outage.
 *
 * Agent API used (AppConfig user guide, checked 2026-11):
 * - GET http://localhost:2772/applications/{app}/environments/{env}/configurations/{profile}?flag={key}
 *   returns the flag's retrieval-time value: `enabled`, its attributes and, for a multi-variant flag,
 *   `_variant`. Names or IDs are accepted in the path.
 *   https://docs.aws.amazon.com/appconfig/latest/userguide/appconfig-integration-retrieving-feature-flags.html
 * - The evaluation context goes in a `Context` header as `key=value` pairs, comma-separated.
 *   https://docs.aws.amazon.com/appconfig/latest/userguide/appconfig-code-samples-agent-read-feature-flag-with-variants.html
 * - `Entity-Id` keeps a user on one configuration version during a gradual deployment (agent
 *   2.0.136060 or later; older agents are expected to ignore the header).
 *   https://docs.aws.amazon.com/appconfig/latest/userguide/appconfig-agent-how-to-use.html
 */

/** Who is asking: what the flag's rules match on. Other keys are any context attributes the rules name. */
export interface FlagContext {
  /** Compared by `userIds` rules; the default attribute `percent` rules split by. */
  readonly userId?: string;
  /** Compared by `tenants` rules. */
  readonly tenant?: string;
  readonly [attribute: string]: string | number | boolean | undefined;
}

/** A flag's value for one caller. */
export interface FlagDetails {
  /** Whether the flag (or the caller's variant) is on. */
  readonly enabled: boolean;
  /** The variant the caller got, for a multi-variant flag. */
  readonly variant?: string;
  /** The variant's or flag's attribute values. */
  readonly attributes: Readonly<Record<string, unknown>>;
  /** `agent` when the agent answered, `default` when this is the declared default. */
  readonly source: 'agent' | 'default';
}

/** The default a caller declares for a flag with details. */
export interface DeclaredDefault {
  readonly enabled: boolean;
  readonly variant?: string;
  readonly attributes?: Readonly<Record<string, unknown>>;
}

/** Where the flags are and how long to wait; every field has a default. */
export interface FlagsClientOptions {
  /** @default - FEATURE_FLAGS_AGENT_URL, else http://localhost:2772 */
  readonly agentUrl?: string;
  /** AppConfig application name or ID. @default - FEATURE_FLAGS_APPLICATION */
  readonly application?: string;
  /** AppConfig environment name or ID. @default - FEATURE_FLAGS_ENVIRONMENT */
  readonly environment?: string;
  /** AppConfig configuration profile name or ID. @default - FEATURE_FLAGS_PROFILE */
  readonly profile?: string;
  /** How long to wait for the agent, which answers from its cache. @default 250 */
  readonly timeoutMs?: number;
  /** @default globalThis.fetch */
  readonly fetch?: typeof fetch;
  /** Where the fallback reasons go, one JSON line each. @default console.warn */
  readonly log?: (line: string) => void;
  /** @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** Evaluates flags against one agent and configuration. */
export interface FlagsClient {
  /** Whether the flag is on for `context`; `declaredDefault` when the agent cannot say. */
  evaluateFlag(name: string, context: FlagContext, declaredDefault: boolean): Promise<boolean>;
  /** The flag's value for `context` with its variant and attributes; `declaredDefault` when the agent cannot say. */
  evaluateFlagDetails(name: string, context: FlagContext, declaredDefault: DeclaredDefault): Promise<FlagDetails>;
}

/** Why the agent's answer was not used. */
type Fallback = { readonly reason: string; readonly detail: string };

const DEFAULT_AGENT_URL = 'http://localhost:2772';
const DEFAULT_TIMEOUT_MS = 250;

/** A client with its own memory of the reasons it has logged. */
export function createFlagsClient(options: FlagsClientOptions = {}): FlagsClient {
  const env = options.env ?? (typeof process === 'undefined' ? {} : process.env);
  const agentUrl = (options.agentUrl ?? env.FEATURE_FLAGS_AGENT_URL ?? DEFAULT_AGENT_URL).replace(/\/+$/, '');
  const application = options.application ?? env.FEATURE_FLAGS_APPLICATION;
  const environment = options.environment ?? env.FEATURE_FLAGS_ENVIRONMENT;
  const profile = options.profile ?? env.FEATURE_FLAGS_PROFILE;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const doFetch = options.fetch ?? globalThis.fetch;
  const log = options.log ?? ((line: string) => console.warn(line));
  const logged = new Set<string>();
  const logOnce = (key: string, entry: Record<string, unknown>) => {
    if (logged.has(key)) return;
    logged.add(key);
    log(JSON.stringify({ level: 'WARN', ...entry }));
  };
  const fallBack = <T>(name: string, value: T, why: Fallback): T => {
    logOnce(`${why.reason}:${name}`, {
      message: 'feature flag: using the declared default',
      flag: name,
      reason: why.reason,
      detail: why.detail,
      default: value,
    });
    return value;
  };

  async function ask(name: string, context: FlagContext): Promise<{ value: Record<string, unknown> } | Fallback> {
    if (!application || !environment || !profile) {
      return {
        reason: 'not-configured',
        detail:
          'FEATURE_FLAGS_APPLICATION, FEATURE_FLAGS_ENVIRONMENT and FEATURE_FLAGS_PROFILE must all be set (ServiceFeatureFlags sets them)',
      };
    }
    if (typeof doFetch !== 'function')
      return { reason: 'no-fetch', detail: 'global fetch is missing: run on Node.js 20 or later, or pass options.fetch' };
    const url = `${agentUrl}/applications/${encodeURIComponent(application)}/environments/${encodeURIComponent(environment)}/configurations/${encodeURIComponent(profile)}?flag=${encodeURIComponent(name)}`;
    const headers: Record<string, string> = { Accept: 'application/json' };
    const pairs: string[] = [];
    for (const [key, raw] of Object.entries(context)) {
      if (raw === undefined) continue;
      const value = String(raw);
      // The header separates pairs with ',' and key from value with '=': such a value cannot be sent.
      if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(key) || /[,=\r\n]/.test(value)) {
        logOnce(`context-not-sent:${key}`, {
          message: 'feature flag: context attribute left out',
          flag: name,
          reason: 'context-not-sent',
          detail: `context attribute ${JSON.stringify(key)} was not sent: names are letters, digits and '_', values cannot contain ',', '=' or line breaks`,
        });
        continue;
      }
      pairs.push(`${key}=${value}`);
    }
    if (pairs.length > 0) headers.Context = pairs.join(',');
    if (context.userId !== undefined && !/[\r\n]/.test(String(context.userId))) headers['Entity-Id'] = String(context.userId);

    let response: Response;
    try {
      response = await doFetch(url, { headers, signal: AbortSignal.timeout(timeoutMs) });
    } catch (err) {
      const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
      if (e?.name === 'TimeoutError' || e?.name === 'AbortError')
        return { reason: 'timeout', detail: `the agent at ${agentUrl} did not answer within ${timeoutMs} ms` };
      return {
        reason: 'unreachable',
        detail: `cannot reach the agent at ${agentUrl}: ${e?.cause?.code ?? e?.cause?.message ?? e?.message ?? String(err)}`,
      };
    }
    let text: string;
    try {
      text = await response.text();
    } catch (err) {
      return { reason: 'timeout', detail: `the agent's answer did not arrive within ${timeoutMs} ms (${(err as Error).name})` };
    }
    if (!response.ok) {
      return {
        reason: `http-${response.status}`,
        detail: `the agent answered ${response.status}: ${text.replace(/\s+/g, ' ').trim().slice(0, 200) || '(empty)'}`,
      };
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return { reason: 'not-json', detail: `the agent's answer is not JSON: ${text.slice(0, 100)}` };
    }
    const value = flagValue(body, name);
    return value
      ? { value }
      : { reason: 'unexpected-answer', detail: `the agent's answer has no "enabled" for flag ${name}: ${text.slice(0, 200)}` };
  }

  return {
    async evaluateFlag(name, context, declaredDefault) {
      const answer = await ask(name, context);
      return 'value' in answer ? answer.value.enabled === true : fallBack(name, declaredDefault, answer);
    },
    async evaluateFlagDetails(name, context, declaredDefault) {
      const answer = await ask(name, context);
      if (!('value' in answer)) {
        return fallBack(
          name,
          {
            enabled: declaredDefault.enabled,
            variant: declaredDefault.variant,
            attributes: declaredDefault.attributes ?? {},
            source: 'default' as const,
          },
          answer,
        );
      }
      const { enabled, _variant, ...attributes } = answer.value;
      return { enabled: enabled === true, variant: typeof _variant === 'string' ? _variant : undefined, attributes, source: 'agent' };
    },
  };
}

/**
 * The flag in the agent's answer: `{ "enabled": ..., ... }` for a single `?flag=`, or keyed by name
 * (`{ "<name>": { "enabled": ... } }`, the shape of a whole configuration). Both are accepted, since
 * the single-flag shape is documented by example only.
 */
function flagValue(body: unknown, name: string): Record<string, unknown> | undefined {
  const isFlag = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v) && typeof (v as { enabled?: unknown }).enabled === 'boolean';
  if (typeof body !== 'object' || body === null) return undefined;
  const keyed = (body as Record<string, unknown>)[name];
  if (isFlag(keyed)) return keyed;
  return isFlag(body) ? body : undefined;
}

let shared: FlagsClient | undefined;
/** The process-wide client, configured from the environment on first use. */
function defaultClient(): FlagsClient {
  return (shared ??= createFlagsClient());
}

/** Whether flag `name` is on for `context`, asking the local agent; `declaredDefault` when it cannot say. */
export function evaluateFlag(name: string, context: FlagContext, declaredDefault: boolean): Promise<boolean> {
  return defaultClient().evaluateFlag(name, context, declaredDefault);
}

/** Flag `name`'s variant and attributes for `context`; `declaredDefault` when the agent cannot say. */
export function evaluateFlagDetails(name: string, context: FlagContext, declaredDefault: DeclaredDefault): Promise<FlagDetails> {
  return defaultClient().evaluateFlagDetails(name, context, declaredDefault);
}
