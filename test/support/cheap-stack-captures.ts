import { types } from 'node:util';

/**
 * Jest setup (setupFilesAfterEnv, so after jest installs source-map-support): stack captures that
 * are not errors skip jest's source mapping.
 *
 * CDK records a stack trace for every L1 resource it creates and every acknowledgment
 * (`Error.captureStackTrace` on a plain object, then reading its `stack`): thousands per whole-app
 * synth. Under jest, reading `stack` runs source-map-support over up to 100 frames (jest raises
 * Error.stackTraceLimit), about a tenth of the suite's CPU time. Those traces only reach the cloud
 * assembly's metadata, which no test reads, so they get V8's plain format and Node's default 10 frames
 * here, as `cdk synth` writes them. Errors, from the test's realm or Node's, keep jest's source-mapped
 * stacks.
 */
const FRAMES = 10;
const mapped = Error.prepareStackTrace;
if (mapped) {
  Error.prepareStackTrace = (error: unknown, frames: NodeJS.CallSite[]) =>
    types.isNativeError(error)
      ? mapped(error as Error, frames)
      : `${String(error)}${frames
          .slice(0, FRAMES)
          .map((f) => `\n    at ${f}`)
          .join('')}`;
}
