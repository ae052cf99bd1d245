#!/usr/bin/env node
/**
 * `npm test`: ESLint, the Prettier check, the type-check and the jest suite, at the same time. They
 * are independent, and on a small machine the three checks' few seconds then overlap jest's workers
 * instead of preceding them. The checks' output is held and printed after jest's, one block each, so
 * nothing interleaves. Exits non-zero when any of the four fails. Arguments go to jest.
 */
const { spawn } = require('node:child_process');
const path = require('node:path');
const { scripts } = require('../package.json');

/** A package's command, as its package.json declares it (subpaths may not be exported). */
const bin = (pkg, name = pkg) => {
  const manifest = require.resolve(`${pkg}/package.json`);
  const { bin: bins } = require(manifest);
  return path.join(path.dirname(manifest), typeof bins === 'string' ? bins : bins[name]);
};

const run = (script, args, stdio) => {
  const child = spawn(process.execPath, [script, ...args], { stdio });
  let output = '';
  child.stdout?.on('data', (d) => (output += d));
  child.stderr?.on('data', (d) => (output += d));
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 1 : 0), output: () => output })));
};

// package.json's lint, format:check and typecheck scripts, run without npm (plain words, no shell).
const PACKAGE_OF = { eslint: 'eslint', prettier: 'prettier', tsc: 'typescript' };
const checks = ['lint', 'format:check', 'typecheck'].map((name) => {
  const [command, ...args] = scripts[name].split(/\s+/);
  return [`npm run ${name}`, run(bin(PACKAGE_OF[command], command), args, ['ignore', 'pipe', 'pipe'])];
});
const jest = run(bin('jest'), process.argv.slice(2), 'inherit');

Promise.all([jest, ...checks.map(([, done]) => done)]).then(([jestResult, ...results]) => {
  let failed = jestResult.code !== 0;
  results.forEach((r, i) => {
    const name = checks[i][0];
    if (r.code === 0) return;
    failed = true;
    process.stdout.write(`\n${name} failed (exit ${r.code}):\n${r.output()}`);
  });
  process.exitCode = failed ? 1 : 0;
});
