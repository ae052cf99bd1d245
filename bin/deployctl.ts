#!/usr/bin/env node
// The operator CLI. Parsing, output and exit codes live in lib/ops/cli.ts so tests call them directly.
import { main } from '../lib/ops/cli';

// Errors are one line on stderr; the SDK's multi-line Node-version notice (emitted when the first
// client is created) would drown them. package.json "engines" already states the supported Node.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
