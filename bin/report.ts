#!/usr/bin/env node
/** Rollback-readiness report over a synthesized app: `npm run report -- [--app cdk.out] [--json] [--rps 5]`. */
import { Command, InvalidArgumentError } from 'commander';
import { buildReport, DEFAULT_REPORT_RPS, formatReport } from '../lib/report';

const rate = (v: string) => {
  const n = Number(v);
  if (!(Number.isFinite(n) && n > 0))
    throw new InvalidArgumentError(
      `${JSON.stringify(v)} is not a request rate: use a positive number of requests per second, e.g. ${DEFAULT_REPORT_RPS}`,
    );
  return n;
};

const program = new Command()
  .name('report')
  .description('Per service and stage: deployment config, alarms, simulated time to rollback and traffic exposed to a bad release')
  .option('--app <dir>', 'cloud assembly directory (run "npx cdk synth" first)', 'cdk.out')
  .option(
    '--rps <n>',
    `requests per second to simulate for services whose expectedRequestsPerSecond the assembly does not record (default ${DEFAULT_REPORT_RPS})`,
    rate,
  )
  .option('--json', 'print JSON instead of text', false)
  .action((opts: { app: string; rps?: number; json: boolean }) => {
    const reports = buildReport(opts.app, { rps: opts.rps });
    process.stdout.write(`${opts.json ? JSON.stringify(reports, null, 2) : formatReport(reports)}\n`);
  });

try {
  program.parse();
} catch (err) {
  process.stderr.write(`report: ${(err as Error).message}\n`);
  process.exitCode = 1;
}
