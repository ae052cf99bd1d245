import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { z } from 'zod';
import { configSchema, SafeDeployConfig, StageConfig } from './schema';

/** The configuration file at the repository root that users edit. */
export const DEFAULT_CONFIG_FILE = path.join(__dirname, '..', '..', 'safe-deploy.config.json');

/** A configuration that cannot be used; `message` lists every problem, one per line. */
export class ConfigError extends Error {
  constructor(readonly source: string, readonly problems: string[]) {
    super(`Invalid configuration in ${source}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * String fields a laptop deploy may override without editing the file, by CDK context
 * (`-c githubBranch=my-branch`) or environment variable. Context wins over the environment.
 */
export const OVERRIDES = [
  { field: ['github', 'owner'], context: 'githubOwner', env: 'SAFE_DEPLOY_GITHUB_OWNER' },
  { field: ['github', 'repo'], context: 'githubRepo', env: 'SAFE_DEPLOY_GITHUB_REPO' },
  { field: ['github', 'branch'], context: 'githubBranch', env: 'SAFE_DEPLOY_GITHUB_BRANCH' },
  { field: ['github', 'connectionArn'], context: 'connectionArn', env: 'SAFE_DEPLOY_CONNECTION_ARN' },
  { field: ['pipeline', 'account'], context: 'pipelineAccount', env: 'SAFE_DEPLOY_PIPELINE_ACCOUNT' },
  { field: ['pipeline', 'region'], context: 'pipelineRegion', env: 'SAFE_DEPLOY_PIPELINE_REGION' },
] as const;

/** Where a configuration comes from. */
export interface LoadConfigOptions {
  /**
   * Path of the JSON file.
   * @default - context `config`, else `SAFE_DEPLOY_CONFIG`, else `safe-deploy.config.json` at the repository root
   */
  readonly file?: string;
  /** CDK context values (strings), e.g. from `app.node.tryGetContext`. */
  readonly context?: (key: string) => unknown;
  /** Environment variables. @default - none */
  readonly env?: Record<string, string | undefined>;
}

/** Reads, overrides and validates the configuration; throws ConfigError naming each bad field. */
export function loadConfig(options: LoadConfigOptions = {}): SafeDeployConfig {
  const ctx = options.context ?? (() => undefined);
  const env = options.env ?? {};
  const file = options.file ?? asString(ctx('config')) ?? env.SAFE_DEPLOY_CONFIG ?? DEFAULT_CONFIG_FILE;
  if (!existsSync(file)) {
    throw new ConfigError(file, [`the file does not exist: create it (copy safe-deploy.config.json) or point -c config=<path> at yours`]);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ConfigError(file, [`not valid JSON (${(e as Error).message}): fix the syntax`]);
  }
  return parseConfig(applyOverrides(raw, ctx, env), file);
}

/** Validates an already-parsed configuration object. */
export function parseConfig(raw: unknown, source = 'configuration'): SafeDeployConfig {
  const result = configSchema.safeParse(raw, { reportInput: true });
  if (!result.success) {
    throw new ConfigError(source, result.error.issues.map(describeIssue));
  }
  return result.data;
}

/** The account a stage's wave deploys to. */
export function waveAccount(config: SafeDeployConfig, stage: StageConfig, wave: StageConfig['waves'][number]): string {
  return wave.account ?? stage.account ?? config.pipeline.account;
}

/** The pipeline's name. */
export function pipelineName(config: SafeDeployConfig): string {
  return config.pipeline.name ?? `${config.appName}-pipeline`;
}

function applyOverrides(raw: unknown, ctx: (key: string) => unknown, env: Record<string, string | undefined>): unknown {
  if (!isObject(raw)) return raw;
  const copy = structuredClone(raw);
  for (const o of OVERRIDES) {
    const value = asString(ctx(o.context)) ?? env[o.env];
    if (value === undefined) continue;
    const [group, key] = o.field;
    const target = isObject(copy[group]) ? copy[group] : (copy[group] = {});
    (target as Record<string, unknown>)[key] = value;
  }
  return copy;
}

/** `stages[1].waves[0].regions[0]: "us-east-9" is not an AWS region: ...` */
export function describeIssue(issue: z.core.$ZodIssue): string {
  const where = formatPath(issue.path) || '(top level)';
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return `${where}: is missing: add it (expected ${issue.expected})`;
      return issue.message.startsWith('Invalid input')
        ? `${where}: ${JSON.stringify(issue.input)} is not a ${issue.expected}: use a ${issue.expected}`
        : `${where}: ${issue.message}`;
    case 'unrecognized_keys':
      return `${where}: unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}: remove ${issue.keys.length > 1 ? 'them' : 'it'} or check the spelling (README, "Configuration reference")`;
    case 'too_small':
    case 'too_big':
      return issue.message.startsWith('Too ')
        ? `${where}: ${JSON.stringify(issue.input)} is out of range: ${issue.message.replace(/^Too (small|big): expected \w+ to (have|be) /, 'it must be ')}`
        : /^["\d]/.test(issue.message)
          ? `${where}: ${issue.message}`
          : `${where}: ${JSON.stringify(issue.input)}: ${issue.message}`;
    default:
      return `${where}: ${issue.message}`;
  }
}

function formatPath(p: PropertyKey[]): string {
  return p.reduce<string>((acc, k) => (typeof k === 'number' ? `${acc}[${k}]` : acc ? `${acc}.${String(k)}` : String(k)), '');
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function asString(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}
