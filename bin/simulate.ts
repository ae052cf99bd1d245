#!/usr/bin/env node
/**
 * Replays simulated canary deployments through today's fixed-threshold alarms and the canary judge:
 * `npm run simulate -- [--runs 1000] [--seed 11] [--json] [--rates 0.2,5,200] [--scenarios a,b]
 *   [--metric-delay 60] [--high-resolution-delay 30] [--poll 60]`.
 */
import { Command, InvalidArgumentError } from 'commander';
import { DEFAULT_EVALUATION } from '../lib/simulate/evaluate';
import { formatSimulation, runSimulation } from '../lib/simulate/simulation';

const positiveInt = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${JSON.stringify(v)} is not a whole number of at least 1`);
  return n;
};
const nonNegative = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${JSON.stringify(v)} is not a whole number of seconds`);
  return n;
};
const rates = (v: string) =>
  v.split(',').map((x) => {
    const n = Number(x);
    if (!(n > 0)) throw new InvalidArgumentError(`${JSON.stringify(x)} is not a request rate: use positive numbers, e.g. 0.2,5,200`);
    return n;
  });

const program = new Command()
  .name('simulate')
  .description(
    "Replays seeded canary deployments through today's alarms and the canary judge, as synthesized, and prints what each catches",
  )
  .option('--runs <n>', 'seeded runs per scenario and rate', positiveInt, 1000)
  .option('--seed <n>', 'base seed', positiveInt, 11)
  .option('--rates <list>', 'requests per second, comma-separated', rates)
  .option('--scenarios <list>', 'scenario ids, comma-separated (default: all)', (v: string) => v.split(','))
  .option('--metric-delay <s>', 'model: seconds after its minute until a datapoint is visible (default 60)', nonNegative)
  .option(
    '--high-resolution-delay <s>',
    "model: seconds after its 10 seconds until a service's own high-resolution datapoint is visible (default 30)",
    nonNegative,
  )
  .option('--poll <s>', "model: seconds between CodeDeploy's alarm polls (default 60)", positiveInt)
  .option('--json', 'print JSON instead of markdown', false)
  .action(
    (opts: {
      runs: number;
      seed: number;
      rates?: number[];
      scenarios?: string[];
      metricDelay?: number;
      highResolutionDelay?: number;
      poll?: number;
      json: boolean;
    }) => {
      const evaluation = {
        ...DEFAULT_EVALUATION,
        ...(opts.metricDelay === undefined ? {} : { metricDelaySeconds: opts.metricDelay }),
        ...(opts.highResolutionDelay === undefined ? {} : { highResolutionDelaySeconds: opts.highResolutionDelay }),
        ...(opts.poll === undefined ? {} : { codeDeployPollSeconds: opts.poll }),
      };
      const result = runSimulation({ runs: opts.runs, seed: opts.seed, rates: opts.rates, scenarios: opts.scenarios, evaluation });
      process.stdout.write(`${opts.json ? JSON.stringify(result, null, 2) : formatSimulation(result)}\n`);
    },
  );

program.parseAsync().catch((err: Error) => {
  process.stderr.write(`simulate: ${err.message}\n`);
  process.exitCode = 1;
});
