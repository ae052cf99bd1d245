import { types } from 'node:util';

/**
 * Jest setup (setupFilesAfterEnv: after jest installs source-map-support): stack captures that are not errors skip jest's source mapping.
 *
 * CDK records a stack trace for every L1 resource it creates and every acknowledgment
 * (`Error.captureStackTrace` on a plain object, then reading its `stack`): thousands per whole-app
 * synth. Under jest, reading `stack` runs source-map-support over up to 100 frames (jest raises
 * Error.stackTraceLimit), about a tenth of the suite's CPU time. Those traces only reach the cloud
 * assembly's metadata, which no test reads, so they get V8's plain format here (as `cdk synth` without
 * source maps writes them). Errors, from the test's realm or Node's, keep jest's source-mapped stacks.
 */
const mapped = Error.prepareStackTrace;
if (mapped) {
  Error.prepareStackTrace = (error: unknown, frames: NodeJS.CallSite[]) =>
    types.isNativeError(error) ? mapped(error as Error, frames) : `${String(error)}${frames.map((f) => `\n    at ${f}`).join('')}`;
}
