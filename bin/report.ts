#!/usr/bin/env node
/** Rollback-readiness report over a synthesized app: `npm run report -- [--app cdk.out] [--json]`. */
import { Command } from 'commander';
import { buildReport, formatReport } from '../lib/report';

const program = new Command()
  .name('report')
  .description('Per service and stage: deployment config, alarms, worst-case time to rollback and traffic exposed to a bad release')
  .option('--app <dir>', 'cloud assembly directory (run "npx cdk synth" first)', 'cdk.out')
  .option('--json', 'print JSON instead of text', false)
  .action((opts: { app: string; json: boolean }) => {
    const reports = buildReport(opts.app);
    process.stdout.write(`${opts.json ? JSON.stringify(reports, null, 2) : formatReport(reports)}\n`);
  });

try {
  program.parse();
} catch (err) {
  process.stderr.write(`report: ${(err as Error).message}\n`);
  process.exitCode = 1;
}
