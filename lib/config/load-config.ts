import { existsSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import type { z } from 'zod';
import { configSchema, SafeDeployConfig, StageConfig } from './schema';
import { KIND_FIELDS, ServiceKind } from './service-schema';

/** The repository root: where package.json, the pipeline's source checkout and `services/` are. */
export const REPO_ROOT = path.join(__dirname, '..', '..');

/** The configuration file at the repository root that users edit. */
export const DEFAULT_CONFIG_FILE = path.join(REPO_ROOT, 'safe-deploy.config.json');

/** A configuration that cannot be used; `message` lists every problem, one per line. */
export class ConfigError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
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
  const file = configFile(options);
  if (!existsSync(file)) {
    throw new ConfigError(file, [
      `the file does not exist: create it (copy safe-deploy.config.json), or name yours with -c config=<path> (cdk), --config <path> (deployctl) or SAFE_DEPLOY_CONFIG`,
    ]);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ConfigError(file, [`not valid JSON (${(e as Error).message}): fix the syntax`]);
  }
  return parseConfig(applyOverrides(raw, ctx, env), { source: file, baseDir: path.dirname(file) });
}

/** The configuration file `loadConfig` reads with these options. */
export function configFile(options: LoadConfigOptions = {}): string {
  return options.file ?? asString(options.context?.('config')) ?? options.env?.SAFE_DEPLOY_CONFIG ?? DEFAULT_CONFIG_FILE;
}

/** Where a configuration object came from. */
export interface ParseConfigOptions {
  /** Named in error messages. @default 'configuration' */
  readonly source?: string;
  /** Directory that service paths are relative to (the config file's). @default - the repository root */
  readonly baseDir?: string;
}

/**
 * Validates an already-parsed configuration object. Service paths (`entry`, `directory`) come back
 * absolute, resolved against `baseDir`, and must exist.
 */
export function parseConfig(raw: unknown, options: ParseConfigOptions | string = {}): SafeDeployConfig {
  const { source = 'configuration', baseDir = REPO_ROOT } = typeof options === 'string' ? { source: options } : options;
  const result = configSchema.safeParse(raw, { reportInput: true });
  if (!result.success) {
    throw new ConfigError(source, result.error.issues.map(describeIssue));
  }
  const config = resolveServicePaths(result.data, baseDir);
  const problems = checkServiceFiles(config, raw);
  if (problems.length > 0) throw new ConfigError(source, problems);
  return config;
}

function resolveServicePaths(config: SafeDeployConfig, baseDir: string): SafeDeployConfig {
  return {
    ...config,
    services: config.services.map((s) =>
      s.kind === 'lambda' ? { ...s, entry: path.resolve(baseDir, s.entry) } : { ...s, directory: path.resolve(baseDir, s.directory) },
    ),
  };
}

/** Each service's files exist: the Lambda entry, the ECS build context and its Dockerfile. */
function checkServiceFiles(config: SafeDeployConfig, raw: unknown): string[] {
  const written = (i: number, key: string) => JSON.stringify((raw as { services?: Array<Record<string, unknown>> }).services?.[i]?.[key]);
  const problems: string[] = [];
  config.services.forEach((s, i) => {
    if (s.kind === 'lambda') {
      if (!isFile(s.entry))
        problems.push(
          `services[${i}].entry: ${written(i, 'entry')} does not exist (looked for ${s.entry}): create the handler file or fix the path (relative to the config file)`,
        );
    } else if (!isDirectory(s.directory)) {
      problems.push(
        `services[${i}].directory: ${written(i, 'directory')} is not a directory (looked for ${s.directory}): point it at the service's Docker build context (relative to the config file)`,
      );
    } else if (!isFile(path.resolve(s.directory, s.dockerfile))) {
      problems.push(
        `services[${i}].dockerfile: ${JSON.stringify(s.dockerfile)} is not in ${written(i, 'directory')}: add a Dockerfile to the build context or set "dockerfile"`,
      );
    }
  });
  return problems;
}

function isFile(p: string): boolean {
  return existsSync(p) && statSync(p).isFile();
}

function isDirectory(p: string): boolean {
  return existsSync(p) && statSync(p).isDirectory();
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
      if (issue.input === undefined)
        return issue.message.startsWith('is missing')
          ? `${where}: ${issue.message}`
          : `${where}: is missing: add it (expected ${issue.expected})`;
      return issue.message.startsWith('Invalid input')
        ? `${where}: ${JSON.stringify(issue.input)} is not a ${issue.expected}: use a ${issue.expected}`
        : `${where}: ${issue.message}`;
    case 'unrecognized_keys': {
      const wrongKind = wrongKindFields(issue);
      if (wrongKind) return `${where}: ${wrongKind}`;
      return `${where}: unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}: remove ${issue.keys.length > 1 ? 'them' : 'it'} or check the spelling (README, "Configuration reference")`;
    }
    case 'too_small':
    case 'too_big':
      return issue.message.startsWith('Too ')
        ? `${where}: ${JSON.stringify(issue.input)} is out of range: ${issue.message.replace(/^Too (small|big): expected \w+ to (have|be) /, 'it must be ')}`
        : /^["\d]|^is /.test(issue.message)
          ? `${where}: ${issue.message}`
          : `${where}: ${JSON.stringify(issue.input)}: ${issue.message}`;
    default:
      return `${where}: ${issue.message}`;
  }
}

/** "port" on a Lambda service: say it is a field of ECS services rather than an unknown one. */
function wrongKindFields(issue: z.core.$ZodIssueUnrecognizedKeys): string | undefined {
  const kind = (issue.input as { kind?: unknown } | undefined)?.kind;
  if (issue.path[0] !== 'services' || (kind !== 'lambda' && kind !== 'ecs')) return undefined;
  const other: ServiceKind = kind === 'lambda' ? 'ecs' : 'lambda';
  const misplaced = issue.keys.filter((k) => KIND_FIELDS[other].includes(k) && !KIND_FIELDS[kind].includes(k));
  if (misplaced.length === 0 || misplaced.length !== issue.keys.length) return undefined;
  return `${misplaced.map((k) => JSON.stringify(k)).join(', ')} ${misplaced.length > 1 ? 'are fields' : 'is a field'} of ${other} services, and this service has kind ${JSON.stringify(kind)}: remove ${misplaced.length > 1 ? 'them' : 'it'} or change "kind"`;
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
