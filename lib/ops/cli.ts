import { createInterface } from 'node:readline/promises';
import { Command, CommanderError, Option } from 'commander';
import { ConfigError, loadConfig, pipelineName as configuredPipelineName } from '../config/load-config';
import { ClientsForRegion, clientsPerRegion, createClients, OpsClients } from '../runtime/clients';
import { CommonOptions, OpsError } from '../runtime/context';
import { diagnosePipeline, formatDiagnosis } from '../runtime/diagnosis';
import type { RetryOptions } from '../runtime/retry';
import { findCommitArtifacts, formatCommitArtifacts } from './artifacts';
import { describeError, exitCodeOf } from './errors';
import {
  AppConfigFor,
  appConfigClientsPerRegion,
  describeFlagsRollbackPlan,
  executeFlagsRollback,
  formatFlagsRollback,
  formatFlagsStatus,
  getFlagsStatus,
  planFlagsRollback,
} from './flags';
import { formatRetry, retryFailedStage } from './retry-stage';
import { describeRollbackPlan, executeRollback, formatRollback, planRollback } from './rollback';
import { formatStatus, getPipelineStatus } from './status';
import { watchCommand } from './watch';

/** Where output goes; process.stdout and process.stderr fit. */
export interface Output {
  write(text: string): unknown;
}

/** Everything the CLI takes from its environment, so tests can pass their own. */
export interface CliDeps {
  /** SDK clients, or a factory per region. @default - createClients(region) */
  readonly clients?: OpsClients | ClientsForRegion;
  /** @default process.stdout */
  readonly stdout?: Output;
  /** @default process.stderr */
  readonly stderr?: Output;
  /** Whether a person can answer a question (stdin is a terminal). @default process.stdin.isTTY */
  readonly isTTY?: boolean;
  /** Asks a yes/no question. @default - a readline prompt on stderr */
  readonly confirm?: (question: string) => Promise<boolean>;
  /** Environment variables (region, config overrides). @default process.env */
  readonly env?: Record<string, string | undefined>;
  /** Waits between retries and polls; tests pass one that resolves at once. @default - setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Current time in milliseconds (`watch`); tests pass a simulated clock with `sleep`. @default Date.now */
  readonly now?: () => number;
  /** AppConfig clients by region, for `flags`. @default - appConfigClientsPerRegion() */
  readonly appconfig?: AppConfigFor;
}

interface GlobalOptions {
  pipeline?: string;
  region?: string;
  config?: string;
  json?: boolean;
  debug?: boolean;
}

/** Exit codes: 0 success, 1 refused or bad input, 2 AWS or environment error, 3 failure found but not recognised. */
export const EXIT = { ok: 0, refused: 1, aws: 2, unexplained: 3 } as const;

/**
 * Runs deployctl with `argv` (the arguments after the program name) and returns the exit code.
 * Never throws and never calls process.exit: bin/deployctl.ts sets process.exitCode.
 */
export async function main(argv: string[], deps: CliDeps = {}): Promise<number> {
  const stdout = deps.stdout ?? process.stdout;
  const stderr = deps.stderr ?? process.stderr;
  const env = deps.env ?? process.env;
  const isTTY = deps.isTTY ?? Boolean(process.stdin.isTTY);
  const confirm = deps.confirm ?? askOnTerminal;
  const retry: RetryOptions | undefined = deps.sleep ? { sleep: deps.sleep } : undefined;
  let exitCode: number = EXIT.ok;
  // Known before parsing, for usage errors that commander reports before any verb runs.
  const wantsJson = argv.includes('--json');

  const print = (opts: GlobalOptions, value: unknown, text: string) => {
    stdout.write(`${opts.json ? JSON.stringify(value, null, 2) : text}\n`);
  };
  /**
   * Every error: one line on stderr; with --json also `{ "error": { "message", "exitCode" } }` on
   * stdout, so a script reading stdout always gets one JSON document.
   */
  const fail = (json: boolean | undefined, message: string, code: number): number => {
    stderr.write(`deployctl: ${message}\n`);
    if (json) stdout.write(`${JSON.stringify({ error: { message, exitCode: code } }, null, 2)}\n`);
    return code;
  };

  /** Resolves pipeline and region, runs the verb, and turns any error into one line. */
  const run =
    (
      body: (
        opts: GlobalOptions & Record<string, unknown>,
        target: CommonOptions & { pipelineName: string; clients: OpsClients },
      ) => Promise<number>,
    ) =>
    async (opts: GlobalOptions & Record<string, unknown>) => {
      let context: { pipelineName?: string; region?: string } = {};
      try {
        const target = resolveTarget(opts, env);
        context = target;
        const factory: ClientsForRegion =
          typeof deps.clients === 'function' ? deps.clients : deps.clients ? () => deps.clients as OpsClients : createClients;
        const clients = factory(target.region);
        exitCode = await body(opts, { ...target, clients, clientsFor: clientsPerRegion(clients, target.region, factory), retry });
      } catch (err) {
        exitCode = fail(opts.json, describeError(err, { ...context, stageName: opts.stage as string | undefined }), exitCodeOf(err));
        if (opts.debug && err instanceof Error && err.stack) stderr.write(`${err.stack}\n`);
        // The SDK keeps the raw HTTP answer of an error it could not parse (a proxy's page, an empty body).
        const response = (err as { $response?: { statusCode?: number; headers?: Record<string, string> } } | null)?.$response;
        if (opts.debug && response)
          stderr.write(`response: HTTP ${response.statusCode ?? '?'} ${JSON.stringify(response.headers ?? {})}\n`);
      }
    };

  /** A verb that computes a result, prints it (text or --json) and exits by it. */
  const show = <T>(
    get: (
      opts: GlobalOptions & Record<string, unknown>,
      target: CommonOptions & { pipelineName: string; clients: OpsClients },
    ) => Promise<T>,
    format: (value: T) => string,
    exitOf: (value: T) => number = () => EXIT.ok,
  ) =>
    run(async (opts, t) => {
      const value = await get(opts, t);
      print(opts, value, format(value));
      return exitOf(value);
    });

  const program = new Command('deployctl')
    .description('Operate the safe-deploy pipeline: status, watch, retry, rollback, diagnose, artifacts, flags.')
    .exitOverride()
    // `flags rollback --stage X`: options after a subcommand are the subcommand's.
    .enablePositionalOptions()
    .configureOutput({
      writeOut: (s) => stdout.write(s),
      writeErr: (s) => stderr.write(s),
      // Usage errors stay on one line, the suggestion included (and as JSON on stdout with --json).
      outputError: (s) => void fail(wantsJson, s.trim().replace(/\s*\n\s*/g, ' '), EXIT.refused),
    });

  const verb = (name: string, description: string, parent: Command = program) =>
    parent
      .command(name)
      .description(description)
      .option('--pipeline <name>', 'pipeline name (default: the one safe-deploy.config.json deploys)')
      .option('--region <region>', "pipeline's region (default: AWS_REGION, AWS_DEFAULT_REGION, then the config's pipeline.region)")
      .option('--config <file>', 'configuration file (default: SAFE_DEPLOY_CONFIG, then safe-deploy.config.json)')
      .option('--json', 'print JSON for scripts')
      .option('--debug', 'print stack traces of errors');

  verb('status', "every stage's latest status and commit, and CodeDeploy deployments in flight").action(
    show((_opts, t) => getPipelineStatus(t.clients, t), formatStatus),
  );

  verb('retry', 'retry the failed actions of a failed stage')
    .option('--stage <name>', 'stage to retry (default: the stage that failed)')
    .action(show((opts, t) => retryFailedStage(t.clients, { ...t, stageName: opts.stage as string | undefined }), formatRetry));

  /** Shows a plan and asks before acting, unless --yes; without a terminal to ask on, refuses. */
  const confirmPlan = async (opts: GlobalOptions & { yes?: boolean }, plan: string, act: string, noun: string): Promise<void> => {
    if (opts.yes) return;
    if (!isTTY) throw new OpsError('refused', `refusing to ${act} without confirmation: stdin is not a terminal, pass --yes`);
    (opts.json ? stderr : stdout).write(`${plan}\n`);
    if (!(await confirm('Proceed? [y/N] '))) throw new OpsError('refused', `${noun} cancelled: nothing was changed`);
  };

  verb('rollback', 'roll a stage back to its last successful execution, stopping its CodeDeploy deployments first')
    .addOption(new Option('--stage <name>', 'stage to roll back').makeOptionMandatory())
    .option('--to <executionId>', 'execution to roll back to (default: the last successful one before the current)')
    .option('--yes', 'do not ask for confirmation')
    .action(
      show(async (opts, t) => {
        const plan = await planRollback(t.clients, {
          ...t,
          stageName: opts.stage as string,
          targetExecutionId: opts.to as string | undefined,
        });
        await confirmPlan(opts, describeRollbackPlan(plan), 'roll back', 'rollback');
        return executeRollback(t.clients, plan, { ...t, sleep: deps.sleep, now: deps.now });
      }, formatRollback),
    );

  verb('diagnose', 'explain the latest failed execution: where, why, and how to fix it')
    .option('--execution <id>', 'execution to explain (default: the latest failed one)')
    .action(
      show(
        (opts, t) => diagnosePipeline(t.clients, { ...t, executionId: opts.execution as string | undefined }),
        formatDiagnosis,
        (diagnosis) => (diagnosis.cause === 'unknown' ? EXIT.unexplained : EXIT.ok),
      ),
    );

  verb('artifacts', 'find the execution that built a commit and its artifacts')
    .addOption(new Option('--commit <sha>', 'commit id (at least 7 hex digits)').makeOptionMandatory())
    .action(show((opts, t) => findCommitArtifacts(t.clients, { ...t, commit: opts.commit as string }), formatCommitArtifacts));

  verb('watch', 'follow an execution until it ends: exit 0 if it succeeds, 4 failed, 5 stopped, 6 superseded, 130 Ctrl-C')
    .option('--execution <id>', 'execution to follow (default: the latest in progress, else the latest)')
    .option('--interval <seconds>', 'seconds between polls, 5 to 300 (default: 15)')
    .action(
      run((opts, t) => watchCommand(t, opts, { stdout, stderr, sleep: deps.sleep, now: deps.now, injected: deps.clients !== undefined })),
    );

  const appconfigFor = deps.appconfig ?? appConfigClientsPerRegion();
  const flags = verb('flags', 'feature flags per stage and service: the version AppConfig serves and any flag deployment in progress')
    .enablePositionalOptions()
    .option('--stage <name>', 'only this stage')
    .option('--service <name>', 'only this service')
    .action(
      show(
        (opts, t) =>
          getFlagsStatus(t.clients, {
            ...t,
            appconfigFor,
            stageName: opts.stage as string | undefined,
            serviceName: opts.service as string | undefined,
          }),
        formatFlagsStatus,
      ),
    );
  verb('rollback', "roll a service's flags back: stop the flag deployment in progress, or revert to the previous version", flags)
    .addOption(new Option('--stage <name>', 'stage whose flags to roll back').makeOptionMandatory())
    .addOption(new Option('--service <name>', 'service whose flags to roll back').makeOptionMandatory())
    .option('--yes', 'do not ask for confirmation')
    .action(
      show(async (opts, t) => {
        const plan = await planFlagsRollback(t.clients, {
          ...t,
          appconfigFor,
          stageName: opts.stage as string,
          serviceName: opts.service as string,
        });
        await confirmPlan(opts, describeFlagsRollbackPlan(plan), 'roll back flags', 'flags rollback');
        return executeFlagsRollback(t.clients, plan, { ...t, appconfigFor });
      }, formatFlagsRollback),
    );

  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version are successes; usage errors were already printed on one line.
      return err.exitCode === 0 ? EXIT.ok : EXIT.refused;
    }
    return fail(wantsJson, describeError(err), EXIT.aws);
  }
  return exitCode;
}

/** Pipeline name and region from the flags, the environment and the configuration, in that order. */
export function resolveTarget(opts: GlobalOptions, env: Record<string, string | undefined>): { pipelineName: string; region: string } {
  const fromEnv = env.AWS_REGION || env.AWS_DEFAULT_REGION || undefined;
  let pipelineName = opts.pipeline;
  let region = opts.region ?? fromEnv;
  if (!pipelineName || !region) {
    let config;
    try {
      config = loadConfig({ file: opts.config, env });
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      if (!pipelineName) {
        const more = err.problems.length > 1 ? ` (+${err.problems.length - 1} more)` : '';
        throw new OpsError(
          'input',
          `cannot tell which pipeline: ${err.source} is not usable (${err.problems[0]}${more}); pass --pipeline NAME`,
        );
      }
    }
    pipelineName ??= config && configuredPipelineName(config);
    region ??= config?.pipeline.region;
  }
  if (!region) {
    throw new OpsError('input', 'no AWS region: pass --region, set AWS_REGION, or set pipeline.region in safe-deploy.config.json');
  }
  return { pipelineName: pipelineName!, region };
}

async function askOnTerminal(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}
